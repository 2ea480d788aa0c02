// The kernels only some architectures need, beside the shared ones of ops.h: LayerNorm
// with bias (GPT-2), bias rows, the plain tanh GELU (GPT-2's gelu_new), soft-capping (Gemma 2),
// RoPE from a precomputed (scaled) frequency table (Llama 3), and causal attention with a
// sliding window, a custom score scale and a logit soft-cap (Mistral, Qwen2, Gemma 2).
// Plain scalar C++: they are a small share of a forward pass's time (the matmuls stay in
// ops.h), and being obvious they double as their own reference. Shapes row-major.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "strata/config.h"

namespace strata::arch {

// y(rows,d) = (x - mean) / sqrt(var + eps) * w + b, the biased variance of torch.nn.LayerNorm.
void layernorm(float* y, const float* x, const float* w, const float* b, int rows, int d, float eps);

// y(rows,n) += b(n) on every row.
void add_bias(float* y, const float* b, int rows, int n);

// x = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in place: GPT-2's gelu_new.
void gelu_tanh(float* x, size_t n);

// x = cap * tanh(x / cap) in place.
void softcap(float* x, size_t n, float cap);

// The rotary inverse frequencies (head_dim/2) of c: 1 / theta^(2i/head_dim) in float, as
// Hugging Face computes them, then divided by the linear factor or reshaped by llama3's
// ramp between its low- and high-frequency wavelengths.
std::vector<float> rope_inv_freq(const ModelConfig& c);

// Rotate-half RoPE in place on x (rows, n_heads*head_dim) with inv_freq (head_dim/2):
// angle = float(position) * inv_freq, in float like Hugging Face.
void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, const float* inv_freq);

// Causal grouped-query attention (ops::attention's layout, `past` earlier keys from a KV
// cache included) with options: scores scaled by `scale`, soft-capped when softcap > 0,
// and, when window > 0, query i (at index past + i) sees only keys j with
// past + i - j < window (Hugging Face's sliding mask, by index in the sequence).
void attention(float* out, const float* q, const float* k, const float* v, int B, int T, int n_heads,
               int n_kv_heads, int head_dim, float scale, int window, float softcap, int past = 0);

}  // namespace strata::arch
