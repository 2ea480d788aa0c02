// The decoder's forward pass for every supported family: embedding (+ learned positions),
// then per layer norm → attention (RoPE, grouped-query heads, optional window, soft-cap,
// biases) → [post-norm] → residual, norm → MLP (gated or plain) → [post-norm] → residual,
// then final norm, output head and optional logit soft-cap. Input is a batch of B equal-length sequences of T tokens with explicit
// position ids, so a schedule can pass sparse positions. Activation buffers are allocated
// on first use and reused; they only grow when a call needs more rows.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "strata/weights.h"

namespace strata {

class KVCache;  // kv_cache.h

// Dropout of training, on the output of each residual branch (GPT-2's resid_pdrop): per
// layer x_mid = x + keep ⊙ o_proj(attention) / (1-p), x_out = x_mid + keep ⊙ down(mlp) / (1-p).
// Whether element i of branch b (0 attention, 1 MLP) of layer l is kept is a hash of
// (seed, l, b, i) alone, so a training step is the same at any thread count and repeats
// exactly on resume. Inference (Transformer::forward) never drops anything.
struct Dropout {
  float p = 0.0f;     // probability of zeroing an element, in [0, 1); 0 is off
  uint64_t seed = 0;  // the trainer draws one per step from (its seed, step)
};
// 1 if element `index` ((row, column) of the (N, d) branch output, row-major) is kept.
bool dropout_keeps(const Dropout& dropout, int layer, int branch, uint64_t index);

// Activations of one forward pass. Shapes per layer, N = B*T rows (at inference the last
// layer's queries and everything after attention hold only the requested rows, B*R).
struct Activations {
  int B = 0, T = 0;
  bool keep_all_layers = false;  // training keeps every layer's activations for backward
  std::vector<float> residual;   // (L+1, N, d): input of each layer, then the final stream
  std::vector<float> residual_mid;  // (L, N, d): the stream after attention, training only
  std::vector<float> attn_in;    // (L, N, d) normalised input of attention
  std::vector<float> attn_inv_rms;  // (L, N)
  std::vector<float> q, k, v;    // (L, N, q|kv|kv) after RoPE
  std::vector<float> probs;      // (L, B, H, T, T), training only
  std::vector<float> attn_out;   // (L, N, q) before o_proj
  std::vector<float> mlp_in;     // (L, N, d)
  std::vector<float> mlp_inv_rms;  // (L, N)
  std::vector<float> gate, up, act;  // (L, N, f)
  std::vector<float> final_norm;   // (B, R, d) at the R requested rows, as the logits
  std::vector<float> final_inv_rms;  // (B*R)
  std::vector<float> logits;     // (B, R, vocab) for the R requested rows
  Dropout dropout;               // of the last training pass (p 0 at inference)
  std::vector<uint8_t> dropout_keep;  // (L, 2, N, d) when dropout.p > 0: 1 kept, 0 dropped
};

class Transformer {
 public:
  explicit Transformer(std::shared_ptr<const Weights> weights);

  const ModelConfig& config() const { return weights_->config; }
  const Weights& weights() const { return *weights_; }

  // Packs every matrix's wᵀ once, in float (and, for 16-bit weights, in their own type too:
  // ops.h, WeightRef::panels16), for inference on weights that no longer change
  // (never for a model being trained: later calls would not see its updates). Calls of 32
  // rows or more then stop repacking each matrix (40% of a context-64 forward of the
  // default model), with bit-identical logits; fewer rows take the same kernel too (equal
  // within float rounding to the dot-product tile they took before), so that every row's
  // result is independent of what else its call holds. Costs packed_bytes(config()) beside
  // the weights (half as much again for 16-bit weights); above kMaxPackedBytes nothing is
  // packed and it returns false. Under
  // Compute::kBF16 (ops::compute() when called) it also keeps each matrix rounded to
  // bfloat16 as those kernels read it (2 bytes per parameter more), with the same results.
  bool pack_weights();
  static size_t packed_bytes(const ModelConfig& c);
  static constexpr size_t kMaxPackedBytes = size_t(512) << 20;

  // tokens, positions: (B, T) row-major. rows: positions within a sequence whose logits
  // are wanted (e.g. {T-1}); empty means all T. Returns logits (B, rows, vocab), valid
  // until the next call. Throws strata::Error on a token id or position out of range.
  std::span<const float> forward(std::span<const int32_t> tokens, std::span<const int32_t> positions,
                                 int B, int T, std::span<const int> rows = {});

  // Decoding (kv_cache.h): the next T tokens of the one sequence whose earlier tokens are
  // in cache, at positions cache.length() … +T-1. Their keys and values are appended to
  // the cache and attention runs over all of it; returns logits (rows, vocab) as above.
  // Throws strata::Error when the cache is another model's or would pass the context.
  std::span<const float> forward(std::span<const int32_t> tokens, KVCache& cache, std::span<const int> rows = {});

  // The same pass keeping every layer's activations, for backward (training), with
  // dropout on the residual branches when dropout.p > 0.
  std::span<const float> forward_for_training(std::span<const int32_t> tokens,
                                              std::span<const int32_t> positions, int B, int T,
                                              const Dropout& dropout = {});
  const Activations& activations() const { return acts_; }

  // True when the logits are W·h exactly, W the output head and h the final normalised
  // hidden state (activations().final_norm after forward): no soft-capping or other
  // non-affine map after the head. Sweeps then form the Gram matrix of the updates from
  // h (sweep.h, GramForm). False with final-logit soft-capping (Gemma 2): those sweeps keep
  // the vocabulary form.
  static bool logits_affine_in_hidden(const ModelConfig& c) { return c.final_logit_softcap == 0.0f; }
  bool logits_affine_in_hidden() const { return logits_affine_in_hidden(config()); }

  // FLOPs of one forward pass over a sequence of n tokens, logits at one row:
  // 2·(matmul params)·n + attention (2·2·n²/2·q_dim per layer, causal).
  static double forward_flops(const ModelConfig& c, int n, int logit_rows = 1);

 private:
  void run(std::span<const int32_t> tokens, std::span<const int32_t> positions, int B, int T,
           std::span<const int> rows, bool keep_all_layers, const Dropout& dropout = {},
           KVCache* cache = nullptr);
  // The config's norm (RMSNorm or LayerNorm); b is the LayerNorm bias, inv_rms RMSNorm's.
  void norm(float* y, const float* x, const float* w, const float* b, int rows, float* inv_rms) const;
  // y(M,N) = x·wᵀ (+ b).
  static void linear(float* y, const float* x, ops::WeightRef w, const float* b, int M, int N, int K);
  // x(rows,d) += [post_norm](h(rows,K)·wᵀ + b): a residual branch's output projection.
  void residual_branch(float* x, const float* h, ops::WeightRef w, const float* b, const float* post_norm,
                       int rows, int K);
  std::shared_ptr<const Weights> weights_;
  // After pack_weights: the weights' views with every matrix's panels set, and the panels.
  std::unique_ptr<WeightViews> packed_view_;
  std::vector<float> packed_;
  std::vector<uint16_t> packed_bf16_;  // under --compute bf16: every matrix rounded, as its kernels read it
  Activations acts_;
  std::vector<float> mlp_scratch_;  // (N, d): logits rows at inference, a branch's output in training
  std::vector<float> branch_;         // (N, d) Gemma 2's post-normed branch output
  std::vector<float> rope_inv_freq_;  // scaled RoPE only: head_dim/2 frequencies
  // The last layer's stream, attention input and positions at the requested rows (B*R).
  std::vector<float> narrow_x_, narrow_in_;
  std::vector<int32_t> narrow_positions_;

};

}  // namespace strata
