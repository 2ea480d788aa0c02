// Iterative inference: refine the prediction of one target token over the iterations of a
// schedule, running the same, unchanged model on each iteration's context. A step API
// (start, step, state) lets a front-end walk through the iterations one at a time.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "strata/model.h"
#include "strata/schedule.h"
#include "strata/tokenizer.h"

namespace strata {

struct Prediction {
  int32_t token;
  float probability;
};

struct IterationResult {
  int iteration = 0;             // k, from 0
  ContextSet context;            // C_k
  std::vector<int> levels;       // per context position: Schedule::level_of_offset(t − p), for colouring
  double target_probability = 0;
  double surprisal_bits = 0;     // −log2 p_k(x_t | C_k)
  int target_rank = 0;           // 1 = the model's top prediction
  std::vector<Prediction> top;   // top-k, most probable first
  std::vector<float> log_probs;  // natural log over the vocabulary, when asked for
  // Compute of this iteration and cumulative over the iterations so far.
  int64_t token_forwards = 0, cumulative_token_forwards = 0;
  double flops = 0, cumulative_flops = 0;
  double seconds = 0, cumulative_seconds = 0;
};

struct InferenceOptions {
  int top_k = 5;
  bool keep_log_probs = false;
  bool with_empty = false;  // prepend the unconditional iteration (needs a BOS token)
  bool bos = false;         // every context is BOS at position 0 followed by the window (bos_policy.h)
  int32_t bos_id = -1;
};

// Log-softmax of one row of logits, in double for the sums.
void log_softmax(std::span<const float> logits, std::span<float> out);

// The distribution's facts about one token: probability, rank, top-k.
void describe_prediction(std::span<const float> log_probs, int32_t target, int top_k, IterationResult& r);

// One iteration as JSON, the form `strata infer --json` prints and the page's state shows:
// iteration, context_len, positions, position_ids, levels, surprisal_bits, probability,
// rank, top [{token, text, p}], forward_passes, and the cumulative token_forwards, flops
// and ms. Token texts are raw bytes: dump with error_handler_t::replace.
nlohmann::json to_json(const IterationResult& r, const Tokenizer& tokenizer);

class IterativeInference {
 public:
  // tokens: the whole text; target: the position t to predict. Validates the budget
  // against the model (validate_budget, with options.bos: L + 1 positions) and throws
  // strata::Error on bad input. token_forwards count the BOS.
  IterativeInference(Transformer& model, std::span<const int32_t> tokens, int64_t target,
                     std::shared_ptr<const Schedule> schedule, int budget, InferenceOptions options = {});

  int iterations() const { return int(contexts_.size()); }
  bool done() const { return int(history_.size()) == iterations(); }
  const IterationResult& step();  // runs the next iteration; throws if done()
  void run_all() {
    while (!done()) step();
  }
  void reset() { history_.clear(); }
  const std::vector<IterationResult>& history() const { return history_; }
  const std::vector<ContextSet>& contexts() const { return contexts_; }
  int64_t target() const { return target_; }
  int budget() const { return budget_; }
  const Schedule& schedule() const { return *schedule_; }
  int32_t target_token() const { return target_token_; }

 private:
  Transformer& model_;
  std::vector<int32_t> tokens_;
  int64_t target_;
  int budget_;
  int32_t target_token_;
  std::shared_ptr<const Schedule> schedule_;
  InferenceOptions options_;
  std::vector<ContextSet> contexts_;
  std::vector<IterationResult> history_;
  std::vector<float> log_probs_;
};

}  // namespace strata
