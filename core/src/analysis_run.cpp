// The run behind `strata analyze`: targets, sweep, row sinks, summary. See analysis_run.h.
#include "strata/analysis_run.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "strata/csv.h"
#include "strata/error.h"
#include "strata/report.h"
#include "strata/schedule.h"

namespace strata {

std::string AnalysisPlan::target_selection() const {
  const AnalysisOptions& o = options;
  if (o.by_word) return "words";
  if (o.span_from >= 0) return "span";
  if (o.all_targets) return "all";
  if (o.stride > 0) return "stride";
  return passes.shared.empty() ? "even" : "blocks";
}

std::string AnalysisPlan::target_selection_note() const {
  const std::string L = std::to_string(options.budget);
  const std::string sel = target_selection();
  if (sel == "words")
    return options.span_from >= 0 ? "every token of the whole words inside the span asked for"
                                  : "every token of whole words whose first token is at t >= L";
  if (sel == "span") return "every position of the span asked for";
  if (sel == "all") return "every position t >= L of the text";
  if (sel == "stride") return "every stride-th position from t = L";
  if (sel == "blocks")
    return "contiguous blocks of at least L = " + L +
           " targets (one block below 2L), spread evenly over the text: shared passes serve a block of m targets for about "
           "L + L^2/2m token-forwards per target, where spread targets share nothing and cost the schedules' own sum";
  return "spread evenly over t >= L (no schedule can share passes, so blocks would cost the same)";
}

AnalysisPlan plan_analysis(const AnalysisOptions& options, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                           const ModelConfig& config) {
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
  const int L = options.budget;
  const int64_t n = int64_t(tokens.size());

  SweepOptions& o = plan.sweep;
  o.budget = L;
  o.schedules = options.schedules;
  o.targets = options.targets;
  o.stride = options.stride;
  o.batch = options.batch;
  o.with_empty = options.with_empty;
  o.bos = options.bos;
  o.bos_id = options.bos_id >= 0 ? options.bos_id : tokenizer ? tokenizer->bos_id() : -1;
  o.prefix_sharing = options.prefix_sharing;
  bool can_share = false;
  for (const auto& s : schedules) can_share |= options.prefix_sharing && s->contiguous(L);
  const int64_t span_to = options.span_to < 0 ? n : options.span_to;
  if (options.span_from >= 0) {
    const std::string span = "--span " + std::to_string(options.span_from) + ":" + std::to_string(span_to);
    if (options.span_from < L)
      throw Error(span + ": targets start at t = L = " + std::to_string(L) + " (each needs L tokens of context)");
    if (span_to > n) throw Error(span + ": the text has only " + std::to_string(n) + " tokens");
    if (span_to <= options.span_from) throw Error(span + " is empty");
  }
  if (options.by_word && !tokenizer) throw Error("analysis: whole words as targets need the model's tokenizer");
  if (options.by_word && options.span_from >= 0) {  // every whole word inside the span
    plan.words = index_words(*tokenizer, tokens);
    for (size_t w = 0; w < plan.words.words.size(); ++w)
      if (plan.words.words[w].first_token >= options.span_from && plan.words.words[w].last_token < span_to)
        plan.chosen_words.push_back(int64_t(w));
    if (plan.chosen_words.empty())
      throw Error("--span " + std::to_string(options.span_from) + ":" + std::to_string(span_to) + ": no whole word lies inside it");
    o.positions = word_targets(plan.words, plan.chosen_words);
  } else if (options.by_word) {
    plan.words = index_words(*tokenizer, tokens);
    int64_t count = options.targets;
    if (options.all_targets) {
      count = 0;
      for (const Word& w : plan.words.words) count += w.first_token >= L ? 1 : 0;
      if (count == 0) throw Error("analysis: no whole word starts after the first " + std::to_string(L) + " tokens");
    }
    plan.chosen_words = choose_words(plan.words, L, count, options.all_targets ? 0 : options.stride);
    o.positions = word_targets(plan.words, plan.chosen_words);
  } else if (options.span_from >= 0) {
    for (int64_t t = options.span_from; t < span_to; ++t) o.positions.push_back(t);
  } else if (options.all_targets) {
    if (n <= L) throw Error("analysis: the text has " + std::to_string(n) + " tokens, none after the first L = " + std::to_string(L));
    for (int64_t t = L; t < n; ++t) o.positions.push_back(t);
  } else if (options.stride > 0 || !can_share) {
    o.positions = choose_targets(n, L, options.targets, options.stride);
  } else {
    o.positions = choose_blocks(n, L, options.targets);
  }

  plan.passes = plan_sweep(config, n, o);
  plan.labels = schedule_labels(names);
  plan.context_len = plan.passes.context_len;
  plan.token_forwards_per_target = plan.passes.own_token_forwards_per_target;
  plan.own_token_forwards = plan.passes.own_token_forwards();
  plan.spent_token_forwards = plan.passes.spent_token_forwards();
  return plan;
}

struct AnalysisWriter::Sinks {
  AnalysisSinks user;
  std::optional<TokensCsv> tokens_csv;
  std::optional<WordsCsv> words_csv;
  std::optional<WordAggregator> words;
  std::vector<int> group;  // per schedule: 0 on the shared path, 1 + its place among the per-target schedules
};

AnalysisWriter::AnalysisWriter(const Tokenizer* tokenizer, std::span<const int32_t> tokens, const AnalysisPlan& plan,
                               const AnalysisSinks& sinks)
    : tokenizer_(tokenizer), tokens_(tokens), plan_(plan), sinks_(std::make_unique<Sinks>()) {
  if (sinks.words_csv && !plan.options.by_word) throw Error("analysis: words.csv needs whole words as targets (by word)");
  Sinks& s = *sinks_;
  s.user = sinks;
  const CsvBos bos{.id = plan.sweep.bos_id, .before_every_context = plan.sweep.bos};
  if (sinks.tokens_csv) s.tokens_csv.emplace(*sinks.tokens_csv, tokenizer, plan.labels, bos);
  if (sinks.words_csv) s.words_csv.emplace(*sinks.words_csv, plan.words, plan.labels, plan.context_len, bos);
  if (plan.options.by_word) {
    std::vector<int> iterations;
    for (const auto& lens : plan.context_len) iterations.push_back(int(lens.size()));
    std::function<void(const WordSurprisal&)> on_word;
    if (s.words_csv) on_word = [this](const WordSurprisal& w) { sinks_->words_csv->add(w); };
    s.words.emplace(plan.words, iterations, on_word);
  }
  s.group.assign(plan.labels.size(), 0);
  for (size_t i = 0; i < plan.passes.per_target.size(); ++i) s.group[size_t(plan.passes.per_target[i])] = int(i) + 1;
}

AnalysisWriter::~AnalysisWriter() = default;

void AnalysisWriter::add(const SweepRow& r) {
  Sinks& s = *sinks_;
  if (s.user.on_row) s.user.on_row(r);
  if (s.tokens_csv) s.tokens_csv->add(r);
  if (s.words) s.words->add(r);
}

void AnalysisWriter::add_shards(std::span<const std::vector<SweepRow>> shards) {
  const std::vector<int>& group = sinks_->group;
  const int groups = 1 + int(plan_.passes.per_target.size());
  for (int g = 0; g < groups; ++g)
    for (const std::vector<SweepRow>& rows : shards)
      for (const SweepRow& r : rows) {
        if (r.schedule < 0 || size_t(r.schedule) >= group.size()) throw Error("analysis: a row of an unknown schedule");
        if (group[size_t(r.schedule)] == g) add(r);
      }
}

nlohmann::ordered_json AnalysisWriter::summary(const SweepResult& result, const ModelConfig& config, double seconds) {
  ReportInfo info;
  info.model_dir = plan_.options.model_dir;
  info.text_path = plan_.options.text_path;
  info.text_bytes = plan_.options.text_bytes;
  info.text_tokens = int64_t(tokens_.size());
  info.tolerance = plan_.options.tolerance;
  info.bos_reason = plan_.options.bos_reason;
  info.seconds = seconds;
  info.target_selection = plan_.target_selection();
  info.target_selection_note = plan_.target_selection_note();
  info.plan = &plan_.passes;
  info.tokenizer = tokenizer_;
  info.tokens = tokens_;
  if (sinks_->words) {
    if (sinks_->words->pending() != 0) throw Error("analysis: a target word did not receive all its rows");
    info.word_count = int64_t(plan_.chosen_words.size());
    info.word_surprisal = &sinks_->words->surprisal();
  }
  return make_summary(result, plan_.sweep, config, info);
}

nlohmann::ordered_json run_analysis(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                                    const AnalysisPlan& plan, const AnalysisSinks& sinks) {
  AnalysisWriter writer(tokenizer, tokens, plan, sinks);
  const auto start = std::chrono::steady_clock::now();
  const SweepResult result =
      run_sweep(model, tokens, plan.sweep, [&](const SweepRow& r) { writer.add(r); }, sinks.on_progress);
  return writer.summary(result, model.config(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace strata
