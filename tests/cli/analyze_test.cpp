// `strata analyze` (native/cli/analyze.cpp), through the binary only: a report directory
// written whole (tokens.csv, summary.json, report.html, words.csv with --by word), an old
// one replaced only with --force; every bad model, text, budget, schedule, --out,
// --tolerance, --targets, --span or --bos refused by name before anything is written.
#include "cli_harness.h"

#include <algorithm>
#include <sstream>

#include "strata/file_util.h"

namespace strata::cli_test {
namespace {

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `args` with some options changed: changes are option, value pairs that replace the
// option's value or are added.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& changes) {
  for (size_t i = 0; i + 1 < changes.size(); i += 2) {
    const auto at = std::find(args.begin(), args.end(), changes[i]);
    if (at != args.end()) *(at + 1) = changes[i + 1];
    else args.insert(args.end(), {changes[i], changes[i + 1]});
  }
  return args;
}

// A small good run on {tiny} with some options changed.
std::vector<std::string> analyze(const std::vector<std::string>& changes) {
  return with({"analyze", "--model", "{tiny}", "--text", "{text}", "--budget", "8", "--targets", "4", "--out", "{out}"},
              changes);
}

// The same run with every position of a span as its targets.
std::vector<std::string> span(const std::vector<std::string>& changes) {
  return with({"analyze", "--model", "{tiny}", "--text", "{text}", "--budget", "8", "--span", "8:40", "--out", "{out}"},
              changes);
}

// The same run from token ids ({ids}: the text's tokens) instead of the text.
std::vector<std::string> analyze_ids(std::vector<std::string> changes) {
  changes.insert(changes.begin(), {"--ids", "{ids}"});
  std::vector<std::string> args = analyze(changes);
  const auto text = std::find(args.begin(), args.end(), "--text");
  args.erase(text, text + 2);
  return args;
}

const CliCase kCases[] = {
    good("analyze_tiny", analyze({}), "report in {out}/report.html", report_files("out")),
    good("analyze_dtype_bf16", analyze({"--dtype", "bf16"}), "report in {out}/report.html", report_files("out")),
    bad("analyze_dtype_unknown", analyze({"--dtype", "fp8"}), "--dtype: unknown dtype \"fp8\""),
    good("analyze_ids", analyze_ids({}), "report in {out}/report.html", report_files("out")),
    // A checkpoint without tokenizer.json (the synthetic Gemma-2B's case): ids are enough.
    good("analyze_ids_without_a_tokenizer", analyze_ids({"--model", "{sharded}"}), "report in {out}/report.html",
         report_files("out")),
    good("analyze_gpt2_contiguous_windows", analyze_ids({"--model", "{gpt2}"}), "report in {out}/report.html",
         report_files("out")),
    bad("analyze_gpt2_refuses_dilated", analyze_ids({"--model", "{gpt2}", "--schedules", "sequential,dilated"}),
        "dilated: its windows have gaps, which need relative positions (RoPE), but this model has learned absolute "
        "position embeddings"),
    bad("analyze_ids_by_word", analyze_ids({"--by", "word"}), "--by word needs --text"),
    bad("analyze_ids_out_of_vocabulary", analyze_ids({"--ids", "{badids}"}), "{badids}: 300 is not a token id in [0, 256)"),
    bad("analyze_neither_text_nor_ids", {"analyze", "--model", "{tiny}", "--out", "{out}"}, "give --text FILE or --ids FILE"),
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

    good("analyze_span", span({}), "report in {out}/report.html", report_files("out")),
    good("analyze_span_to_the_end", span({"--span", "200:"}), "report in {out}/report.html", report_files("out")),
    good("analyze_targets_all", analyze({"--targets", "all", "--budget", "64"}), "report in {out}/report.html",
         report_files("out")),
    good("analyze_span_no_prefix_sharing", concat(span({}), {"--no-prefix-sharing"}), "report in {out}/report.html",
         report_files("out")),
    good("analyze_default_model_bos_always",
         {"analyze", "--model", "{default}", "--text", "{text}", "--budget", "16", "--span", "16:48", "--bos", "always",
          "--with-empty", "--out", "{out}"},
         "report in {out}/report.html", report_files("out")),

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
    bad("analyze_targets_not_a_number", analyze({"--targets", "many"}), "--targets must be a number of at least 1 or \"all\""),
    bad("analyze_targets_all_with_stride", analyze({"--targets", "all", "--stride", "3"}),
        "--targets all takes every position; it does not combine with --stride"),
    bad("analyze_span_and_targets", analyze({"--span", "8:20"}), "--span and --targets both choose the targets; give one"),
    bad("analyze_span_malformed", span({"--span", "8-20"}), "--span \"8-20\": expected FROM:TO"),
    bad("analyze_span_empty", span({"--span", "20:20"}), "--span 20:20 is empty"),
    bad("analyze_span_before_the_budget", span({"--span", "2:20"}), "targets start at t = L = 8"),
    bad("analyze_span_past_the_text", span({"--span", "8:100000"}), "--span 8:100000: the text has only"),
    bad("analyze_span_with_stride", span({"--stride", "2"}), "--span takes every position of the span"),
    bad("analyze_bos_unknown", analyze({"--bos", "sometimes"}), "--bos must be auto, always or never, not \"sometimes\""),
    bad("analyze_bos_always_without_a_bos", analyze({"--bos", "always"}), "--bos always, but no file names a BOS token"),
    bad("analyze_by_unknown_unit", analyze({"--by", "sentence"}), "--by: sentence not in {word}", 105),
};

INSTANTIATE_TEST_SUITE_P(Analyze, CliTest, testing::ValuesIn(kCases), case_name);

// The BOS policy in every output: summary.json, report.html's sentence, and the tables'
// bos_id column (every row with --bos always; only the empty iteration's with never).
TEST(AnalyzeTest, BosPolicyInEveryOutput) {
  for (const char* mode : {"always", "never"}) {
    build_workspace();
    const CliRun run = run_strata({"analyze", "--model", "{default}", "--text", "{text}", "--budget", "8", "--span", "8:12",
                                   "--bos", mode, "--with-empty", "--by", "word", "--out", "{out}"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const bool on = std::string(mode) == "always";
    const std::string out = workspace_path("out");
    EXPECT_NE(read_file(out + "/summary.json").find("\"decided_by\": \"--bos " + std::string(mode) + "\""),
              std::string::npos);
    const std::string sentence = on ? "BOS policy: a BOS token (id 8191) at position 0 before every context (decided by --bos always)."
                                    : "BOS policy: no BOS before the contexts (decided by --bos never).";
    EXPECT_NE(read_file(out + "/report.html").find(sentence), std::string::npos) << mode;
    for (const char* table : {"tokens.csv", "words.csv"}) {
      std::istringstream lines(read_file(out + "/" + table));
      std::string line;
      std::getline(lines, line);
      EXPECT_TRUE(line.ends_with(",context_len,surprisal_bits,bos_id") ||
                  line.ends_with(",token_forwards,flops,bos_id")) << line;
      int rows = 0;
      while (std::getline(lines, line)) {
        ++rows;
        const bool empty_iteration = line.find(",0,0,") != std::string::npos;  // iteration 0, context_len 0
        EXPECT_TRUE(line.ends_with(on || empty_iteration ? ",8191" : ",")) << table << ": " << line;
      }
      EXPECT_GT(rows, 0) << table;
    }
  }
}

}  // namespace
}  // namespace strata::cli_test
