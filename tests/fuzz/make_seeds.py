#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): small valid
inputs that reach deep into each parser. Plain Python, no numpy; run from anywhere:
    python3 tests/fuzz/make_seeds.py
The seeds are committed; rerun only when a format changes."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = b"\n--strata-file--\n"  # model_dir_fuzz.cpp's kSeparator


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def f16(x):
    return struct.pack("<e", x)


def bf16(x):
    return struct.pack("<f", x)[2:]


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, blob = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def values(n, scale=0.05):
    return [((i * 7919) % 97 - 48) * scale / 48 for i in range(n)]


def byte_tokenizer():
    """strata's byte-level tokenizer.json: GPT-2's bytes-to-unicode alphabet, no merges."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    char = {b: chr(c) for b, c in zip(bs, cs)}
    vocab = {char[b]: b for b in range(256)}
    return json.dumps({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
                       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
                       "post_processor": None,
                       "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                       "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                                 "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                                 "vocab": vocab, "merges": []}}, ensure_ascii=False)


def tiny_model(vocab, d, f, layers, heads, kv, hd, dtype, tied=True, gemma=False):
    config = {"model_type": "gemma" if gemma else "llama", "vocab_size": vocab, "hidden_size": d,
              "intermediate_size": f, "num_hidden_layers": layers, "num_attention_heads": heads,
              "num_key_value_heads": kv, "head_dim": hd, "max_position_embeddings": 16, "tie_word_embeddings": tied}
    pack = {"F32": lambda v: b"".join(struct.pack("<f", x) for x in v),
            "F16": lambda v: b"".join(f16(x) for x in v),
            "BF16": lambda v: b"".join(bf16(x) for x in v)}[dtype]
    shapes = [("model.embed_tokens.weight", [vocab, d])]
    for i in range(layers):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", [d]), (p + "self_attn.q_proj.weight", [heads * hd, d]),
                   (p + "self_attn.k_proj.weight", [kv * hd, d]), (p + "self_attn.v_proj.weight", [kv * hd, d]),
                   (p + "self_attn.o_proj.weight", [d, heads * hd]), (p + "post_attention_layernorm.weight", [d]),
                   (p + "mlp.gate_proj.weight", [f, d]), (p + "mlp.up_proj.weight", [f, d]),
                   (p + "mlp.down_proj.weight", [d, f])]
    shapes.append(("model.norm.weight", [d]))
    if not tied:
        shapes.append(("lm_head.weight", [vocab, d]))
    tensors = []
    for name, shape in shapes:
        n = 1
        for s in shape:
            n *= s
        tensors.append((name, dtype, shape, pack([1.0] * n if len(shape) == 1 else values(n))))
    return json.dumps(config), safetensors(tensors, {"format": "pt"})


def main():
    for i, spec in enumerate(["sequential", "hierarchical", "hierarchical:3", "dilated",
                              'custom:[1,3,{"offsets":[1,2,4]},8]', "custom:[2,7]"]):
        put("schedule", f"seed{i}", spec)

    put("config", "llama", json.dumps({"model_type": "llama", "vocab_size": 2048, "hidden_size": 256,
                                       "intermediate_size": 768, "num_hidden_layers": 6, "num_attention_heads": 4,
                                       "num_key_value_heads": 4, "head_dim": 64, "rms_norm_eps": 1e-5,
                                       "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
                                       "max_position_embeddings": 256}))
    put("config", "gemma", json.dumps({"model_type": "gemma", "vocab_size": 256000, "hidden_size": 2048,
                                       "intermediate_size": 16384, "num_hidden_layers": 18, "num_attention_heads": 8,
                                       "num_key_value_heads": 1, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
                                       "max_position_embeddings": 8192, "rms_norm_eps": 1e-6}))
    put("config", "mistral", json.dumps({"model_type": "mistral", "vocab_size": 32000, "hidden_size": 4096,
                                         "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
                                         "num_key_value_heads": 8, "sliding_window": 4096, "rope_theta": 1e6}))
    put("config", "llama3", json.dumps({"model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
                                        "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
                                        "num_key_value_heads": 8, "head_dim": 64, "attention_bias": False, "mlp_bias": False,
                                        "rope_theta": 500000.0, "torch_dtype": "bfloat16",
                                        "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}))
    put("config", "qwen2", json.dumps({"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
                                       "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                                       "num_key_value_heads": 2, "use_sliding_window": False, "sliding_window": 32768,
                                       "max_window_layers": 21, "tie_word_embeddings": True}))
    put("config", "gemma2", json.dumps({"model_type": "gemma2", "vocab_size": 256000, "hidden_size": 2304,
                                        "intermediate_size": 9216, "num_hidden_layers": 26, "num_attention_heads": 8,
                                        "num_key_value_heads": 4, "head_dim": 256, "sliding_window": 4096,
                                        "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
                                        "query_pre_attn_scalar": 256, "hidden_activation": "gelu_pytorch_tanh"}))
    put("config", "gpt2", json.dumps({"model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12,
                                      "n_head": 12, "n_positions": 1024, "n_inner": None,
                                      "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}))
    put("config", "minimal", '{"vocab_size":16,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2}')

    put("safetensors", "f32", safetensors([("a", "F32", [2, 3], b"".join(struct.pack("<f", x) for x in values(6)))],
                                          {"format": "pt"}))
    put("safetensors", "f16_bf16", safetensors([("h", "F16", [4], b"".join(f16(x) for x in [0.5, -2.0, 65504.0, 6e-8])),
                                                ("b", "BF16", [2, 2], b"".join(bf16(x) for x in [1.0, -0.0, 3e38, 1e-38]))]))
    put("safetensors", "other_dtypes", safetensors([("ids", "I64", [3], struct.pack("<3q", 1, 2, 3)),
                                                    ("s", "F32", [], struct.pack("<f", 1.5))]))
    put("safetensors", "empty", safetensors([]))

    tok = byte_tokenizer().encode()
    for dtype, tied, gemma in [("F32", True, False), ("F16", False, False), ("BF16", True, True)]:
        cfg, st = tiny_model(256, 8, 12, 1, 2, 1, 4, dtype, tied=tied, gemma=gemma)
        put("model_dir", f"tiny_{dtype.lower()}", cfg.encode() + SEP + st + SEP + tok)
    # The same model in two shards with an index (the second shard holds the final norm).
    cfg, st = tiny_model(256, 8, 12, 1, 2, 1, 4, "F32")
    header_len = struct.unpack("<Q", st[:8])[0]
    header = json.loads(st[8:8 + header_len])
    data = st[8 + header_len:]
    first = {k: v for k, v in header.items() if k != "model.norm.weight"}
    last = header["model.norm.weight"]
    b, e = last["data_offsets"]
    shard2 = safetensors([("model.norm.weight", last["dtype"], last["shape"], data[b:e])])
    shard1 = safetensors([(k, v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
                          for k, v in first.items() if k != "__metadata__"])
    index = {"metadata": {"total_size": len(data)},
             "weight_map": {**{k: "model-00001-of-00002.safetensors" for k in first if k != "__metadata__"},
                            "model.norm.weight": "model-00002-of-00002.safetensors"}}
    put("model_dir", "sharded_f32", cfg.encode() + SEP + shard1 + SEP + tok + SEP + json.dumps(index).encode() + SEP + shard2)


if __name__ == "__main__":
    main()
