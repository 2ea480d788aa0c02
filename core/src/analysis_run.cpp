// The run behind `strata analyze`: targets, sweep, row sinks, summary. See analysis_run.h.
#include "strata/analysis_run.h"

#include <chrono>
#include <memory>
#include <optional>

#include "strata/csv.h"
#include "strata/error.h"
#include "strata/report.h"
#include "strata/schedule.h"

namespace strata {

std::string AnalysisPlan::target_selection() const {
  return options.by_word ? "words" : options.stride > 0 ? "stride" : "even";
}

AnalysisPlan plan_analysis(const AnalysisOptions& options, const Tokenizer& tokenizer, std::span<const int32_t> tokens) {
  AnalysisPlan plan;
  plan.options = options;
  std::vector<std::unique_ptr<Schedule>> schedules;
  std::vector<std::string> names;
  for (const std::string& spec : options.schedules) {
    schedules.push_back(make_schedule(spec));
    schedules.back()->check_budget(options.budget);  // a bad budget is said so, not taken for a short text
    names.push_back(schedules.back()->name());
  }
  if (schedules.empty()) throw Error("analysis: no schedules given");

  SweepOptions& o = plan.sweep;
  o.budget = options.budget;
  o.schedules = options.schedules;
  o.targets = options.targets;
  o.stride = options.stride;
  o.batch = options.batch;
  o.with_empty = options.with_empty;
  o.bos_id = tokenizer.bos_id();
  if (options.by_word) {
    plan.words = index_words(tokenizer, tokens);
    plan.chosen_words = choose_words(plan.words, options.budget, options.targets, options.stride);
    o.positions = word_targets(plan.words, plan.chosen_words);
  } else {
    o.positions = choose_targets(int64_t(tokens.size()), options.budget, options.targets, options.stride);
  }

  plan.labels = schedule_labels(names);
  for (const auto& s : schedules) {
    std::vector<int> lens;
    for (const ContextSet& c : s->contexts(options.budget, options.budget, options.with_empty)) lens.push_back(c.size());
    plan.context_len.push_back(lens);
    plan.token_forwards_per_target.push_back(s->token_forwards(options.budget, options.with_empty));
    plan.total_token_forwards += plan.token_forwards_per_target.back() * plan.targets();
  }
  return plan;
}

nlohmann::ordered_json run_analysis(Transformer& model, const Tokenizer& tokenizer, std::span<const int32_t> tokens,
                                    const AnalysisPlan& plan, const AnalysisSinks& sinks) {
  if (sinks.words_csv && !plan.options.by_word) throw Error("analysis: words.csv needs whole words as targets (by word)");
  std::optional<TokensCsv> tokens_csv;
  if (sinks.tokens_csv) tokens_csv.emplace(*sinks.tokens_csv, tokenizer, plan.labels);
  std::optional<WordsCsv> words_csv;
  if (sinks.words_csv) words_csv.emplace(*sinks.words_csv, plan.words, plan.labels, plan.context_len);
  std::optional<WordAggregator> words;
  if (plan.options.by_word) {
    std::vector<int> iterations;
    for (const auto& lens : plan.context_len) iterations.push_back(int(lens.size()));
    std::function<void(const WordSurprisal&)> on_word;
    if (words_csv) on_word = [&](const WordSurprisal& w) { words_csv->add(w); };
    words.emplace(plan.words, iterations, on_word);
  }

  const auto start = std::chrono::steady_clock::now();
  const SweepResult result = run_sweep(model, tokens, plan.sweep, [&](const SweepRow& r) {
    if (sinks.on_row) sinks.on_row(r);
    if (tokens_csv) tokens_csv->add(r);
    if (words) words->add(r);
  });

  ReportInfo info;
  info.model_dir = plan.options.model_dir;
  info.text_path = plan.options.text_path;
  info.text_bytes = plan.options.text_bytes;
  info.text_tokens = int64_t(tokens.size());
  info.tolerance = plan.options.tolerance;
  info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  info.target_selection = plan.target_selection();
  info.tokenizer = &tokenizer;
  info.tokens = tokens;
  if (words) {
    if (words->pending() != 0) throw Error("analysis: a target word did not receive all its rows");
    info.word_count = int64_t(plan.chosen_words.size());
    info.word_surprisal = &words->surprisal();
  }
  return make_summary(result, plan.sweep, model.config(), info);
}

}  // namespace strata
