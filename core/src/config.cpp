// config.json <-> ModelConfig, with Hugging Face key names.
#include "strata/config.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {

int64_t ModelConfig::matmul_params_per_token() const {
  const int64_t d = hidden_size;
  const int64_t attn = d * q_dim() + 2 * d * kv_dim() + q_dim() * d;
  const int64_t mlp = 3 * d * intermediate_size;
  return num_hidden_layers * (attn + mlp) + d * vocab_size;
}

int64_t ModelConfig::parameter_count() const {
  const int64_t d = hidden_size;
  const int64_t per_layer = d * q_dim() + 2 * d * kv_dim() + q_dim() * d +
                            3 * d * intermediate_size + 2 * d;
  return int64_t(vocab_size) * d * (tie_word_embeddings ? 1 : 2) + num_hidden_layers * per_layer + d;
}

void ModelConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("invalid model config: " + what);
  };
  require(model_type == "llama" || model_type == "gemma", "model_type must be \"llama\" or \"gemma\", got \"" + model_type + "\"");
  require(vocab_size > 0, "vocab_size must be positive");
  require(hidden_size > 0, "hidden_size must be positive");
  require(intermediate_size > 0, "intermediate_size must be positive");
  require(num_hidden_layers > 0, "num_hidden_layers must be positive");
  require(num_attention_heads > 0, "num_attention_heads must be positive");
  require(num_key_value_heads > 0 && num_attention_heads % num_key_value_heads == 0,
          "num_key_value_heads must divide num_attention_heads");
  require(head_dim > 0 && head_dim % 2 == 0, "head_dim must be positive and even (rotary pairs)");
  require(rms_norm_eps > 0, "rms_norm_eps must be positive");
  require(rope_theta > 0, "rope_theta must be positive");
  require(max_position_embeddings > 0, "max_position_embeddings must be positive");
  require(parameter_count() < (int64_t(1) << 34), "model too large");
}

ModelConfig config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("config.json: expected a JSON object");
  ModelConfig c;
  try {
    c.model_type = j.value("model_type", std::string("llama"));
    const bool gemma = c.model_type == "gemma";
    c.vocab_size = j.at("vocab_size").get<int>();
    c.hidden_size = j.at("hidden_size").get<int>();
    c.intermediate_size = j.at("intermediate_size").get<int>();
    c.num_hidden_layers = j.at("num_hidden_layers").get<int>();
    c.num_attention_heads = j.at("num_attention_heads").get<int>();
    c.num_key_value_heads = j.value("num_key_value_heads", c.num_attention_heads);
    c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null()
                     ? j["head_dim"].get<int>()
                     : (c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
    c.rms_norm_eps = j.value("rms_norm_eps", gemma ? 1e-6f : 1e-5f);
    c.rope_theta = j.value("rope_theta", 10000.0f);
    std::string act = j.value("hidden_act", std::string(gemma ? "gelu_pytorch_tanh" : "silu"));
    if (gemma && j.contains("hidden_activation") && !j["hidden_activation"].is_null())
      act = j["hidden_activation"].get<std::string>();
    if (act == "silu" || act == "swish") c.hidden_act = Activation::kSiLU;
    else if (act == "gelu_pytorch_tanh" || act == "gelu_tanh" || act == "gelu")
      c.hidden_act = Activation::kGeluTanh;
    else throw Error("config.json: unsupported hidden_act \"" + act + "\" (silu or gelu_pytorch_tanh)");
    c.tie_word_embeddings = j.value("tie_word_embeddings", gemma);
    c.max_position_embeddings = j.value("max_position_embeddings", 256);
    c.scale_embeddings = j.value("scale_embeddings", gemma);
    c.norm_weight_plus_one = j.value("norm_weight_plus_one", gemma);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("config.json: ") + e.what());
  }
  c.validate();
  return c;
}

nlohmann::json config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  j["model_type"] = c.model_type;
  j["architectures"] = {c.model_type == "gemma" ? "GemmaForCausalLM" : "LlamaForCausalLM"};
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["hidden_act"] = c.hidden_act == Activation::kSiLU ? "silu" : "gelu_pytorch_tanh";
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["scale_embeddings"] = c.scale_embeddings;
  j["norm_weight_plus_one"] = c.norm_weight_plus_one;
  j["torch_dtype"] = "float32";
  return j;
}

ModelConfig read_config(const std::string& path) {
  const std::string text = read_file(path);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path + ": malformed JSON");
  try {
    return config_from_json(j);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

void write_config(const ModelConfig& c, const std::string& path) {
  write_file_atomic(path, config_to_json(c).dump(2) + "\n");
}

}  // namespace strata
