#!/usr/bin/python3
"""The PyTorch side of scripts/measure_gemma2b.sh: one forward pass of n tokens over n + 1
token ids, as `strata eval --ids IDS --context n --bos never` runs, through the project's
independent reference (tests/reference/torch_reference.py) on the same checkpoint:

    scripts/torch_gemma2b.py MODEL IDS N [--threads 2] [--compute bf16|f32]

--compute bf16 (the default) holds the weights in BF16 as stored and computes in BF16 with
Hugging Face's casts, as transformers runs a BF16 Gemma. --compute f32 holds them in BF16 too
but widens each tensor to float32 as it is used, as strata's kernels do, so its bits per
token isolate the arithmetic from the storage (float32 holding would need 4 bytes a
parameter, 10.0 GB, which this script never allocates). Prints JSON: load and forward
seconds (wall and CPU), peak resident memory after each, bits per token over the n scored
tokens.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import torch  # noqa: E402
import torch_reference as ref  # noqa: E402


class WidenedOnUse(dict):
    """Parameters held as stored, handed out as float32 (a transient copy per use)."""

    def __getitem__(self, name):
        return dict.__getitem__(self, name).float()


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("ids", help="JSON array of at least N + 1 token ids")
    ap.add_argument("n", type=int, help="context: the forward pass's length")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compute", choices=["bf16", "f32"], default="bf16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.ids) as f:
        ids = json.load(f)
    tokens = torch.tensor(ids[:args.n])[None]  # (1, n)
    targets = torch.tensor(ids[1:args.n + 1])  # (n,): token t + 1 is scored from 0..t

    start, cpu = time.perf_counter(), time.process_time()  # process time: all threads
    c, p = ref.load_model(args.model, keep_dtype=True)
    if args.compute == "f32":
        p = WidenedOnUse(p)
    load_seconds, load_cpu, load_rss = time.perf_counter() - start, time.process_time() - cpu, peak_rss_mib()

    with torch.inference_mode():
        start, cpu = time.perf_counter(), time.process_time()
        logits = ref.forward(c, p, tokens, torch.arange(args.n)[None])[0]  # (n, vocab)
        forward_seconds, forward_cpu = time.perf_counter() - start, time.process_time() - cpu
        nats = -logits.float().log_softmax(-1).gather(1, targets[:, None]).sum().item()
    print(json.dumps({
        "compute": args.compute, "context": args.n, "threads": args.threads,
        "parameters": sum(dict.__getitem__(p, k).numel() for k in p),
        "load_seconds": load_seconds, "load_cpu_seconds": load_cpu,
        "forward_seconds": forward_seconds, "forward_cpu_seconds": forward_cpu,
        "peak_rss_mib_after_load": load_rss, "peak_rss_mib": peak_rss_mib(),
        "bits_per_token": nats / math.log(2) / args.n, "tokens_scored": args.n,
    }, indent=2))


if __name__ == "__main__":
    main()
