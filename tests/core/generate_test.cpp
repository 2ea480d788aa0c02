// Decoding with a KV cache (core/src/generate.cpp, and the cached path of model.cpp and
// both attention kernels): for every family strata runs, the logits of prefill + step at
// each position equal the full uncached forward's at that position; greedy generation is
// repeated argmax over full forwards; the context limit is refused by name.
#include "strata/generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "fixtures.h"
#include "strata/error.h"

namespace strata {
namespace {

using fixtures::error_of;

struct Family {
  const char* name;
  ModelConfig config;
};

using fixtures::llama_like_json;

void PrintTo(const Family& f, std::ostream* os) { *os << f.name; }

// One tiny model per family and attention option: every window is shorter than the
// 40-token sequences below, so the cached passes must mask by absolute position.
std::vector<Family> families() {
  std::vector<Family> f;
  f.push_back({"llama_gqa", config_from_json(llama_like_json("llama", 4, 2, 8))});
  {
    nlohmann::json c = llama_like_json("llama", 4, 1, 12);
    c["attention_bias"] = true;
    c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 16}};
    f.push_back({"llama3_rope_biases", config_from_json(c)});
  }
  {
    nlohmann::json c = llama_like_json("mistral", 4, 2, 8);
    c["sliding_window"] = 4;
    f.push_back({"mistral_window_4", config_from_json(c)});
  }
  {
    nlohmann::json c = llama_like_json("qwen2", 4, 2, 8);
    c["use_sliding_window"] = true;
    c["sliding_window"] = 3;
    c["max_window_layers"] = 1;
    f.push_back({"qwen2_bias_window_3", config_from_json(c)});
  }
  {
    nlohmann::json c = llama_like_json("gemma", 4, 1, 16);
    c["hidden_activation"] = "gelu_pytorch_tanh";
    f.push_back({"gemma_mqa", config_from_json(c)});
  }
  {
    nlohmann::json c = llama_like_json("gemma2", 4, 2, 16);
    c.update({{"num_hidden_layers", 3}, {"sliding_window", 4}, {"attn_logit_softcapping", 2.0},
              {"final_logit_softcapping", 3.0}, {"query_pre_attn_scalar", 10}});
    f.push_back({"gemma2_softcap_window_4", config_from_json(c)});
  }
  f.push_back({"gpt2_learned_positions",
               config_from_json({{"model_type", "gpt2"}, {"vocab_size", 61}, {"n_embd", 32}, {"n_layer", 2},
                                 {"n_head", 4}, {"n_positions", 64}, {"n_inner", nullptr},
                                 {"activation_function", "gelu_new"}})});
  return f;
}

// The logits of a full uncached forward over tokens: (T, vocab).
std::vector<float> full_logits(std::shared_ptr<const Weights> w, const std::vector<int32_t>& tokens) {
  Transformer model(std::move(w));
  std::vector<int32_t> positions(tokens.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = int32_t(i);
  const auto logits = model.forward(tokens, positions, 1, int(tokens.size()));
  return {logits.begin(), logits.end()};
}

// max |a - b| over a row, relative to the row's largest |b|.
double relative_error(std::span<const float> a, std::span<const float> b) {
  double err = 0, scale = 1e-30;
  for (size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, double(std::abs(a[i] - b[i])));
    scale = std::max(scale, double(std::abs(b[i])));
  }
  return err / scale;
}

// The full forward over 40 rows takes the packed matmul (32 rows and more) whose sums run
// in another order than the one-row steps': the last bits differ. A missed window, offset
// or position is wrong in the first digit.
constexpr double kTolerance = 1e-5;

class CachedDecoding : public testing::TestWithParam<Family> {};

// Prefill 5 tokens, prefill 3 more (a chunk after a non-empty cache), then step one token
// at a time: the logits after every token equal the full forward's row at its position.
TEST_P(CachedDecoding, PrefillAndStepEqualTheFullForwardAtEveryPosition) {
  const ModelConfig& c = GetParam().config;
  auto w = fixtures::random_weights(c, 11, 0.3f);
  const std::vector<int32_t> tokens = fixtures::random_tokens(40, c.vocab_size, 5);
  const std::vector<float> full = full_logits(w, tokens);
  const size_t V = size_t(c.vocab_size);
  auto row = [&](size_t i) { return std::span<const float>(full).subspan(i * V, V); };

  Decoder decoder(w);
  EXPECT_LE(relative_error(decoder.prefill(std::span(tokens).first(5)), row(4)), kTolerance) << "prefill";
  EXPECT_LE(relative_error(decoder.prefill(std::span(tokens).subspan(5, 3)), row(7)), kTolerance) << "second prefill";
  for (size_t i = 8; i < tokens.size(); ++i)
    EXPECT_LE(relative_error(decoder.step(tokens[i]), row(i)), kTolerance) << "step at position " << i;
  EXPECT_EQ(decoder.length(), int(tokens.size()));
}

// Greedy generation is the argmax of a full forward over the prompt and everything drawn so far.
TEST_P(CachedDecoding, GreedyGenerationIsRepeatedArgmaxOverFullForwards) {
  const ModelConfig& c = GetParam().config;
  auto w = fixtures::random_weights(c, 12, 0.3f);
  const std::vector<int32_t> prompt = fixtures::random_tokens(4, c.vocab_size, 6);
  Decoder decoder(w);
  Sampler greedy({.temperature = 0.0f});
  const std::vector<int32_t> drawn = generate(decoder, prompt, 12, greedy);

  std::vector<int32_t> sequence = prompt, expected;
  for (int i = 0; i < 12; ++i) {
    const std::vector<float> logits = full_logits(w, sequence);
    expected.push_back(argmax(std::span(logits).last(size_t(c.vocab_size))));
    sequence.push_back(expected.back());
  }
  EXPECT_EQ(drawn, expected);
}

INSTANTIATE_TEST_SUITE_P(Families, CachedDecoding, testing::ValuesIn(families()),
                         [](const testing::TestParamInfo<Family>& info) { return std::string(info.param.name); });

// A prompt kept in the cache serves several continuations: truncating back to it and
// stepping again gives the logits of the first time.
TEST(DecoderTest, TruncateRestartsFromTheKeptPrompt) {
  const ModelConfig c = fixtures::tiny_config();
  Decoder decoder(fixtures::random_weights(c, 3));
  const std::vector<int32_t> prompt = {1, 2, 3, 4};
  decoder.prefill(prompt);
  const auto first = decoder.step(7);
  const std::vector<float> once(first.begin(), first.end());
  decoder.step(9);
  decoder.truncate(4);
  EXPECT_EQ(decoder.length(), 4);
  const auto again = decoder.step(7);
  EXPECT_EQ(std::vector<float>(again.begin(), again.end()), once);
}

TEST(DecoderTest, RefusesToPassTheContext) {
  fixtures::Shape s;
  s.context = 8;
  const ModelConfig c = fixtures::tiny_config(s);
  Decoder decoder(fixtures::random_weights(c, 3));
  const std::vector<int32_t> six(6, 1);
  decoder.prefill(six);
  decoder.step(2);
  decoder.step(3);  // 8 tokens: the whole context
  EXPECT_EQ(error_of([&] { decoder.step(4); }),
            "KV cache: 8 tokens + 1 more would pass the model's context of 8 tokens (max_position_embeddings)");
  EXPECT_EQ(decoder.length(), 8);  // the refused token left nothing behind
  EXPECT_EQ(error_of([&] { decoder.prefill({}); }), "decode: no tokens to prefill");
  EXPECT_EQ(error_of([&] { decoder.truncate(0); decoder.step(99); }),
            "forward: token id 99 outside the vocabulary (48)");

  Decoder fresh(fixtures::random_weights(c, 3));
  Sampler greedy({.temperature = 0.0f});
  EXPECT_EQ(error_of([&] { generate(fresh, six, 3, greedy); }),
            "generate: 6 prompt tokens + 3 new ones would pass the model's context of 8 tokens");
  EXPECT_EQ(fresh.length(), 0);  // refused before any work
  EXPECT_EQ(generate(fresh, six, 2, greedy).size(), 2u);  // exactly the context
  EXPECT_EQ(error_of([&] { generate(fresh, six, -1, greedy); }), "generate: the number of tokens must be >= 0, got -1");
}

TEST(DecoderTest, OnTokenStopsGeneration) {
  const ModelConfig c = fixtures::tiny_config();
  Decoder decoder(fixtures::random_weights(c, 3));
  Sampler sampler({.seed = 1});
  int seen = 0;
  const auto drawn = generate(decoder, std::vector<int32_t>{1, 2}, 10, sampler, [&](int32_t) { return ++seen < 3; });
  EXPECT_EQ(drawn.size(), 3u);
  EXPECT_EQ(decoder.length(), 4);  // the prompt and the two tokens fed back
}

TEST(DecoderTest, RefusesAnotherModelsCache) {
  const ModelConfig c = fixtures::tiny_config();
  fixtures::Shape wider;
  wider.kv_heads = 4;
  KVCache other(fixtures::tiny_config(wider));
  Transformer model(fixtures::random_weights(c, 3));
  const std::vector<int32_t> token = {1};
  EXPECT_EQ(error_of([&] { model.forward(token, other); }), "forward: the KV cache belongs to a model of another shape");
}

}  // namespace
}  // namespace strata
