// Next-token training: AdamW with decoupled weight decay on matrices only, linear warm-up
// then cosine decay, gradient clipping by global norm, dropout on the residual branches,
// random windows of a token stream. A run is a pure function of (initial weights, data,
// options, thread count): the batch and the dropout masks of step s are drawn from (seed,
// s), so a resumed run repeats exactly.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/backward.h"
#include "strata/model.h"

namespace strata {

struct TrainOptions {
  int batch_size = 16;
  int seq_len = 256;
  int64_t steps = 1000;
  float lr = 1e-3f;
  float min_lr = 1e-4f;  // cosine decay ends here
  int64_t warmup = 50;
  float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f;
  float weight_decay = 0.1f;  // applied to 2-D tensors (matrices, embeddings) only
  float clip = 1.0f;          // global gradient norm; 0 disables
  float dropout = 0.0f;       // residual-branch dropout probability (see strata::Dropout)
  uint64_t seed = 1;
};

nlohmann::json train_options_to_json(const TrainOptions& o);
TrainOptions train_options_from_json(const nlohmann::json& j);  // throws strata::Error

// Plain AdamW in the form torch.optim.AdamW computes it.
class AdamW {
 public:
  AdamW(const ModelConfig& c, const TrainOptions& o);
  void update(std::span<float> params, std::span<const float> grads, float lr);
  int64_t step_count() const { return t_; }
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  void set_step_count(int64_t t) { t_ = t; }

 private:
  TrainOptions o_;
  std::vector<uint8_t> decay_;  // per parameter: 1 if weight decay applies
  std::vector<float> m_, v_;
  int64_t t_ = 0;
};

float learning_rate(const TrainOptions& o, int64_t step);

struct StepStats {
  int64_t step = 0;  // steps completed after this one
  double loss = 0;   // mean cross-entropy in nats, before the update
  double grad_norm = 0;
  float lr = 0;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<Weights> weights, std::vector<int32_t> train_tokens,
          std::vector<int32_t> validation_tokens, const TrainOptions& o);

  StepStats step();  // one AdamW step on the next random batch, at the scheduled lr
  // One AdamW step on a given batch (B, T) at a given learning rate, with the dropout of
  // the step it is (dropout_at(steps_done())); step() uses it.
  StepStats step_on(std::span<const int32_t> tokens, std::span<const int32_t> positions,
                    std::span<const int32_t> targets, int B, int T, float lr);
  int64_t steps_done() const { return adam_.step_count(); }
  // The dropout of step `step`: options().dropout with a seed drawn from (seed, step).
  Dropout dropout_at(int64_t step) const;
  // The model after the last step: its activations hold that step's dropout masks.
  const Transformer& model() const { return model_; }
  // Mean loss (nats) on `batches` fixed validation windows (the same windows every call).
  double validation_loss(int batches);
  const Weights& weights() const { return *weights_; }
  const TrainOptions& options() const { return o_; }

  // Checkpoint = weights + AdamW moments + step + options, in one safetensors file
  // written atomically. resume() refuses a checkpoint of another config.
  void save_checkpoint(const std::string& path) const;
  void resume(const std::string& path);

 private:
  void draw_batch(const std::vector<int32_t>& source, uint64_t stream, int64_t index);
  std::shared_ptr<Weights> weights_;
  std::vector<int32_t> train_, validation_;
  TrainOptions o_;
  Transformer model_;
  Backward backward_;
  AdamW adam_;
  std::vector<float> grads_;
  std::vector<int32_t> tokens_, positions_, targets_;
};

}  // namespace strata
