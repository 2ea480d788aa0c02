// Forward-pass timing in the page: opens each given build of the demo in headless Chromium,
// waits for the model, pauses the page's frame loop (so drawing does not compete), and
// calls the exported strata_bench_forward(n, reps) in alternating rounds, so that a busy
// machine slows every build alike. Optionally times the native library too (bench_native,
// see bench_native.cpp), between the same rounds.
//   node bench_forward.mjs [--n 256] [--reps 3] [--rounds 5] [--native /tmp/bench_native]
//        [--model ../../assets/model] <build-dir>...        (default: ../../build/web)
// Prints per build: kernels, SIMD128, min and median ms per forward over the rounds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "./static_server.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const n = Number(opt("--n", 256)), reps = Number(opt("--reps", 3)), rounds = Number(opt("--rounds", 5));
const native = opt("--native", ""), modelDir = path.resolve(opt("--model", path.join(here, "../../assets/model")));
const builds = (args.length ? args : [path.join(here, "../../build/web")]).map((b) => path.resolve(b));

const userDataDir = mkdtempSync(path.join(os.tmpdir(), "strata-bench-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.STRATA_CHROMIUM || "/usr/bin/chromium", headless: true,
  viewport: { width: 1280, height: 800 },
  args: ["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pages = [];
try {
  for (const build of builds) {
    const { server, url } = await startServer(path.join(build, "bin"));
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.Module && Module.calledRun &&
      !["none", "fetching"].includes(strataState().model.status), null, { timeout: 120_000, polling: 200 });
    const s = await page.evaluate(() => strataState());
    if (s.model.status !== "loaded") throw new Error(`${build}: model ${s.model.status}: ${s.model.error}`);
    // No run (so no sequential reference in the background), no frames.
    await page.evaluate(() => { strataCommand({ cmd: "set_text", text: "" }); Module.pauseMainLoop(); });
    pages.push({ build, server, page, platform: s.platform, ms: [] });
  }
  const nativeMs = {};
  for (let r = 0; r < rounds; ++r) {
    for (const p of pages)
      p.ms.push(await p.page.evaluate(([n, reps]) =>
        Module.ccall("strata_bench_forward", "number", ["number", "number"], [n, reps]), [n, reps]));
    if (native) {
      const out = spawnSync(native, [modelDir, String(n), String(reps)],
        { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
      if (out.status !== 0) throw new Error(`${native}: ${out.stderr}`);
      for (const line of out.stdout.trim().split("\n")) {
        const j = JSON.parse(line);
        (nativeMs[j.target] ||= []).push(j.min_ms);
      }
    }
  }
  console.log(`forward pass over ${n} tokens, ms (min / median of ${rounds} rounds, each the mean of ${reps} passes):`);
  for (const p of pages)
    console.log(`  wasm ${p.platform.simd128 ? "SIMD128" : "scalar "} (kernels ${p.platform.simd_target.padEnd(6)}) ` +
      `${Math.min(...p.ms).toFixed(1).padStart(7)} / ${median(p.ms).toFixed(1).padStart(7)}   ${p.build}`);
  for (const [target, ms] of Object.entries(nativeMs))
    console.log(`  native ${target.padEnd(6)} 1 thread   ${Math.min(...ms).toFixed(1).padStart(7)} / ${median(ms).toFixed(1).padStart(7)}`);
} finally {
  for (const p of pages) p.server.close();
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
