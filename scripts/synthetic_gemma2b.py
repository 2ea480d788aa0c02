#!/usr/bin/python3
"""Writes a synthetic checkpoint of Gemma-2B's published shape with random BF16 weights, in
Hugging Face's layout (two shards and an index), for measuring strata on a real-sized model:

    scripts/synthetic_gemma2b.py build/gemma2b-synthetic

18 layers, hidden 2048, 8 heads, 1 KV head, head_dim 256, intermediate 16384, vocabulary
256000: 2.51e9 parameters, ~5.0 GB. The weights are noise (N(0, 0.02), norms near 0 as
Gemma's 1 + w expects), so the figures measure time and memory, not quality. Tensors are
generated and written one at a time, so the script needs ~2 GB of RAM, not the model's
size. The output is a measurement input: it lives under build/ and is never committed.
"""
import json
import os
import struct
import sys

import torch

CONFIG = {
    "architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": 256000, "hidden_size": 2048,
    "intermediate_size": 16384, "num_hidden_layers": 18, "num_attention_heads": 8, "num_key_value_heads": 1,
    "head_dim": 256, "max_position_embeddings": 8192, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
    "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0,
}


def tensors(c):
    d, f, q, kv = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"] * c["head_dim"], c["head_dim"]
    yield "model.embed_tokens.weight", [c["vocab_size"], d]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        yield p + "input_layernorm.weight", [d]
        yield p + "self_attn.q_proj.weight", [q, d]
        yield p + "self_attn.k_proj.weight", [kv, d]
        yield p + "self_attn.v_proj.weight", [kv, d]
        yield p + "self_attn.o_proj.weight", [d, q]
        yield p + "post_attention_layernorm.weight", [d]
        yield p + "mlp.gate_proj.weight", [f, d]
        yield p + "mlp.up_proj.weight", [f, d]
        yield p + "mlp.down_proj.weight", [d, f]
    yield "model.norm.weight", [d]


def write_shard(path, names_shapes, gen):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in names_shapes:
        n = 2 * int(torch.tensor(shape).prod())
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name, shape in names_shapes:
            t = torch.randn(shape, generator=gen) * (0.1 if len(shape) == 1 else 0.02)
            f.write(t.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
            print("  ", name, shape, flush=True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/gemma2b-synthetic"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    all_tensors = list(tensors(CONFIG))
    half = 1 + len(all_tensors) // 2
    shards = [all_tensors[:half], all_tensors[half:]]
    gen = torch.Generator().manual_seed(0)
    weight_map, total = {}, 0
    for k, part in enumerate(shards):
        file = "model-%05d-of-%05d.safetensors" % (k + 1, len(shards))
        write_shard(os.path.join(out, file), part, gen)
        for name, shape in part:
            weight_map[name] = file
            total += 2 * int(torch.tensor(shape).prod())
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    print("wrote %s: %.2f GB of BF16" % (out, total / 1e9))


if __name__ == "__main__":
    main()
