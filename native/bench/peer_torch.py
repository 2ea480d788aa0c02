#!/usr/bin/python3
"""PyTorch peer of strata-bench: the same model, shapes and thread count, timed the same way.

Runs Debian's PyTorch (CPU) on the model directory's config and weights, using the
independent reference implementation in tests/reference/torch_reference.py for the layers:
  forward   B=1, T = 1, 2, 4, ..., 256 (logits at the last row only, as strata computes them)
            and B x 256 for B = 1, 8 (throughput)
  train     one step, B=8, T=256: forward, cross-entropy, backward, AdamW (weights of the
            default model, AdamW with foreach=True)
Each figure is the mean wall time over >= 5 calls and >= 1 s, after 2 warm-up calls,
like Google Benchmark's default.

Settings that keep the peer fair on a small machine (applied to the child processes that
measure; stated in the output):
  torch.set_num_threads(N), torch.set_num_interop_threads(1), OMP_NUM_THREADS=N: one
    intra-op pool of N threads, no inter-op pool competing with it;
  OPENBLAS_NUM_THREADS=N: torch calls sgemm from the calling thread, OpenBLAS fans out;
  OMP_WAIT_POLICY=PASSIVE: torch's idle OpenMP workers sleep instead of spinning while
    OpenBLAS's own threads run the gemm (with N=2 on 2 cores, spinning workers halved
    torch's speed: 1×256 forward 1813 vs 4413 tokens/s, training 1233 vs 1769 tokens/s);
  MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=1 GiB: glibc keeps activation-sized
    blocks in its heap instead of mmap/munmap (and page-faulting) them on every call;
  OPENBLAS_CORETYPE: measured both unset (OpenBLAS detects the CPU) and forced to
    Haswell (AVX2), since a machine may inherit either; the kernel OpenBLAS reports is
    recorded (openblas_get_corename via ctypes, in the same process as torch).

Usage:
  peer_torch.py measure --model DIR --threads N [--coretype NAME] > out.json   (one process)
  peer_torch.py run --model DIR --threads 1,2 --out torch.json                 (all settings)
  peer_torch.py table --strata strata.json --torch torch.json > results.md     (ratios)
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONTEXTS = [1, 2, 4, 8, 16, 32, 64, 128, 256]


def timed(fn, min_seconds=1.0, min_calls=5):
    fn(), fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= min_calls and elapsed >= min_seconds:
            return elapsed / calls


def measure(args):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
    import torch_reference as ref

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    c, p = ref.load_model(args.model)
    head = p["model.embed_tokens.weight" if c["tied"] else "lm_head.weight"]
    vocab = head.shape[0]

    def body(tokens, positions):  # the reference's layers, then the head at the last row
        x = F.embedding(tokens, p["model.embed_tokens.weight"])
        for i in range(c["layers"]):
            pre = "model.layers.%d." % i
            x = x + ref.attention(ref.rms_norm(x, p[pre + "input_layernorm.weight"], c), p, pre + "self_attn.", positions, c, i)
            x = x + ref.mlp(ref.rms_norm(x, p[pre + "post_attention_layernorm.weight"], c), p, pre + "mlp.", c)
        return x

    def batch(B, T):
        g = torch.Generator().manual_seed(1)
        tokens = torch.randint(0, vocab, (B, T + 1), generator=g)
        return tokens[:, :T], torch.arange(T).expand(B, T), tokens[:, 1:]

    out = {"threads": args.threads, "coretype_env": os.environ.get("OPENBLAS_CORETYPE", ""),
           "torch": torch.__version__, "forward_ms": {}, "forward_tokens_per_s": {}}
    try:
        corename = ctypes.CDLL("libopenblas.so.0").openblas_get_corename
        corename.restype = ctypes.c_char_p
        out["openblas_core"] = corename().decode()
    except (OSError, AttributeError) as e:
        out["openblas_core"] = "unknown (%s)" % e
    with torch.inference_mode():
        for T in CONTEXTS:
            tokens, positions, _ = batch(1, T)
            out["forward_ms"][str(T)] = 1e3 * timed(lambda: F.linear(ref.rms_norm(body(tokens, positions)[:, -1], p["model.norm.weight"], c), head))
        for B in (1, 8):
            tokens, positions, _ = batch(B, 256)
            s = timed(lambda: F.linear(ref.rms_norm(body(tokens, positions)[:, -1], p["model.norm.weight"], c), head))
            out["forward_tokens_per_s"]["%dx256" % B] = B * 256 / s

    params = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    p.clear()
    p.update(params)
    groups = [{"params": [t for t in p.values() if t.dim() == 2], "weight_decay": 0.1},
              {"params": [t for t in p.values() if t.dim() != 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.95), foreach=True)
    tokens, positions, targets = batch(8, 256)

    def step():
        opt.zero_grad(set_to_none=True)
        x = ref.rms_norm(body(tokens, positions), p["model.norm.weight"], c)
        loss = F.cross_entropy(F.linear(x, head if not c["tied"] else p["model.embed_tokens.weight"]).reshape(-1, vocab), targets.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(p.values()), 1.0)
        opt.step()
    out["train_step_tokens_per_s"] = 8 * 256 / timed(step, min_seconds=3.0)
    json.dump(out, sys.stdout)


def run(args):
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for coretype in ("", "Haswell"):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE",
                       MALLOC_MMAP_THRESHOLD_=str(32 << 20), MALLOC_TRIM_THRESHOLD_=str(1 << 30))
            env.pop("OPENBLAS_CORETYPE", None)
            if coretype:
                env["OPENBLAS_CORETYPE"] = coretype
            cmd = [sys.executable, os.path.abspath(__file__), "measure", "--model", args.model, "--threads", str(threads)]
            sys.stderr.write("peer_torch: threads %d, OPENBLAS_CORETYPE=%s ...\n" % (threads, coretype or "(unset)"))
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True)
            results.append(json.loads(r.stdout))
    with open(args.out, "w") as f:
        json.dump({"runs": results}, f, indent=1)


def strata_figures(path):
    """Google Benchmark JSON -> {name: benchmark row}."""
    with open(path) as f:
        data = json.load(f)
    rows = {b["name"]: b for b in data["benchmarks"] if b.get("run_type", "iteration") == "iteration"}
    return data["context"], rows


def table(args):
    ctx, s = strata_figures(args.strata)
    with open(args.torch) as f:
        runs = json.load(f)["runs"]

    def peer(threads, coretype=""):
        return next(r for r in runs if r["threads"] == threads and r["coretype_env"] == coretype)

    def ms(name):
        b = s[name]
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        return b["real_time"] * scale

    lines = ["Machine: %s, %s hardware threads; strata kernels: %s; OpenBLAS: %s (auto-detected core %s)."
             % (ctx.get("host_name", "?"), ctx.get("hardware_threads", "?"), ctx.get("strata_simd_target", "?"),
                ctx.get("openblas_config", "?"), ctx.get("openblas_core", "?")),
             "PyTorch %s; OpenBLAS core inside torch: %s (OPENBLAS_CORETYPE unset), %s (=Haswell)."
             % (runs[0]["torch"], peer(runs[0]["threads"])["openblas_core"], peer(runs[0]["threads"], "Haswell")["openblas_core"]),
             "", "### matmul y = x·wᵀ, GFLOP/s", "",
             "strata packs wᵀ per call as OpenBLAS does; *packed once* is the inference path (the model "
             "keeps its weights packed). OpenBLAS 0.3.21 detects CPUs it does not know (Zen 5) as Haswell "
             "(AVX2); where the CPU has AVX-512 its SkylakeX kernels (OPENBLAS_CORETYPE=SkylakeX) are "
             "measured too, and the ratio is against the faster of the two.", "",
             "| M×K×N | threads | strata | strata, packed once | OpenBLAS (%s) | OpenBLAS (SkylakeX) | Eigen | strata/OpenBLAS | strata / FMA peak |"
             % ctx.get("openblas_core", "?"), "|---|---|---|---|---|---|---|---|---|"]
    avx512 = {}
    if args.openblas_avx512:
        _, avx512 = strata_figures(args.openblas_avx512)
    for threads in (1, 2):
        peak = s.get("fma_peak/threads:%d/real_time" % threads, {}).get("GFLOP/s")
        for name, b in s.items():
            if not name.startswith("matmul/strata/") or not name.endswith("/threads:%d/real_time" % threads):
                continue
            shape = name[len("matmul/strata/"):]
            g = {lib: s["matmul/%s/%s" % (lib, shape)]["GFLOP/s"] for lib in ("strata", "strata_packed", "openblas", "eigen")}
            other = avx512.get("matmul/openblas/%s" % shape, {}).get("GFLOP/s")
            best = max(g["openblas"], other or 0)
            mkn = "×".join(part.split(":")[1] for part in shape.split("/")[:3])
            lines.append("| %s | %d | %.1f | %.1f | %.1f | %s | %.1f | %.2f× | %s |" % (
                mkn, threads, g["strata"], g["strata_packed"], g["openblas"], "%.1f" % other if other else "–",
                g["eigen"], g["strata"] / best, "%.0f%%" % (100 * g["strata"] / peak) if peak else "–"))
        if peak:
            lines.append("| FMA peak (%s) | %d | %.1f | | | | | | |" % (s["fma_peak/threads:%d/real_time" % threads].get("label", "?"), threads, peak))
    # --compute bf16 on each kernel the CPU has, against that kernel's own measured peak.
    for kernel, label in (("amx", "AMX tiles (TDPBF16PS)"), ("avx512", "AVX512-BF16 (VDPBF16PS)")):
        peaks = {th: s.get("%s_bf16_peak/threads:%d/real_time" % (kernel, th), {}).get("GFLOP/s") for th in (1, 2)}
        rows = [(name, b) for name, b in s.items() if name.startswith("matmul/strata_bf16_%s/" % kernel)]
        if not rows or not any(peaks.values()):
            continue
        lines += ["", "### matmul with --compute bf16 on %s, GFLOP/s" % label, "",
                  "| M×K×N | threads | strata bf16 | of the BF16 peak | strata f32 | bf16 / f32 |", "|---|---|---|---|---|---|"]
        for threads in (1, 2):
            for name, b in rows:
                if not name.endswith("/threads:%d/real_time" % threads):
                    continue
                shape = name[len("matmul/strata_bf16_%s/" % kernel):]
                f32 = s["matmul/strata/%s" % shape]["GFLOP/s"]
                mkn = "×".join(part.split(":")[1] for part in shape.split("/")[:3])
                peak = peaks[threads]
                lines.append("| %s | %d | %.1f | %s | %.1f | %.2f× |" % (
                    mkn, threads, b["GFLOP/s"], "%.0f%%" % (100 * b["GFLOP/s"] / peak) if peak else "–", f32, b["GFLOP/s"] / f32))
            if peaks[threads]:
                lines.append("| BF16 peak | %d | %.1f | | | |" % (threads, peaks[threads]))
    for threads in sorted({r["threads"] for r in runs}):
        t = peer(threads)
        lines += ["", "### forward and training, %d thread%s (PyTorch with OPENBLAS_CORETYPE unset; =Haswell in brackets)" % (threads, "s" if threads > 1 else ""), "",
                  "| figure | strata | PyTorch | strata/PyTorch |", "|---|---|---|---|"]
        h = peer(threads, "Haswell")
        for T in CONTEXTS:
            mine = ms("forward/B:1/T:%d/threads:%d/real_time" % (T, threads))
            lines.append("| forward latency, context %d (ms) | %.3f | %.3f [%.3f] | %.2f× |" % (
                T, mine, t["forward_ms"][str(T)], h["forward_ms"][str(T)], mine / t["forward_ms"][str(T)]))
        # As the commands hold the model: its stored F16 values in 16-bit panels below 32
        # rows, widened exactly as the kernel loads them (the same products as float32).
        for T in CONTEXTS:
            stored = "forward_as_stored/B:1/T:%d/threads:%d/real_time" % (T, threads)
            if stored in s:
                lines.append("| forward latency, context %d, weights as stored (ms) | %.3f | %.3f [%.3f] | %.2f× |" % (
                    T, ms(stored), t["forward_ms"][str(T)], h["forward_ms"][str(T)], ms(stored) / t["forward_ms"][str(T)]))
        for B in (1, 8):
            mine = s["forward/B:%d/T:256/threads:%d/real_time" % (B, threads)]["tokens/s"]
            theirs = t["forward_tokens_per_s"]["%dx256" % B]
            lines.append("| forward throughput %d×256 (tokens/s) | %.0f | %.0f [%.0f] | %.2f× |" % (
                B, mine, theirs, h["forward_tokens_per_s"]["%dx256" % B], mine / theirs))
        mine = s["train_step/B:8/T:256/threads:%d/real_time" % threads]["tokens/s"]
        lines.append("| training step B=8 T=256 (tokens/s) | %.0f | %.0f [%.0f] | %.2f× |" % (
            mine, t["train_step_tokens_per_s"], h["train_step_tokens_per_s"], mine / t["train_step_tokens_per_s"]))
        for P in (1, 64):  # no PyTorch peer: llama.cpp's is scripts' business (llama-bench tg)
            d = s.get("decode/prompt:%d/steps:128/threads:%d/real_time" % (P, threads))
            if d:
                lines.append("| decoding with a KV cache, 128 steps after %d prompt token%s (tokens/s) | %.0f | – | |" % (
                    P, "s" if P > 1 else "", d["tokens/s"]))
        d = s.get("decode_as_stored/prompt:1/steps:128/threads:%d/real_time" % threads)
        if d:
            lines.append("| decoding with a KV cache, 128 steps after 1 prompt token, weights as stored (tokens/s) | %.0f | – | |" % d["tokens/s"])
    lines += ["", "### sweeps on the default model (2 threads, 64 targets in one batch)", "",
              "| L | sequential ms/target | hierarchical ms/target | wall-time ratio | token-forwards per target (seq / hier) | token-forward ratio | sequential token-forwards/s |",
              "|---|---|---|---|---|---|---|"]
    for L in (64, 128, 256):
        seq, hier = s.get("sweep/sequential/L:%d/iterations:1/real_time" % L), s.get("sweep/hierarchical/L:%d/iterations:3/real_time" % L)
        if not seq or not hier:
            continue
        wall = seq["ms/target"] / hier["ms/target"]
        tf = seq["token_forwards/target"] / hier["token_forwards/target"]
        lines.append("| %d | %.0f | %.1f | %.1f× | %.0f / %.0f | %.1f× | %.0f |" % (
            L, seq["ms/target"], hier["ms/target"], wall, seq["token_forwards/target"],
            hier["token_forwards/target"], tf, seq["token_forwards/s"]))
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--model", required=True)
    m.add_argument("--threads", type=int, required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", required=True)
    r.add_argument("--threads", default="1,2")
    r.add_argument("--out", required=True)
    t = sub.add_parser("table")
    t.add_argument("--strata", required=True)
    t.add_argument("--torch", required=True)
    t.add_argument("--openblas-avx512", help="strata-bench JSON of matmul/openblas under OPENBLAS_CORETYPE=SkylakeX")
    args = ap.parse_args()
    {"measure": measure, "run": run, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
