// Every parameter of a model in one float allocation, with a table of named views into it
// (llm.c style). The names are Hugging Face's for the model's family, so a checkpoint's
// safetensors map onto the table one to one; gradients and optimiser moments reuse the
// same layout. Tensors an architecture lacks (biases, post-norms, position embeddings)
// are absent from the table and their views are nullptr.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "strata/config.h"

namespace strata {

struct TensorInfo {
  std::string name;          // e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // as stored in the checkpoint, row-major
  size_t offset = 0;         // in floats, into the flat buffer
  size_t size = 0;           // element count
  // GPT-2's Conv1D stores a weight (in, out); strata holds every matrix (out, in) like
  // torch.nn.Linear, so the kernels see one layout. Loading and saving transpose it.
  bool transposed = false;
};

// The fixed order and shapes of a config's tensors.
std::vector<TensorInfo> parameter_layout(const ModelConfig& c);

// Pointers into one flat buffer, per layer. Shapes in comments: d = hidden_size,
// q = num_attention_heads*head_dim, kv = num_key_value_heads*head_dim, f = intermediate_size.
// Biases and the extra norms are nullptr where the architecture has none.
struct LayerWeights {
  float* attn_norm;       // (d)
  float* attn_norm_bias;  // (d) LayerNorm only
  float* wq;              // (q, d)   GPT-2: rows [0, d) of c_attn, held (3d, d)
  float* wk;              // (kv, d)  GPT-2: rows [d, 2d)
  float* wv;              // (kv, d)  GPT-2: rows [2d, 3d)
  float* wo;              // (d, q)
  float* bq;              // (q)
  float* bk;              // (kv)
  float* bv;              // (kv)
  float* bo;              // (d)
  float* post_attn_norm;  // (d) Gemma 2: norms the attention output
  float* mlp_norm;        // (d)
  float* mlp_norm_bias;   // (d) LayerNorm only
  float* w_gate;          // (f, d) gated MLPs only
  float* w_up;            // (f, d) GPT-2: c_fc
  float* w_down;          // (d, f) GPT-2: mlp.c_proj
  float* b_gate;          // (f)
  float* b_up;            // (f)
  float* b_down;          // (d)
  float* post_mlp_norm;   // (d) Gemma 2: norms the MLP output
};

struct WeightViews {
  float* embed;       // (vocab, d)
  float* pos_embed;   // (max_position_embeddings, d), learned positions only
  std::vector<LayerWeights> layers;
  float* final_norm;  // (d)
  float* final_norm_bias;  // (d) LayerNorm only
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
  // Moves keep the buffer (and so the views into it): returning a multi-gigabyte model from
  // load_weights must not copy it (the copy doubled a 2.5B model's peak memory to 20 GB).
  Weights(Weights&& other) noexcept = default;
  Weights& operator=(Weights&& other) noexcept = default;
  const TensorInfo* find(const std::string& name) const;
  // Normal(0, std) matrices (scaled down for residual outputs), norms at their neutral
  // value, biases zero.
  void init_random(uint64_t seed, float std = 0.02f);
};

}  // namespace strata
