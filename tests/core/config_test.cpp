// ModelConfig: validate() refuses each impossible config with its own message; config.json
// round-trips through JSON and through a file; Hugging Face keys that are left out take
// the defaults of their model_type; read_config names the file in every refusal.
#include "strata/config.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "strata/error.h"
#include "strata/file_util.h"

#include "fixtures.h"

namespace strata {
namespace {

using fixtures::error_of;

void expect_same(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.model_type, b.model_type);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.num_hidden_layers, b.num_hidden_layers);
  EXPECT_EQ(a.num_attention_heads, b.num_attention_heads);
  EXPECT_EQ(a.num_key_value_heads, b.num_key_value_heads);
  EXPECT_EQ(a.head_dim, b.head_dim);
  EXPECT_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.mlp, b.mlp);
  EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.scale_embeddings, b.scale_embeddings);
  EXPECT_EQ(a.norm, b.norm);
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.rope.scaling, b.rope.scaling);
  EXPECT_EQ(a.rope.factor, b.rope.factor);
  EXPECT_EQ(a.mlp_bias, b.mlp_bias);
  EXPECT_EQ(a.attention.qkv_bias, b.attention.qkv_bias);
  EXPECT_EQ(a.attention.o_bias, b.attention.o_bias);
  EXPECT_EQ(a.attention.sliding, b.attention.sliding);
  EXPECT_EQ(a.attention.sliding_window, b.attention.sliding_window);
  EXPECT_EQ(a.attention.logit_softcap, b.attention.logit_softcap);
  EXPECT_EQ(a.attention.query_pre_attn_scalar, b.attention.query_pre_attn_scalar);
  EXPECT_EQ(a.post_norms, b.post_norms);
  EXPECT_EQ(a.final_logit_softcap, b.final_logit_softcap);
}

// The keys every config.json must have; everything else has a default.
nlohmann::json required_keys(const char* model_type) {
  nlohmann::json j = {{"vocab_size", 100}, {"hidden_size", 64}, {"intermediate_size", 128},
                      {"num_hidden_layers", 2}, {"num_attention_heads", 4}};
  if (model_type) j["model_type"] = model_type;
  return j;
}

TEST(ConfigTest, ValidateRefusesEachImpossibleConfigWithItsMessage) {
  struct Case {
    const char* what;
    std::function<void(ModelConfig&)> change;
    const char* message;
  };
  const Case cases[] = {
      {"model_type", [](ModelConfig& c) { c.model_type = "falcon"; },
       "unsupported model_type \"falcon\" (supported: llama, mistral, qwen2, gemma, gemma2, gpt2)"},
      {"vocab", [](ModelConfig& c) { c.vocab_size = 0; }, "vocab_size must be in [1, 16777216], got 0"},
      {"hidden", [](ModelConfig& c) { c.hidden_size = -1; }, "hidden_size must be in [1, 65536], got -1"},
      {"ffn", [](ModelConfig& c) { c.intermediate_size = 0; }, "intermediate_size must be in [1, 1048576], got 0"},
      {"layers", [](ModelConfig& c) { c.num_hidden_layers = 0; }, "num_hidden_layers must be in [1, 1024], got 0"},
      {"heads", [](ModelConfig& c) { c.num_attention_heads = 0; }, "num_attention_heads must be in [1, 1024], got 0"},
      {"kv 0", [](ModelConfig& c) { c.num_key_value_heads = 0; }, "num_key_value_heads must be in [1, 1024], got 0"},
      {"kv 3 of 4", [](ModelConfig& c) { c.num_key_value_heads = 3; },
       "num_key_value_heads must divide num_attention_heads"},
      {"head_dim 0", [](ModelConfig& c) { c.head_dim = 0; }, "head_dim must be in [1, 4096], got 0"},
      {"head_dim odd", [](ModelConfig& c) { c.head_dim = 7; }, "head_dim must be even (rotary pairs)"},
      {"eps", [](ModelConfig& c) { c.rms_norm_eps = 0; }, "rms_norm_eps must be positive"},
      {"theta", [](ModelConfig& c) { c.rope_theta = -1; }, "rope_theta must be positive"},
      {"context", [](ModelConfig& c) { c.max_position_embeddings = 0; }, "max_position_embeddings must be in [1, 16777216], got 0"},
      {"size", [](ModelConfig& c) { c.vocab_size = 1 << 24, c.hidden_size = 1 << 15; },
       "model too large: 1099530665984 parameters, more than 274877906944"},
  };
  EXPECT_NO_THROW(ModelConfig().validate());
  EXPECT_NO_THROW(fixtures::tiny_config().validate());
  EXPECT_NO_THROW(fixtures::tiny_config(fixtures::Shape{}, fixtures::Family::kGemma).validate());
  for (const Case& k : cases) {
    ModelConfig c = fixtures::tiny_config();
    k.change(c);
    EXPECT_EQ(error_of([&] { c.validate(); }), std::string("invalid model config: ") + k.message) << k.what;
  }
}

TEST(ConfigTest, JsonRoundTripKeepsEveryField) {
  for (auto family : {fixtures::Family::kLlama, fixtures::Family::kGemma}) {
    ModelConfig c = fixtures::tiny_config({.vocab = 300, .head_dim = 12}, family);
    c.rope_theta = 500000.0f;
    c.rms_norm_eps = 3e-6f;
    const nlohmann::json j = config_to_json(c);
    EXPECT_EQ(j["architectures"][0], family == fixtures::Family::kGemma ? "GemmaForCausalLM" : "LlamaForCausalLM");
    expect_same(config_from_json(j), c);
    // Through text, as config.json is read.
    expect_same(config_from_json(nlohmann::json::parse(j.dump(2))), c);
  }
}

TEST(ConfigTest, FileRoundTripAndReadRefusalsNameTheFile) {
  const fixtures::ScratchDir scratch("config_file");
  const std::string& dir = scratch.path();
  const std::string path = dir + "/config.json";
  const ModelConfig c = fixtures::tiny_config(fixtures::Shape{}, fixtures::Family::kGemma);
  write_config(c, path);
  expect_same(read_config(path), c);

  write_file_atomic(path, "{\"vocab_size\": 10,");
  EXPECT_EQ(error_of([&] { read_config(path); }), path + ": malformed JSON");
  write_file_atomic(path, "[1, 2]");
  EXPECT_EQ(error_of([&] { read_config(path); }), path + ": config.json: expected a JSON object");
  nlohmann::json bad = config_to_json(c);
  bad["num_key_value_heads"] = 3;
  write_file_atomic(path, bad.dump());
  EXPECT_EQ(error_of([&] { read_config(path); }),
            path + ": invalid model config: num_key_value_heads must divide num_attention_heads");
  EXPECT_NE(error_of([&] { read_config(dir + "/absent.json"); }).find(dir + "/absent.json"), std::string::npos);
}

TEST(ConfigTest, LlamaDefaultsForKeysLeftOut) {
  for (const char* type : {"llama", static_cast<const char*>(nullptr)}) {  // model_type absent: llama
    const ModelConfig c = config_from_json(required_keys(type));
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.num_key_value_heads, 4);  // = num_attention_heads
    EXPECT_EQ(c.head_dim, 16);            // = hidden_size / num_attention_heads
    EXPECT_EQ(c.rms_norm_eps, 1e-5f);
    EXPECT_EQ(c.rope_theta, 10000.0f);
    EXPECT_EQ(c.mlp, Mlp::kSiLUGated);
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_EQ(c.max_position_embeddings, 256);
    EXPECT_FALSE(c.scale_embeddings);
    EXPECT_EQ(c.norm, NormKind::kRMSNorm);
  }
}

TEST(ConfigTest, GemmaDefaultsForKeysLeftOut) {
  const ModelConfig c = config_from_json(required_keys("gemma"));
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.mlp, Mlp::kGeluTanhGated);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_TRUE(c.scale_embeddings);
  EXPECT_EQ(c.norm, NormKind::kRMSNormPlusOne);
}

TEST(ConfigTest, HuggingFaceKeyVariants) {
  nlohmann::json j = required_keys("gemma");
  j["hidden_act"] = "silu";
  j["hidden_activation"] = "gelu_pytorch_tanh";  // Gemma's own key wins
  EXPECT_EQ(config_from_json(j).mlp, Mlp::kGeluTanhGated);
  j = required_keys("llama");
  j["hidden_activation"] = "gelu_pytorch_tanh";  // not a Llama key: ignored
  EXPECT_EQ(config_from_json(j).mlp, Mlp::kSiLUGated);
  for (const char* act : {"silu", "swish"}) {
    j["hidden_act"] = act;
    EXPECT_EQ(config_from_json(j).mlp, Mlp::kSiLUGated) << act;
  }
  for (const char* act : {"gelu_pytorch_tanh", "gelu_tanh", "gelu"}) {
    j["hidden_act"] = act;
    EXPECT_EQ(config_from_json(j).mlp, Mlp::kGeluTanhGated) << act;
  }
  j = required_keys("llama");
  j["head_dim"] = nullptr;  // written by some exporters: derived as when absent
  EXPECT_EQ(config_from_json(j).head_dim, 16);
  j["head_dim"] = 32;
  j["num_key_value_heads"] = 2;
  const ModelConfig c = config_from_json(j);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.q_dim(), 128);
  EXPECT_EQ(c.kv_dim(), 64);
}

TEST(ConfigTest, FromJsonRefusals) {
  EXPECT_EQ(error_of([] { config_from_json(nlohmann::json::array()); }), "config.json: expected a JSON object");
  nlohmann::json j = required_keys("llama");
  j.erase("hidden_size");
  const std::string missing = error_of([&] { config_from_json(j); });
  EXPECT_EQ(missing.rfind("config.json: ", 0), 0u) << missing;
  EXPECT_NE(missing.find("hidden_size"), std::string::npos) << missing;
  j = required_keys("llama");
  j["vocab_size"] = "many";
  EXPECT_EQ(error_of([&] { config_from_json(j); }).rfind("config.json: ", 0), 0u);
  j = required_keys("llama");
  j["hidden_act"] = "relu";
  EXPECT_EQ(error_of([&] { config_from_json(j); }),
            "config.json: unsupported hidden_act \"relu\" (silu or gelu_pytorch_tanh)");
  j = required_keys("falcon");
  EXPECT_EQ(error_of([&] { config_from_json(j); }),
            "config.json: unsupported model_type \"falcon\" (supported: llama, mistral, qwen2, gemma, gemma2, gpt2)");
}

// Counted by hand for d 32, 4 heads of 8 with 2 kv heads (q 32, kv 16), MLP 64, vocab 48,
// 2 layers: per layer q 1024 + k 512 + v 512 + o 1024 + MLP 3·2048 + two norms 64.
TEST(ConfigTest, ParameterAndMatmulCounts) {
  ModelConfig c = fixtures::tiny_config();
  const int64_t per_layer = 1024 + 512 + 512 + 1024 + 3 * 2048 + 64;
  EXPECT_EQ(c.parameter_count(), 2 * 48 * 32 + 2 * per_layer + 32);  // untied: embed + head
  EXPECT_EQ(c.matmul_params_per_token(), 2 * (per_layer - 64) + 48 * 32);
  c.tie_word_embeddings = true;
  EXPECT_EQ(c.parameter_count(), 48 * 32 + 2 * per_layer + 32);
}


// Fuzzing findings (issue 11): each failed before its fix.
std::string refusal(const nlohmann::json& j) {
  try {
    config_from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

nlohmann::json small_llama() {
  return nlohmann::json::parse(R"({"model_type": "llama", "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128,
                                   "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2})");
}

TEST(ConfigTest, FindingsOfTheFuzzer) {
  // A float where an integer belongs was undefined behaviour (float -> int out of range).
  nlohmann::json j = small_llama();
  j["hidden_size"] = 4.4e20;
  EXPECT_NE(refusal(j).find("hidden_size must be an integer"), std::string::npos) << refusal(j);
  j = small_llama();
  j["vocab_size"] = 2e49;
  EXPECT_NE(refusal(j).find("vocab_size must be an integer"), std::string::npos) << refusal(j);
  // 4294967552 was silently read as 256, and the user then saw a shape error naming the wrong cause.
  j = small_llama();
  j["vocab_size"] = 4294967552ull;
  EXPECT_NE(refusal(j).find("vocab_size must be an integer in [1, 16777216], got 4294967552"), std::string::npos)
      << refusal(j);
  // 65536 heads of head_dim 65536 overflowed int in q_dim() inside validate().
  j = small_llama();
  j["num_attention_heads"] = 65536;
  j["num_key_value_heads"] = 65536;
  j["head_dim"] = 65536;
  EXPECT_NE(refusal(j).find("must be an integer in [1, 1024]"), std::string::npos) << refusal(j);
  ModelConfig c = config_from_json(small_llama());
  c.num_attention_heads = c.num_key_value_heads = 1024;
  c.head_dim = 4096;
  EXPECT_THROW(c.validate(), Error);
}


// Each family's own keys and defaults, and the options they turn on.
TEST(ConfigTest, HuggingFaceFamilies) {
  nlohmann::json j = required_keys("gemma2");
  j["num_hidden_layers"] = 3;
  ModelConfig c = config_from_json(j);
  EXPECT_EQ(c.attention.sliding, SlidingLayers::kEven);
  EXPECT_EQ(c.attention.sliding_window, 4096);
  EXPECT_EQ(c.attention.logit_softcap, 50.0f);
  EXPECT_EQ(c.final_logit_softcap, 30.0f);
  EXPECT_EQ(c.attention.query_pre_attn_scalar, 256.0f);
  EXPECT_TRUE(c.post_norms);
  j["layer_types"] = {"sliding_attention", "full_attention", "sliding_attention"};
  EXPECT_NO_THROW(config_from_json(j));
  j["layer_types"] = {"full_attention", "full_attention", "sliding_attention"};
  EXPECT_EQ(error_of([&] { config_from_json(j); }),
            "config.json: layer_types[0] is \"full_attention\", which differs from gemma2's own pattern (not supported)");
  j.erase("layer_types");
  j["final_logit_softcapping"] = nullptr;  // an explicit null switches a default off
  EXPECT_EQ(config_from_json(j).final_logit_softcap, 0.0f);

  j = required_keys("qwen2");
  j["sliding_window"] = 32;
  EXPECT_EQ(config_from_json(j).attention.sliding, SlidingLayers::kNone);  // use_sliding_window absent
  EXPECT_TRUE(config_from_json(j).attention.qkv_bias);
  EXPECT_FALSE(config_from_json(j).attention.o_bias);
  j["use_sliding_window"] = true;
  j["max_window_layers"] = 1;
  EXPECT_EQ(config_from_json(j).attention.sliding, SlidingLayers::kFrom);

  j = required_keys("llama");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(error_of([&] { config_from_json(j); }),
            "config.json: unsupported rope_scaling type \"yarn\" (supported: default, linear, llama3)");
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  EXPECT_EQ(config_from_json(j).rope.scaling, RopeScaling::kLlama3);
  EXPECT_EQ(config_from_json(j).rope.original_max_position_embeddings, 8192);

  const ModelConfig g = config_from_json({{"model_type", "gpt2"}, {"vocab_size", 100}, {"n_embd", 64}, {"n_layer", 2},
                                          {"n_head", 4}, {"n_positions", 128}});
  EXPECT_EQ(g.norm, NormKind::kLayerNorm);
  EXPECT_EQ(g.position, PositionEncoding::kLearned);
  EXPECT_EQ(g.mlp, Mlp::kGeluNew);
  EXPECT_EQ(g.intermediate_size, 256);  // n_inner absent: 4 * n_embd
  EXPECT_EQ(g.head_dim, 16);
  EXPECT_EQ(g.max_position_embeddings, 128);
  // Every family round-trips through its own keys.
  for (const ModelConfig& m : {c, g, config_from_json(j)}) expect_same(m, config_from_json(config_to_json(m)));
}

}  // namespace
}  // namespace strata
