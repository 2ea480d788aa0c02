#!/usr/bin/python3
"""Independent PyTorch reference for strata's decoder, used by the C++ tests.

Written from the Hugging Face Llama/Gemma modelling code (not from strata's C++), in plain
float32 torch: token embedding (times sqrt(hidden_size) when "scale_embeddings"), per layer
RMSNorm -> causal grouped-query attention with rotate-half RoPE -> residual, RMSNorm ->
gated MLP (SiLU or tanh-GELU) -> residual, final RMSNorm, output head (lm_head, or the
embedding when tied). RMSNorm multiplies by (1 + w) when "norm_weight_plus_one" (Gemma).

A model is a strata/HF directory: config.json + model.safetensors (F32, F16 or BF16).
Needs only torch (no safetensors or transformers packages). Usage:

  torch_reference.py forward --model DIR --input in.json --out out.safetensors
      in.json: {"tokens": [[...], ...], "positions": [[...], ...]}  (B rows of length T)
      writes "logits" (B, T, vocab) F32.
  torch_reference.py train --model DIR --input in.json --out out.safetensors
      in.json adds "targets" (B, T), "steps", "lr", "beta1", "beta2", "eps",
      "weight_decay", "clip". Loss: mean cross-entropy over all B*T targets. Optimiser:
      torch.optim.AdamW at constant lr, weight decay on 2-D tensors only; when clip > 0
      gradients are clipped to that global norm (clip_grad_norm_) before each step.
      Optional "dropout" p with "dropout_masks", flat 0/1 of shape (steps, layers, 2, B, T,
      hidden): residual dropout, x + mask * branch / (1 - p) for the attention (0) and MLP
      (1) branch of each layer at each step (the masks are given, so the comparison checks
      the arithmetic, not the random numbers).
      writes "loss" (steps,) = loss before each update, "grad.<name>" = gradients of
      step 0 before clipping, "<name>" = every parameter after the last step.

Exit status 77 means torch cannot be imported (the C++ harness then skips the test).

Testing aid: STRATA_REF_BREAK=rope flips the sign of the rotary sine, so a test can show
that a comparison against this script detects a wrong model. Never set it otherwise.
"""
import argparse
import json
import math
import os
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # exit 77: the C++ harness skips (loudly) instead of failing
    sys.stderr.write("torch_reference.py: cannot import torch: %s\n" % e)
    sys.exit(77)

torch.set_default_dtype(torch.float32)
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        flat = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0)
        tensors[name] = flat.float().reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().float().contiguous()
        blob = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    gemma = cfg.get("model_type", "llama") == "gemma"
    heads = cfg["num_attention_heads"]
    c = dict(
        hidden=cfg["hidden_size"], layers=cfg["num_hidden_layers"], heads=heads,
        kv_heads=cfg.get("num_key_value_heads") or heads,
        head_dim=cfg.get("head_dim") or cfg["hidden_size"] // heads,
        eps=cfg.get("rms_norm_eps", 1e-6 if gemma else 1e-5), theta=cfg.get("rope_theta", 10000.0),
        act=cfg.get("hidden_act", "gelu_pytorch_tanh" if gemma else "silu"),
        tied=cfg.get("tie_word_embeddings", gemma),
        scale_embeddings=cfg.get("scale_embeddings", gemma),
        plus_one=cfg.get("norm_weight_plus_one", gemma))
    params = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    if c["tied"]:
        params.pop("lm_head.weight", None)  # the head is the embedding: one parameter
    return c, params


def rms_norm(x, w, c):
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + c["eps"])
    return x * (1.0 + w) if c["plus_one"] else x * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, positions, c):
    """x: (B, heads, T, head_dim); positions: (B, T) integer position ids."""
    hd = c["head_dim"]
    inv_freq = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2).float() / hd))
    freqs = positions[:, :, None].float() * inv_freq[None, None, :]  # (B, T, hd/2)
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]  # (B, 1, T, hd)
    sin = -emb.sin() if os.environ.get("STRATA_REF_BREAK") == "rope" else emb.sin()
    return x * emb.cos() + rotate_half(x) * sin


def attention(x, p, pre, positions, c):
    B, T, _ = x.shape
    H, KV, hd = c["heads"], c["kv_heads"], c["head_dim"]
    q = F.linear(x, p[pre + "q_proj.weight"]).view(B, T, H, hd).transpose(1, 2)
    k = F.linear(x, p[pre + "k_proj.weight"]).view(B, T, KV, hd).transpose(1, 2)
    v = F.linear(x, p[pre + "v_proj.weight"]).view(B, T, KV, hd).transpose(1, 2)
    q, k = rope(q, positions, c), rope(k, positions, c)
    k = k.repeat_interleave(H // KV, dim=1)  # query head h reads kv head h // (H/KV)
    v = v.repeat_interleave(H // KV, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    causal = torch.ones(T, T, dtype=torch.bool).tril()  # by index in the sequence, not position id
    scores = scores.masked_fill(~causal, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v  # (B, H, T, hd)
    return F.linear(out.transpose(1, 2).reshape(B, T, H * hd), p[pre + "o_proj.weight"])


def mlp(x, p, pre, c):
    gate = F.linear(x, p[pre + "gate_proj.weight"])
    gate = F.silu(gate) if c["act"] in ("silu", "swish") else F.gelu(gate, approximate="tanh")
    return F.linear(gate * F.linear(x, p[pre + "up_proj.weight"]), p[pre + "down_proj.weight"])


def forward(c, p, tokens, positions, keep=None, drop_p=0.0):
    """tokens, positions: (B, T) int64. Returns logits (B, T, vocab). keep: None, or
    (layers, 2, B, T, hidden) 0/1 masks of residual dropout with probability drop_p."""
    def branch(out, layer, which):
        return out if keep is None else out * keep[layer, which] / (1.0 - drop_p)

    x = F.embedding(tokens, p["model.embed_tokens.weight"])
    if c["scale_embeddings"]:
        x = x * torch.tensor(c["hidden"] ** 0.5, dtype=torch.float32)
    for i in range(c["layers"]):
        pre = "model.layers.%d." % i
        x = x + branch(attention(rms_norm(x, p[pre + "input_layernorm.weight"], c), p, pre + "self_attn.",
                                 positions, c), i, 0)
        x = x + branch(mlp(rms_norm(x, p[pre + "post_attention_layernorm.weight"], c), p, pre + "mlp.", c), i, 1)
    x = rms_norm(x, p["model.norm.weight"], c)
    return F.linear(x, p["model.embed_tokens.weight" if c["tied"] else "lm_head.weight"])


def train(c, p, inp):
    tokens, positions = torch.tensor(inp["tokens"]), torch.tensor(inp["positions"])
    targets = torch.tensor(inp["targets"])
    for t in p.values():
        t.requires_grad_(True)
    groups = [{"params": [t for t in p.values() if t.dim() == 2], "weight_decay": inp["weight_decay"]},
              {"params": [t for t in p.values() if t.dim() != 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=inp["lr"], betas=(inp["beta1"], inp["beta2"]), eps=inp["eps"])
    drop_p, masks = inp.get("dropout", 0.0), None
    if drop_p > 0:
        B, T = tokens.shape
        masks = torch.tensor(inp["dropout_masks"], dtype=torch.float32).view(
            inp["steps"], c["layers"], 2, B, T, c["hidden"])
    losses, out = [], {}
    for step in range(inp["steps"]):
        opt.zero_grad()
        logits = forward(c, p, tokens, positions, None if masks is None else masks[step], drop_p)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            out.update({"grad." + name: t.grad.clone() for name, t in p.items()})
        if inp["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(list(p.values()), inp["clip"])
        opt.step()
    out["loss"] = torch.tensor(losses, dtype=torch.float32)
    out.update(p)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["forward", "train"])
    ap.add_argument("--model", required=True, help="directory with config.json + model.safetensors")
    ap.add_argument("--input", required=True, help="JSON input (see the module docstring)")
    ap.add_argument("--out", required=True, help="output .safetensors")
    args = ap.parse_args()
    c, p = load_model(args.model)
    with open(args.input) as f:
        inp = json.load(f)
    if args.command == "forward":
        with torch.no_grad():
            logits = forward(c, p, torch.tensor(inp["tokens"]), torch.tensor(inp["positions"]))
        write_safetensors(args.out, {"logits": logits})
    else:
        write_safetensors(args.out, train(c, p, inp))


if __name__ == "__main__":
    main()
