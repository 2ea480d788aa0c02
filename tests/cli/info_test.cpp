// `strata info` and `strata tokenize` (native/cli/info.cpp): a model directory's config,
// size and tokenizer; a text's token ids. Each bad model directory or text is refused by
// name.
#include "cli_harness.h"

namespace strata::cli_test {
namespace {

const CliCase kCases[] = {
    good("info_default_model", {"info", "--model", "{default}"}, "parameters: 7212288"),
    good("info_tiny_model", {"info", "--model", "{tiny}"}, "tokenizer: 256 tokens (0 merges)"),
    bad("info_without_model", {"info"}, "--model is required", 106),
    bad("info_missing_model_dir", {"info", "--model", "{absent}"}, "{absent}: not a model directory (no such directory)"),
    bad("info_dir_without_model", {"info", "--model", "{nonempty}"}, "not a model directory (config.json missing)"),
    bad("info_truncated_weights", {"info", "--model", "{truncated}"}, "model.safetensors: truncated"),
    bad("info_malformed_config", {"info", "--model", "{badconfig}"}, "config.json: malformed JSON"),
    good("info_architecture", {"info", "--model", "{tiny}"}, "architecture: llama: RMSNorm, RoPE, SwiGLU"),
    good("info_gpt2", {"info", "--model", "{gpt2}"}, "architecture: gpt2: LayerNorm, learned positions, gelu_new MLP"),
    good("info_sharded", {"info", "--model", "{sharded}"},
         "stored: F32 in 2 files (model-00001-of-00002.safetensors, model-00002-of-00002.safetensors"),
    good("info_memory", {"info", "--model", "{tiny}"}, "MiB owned"),
    // The default model is stored in F16: held so, mapped, unless --dtype says otherwise.
    good("info_held_as_stored", {"info", "--model", "{default}"}, "memory: matrices held in F16; 13.8 MiB mapped"),
    good("info_dtype_f32", {"info", "--model", "{default}", "--dtype", "f32"}, "matrices held in F32; 0.0 MiB mapped"),
    good("info_dtype_bf16", {"info", "--model", "{default}", "--dtype", "BF16"}, "matrices held in BF16; 0.0 MiB mapped"),
    bad("info_dtype_unknown", {"info", "--model", "{default}", "--dtype", "f8"},
        "--dtype: unknown dtype \"f8\" (f32, f16 or bf16)"),
    good("info_without_tokenizer", {"info", "--model", "{sharded}"}, "tokenizer: none (no tokenizer.json)"),

    good("tokenize_default_model", {"tokenize", "--model", "{default}", "--text", "{text}"}, "["),
    good("tokenize_bytes", {"tokenize", "--model", "{tiny}", "--text", "{text}"}, "[73,116,32,105,115,"),  // "It is"
    bad("tokenize_missing_model_dir", {"tokenize", "--model", "{absent}", "--text", "{text}"},
        "tokenizer.json: cannot open"),
    bad("tokenize_missing_text", {"tokenize", "--model", "{tiny}", "--text", "{absent}"}, "{absent}: cannot open"),
    bad("tokenize_empty_text", {"tokenize", "--model", "{tiny}", "--text", "{empty}"}, "the text is empty"),
};

INSTANTIATE_TEST_SUITE_P(Info, CliTest, testing::ValuesIn(kCases), case_name);

}  // namespace
}  // namespace strata::cli_test
