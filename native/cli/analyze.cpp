// `strata analyze`: the paper's analysis of one text under several inference schedules.
// The run itself is the core's (analysis_run.h: targets, sweep, rows, summary); this file
// parses and checks the arguments, loads the files, and writes, into --out,
//   tokens.csv    one row per target × schedule × iteration (long format)
//   words.csv     with --by word: one row per target word × schedule × iteration
//   summary.json  every number of the report (core/report.h)
//   report.html   the figures as inline SVG, with a few plain sentences under each
// The output is atomic: everything is written into OUT.tmp-PID next to --out and renamed
// into place at the end; on any error or Ctrl-C the temporary directory is removed.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "commands.h"
#include "progress.h"
#include "strata/analysis_run.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/report.h"
#include "strata/schedule.h"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};
extern "C" void on_analyze_signal(int) { g_interrupted = true; }

struct AnalyzeArgs {
  std::string model, text, ids, out, schedules = "sequential,hierarchical", by;
  int budget = 256, batch = 64;
  int64_t targets = 100, stride = 0;
  double tolerance = 1e-2;
  bool with_empty = false, force = false;
};

// Splits "sequential,custom:[1,2,{\"offsets\":[1,4]}]" at the commas outside brackets and
// braces, so a custom schedule's JSON may contain commas.
std::vector<std::string> split_specs(const std::string& list) {
  std::vector<std::string> specs;
  std::string cur;
  int depth = 0;
  for (char c : list) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      specs.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  specs.push_back(cur);
  for (std::string& s : specs) {
    const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
    if (s.empty()) throw Error("--schedules: an empty entry in \"" + list + "\"");
  }
  return specs;
}

// Moves the finished temporary directory to `out`; an existing `out` (empty, or any with
// --force, checked before the sweep) is replaced.
void move_into_place(const std::string& tmp, const std::string& out) {
  std::error_code ec;
  if (fs::exists(out, ec)) {
    if (fs::is_empty(out, ec)) {
      fs::remove(out, ec);
    } else {
      const std::string old = out + ".old-" + std::to_string(::getpid());
      fs::rename(out, old, ec);
      if (ec) throw Error(out + ": cannot move the old report aside (" + ec.message() + ")");
      fs::rename(tmp, out, ec);
      if (ec) {
        std::error_code ignored;
        fs::rename(old, out, ignored);
        throw Error(out + ": cannot move the new report into place (" + ec.message() + ")");
      }
      fs::remove_all(old, ec);
      return;
    }
  }
  fs::rename(tmp, out, ec);
  if (ec) throw Error(out + ": cannot move the report into place (" + ec.message() + ")");
}

int run_analyze(AnalyzeArgs a) {
  // 1. Everything that needs no file: refuse bad arguments before loading anything.
  if (a.text.empty() == a.ids.empty()) throw Error("analyze: give --text FILE or --ids FILE");
  if (!a.ids.empty() && a.by == "word") throw Error("--by word needs --text (words are found in the text)");
  if (a.targets < 1) throw Error("--targets must be at least 1, got " + std::to_string(a.targets));
  if (!(a.tolerance > 0 && a.tolerance < 1)) {
    char got[32];
    std::snprintf(got, sizeof got, "%g", a.tolerance);
    throw Error(std::string("--tolerance must be in (0, 1), got ") + got);
  }
  if (a.batch < 1) throw Error("--batch must be at least 1");
  if (a.stride < 0) throw Error("--stride must not be negative");
  if (a.budget < 1) throw Error("--budget L=" + std::to_string(a.budget) + " must be at least 1");
  const std::vector<std::string> specs = split_specs(a.schedules);
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (const std::string& spec : specs) schedules.push_back(make_schedule(spec));  // unknown names, bad JSON
  while (a.out.size() > 1 && a.out.back() == '/') a.out.pop_back();
  if (a.out.empty()) throw Error("--out must name a directory");
  std::error_code ec;
  if (fs::exists(a.out, ec)) {
    if (!fs::is_directory(a.out, ec)) throw Error(a.out + ": exists and is not a directory");
    if (!fs::is_empty(a.out, ec) && !a.force)
      throw Error(a.out + ": exists and is not empty; pass --force to replace it, or choose another --out");
  }

  // 2. Model and text.
  const auto [weights, tok, checkpoint] = load_model(a.model);
  const std::string text = a.ids.empty() ? read_text(a.text) : std::string();
  const std::vector<int32_t> tokens = a.ids.empty() ? tok.encode(text) : read_ids(a.ids, weights->config.vocab_size);
  const std::string& input = a.ids.empty() ? a.text : a.ids;
  const int context = weights->config.max_position_embeddings;
  for (const auto& s : schedules) validate_budget(*s, a.budget, context, a.budget, weights->config.position == PositionEncoding::kRoPE);
  if (int64_t(tokens.size()) < int64_t(a.budget) + 1)
    throw Error(input + ": " + std::to_string(tokens.size()) + " tokens, too short for budget L=" +
                std::to_string(a.budget) + ": it needs at least L+1 = " + std::to_string(a.budget + 1) +
                " (L tokens of context before the first target)");
  if (a.with_empty && tok.bos_id() < 0)
    throw Error("--with-empty needs a BOS token, and " + a.model + "/tokenizer.json has no <|endoftext|>");

  // 3. Targets (positions t >= L, or every token of the chosen words) and the schedules' shapes.
  AnalysisOptions o;
  o.budget = a.budget;
  o.schedules = specs;
  o.targets = a.targets;
  o.stride = a.stride;
  o.batch = a.batch;
  o.with_empty = a.with_empty;
  o.by_word = a.by == "word";
  o.tolerance = a.tolerance;
  o.model_dir = a.model;
  o.text_path = input;
  o.text_bytes = int64_t(text.size());
  const AnalysisPlan plan = plan_analysis(o, tok, tokens);
  const int64_t n_targets = plan.targets();

  // 4. The sweep, writing into a temporary directory next to --out.
  const std::string tmp = a.out + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw Error(tmp + ": cannot create the temporary output directory (" + ec.message() + ")");
  g_interrupted = false;
  auto old_int = std::signal(SIGINT, on_analyze_signal);
  auto old_term = std::signal(SIGTERM, on_analyze_signal);
  auto restore = [&] {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  };
  try {
    std::ofstream csv(tmp + "/tokens.csv", std::ios::binary);
    if (!csv) throw Error(tmp + "/tokens.csv: cannot create");
    std::ofstream words_csv;
    if (o.by_word) {
      words_csv.open(tmp + "/words.csv", std::ios::binary);
      if (!words_csv) throw Error(tmp + "/words.csv: cannot create");
    }

    ProgressBar bar("analyze", plan.total_token_forwards, "tok-fwd");
    int64_t forwards_done = 0, targets_done = 0;
    int current_schedule = -1;
    auto on_row = [&](const SweepRow& r) {
      if (g_interrupted) throw Error("interrupted; no report written");
      // Progress in token-forwards, row by row (a batch of long sequential targets takes a
      // while), so the rate and ETA stay honest across schedules of very different cost.
      forwards_done += std::max(1, r.context_len);
      if (r.schedule != current_schedule) current_schedule = r.schedule, targets_done = 0;
      if (r.iteration + 1 == int(plan.context_len[size_t(r.schedule)].size())) ++targets_done;
      bar.update(forwards_done, "| " + plan.labels[size_t(r.schedule)] + " " + std::to_string(targets_done) + "/" +
                                    std::to_string(n_targets) + " targets");
    };
    std::fprintf(stderr, "strata analyze: %lld targets (t >= %d), %zu schedules, %lld token-forwards\n",
                 (long long)n_targets, a.budget, specs.size(), (long long)plan.total_token_forwards);
    Transformer model(weights);
    const nlohmann::ordered_json summary =
        run_analysis(model, tok, tokens, plan, {.tokens_csv = &csv, .words_csv = o.by_word ? &words_csv : nullptr, .on_row = on_row});
    csv.close();
    if (!csv) throw Error(tmp + "/tokens.csv: write failed (disk full?)");
    if (o.by_word) {
      words_csv.close();
      if (!words_csv) throw Error(tmp + "/words.csv: write failed (disk full?)");
    }
    write_file_atomic(tmp + "/summary.json", summary.dump(2) + "\n");
    write_file_atomic(tmp + "/report.html", make_report_html(summary));
    if (g_interrupted) throw Error("interrupted; no report written");
    move_into_place(tmp, a.out);
    restore();

    // A few lines on stdout: where the report is and the headline numbers.
    std::printf("strata analyze: report in %s/report.html (summary.json, tokens.csv%s)\n", a.out.c_str(),
                o.by_word ? ", words.csv" : "");
    std::fputs(summary_headline(summary).c_str(), stdout);
    return 0;
  } catch (...) {
    restore();
    fs::remove_all(tmp, ec);
    std::fprintf(stderr, "\n");
    throw;
  }
}

}  // namespace

Subcommand add_analyze(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Sweep inference schedules over a text and write the analysis report");
  auto a = std::make_shared<AnalyzeArgs>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  auto* text = cmd->add_option("--text", a->text, "Text file (targets are positions t >= L)");
  cmd->add_option("--ids", a->ids, "A JSON array of token ids instead of a text (tokens.csv still shows each token's text)")
      ->excludes(text);
  cmd->add_option("--budget", a->budget, "Context budget L (a power of 2 for hierarchical and dilated)")->capture_default_str();
  cmd->add_option("--targets", a->targets, "Number of target tokens (words with --by word)")->capture_default_str();
  cmd->add_option("--out", a->out, "Output directory (created; must not exist or be empty, unless --force)")->required();
  cmd->add_option("--schedules", a->schedules,
                  "Comma-separated schedules: sequential, hierarchical, hierarchical:<base>, dilated, custom:<json>, "
                  "custom:@<file.json>")
      ->capture_default_str();
  cmd->add_option("--stride", a->stride, "Every M-th position (word with --by word) from t = L; 0 spreads targets evenly")
      ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Targets per forward pass")->capture_default_str();
  cmd->add_option("--tolerance", a->tolerance, "Relative rank tolerance tau, in (0, 1)")->capture_default_str();
  cmd->add_option("--by", a->by, "Also aggregate by word: choose whole words as targets and write words.csv")
      ->check(CLI::IsMember({"word"}));
  cmd->add_flag("--with-empty", a->with_empty, "Prepend the empty-context iteration (a BOS token only)");
  cmd->add_flag("--force", a->force, "Replace a non-empty --out");
  return {cmd, [a] { return run_analyze(*a); }};
}

}  // namespace strata::cli
