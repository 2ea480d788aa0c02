// `strata info` and `strata tokenize` (native/cli/info.cpp): a model directory's config,
// size and tokenizer; a text's token ids. Each bad model directory or text is refused by
// name.
#include "cli_harness.h"

namespace strata::cli_test {
namespace {

const CliCase kCases[] = {
    good("info_default_model", {"info", "--model", "{default}"}, "parameters: 5639424"),
    good("info_tiny_model", {"info", "--model", "{tiny}"}, "tokenizer: 256 tokens (0 merges)"),
    bad("info_without_model", {"info"}, "--model is required", 106),
    bad("info_missing_model_dir", {"info", "--model", "{absent}"}, "{absent}: not a model directory (no such directory)"),
    bad("info_dir_without_model", {"info", "--model", "{nonempty}"}, "not a model directory (config.json missing)"),
    bad("info_truncated_weights", {"info", "--model", "{truncated}"}, "model.safetensors: truncated"),
    bad("info_malformed_config", {"info", "--model", "{badconfig}"}, "config.json: malformed JSON"),

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
