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
// Under mpirun (a build with STRATA_MPI) every rank checks the arguments and loads the
// files, the ranks agree before any work, each sweeps one cost-balanced shard of the
// targets, and rank 0 gathers the parts, merges them in rank order and writes the report
// (native/distributed/team.h); the temporary directory exists only while rank 0 writes.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "commands.h"
#include "distributed/team.h"
#include "progress.h"
#include "strata/analysis_run.h"
#include "strata/bos_policy.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/report.h"
#include "strata/schedule.h"
#include "strata/sweep_wire.h"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};
extern "C" void on_analyze_signal(int) { g_interrupted = true; }

struct AnalyzeArgs {
  std::string model, text, ids, dtype, out, schedules = "sequential,hierarchical", by, targets = "100", span, bos = "auto";
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

// Everything decided before any work: the checked arguments, the files, the plan.
struct Prepared {
  AnalyzeArgs args;
  std::shared_ptr<Weights> weights;
  std::optional<Tokenizer> tok;  // none when --ids scores a model without one
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<std::string> specs;
  AnalysisPlan plan;
};

// writes_output: this process writes --out (rank 0), so it checks --out too.
Prepared prepare(AnalyzeArgs a, bool writes_output) {
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
  a.out = writes_output ? checked_out_dir(a.out, a.force) : a.out;

  // 2. Model and text.
  // Ids need no tokenizer: one the directory has still gives tokens.csv its token text.
  const auto weights = std::make_shared<Weights>(load_weights(a.model, nullptr, held_dtype(a.dtype)));
  const std::optional<Tokenizer> tok = load_tokenizer(a.model, weights->config, /*required=*/a.ids.empty());
  const std::string text = a.ids.empty() ? read_text(a.text) : std::string();
  const std::vector<int32_t> tokens = a.ids.empty() ? tok->encode(text) : read_ids(a.ids, weights->config.vocab_size);
  const std::string& input = a.ids.empty() ? a.text : a.ids;
  const int context = weights->config.max_position_embeddings;
  for (const auto& s : schedules) validate_budget(*s, a.budget, context, a.budget, weights->config.position == PositionEncoding::kRoPE);
  if (int64_t(tokens.size()) < int64_t(a.budget) + 1)
    throw Error(input + ": " + std::to_string(tokens.size()) + " tokens, too short for budget L=" +
                std::to_string(a.budget) + ": it needs at least L+1 = " + std::to_string(a.budget + 1) +
                " (L tokens of context before the first target)");
  // BOS before every context: auto takes the model directory's own policy (bos_policy.h).
  const BosPolicy bos = tok ? resolve_bos_policy(a.model, *tok, bos_mode)
                            : resolve_bos_policy(a.model, nullptr, weights->config.vocab_size, bos_mode);
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
  AnalysisPlan plan = plan_analysis(o, tok ? &*tok : nullptr, tokens, weights->config);
  return {std::move(a), weights, tok, text, tokens, specs, std::move(plan)};
}

// The line before the sweep: targets, schedules, both costs, the per-target reasons.
void print_plan_line(const Prepared& p, const std::string& ranks) {
  const AnalysisPlan& plan = p.plan;
  std::string paths;
  for (size_t i = 0; i < plan.passes.per_target.size(); ++i)
    paths += "\n  " + plan.labels[size_t(plan.passes.per_target[i])] + " per target: " + plan.passes.why_per_target[i];
  const double own = double(plan.own_token_forwards), spent = double(plan.spent_token_forwards);
  std::fprintf(stderr,
               "strata analyze: %lld targets (%s), %zu schedules%s; the schedules' own cost %s token-forwards, the sweep "
               "runs %s (%s)%s\n",
               (long long)plan.targets(), plan.target_selection().c_str(), p.specs.size(), ranks.c_str(),
               with_thousands(own).c_str(), with_thousands(spent).c_str(), sharing_words(own, spent).c_str(), paths.c_str());
}

// The progress line's status: the schedules' own cost of the finished targets beside what ran.
std::string progress_status(int64_t spent, int64_t own, int64_t done, int64_t n_schedules, int64_t n_targets) {
  const double saving = spent > 0 ? double(own) / double(spent) : 0.0;
  char status[160];
  std::snprintf(status, sizeof status, "| own %s tok-fwd (%.1fx) | %lld/%lld targets", with_thousands(double(own)).c_str(),
                saving, (long long)(done / n_schedules), (long long)n_targets);
  return status;
}

void print_done(const AnalyzeArgs& a, bool by_word, const nlohmann::ordered_json& summary) {
  // A few lines on stdout: where the report is and the headline numbers.
  std::printf("strata analyze: report in %s/report.html (summary.json, tokens.csv%s)\n", a.out.c_str(),
              by_word ? ", words.csv" : "");
  std::fputs(summary_headline(summary).c_str(), stdout);
}

// Signals turn into an interruption checked between forward calls; restored on scope exit.
struct SignalGuard {
  void (*old_int)(int), (*old_term)(int);
  SignalGuard() {
    g_interrupted = false;
    old_int = std::signal(SIGINT, on_analyze_signal);
    old_term = std::signal(SIGTERM, on_analyze_signal);
  }
  ~SignalGuard() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

double seconds_between(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void check_interrupted() {
  if (g_interrupted) throw Error("interrupted; no report written");
}

// The report's directory while it is written: OUT.tmp-PID next to --out with its tables
// open; commit() writes the summary and the page and moves it into place. Removed unless
// committed (any error, Ctrl-C).
class OutputDir {
 public:
  OutputDir(const std::string& out, bool by_word) : out_(out), tmp_(temporary_out_dir(out)) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
    fs::create_directories(tmp_, ec);
    if (ec) throw Error(tmp_ + ": cannot create the temporary output directory (" + ec.message() + ")");
    open(tokens_, "tokens.csv");
    if (by_word) open(words_, "words.csv");
  }
  ~OutputDir() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  std::ostream* tokens() { return &tokens_; }
  std::ostream* words() { return words_.is_open() ? &words_ : nullptr; }

  void commit(const nlohmann::ordered_json& summary) {
    close(tokens_, "tokens.csv");
    if (words_.is_open()) close(words_, "words.csv");
    write_file_atomic(tmp_ + "/summary.json", summary.dump(2) + "\n");
    write_file_atomic(tmp_ + "/report.html", make_report_html(summary));
    check_interrupted();
    move_into_place(tmp_, out_);
    committed_ = true;
  }

 private:
  void open(std::ofstream& f, const char* name) {
    f.open(tmp_ + "/" + name, std::ios::binary);
    if (!f) throw Error(tmp_ + "/" + name + ": cannot create");
  }
  void close(std::ofstream& f, const char* name) {
    f.close();
    if (!f) throw Error(tmp_ + "/" + name + ": write failed (disk full?)");
  }
  std::string out_, tmp_;
  std::ofstream tokens_, words_;
  bool committed_ = false;
};

// One process: the sweep streams its rows into the temporary directory as it goes.
int run_local(const Prepared& p) {
  const AnalysisPlan& plan = p.plan;
  const int64_t n_targets = plan.targets(), n_schedules = int64_t(p.specs.size());
  SignalGuard signals;
  try {
    OutputDir dir(p.args.out, plan.options.by_word);
    // Progress in what the sweep runs (token-forwards spent), after every forward call,
    // beside the schedules' own cost of the targets finished (the paper's measure).
    ProgressBar bar("analyze", plan.spent_token_forwards, "tok-fwd");
    auto on_row = [&](const SweepRow&) { check_interrupted(); };
    auto on_progress = [&](const SweepProgress& q) {
      check_interrupted();
      bar.update(q.spent_token_forwards,
                 progress_status(q.spent_token_forwards, q.own_token_forwards, q.done, n_schedules, n_targets));
    };
    print_plan_line(p, "");
    Transformer model(p.weights);
    model.pack_weights();
    const nlohmann::ordered_json summary = run_analysis(
        model, p.tok ? &*p.tok : nullptr, p.tokens, plan, {.tokens_csv = dir.tokens(), .words_csv = dir.words(), .on_row = on_row, .on_progress = on_progress});
    dir.commit(summary);
    print_done(p.args, plan.options.by_word, summary);
    return 0;
  } catch (...) {
    std::fprintf(stderr, "\n");
    throw;
  }
}

// Several ranks (distributed/team.h): each sweeps its shard, with its rows kept in memory;
// rank 0 shows the job's one progress line, gathers the parts, merges the statistics in rank
// (= target) order, replays the rows in one sweep's order and only then writes, so a failure
// anywhere before that leaves nothing behind.
int run_team(const Prepared& p, distributed::Team& team) {
  using distributed::TeamPart;
  using distributed::TeamProgress;
  const AnalyzeArgs& a = p.args;
  const AnalysisPlan& plan = p.plan;
  const int rank = team.rank(), ranks = team.size();
  const int64_t n_schedules = int64_t(p.specs.size()), n_targets = plan.targets();
  // Every rank computes every shard's plan (the same on all of them): its own part, and
  // the job's total for the progress line.
  const std::vector<std::vector<int64_t>> shards = shard_targets(plan.passes, ranks);
  std::vector<SweepOptions> parts(size_t(ranks), plan.sweep);
  int64_t planned = 0, before = 0;
  for (int r = 0; r < ranks; ++r) {
    parts[size_t(r)].positions = size_t(r) < shards.size() ? shards[size_t(r)] : std::vector<int64_t>{};
    parts[size_t(r)].first_target = before;  // per-target calls as in one process: the same bits
    before += int64_t(parts[size_t(r)].positions.size());
    if (!parts[size_t(r)].positions.empty())
      planned += plan_sweep(p.weights->config, int64_t(p.tokens.size()), parts[size_t(r)]).spent_token_forwards();
  }
  // A hidden fault for the tests: this rank fails (throws, or with STRATA_TEST_FAIL_MODE=kill
  // dies of SIGKILL) after its first forward call.
  const char* fault = std::getenv("STRATA_TEST_FAIL_RANK");
  const char* fault_mode = std::getenv("STRATA_TEST_FAIL_MODE");
  const bool inject_fault = fault && std::to_string(rank) == fault;
  auto fail_now = [&] {
    if (fault_mode && std::string(fault_mode) == "kill") std::raise(SIGKILL);
    throw Error("a fault injected for the tests (STRATA_TEST_FAIL_RANK=" + std::string(fault) + ")");
  };

  SignalGuard signals;
  std::optional<ProgressBar> bar;
  auto show = [&](const TeamProgress& t) {
    check_interrupted();
    if (bar) bar->update(t.spent, progress_status(t.spent, t.own, t.done, n_schedules, n_targets));
  };
  try {
    if (rank == 0) {
      print_plan_line(p, ", " + std::to_string(ranks) + " ranks");
      bar.emplace("analyze", planned, "tok-fwd");
    }
    std::vector<SweepRow> rows;
    SweepResult mine;
    const auto start = std::chrono::steady_clock::now();
    const SweepOptions& part = parts[size_t(rank)];
    if (!part.positions.empty()) {
      Transformer model(p.weights);
      model.pack_weights();
      mine = run_sweep(
          model, p.tokens, part, [&](const SweepRow& r) { rows.push_back(r); },
          [&](const SweepProgress& q) {
            if (inject_fault) fail_now();
            show(team.progress({q.spent_token_forwards, q.own_token_forwards, q.done}));
          });
    } else if (inject_fault) {
      fail_now();
    }
    TeamPart out{encode_sweep(mine), encode_rows(rows), seconds_between(start)};
    rows = {};
    std::vector<TeamPart> gathered = team.gather(std::move(out), show);
    if (rank != 0) return 0;

    // Rank 0: merge in rank order (shards are consecutive target ranges), rows in one sweep's order.
    SweepResult merged;
    std::vector<std::vector<SweepRow>> shard_rows;
    nlohmann::ordered_json record = nlohmann::ordered_json::array();
    int64_t received = 0;
    for (int r = 0; r < ranks; ++r) {
      const TeamPart& g = gathered[size_t(r)];
      SweepResult s = decode_sweep(g.sweep);
      if (r > 0) received += int64_t(g.sweep.size() + g.rows.size());
      record.push_back({{"rank", r},
                        {"targets", int64_t(s.targets.size())},
                        {"first_target", s.targets.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.targets.front())},
                        {"last_target", s.targets.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.targets.back())},
                        {"spent_token_forwards", s.spent().token_forwards},
                        {"seconds", g.seconds},
                        {"bytes_sent", r == 0 ? int64_t(0) : int64_t(g.sweep.size() + g.rows.size())}});
      if (s.schedules.empty()) continue;  // a rank without targets
      if (merged.schedules.empty()) merged = std::move(s);
      else merged.merge(s);
      shard_rows.push_back(decode_rows(g.rows));
    }
    gathered = {};

    OutputDir dir(a.out, plan.options.by_word);
    AnalysisWriter writer(p.tok ? &*p.tok : nullptr, p.tokens, plan, {.tokens_csv = dir.tokens(), .words_csv = dir.words()});
    writer.add_shards(shard_rows);
    shard_rows = {};
    nlohmann::ordered_json summary = writer.summary(merged, p.weights->config, seconds_between(start));
    summary["distributed"] = {{"ranks", ranks},
                              {"openmp_threads_per_rank", omp_get_max_threads()},
                              {"bytes_received_by_rank_0", received},
                              {"shards", record}};
    dir.commit(summary);
    team.finish();
    print_done(a, plan.options.by_word, summary);
    return 0;
  } catch (const distributed::StoppedByTeam&) {
    team.fail("");
    throw;
  } catch (const std::exception& e) {
    team.fail(e.what());
    if (rank == 0) std::fprintf(stderr, "\n");
    throw;
  }
}

int run_analyze(AnalyzeArgs a) {
  const std::unique_ptr<distributed::Team> team = distributed::join_team();
  // Bad input is found on every rank before any work; the ranks agree, so all of them stop
  // with the same one message (rank 0 prints it) or all of them go on.
  std::optional<Prepared> p;
  std::string error;
  try {
    p.emplace(prepare(std::move(a), team->rank() == 0));
  } catch (const Error& e) {
    error = e.what();
  }
  team->agree(error);
  return team->size() == 1 ? run_local(*p) : run_team(*p, *team);
}

}  // namespace

Subcommand add_analyze(CLI::App& app) {
  auto* cmd = app.add_subcommand("analyze", "Sweep inference schedules over a text and write the analysis report");
  auto a = std::make_shared<AnalyzeArgs>();
  cmd->add_option("--model", a->model, "Model directory")->required();
  add_dtype_option(cmd, a->dtype);
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
  add_bos_option(cmd, a->bos);
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
