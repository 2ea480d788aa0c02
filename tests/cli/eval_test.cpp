// `strata eval` (native/cli/eval.cpp): bits per byte and per token of a text (or of token
// ids, --ids), as a line or JSON; a bad model directory, text, id list or context is refused
// by name.
#include "cli_harness.h"

namespace strata::cli_test {
namespace {

const CliCase kCases[] = {
    // One token per byte under {tiny}: every byte after the first is scored.
    good("eval_tiny_json", {"eval", "--model", "{tiny}", "--text", "{text}", "--json"},
         "\"tokens_scored\": " + std::to_string(kText.size() - 1)),
    good("eval_default_model_short_context", {"eval", "--model", "{default}", "--text", "{text}", "--context", "16"},
         "bits/byte"),
    good("eval_dtype_bf16", {"eval", "--model", "{default}", "--text", "{text}", "--context", "16", "--dtype", "bf16"},
         "bits/byte"),
    bad("eval_dtype_unknown", {"eval", "--model", "{tiny}", "--text", "{text}", "--dtype", "int8"},
        "--dtype: unknown dtype \"int8\""),
    bad("eval_missing_model_dir", {"eval", "--model", "{absent}", "--text", "{text}"}, "not a model directory"),
    bad("eval_truncated_weights", {"eval", "--model", "{truncated}", "--text", "{text}"}, "model.safetensors: truncated"),
    bad("eval_malformed_config", {"eval", "--model", "{badconfig}", "--text", "{text}"}, "config.json: malformed JSON"),
    bad("eval_empty_text", {"eval", "--model", "{tiny}", "--text", "{empty}"}, "{empty}: the text is empty"),
    bad("eval_missing_text", {"eval", "--model", "{tiny}", "--text", "{absent}"}, "{absent}: cannot open"),
    bad("eval_context_above_model", {"eval", "--model", "{tiny}", "--text", "{text}", "--context", "257"},
        "context must be in [2, 256]"),
    bad("eval_context_one", {"eval", "--model", "{tiny}", "--text", "{text}", "--context", "1"},
        "context must be in [2, 256]"),
    bad("eval_context_not_a_number", {"eval", "--model", "{tiny}", "--text", "{text}", "--context", "lots"},
        "--context", 104),
    // Token ids instead of a text: the same tokens give the same figure; no tokenizer needed.
    good("eval_ids_json", {"eval", "--model", "{tiny}", "--ids", "{ids}", "--json"},
         "\"tokens_scored\": " + std::to_string(kText.size() - 1)),
    good("eval_ids_bits_per_token", {"eval", "--model", "{tiny}", "--ids", "{ids}", "--json"}, "\"bits_per_token\": "),
    good("eval_ids_sharded_without_tokenizer", {"eval", "--model", "{sharded}", "--ids", "{ids}"}, "bits/token ("),
    good("eval_ids_gpt2", {"eval", "--model", "{gpt2}", "--ids", "{ids}", "--context", "64"}, "bits/token"),
    bad("eval_ids_out_of_vocabulary", {"eval", "--model", "{tiny}", "--ids", "{badids}"},
        "{badids}: 300 is not a token id in [0, 256)"),
    bad("eval_ids_not_json", {"eval", "--model", "{tiny}", "--ids", "{text}"}, "{text}: malformed JSON"),
    bad("eval_neither_text_nor_ids", {"eval", "--model", "{tiny}"}, "give --text FILE or --ids FILE"),
    bad("eval_text_without_tokenizer", {"eval", "--model", "{sharded}", "--text", "{text}"}, "tokenizer.json: cannot open"),
};

INSTANTIATE_TEST_SUITE_P(Eval, CliTest, testing::ValuesIn(kCases), case_name);

}  // namespace
}  // namespace strata::cli_test
