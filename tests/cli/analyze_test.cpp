// `strata analyze` (native/cli/analyze.cpp), through the binary only: a report directory
// written whole (tokens.csv, summary.json, report.html, words.csv with --by word), an old
// one replaced only with --force; every bad model, text, budget, schedule, --out,
// --tolerance or --targets refused by name before anything is written.
#include "cli_harness.h"

#include <algorithm>

namespace strata::cli_test {
namespace {

// A small good run on {tiny} with some options changed: changes are option, value pairs
// that replace the option's value or are added.
std::vector<std::string> analyze(const std::vector<std::string>& changes) {
  std::vector<std::string> args = {"analyze", "--model", "{tiny}", "--text", "{text}", "--budget", "8", "--targets", "4",
                                   "--out", "{out}"};
  for (size_t i = 0; i + 1 < changes.size(); i += 2) {
    const auto at = std::find(args.begin(), args.end(), changes[i]);
    if (at != args.end()) *(at + 1) = changes[i + 1];
    else args.insert(args.end(), {changes[i], changes[i + 1]});
  }
  return args;
}

const CliCase kCases[] = {
    good("analyze_tiny", analyze({}), "report in {out}/report.html", report_files("out")),
    good("analyze_by_word_three_schedules", analyze({"--by", "word", "--schedules", "sequential,hierarchical,dilated"}),
         "words.csv", report_files("out", /*words=*/true)),
    good("analyze_into_an_empty_dir",
         {"analyze", "--model", "{tiny}", "--text", "{text}", "--budget", "4", "--targets", "2", "--out", "{emptydir}"},
         "report in {emptydir}/report.html", report_files("emptydir")),
    good("analyze_force_replaces_an_old_report",
         {"analyze", "--model", "{tiny}", "--text", "{text}", "--budget", "4", "--targets", "2", "--out", "{nonempty}",
          "--force"},
         "report in {nonempty}/report.html", report_files("nonempty"), {"nonempty/keep.txt"}),
    good("analyze_default_model_custom_schedule",
         {"analyze", "--model", "{default}", "--text", "{text}", "--budget", "16", "--targets", "2", "--schedules",
          "sequential,hierarchical,custom:[1,4,{\"offsets\":[1,2,16]}]", "--tolerance", "0.05", "--out", "{out}"},
         "final gap", report_files("out")),

    bad("analyze_missing_model_dir", analyze({"--model", "{absent}"}), "{absent}: not a model directory"),
    bad("analyze_truncated_weights", analyze({"--model", "{truncated}"}), "model.safetensors: truncated"),
    bad("analyze_malformed_config", analyze({"--model", "{badconfig}"}), "config.json: malformed JSON"),
    bad("analyze_empty_text", analyze({"--text", "{empty}"}), "{empty}: the text is empty"),
    bad("analyze_missing_text", analyze({"--text", "{absent}"}), "{absent}: cannot open"),
    bad("analyze_text_shorter_than_the_budget",
        {"analyze", "--model", "{default}", "--text", "{text}", "--budget", "256", "--out", "{out}"},
        "too short for budget L=256"),
    bad("analyze_budget_zero", analyze({"--budget", "0"}), "--budget L=0 must be at least 1"),
    bad("analyze_budget_above_context", analyze({"--budget", "512"}),
        "budget L=512 exceeds the model's context of 256 tokens"),
    bad("analyze_budget_not_a_power_of_2", analyze({"--budget", "100"}),
        "hierarchical needs a budget L that is a power of 2; L=100 is not (nearest: 64 or 128)"),
    bad("analyze_budget_not_a_power_of_3", analyze({"--schedules", "hierarchical:3"}),
        "hierarchical:3 needs a budget L that is a power of 3; L=8 is not"),
    bad("analyze_unknown_schedule", analyze({"--schedules", "sequential,fractal"}), "unknown schedule \"fractal\""),
    bad("analyze_empty_schedule_entry", analyze({"--schedules", "sequential,,hierarchical"}), "an empty entry"),
    bad("analyze_malformed_custom_json", analyze({"--schedules", "custom:[1,2"}), "custom schedule: malformed JSON"),
    bad("analyze_missing_custom_file", analyze({"--schedules", "custom:@{absent}"}), "{absent}: cannot open"),
    bad("analyze_out_not_empty", analyze({"--out", "{nonempty}"}),
        "{nonempty}: exists and is not empty; pass --force to replace it"),
    bad("analyze_out_is_a_file", analyze({"--out", "{text}"}), "{text}: exists and is not a directory"),
    bad("analyze_tolerance_zero", analyze({"--tolerance", "0"}), "--tolerance must be in (0, 1), got 0"),
    bad("analyze_tolerance_one", analyze({"--tolerance", "1"}), "--tolerance must be in (0, 1), got 1"),
    bad("analyze_tolerance_negative", analyze({"--tolerance", "-0.5"}), "--tolerance must be in (0, 1), got -0.5"),
    bad("analyze_tolerance_not_a_number", analyze({"--tolerance", "tight"}), "Could not convert: --tolerance = tight",
        104),
    bad("analyze_targets_zero", analyze({"--targets", "0"}), "--targets must be a number of at least 1 or \"all\", got \"0\""),
    bad("analyze_by_unknown_unit", analyze({"--by", "sentence"}), "--by: sentence not in {word}", 105),
};

INSTANTIATE_TEST_SUITE_P(Analyze, CliTest, testing::ValuesIn(kCases), case_name);

}  // namespace
}  // namespace strata::cli_test
