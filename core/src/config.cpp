// config.json <-> ModelConfig. Each family is read in its own Hugging Face keys with its
// own defaults (those of transformers' Config classes), and anything strata cannot run
// exactly is refused by name rather than approximated: a model that loads but computes
// something else is worse than one that does not load.
#include "strata/config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/json_fields.h"
#include "strata/weights.h"

namespace strata {

namespace {

namespace f = json_fields;
constexpr std::string_view kWhere = "config.json";

bool is_type(const std::string& t) {
  return t == "llama" || t == "mistral" || t == "qwen2" || t == "gemma" || t == "gemma2" || t == "gpt2";
}

// A soft-cap, window or scalar that HF defaults to `fallback` when absent but switches off
// with an explicit null.
double optional_number(const nlohmann::json& j, const char* key, double fallback, double hi) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_null()) return 0;
  return f::number_or(j, key, fallback, 0, hi, kWhere);
}

Mlp parse_activation(const std::string& act, bool gated) {
  if (!gated) {
    // GPT-2's gelu_new is the tanh approximation, the same function as gelu_pytorch_tanh.
    if (act == "gelu_new" || act == "gelu_pytorch_tanh") return Mlp::kGeluNew;
    throw Error("config.json: unsupported activation_function \"" + act + "\" (gelu_new or gelu_pytorch_tanh)");
  }
  if (act == "silu" || act == "swish") return Mlp::kSiLUGated;
  // Gemma's published configs say "gelu" but the model was trained with the tanh form, which
  // Hugging Face substitutes; strata does the same.
  if (act == "gelu_pytorch_tanh" || act == "gelu_tanh" || act == "gelu") return Mlp::kGeluTanhGated;
  throw Error("config.json: unsupported hidden_act \"" + act + "\" (silu or gelu_pytorch_tanh)");
}

RopeConfig parse_rope_scaling(const nlohmann::json& j) {
  RopeConfig r;
  const auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return r;
  const nlohmann::json& s = *it;
  if (!s.is_object()) throw Error("config.json: rope_scaling must be an object or null");
  const std::string type = f::string_or(s, "rope_type", f::string_or(s, "type", "default", kWhere), kWhere);
  if (type == "default") return r;
  if (type != "linear" && type != "llama3")
    throw Error("config.json: unsupported rope_scaling type \"" + type + "\" (supported: default, linear, llama3)");
  r.factor = float(f::number_or(s, "factor", 1.0, 1e-6, 1e6, "config.json rope_scaling"));
  if (type == "linear") {
    r.scaling = RopeScaling::kLinear;
    return r;
  }
  r.scaling = RopeScaling::kLlama3;
  r.low_freq_factor = float(f::number_or(s, "low_freq_factor", 1.0, 1e-6, 1e6, "config.json rope_scaling"));
  r.high_freq_factor = float(f::number_or(s, "high_freq_factor", 4.0, 1e-6, 1e6, "config.json rope_scaling"));
  r.original_max_position_embeddings = int(f::integer_or(s, "original_max_position_embeddings", 8192, 1,
                                                         ModelConfig::kMaxContext, "config.json rope_scaling"));
  if (!(r.high_freq_factor > r.low_freq_factor))
    throw Error("config.json: rope_scaling high_freq_factor must be larger than low_freq_factor");
  return r;
}

DType parse_torch_dtype(const nlohmann::json& j) {
  const std::string t = f::string_or(j, "torch_dtype", f::string_or(j, "dtype", "float32", kWhere), kWhere);
  if (t == "float32") return DType::kF32;
  if (t == "float16") return DType::kF16;
  if (t == "bfloat16") return DType::kBF16;
  throw Error("config.json: unsupported torch_dtype \"" + t + "\" (float32, float16 or bfloat16)");
}

const char* torch_dtype_name(DType t) {
  return t == DType::kBF16 ? "bfloat16" : t == DType::kF16 ? "float16" : "float32";
}

// GPT-2's keys: n_embd, n_layer, n_head, n_positions, n_inner; LayerNorm, learned positions,
// a plain gelu_new MLP, biases everywhere, a tied head.
ModelConfig gpt2_from_json(const nlohmann::json& j) {
  ModelConfig c;
  c.model_type = "gpt2";
  c.vocab_size = int(f::integer_or(j, "vocab_size", 50257, 1, ModelConfig::kMaxVocabSize, kWhere));
  c.hidden_size = int(f::integer_or(j, "n_embd", 768, 1, ModelConfig::kMaxHiddenSize, kWhere));
  c.num_hidden_layers = int(f::integer_or(j, "n_layer", 12, 1, ModelConfig::kMaxLayers, kWhere));
  c.num_attention_heads = int(f::integer_or(j, "n_head", 12, 1, ModelConfig::kMaxHeads, kWhere));
  c.num_key_value_heads = c.num_attention_heads;
  if (c.hidden_size % c.num_attention_heads != 0)
    throw Error("config.json: n_head must divide n_embd");
  c.head_dim = c.hidden_size / c.num_attention_heads;
  c.intermediate_size = int(f::integer_or(j, "n_inner", 4 * int64_t(c.hidden_size), 1, ModelConfig::kMaxIntermediateSize, kWhere));
  c.max_position_embeddings = int(f::integer_or(j, "n_positions", 1024, 1, ModelConfig::kMaxContext, kWhere));
  c.rms_norm_eps = float(f::number_or(j, "layer_norm_epsilon", 1e-5, 0, 1, kWhere));
  c.mlp = parse_activation(f::string_or(j, "activation_function", "gelu_new", kWhere), /*gated=*/false);
  c.tie_word_embeddings = f::boolean_or(j, "tie_word_embeddings", true, kWhere);
  if (!c.tie_word_embeddings) throw Error("config.json: gpt2 with tie_word_embeddings false is not supported");
  if (f::boolean_or(j, "scale_attn_by_inverse_layer_idx", false, kWhere))
    throw Error("config.json: gpt2 scale_attn_by_inverse_layer_idx is not supported");
  if (!f::boolean_or(j, "scale_attn_weights", true, kWhere))
    throw Error("config.json: gpt2 scale_attn_weights false is not supported");
  c.norm = NormKind::kLayerNorm;
  c.position = PositionEncoding::kLearned;
  c.mlp_bias = true;
  c.attention.qkv_bias = c.attention.o_bias = true;
  c.torch_dtype = parse_torch_dtype(j);
  return c;
}

}  // namespace

bool ModelConfig::trainable() const {
  return (model_type == "llama" || model_type == "gemma") && position == PositionEncoding::kRoPE &&
         norm != NormKind::kLayerNorm && gated_mlp() && !mlp_bias && !attention.qkv_bias && !attention.o_bias &&
         attention.sliding == SlidingLayers::kNone && attention.logit_softcap == 0 &&
         attention.query_pre_attn_scalar == 0 && !post_norms && final_logit_softcap == 0 &&
         rope.scaling == RopeScaling::kNone;
}

int64_t ModelConfig::matmul_params_per_token() const {
  const int64_t d = hidden_size;
  const int64_t attn = d * q_dim() + 2 * d * kv_dim() + q_dim() * d;
  const int64_t mlp_matrices = gated_mlp() ? 3 : 2;
  return num_hidden_layers * (attn + mlp_matrices * d * intermediate_size) + d * vocab_size;
}

int64_t ModelConfig::parameter_count() const {
  int64_t n = 0;
  for (const TensorInfo& t : parameter_layout(*this)) n += int64_t(t.size);
  return n;
}

void ModelConfig::validate() const {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw Error("invalid model config: " + what);
  };
  auto in_range = [&](int64_t v, int64_t hi, const char* name) {
    require(v >= 1 && v <= hi, std::string(name) + " must be in [1, " + std::to_string(hi) + "], got " + std::to_string(v));
  };
  require(is_type(model_type), "unsupported model_type \"" + model_type + "\" (supported: " + kSupportedTypes + ")");
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
  require(position != PositionEncoding::kRoPE || head_dim % 2 == 0, "head_dim must be even (rotary pairs)");
  // q_dim() and kv_dim() are ints: their product must fit before anything multiplies them.
  require(int64_t(num_attention_heads) * head_dim <= kMaxHiddenSize * 4,
          "num_attention_heads * head_dim = " + std::to_string(int64_t(num_attention_heads) * head_dim) +
              " is larger than " + std::to_string(kMaxHiddenSize * 4));
  // GPT-2's fused c_attn is split into q, k and v by rows of hidden_size each.
  require(position != PositionEncoding::kLearned || q_dim() == hidden_size, "learned positions need heads * head_dim == hidden_size");
  require(rms_norm_eps > 0, "rms_norm_eps must be positive");
  require(rope_theta > 0, "rope_theta must be positive");
  require(rope.factor > 0, "rope_scaling factor must be positive");
  require(attention.sliding == SlidingLayers::kNone || attention.sliding_window >= 1, "sliding_window must be positive");
  require(std::isfinite(attention.logit_softcap) && attention.logit_softcap >= 0, "attn_logit_softcapping must be >= 0");
  require(std::isfinite(final_logit_softcap) && final_logit_softcap >= 0, "final_logit_softcapping must be >= 0");
  require(std::isfinite(attention.query_pre_attn_scalar) && attention.query_pre_attn_scalar >= 0,
          "query_pre_attn_scalar must be >= 0");
  require(parameter_count() <= kMaxParameters,
          "model too large: " + std::to_string(parameter_count()) + " parameters, more than " + std::to_string(kMaxParameters));
}

ModelConfig config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error("config.json: expected a JSON object");
  const std::string type = f::string_or(j, "model_type", "llama", kWhere);
  if (!is_type(type))
    throw Error("config.json: unsupported model_type \"" + type + "\" (supported: " + ModelConfig::kSupportedTypes + ")");
  if (type == "gpt2") {
    ModelConfig c = gpt2_from_json(j);
    c.validate();
    return c;
  }
  const bool gemma = type == "gemma" || type == "gemma2";
  ModelConfig c;
  c.model_type = type;
  c.vocab_size = int(f::integer(j, "vocab_size", 1, ModelConfig::kMaxVocabSize, kWhere));
  c.hidden_size = int(f::integer(j, "hidden_size", 1, ModelConfig::kMaxHiddenSize, kWhere));
  c.intermediate_size = int(f::integer(j, "intermediate_size", 1, ModelConfig::kMaxIntermediateSize, kWhere));
  c.num_hidden_layers = int(f::integer(j, "num_hidden_layers", 1, ModelConfig::kMaxLayers, kWhere));
  c.num_attention_heads = int(f::integer(j, "num_attention_heads", 1, ModelConfig::kMaxHeads, kWhere));
  c.num_key_value_heads = int(f::integer_or(j, "num_key_value_heads", c.num_attention_heads, 1, ModelConfig::kMaxHeads, kWhere));
  c.head_dim = int(f::integer_or(j, "head_dim", c.hidden_size / c.num_attention_heads, 1, ModelConfig::kMaxHeadDim, kWhere));
  c.rms_norm_eps = float(f::number_or(j, "rms_norm_eps", gemma ? 1e-6 : 1e-5, 0, 1, kWhere));
  c.rope_theta = float(f::number_or(j, "rope_theta", 10000.0, 0, 1e12, kWhere));
  std::string act = f::string_or(j, "hidden_act", gemma ? "gelu_pytorch_tanh" : "silu", kWhere);
  if (gemma) act = f::string_or(j, "hidden_activation", act, kWhere);  // Gemma's own key wins
  c.mlp = parse_activation(act, /*gated=*/true);
  c.tie_word_embeddings = f::boolean_or(j, "tie_word_embeddings", gemma, kWhere);
  c.max_position_embeddings = int(f::integer_or(j, "max_position_embeddings", 256, 1, ModelConfig::kMaxContext, kWhere));
  c.rope = parse_rope_scaling(j);
  c.torch_dtype = parse_torch_dtype(j);
  // strata's own keys (its trained models): override the family's Gemma-ness per option.
  c.scale_embeddings = f::boolean_or(j, "scale_embeddings", gemma, kWhere);
  c.norm = f::boolean_or(j, "norm_weight_plus_one", gemma, kWhere) ? NormKind::kRMSNormPlusOne : NormKind::kRMSNorm;

  AttentionConfig& a = c.attention;
  const int64_t max_window = ModelConfig::kMaxContext;
  if (type == "llama") {
    a.qkv_bias = a.o_bias = f::boolean_or(j, "attention_bias", false, kWhere);
    c.mlp_bias = f::boolean_or(j, "mlp_bias", false, kWhere);
  } else if (type == "mistral") {
    a.sliding_window = int(optional_number(j, "sliding_window", 4096, double(max_window)));
    if (a.sliding_window > 0) a.sliding = SlidingLayers::kAll;
  } else if (type == "qwen2") {
    a.qkv_bias = true;
    // Qwen2 configs carry a sliding_window that the model ignores unless use_sliding_window.
    if (f::boolean_or(j, "use_sliding_window", false, kWhere)) {
      a.sliding_window = int(optional_number(j, "sliding_window", 4096, double(max_window)));
      a.sliding_from_layer = int(f::integer_or(j, "max_window_layers", 28, 0, ModelConfig::kMaxLayers, kWhere));
      if (a.sliding_window > 0) a.sliding = SlidingLayers::kFrom;
    }
  } else if (type == "gemma2") {
    a.sliding_window = int(optional_number(j, "sliding_window", 4096, double(max_window)));
    if (a.sliding_window > 0) a.sliding = SlidingLayers::kEven;
    a.logit_softcap = float(optional_number(j, "attn_logit_softcapping", 50.0, 1e9));
    a.query_pre_attn_scalar = float(optional_number(j, "query_pre_attn_scalar", 256, 1e9));
    c.final_logit_softcap = float(optional_number(j, "final_logit_softcapping", 30.0, 1e9));
    c.post_norms = true;
  }
  // Newer exports spell the per-layer pattern out; strata runs the family's own pattern,
  // so a list that disagrees with it is refused rather than silently overridden.
  if (const auto it = j.find("layer_types"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != size_t(c.num_hidden_layers))
      throw Error("config.json: layer_types must be an array of num_hidden_layers strings");
    for (int l = 0; l < c.num_hidden_layers; ++l) {
      const nlohmann::json& t = (*it)[size_t(l)];
      const bool sliding = t == "sliding_attention";
      if ((!sliding && t != "full_attention") || sliding != a.sliding_at(l))
        throw Error("config.json: layer_types[" + std::to_string(l) + "] is " + t.dump() + ", which differs from " +
                    type + "'s own pattern (not supported)");
    }
  }
  c.validate();
  return c;
}

nlohmann::json config_to_json(const ModelConfig& c) {
  nlohmann::json j;
  const std::string& t = c.model_type;
  j["model_type"] = t;
  const char* arch = t == "gemma"    ? "GemmaForCausalLM"
                     : t == "gemma2" ? "Gemma2ForCausalLM"
                     : t == "mistral" ? "MistralForCausalLM"
                     : t == "qwen2"  ? "Qwen2ForCausalLM"
                     : t == "gpt2"   ? "GPT2LMHeadModel"
                                     : "LlamaForCausalLM";
  j["architectures"] = {arch};
  j["vocab_size"] = c.vocab_size;
  j["torch_dtype"] = torch_dtype_name(c.torch_dtype);
  if (t == "gpt2") {
    j["n_embd"] = c.hidden_size;
    j["n_layer"] = c.num_hidden_layers;
    j["n_head"] = c.num_attention_heads;
    j["n_inner"] = c.intermediate_size;
    j["n_positions"] = c.max_position_embeddings;
    j["layer_norm_epsilon"] = c.rms_norm_eps;
    j["activation_function"] = "gelu_new";
    j["tie_word_embeddings"] = true;
    return j;
  }
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["rope_theta"] = c.rope_theta;
  j["hidden_act"] = c.mlp == Mlp::kSiLUGated ? "silu" : "gelu_pytorch_tanh";
  if (t == "gemma" || t == "gemma2") j["hidden_activation"] = j["hidden_act"];
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["scale_embeddings"] = c.scale_embeddings;
  j["norm_weight_plus_one"] = c.norm == NormKind::kRMSNormPlusOne;
  if (c.rope.scaling == RopeScaling::kLinear) j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope.factor}};
  if (c.rope.scaling == RopeScaling::kLlama3)
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.rope.factor},
                         {"low_freq_factor", c.rope.low_freq_factor},
                         {"high_freq_factor", c.rope.high_freq_factor},
                         {"original_max_position_embeddings", c.rope.original_max_position_embeddings}};
  const AttentionConfig& a = c.attention;
  const nlohmann::json window = a.sliding == SlidingLayers::kNone ? nlohmann::json() : nlohmann::json(a.sliding_window);
  if (t == "llama") {
    j["attention_bias"] = a.qkv_bias;
    j["mlp_bias"] = c.mlp_bias;
  } else if (t == "mistral") {
    j["sliding_window"] = window;
  } else if (t == "qwen2") {
    j["use_sliding_window"] = a.sliding != SlidingLayers::kNone;
    j["sliding_window"] = window;
    j["max_window_layers"] = a.sliding_from_layer;
  } else if (t == "gemma2") {
    j["sliding_window"] = window;
    auto cap = [](float v) { return v > 0 ? nlohmann::json(v) : nlohmann::json(); };
    j["attn_logit_softcapping"] = cap(a.logit_softcap);
    j["final_logit_softcapping"] = cap(c.final_logit_softcap);
    j["query_pre_attn_scalar"] = cap(a.query_pre_attn_scalar);
  }
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
