// The forward pass against an independent PyTorch implementation of the same architecture
// (tests/reference/torch_reference.py, written from the Hugging Face Llama/Gemma code):
// random models with large weights and randomised norms, Llama and Gemma variants,
// grouped-query heads, sparse position ids; plus the forward pass's own contract (rows,
// determinism, buffer reuse, input validation). The reference comparisons skip, loudly,
// when /usr/bin/python3 cannot import torch (and fail instead under CI).
#include "strata/model.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "fixtures.h"
#include "reference_harness.h"
#include "strata/error.h"
#include "strata/model_dir.h"

namespace strata {
namespace {

constexpr double kTolerance = 1e-4;  // max |strata - torch| / max |torch| over all logits

ModelConfig llama_config() {  // grouped-query heads, untied head, a long context for sparse positions
  ModelConfig c = fixtures::tiny_config(
      {.vocab = 97, .hidden = 64, .intermediate = 160, .layers = 3, .heads = 8, .kv_heads = 2, .head_dim = 8, .context = 1024});
  c.tie_word_embeddings = false;
  return c;
}

ModelConfig gemma_config() {  // multi-query; 4 heads × 16 = 64 != d 48: allowed, q_proj is (64, 48)
  return fixtures::tiny_config(
      {.vocab = 89, .hidden = 48, .intermediate = 96, .layers = 2, .heads = 4, .kv_heads = 1, .head_dim = 16, .context = 256},
      fixtures::Family::kGemma);
}

// Matrices N(0, 0.5) so the logits are far from tiny, and every norm weight randomised
// around its neutral value so a norm applied wrongly (w vs 1+w, wrong tensor) shows.
std::shared_ptr<Weights> random_model(const ModelConfig& c, uint64_t seed) {
  auto w = std::make_shared<Weights>(c);
  w->init_random(seed, 0.5f);
  std::mt19937_64 rng(seed * 7919 + 1);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  const float neutral = c.norm_weight_plus_one ? 0.0f : 1.0f;
  for (const auto& t : w->layout)
    if (t.shape.size() == 1)
      for (size_t k = 0; k < t.size; ++k) w->data[t.offset + k] = neutral + dist(rng);
  return w;
}

struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> tokens, positions;  // (B, T)

  nlohmann::json json() const {
    nlohmann::json tok = nlohmann::json::array(), pos = nlohmann::json::array();
    for (int b = 0; b < B; ++b) {
      tok.push_back(std::vector<int32_t>(tokens.begin() + b * T, tokens.begin() + (b + 1) * T));
      pos.push_back(std::vector<int32_t>(positions.begin() + b * T, positions.begin() + (b + 1) * T));
    }
    return {{"tokens", tok}, {"positions", pos}};
  }
};

// Random tokens; positions 0..T-1 in every row unless given per row.
Batch random_batch(int B, int T, int vocab, uint64_t seed, std::vector<std::vector<int32_t>> rows = {}) {
  Batch b{B, T, {}, {}};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> tok(0, vocab - 1);
  for (int i = 0; i < B * T; ++i) b.tokens.push_back(tok(rng));
  for (int r = 0; r < B; ++r)
    for (int t = 0; t < T; ++t) b.positions.push_back(rows.empty() ? t : rows[size_t(r)][size_t(t)]);
  return b;
}

std::vector<float> strata_logits(const std::shared_ptr<Weights>& w, const Batch& b) {
  Transformer model(w);
  auto logits = model.forward(b.tokens, b.positions, b.B, b.T);
  return {logits.begin(), logits.end()};
}

testref::ReferenceRun torch_logits(const Weights& w, const Batch& b, const testref::ScratchDir& dir,
                                   const std::string& env = "") {
  save_weights(w, dir.path() + "/model");
  return testref::run_torch_reference("forward", dir.path() + "/model", b.json(), dir.path(), env);
}

// Compares strata's logits with the reference's, prints the figure, returns it.
double compare(const std::vector<float>& ours, const testref::RefTensor& ref, const Batch& b, int vocab,
               const char* label, double seconds) {
  EXPECT_EQ(ref.shape, (std::vector<int64_t>{b.B, b.T, vocab}));
  const double err = testref::max_relative_error(ours, ref.data);
  double scale = 0;
  for (float x : ref.data) scale = std::max(scale, double(std::fabs(x)));
  std::printf("[ reference ] %-28s max|strata-torch|/max|torch| = %.3g  (max|torch| = %.3g, torch %.1fs)\n",
              label, err, scale, seconds);
  std::string key = std::string("max_rel_error_") + label;
  for (char& ch : key)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  testing::Test::RecordProperty(key, std::to_string(err));
  return err;
}

TEST(ModelTest, LlamaGqaMatchesTorch) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 1);
  const Batch b = random_batch(2, 17, c.vocab_size, 11);
  testref::ScratchDir dir;
  auto ref = torch_logits(*w, b, dir);
  STRATA_SKIP_WITHOUT_TORCH(ref);
  ASSERT_TRUE(ref.ok) << ref.log;
  EXPECT_LE(compare(strata_logits(w, b), ref.at("logits"), b, c.vocab_size, "llama-gqa", ref.seconds), kTolerance);
}

TEST(ModelTest, GemmaMatchesTorch) {
  const ModelConfig c = gemma_config();
  auto w = random_model(c, 2);
  const Batch b = random_batch(2, 13, c.vocab_size, 12);
  testref::ScratchDir dir;
  auto ref = torch_logits(*w, b, dir);
  STRATA_SKIP_WITHOUT_TORCH(ref);
  ASSERT_TRUE(ref.ok) << ref.log;
  EXPECT_LE(compare(strata_logits(w, b), ref.at("logits"), b, c.vocab_size, "gemma", ref.seconds), kTolerance);
}

// Sparse, per-sequence position ids (a schedule's view of a long context): attention is
// causal by index in the sequence, RoPE rotates by the given position.
TEST(ModelTest, SparsePositionIdsMatchTorch) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 3);
  const std::vector<std::vector<int32_t>> rows = {
      {0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 1023},
      {2, 5, 6, 40, 41, 42, 100, 333, 334, 700, 901},
      {500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510},
  };
  const Batch b = random_batch(3, 11, c.vocab_size, 13, rows);
  testref::ScratchDir dir;
  auto ref = torch_logits(*w, b, dir);
  STRATA_SKIP_WITHOUT_TORCH(ref);
  ASSERT_TRUE(ref.ok) << ref.log;
  EXPECT_LE(compare(strata_logits(w, b), ref.at("logits"), b, c.vocab_size, "sparse-positions", ref.seconds),
            kTolerance);
}

// The comparison has teeth: the reference with its rotary sine flipped (a testing switch of
// the script) must disagree with strata by far more than the tolerance.
TEST(ModelTest, TorchComparisonDetectsBrokenRope) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 1);
  const Batch b = random_batch(2, 17, c.vocab_size, 11);
  testref::ScratchDir dir;
  auto ref = torch_logits(*w, b, dir, "STRATA_REF_BREAK=rope");
  STRATA_SKIP_WITHOUT_TORCH(ref);
  ASSERT_TRUE(ref.ok) << ref.log;
  EXPECT_GT(compare(strata_logits(w, b), ref.at("logits"), b, c.vocab_size, "broken-rope", ref.seconds),
            100 * kTolerance);
}

// Logits for selected rows equal those rows of the full forward pass.
TEST(ModelTest, RowsSelectLogitsOfFullForward) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 4);
  const Batch b = random_batch(2, 9, c.vocab_size, 14);
  const std::vector<float> full = strata_logits(w, b);
  const int V = c.vocab_size;
  Transformer model(w);
  // Two rows first, then one: the second call must not return the first call's extent.
  for (const std::vector<int>& rows : {std::vector<int>{0, 5}, std::vector<int>{b.T - 1}}) {
    auto part = model.forward(b.tokens, b.positions, b.B, b.T, rows);
    const int R = int(rows.size());
    ASSERT_EQ(part.size(), size_t(b.B) * R * V);
    std::vector<float> expected;
    for (int s = 0; s < b.B; ++s)
      for (int r : rows)
        expected.insert(expected.end(), full.begin() + (size_t(s) * b.T + r) * V,
                        full.begin() + (size_t(s) * b.T + r + 1) * V);
    EXPECT_LE(testref::max_relative_error(part, expected), 1e-6) << "rows {" << rows[0] << (R > 1 ? ",...}" : "}");
  }
}

TEST(ModelTest, ForwardIsDeterministic) {
  const ModelConfig c = gemma_config();
  auto w = random_model(c, 5);
  const Batch b = random_batch(3, 12, c.vocab_size, 15);
  Transformer model(w);
  auto first = model.forward(b.tokens, b.positions, b.B, b.T);
  const std::vector<float> a(first.begin(), first.end());
  auto second = model.forward(b.tokens, b.positions, b.B, b.T);
  EXPECT_EQ(a, std::vector<float>(second.begin(), second.end()));
}

// Buffers sized by a large call are reused by a smaller one, then grown again; each result
// is that of a fresh Transformer.
TEST(ModelTest, BufferReuseAcrossShapes) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 6);
  const Batch big = random_batch(3, 20, c.vocab_size, 16);
  const Batch small = random_batch(1, 7, c.vocab_size, 17, {{3, 4, 9, 10, 11, 30, 31}});
  const Batch bigger = random_batch(4, 24, c.vocab_size, 18);
  Transformer model(w);
  for (const Batch* b : {&big, &small, &bigger, &small}) {
    auto logits = model.forward(b->tokens, b->positions, b->B, b->T);
    ASSERT_EQ(logits.size(), size_t(b->B) * b->T * c.vocab_size) << "B=" << b->B << " T=" << b->T;
    EXPECT_EQ(std::vector<float>(logits.begin(), logits.end()), strata_logits(w, *b))
        << "B=" << b->B << " T=" << b->T;
  }
}

TEST(ModelTest, TrainingForwardGivesSameLogits) {
  const ModelConfig c = gemma_config();
  auto w = random_model(c, 7);
  const Batch b = random_batch(2, 10, c.vocab_size, 19);
  Transformer model(w);
  auto logits = model.forward_for_training(b.tokens, b.positions, b.B, b.T);
  EXPECT_LE(testref::max_relative_error(logits, strata_logits(w, b)), 1e-6);
}

TEST(ModelTest, RejectsInvalidInput) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 8);
  Transformer model(w);
  const Batch ok = random_batch(2, 4, c.vocab_size, 20);
  ASSERT_NO_THROW(model.forward(ok.tokens, ok.positions, 2, 4));
  auto with = [&](std::vector<int32_t> Batch::*field, size_t i, int32_t value) {
    Batch b = ok;
    (b.*field)[i] = value;
    return b;
  };
  for (const Batch& b : {with(&Batch::tokens, 1, -1), with(&Batch::tokens, 6, c.vocab_size),
                         with(&Batch::positions, 0, -1),
                         with(&Batch::positions, 7, c.max_position_embeddings)})
    EXPECT_THROW(model.forward(b.tokens, b.positions, 2, 4), Error);
  EXPECT_THROW(model.forward(ok.tokens, ok.positions, 2, 3), Error);  // sizes do not match B*T
  const std::vector<int> bad_rows{4};
  EXPECT_THROW(model.forward(ok.tokens, ok.positions, 2, 4, bad_rows), Error);
  // A rejected call leaves the model usable.
  auto logits = model.forward(ok.tokens, ok.positions, 2, 4);
  EXPECT_EQ(std::vector<float>(logits.begin(), logits.end()), strata_logits(w, ok));
}

}  // namespace
}  // namespace strata
