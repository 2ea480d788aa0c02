// The forward pass against an independent PyTorch implementation of the same architecture
// (tests/reference/torch_reference.py, written from the Hugging Face Llama/Gemma code):
// random models with large weights and randomised norms, Llama and Gemma variants,
// grouped-query heads, sparse position ids; plus the forward pass's own contract (rows,
// determinism, buffer reuse, input validation); and random checkpoints of every Hugging
// Face family strata runs, in their exact HF layout, each feature shown to be live. The reference comparisons skip, loudly,
// when /usr/bin/python3 cannot import torch (and fail instead under CI).
#include "strata/model.h"

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "fixtures.h"
#include "reference_harness.h"
#include "strata/error.h"
#include "strata/model_dir.h"
#include "strata/ops.h"
#include "strata/schedule.h"

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
  const float neutral = c.norm == NormKind::kRMSNormPlusOne ? 0.0f : 1.0f;
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

std::vector<float> strata_logits(const std::shared_ptr<Weights>& w, const Batch& b, bool packed = false) {
  Transformer model(w);
  if (packed && !model.pack_weights()) throw Error("strata_logits: the model was not packed");
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

// Logits asked for at some rows equal those rows of the full forward pass, and so does the
// final hidden state sweeps read (activations().final_norm, (B, R, d)). Asked for fewer
// rows than T, the last layer runs past attention on those rows only. The calls share one
// Transformer: a call must not return an earlier call's extent.
void expect_rows_of_full_forward(const std::shared_ptr<Weights>& w, const Batch& b,
                                 const std::vector<std::vector<int>>& row_sets, const char* label) {
  const int V = w->config.vocab_size, d = w->config.hidden_size;
  Transformer full_model(w);
  auto full_logits = full_model.forward(b.tokens, b.positions, b.B, b.T);
  const std::vector<float> full(full_logits.begin(), full_logits.end());
  const std::vector<float> full_hidden(full_model.activations().final_norm.begin(),
                                       full_model.activations().final_norm.begin() + size_t(b.B) * b.T * d);
  Transformer model(w);
  for (const std::vector<int>& rows : row_sets) {
    auto part = model.forward(b.tokens, b.positions, b.B, b.T, rows);
    const size_t R = rows.size();
    ASSERT_EQ(part.size(), size_t(b.B) * R * V);
    std::vector<float> expected, expected_hidden;
    for (int s = 0; s < b.B; ++s)
      for (int r : rows) {
        const size_t at = size_t(s) * b.T + size_t(r);
        expected.insert(expected.end(), full.begin() + at * V, full.begin() + (at + 1) * V);
        expected_hidden.insert(expected_hidden.end(), full_hidden.begin() + at * d, full_hidden.begin() + (at + 1) * d);
      }
    const std::vector<float> hidden(model.activations().final_norm.begin(),
                                    model.activations().final_norm.begin() + size_t(b.B) * R * d);
    EXPECT_LE(testref::max_relative_error(part, expected), 1e-5) << label << ": " << R << " rows from " << rows[0];
    EXPECT_LE(testref::max_relative_error(hidden, expected_hidden), 1e-5) << label << ": " << R << " rows from " << rows[0];
  }
}

TEST(ModelTest, RowsSelectLogitsOfFullForward) {
  const ModelConfig c = llama_config();
  const Batch b = random_batch(2, 9, c.vocab_size, 14);
  // Fewer rows than T, in order and not; then as many rows as T, repeated and out of order.
  expect_rows_of_full_forward(random_model(c, 4), b, {{0, 5}, {b.T - 1}, {7, 2}, {8, 8, 0, 1, 2, 3, 4, 5, 6}}, "llama");
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

// A checkpoint stored in F16 or BF16 runs with its matrices in that type (mapped from the
// file, widened by the kernels as they read) and must give exactly the logits of the same
// stored values widened to float32 at load (--dtype f32): every widening is exact and the
// kernels' arithmetic is the same, so there is no tolerance. Both the dot-product path (T <
// 32 rows) and the packed-panel path (T >= 32) of the matmul, a tied and an untied head,
// and GPT-2 (Conv1D matrices transposed into owned 16-bit memory, learned positions) run;
// and with the weights packed once, where 16-bit panels (widened as the kernel loads them)
// meet float panels.
TEST(ModelTest, SixteenBitCheckpointsGiveTheLogitsOfTheirFloatWidening) {
  fixtures::ScratchDir dir("sixteen_bit_logits");
  fixtures::Shape s;
  s.context = 64;
  const ModelConfig gpt2 = config_from_json({{"model_type", "gpt2"}, {"vocab_size", 40}, {"n_embd", 32}, {"n_layer", 2},
                                             {"n_head", 2}, {"n_positions", 64}});
  const ModelConfig configs[] = {fixtures::tiny_config(s), fixtures::tiny_config(s, fixtures::Family::kGemma), gpt2};
  for (const ModelConfig& c : configs)
    for (DType stored : {DType::kBF16, DType::kF16}) {
      const std::string path = dir.path() + "/" + c.model_type + std::to_string(c.tie_word_embeddings) + dtype_name(stored);
      save_weights(*fixtures::random_weights(c, 3, 0.3f), path, stored);
      auto held = std::make_shared<Weights>(load_weights(path));
      auto widened = std::make_shared<Weights>(load_weights(path, nullptr, DType::kF32));
      ASSERT_EQ(held->matrix_dtypes(), dtype_name(stored));
      ASSERT_TRUE(widened->flat_f32());
      for (int T : {5, 40}) {
        const Batch b = random_batch(2, T, c.vocab_size, 17);
        EXPECT_EQ(strata_logits(held, b), strata_logits(widened, b))
            << c.model_type << " tied=" << c.tie_word_embeddings << " " << dtype_name(stored) << " T=" << T;
        EXPECT_EQ(strata_logits(held, b, /*packed=*/true), strata_logits(widened, b, /*packed=*/true))
            << "packed: " << c.model_type << " tied=" << c.tie_word_embeddings << " " << dtype_name(stored) << " T=" << T;
      }
    }
}

// ---- Hugging Face checkpoints of every family ------------------------------------------
// The reference writes a random checkpoint in the family's exact HF layout (its names and
// shapes, GPT-2's Conv1D (in, out) matrices and mask buffers, shards with an index, F16 or
// BF16 storage); strata loads it through load_weights and both compute logits. Each case
// also names the features it makes live, each with a mutation of the loaded model that
// leaves the feature out: that model must then disagree with the reference by far more than
// the tolerance, so a case cannot pass while its feature is silently ignored.
//
// Tolerance: 1e-4 relative for every storage dtype. Both sides widen the same stored F16 or
// BF16 values to float32 exactly and compute in float32, so storage adds no error of its
// own; what remains is summation order (as with F32 weights). Against Hugging Face running
// in BF16 the gap would be ~1e-2, from its bf16 activations, which neither side models.

struct Mutation {
  const char* feature;
  std::function<void(Weights&)> leave_out;
};

struct FamilyCase {
  const char* name;
  nlohmann::json spec;  // for torch_reference.py make
  int T;                // sequence length (longer than any sliding window)
  std::vector<Mutation> live;
};

void zero_tensors(Weights& w, const std::string& suffix) {
  for (const auto& t : w.layout)
    if (t.name.size() >= suffix.size() && t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      std::fill_n(w.data.begin() + std::ptrdiff_t(t.offset), t.size, 0.0f);
}

// GPT-2's square c_proj read in the wrong orientation (as (out, in) without the transpose).
void untranspose_square(Weights& w) {
  for (const auto& t : w.layout)
    if (t.transposed && t.shape[0] == t.shape[1]) {
      const size_t n = size_t(t.shape[0]);
      float* m = w.data.data() + t.offset;
      for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) std::swap(m[i * n + j], m[j * n + i]);
    }
}

std::vector<FamilyCase> family_cases() {
  std::vector<FamilyCase> cases;
  auto off = [](auto field) { return [field](Weights& w) { field(w.config); }; };
  {
    nlohmann::json c = fixtures::llama_like_json("llama", 4, 2, 8);  // GQA, untied
    cases.push_back({"llama_gqa_f32", {{"config", c}, {"seed", 1}}, 12, {}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("llama", 4, 1, 12);  // MQA, head_dim 12 != 32 / 4
    c["attention_bias"] = true;
    c["mlp_bias"] = true;
    c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
    cases.push_back({"llama3_rope_biases_bf16_sharded", {{"config", c}, {"seed", 2}, {"dtype", "BF16"}, {"shards", 3}}, 12,
                     {{"llama3 rope scaling", off([](ModelConfig& m) { m.rope.scaling = RopeScaling::kNone; })},
                      {"attention biases", [](Weights& w) { zero_tensors(w, "_proj.bias"); }},
                      {"mlp biases", [](Weights& w) { zero_tensors(w, "mlp.down_proj.bias"); zero_tensors(w, "mlp.up_proj.bias"); }}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("llama", 4, 4, 8);
    c["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
    c["tie_word_embeddings"] = true;
    cases.push_back({"llama_linear_rope_f16_tied", {{"config", c}, {"seed", 3}, {"dtype", "F16"}}, 12,
                     {{"linear rope scaling", off([](ModelConfig& m) { m.rope.scaling = RopeScaling::kNone; })}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("mistral", 4, 2, 8);
    c["sliding_window"] = 4;
    cases.push_back({"mistral_sliding_window", {{"config", c}, {"seed", 4}, {"shards", 2}}, 13,
                     {{"sliding window", off([](ModelConfig& m) { m.attention.sliding = SlidingLayers::kNone; })}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("qwen2", 4, 2, 8);
    c["use_sliding_window"] = true;
    c["sliding_window"] = 3;
    c["max_window_layers"] = 1;  // layer 0 global, layer 1 sliding
    cases.push_back({"qwen2_qkv_bias_window", {{"config", c}, {"seed", 5}, {"dtype", "BF16"}}, 11,
                     {{"qkv biases", [](Weights& w) { zero_tensors(w, "_proj.bias"); }},
                      {"sliding window", off([](ModelConfig& m) { m.attention.sliding = SlidingLayers::kNone; })}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("qwen2", 4, 2, 8);
    c["use_sliding_window"] = false;  // the window below must then be ignored
    c["sliding_window"] = 2;
    c["max_window_layers"] = 0;
    cases.push_back({"qwen2_window_unused", {{"config", c}, {"seed", 6}}, 11,
                     {{"window ignored", off([](ModelConfig& m) {
                        m.attention.sliding = SlidingLayers::kAll;
                        m.attention.sliding_window = 2;
                      })}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("gemma", 4, 1, 24);  // MQA, head_dim 24 independent of 32 / 4
    c["hidden_size"] = 40;                            // sqrt(40) = 6.3246 is 6.3125 in bfloat16
    c["torch_dtype"] = "bfloat16";
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c.erase("rms_norm_eps");
    cases.push_back({"gemma_mqa_bf16", {{"config", c}, {"seed", 7}, {"dtype", "BF16"}, {"shards", 2}}, 12,
                     {{"embedding scale", off([](ModelConfig& m) { m.scale_embeddings = false; })},
                      {"1 + w norms", off([](ModelConfig& m) { m.norm = NormKind::kRMSNorm; })},
                      {"scale rounded to bfloat16", off([](ModelConfig& m) { m.torch_dtype = DType::kF32; })}}});
  }
  {
    nlohmann::json c = fixtures::llama_like_json("gemma2", 4, 2, 16);
    c["num_hidden_layers"] = 3;
    c["sliding_window"] = 4;
    c["attn_logit_softcapping"] = 2.0;
    c["final_logit_softcapping"] = 3.0;
    c["query_pre_attn_scalar"] = 10;
    c["torch_dtype"] = "bfloat16";
    cases.push_back({"gemma2_all_options_bf16_sharded", {{"config", c}, {"seed", 8}, {"dtype", "BF16"}, {"shards", 2}}, 13,
                     {{"attention soft-cap", off([](ModelConfig& m) { m.attention.logit_softcap = 0; })},
                      {"final soft-cap", off([](ModelConfig& m) { m.final_logit_softcap = 0; })},
                      {"query_pre_attn_scalar", off([](ModelConfig& m) { m.attention.query_pre_attn_scalar = 0; })},
                      {"alternating window", off([](ModelConfig& m) { m.attention.sliding = SlidingLayers::kNone; })},
                      {"window on even layers", off([](ModelConfig& m) { m.attention.sliding = SlidingLayers::kAll; })}}});
  }
  {
    const nlohmann::json c = {{"model_type", "gpt2"}, {"vocab_size", 61}, {"n_embd", 32}, {"n_layer", 2},
                              {"n_head", 4}, {"n_positions", 64}, {"n_inner", nullptr}, {"activation_function", "gelu_new"}};
    cases.push_back({"gpt2_f32", {{"config", c}, {"seed", 9}}, 12,
                     {{"Conv1D orientation", untranspose_square},
                      {"biases", [](Weights& w) { zero_tensors(w, "attn.c_proj.bias"); zero_tensors(w, "attn.c_attn.bias"); }}}});
    cases.push_back({"gpt2_f16_unprefixed_sharded", {{"config", c}, {"seed", 10}, {"dtype", "F16"}, {"shards", 2}, {"prefix", false}}, 12,
                     {{"learned positions", [](Weights& w) { zero_tensors(w, "wpe.weight"); }}}});
  }
  return cases;
}

// The narrowed last layer meets every family's options: sliding windows, soft-caps,
// post-norms, biases, learned positions.
TEST(ModelTest, RowsSelectLogitsOfFullForwardInEveryFamily) {
  for (const FamilyCase& fc : family_cases()) {
    const ModelConfig c = config_from_json(fc.spec["config"]);
    const Batch b = random_batch(2, fc.T, c.vocab_size, 22);
    expect_rows_of_full_forward(random_model(c, 21), b, {{1, fc.T - 2}, {fc.T - 1}}, fc.name);
  }
}

// Packed once or per call, the matrices give the same sums from 32 rows on (both take the
// packed-panel kernel): identical logits in every family. Under 32 rows the packed model
// takes the panels where the other reads w as stored: equal within float rounding. A
// packed model refuses to train.
// And a row's result does not depend on what else its call holds: the last position of a
// pass alone (one row) or among all rows gives the same bits.
TEST(ModelTest, PackedWeightsGiveIdenticalLogits) {
  for (const FamilyCase& fc : family_cases()) {
    const ModelConfig c = config_from_json(fc.spec["config"]);
    auto w = random_model(c, 23);
    for (int T : {2, fc.T, 40}) {  // 4 rows, 22–26, 80
      if (T > c.max_position_embeddings) continue;
      const Batch b = random_batch(2, T, c.vocab_size, 24);
      Transformer per_call(w), packed(w);
      ASSERT_TRUE(packed.pack_weights()) << fc.name;
      auto expected = per_call.forward(b.tokens, b.positions, b.B, b.T);
      auto got = packed.forward(b.tokens, b.positions, b.B, b.T);
      const std::vector<float> a(got.begin(), got.end()), e(expected.begin(), expected.end());
      if (b.B * T >= 32)
        ASSERT_EQ(a, e) << fc.name << " T " << T;
      else
        ASSERT_LE(testref::max_relative_error(a, e), 1e-5) << fc.name << " T " << T;
    }
  }
  auto w = random_model(llama_config(), 25);
  Transformer packed(w);
  ASSERT_TRUE(packed.pack_weights());
  const Batch b = random_batch(1, 40, w->config.vocab_size, 26);
  const int V = w->config.vocab_size;
  for (int T : {1, 3, 40}) {  // the first T tokens: causal, so row T-1 is the same prediction
    const std::vector<int32_t> tokens(b.tokens.begin(), b.tokens.begin() + T), positions(b.positions.begin(), b.positions.begin() + T);
    auto all = packed.forward(tokens, positions, 1, T);
    const std::vector<float> all_last(all.end() - V, all.end());
    const int last[1] = {T - 1};
    auto one = packed.forward(tokens, positions, 1, T, last);
    EXPECT_EQ(std::vector<float>(one.begin(), one.end()), all_last) << "T " << T;
    if (T == 1) continue;
    const std::vector<int32_t> first(tokens.begin(), tokens.begin() + 1), first_pos(positions.begin(), positions.begin() + 1);
    auto alone = packed.forward(first, first_pos, 1, 1);
    auto among = packed.forward(tokens, positions, 1, T);
    EXPECT_EQ(std::vector<float>(alone.begin(), alone.end()), std::vector<float>(among.begin(), among.begin() + V))
        << "row 0 alone vs among " << T;
  }
  const std::vector<int32_t> four(b.tokens.begin(), b.tokens.begin() + 4), four_pos(b.positions.begin(), b.positions.begin() + 4);
  EXPECT_THROW(packed.forward_for_training(four, four_pos, 1, 4), Error);
}

// Under --compute bf16, packing also keeps every matrix rounded to bfloat16: the same
// results as rounding per call, with each of this CPU's bf16 kernels.
TEST(ModelTest, PackedBf16WeightsGiveIdenticalLogits) {
  const ModelConfig c = llama_config();
  auto w = random_model(c, 27);
  const Batch b = random_batch(2, 20, c.vocab_size, 28);  // 40 rows
  for (ops::Bf16Kernel kernel : ops::available_bf16_kernels()) {
    ops::set_bf16_kernel(kernel);
    ops::set_compute(ops::Compute::kBF16);
    Transformer per_call(w), packed(w);
    packed.pack_weights();
    auto e = per_call.forward(b.tokens, b.positions, b.B, b.T);
    const std::vector<float> expected(e.begin(), e.end());
    auto g = packed.forward(b.tokens, b.positions, b.B, b.T);
    const std::vector<float> got(g.begin(), g.end());
    ops::set_compute(ops::Compute::kF32);
    EXPECT_EQ(got, expected) << ops::bf16_kernel_name(kernel);
  }
  ops::set_bf16_kernel(ops::available_bf16_kernels().front());
}

class HfCheckpointTorch : public testing::TestWithParam<FamilyCase> {};

TEST_P(HfCheckpointTorch, LogitsMatchAndEveryFeatureIsLive) {
  const FamilyCase& fc = GetParam();
  testref::ScratchDir dir(fc.name);
  const std::string model_dir = dir.path() + "/model";
  auto made = testref::run_torch_reference("make", model_dir, fc.spec, dir.path());
  STRATA_SKIP_WITHOUT_TORCH(made);
  ASSERT_TRUE(made.ok) << made.log;
  auto w = std::make_shared<Weights>(load_weights(model_dir));  // F16/BF16 matrices held so
  const int V = w->config.vocab_size;
  const Batch b = random_batch(2, fc.T, V, 31);  // positions 0 … T-1, as a contiguous window
  auto ref = testref::run_torch_reference("forward", model_dir, b.json(), dir.path());
  ASSERT_TRUE(ref.ok) << ref.log;
  EXPECT_LE(compare(strata_logits(w, b), ref.at("logits"), b, V, fc.name, ref.seconds), kTolerance);
  // The mutations write into a float copy of every tensor.
  const Weights writable = load_weights(model_dir, nullptr, DType::kF32);
  for (const Mutation& m : fc.live) {
    auto without = std::make_shared<Weights>(writable);
    m.leave_out(*without);
    const double err = testref::max_relative_error(strata_logits(without, b), ref.at("logits").data);
    std::printf("[ reference ] %-28s without %s: %.3g\n", fc.name, m.feature, err);
    EXPECT_GT(err, 10 * kTolerance) << "leaving out " << m.feature << " went unnoticed";
  }
}

INSTANTIATE_TEST_SUITE_P(Families, HfCheckpointTorch, testing::ValuesIn(family_cases()),
                         [](const testing::TestParamInfo<FamilyCase>& i) { return std::string(i.param.name); });

// A model with learned absolute positions still runs contiguous windows; it refuses a
// schedule whose windows have gaps, by name.
TEST(ModelTest, LearnedPositionsRefuseSparseSchedules) {
  ModelConfig c = config_from_json({{"model_type", "gpt2"}, {"vocab_size", 50}, {"n_embd", 16}, {"n_layer", 1},
                                    {"n_head", 2}, {"n_positions", 64}});
  EXPECT_EQ(c.position, PositionEncoding::kLearned);
  for (const char* spec : {"sequential", "hierarchical"})
    EXPECT_NO_THROW(validate_budget(*make_schedule(spec), 16, c.max_position_embeddings, 20, false)) << spec;
  try {
    validate_budget(*make_schedule("dilated"), 16, c.max_position_embeddings, 20, false);
    ADD_FAILURE() << "dilated accepted on learned positions";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("learned absolute position embeddings"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(validate_budget(*make_schedule("dilated"), 16, c.max_position_embeddings, 20, true));
}

// Training covers the Llama/Gemma decoder only; the other families refuse it by name.
TEST(ModelTest, TrainingRefusesOtherFamilies) {
  ModelConfig c = config_from_json({{"model_type", "gpt2"}, {"vocab_size", 50}, {"n_embd", 16}, {"n_layer", 1},
                                    {"n_head", 2}, {"n_positions", 64}});
  auto w = std::make_shared<Weights>(c);
  Transformer model(w);
  const Batch b = random_batch(1, 4, c.vocab_size, 1);
  EXPECT_THROW(model.forward_for_training(b.tokens, b.positions, 1, 4), Error);
  EXPECT_NO_THROW(model.forward(b.tokens, b.positions, 1, 4));
}

}  // namespace
}  // namespace strata
