#!/usr/bin/python3
"""Writes a strata (HF Llama) model directory as a GGUF file for llama.cpp's peer benchmark.

  to_gguf.py --model DIR --gguf-py LLAMA_CPP_DIR/gguf-py --dtype f32|f16 --out X.gguf

Only scripts/bench_llama_cpp.sh uses it: llama.cpp is the user's own checkout, never a
dependency, so the writer is the checkout's gguf-py. The layout follows that checkout's
convert_hf_to_gguf.py (LlamaModel): the llama architecture's metadata, tensors named
token_embd / blk.N.* / output_norm (no `output`: llama.cpp then reuses token_embd, as a
tied head should), Q and K rows permuted from HF's rotate-half RoPE pairs (i, i + d/2) to
the adjacent pairs llama.cpp rotates, norms kept F32 in an F16 file, and the tokenizer
as a "gpt2" byte-level BPE with the GPT-2 pre-tokenizer (strata's ByteLevel regex).
The weights come through tests/reference/torch_reference.py's reader (F32, F16, BF16,
shards), widened to float32 and then stored in the requested dtype.
"""
import argparse
import importlib
import json
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(message):
    sys.exit("to_gguf.py: " + message)


def import_gguf(gguf_py):
    """gguf's writer and constants, without the package's __init__: that imports its
    SentencePiece vocab and YAML metadata readers, which a byte-level BPE never needs."""
    if not os.path.isfile(os.path.join(gguf_py, "gguf", "gguf_writer.py")):
        fail("%s has no gguf/gguf_writer.py (expected LLAMA_CPP_DIR/gguf-py)" % gguf_py)
    package = types.ModuleType("gguf")
    package.__path__ = [os.path.join(gguf_py, "gguf")]
    sys.modules["gguf"] = package
    return importlib.import_module("gguf.gguf_writer"), importlib.import_module("gguf.constants")


def check_plain_llama(c):
    """llama.cpp's llama graph has none of the options strata's other families add."""
    extras = [name for name, on in (("type %s" % c["type"], c["type"] != "llama"), ("biases", c["qkv_bias"] or c["mlp_bias"]),
                                    ("activation %s" % c["act"], c["act"] != "silu"), ("rope_scaling", c["rope_scaling"]),
                                    ("scale_embeddings", c["scale_embeddings"]), ("norm_weight_plus_one", c["plus_one"])) if on]
    if extras:
        fail("only a plain Llama model converts (this one has %s)" % ", ".join(extras))


def permute_rope_rows(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute: within each head, rows (i, i + d/2)
    become rows (2i, 2i + 1)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def gguf_tensors(c, params):
    """GGUF name -> float32 array, in llama.cpp's layout."""
    t = {"token_embd.weight": params["model.embed_tokens.weight"], "output_norm.weight": params["model.norm.weight"]}
    if not c["tied"]:
        t["output.weight"] = params["lm_head.weight"]
    hf = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
          "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
          "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
    for i in range(c["layers"]):
        for name, source in hf.items():
            t["blk.%d.%s.weight" % (i, name)] = params["model.layers.%d.%s.weight" % (i, source)]
        t["blk.%d.attn_q.weight" % i] = permute_rope_rows(t["blk.%d.attn_q.weight" % i], c["heads"])
        t["blk.%d.attn_k.weight" % i] = permute_rope_rows(t["blk.%d.attn_k.weight" % i], c["kv_heads"])
    return t


def vocabulary(model_dir, vocab_size, token_type):
    """Tokens in id order, their types, the merges and the special ids of tokenizer.json."""
    with open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    model = tj.get("model", {})
    if model.get("type") != "BPE" or (tj.get("pre_tokenizer") or {}).get("type") != "ByteLevel":
        fail("%s/tokenizer.json is not a byte-level BPE (the only tokenizer this converter writes)" % model_dir)
    by_id = {i: s for s, i in model["vocab"].items()}
    special = {a["id"] for a in tj.get("added_tokens", []) if a.get("special")}
    by_id.update({a["id"]: a["content"] for a in tj.get("added_tokens", [])})
    if max(by_id) >= vocab_size:
        fail("tokenizer.json has id %d, beyond the model's vocabulary of %d" % (max(by_id), vocab_size))
    tokens = [by_id.get(i, "[PAD%d]" % i) for i in range(vocab_size)]
    types_ = [token_type.UNUSED if i not in by_id else token_type.CONTROL if i in special else token_type.NORMAL
              for i in range(vocab_size)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return tokens, types_, merges, sorted(special)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="strata / HF Llama model directory")
    ap.add_argument("--gguf-py", required=True, help="the gguf-py directory of a llama.cpp checkout")
    ap.add_argument("--dtype", choices=("f32", "f16"), required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    writer_module, constants = import_gguf(args.gguf_py)
    sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "reference"))
    import torch_reference  # exits 77 with a message if torch is missing

    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    c, params = torch_reference.load_model(args.model)
    params = {name: t.numpy() for name, t in params.items()}
    check_plain_llama(c)
    tokens, token_types, merges, special = vocabulary(args.model, c["vocab"], constants.TokenType)

    w = writer_module.GGUFWriter(args.out, "llama")
    w.add_name(os.path.basename(os.path.normpath(args.model)))
    # The llama architecture's hyperparameters (llama.{context_length, embedding_length, ...}).
    hyper = ((w.add_context_length, cfg["max_position_embeddings"]), (w.add_embedding_length, c["hidden"]),
             (w.add_block_count, c["layers"]), (w.add_feed_forward_length, c["inner"]), (w.add_head_count, c["heads"]),
             (w.add_head_count_kv, c["kv_heads"]), (w.add_key_length, c["head_dim"]), (w.add_value_length, c["head_dim"]),
             (w.add_rope_dimension_count, c["head_dim"]), (w.add_rope_freq_base, c["theta"]),
             (w.add_layer_norm_rms_eps, c["eps"]), (w.add_vocab_size, c["vocab"]))
    for add, value in hyper:
        add(value)
    f16 = args.dtype == "f16"
    w.add_file_type(constants.LlamaFileType.MOSTLY_F16 if f16 else constants.LlamaFileType.ALL_F32)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(token_types)
    w.add_token_merges(merges)
    # BOS/EOS: config.json's ids, else the tokenizer's one special token (<|endoftext|>).
    default = special[0] if len(special) == 1 else None
    for key, add in (("bos_token_id", w.add_bos_token_id), ("eos_token_id", w.add_eos_token_id)):
        if cfg.get(key, default) is not None:
            add(cfg.get(key, default))
    w.add_add_bos_token(False)  # strata scores the text's own tokens; the agreement check uses --bos never

    for name, t in gguf_tensors(c, params).items():
        a = np.ascontiguousarray(t, dtype=np.float32)
        w.add_tensor(name, a.astype(np.float16) if f16 and a.ndim == 2 else a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
