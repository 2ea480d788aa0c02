#!/usr/bin/python3
"""llama.cpp peer of strata-bench: does the converted model agree, and the speed table.

Used by scripts/bench_llama_cpp.sh (which converts the model, runs the binaries and
passes their outputs here):
  peer_llama_cpp.py agree --strata BIN --model DIR --text T --ids ids.json --context C \
      --perplexity f32.log f16.log > agree.json
  peer_llama_cpp.py table --strata strata.json --llama f32.json f16.json --agree agree.json \
      --header "..." > llama_cpp.md

agree: llama-perplexity cuts the text's tokens into chunks of C and scores, in each, the
tokens after the first C/2 + 1 (positions C/2 .. C-2 predict tokens C/2+1 .. C-1), no BOS.
strata scores the same tokens from the same contexts: `strata eval --bos never` of a
whole chunk (one window, targets 1 .. C-1) minus the eval of its first C/2 + 1 tokens
(targets 1 .. C/2; causal, so those predictions are the same in both). The token ids
are llama-tokenize's, so this compares the model; the two tokenizers' token counts of the
text are reported beside it.

table: llama-bench's pp T is the rate of one T-token prompt batch from an empty cache
(latency = T / rate), strata's forward/B:1/T:T; llama-bench's tg 128 is 128 one-token
steps from an empty cache, strata's decode/prompt:1/steps:128 (one prompt token
prefilled, then 128 steps). The F32 GGUF is beside those (weights held in float32), the
F16 GGUF beside forward_as_stored and decode_as_stored (weights held as stored). Ratios
are speeds, strata / llama.cpp: above 1 strata is faster.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_torch import strata_figures  # noqa: E402


def strata_eval(strata, model, *args):
    out = subprocess.run([strata, "eval", "--model", model, "--bos", "never", "--json", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def strata_bits(strata, model, ids, context):
    """Total bits strata gives the tokens after the first of `ids`, in one window."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(ids, f)
        f.flush()
        r = strata_eval(strata, model, "--ids", f.name, "--context", str(context))
    assert r["tokens_scored"] == len(ids) - 1, r
    return r["bits_per_token"] * r["tokens_scored"]


def llama_bits_per_token(log_path):
    """llama-perplexity's final estimate (perplexity in nats) as bits per token."""
    with open(log_path, errors="replace") as f:
        m = re.search(r"Final estimate: PPL = ([0-9.]+)", f.read())
    if not m:
        sys.exit("peer_llama_cpp.py: %s has no 'Final estimate: PPL = ...' line" % log_path)
    return math.log2(float(m.group(1)))


def agree(args):
    with open(args.ids) as f:
        ids = json.load(f)
    C, half = args.context, args.context // 2
    chunks = len(ids) // C
    bits = scored = 0
    for i in range(chunks):
        chunk = ids[i * C:(i + 1) * C]
        bits += strata_bits(args.strata, args.model, chunk, C) - strata_bits(args.strata, args.model, chunk[:half + 1], half + 1)
        scored += C - 1 - half
    f32, f16 = (llama_bits_per_token(p) for p in args.perplexity)
    strata_tokens = strata_eval(args.strata, args.model, "--text", args.text)["tokens_scored"] + 1
    json.dump({"text_tokens_strata": strata_tokens, "text_tokens_llama_cpp": len(ids), "context": C, "chunks": chunks, "tokens_scored": scored, "strata_bits_per_token": bits / scored,
               "llama_cpp_f32_bits_per_token": f32, "llama_cpp_f16_bits_per_token": f16}, sys.stdout, indent=1)
    print()


def table(args):
    _, s = strata_figures(args.strata)
    runs = []
    for path in args.llama:
        with open(path) as f:
            runs.append(json.load(f))
    with open(args.agree) as f:
        a = json.load(f)

    def llama_rate(run, threads, n_prompt, n_gen):
        return next(r["avg_ts"] for r in run if r["n_threads"] == threads and r["n_prompt"] == n_prompt and r["n_gen"] == n_gen)

    def ms(b):
        return b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]

    lines = [args.header, "",
             "Agreement (llama-perplexity's scoring, %d chunks of %d tokens, %d tokens scored): strata %.5f bits/token, "
             "llama.cpp F32 %.5f (%+.5f), F16 %.5f (%+.5f); the text is %d tokens to strata's tokenizer, %d to llama.cpp's." % (
                 a["chunks"], a["context"], a["tokens_scored"], a["strata_bits_per_token"],
                 a["llama_cpp_f32_bits_per_token"], a["llama_cpp_f32_bits_per_token"] - a["strata_bits_per_token"],
                 a["llama_cpp_f16_bits_per_token"], a["llama_cpp_f16_bits_per_token"] - a["strata_bits_per_token"],
                 a["text_tokens_strata"], a["text_tokens_llama_cpp"]),
             "", "| figure | threads | strata F32 | llama.cpp F32 | ratio | strata F16 | llama.cpp F16 | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    # Each llama.cpp file beside strata holding the model in the same type: float32, or as
    # stored (F16 panels, widened as the kernel loads them; the products in float32).
    for threads in args.threads:
        for T in args.prompts:
            mine = [ms(s["%s/B:1/T:%d/threads:%d/real_time" % (name, T, threads)]) for name in ("forward", "forward_as_stored")]
            theirs = [1e3 * T / llama_rate(run, threads, T, 0) for run in runs]
            lines.append("| forward latency, context %d (ms; llama-bench pp%d) | %d | %.2f | %.2f | %.2f× | %.2f | %.2f | %.2f× |" % (
                T, T, threads, mine[0], theirs[0], theirs[0] / mine[0], mine[1], theirs[1], theirs[1] / mine[1]))
        mine = [s["%s/prompt:1/steps:%d/threads:%d/real_time" % (name, args.gen, threads)]["tokens/s"] for name in ("decode", "decode_as_stored")]
        theirs = [llama_rate(run, threads, 0, args.gen) for run in runs]
        lines.append("| decode, %d steps from an empty context (tokens/s; llama-bench tg%d) | %d | %.0f | %.0f | %.2f× | %.0f | %.0f | %.2f× |" % (
            args.gen, args.gen, threads, mine[0], theirs[0], mine[0] / theirs[0], mine[1], theirs[1], mine[1] / theirs[1]))
    spread = max(r["stddev_ts"] / r["avg_ts"] for run in runs for r in run)
    lines += ["", "strata computes in float32 (its F32 column holds the weights in float32, its F16 column as stored, in "
              "F16, widened as its kernel loads them); ratios are speeds (above 1: "
              "strata faster). pp T is llama-bench's rate for one T-token batch from an empty cache, shown as latency "
              "T / rate beside strata's forward/B:1/T:T (logits of the last row in both); tg %d is %d one-token steps "
              "from an empty cache, beside strata's decode/prompt:1/steps:%d (one token prefilled first). llama.cpp "
              "runs as it ships: its KV cache in F16, its OpenMP barriers under libgomp's default wait policy "
              "(spin, then sleep; strata sets OMP_WAIT_POLICY=PASSIVE unless the user has set it). llama-bench's "
              "spread over its %d repetitions was up to %.0f%% of a rate (stddev / mean)." % (
                  args.gen, args.gen, args.gen, len(runs[0][0]["samples_ns"]), 100 * spread)]
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("agree")
    g.add_argument("--strata", required=True, help="the strata CLI binary")
    g.add_argument("--model", required=True)
    g.add_argument("--text", required=True, help="the text llama-tokenize tokenized (to compare the token counts)")
    g.add_argument("--ids", required=True, help="llama-tokenize --ids output: a JSON array")
    g.add_argument("--context", type=int, required=True)
    g.add_argument("--perplexity", nargs=2, required=True, metavar=("F32_LOG", "F16_LOG"))
    t = sub.add_parser("table")
    t.add_argument("--strata", required=True, help="strata-bench JSON")
    t.add_argument("--llama", nargs=2, required=True, metavar=("F32_JSON", "F16_JSON"), help="llama-bench -o json")
    t.add_argument("--agree", required=True)
    t.add_argument("--header", required=True)
    t.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    t.add_argument("--prompts", type=int, nargs="+", default=[16, 64, 256])
    t.add_argument("--gen", type=int, default=128)
    args = ap.parse_args()
    {"agree": agree, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
