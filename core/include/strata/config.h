// The model's architecture as one typed, serialisable struct, gemma.cpp style: every
// architectural choice is an enum or a typed option, never a flag scattered through the
// forward pass. Read from a Hugging Face config.json in the keys of its family (llama,
// mistral, qwen2, gemma, gemma2, gpt2) and written back in the same keys, so a strata
// model directory reads like a HF checkpoint and a HF checkpoint loads as a strata model.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "strata/dtype.h"

namespace strata {

// The activation inside a gated MLP (the kernels' view: ops::gated_activation).
enum class Activation { kSiLU, kGeluTanh };

// The MLP: gated (act(gate(x)) * up(x) -> down) with SiLU (Llama) or tanh-GELU (Gemma), or
// GPT-2's plain two-matrix MLP with gelu_new (the tanh GELU) between c_fc and c_proj.
enum class Mlp { kSiLUGated, kGeluTanhGated, kGeluNew };

// RMSNorm x/rms(x)*w (Llama), the same with 1+w (Gemma), or LayerNorm with bias (GPT-2).
enum class NormKind { kRMSNorm, kRMSNormPlusOne, kLayerNorm };

// Rotary embeddings on q and k (rotate-half), or learned absolute position embeddings added
// to the token embeddings (GPT-2). Only RoPE keeps relative positions meaningful when a
// schedule passes sparse position ids.
enum class PositionEncoding { kRoPE, kLearned };

// RoPE frequency scaling (config.json "rope_scaling"): none, "linear" (every frequency / factor)
// or "llama3" (low frequencies / factor, high ones kept, a smooth ramp between).
enum class RopeScaling { kNone, kLinear, kLlama3 };

// Which layers attend through a sliding window: none, all (Mistral), the even-numbered ones
// (Gemma 2 alternates sliding and global, layer 0 sliding), or those from a layer on (Qwen2's
// max_window_layers).
enum class SlidingLayers { kNone, kAll, kEven, kFrom };

struct RopeConfig {
  RopeScaling scaling = RopeScaling::kNone;
  float factor = 1.0f;                    // linear and llama3
  float low_freq_factor = 1.0f;           // llama3
  float high_freq_factor = 4.0f;          // llama3
  int original_max_position_embeddings = 8192;  // llama3: the context before scaling
};

struct AttentionConfig {
  bool qkv_bias = false;  // q/k/v projections carry a bias (Qwen2, Llama attention_bias, GPT-2)
  bool o_bias = false;    // the output projection carries a bias (Llama attention_bias, GPT-2)
  SlidingLayers sliding = SlidingLayers::kNone;
  int sliding_window = 0;       // keys a query sees on a sliding layer, itself included
  int sliding_from_layer = 0;   // kFrom: first sliding layer
  float logit_softcap = 0.0f;   // > 0: scores = cap * tanh(scores / cap) (Gemma 2)
  float query_pre_attn_scalar = 0.0f;  // > 0: scores scaled by its -1/2 instead of head_dim's
  bool sliding_at(int layer) const {
    switch (sliding) {
      case SlidingLayers::kNone: return false;
      case SlidingLayers::kAll: return true;
      case SlidingLayers::kEven: return layer % 2 == 0;
      case SlidingLayers::kFrom: return layer >= sliding_from_layer;
    }
    return false;
  }
};

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
  // The model_type values strata runs; any other is refused naming this list.
  static constexpr const char* kSupportedTypes = "llama, mistral, qwen2, gemma, gemma2, gpt2";

  std::string model_type = "llama";  // the family: sets the defaults and the tensor names
  int vocab_size = 256;
  int hidden_size = 64;          // d
  int intermediate_size = 192;   // MLP width
  int num_hidden_layers = 2;
  int num_attention_heads = 4;
  int num_key_value_heads = 4;   // grouped-query attention: divides num_attention_heads
  int head_dim = 16;             // usually hidden_size / num_attention_heads
  float rms_norm_eps = 1e-5f;    // the epsilon of every norm, RMSNorm or LayerNorm
  float rope_theta = 10000.0f;
  int max_position_embeddings = 256;  // the context the model was trained for
  bool tie_word_embeddings = true;

  NormKind norm = NormKind::kRMSNorm;
  PositionEncoding position = PositionEncoding::kRoPE;
  RopeConfig rope;
  Mlp mlp = Mlp::kSiLUGated;
  bool mlp_bias = false;   // gate/up/down (or c_fc/c_proj) carry biases
  AttentionConfig attention;
  // Gemma 2's sandwich: the attention and MLP outputs are normed again before the residual.
  bool post_norms = false;
  bool scale_embeddings = false;  // embeddings times sqrt(hidden_size), in torch_dtype (Gemma)
  float final_logit_softcap = 0.0f;  // > 0: logits = cap * tanh(logits / cap) (Gemma 2)
  // The dtype the checkpoint says it runs in (config.json "torch_dtype"); strata computes in
  // float32 but rounds the embedding scale to it, as Hugging Face does.
  DType torch_dtype = DType::kF32;

  int kv_dim() const { return num_key_value_heads * head_dim; }
  int q_dim() const { return num_attention_heads * head_dim; }
  bool gated_mlp() const { return mlp != Mlp::kGeluNew; }
  Activation gate_activation() const { return mlp == Mlp::kSiLUGated ? Activation::kSiLU : Activation::kGeluTanh; }
  // Whether the forward and backward of strata's trainer cover this architecture (the
  // Llama/Gemma decoder without biases, scaling, windows, soft-caps or sandwich norms).
  bool trainable() const;
  // Multiply-adds of every weight matrix a token passes through (excludes attention scores).
  int64_t matmul_params_per_token() const;
  int64_t parameter_count() const;  // the sum over parameter_layout()

  // Refuses a config that cannot describe a model (zero sizes, heads not dividing, ...).
  void validate() const;
};

ModelConfig config_from_json(const nlohmann::json& j);  // throws strata::Error
nlohmann::json config_to_json(const ModelConfig& c);
ModelConfig read_config(const std::string& path);        // throws strata::Error
void write_config(const ModelConfig& c, const std::string& path);

}  // namespace strata
