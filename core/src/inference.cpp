// One target, one schedule, iteration by iteration.
#include "strata/inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/error.h"

namespace strata {

void log_softmax(std::span<const float> logits, std::span<float> out) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float z : logits) sum += std::exp(double(z) - mx);
  const double log_sum = std::log(sum) + mx;
  for (size_t i = 0; i < logits.size(); ++i) out[i] = float(double(logits[i]) - log_sum);
}

void describe_prediction(std::span<const float> log_probs, int32_t target, int top_k, IterationResult& r) {
  const float lp = log_probs[size_t(target)];
  r.target_probability = std::exp(double(lp));
  r.surprisal_bits = -double(lp) / std::log(2.0);
  // Rank: 1 + tokens strictly more probable; ties go to the target.
  r.target_rank = 1 + int(std::count_if(log_probs.begin(), log_probs.end(), [&](float x) { return x > lp; }));
  const int k = std::min<int>(top_k, int(log_probs.size()));
  std::vector<int32_t> ids(log_probs.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int32_t a, int32_t b) {
    return log_probs[size_t(a)] > log_probs[size_t(b)] || (log_probs[size_t(a)] == log_probs[size_t(b)] && a < b);
  });
  r.top.clear();
  for (int i = 0; i < k; ++i) r.top.push_back({ids[size_t(i)], std::exp(log_probs[size_t(ids[size_t(i)])])});
}

IterativeInference::IterativeInference(Transformer& model, std::span<const int32_t> tokens, int64_t target,
                                       std::shared_ptr<const Schedule> schedule, int budget,
                                       InferenceOptions options)
    : model_(model), tokens_(tokens.begin(), tokens.end()), target_(target), budget_(budget), schedule_(std::move(schedule)),
      options_(options) {
  if (!schedule_) throw Error("iterative inference: no schedule");
  if (target < 0 || target >= int64_t(tokens_.size()))
    throw Error("iterative inference: target position " + std::to_string(target) + " outside the text (" +
                std::to_string(tokens_.size()) + " tokens)");
  validate_budget(*schedule_, budget, model.config().max_position_embeddings, target,
                  model.config().position == PositionEncoding::kRoPE, options_.bos);
  if ((options_.with_empty || options_.bos) && (options_.bos_id < 0 || options_.bos_id >= model.config().vocab_size))
    throw Error(std::string("iterative inference: ") +
                (options_.bos ? "BOS before every context" : "the empty-context iteration") +
                " needs a BOS token in the vocabulary");
  target_token_ = tokens_[size_t(target)];
  contexts_ = schedule_->contexts(target, budget, options_.with_empty);
  log_probs_.resize(size_t(model.config().vocab_size));
}

const IterationResult& IterativeInference::step() {
  if (done()) throw Error("iterative inference: all iterations have run");
  const int k = int(history_.size());
  const ContextSet& ctx = contexts_[size_t(k)];
  std::vector<int32_t> input, positions;
  if (ctx.empty()) {
    input = {options_.bos_id};
    positions = {0};
  } else {
    // BOS on: the BOS at position 0, then the window one position on, unless the window
    // already begins with the text's own BOS (never two).
    const bool bos = options_.bos && tokens_[size_t(ctx.positions.front())] != options_.bos_id;
    if (bos) input = {options_.bos_id}, positions = {0};
    for (size_t i = 0; i < ctx.positions.size(); ++i) {
      input.push_back(tokens_[size_t(ctx.positions[i])]);
      positions.push_back(ctx.position_ids[i] + (bos ? 1 : 0));
    }
  }
  const int n = int(input.size());
  const auto start = std::chrono::steady_clock::now();
  const auto logits = model_.forward(input, positions, 1, n, std::vector<int>{n - 1});
  log_softmax(logits, log_probs_);
  IterationResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.iteration = k;
  r.context = ctx;
  r.levels.reserve(ctx.positions.size());
  for (int64_t p : ctx.positions) r.levels.push_back(schedule_->level_of_offset(target_ - p, budget_));
  describe_prediction(log_probs_, target_token_, options_.top_k, r);
  if (options_.keep_log_probs) r.log_probs = log_probs_;
  r.token_forwards = n;
  r.flops = Transformer::forward_flops(model_.config(), n);
  const IterationResult* prev = history_.empty() ? nullptr : &history_.back();
  r.cumulative_token_forwards = r.token_forwards + (prev ? prev->cumulative_token_forwards : 0);
  r.cumulative_flops = r.flops + (prev ? prev->cumulative_flops : 0);
  r.cumulative_seconds = r.seconds + (prev ? prev->cumulative_seconds : 0);
  history_.push_back(std::move(r));
  return history_.back();
}

nlohmann::json to_json(const IterationResult& r, const Tokenizer& tokenizer) {
  nlohmann::json top = nlohmann::json::array();
  // A model's vocabulary may be larger than its tokenizer's (padded embeddings): such an id
  // has no text.
  for (const Prediction& p : r.top)
    top.push_back({{"token", p.token},
                   {"text", p.token < tokenizer.vocab_size() ? nlohmann::json(tokenizer.token_text(p.token)) : nlohmann::json()},
                   {"p", p.probability}});
  return {{"iteration", r.iteration},
          {"context_len", r.context.size()},
          {"positions", r.context.positions},
          {"position_ids", r.context.position_ids},
          {"levels", r.levels},
          {"surprisal_bits", r.surprisal_bits},
          {"probability", r.target_probability},
          {"rank", r.target_rank},
          {"top", top},
          {"forward_passes", r.iteration + 1},
          {"token_forwards", r.cumulative_token_forwards},
          {"flops", r.cumulative_flops},
          {"ms", r.cumulative_seconds * 1e3}};
}

}  // namespace strata
