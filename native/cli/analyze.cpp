// `strata analyze`: the paper's analysis of one text under several inference schedules.
// The run itself is the core's (analysis_run.h: targets, sweep, rows, summary); this file
// parses and checks the arguments, loads the files, and writes, into --out,
//   tokens.csv    one row per target × schedule × iteration (long format)
//   words.csv     with --by word: one row per target word × schedule × iteration
//   summary.json  every number of the report (core/report.h)
//   report.html   the figures as inline SVG, with a few plain sentences under each
// Targets: --targets N (contiguous blocks when a schedule shares passes, else spread),
// --targets all, --span FROM:TO, --stride M, --by word. --no-prefix-sharing runs every
// schedule target by target. --bos auto|always|never: a BOS before every context (auto:
// what the model directory's files ask for, bos_policy.h).
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
#include "strata/bos_policy.h"
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
  std::string model, text, ids, out, schedules = "sequential,hierarchical", by, targets = "100", span, bos = "auto";
  int budget = 256, batch = 64;
  int64_t stride = 0;
  double tolerance = 1e-2;
  bool with_empty = false, force = false, no_prefix_sharing = false;
  bool targets_given = false, stride_given = false;
};

// A non-negative integer, all of `text`, or -1.
int64_t parse_count(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(text);
}

// "FROM:TO" or "FROM:" (to the end of the text): token positions, TO excluded.
std::pair<int64_t, int64_t> parse_span(const std::string& span) {
  const size_t colon = span.find(':');
  const int64_t from = colon == std::string::npos ? -1 : parse_count(span.substr(0, colon));
  const std::string rest = colon == std::string::npos ? "" : span.substr(colon + 1);
  const int64_t to = rest.empty() ? -1 : parse_count(rest);
  if (from < 0 || (!rest.empty() && to < 0))
    throw Error("--span \"" + span + "\": expected FROM:TO (token positions, TO excluded) or FROM: (to the end)");
  if (to >= 0 && to <= from) throw Error("--span " + span + " is empty (TO must exceed FROM)");
  return {from, to};
}

std::string with_thousands(double v) {
  char buf[32];
  if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

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
  const bool all_targets = a.targets == "all";
  const int64_t n_targets_asked = all_targets ? 0 : parse_count(a.targets);
  if (!all_targets && n_targets_asked < 1)
    throw Error("--targets must be a number of at least 1 or \"all\", got \"" + a.targets + "\"");
  std::pair<int64_t, int64_t> span{-1, -1};
  if (!a.span.empty()) {
    span = parse_span(a.span);
    if (a.targets_given) throw Error("--span and --targets both choose the targets; give one");
    if (a.stride_given) throw Error("--span takes every position of the span; it does not combine with --stride");
  }
  if (all_targets && a.stride_given) throw Error("--targets all takes every position; it does not combine with --stride");
  if (!(a.tolerance > 0 && a.tolerance < 1)) {
    char got[32];
    std::snprintf(got, sizeof got, "%g", a.tolerance);
    throw Error(std::string("--tolerance must be in (0, 1), got ") + got);
  }
  if (a.batch < 1) throw Error("--batch must be at least 1");
  if (a.stride < 0) throw Error("--stride must not be negative");
  if (a.budget < 1) throw Error("--budget L=" + std::to_string(a.budget) + " must be at least 1");
  const BosMode bos_mode = parse_bos_mode(a.bos);
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
  // BOS before every context: auto takes the model directory's own policy (bos_policy.h).
  const BosPolicy bos = resolve_bos_policy(a.model, tok, bos_mode);
  if (a.with_empty && bos.bos_id < 0)
    throw Error("--with-empty needs a BOS token, and no file in " + a.model + " names one");

  // 3. Targets (positions t >= L, or every token of the chosen words) and the schedules' shapes.
  AnalysisOptions o;
  o.budget = a.budget;
  o.schedules = specs;
  o.targets = std::max<int64_t>(n_targets_asked, 1);
  o.all_targets = all_targets;
  o.span_from = span.first;
  o.span_to = span.second;
  o.stride = a.stride;
  o.batch = a.batch;
  o.with_empty = a.with_empty;
  o.bos = bos.add_bos;
  o.bos_id = bos.bos_id;
  o.bos_reason = bos.reason;
  o.prefix_sharing = !a.no_prefix_sharing;
  o.by_word = a.by == "word";
  o.tolerance = a.tolerance;
  o.model_dir = a.model;
  o.text_path = input;
  o.text_bytes = int64_t(text.size());
  const AnalysisPlan plan = plan_analysis(o, tok, tokens, weights->config);
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

    // Progress in what the sweep runs (token-forwards spent), after every forward call,
    // beside the schedules' own cost of the targets finished (the paper's measure).
    ProgressBar bar("analyze", plan.spent_token_forwards, "tok-fwd");
    const int64_t n_schedules = int64_t(specs.size());
    auto on_row = [&](const SweepRow&) {
      if (g_interrupted) throw Error("interrupted; no report written");
    };
    auto on_progress = [&](const SweepProgress& p) {
      if (g_interrupted) throw Error("interrupted; no report written");
      const double saving = p.spent_token_forwards > 0 ? double(p.own_token_forwards) / double(p.spent_token_forwards) : 0.0;
      char status[160];
      std::snprintf(status, sizeof status, "| own %s tok-fwd (%.1fx) | %lld/%lld targets", with_thousands(double(p.own_token_forwards)).c_str(),
                    saving, (long long)(p.done / n_schedules), (long long)n_targets);
      bar.update(p.spent_token_forwards, status);
    };
    std::string paths;
    for (size_t i = 0; i < plan.passes.per_target.size(); ++i)
      paths += "\n  " + plan.labels[size_t(plan.passes.per_target[i])] + " per target: " + plan.passes.why_per_target[i];
    std::fprintf(stderr,
                 "strata analyze: %lld targets (%s), %zu schedules; the schedules' own cost %s token-forwards, the sweep "
                 "runs %s (%.1fx less)%s\n",
                 (long long)n_targets, plan.target_selection().c_str(), specs.size(),
                 with_thousands(double(plan.own_token_forwards)).c_str(), with_thousands(double(plan.spent_token_forwards)).c_str(),
                 plan.spent_token_forwards > 0 ? double(plan.own_token_forwards) / double(plan.spent_token_forwards) : 0.0,
                 paths.c_str());
    Transformer model(weights);
    const nlohmann::ordered_json summary =
        run_analysis(model, tok, tokens, plan,
                     {.tokens_csv = &csv, .words_csv = o.by_word ? &words_csv : nullptr, .on_row = on_row, .on_progress = on_progress});
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
  auto* targets = cmd->add_option("--targets", a->targets,
                                  "Number of target tokens (words with --by word), or all: every position t >= L. A number "
                                  "takes contiguous blocks when a schedule can share passes")
                      ->capture_default_str();
  cmd->add_option("--span", a->span, "FROM:TO: every token position in [FROM, TO) (FROM: to the end) as a target; FROM >= L");
  cmd->add_option("--out", a->out, "Output directory (created; must not exist or be empty, unless --force)")->required();
  cmd->add_option("--schedules", a->schedules,
                  "Comma-separated schedules: sequential, hierarchical, hierarchical:<base>, dilated, custom:<json>, "
                  "custom:@<file.json>")
      ->capture_default_str();
  auto* stride = cmd->add_option("--stride", a->stride, "Every M-th position (word with --by word) from t = L; 0 spreads targets evenly")
                     ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Targets per forward pass")->capture_default_str();
  cmd->add_option("--tolerance", a->tolerance, "Relative rank tolerance tau, in (0, 1)")->capture_default_str();
  cmd->add_option("--by", a->by, "Also aggregate by word: choose whole words as targets and write words.csv")
      ->check(CLI::IsMember({"word"}));
  cmd->add_flag("--with-empty", a->with_empty, "Prepend the empty-context iteration (a BOS token only)");
  cmd->add_option("--bos", a->bos,
                  "BOS before every context: auto (the model directory's tokenizer/config policy), always or never")
      ->capture_default_str();
  cmd->add_flag("--force", a->force, "Replace a non-empty --out");
  cmd->add_flag("--no-prefix-sharing", a->no_prefix_sharing,
                "Run every schedule target by target (no shared passes): for checking and timing");
  return {cmd, [a, targets, stride] {
            a->targets_given = targets->count() > 0;
            a->stride_given = stride->count() > 0;
            return run_analyze(*a);
          }};
}

}  // namespace strata::cli
