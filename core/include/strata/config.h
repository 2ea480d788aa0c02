// The model's architecture as one typed, serialisable struct. Read from and written to a
// Hugging Face style config.json, so a strata model directory reads like a HF checkpoint.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace strata {

enum class Activation { kSiLU, kGeluTanh };  // gate activation: SwiGLU or GeGLU

struct ModelConfig {
  // Limits validate() and config_from_json() enforce: far beyond any published model, and
  // small enough that every size product is exact in 64 bits and every dimension in int.
  static constexpr int64_t kMaxVocabSize = int64_t(1) << 24;
  static constexpr int64_t kMaxHiddenSize = int64_t(1) << 16;
  static constexpr int64_t kMaxIntermediateSize = int64_t(1) << 20;
  static constexpr int64_t kMaxLayers = 1024;
  static constexpr int64_t kMaxHeads = 1024;
  static constexpr int64_t kMaxHeadDim = 4096;
  static constexpr int64_t kMaxContext = int64_t(1) << 24;
  static constexpr int64_t kMaxParameters = int64_t(1) << 38;


  std::string model_type = "llama";  // "llama" or "gemma"; sets the defaults below
  int vocab_size = 256;
  int hidden_size = 64;          // d
  int intermediate_size = 192;   // gated MLP width
  int num_hidden_layers = 2;
  int num_attention_heads = 4;
  int num_key_value_heads = 4;   // grouped-query attention: divides num_attention_heads
  int head_dim = 16;             // usually hidden_size / num_attention_heads
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  Activation hidden_act = Activation::kSiLU;
  bool tie_word_embeddings = true;
  int max_position_embeddings = 256;  // the context the model was trained for
  // Gemma options: embeddings multiplied by sqrt(hidden_size); RMSNorm weight used as 1+w.
  bool scale_embeddings = false;
  bool norm_weight_plus_one = false;

  int kv_dim() const { return num_key_value_heads * head_dim; }
  int q_dim() const { return num_attention_heads * head_dim; }
  // Multiply-adds of every weight matrix a token passes through (excludes attention scores).
  int64_t matmul_params_per_token() const;
  int64_t parameter_count() const;

  // Refuses a config that cannot describe a model (zero sizes, heads not dividing, ...).
  void validate() const;
};

ModelConfig config_from_json(const nlohmann::json& j);  // throws strata::Error
nlohmann::json config_to_json(const ModelConfig& c);
ModelConfig read_config(const std::string& path);        // throws strata::Error
void write_config(const ModelConfig& c, const std::string& path);

}  // namespace strata
