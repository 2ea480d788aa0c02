// `strata eval` (native/cli/eval.cpp): bits per byte and per token of a text (or of token
// ids, --ids), as a line or JSON, with the BOS policy it ran under (--bos); a bad model
// directory, text, id list, context or --bos is refused by name.
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
    // A given --context is checked, never replaced by the model's (0 and -5 used to be).
    bad("eval_context_zero", {"eval", "--model", "{tiny}", "--text", "{text}", "--context", "0"},
        "context must be in [2, 256] (the model's context), got 0"),
    bad("eval_context_negative", {"eval", "--model", "{tiny}", "--text", "{text}", "--context=-5"},
        "context must be in [2, 256] (the model's context), got -5"),
    // BOS: {default}'s BOS is <|endoftext|> (8191), which no file asks for (auto: off). With
    // it on, every token is scored, the first one too.
    good("eval_bos_auto_follows_the_files", {"eval", "--model", "{default}", "--ids", "{ids}", "--json"},
         "\"decided_by\": \"no file asks for a BOS\""),
    good("eval_bos_always_scores_the_first_token",
         {"eval", "--model", "{default}", "--ids", "{ids}", "--bos", "always", "--json"},
         "\"tokens_scored\": " + std::to_string(kText.size())),
    good("eval_bos_always_json_policy", {"eval", "--model", "{default}", "--ids", "{ids}", "--bos", "always", "--json"},
         "\"bos\": {\n    \"before_every_context\": true,\n    \"decided_by\": \"--bos always\",\n    \"id\": 8191\n  }"),
    good("eval_bos_always_line", {"eval", "--model", "{default}", "--text", "{text}", "--bos", "always", "--context", "16"},
         "BOS 8191 before every context (--bos always), the first token scored)"),
    good("eval_bos_never", {"eval", "--model", "{tiny}", "--text", "{text}", "--bos", "never", "--json"},
         "\"tokens_scored\": " + std::to_string(kText.size() - 1)),
    bad("eval_bos_always_without_a_bos", {"eval", "--model", "{tiny}", "--text", "{text}", "--bos", "always"},
        "--bos always, but no file names a BOS token"),
    bad("eval_bos_always_ids_without_a_tokenizer", {"eval", "--model", "{sharded}", "--ids", "{ids}", "--bos", "always"},
        "--bos always, but no file names a BOS token"),
    bad("eval_bos_unknown", {"eval", "--model", "{tiny}", "--text", "{text}", "--bos", "sometimes"},
        "--bos must be auto, always or never, not \"sometimes\""),
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
