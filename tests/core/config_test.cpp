// config.json <-> ModelConfig: what is refused and why (issue 11's findings among them).
#include "strata/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "strata/error.h"

namespace strata {
namespace {

using nlohmann::json;

json valid() {
  return json::parse(R"({"model_type": "llama", "vocab_size": 256, "hidden_size": 64, "intermediate_size": 128,
                         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2})");
}

std::string refusal(const json& j) {
  try {
    config_from_json(j);
  } catch (const Error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ConfigTest, FindingsOfTheFuzzer) {
  // A float where an integer belongs was undefined behaviour (float -> int out of range).
  json j = valid();
  j["hidden_size"] = 4.4e20;
  EXPECT_NE(refusal(j).find("hidden_size must be an integer"), std::string::npos) << refusal(j);
  j = valid();
  j["vocab_size"] = 2e49;
  EXPECT_NE(refusal(j).find("vocab_size must be an integer"), std::string::npos) << refusal(j);
  // 4294967552 was silently read as 256, and the user then saw a shape error naming the wrong cause.
  j = valid();
  j["vocab_size"] = 4294967552ull;
  EXPECT_NE(refusal(j).find("vocab_size must be an integer in [1, 16777216], got 4294967552"), std::string::npos) << refusal(j);
  // 65536 heads of head_dim 65536 overflowed int in q_dim() inside validate().
  j = valid();
  j["num_attention_heads"] = 65536;
  j["num_key_value_heads"] = 65536;
  j["head_dim"] = 65536;
  EXPECT_NE(refusal(j).find("must be an integer in [1, 1024]"), std::string::npos) << refusal(j);
  ModelConfig c = config_from_json(valid());
  c.num_attention_heads = c.num_key_value_heads = 1024;
  c.head_dim = 4096;
  EXPECT_THROW(c.validate(), Error);
}

TEST(ConfigTest, ValidConfigRoundTrips) {
  const ModelConfig c = config_from_json(valid());
  EXPECT_EQ(c.head_dim, 16);  // hidden / heads when absent
  EXPECT_EQ(c.max_position_embeddings, 256);
  const ModelConfig back = config_from_json(config_to_json(c));
  EXPECT_EQ(config_to_json(back), config_to_json(c));
}

}  // namespace
}  // namespace strata
