// Every parameter of a model in one float allocation, with a table of named views into it
// (llm.c style). The names are Hugging Face's, so a safetensors file maps onto the table
// one to one; gradients and optimiser moments reuse the same layout.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "strata/config.h"

namespace strata {

struct TensorInfo {
  std::string name;          // e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // row-major, PyTorch order: Linear weights are (out, in)
  size_t offset = 0;         // in floats, into the flat buffer
  size_t size = 0;           // element count
};

// The fixed order and shapes of a config's tensors.
std::vector<TensorInfo> parameter_layout(const ModelConfig& c);

// Pointers into one flat buffer, per layer. Shapes in comments: d = hidden_size,
// q = num_attention_heads*head_dim, kv = num_key_value_heads*head_dim, f = intermediate_size.
struct LayerWeights {
  float* attn_norm;  // (d)
  float* wq;         // (q, d)
  float* wk;         // (kv, d)
  float* wv;         // (kv, d)
  float* wo;         // (d, q)
  float* mlp_norm;   // (d)
  float* w_gate;     // (f, d)
  float* w_up;       // (f, d)
  float* w_down;     // (d, f)
};

struct WeightViews {
  float* embed;       // (vocab, d)
  std::vector<LayerWeights> layers;
  float* final_norm;  // (d)
  float* lm_head;     // (vocab, d); == embed when tied
};

// Binds views to a flat buffer laid out by parameter_layout(c).
WeightViews bind_weights(const ModelConfig& c, float* flat);

// A model's parameters: the config, the flat buffer and its views.
struct Weights {
  ModelConfig config;
  std::vector<TensorInfo> layout;
  std::vector<float> data;  // parameter_count() floats
  WeightViews view;

  explicit Weights(const ModelConfig& c);
  Weights(const Weights& other);
  Weights& operator=(const Weights& other);
  const TensorInfo* find(const std::string& name) const;
  // Normal(0, std) matrices (scaled down for residual outputs), norms at their neutral value.
  void init_random(uint64_t seed, float std = 0.02f);
};

}  // namespace strata
