// `strata analyze`: the paper's analysis of one text under several inference schedules.
// Runs a batched sweep (core/sweep.h) and writes, into --out,
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
#include "strata/csv.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/model_dir.h"
#include "strata/report.h"
#include "strata/schedule.h"
#include "strata/sweep.h"
#include "strata/tokenizer.h"
#include "strata/utf8.h"
#include "strata/words.h"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};
extern "C" void on_analyze_signal(int) { g_interrupted = true; }

struct AnalyzeArgs {
  std::string model, text, out, schedules = "sequential,hierarchical", by;
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
  const auto [weights, tok] = load_model(a.model);
  const std::string text = read_text(a.text);
  const std::vector<int32_t> tokens = tok.encode(text);
  const int context = weights->config.max_position_embeddings;
  for (const auto& s : schedules) validate_budget(*s, a.budget, context, a.budget);
  if (int64_t(tokens.size()) < int64_t(a.budget) + 1)
    throw Error(a.text + ": " + std::to_string(tokens.size()) + " tokens, too short for budget L=" +
                std::to_string(a.budget) + ": it needs at least L+1 = " + std::to_string(a.budget + 1) +
                " (L tokens of context before the first target)");
  if (a.with_empty && tok.bos_id() < 0)
    throw Error("--with-empty needs a BOS token, and " + a.model + "/tokenizer.json has no <|endoftext|>");

  // 3. Targets: positions t >= L, or every token of the chosen words.
  SweepOptions o;
  o.budget = a.budget;
  o.schedules = specs;
  o.targets = a.targets;
  o.stride = a.stride;
  o.batch = a.batch;
  o.with_empty = a.with_empty;
  o.bos_id = tok.bos_id();
  WordIndex words;
  std::vector<int64_t> chosen_words;
  if (a.by == "word") {
    words = index_words(tok, tokens);
    chosen_words = choose_words(words, a.budget, a.targets, a.stride);
    o.positions = word_targets(words, chosen_words);
  } else {
    o.positions = choose_targets(int64_t(tokens.size()), a.budget, a.targets, a.stride);
  }
  const int64_t n_targets = int64_t(o.positions.size());

  // Labels and shapes, as the sweep will have them.
  SweepResult names;
  std::vector<std::vector<int>> context_len;
  std::vector<int64_t> forwards_per_target;
  for (const auto& s : schedules) {
    ScheduleSweep st;
    st.name = s->name();
    names.schedules.push_back(std::move(st));
    std::vector<int> lens;
    for (const ContextSet& c : s->contexts(a.budget, a.budget, a.with_empty)) lens.push_back(c.size());
    context_len.push_back(lens);
    forwards_per_target.push_back(s->token_forwards(a.budget, a.with_empty));
  }
  const std::vector<std::string> labels = schedule_labels(names);

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
    csv << "position,token_id,token,schedule,iteration,context_len,surprisal_bits,token_forwards,flops\n";
    std::vector<std::string> shown(size_t(tok.vocab_size()));  // printable, quoted token text by id
    std::ofstream words_csv;
    std::unique_ptr<WordAggregator> agg;
    if (a.by == "word") {
      words_csv.open(tmp + "/words.csv", std::ios::binary);
      if (!words_csv) throw Error(tmp + "/words.csv: cannot create");
      words_csv << "word_index,first_position,last_position,tokens,word,schedule,iteration,context_len,surprisal_bits\n";
      std::vector<int> iterations;
      for (const auto& lens : context_len) iterations.push_back(int(lens.size()));
      agg = std::make_unique<WordAggregator>(words, iterations, [&](const WordSurprisal& w) {
        const Word& word = words.words[size_t(w.word)];
        const std::string text = csv_quote(printable_bytes(words.word_text(size_t(w.word))));
        char buf[160];
        for (size_t k = 0; k < w.bits.size(); ++k) {
          words_csv << w.word << ',' << word.first_token << ',' << word.last_token << ',' << word.tokens() << ',' << text << ','
                    << labels[size_t(w.schedule)];
          std::snprintf(buf, sizeof buf, ",%zu,%d,%.6f\n", k, context_len[size_t(w.schedule)][k], w.bits[k]);
          words_csv << buf;
        }
      });
    }

    int64_t total_forwards = 0;
    for (int64_t f : forwards_per_target) total_forwards += f * n_targets;
    ProgressBar bar("analyze", total_forwards, "tok-fwd");
    int64_t forwards_done = 0, targets_done = 0;
    int current_schedule = -1;
    auto on_row = [&](const SweepRow& r) {
      if (g_interrupted) throw Error("interrupted; no report written");
      std::string& t = shown[size_t(r.token)];
      if (t.empty()) t = csv_quote(printable_bytes(tok.token_text(r.token)));
      char buf[128];
      std::snprintf(buf, sizeof buf, ",%d,%d,%.6f,%lld,%.0f\n", r.iteration, r.context_len, r.surprisal_bits,
                    (long long)r.token_forwards, r.flops);
      csv << r.position << ',' << r.token << ',' << t << ',' << labels[size_t(r.schedule)] << buf;
      if (agg) agg->add(r);
      // Progress in token-forwards, row by row (a batch of long sequential targets takes a
      // while), so the rate and ETA stay honest across schedules of very different cost.
      forwards_done += std::max(1, r.context_len);
      if (r.schedule != current_schedule) current_schedule = r.schedule, targets_done = 0;
      if (r.iteration + 1 == int(context_len[size_t(r.schedule)].size())) ++targets_done;
      bar.update(forwards_done, "| " + labels[size_t(r.schedule)] + " " + std::to_string(targets_done) + "/" +
                                    std::to_string(n_targets) + " targets");
    };
    auto progress = [&](int64_t, int64_t) {
      if (g_interrupted) throw Error("interrupted; no report written");
    };
    std::fprintf(stderr, "strata analyze: %lld targets (t >= %d), %zu schedules, %lld token-forwards\n",
                 (long long)n_targets, a.budget, specs.size(), (long long)total_forwards);
    Transformer model(weights);
    const SweepResult result = run_sweep(model, tokens, o, on_row, progress);
    csv.close();
    if (!csv) throw Error(tmp + "/tokens.csv: write failed (disk full?)");

    ReportInfo info;
    info.model_dir = a.model;
    info.text_path = a.text;
    info.text_bytes = int64_t(text.size());
    info.text_tokens = int64_t(tokens.size());
    info.tolerance = a.tolerance;
    info.seconds = bar.seconds();
    info.target_selection = a.by == "word" ? "words" : a.stride > 0 ? "stride" : "even";
    info.tokenizer = &tok;
    info.tokens = tokens;
    nlohmann::ordered_json summary = make_summary(result, o, weights->config, info);
    if (agg) {
      words_csv.close();
      if (!words_csv) throw Error(tmp + "/words.csv: write failed (disk full?)");
      nlohmann::ordered_json means;
      for (size_t i = 0; i < labels.size(); ++i) {
        nlohmann::ordered_json m = nlohmann::ordered_json::array();
        for (double v : agg->surprisal()[i].means()) m.push_back(v);
        means[labels[i]] = m;
      }
      summary["words"] = {
          {"count", chosen_words.size()},
          {"stride", a.stride > 0 ? nlohmann::ordered_json(a.stride) : nlohmann::ordered_json(nullptr)},
          {"policy", kWordPolicy},
          {"mean_surprisal_bits", means}};
    }
    write_file_atomic(tmp + "/summary.json", summary.dump(2) + "\n");
    write_file_atomic(tmp + "/report.html", make_report_html(summary));
    if (g_interrupted) throw Error("interrupted; no report written");
    move_into_place(tmp, a.out);
    restore();

    // A few lines on stdout: where the report is and the headline numbers.
    std::printf("strata analyze: report in %s/report.html (summary.json, tokens.csv%s)\n", a.out.c_str(),
                agg ? ", words.csv" : "");
    for (const auto& [name, fit] : summary["power_law"].items())
      if (fit["r2"].is_number())
        std::printf("  %-13s power law a=%.3f beta=%.3f c=%.3f R2=%.3f (n = 1, 2, 4, ...)%s\n", name.c_str(),
                    fit["a"].get<double>(), fit["beta"].get<double>(), fit["c"].get<double>(), fit["r2"].get<double>(),
                    fit.value("beta_at_bound", false) ? ("\n                " + fit.value("note", std::string())).c_str() : "");
    if (summary["final_gap_bits"].is_number())
      std::printf("  final gap (sequential vs hierarchical at L): %.3g bits\n", summary["final_gap_bits"].get<double>());
    const auto& rank = summary["rank"];
    for (const char* name : {"sequential", "hierarchical"})
      if (rank.contains(name) && !rank[name].empty() && rank[name].back().is_number())
        std::printf("  %-13s rank at L: %d of %d\n", name, rank[name].back().get<int>(),
                    rank[std::string(name) + "_bound"].back().get<int>());
    for (const auto& [name, s] : summary["schedules"].items())
      std::printf("  %-13s %.2f s, %.0f token-forwards/s\n", name.c_str(), s["seconds"].get<double>(),
                  s["token_forwards_per_second"].is_number() ? s["token_forwards_per_second"].get<double>() : 0.0);
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
  cmd->add_option("--text", a->text, "Text file (targets are positions t >= L)")->required();
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
