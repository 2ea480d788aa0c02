// AdamW, the learning-rate schedule, batches, checkpoints: everything a training step needs
// besides forward and backward.
#include "strata/trainer.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>

#include "strata/error.h"
#include "strata/json_fields.h"
#include "strata/safetensors.h"

namespace strata {

nlohmann::json train_options_to_json(const TrainOptions& o) {
  return {{"batch_size", o.batch_size}, {"seq_len", o.seq_len},   {"steps", o.steps},
          {"lr", o.lr},                 {"min_lr", o.min_lr},     {"warmup", o.warmup},
          {"beta1", o.beta1},           {"beta2", o.beta2},       {"eps", o.eps},
          {"weight_decay", o.weight_decay}, {"clip", o.clip},     {"dropout", o.dropout},
          {"seed", o.seed}};
}

TrainOptions train_options_from_json(const nlohmann::json& j) {
  namespace f = json_fields;
  constexpr std::string_view where = "training options";
  if (!j.is_object()) throw Error("training options: expected a JSON object");
  TrainOptions o;
  o.batch_size = int(f::integer_or(j, "batch_size", o.batch_size, 1, 1 << 16, where));
  o.seq_len = int(f::integer_or(j, "seq_len", o.seq_len, 1, ModelConfig::kMaxContext, where));
  o.steps = f::integer_or(j, "steps", o.steps, 1, int64_t(1) << 40, where);
  o.lr = float(f::number_or(j, "lr", o.lr, 1e-12, 10, where));
  o.min_lr = float(f::number_or(j, "min_lr", o.min_lr, 0, 10, where));
  o.warmup = f::integer_or(j, "warmup", o.warmup, 0, int64_t(1) << 40, where);
  o.beta1 = float(f::number_or(j, "beta1", o.beta1, 0, 0.999999, where));
  o.beta2 = float(f::number_or(j, "beta2", o.beta2, 0, 0.999999, where));
  o.eps = float(f::number_or(j, "eps", o.eps, 0, 1, where));
  o.weight_decay = float(f::number_or(j, "weight_decay", o.weight_decay, 0, 10, where));
  o.clip = float(f::number_or(j, "clip", o.clip, 0, 1e6, where));
  o.dropout = float(f::number_or(j, "dropout", o.dropout, 0, 0.9, where));
  o.seed = uint64_t(f::integer_or(j, "seed", int64_t(o.seed), 0, INT64_MAX, where));
  return o;
}

AdamW::AdamW(const ModelConfig& c, const TrainOptions& o) : o_(o) {
  const size_t n = size_t(c.parameter_count());
  m_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
  decay_.assign(n, 0);
  for (const auto& t : parameter_layout(c))
    if (t.shape.size() >= 2) std::fill(decay_.begin() + t.offset, decay_.begin() + t.offset + t.size, 1);
}

void AdamW::update(std::span<float> p, std::span<const float> g, float lr) {
  ++t_;
  const double bc1 = 1.0 - std::pow(double(o_.beta1), double(t_));
  const double bc2 = 1.0 - std::pow(double(o_.beta2), double(t_));
  const float step_size = float(lr / bc1);
  const float sqrt_bc2 = float(std::sqrt(bc2));
  const float b1 = o_.beta1, b2 = o_.beta2;
  const int64_t n = int64_t(p.size());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    if (decay_[size_t(i)]) p[size_t(i)] *= 1.0f - lr * o_.weight_decay;
    m_[size_t(i)] = b1 * m_[size_t(i)] + (1.0f - b1) * g[size_t(i)];
    v_[size_t(i)] = b2 * v_[size_t(i)] + (1.0f - b2) * g[size_t(i)] * g[size_t(i)];
    const float denom = std::sqrt(v_[size_t(i)]) / sqrt_bc2 + o_.eps;
    p[size_t(i)] -= step_size * m_[size_t(i)] / denom;
  }
}

float learning_rate(const TrainOptions& o, int64_t step) {
  if (step < o.warmup) return o.lr * float(step + 1) / float(o.warmup);
  const int64_t decay_steps = std::max<int64_t>(1, o.steps - o.warmup);
  const double progress = std::min(1.0, double(step - o.warmup) / double(decay_steps));
  return o.min_lr + float(0.5 * (1.0 + std::cos(M_PI * progress))) * (o.lr - o.min_lr);
}

Trainer::Trainer(std::shared_ptr<Weights> weights, std::vector<int32_t> train_tokens,
                 std::vector<int32_t> validation_tokens, const TrainOptions& o)
    : weights_(std::move(weights)),
      train_(std::move(train_tokens)),
      validation_(std::move(validation_tokens)),
      o_(o),
      model_(weights_),
      backward_(weights_->config),
      adam_(weights_->config, o) {
  const ModelConfig& c = weights_->config;
  // Parameters, gradients and Adam's moments share one float layout.
  if (!weights_->flat_f32()) throw Error("training: the weights must be held in float32 (load with --dtype f32)");
  if (o.seq_len > c.max_position_embeddings)
    throw Error("training: seq_len " + std::to_string(o.seq_len) + " exceeds the model's context (" +
                std::to_string(c.max_position_embeddings) + ")");
  if (train_.size() < size_t(o.seq_len) + 1)
    throw Error("training: the training text has " + std::to_string(train_.size()) +
                " tokens, fewer than one window of seq_len+1 = " + std::to_string(o.seq_len + 1));
  if (!(o.dropout >= 0.0f && o.dropout < 1.0f)) throw Error("training: dropout must be in [0, 1)");
  if (!validation_.empty() && validation_.size() < size_t(o.seq_len) + 1)
    throw Error("training: the validation split has " + std::to_string(validation_.size()) +
                " tokens, fewer than one window; use a longer text or a larger split");
  grads_.assign(weights_->data.size(), 0.0f);
}

void Trainer::draw_batch(const std::vector<int32_t>& source, uint64_t stream, int64_t index) {
  const int B = o_.batch_size, T = o_.seq_len;
  std::seed_seq seq{uint32_t(o_.seed), uint32_t(o_.seed >> 32), uint32_t(stream), uint32_t(index),
                    uint32_t(uint64_t(index) >> 32)};
  std::mt19937_64 rng(seq);
  std::uniform_int_distribution<size_t> start(0, source.size() - size_t(T) - 1);
  tokens_.resize(size_t(B) * T);
  targets_.resize(tokens_.size());
  positions_.resize(tokens_.size());
  for (int b = 0; b < B; ++b) {
    const size_t s = start(rng);
    for (int t = 0; t < T; ++t) {
      tokens_[size_t(b) * T + t] = source[s + t];
      targets_[size_t(b) * T + t] = source[s + t + 1];
      positions_[size_t(b) * T + t] = t;
    }
  }
}

Dropout Trainer::dropout_at(int64_t step) const {
  // A stream of its own (2), apart from the batches' (0) and validation's (1).
  std::seed_seq seq{uint32_t(o_.seed), uint32_t(o_.seed >> 32), 2u, uint32_t(step), uint32_t(uint64_t(step) >> 32)};
  std::mt19937_64 rng(seq);
  return Dropout{o_.dropout, rng()};
}

StepStats Trainer::step() {
  const int64_t step = adam_.step_count();
  draw_batch(train_, /*stream=*/0, step);
  return step_on(tokens_, positions_, targets_, o_.batch_size, o_.seq_len, learning_rate(o_, step));
}

StepStats Trainer::step_on(std::span<const int32_t> tokens, std::span<const int32_t> positions,
                           std::span<const int32_t> targets, int B, int T, float lr) {
  StepStats s;
  std::fill(grads_.begin(), grads_.end(), 0.0f);
  model_.forward_for_training(tokens, positions, B, T, dropout_at(adam_.step_count()));
  s.loss = backward_.loss_and_backward(model_, tokens, positions, targets, grads_);
  double norm2 = 0;
  for (float g : grads_) norm2 += double(g) * g;
  s.grad_norm = std::sqrt(norm2);
  if (o_.clip > 0 && s.grad_norm > o_.clip) {
    const float scale = float(o_.clip / (s.grad_norm + 1e-6));  // torch's clip_grad_norm_
    for (float& g : grads_) g *= scale;
  }
  s.lr = lr;
  adam_.update(weights_->data, grads_, lr);
  s.step = adam_.step_count();
  return s;
}

double Trainer::validation_loss(int batches) {
  if (validation_.empty()) return NAN;
  double total = 0;
  for (int i = 0; i < batches; ++i) {
    draw_batch(validation_, /*stream=*/1, i);
    auto logits = model_.forward(tokens_, positions_, o_.batch_size, o_.seq_len);
    total += cross_entropy(logits.data(), targets_.data(), int(tokens_.size()), weights_->config.vocab_size,
                           nullptr, 1.0f) / double(tokens_.size());
  }
  return total / batches;
}

void Trainer::save_checkpoint(const std::string& path) const {
  std::vector<NamedTensor> tensors;
  for (const auto& t : weights_->layout) {
    const std::span<const float> w(weights_->data.data() + t.offset, t.size);
    tensors.push_back({t.name, t.shape, w});
    tensors.push_back({"optimizer.m." + t.name, t.shape, std::span<const float>(adam_.m().data() + t.offset, t.size)});
    tensors.push_back({"optimizer.v." + t.name, t.shape, std::span<const float>(adam_.v().data() + t.offset, t.size)});
  }
  write_safetensors(path, tensors,
                    {{"format", "strata-checkpoint"},
                     {"step", std::to_string(adam_.step_count())},
                     {"config", config_to_json(weights_->config).dump()},
                     {"options", train_options_to_json(o_).dump()}});
}

void Trainer::resume(const std::string& path) {
  const SafetensorsReader r = SafetensorsReader::open(path);
  const auto& meta = r.metadata();
  if (!meta.count("format") || meta.at("format") != "strata-checkpoint" || !meta.count("step") ||
      !meta.count("config"))
    throw Error(path + ": not a strata training checkpoint");
  const ModelConfig saved = config_from_json(nlohmann::json::parse(meta.at("config"), nullptr, false));
  if (config_to_json(saved) != config_to_json(weights_->config))
    throw Error(path + ": checkpoint was trained with a different model config");
  for (const auto& t : weights_->layout) {
    for (auto [prefix, dest] : {std::pair<std::string, float*>{"", weights_->data.data()},
                                {"optimizer.m.", adam_.m().data()},
                                {"optimizer.v.", adam_.v().data()}}) {
      const TensorEntry* e = r.find(prefix + t.name);
      if (!e || e->numel != t.size) throw Error(path + ": checkpoint lacks tensor " + prefix + t.name);
      r.read_f32(*e, std::span<float>(dest + t.offset, t.size));
    }
  }
  try {
    adam_.set_step_count(std::stoll(meta.at("step")));
  } catch (const std::exception&) {
    throw Error(path + ": checkpoint step is not a number");
  }
}

}  // namespace strata
