// The Llama-family decoder's forward pass: embedding, then per layer RMSNorm → attention
// (RoPE, grouped-query heads) → residual, RMSNorm → gated MLP → residual, then final norm
// and output head. Input is a batch of B equal-length sequences of T tokens with explicit
// position ids, so a schedule can pass sparse positions. Activation buffers are allocated
// on first use and reused; they only grow when a call needs more rows.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "strata/weights.h"

namespace strata {

// Activations of one forward pass. Shapes per layer, N = B*T rows.
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
  std::vector<float> final_norm;   // (N, d)
  std::vector<float> final_inv_rms;  // (N)
  std::vector<float> logits;     // (B, R, vocab) for the R requested rows
};

class Transformer {
 public:
  explicit Transformer(std::shared_ptr<const Weights> weights);

  const ModelConfig& config() const { return weights_->config; }
  const Weights& weights() const { return *weights_; }

  // tokens, positions: (B, T) row-major. rows: positions within a sequence whose logits
  // are wanted (e.g. {T-1}); empty means all T. Returns logits (B, rows, vocab), valid
  // until the next call. Throws strata::Error on a token id or position out of range.
  std::span<const float> forward(std::span<const int32_t> tokens, std::span<const int32_t> positions,
                                 int B, int T, std::span<const int> rows = {});

  // The same pass keeping every layer's activations, for backward (training).
  std::span<const float> forward_for_training(std::span<const int32_t> tokens,
                                              std::span<const int32_t> positions, int B, int T);
  const Activations& activations() const { return acts_; }

  // True when the logits are W·h exactly, W the output head and h the final normalised
  // hidden state (activations().final_norm after forward): no soft-capping or other
  // non-affine map after the head. Sweeps then form the Gram matrix of the updates from
  // h (sweep.h, GramForm). Every model strata runs today; a config with final-logit
  // soft-capping (Gemma 2) must answer false here.
  static bool logits_affine_in_hidden(const ModelConfig&) { return true; }
  bool logits_affine_in_hidden() const { return logits_affine_in_hidden(config()); }

  // FLOPs of one forward pass over a sequence of n tokens, logits at one row:
  // 2·(matmul params)·n + attention (2·2·n²/2·q_dim per layer, causal).
  static double forward_flops(const ModelConfig& c, int n, int logit_rows = 1);

 private:
  void run(std::span<const int32_t> tokens, std::span<const int32_t> positions, int B, int T,
           std::span<const int> rows, bool keep_all_layers);
  std::shared_ptr<const Weights> weights_;
  Activations acts_;
  std::vector<float> mlp_scratch_;
};

}  // namespace strata
