// The backward pass against central finite differences, for every parameter tensor of
// tiny Llama- and Gemma-style models, without and with dropout (a fixed mask: the same
// Dropout seed gives the same mask on every forward pass).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "strata/backward.h"
#include "strata/error.h"

#include "../fixtures.h"

namespace strata {
namespace {

ModelConfig tiny_config(bool gemma) {  // small enough for finite differences on every weight
  return fixtures::tiny_config({.vocab = 11, .hidden = 8, .intermediate = 12, .layers = 2, .heads = 2, .kv_heads = 1,
                                .head_dim = 4, .context = 16},
                               gemma ? fixtures::Family::kGemma : fixtures::Family::kLlama);
}

struct Batch {
  std::vector<int32_t> tokens, positions, targets;
};

Batch random_batch(const ModelConfig& c, int B, int T, uint32_t seed) {
  std::mt19937 rng(seed);
  Batch b;
  for (int i = 0; i < B * T; ++i) {
    b.tokens.push_back(int32_t(rng() % c.vocab_size));
    b.targets.push_back(i % 7 == 3 ? -1 : int32_t(rng() % c.vocab_size));  // some ignored
    b.positions.push_back(int32_t((i % T) * 2 + (i / T)));                   // sparse positions
  }
  return b;
}

double loss_of(const std::shared_ptr<Weights>& w, const Batch& b, int B, int T, const Dropout& dropout) {
  Transformer model(w);
  auto logits = model.forward_for_training(b.tokens, b.positions, B, T, dropout);
  int count = 0;
  for (int32_t t : b.targets) count += t >= 0;
  return cross_entropy(logits.data(), b.targets.data(), B * T, w->config.vocab_size, nullptr, 1.0f) / count;
}

void check_gradients(bool gemma, Dropout dropout = {}) {
  const ModelConfig c = tiny_config(gemma);
  auto w = std::make_shared<Weights>(c);
  w->init_random(7, 0.4f);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  for (const auto& t : w->layout)  // norms away from their neutral value, so they matter
    if (t.shape.size() == 1)
      for (size_t i = 0; i < t.size; ++i) w->data[t.offset + i] += noise(rng);
  const int B = 2, T = 5;
  const Batch batch = random_batch(c, B, T, 11);

  Transformer model(w);
  model.forward_for_training(batch.tokens, batch.positions, B, T, dropout);
  if (dropout.p > 0) {  // the mask really drops about p of the elements
    const auto& keep = model.activations().dropout_keep;
    const size_t n = size_t(c.num_hidden_layers) * 2 * B * T * c.hidden_size;
    ASSERT_GE(keep.size(), n);
    const double dropped = double(std::count(keep.begin(), keep.begin() + std::ptrdiff_t(n), uint8_t(0))) / double(n);
    EXPECT_NEAR(dropped, dropout.p, 0.08);
  }
  std::vector<float> grads(w->data.size(), 0.0f);
  Backward backward(c);
  backward.loss_and_backward(model, batch.tokens, batch.positions, batch.targets, grads);

  const float eps = 3e-3f;
  for (const auto& t : w->layout) {
    double diff2 = 0, norm2 = 0;
    for (size_t i = 0; i < t.size; ++i) {
      float& p = w->data[t.offset + i];
      const float saved = p;
      p = saved + eps;
      const double up = loss_of(w, batch, B, T, dropout);
      p = saved - eps;
      const double down = loss_of(w, batch, B, T, dropout);
      p = saved;
      const double numeric = (up - down) / (2.0 * eps);
      const double analytic = grads[t.offset + i];
      diff2 += (numeric - analytic) * (numeric - analytic);
      norm2 += analytic * analytic;
    }
    EXPECT_GT(norm2, 0.0) << t.name << " has an all-zero gradient";
    EXPECT_LT(std::sqrt(diff2 / norm2), 1e-2) << t.name;
  }
}

TEST(BackwardTest, LlamaGradientsMatchFiniteDifferences) { check_gradients(false); }
TEST(BackwardTest, GemmaGradientsMatchFiniteDifferences) { check_gradients(true); }
TEST(BackwardTest, LlamaGradientsWithDropoutMatchFiniteDifferences) { check_gradients(false, {.p = 0.3f, .seed = 5}); }
TEST(BackwardTest, GemmaGradientsWithDropoutMatchFiniteDifferences) { check_gradients(true, {.p = 0.3f, .seed = 6}); }

TEST(BackwardTest, DropoutMaskIsAFunctionOfSeedLayerBranchAndIndexOnly) {
  const Dropout a{.p = 0.25f, .seed = 1}, b{.p = 0.25f, .seed = 2};
  int dropped = 0, same_as_other_seed = 0, same_as_other_branch = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const bool keep = dropout_keeps(a, 1, 0, uint64_t(i));
    EXPECT_EQ(keep, dropout_keeps(a, 1, 0, uint64_t(i)));
    dropped += !keep;
    same_as_other_seed += keep == dropout_keeps(b, 1, 0, uint64_t(i));
    same_as_other_branch += keep == dropout_keeps(a, 1, 1, uint64_t(i));
  }
  EXPECT_NEAR(double(dropped) / n, 0.25, 0.01);
  // Independent masks agree on p² + (1-p)² = 62.5% of the elements.
  EXPECT_NEAR(double(same_as_other_seed) / n, 0.625, 0.015);
  EXPECT_NEAR(double(same_as_other_branch) / n, 0.625, 0.015);
  EXPECT_TRUE(dropout_keeps({.p = 0.0f, .seed = 9}, 0, 0, 123));
}

TEST(BackwardTest, DropoutLeavesInferenceAndSameSeedTrainingPassesUnchanged) {
  const ModelConfig c = tiny_config(false);
  auto w = std::make_shared<Weights>(c);
  w->init_random(7, 0.4f);
  const int B = 2, T = 5;
  const Batch batch = random_batch(c, B, T, 11);
  Transformer model(w);
  auto copy = [](std::span<const float> s) { return std::vector<float>(s.begin(), s.end()); };
  const auto plain = copy(model.forward(batch.tokens, batch.positions, B, T));
  const auto undropped = copy(model.forward_for_training(batch.tokens, batch.positions, B, T));
  EXPECT_EQ(plain, undropped);
  const auto dropped1 = copy(model.forward_for_training(batch.tokens, batch.positions, B, T, {.p = 0.5f, .seed = 3}));
  EXPECT_NE(plain, dropped1);
  EXPECT_EQ(plain, copy(model.forward(batch.tokens, batch.positions, B, T)));  // nothing leaks into inference
  EXPECT_EQ(dropped1, copy(model.forward_for_training(batch.tokens, batch.positions, B, T, {.p = 0.5f, .seed = 3})));
  EXPECT_THROW(model.forward_for_training(batch.tokens, batch.positions, B, T, {.p = 1.0f}), Error);
}

TEST(BackwardTest, CrossEntropyOfUniformLogitsIsLogVocab) {
  std::vector<float> logits(3 * 5, 0.25f), dlogits(15);
  std::vector<int32_t> targets = {0, 4, -1};
  const double loss = cross_entropy(logits.data(), targets.data(), 3, 5, dlogits.data(), 1.0f);
  EXPECT_NEAR(loss, 2 * std::log(5.0), 1e-6);
  EXPECT_NEAR(dlogits[0], 0.2f - 1.0f, 1e-6);
  EXPECT_EQ(dlogits[10], 0.0f);
}

}  // namespace
}  // namespace strata
