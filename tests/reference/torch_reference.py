#!/usr/bin/python3
"""Independent PyTorch reference for strata's decoder, used by the C++ tests.

Written from the Hugging Face modelling code of each family (not from strata's C++), in
float32 torch (load_model(..., keep_dtype=True) keeps F16/BF16 weights as stored; forward
then computes in that dtype with HF's casts: norms and softmax in float32, rotary cos/sin
rounded to the activations' dtype):
  llama / mistral / qwen2 / gemma / gemma2: token embedding (gemma*: times sqrt(hidden) as a
    tensor of the config's torch_dtype), per layer RMSNorm (gemma*: x * (1 + w)) -> causal
    grouped-query attention (q/k/v/o biases where the family has them; rotate-half RoPE with
    rope_scaling default/linear/llama3; scores * head_dim^-1/2 or query_pre_attn_scalar^-1/2;
    gemma2: tanh soft-cap of the scores; a sliding window on mistral's layers, qwen2's
    layers >= max_window_layers when use_sliding_window, gemma2's even layers) -> [gemma2:
    post_attention_layernorm] -> residual, RMSNorm -> gated MLP (SiLU or tanh-GELU, llama:
    mlp_bias) -> [gemma2: post_feedforward_layernorm] -> residual; final RMSNorm, head
    (lm_head, or the embedding when tied), gemma2: tanh soft-cap of the logits.
  gpt2: wte + wpe[position], per layer LayerNorm -> fused c_attn (Conv1D: x @ W + b, W
    stored (in, out)) -> causal attention -> c_proj, LayerNorm -> c_fc -> gelu_new -> c_proj;
    ln_f, tied head.

A model is a HF directory: config.json + model.safetensors, or shards named by
model.safetensors.index.json (F32, F16 or BF16). Needs only torch (no safetensors or
transformers packages). Usage:

  torch_reference.py forward --model DIR --input in.json --out out.safetensors
      in.json: {"tokens": [[...], ...], "positions": [[...], ...]}  (B rows of length T)
      writes "logits" (B, T, vocab) F32.
  torch_reference.py train --model DIR --input in.json --out out.safetensors
      (llama and gemma only) in.json adds "targets" (B, T), "steps", "lr", "beta1", "beta2",
      "eps", "weight_decay", "clip". Loss: mean cross-entropy over all B*T targets.
      Optimiser: torch.optim.AdamW at constant lr, weight decay on 2-D tensors only; when
      clip > 0 gradients are clipped to that global norm (clip_grad_norm_) before each step.
      Optional "dropout" p with "dropout_masks", flat 0/1 of shape (steps, layers, 2, B, T,
      hidden): residual dropout, x + mask * branch / (1 - p) for the attention (0) and MLP
      (1) branch of each layer at each step (the masks are given, so the comparison checks
      the arithmetic, not the random numbers).
      writes "loss" (steps,) = loss before each update, "grad.<name>" = gradients of
      step 0 before clipping, "<name>" = every parameter after the last step.
  torch_reference.py make --model DIR --input spec.json
      writes a random checkpoint in exact Hugging Face layout: spec.json is
      {"config": {... a config.json in the family's keys ...}, "seed": 1, "dtype": "BF16",
       "shards": 2, "std": 0.5, "prefix": true}. Names and shapes follow the family
      (GPT-2's Conv1D weights (in, out), fused c_attn, its attn.bias mask buffers; "prefix":
      false drops GPT-2's "transformer." as the original checkpoints do); shards > 1 writes
      model-0000k-of-0000N.safetensors and model.safetensors.index.json.

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
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
INT_VIEW = {"F32": torch.int32, "F16": torch.int16, "BF16": torch.int16}


def read_safetensors(path, keep_dtype=False):
    """name -> tensor, widened to float32 unless keep_dtype (then as stored: F16, BF16).
    Reads tensor by tensor, so the file's bytes are never held beside the tensors."""
    tensors = {}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            raw = bytearray(end - begin)
            f.seek(8 + n + begin)
            f.readinto(raw)
            flat = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0)
            tensors[name] = (flat if keep_dtype else flat.float()).reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().to(DTYPES[dtype]).contiguous()
        blob = t.view(INT_VIEW[dtype]).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_checkpoint(model_dir, keep_dtype=False):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single, keep_dtype)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as f:
        index = json.load(f)
    params = {}
    for shard in sorted(set(index["weight_map"].values())):
        params.update(read_safetensors(os.path.join(model_dir, shard), keep_dtype))
    return params


def family_config(cfg):
    """The options of a HF config.json, with each family's defaults (transformers' Config classes)."""
    t = cfg.get("model_type", "llama")
    if t == "gpt2":
        d, heads = cfg.get("n_embd", 768), cfg.get("n_head", 12)
        return dict(type=t, hidden=d, layers=cfg.get("n_layer", 12), heads=heads, kv_heads=heads,
                    head_dim=d // heads, inner=cfg.get("n_inner") or 4 * d, positions=cfg.get("n_positions", 1024),
                    vocab=cfg.get("vocab_size", 50257), eps=cfg.get("layer_norm_epsilon", 1e-5), tied=True)
    gemma = t in ("gemma", "gemma2")
    heads = cfg["num_attention_heads"]
    c = dict(type=t, hidden=cfg["hidden_size"], layers=cfg["num_hidden_layers"], heads=heads,
             kv_heads=cfg.get("num_key_value_heads") or heads,
             head_dim=cfg.get("head_dim") or cfg["hidden_size"] // heads, inner=cfg["intermediate_size"],
             vocab=cfg["vocab_size"], eps=cfg.get("rms_norm_eps", 1e-6 if gemma else 1e-5),
             theta=cfg.get("rope_theta", 10000.0), tied=cfg.get("tie_word_embeddings", gemma),
             act=cfg.get("hidden_activation") if gemma and cfg.get("hidden_activation") else
             cfg.get("hidden_act", "gelu_pytorch_tanh" if gemma else "silu"),
             scale_embeddings=cfg.get("scale_embeddings", gemma), plus_one=cfg.get("norm_weight_plus_one", gemma),
             torch_dtype=TORCH_DTYPES[cfg.get("torch_dtype", "float32")], rope_scaling=cfg.get("rope_scaling"),
             qkv_bias=False, o_bias=False, mlp_bias=False, window=None, sliding=lambda i: False,
             attn_softcap=None, final_softcap=None, scaling=None, post_norms=False)
    if t == "llama":
        c["qkv_bias"] = c["o_bias"] = cfg.get("attention_bias", False)
        c["mlp_bias"] = cfg.get("mlp_bias", False)
    elif t == "mistral":
        c["window"] = cfg.get("sliding_window", 4096)
        c["sliding"] = lambda i: True
    elif t == "qwen2":
        c["qkv_bias"] = True
        if cfg.get("use_sliding_window", False):
            c["window"] = cfg.get("sliding_window", 4096)
            first = cfg.get("max_window_layers", 28)
            c["sliding"] = lambda i: i >= first
    elif t == "gemma2":
        c["window"] = cfg.get("sliding_window", 4096)
        c["sliding"] = lambda i: i % 2 == 0
        c["attn_softcap"] = cfg.get("attn_logit_softcapping", 50.0)
        c["final_softcap"] = cfg.get("final_logit_softcapping", 30.0)
        c["scaling"] = cfg.get("query_pre_attn_scalar", 256)
        c["post_norms"] = True
    return c


def load_model(model_dir, keep_dtype=False):
    with open(os.path.join(model_dir, "config.json")) as f:
        c = family_config(json.load(f))
    params = read_checkpoint(model_dir, keep_dtype)
    if c["type"] == "gpt2":  # the original checkpoints lack the "transformer." prefix
        params = {(k if k.startswith("transformer.") else "transformer." + k): v for k, v in params.items()}
    elif c["tied"]:
        params.pop("lm_head.weight", None)  # the head is the embedding: one parameter
    return c, params


def rms_norm(x, w, c):
    """In float32 whatever x's dtype, as HF: gemma* scale by (1 + w) before rounding back to
    x's dtype, the others round first and then scale by w."""
    y = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + c["eps"])
    return (y * (1.0 + w.float())).type_as(x) if c["plus_one"] else w * y.type_as(x)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def inv_frequencies(c):
    """As transformers' modeling_rope_utils: default, linear and llama3."""
    hd = c["head_dim"]
    inv_freq = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    s = c["rope_scaling"] or {}
    kind = s.get("rope_type", s.get("type", "default"))
    if kind == "linear":
        inv_freq = inv_freq / s["factor"]
    elif kind == "llama3":
        factor, low, high = s["factor"], s.get("low_freq_factor", 1.0), s.get("high_freq_factor", 4.0)
        old = s.get("original_max_position_embeddings", 8192)
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv_freq = torch.where(medium, smoothed, scaled)
    elif kind != "default":
        raise ValueError("rope type " + kind)
    return inv_freq


def rope(x, positions, c):
    """x: (B, heads, T, head_dim); positions: (B, T) integer position ids."""
    freqs = positions[:, :, None].float() * inv_frequencies(c)[None, None, :]  # (B, T, hd/2)
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]  # (B, 1, T, hd)
    sin = -emb.sin() if os.environ.get("STRATA_REF_BREAK") == "rope" else emb.sin()
    return x * emb.cos().to(x.dtype) + rotate_half(x) * sin.to(x.dtype)  # HF: cos, sin in x's dtype


def linear(x, p, name, bias):
    return F.linear(x, p[name + ".weight"], p[name + ".bias"] if bias else None)


def attend(q, k, v, c, layer):
    """q (B, H, T, hd), k and v (B, KV, T, hd) -> (B, T, H*hd)."""
    B, H, T, hd = q.shape
    k = k.repeat_interleave(H // k.shape[1], dim=1)  # query head h reads kv head h // (H/KV)
    v = v.repeat_interleave(H // v.shape[1], dim=1)
    scaling = (c.get("scaling") or hd) ** -0.5
    scores = q @ k.transpose(-1, -2) * scaling
    if c.get("attn_softcap"):
        scores = torch.tanh(scores / c["attn_softcap"]) * c["attn_softcap"]
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i  # by index in the sequence, not position id
    if c.get("window") and c["sliding"](layer):
        allowed = allowed & (i - j < c["window"])
    scores = scores.masked_fill(~allowed, float("-inf"))
    out = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype) @ v  # (B, H, T, hd); HF: softmax in float32
    return out.transpose(1, 2).reshape(B, T, H * hd)


def attention(x, p, pre, positions, c, layer):
    B, T, _ = x.shape
    H, KV, hd = c["heads"], c["kv_heads"], c["head_dim"]
    q = linear(x, p, pre + "q_proj", c["qkv_bias"]).view(B, T, H, hd).transpose(1, 2)
    k = linear(x, p, pre + "k_proj", c["qkv_bias"]).view(B, T, KV, hd).transpose(1, 2)
    v = linear(x, p, pre + "v_proj", c["qkv_bias"]).view(B, T, KV, hd).transpose(1, 2)
    q, k = rope(q, positions, c), rope(k, positions, c)
    return linear(attend(q, k, v, c, layer), p, pre + "o_proj", c["o_bias"])


def mlp(x, p, pre, c):
    gate = linear(x, p, pre + "gate_proj", c["mlp_bias"])
    gate = F.silu(gate) if c["act"] in ("silu", "swish") else F.gelu(gate, approximate="tanh")
    return linear(gate * linear(x, p, pre + "up_proj", c["mlp_bias"]), p, pre + "down_proj", c["mlp_bias"])


def conv1d(x, p, name):
    """GPT-2's Conv1D: weight stored (in, out), y = x @ W + b."""
    return x @ p[name + ".weight"] + p[name + ".bias"]


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def forward_gpt2(c, p, tokens, positions):
    d, H, hd = c["hidden"], c["heads"], c["head_dim"]
    B, T = tokens.shape
    x = F.embedding(tokens, p["transformer.wte.weight"]) + F.embedding(positions, p["transformer.wpe.weight"])
    ln = lambda x, name: F.layer_norm(x, (d,), p[name + ".weight"], p[name + ".bias"], c["eps"])
    for i in range(c["layers"]):
        pre = "transformer.h.%d." % i
        q, k, v = conv1d(ln(x, pre + "ln_1"), p, pre + "attn.c_attn").split(d, dim=2)
        heads = lambda t: t.view(B, T, H, hd).transpose(1, 2)
        x = x + conv1d(attend(heads(q), heads(k), heads(v), c, i), p, pre + "attn.c_proj")
        x = x + conv1d(gelu_new(conv1d(ln(x, pre + "ln_2"), p, pre + "mlp.c_fc")), p, pre + "mlp.c_proj")
    return F.linear(ln(x, "transformer.ln_f"), p["transformer.wte.weight"])


def forward(c, p, tokens, positions, keep=None, drop_p=0.0):
    """tokens, positions: (B, T) int64. Returns logits (B, T, vocab). keep: None, or
    (layers, 2, B, T, hidden) 0/1 masks of residual dropout with probability drop_p
    (llama and gemma: the families strata trains)."""
    if c["type"] == "gpt2":
        return forward_gpt2(c, p, tokens, positions)

    def branch(out, layer, which):
        return out if keep is None else out * keep[layer, which] / (1.0 - drop_p)

    x = F.embedding(tokens, p["model.embed_tokens.weight"])
    if c["scale_embeddings"]:  # HF: a tensor of the model's dtype, so rounded to it
        x = x * torch.tensor(c["hidden"] ** 0.5, dtype=c["torch_dtype"]).float()
    for i in range(c["layers"]):
        pre = "model.layers.%d." % i
        h = attention(rms_norm(x, p[pre + "input_layernorm.weight"], c), p, pre + "self_attn.", positions, c, i)
        if c["post_norms"]:
            h = rms_norm(h, p[pre + "post_attention_layernorm.weight"], c)
            x = x + h
            h = mlp(rms_norm(x, p[pre + "pre_feedforward_layernorm.weight"], c), p, pre + "mlp.", c)
            x = x + rms_norm(h, p[pre + "post_feedforward_layernorm.weight"], c)
        else:
            x = x + branch(h, i, 0)
            x = x + branch(mlp(rms_norm(x, p[pre + "post_attention_layernorm.weight"], c), p, pre + "mlp.", c), i, 1)
    x = rms_norm(x, p["model.norm.weight"], c)
    logits = F.linear(x, p["model.embed_tokens.weight" if c["tied"] else "lm_head.weight"])
    if c.get("final_softcap"):
        logits = torch.tanh(logits / c["final_softcap"]) * c["final_softcap"]
    return logits


def hf_tensors(c, prefix=True):
    """(name, shape, kind) of every tensor a HF checkpoint of this config holds, in HF's order.
    kind: "matrix", "norm" (around its neutral value), "bias", or "mask" (GPT-2's buffers)."""
    d, f, V = c["hidden"], c["inner"], c["vocab"]
    out = []
    if c["type"] == "gpt2":
        t = "transformer." if prefix else ""
        out += [(t + "wte.weight", [V, d], "matrix"), (t + "wpe.weight", [c["positions"], d], "matrix")]
        for i in range(c["layers"]):
            h = "%sh.%d." % (t, i)
            out += [(h + "ln_1.weight", [d], "norm"), (h + "ln_1.bias", [d], "bias"),
                    (h + "attn.bias", [1, 1, c["positions"], c["positions"]], "mask"),
                    (h + "attn.c_attn.weight", [d, 3 * d], "matrix"), (h + "attn.c_attn.bias", [3 * d], "bias"),
                    (h + "attn.c_proj.weight", [d, d], "matrix"), (h + "attn.c_proj.bias", [d], "bias"),
                    (h + "ln_2.weight", [d], "norm"), (h + "ln_2.bias", [d], "bias"),
                    (h + "mlp.c_fc.weight", [d, f], "matrix"), (h + "mlp.c_fc.bias", [f], "bias"),
                    (h + "mlp.c_proj.weight", [f, d], "matrix"), (h + "mlp.c_proj.bias", [d], "bias")]
        return out + [(t + "ln_f.weight", [d], "norm"), (t + "ln_f.bias", [d], "bias")]
    q, kv = c["heads"] * c["head_dim"], c["kv_heads"] * c["head_dim"]
    out.append(("model.embed_tokens.weight", [V, d], "matrix"))
    for i in range(c["layers"]):
        pre = "model.layers.%d." % i
        out.append((pre + "input_layernorm.weight", [d], "norm"))
        for name, rows, cols, bias in (("q_proj", q, d, c["qkv_bias"]), ("k_proj", kv, d, c["qkv_bias"]),
                                       ("v_proj", kv, d, c["qkv_bias"]), ("o_proj", d, q, c["o_bias"])):
            out.append((pre + "self_attn.%s.weight" % name, [rows, cols], "matrix"))
            if bias:
                out.append((pre + "self_attn.%s.bias" % name, [rows], "bias"))
        out.append((pre + "post_attention_layernorm.weight", [d], "norm"))
        if c["post_norms"]:
            out.append((pre + "pre_feedforward_layernorm.weight", [d], "norm"))
            out.append((pre + "post_feedforward_layernorm.weight", [d], "norm"))
        for name, rows, cols in (("gate_proj", f, d), ("up_proj", f, d), ("down_proj", d, f)):
            out.append((pre + "mlp.%s.weight" % name, [rows, cols], "matrix"))
            if c["mlp_bias"]:
                out.append((pre + "mlp.%s.bias" % name, [rows], "bias"))
    out.append(("model.norm.weight", [d], "norm"))
    if not c["tied"]:
        out.append(("lm_head.weight", [V, d], "matrix"))
    return out


def make(model_dir, spec):
    """A random checkpoint in exact HF layout (see the module docstring)."""
    cfg = spec["config"]
    c = family_config(cfg)
    gen = torch.Generator().manual_seed(spec.get("seed", 1))
    std = spec.get("std", 0.5)
    neutral = 0.0 if c["type"] != "gpt2" and c["plus_one"] else 1.0
    tensors = {}
    for name, shape, kind in hf_tensors(c, spec.get("prefix", True)):
        if kind == "mask":
            n = shape[-1]
            tensors[name] = torch.ones(n, n).tril().view(shape)
        elif kind == "matrix":
            tensors[name] = torch.randn(shape, generator=gen) * std
        elif kind == "norm":
            tensors[name] = neutral + 0.3 * torch.randn(shape, generator=gen)
        else:
            tensors[name] = 0.3 * torch.randn(shape, generator=gen)
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    dtype, shards = spec.get("dtype", "F32"), spec.get("shards", 1)
    if shards <= 1:
        write_safetensors(os.path.join(model_dir, "model.safetensors"), tensors, dtype)
        return
    names = list(tensors)
    weight_map, per = {}, -(-len(names) // shards)
    for k in range(shards):
        file = "model-%05d-of-%05d.safetensors" % (k + 1, shards)
        part = {n: tensors[n] for n in names[k * per:(k + 1) * per]}
        write_safetensors(os.path.join(model_dir, file), part, dtype)
        weight_map.update({n: file for n in part})
    total = sum(t.numel() * (4 if dtype == "F32" else 2) for t in tensors.values())
    with open(os.path.join(model_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


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
    ap.add_argument("command", choices=["forward", "train", "make"])
    ap.add_argument("--model", required=True, help="directory with config.json + model.safetensors")
    ap.add_argument("--input", required=True, help="JSON input (see the module docstring)")
    ap.add_argument("--out", help="output .safetensors (forward, train)")
    args = ap.parse_args()
    with open(args.input) as f:
        inp = json.load(f)
    if args.command == "make":
        make(args.model, inp)
        return
    c, p = load_model(args.model)
    if args.command == "forward":
        with torch.no_grad():
            logits = forward(c, p, torch.tensor(inp["tokens"]), torch.tensor(inp["positions"]))
        write_safetensors(args.out, {"logits": logits})
    else:
        write_safetensors(args.out, train(c, p, inp))


if __name__ == "__main__":
    main()
