// `strata infer` (native/cli/infer.cpp): one target's iterations under one schedule, with
// the budget the schedule picks when none is given and the BOS policy (--bos); bad
// schedules, budgets, targets, --top-k and --bos are refused by name.
#include "cli_harness.h"

namespace strata::cli_test {
namespace {

// {tiny} reads one token per byte, so the last target of {text} has kText.size() - 1
// tokens before it and the model's context of 256 bounds the budget.
const CliCase kCases[] = {
    good("infer_hierarchical", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "100", "--budget", "8"},
         "schedule hierarchical, budget 8"),
    good("infer_dtype_f16", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "100", "--budget", "8",
                             "--dtype", "f16"},
         "schedule hierarchical, budget 8"),
    bad("infer_dtype_unknown", {"infer", "--model", "{tiny}", "--text", "{text}", "--dtype", "half"},
        "--dtype: unknown dtype \"half\""),
    // The regression: without --budget, hierarchical:3 picked the largest power of 2 that
    // fits (256) and then refused it as not a power of 3; the schedule picks 243 now.
    good("infer_hierarchical_base_3_picks_its_own_budget",
         {"infer", "--model", "{tiny}", "--text", "{text}", "--schedule", "hierarchical:3"},
         "schedule hierarchical:3, budget 243"),
    good("infer_sequential_default_budget_for_a_short_history",
         {"infer", "--model", "{tiny}", "--text", "{text}", "--schedule", "sequential", "--target", "20"}, "budget 16"),
    good("infer_custom_json", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "50", "--schedule",
                               "custom:[1,3,{\"offsets\":[1,2,4]}]", "--json"},
         "\"budget\": 4"),
    good("infer_default_model_dilated", {"infer", "--model", "{default}", "--text", "{text}", "--target", "40",
                                         "--schedule", "dilated", "--budget", "16"},
         "schedule dilated, budget 16"),

    good("infer_bos_auto_follows_the_files", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "40",
                                              "--budget", "8"},
         "budget 8, no BOS (no file asks for a BOS)"),
    good("infer_bos_always", {"infer", "--model", "{default}", "--text", "{text}", "--target", "40", "--budget", "16",
                              "--bos", "always"},
         "budget 16, BOS 8191 before every context (--bos always)"),
    good("infer_bos_always_json", {"infer", "--model", "{default}", "--text", "{text}", "--target", "40", "--budget",
                                   "16", "--bos", "always", "--json"},
         "\"before_every_context\": true"),
    bad("infer_bos_budget_fills_the_context",
        {"infer", "--model", "{default}", "--text", "{text}", "--budget", "256", "--bos", "always"},
        "with BOS at position 0, budget L=256 needs 257 positions, more than the model's context of 256; use L <= 255"),
    bad("infer_bos_always_without_a_bos", {"infer", "--model", "{tiny}", "--text", "{text}", "--bos", "always"},
        "--bos always, but no file names a BOS token"),
    bad("infer_bos_unknown", {"infer", "--model", "{tiny}", "--text", "{text}", "--bos", "maybe"},
        "--bos must be auto, always or never, not \"maybe\""),
    // Given values are checked, never replaced by the defaults (0 and -5 used to be).
    bad("infer_budget_zero", {"infer", "--model", "{tiny}", "--text", "{text}", "--budget", "0"},
        "budget L=0 must be at least 1"),
    bad("infer_target_negative", {"infer", "--model", "{tiny}", "--text", "{text}", "--target=-5"},
        "--target must be a token position (0 or more), got -5"),
    bad("infer_top_k_zero", {"infer", "--model", "{tiny}", "--text", "{text}", "--top-k", "0"},
        "--top-k must be at least 1, got 0"),
    bad("infer_missing_model_dir", {"infer", "--model", "{absent}", "--text", "{text}"}, "not a model directory"),
    bad("infer_truncated_weights", {"infer", "--model", "{truncated}", "--text", "{text}"},
        "model.safetensors: truncated"),
    bad("infer_malformed_config", {"infer", "--model", "{badconfig}", "--text", "{text}"}, "config.json: malformed JSON"),
    bad("infer_empty_text", {"infer", "--model", "{tiny}", "--text", "{empty}"}, "the text is empty"),
    bad("infer_unknown_schedule", {"infer", "--model", "{tiny}", "--text", "{text}", "--schedule", "fractal"},
        "unknown schedule \"fractal\""),
    bad("infer_malformed_custom_json", {"infer", "--model", "{tiny}", "--text", "{text}", "--schedule", "custom:[1,2"},
        "custom schedule: malformed JSON"),
    bad("infer_budget_not_a_power_of_2", {"infer", "--model", "{tiny}", "--text", "{text}", "--budget", "100"},
        "hierarchical needs a budget L that is a power of 2; L=100 is not"),
    bad("infer_budget_not_a_power_of_3",
        {"infer", "--model", "{tiny}", "--text", "{text}", "--schedule", "hierarchical:3", "--budget", "256"},
        "hierarchical:3 needs a budget L that is a power of 3; L=256 is not (nearest: 243 or 729)"),
    bad("infer_budget_above_context", {"infer", "--model", "{tiny}", "--text", "{text}", "--budget", "512"},
        "budget L=512 exceeds the model's context of 256 tokens"),
    bad("infer_budget_above_history", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "10", "--budget", "16"},
        "target t=10 has only 10 tokens before it, fewer than the budget L=16"),
    bad("infer_target_past_the_text", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "5000"},
        "target position 5000 outside the text"),
    bad("infer_target_without_history", {"infer", "--model", "{tiny}", "--text", "{text}", "--target", "0"},
        "the target has no tokens before it"),
};

INSTANTIATE_TEST_SUITE_P(Infer, CliTest, testing::ValuesIn(kCases), case_name);

}  // namespace
}  // namespace strata::cli_test
