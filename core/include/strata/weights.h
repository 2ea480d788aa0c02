// Every parameter of a model, with a table of named views into it (llm.c style). The names
// are Hugging Face's for the model's family, so a checkpoint's safetensors map onto the
// table one to one; gradients and optimiser moments reuse the same layout. Tensors an
// architecture lacks (biases, post-norms, position embeddings) are absent from the table
// and their views are null.
//
// A model strata creates (to train it) holds every tensor in one float allocation. A model
// loaded from a checkpoint stored in F16 or BF16 keeps its matrices in that type, usually
// in the memory-mapped file itself (no copy), and the kernels widen them as they read
// (ops.h, WeightRef): a 5 GB BF16 checkpoint costs 5 GB of memory, not 10 GB of floats.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "strata/config.h"
#include "strata/dtype.h"
#include "strata/ops.h"

namespace strata {

struct TensorInfo {
  std::string name;          // e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // as stored in the checkpoint, row-major
  size_t offset = 0;         // in elements, into Weights::data (F32) or Weights::data16 (F16, BF16); unused when mapped
  size_t size = 0;           // element count
  // GPT-2's Conv1D stores a weight (in, out); strata holds every matrix (out, in) like
  // torch.nn.Linear, so the kernels see one layout. Loading and saving transpose it.
  bool transposed = false;
  DType dtype = DType::kF32;     // the type it is held in (vectors: always F32)
  const void* mapped = nullptr;  // its bytes in a memory-mapped checkpoint, else nullptr (owned)
};

// The fixed order and shapes of a config's tensors.
std::vector<TensorInfo> parameter_layout(const ModelConfig& c);

// Views per layer. Shapes in comments: d = hidden_size, q = num_attention_heads*head_dim,
// kv = num_key_value_heads*head_dim, f = intermediate_size. Matrix is how a table refers to
// a matrix: ops::WeightRef (pointer and held type) for a model's weights, float* for a flat
// float buffer (gradients, optimiser moments, a trainable model's parameters). Vectors
// (norms, biases) are float in both. Biases and the extra norms are null where the
// architecture has none.
template <class Matrix>
struct LayerTensors {
  float* attn_norm;       // (d)
  float* attn_norm_bias;  // (d) LayerNorm only
  Matrix wq;              // (q, d)   GPT-2: rows [0, d) of c_attn, held (3d, d)
  Matrix wk;              // (kv, d)  GPT-2: rows [d, 2d)
  Matrix wv;              // (kv, d)  GPT-2: rows [2d, 3d)
  Matrix wo;              // (d, q)
  float* bq;              // (q)
  float* bk;              // (kv)
  float* bv;              // (kv)
  float* bo;              // (d)
  float* post_attn_norm;  // (d) Gemma 2: norms the attention output
  float* mlp_norm;        // (d)
  float* mlp_norm_bias;   // (d) LayerNorm only
  Matrix w_gate;          // (f, d) gated MLPs only
  Matrix w_up;            // (f, d) GPT-2: c_fc
  Matrix w_down;          // (d, f) GPT-2: mlp.c_proj
  float* b_gate;          // (f)
  float* b_up;            // (f)
  float* b_down;          // (d)
  float* post_mlp_norm;   // (d) Gemma 2: norms the MLP output
};

template <class Matrix>
struct ModelTensors {
  Matrix embed;       // (vocab, d)
  Matrix pos_embed;   // (max_position_embeddings, d), learned positions only
  std::vector<LayerTensors<Matrix>> layers;
  float* final_norm;  // (d)
  float* final_norm_bias;  // (d) LayerNorm only
  Matrix lm_head;     // (vocab, d); == embed when tied
};

using LayerWeights = LayerTensors<ops::WeightRef>;  // a model's, each matrix in its held type
using WeightViews = ModelTensors<ops::WeightRef>;
using FlatViews = ModelTensors<float*>;  // into a float buffer laid out by parameter_layout

// Binds views to a flat float buffer laid out by parameter_layout(c).
FlatViews bind_weights(const ModelConfig& c, float* flat);

// A model's parameters: the config, where each tensor is held, and the views.
struct Weights {
  ModelConfig config;
  std::vector<TensorInfo> layout;
  std::vector<float> data;         // the tensors held in F32 (all of them unless loaded in 16 bits)
  std::vector<uint16_t> data16;    // F16/BF16 tensors that could not stay mapped (transposed, converted)
  std::vector<std::shared_ptr<const void>> mappings;  // keep the mapped checkpoint files alive
  WeightViews view;

  // Every tensor in F32, zeroed, in one allocation (parameter_layout's offsets).
  explicit Weights(const ModelConfig& c);
  // The tensors of parameter_layout(c) held as `layout` says (dtype; mapped, or owned when
  // mapped is nullptr; offsets are recomputed). Owned tensors are zeroed, for the caller to
  // fill through owned_tensor_data(). Vectors must be F32. `mappings` own what mapped points into.
  Weights(const ModelConfig& c, std::vector<TensorInfo> layout, std::vector<std::shared_ptr<const void>> mappings);
  Weights(const Weights& other);
  Weights& operator=(const Weights& other);
  // Moves keep the buffer (and so the views into it): returning a multi-gigabyte model from
  // load_weights must not copy it (the copy doubled a 2.5B model's peak memory to 20 GB).
  Weights(Weights&& other) noexcept = default;
  Weights& operator=(Weights&& other) noexcept = default;
  const TensorInfo* find(const std::string& name) const;
  // Where tensor t (an element of layout) is held, in its dtype.
  const void* tensor_data(const TensorInfo& t) const;
  void* owned_tensor_data(const TensorInfo& t);  // throws strata::Error for a mapped tensor
  // True when every tensor is F32 in `data` at parameter_layout's offsets: what training,
  // init_random and FlatViews over `data` need.
  bool flat_f32() const;
  // Bytes of the tensors as held: on the heap (data, data16), and in mapped files. Counted
  // from the buffers and the tensors' mapped ranges, not estimated from the config.
  size_t owned_bytes() const;
  size_t mapped_bytes() const;
  // The held types of the matrices, e.g. "BF16", or "F32+BF16" when they differ.
  std::string matrix_dtypes() const;
  // Normal(0, std) matrices (scaled down for residual outputs), norms at their neutral
  // value, biases zero. Needs flat_f32().
  void init_random(uint64_t seed, float std = 0.02f);

 private:
  void bind();
};

}  // namespace strata
