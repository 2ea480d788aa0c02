// config.json <-> ModelConfig, with Hugging Face key names.
#include "strata/config.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/json_fields.h"

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
  auto in_range = [&](int64_t v, int64_t hi, const char* name) {
    require(v >= 1 && v <= hi, std::string(name) + " must be in [1, " + std::to_string(hi) + "], got " + std::to_string(v));
  };
  require(model_type == "llama" || model_type == "gemma", "model_type must be \"llama\" or \"gemma\", got \"" + model_type + "\"");
  // Each size on its own first, so that the products below cannot overflow 64 bits.
  in_range(vocab_size, kMaxVocabSize, "vocab_size");
  in_range(hidden_size, kMaxHiddenSize, "hidden_size");
  in_range(intermediate_size, kMaxIntermediateSize, "intermediate_size");
  in_range(num_hidden_layers, kMaxLayers, "num_hidden_layers");
  in_range(num_attention_heads, kMaxHeads, "num_attention_heads");
  in_range(num_key_value_heads, kMaxHeads, "num_key_value_heads");
  in_range(head_dim, kMaxHeadDim, "head_dim");
  in_range(max_position_embeddings, kMaxContext, "max_position_embeddings");
  require(num_attention_heads % num_key_value_heads == 0, "num_key_value_heads must divide num_attention_heads");
  require(head_dim % 2 == 0, "head_dim must be even (rotary pairs)");
  // q_dim() and kv_dim() are ints: their product must fit before anything multiplies them.
  require(int64_t(num_attention_heads) * head_dim <= kMaxHiddenSize * 4,
          "num_attention_heads * head_dim = " + std::to_string(int64_t(num_attention_heads) * head_dim) +
              " is larger than " + std::to_string(kMaxHiddenSize * 4));
  require(rms_norm_eps > 0, "rms_norm_eps must be positive");
  require(rope_theta > 0, "rope_theta must be positive");
  require(parameter_count() <= kMaxParameters,
          "model too large: " + std::to_string(parameter_count()) + " parameters, more than " + std::to_string(kMaxParameters));
}

ModelConfig config_from_json(const nlohmann::json& j) {
  namespace f = json_fields;
  if (!j.is_object()) throw Error("config.json: expected a JSON object");
  constexpr std::string_view where = "config.json";
  ModelConfig c;
  c.model_type = f::string_or(j, "model_type", "llama", where);
  const bool gemma = c.model_type == "gemma";
  c.vocab_size = int(f::integer(j, "vocab_size", 1, ModelConfig::kMaxVocabSize, where));
  c.hidden_size = int(f::integer(j, "hidden_size", 1, ModelConfig::kMaxHiddenSize, where));
  c.intermediate_size = int(f::integer(j, "intermediate_size", 1, ModelConfig::kMaxIntermediateSize, where));
  c.num_hidden_layers = int(f::integer(j, "num_hidden_layers", 1, ModelConfig::kMaxLayers, where));
  c.num_attention_heads = int(f::integer(j, "num_attention_heads", 1, ModelConfig::kMaxHeads, where));
  c.num_key_value_heads = int(f::integer_or(j, "num_key_value_heads", c.num_attention_heads, 1, ModelConfig::kMaxHeads, where));
  c.head_dim = int(f::integer_or(j, "head_dim", c.hidden_size / c.num_attention_heads, 1, ModelConfig::kMaxHeadDim, where));
  c.rms_norm_eps = float(f::number_or(j, "rms_norm_eps", gemma ? 1e-6 : 1e-5, 0, 1, where));
  c.rope_theta = float(f::number_or(j, "rope_theta", 10000.0, 0, 1e12, where));
  std::string act = f::string_or(j, "hidden_act", gemma ? "gelu_pytorch_tanh" : "silu", where);
  if (gemma) act = f::string_or(j, "hidden_activation", act, where);
  if (act == "silu" || act == "swish") c.hidden_act = Activation::kSiLU;
  else if (act == "gelu_pytorch_tanh" || act == "gelu_tanh" || act == "gelu")
    c.hidden_act = Activation::kGeluTanh;
  else throw Error("config.json: unsupported hidden_act \"" + act + "\" (silu or gelu_pytorch_tanh)");
  c.tie_word_embeddings = f::boolean_or(j, "tie_word_embeddings", gemma, where);
  c.max_position_embeddings = int(f::integer_or(j, "max_position_embeddings", 256, 1, ModelConfig::kMaxContext, where));
  c.scale_embeddings = f::boolean_or(j, "scale_embeddings", gemma, where);
  c.norm_weight_plus_one = f::boolean_or(j, "norm_weight_plus_one", gemma, where);
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
