// The kernels every forward and backward pass is built from. Each has a plain scalar
// reference (namespace ops::reference) and a SIMD version written once with Highway and
// compiled for every x86 target (SSE4, AVX2+FMA, AVX-512) plus WebAssembly SIMD128; the
// best target the CPU supports is chosen at run time, so a portable build never assumes
// AVX-512. Shapes: row-major, (rows, cols).
#pragma once
#include <cstddef>
#include <cstdint>

#include "strata/config.h"
#include "strata/dtype.h"

namespace strata::ops {

// A weight matrix in the element type it is stored in (F32, F16 or BF16, little-endian).
// The matmul widens F16/BF16 to float exactly as it packs or loads them, so a checkpoint
// stored in 16 bits stays in 16 bits in memory. A float pointer converts implicitly.
struct WeightRef {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  WeightRef(const float* w) : data(w) {}  // NOLINT: implicit on purpose, float weights as before
  WeightRef(const void* w, DType t) : data(w), dtype(t) {}
};

// y(M,N) = x(M,K) · w(N,K)ᵀ, or y += ... when accumulate. The layout of torch.nn.Linear:
// weights are (out, in), so every output is a dot product of two contiguous rows.
// Computed in float (exact products of the widened weights) unless compute() is kBF16.
void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate = false);

// c(M,N) = a(M,K) · b(K,N), or c += ... when accumulate; b row-major, a read with any
// strides: element (i,p) of a is a[i·a_row_stride + p·a_col_stride], so aᵀ costs nothing.
// The backward pass's layouts: dx = dy·w and dw += dyᵀ·x.
void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate = false);

// y(rows,d) = x / rms(x) * (w or 1+w). inv_rms (rows), if given, receives 1/rms per row.
void rmsnorm(float* y, const float* x, const float* w, int rows, int d, float eps, bool plus_one,
             float* inv_rms = nullptr);

// Rotary embedding in place, rotate-half convention (Hugging Face Llama/Gemma): x is
// (rows, n_heads*head_dim), positions (rows). inverse = true rotates by -angle (backward).
void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, float theta,
          bool inverse = false);

// In-place softmax of one row of n values.
void softmax(float* x, int n);

// h(n) = act(gate) * up, act = SiLU or tanh-approximated GELU.
void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act);

// Causal multi-head attention with grouped-query heads over B sequences of T tokens.
// q (B*T, n_heads*hd), k and v (B*T, n_kv*hd), out (B*T, n_heads*hd). Scores are scaled by
// 1/sqrt(hd). probs, if given, receives the attention weights (B, n_heads, T, T) for backward.
void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs = nullptr);

// Backward of attention() given its saved probs: writes dq (B*T, H*hd) and dk, dv
// (B*T, KVH*hd) from dout (B*T, H*hd); q and k are the rotated inputs.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd);

// Name of the SIMD target the dispatcher chose on this CPU, e.g. "AVX3" or "AVX2".
const char* simd_target();

namespace reference {
void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate = false);
void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate = false);
void rmsnorm(float* y, const float* x, const float* w, int rows, int d, float eps, bool plus_one,
             float* inv_rms = nullptr);
void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, float theta,
          bool inverse = false);
void softmax(float* x, int n);
void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act);
void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs = nullptr);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd);
}  // namespace reference

}  // namespace strata::ops
