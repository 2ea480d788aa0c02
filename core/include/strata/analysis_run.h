// The run behind `strata analyze`, as a library call: choose the targets (tokens, or every
// token of whole words), sweep the schedules, stream the rows into tokens.csv (and, by
// word, words.csv), and assemble summary.json's content. A front-end keeps only its own
// concerns: arguments, files, signals, progress. The statistics are analysis.h's, the
// summary and the page report.h's, the tables csv.h's, the words words.h's.
//
//   AnalysisPlan plan = plan_analysis(options, tokenizer, tokens, config);  // throws on bad targets
//   std::ofstream csv(dir + "/tokens.csv");
//   nlohmann::ordered_json summary = run_analysis(model, tokenizer, tokens, plan, {.tokens_csv = &csv});
//   write_file_atomic(dir + "/report.html", make_report_html(summary));
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "strata/model.h"
#include "strata/sweep.h"
#include "strata/tokenizer.h"
#include "strata/words.h"

namespace strata {

struct AnalysisOptions {
  int budget = 256;
  std::vector<std::string> schedules = {"sequential", "hierarchical"};  // make_schedule specs
  // The targets, by the first that applies: every token of whole words (by_word; the words
  // inside the span, or `targets` words, or all of them); every position of a span
  // [span_from, span_to) (span_to < 0:
  // to the end); every position t >= L (all_targets); every stride-th position; `targets`
  // positions in contiguous blocks (choose_blocks) when a schedule can share passes; or
  // `targets` positions spread evenly.
  int64_t targets = 100;
  int64_t stride = 0;
  int64_t span_from = -1, span_to = -1;  // span_from >= 0: a span
  bool all_targets = false;
  bool by_word = false;   // choose whole words as targets and aggregate their surprisal
  int batch = 64;         // sequences per forward call
  bool with_empty = false;
  bool bos = false;       // BOS before every context (sweep.h)
  int32_t bos_id = -1;    // the BOS (bos_policy.h); -1: the tokenizer's own bos_id()
  std::string bos_reason; // for the record: what decided `bos` (BosPolicy::reason)
  bool prefix_sharing = true;  // false: every schedule on the per-target path
  double tolerance = 1e-2;
  // For the record in the summary only.
  std::string model_dir, text_path;
  int64_t text_bytes = 0;
};

// Everything decided before the sweep: the targets, and the schedules' labels, shapes and
// both costs, so a front-end can size a progress bar or refuse a run before it starts.
struct AnalysisPlan {
  AnalysisOptions options;
  SweepOptions sweep;                          // explicit positions, ascending
  SweepPlan passes;                            // plan_sweep: paths, passes, costs
  std::vector<std::string> labels;             // schedule_labels: unique, in order
  std::vector<std::vector<int>> context_len;   // per schedule, per iteration: |C_k|
  std::vector<int64_t> token_forwards_per_target;  // per schedule: its own cost
  int64_t own_token_forwards = 0;              // over every schedule and target: what they cost run alone
  int64_t spent_token_forwards = 0;            // what the sweep will run (shared passes padded, per-target contexts)
  WordIndex words;                             // by_word only
  std::vector<int64_t> chosen_words;           // by_word only: indices into words.words

  int64_t targets() const { return int64_t(sweep.positions.size()); }
  // "words", "span", "all", "stride", "blocks" or "even"
  std::string target_selection() const;
  std::string target_selection_note() const;   // the choice in words, for the summary
};

// Chooses the targets and lays out the schedules and passes for a model of `config`.
// Throws strata::Error on a bad schedule or budget and when too few targets fit (the
// messages of choose_targets, choose_blocks and choose_words), or a span outside the text.
// tokenizer may be null (ids scored without one): no words, no token text, no bytes.
AnalysisPlan plan_analysis(const AnalysisOptions& options, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                           const ModelConfig& config);

// Where the rows go. Every pointer may be null; words_csv needs a by-word plan.
struct AnalysisSinks {
  std::ostream* tokens_csv = nullptr;  // tokens.csv, header included (csv.h)
  std::ostream* words_csv = nullptr;   // words.csv, header included (csv.h)
  // Called with each row before it is written (progress, interruption: it may throw to
  // stop the run; the exception propagates).
  std::function<void(const SweepRow&)> on_row{};
  // Called after every forward call with both costs so far (it may throw, as on_row).
  std::function<void(const SweepProgress&)> on_progress{};
};

// The sweep of `plan` over `tokens` (the tokens `plan` was made from), its rows written to
// the sinks, and the summary (make_summary, with the words section by word). The summary's
// wall time is this call's. The streams' states are the caller's to check.
nlohmann::ordered_json run_analysis(Transformer& model, const Tokenizer* tokenizer, std::span<const int32_t> tokens,
                                    const AnalysisPlan& plan, const AnalysisSinks& sinks = {});

// The writing half of run_analysis, for a sweep run in parts elsewhere (shards of the
// plan's targets on MPI ranks: SweepOptions with positions = a shard of shard_targets):
// the parts' rows go to the sinks in the order one sweep gives them, and the merged parts'
// statistics (SweepResult::merge, shards in target order) become the summary.
//
//   AnalysisWriter w(tokenizer, tokens, plan, sinks);
//   w.add_shards(rows_of_each_shard);                      // shards in target order
//   nlohmann::ordered_json summary = w.summary(merged, config, seconds);
class AnalysisWriter {
 public:
  AnalysisWriter(const Tokenizer* tokenizer, std::span<const int32_t> tokens, const AnalysisPlan& plan,
                 const AnalysisSinks& sinks);
  ~AnalysisWriter();
  AnalysisWriter(const AnalysisWriter&) = delete;
  AnalysisWriter& operator=(const AnalysisWriter&) = delete;

  void add(const SweepRow& row);  // the next row in one sweep's order (sinks.on_row, then the tables)
  // Rows of consecutive shards, each in its own sweep's order: one sweep runs the shared
  // schedules first, target by target, then each per-target schedule over all targets, so
  // the shards' rows are interleaved path by path into that order.
  void add_shards(std::span<const std::vector<SweepRow>> shards);
  // The summary of the merged sweep, with `seconds` as its wall time. Throws strata::Error
  // when a target word did not receive all its rows.
  nlohmann::ordered_json summary(const SweepResult& merged, const ModelConfig& config, double seconds);

 private:
  struct Sinks;
  const Tokenizer* tokenizer_;
  std::span<const int32_t> tokens_;
  const AnalysisPlan& plan_;
  std::unique_ptr<Sinks> sinks_;
};

}  // namespace strata
