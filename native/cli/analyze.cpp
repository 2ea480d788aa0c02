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
// --pieces N cuts the targets as N ranks would and runs the pieces one after another, each
// kept in OUT.pieces when finished (analyze_pieces.h), so a long run killed at any moment
// goes on with --resume; the report is written from the pieces as rank 0 writes it.
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
#include <functional>
#include <memory>
#include <numeric>
#include <optional>

#include "analyze_pieces.h"
#include "commands.h"
#include "distributed/team.h"
#include "progress.h"
#include "strata/analysis_run.h"
#include "strata/bos_policy.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/ops.h"
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
  int pieces = 0;  // --pieces N; 0: one sweep
  int64_t stride = 0;
  double tolerance = 1e-2;
  bool with_empty = false, force = false, no_prefix_sharing = false, resume = false;
  bool targets_given = false, stride_given = false, pieces_given = false;
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
  CheckpointInfo checkpoint;     // the model's weight files
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
  if (a.pieces_given && a.pieces < 1) throw Error("--pieces must be at least 1, got " + std::to_string(a.pieces));
  if (a.resume && !a.pieces_given) throw Error("--resume goes on from the pieces of a run with --pieces N; give --pieces");
  const BosMode bos_mode = parse_bos_mode(a.bos);
  const std::vector<std::string> specs = split_specs(a.schedules);
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (const std::string& spec : specs) schedules.push_back(make_schedule(spec));  // unknown names, bad JSON
  a.out = writes_output ? checked_out_dir(a.out, a.force) : a.out;

  // 2. Model and text.
  // Ids need no tokenizer: one the directory has still gives tokens.csv its token text.
  CheckpointInfo checkpoint;
  const auto weights = std::make_shared<Weights>(load_weights(a.model, &checkpoint, held_dtype(a.dtype)));
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
  return {std::move(a), weights, std::move(checkpoint), tok, text, tokens, specs, std::move(plan)};
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

// The plan's targets in `count` cost-balanced parts (shard_targets), each a sweep of its own
// numbered as in the whole (first_target: per-target calls as in one process, the same
// bits), so that merged in order they are the whole sweep; a part is empty when there are
// fewer targets than parts. planned: each part's token-forwards.
std::vector<SweepOptions> split_sweep(const Prepared& p, int count, std::vector<int64_t>& planned) {
  const std::vector<std::vector<int64_t>> shards = shard_targets(p.plan.passes, count);
  std::vector<SweepOptions> parts(size_t(count), p.plan.sweep);
  planned.assign(size_t(count), 0);
  int64_t before = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    parts[k].positions = k < shards.size() ? shards[k] : std::vector<int64_t>{};
    parts[k].first_target = before;
    before += int64_t(parts[k].positions.size());
    if (!parts[k].positions.empty())
      planned[k] = plan_sweep(p.weights->config, int64_t(p.tokens.size()), parts[k]).spent_token_forwards();
  }
  return parts;
}

// The report of a sweep run in parts (ranks, or pieces) of consecutive targets, given in
// target order: the statistics merged in that order, the rows replayed in one sweep's
// order, and --out written (committed). Part k's entry in the record starts with
// label(k, part) (e.g. {"rank": 1}); record(summary, entries) puts the entries into the
// summary. The summary's wall time is earlier_seconds plus the time since `start`.
using PartLabel = std::function<nlohmann::ordered_json(int k, const distributed::TeamPart& part)>;
using PartsRecord = std::function<void(nlohmann::ordered_json& summary, nlohmann::ordered_json entries)>;
nlohmann::ordered_json write_parts(const Prepared& p, std::vector<distributed::TeamPart> parts, double earlier_seconds,
                                   std::chrono::steady_clock::time_point start, const PartLabel& label,
                                   const PartsRecord& record) {
  const AnalysisPlan& plan = p.plan;
  SweepResult merged;
  std::vector<std::vector<SweepRow>> shard_rows;
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (size_t k = 0; k < parts.size(); ++k) {
    distributed::TeamPart& part = parts[k];
    SweepResult s = decode_sweep(part.sweep);
    nlohmann::ordered_json entry = label(int(k), part);
    entry["targets"] = int64_t(s.targets.size());
    entry["first_target"] = s.targets.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.targets.front());
    entry["last_target"] = s.targets.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.targets.back());
    entry["spent_token_forwards"] = s.spent().token_forwards;
    entry["seconds"] = part.seconds;
    entries.push_back(std::move(entry));
    if (!s.schedules.empty()) {  // a part without targets adds nothing
      if (merged.schedules.empty()) merged = std::move(s);
      else merged.merge(s);
      shard_rows.push_back(decode_rows(part.rows));
    }
    part = {};
  }

  OutputDir dir(p.args.out, plan.options.by_word);
  AnalysisWriter writer(p.tok ? &*p.tok : nullptr, p.tokens, plan, {.tokens_csv = dir.tokens(), .words_csv = dir.words()});
  writer.add_shards(shard_rows);
  shard_rows = {};
  nlohmann::ordered_json summary =
      writer.summary(merged, p.weights->config, earlier_seconds + seconds_between(start));
  record(summary, std::move(entries));
  dir.commit(summary);
  return summary;
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
  std::vector<int64_t> planned_per_rank;
  const std::vector<SweepOptions> parts = split_sweep(p, ranks, planned_per_rank);
  const int64_t planned = std::accumulate(planned_per_rank.begin(), planned_per_rank.end(), int64_t(0));
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
    int64_t received = 0;
    for (int r = 1; r < ranks; ++r) received += int64_t(gathered[size_t(r)].sweep.size() + gathered[size_t(r)].rows.size());
    const nlohmann::ordered_json summary = write_parts(
        p, std::move(gathered), 0.0, start,
        [](int r, const TeamPart& g) {
          return nlohmann::ordered_json{{"rank", r}, {"bytes_sent", r == 0 ? int64_t(0) : int64_t(g.sweep.size() + g.rows.size())}};
        },
        [&](nlohmann::ordered_json& s, nlohmann::ordered_json shards) {
          s["distributed"] = {{"ranks", ranks},
                              {"openmp_threads_per_rank", omp_get_max_threads()},
                              {"bytes_received_by_rank_0", received},
                              {"shards", std::move(shards)}};
        });
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

// What the pieces' bits depend on (analyze_pieces.h), keyed as the command line says it:
// the model's files, the text's tokens and every option that changes a sweep's rows or
// statistics. --tolerance only changes the summary written from the merged pieces, so it
// may differ between a run and its resume; so may --threads (float rounding only).
Fingerprint run_fingerprint(const Prepared& p) {
  const AnalyzeArgs& a = p.args;
  const AnalysisOptions& o = p.plan.options;
  std::string model_hashes = content_hash(read_file(a.model + "/config.json"));
  for (const std::string& file : p.checkpoint.files) {
    const FileBytes bytes = map_file(a.model + "/" + file);
    model_hashes += content_hash({reinterpret_cast<const char*>(bytes.data), bytes.size});
  }
  auto hash_of = [](const auto& values) {
    return content_hash({reinterpret_cast<const char*>(values.data()), values.size() * sizeof(values[0])});
  };
  auto on_off = [](bool on) { return on ? "on" : "off"; };
  auto path = [](const std::string& f) { return fs::weakly_canonical(f).string(); };
  std::string specs;
  for (const std::string& s : p.specs) specs += (specs.empty() ? "" : ",") + s;
  Fingerprint f;
  f["--pieces"] = a.pieces;
  f["--model"] = path(a.model);
  f["model files hash"] = content_hash(model_hashes);
  f["--dtype"] = a.dtype.empty() ? "as stored" : a.dtype;
  f["--compute"] = ops::compute_name(ops::compute());
  f[a.ids.empty() ? "--text" : "--ids"] = path(o.text_path);
  f["text hash"] = content_hash(p.text);
  f["tokens hash"] = hash_of(p.tokens);
  f["--budget"] = a.budget;
  f["--schedules"] = specs;
  f["--targets"] = a.targets;
  f["--span"] = a.span.empty() ? "none" : a.span;
  f["--stride"] = a.stride;
  f["--by"] = a.by.empty() ? "token" : a.by;
  f["--batch"] = a.batch;
  f["--with-empty"] = on_off(a.with_empty);
  f["--bos"] = o.bos ? "id " + std::to_string(o.bos_id) + " before every context" : "none";
  f["--no-prefix-sharing"] = on_off(a.no_prefix_sharing);
  f["targets hash"] = hash_of(p.plan.sweep.positions);
  return f;
}

// One process, the targets in --pieces N cut as N ranks would cut them and run one after
// another: each finished piece is kept in OUT.pieces (analyze_pieces.h) before the next
// starts, and when all are there the report is written from them as rank 0 writes it from
// the ranks' parts (write_parts), so a run killed at any moment goes on with --resume to
// the same report.
int run_pieces(const Prepared& p) {
  using distributed::TeamPart;
  using distributed::TeamProgress;
  const AnalysisPlan& plan = p.plan;
  const int count = p.args.pieces;
  const int64_t n_schedules = int64_t(p.specs.size()), n_targets = plan.targets();
  std::vector<int64_t> planned;
  const std::vector<SweepOptions> parts = split_sweep(p, count, planned);
  const PiecesDir pieces(p.args.out, count, run_fingerprint(p), p.args.resume);
  std::vector<bool> resumed(static_cast<size_t>(count));  // per piece: kept by an earlier run
  std::string resumed_list;
  for (int k = 0; k < count; ++k)
    if ((resumed[size_t(k)] = pieces.has(k))) resumed_list += (resumed_list.empty() ? "" : ", ") + std::to_string(k + 1);
  const int64_t total = std::accumulate(planned.begin(), planned.end(), int64_t(0));
  print_plan_line(p, ", in " + std::to_string(count) + " pieces (" + with_thousands(double(total)) +
                         " token-forwards in all: each reruns the passes before its first target)");
  if (!resumed_list.empty())
    std::fprintf(stderr, "strata analyze: resumed from %s: pieces %s of %d already there\n", pieces.path().c_str(),
                 resumed_list.c_str(), count);
  // A hidden fault for the tests: after piece K is kept, this process raises SIGKILL
  // (STRATA_TEST_SIGNAL=TERM: SIGTERM, as from a user's kill or a session's end).
  const char* fault = std::getenv("STRATA_TEST_SIGNAL_AFTER_PIECE");
  const char* fault_signal = std::getenv("STRATA_TEST_SIGNAL");
  const int fault_after = fault ? std::atoi(fault) : 0;

  SignalGuard signals;
  try {
    // One progress line for the whole job: the pieces kept count as run.
    const int64_t own_per_target = std::accumulate(plan.token_forwards_per_target.begin(),
                                                   plan.token_forwards_per_target.end(), int64_t(0));
    auto piece_work = [&](int k) {
      const int64_t targets = int64_t(parts[size_t(k)].positions.size());
      return TeamProgress{planned[size_t(k)], targets * own_per_target, targets * n_schedules};
    };
    TeamProgress finished;
    for (int k = 0; k < count; ++k)
      if (resumed[size_t(k)]) finished.add(piece_work(k));
    ProgressBar bar("analyze", total, "tok-fwd");
    bar.set_start(finished.spent);
    std::optional<Transformer> model;
    for (int k = 0; k < count; ++k) {
      if (resumed[size_t(k)]) continue;
      check_interrupted();
      std::vector<SweepRow> rows;
      SweepResult mine;
      const auto start = std::chrono::steady_clock::now();
      if (!parts[size_t(k)].positions.empty()) {
        if (!model) {
          model.emplace(p.weights);
          model->pack_weights();
        }
        mine = run_sweep(
            *model, p.tokens, parts[size_t(k)], [&](const SweepRow& r) { rows.push_back(r); },
            [&](const SweepProgress& q) {
              check_interrupted();
              TeamProgress t = finished;
              t.add({q.spent_token_forwards, q.own_token_forwards, q.done});
              bar.update(t.spent, progress_status(t.spent, t.own, t.done, n_schedules, n_targets));
            });
      }
      pieces.write(k, {encode_sweep(mine), encode_rows(rows), seconds_between(start)});
      finished.add(piece_work(k));
      if (k + 1 == fault_after) std::raise(fault_signal && std::string(fault_signal) == "TERM" ? SIGTERM : SIGKILL);
    }
    check_interrupted();
    // The finished line, also when every piece came from disk and no sweep reported.
    bar.update(finished.spent, progress_status(finished.spent, finished.own, finished.done, n_schedules, n_targets));

    std::vector<TeamPart> kept;
    double earlier_seconds = 0;
    for (int k = 0; k < count; ++k) {
      kept.push_back(pieces.read(k));
      earlier_seconds += kept.back().seconds;
    }
    std::vector<int> resumed_numbers;
    for (int k = 0; k < count; ++k)
      if (resumed[size_t(k)]) resumed_numbers.push_back(k + 1);
    const nlohmann::ordered_json summary = write_parts(
        p, std::move(kept), earlier_seconds, std::chrono::steady_clock::now(),
        [&](int k, const TeamPart&) {
          return nlohmann::ordered_json{{"piece", k + 1}, {"resumed", bool(resumed[size_t(k)])}};
        },
        [&](nlohmann::ordered_json& s, nlohmann::ordered_json entries) {
          s["pieces"] = {{"count", count},
                         {"resumed", resumed_numbers},
                         {"directory", pieces.path()},
                         {"openmp_threads", omp_get_max_threads()},
                         {"shards", std::move(entries)}};
        });
    pieces.remove();
    print_done(p.args, plan.options.by_word, summary);
    return 0;
  } catch (...) {
    std::fprintf(stderr, "\n");
    if (!g_interrupted) throw;
    int kept = 0;
    for (int k = 0; k < count; ++k) kept += pieces.has(k);
    throw Error("interrupted; " + std::to_string(kept) + " of " + std::to_string(count) + " pieces kept in " +
                pieces.path() + ": the same command with --resume goes on from them");
  }
}

int run_analyze(AnalyzeArgs a) {
  const std::unique_ptr<distributed::Team> team = distributed::join_team();
  // Bad input is found on every rank before any work; the ranks agree, so all of them stop
  // with the same one message (rank 0 prints it) or all of them go on.
  std::optional<Prepared> p;
  std::string error;
  try {
    if (a.pieces_given && team->size() > 1)
      throw Error("--pieces runs the pieces one after another in one process; run it without mpirun");
    p.emplace(prepare(std::move(a), team->rank() == 0));
  } catch (const Error& e) {
    error = e.what();
  }
  team->agree(error);
  if (team->size() > 1) return run_team(*p, *team);
  return p->args.pieces_given ? run_pieces(*p) : run_local(*p);
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
  auto* pieces = cmd->add_option("--pieces", a->pieces,
                                 "Run the targets in N pieces one after another, each kept in OUT.pieces when done, so "
                                 "that an interrupted run goes on with --resume");
  cmd->add_flag("--resume", a->resume, "With --pieces: go on from the pieces an interrupted run kept in OUT.pieces");
  cmd->add_flag("--no-prefix-sharing", a->no_prefix_sharing,
                "Run every schedule target by target (no shared passes): for checking and timing");
  return {cmd, [a, targets, stride, pieces] {
            a->targets_given = targets->count() > 0;
            a->stride_given = stride->count() > 0;
            a->pieces_given = pieces->count() > 0;
            return run_analyze(*a);
          }};
}

}  // namespace strata::cli
