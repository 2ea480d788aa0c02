// The kernels every forward and backward pass is built from. Each has a plain scalar
// reference (namespace ops::reference) and a SIMD version written once with Highway and
// compiled for every x86 target (SSE4, AVX2+FMA, AVX-512) plus WebAssembly SIMD128; the
// best target the CPU supports is chosen at run time, so a portable build never assumes
// AVX-512. Shapes: row-major, (rows, cols).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "strata/config.h"
#include "strata/dtype.h"

namespace strata::ops {

// A weight matrix in the element type it is stored in (F32, F16 or BF16, little-endian).
// The matmul widens F16/BF16 to float exactly as it packs or loads them, so a checkpoint
// stored in 16 bits stays in 16 bits in memory. A float pointer converts implicitly.
struct WeightRef {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  // The whole matrix's wᵀ already packed by pack_weight, when its owner keeps that copy
  // (inference on fixed weights): products then take the broadcast kernel at any number of
  // rows without packing per call (from 32 rows, where they would pack, with the same
  // sums), in float. plus() drops it: it describes the whole matrix only.
  const float* panels = nullptr;
  // For F16/BF16 weights, the same panels in the stored type, widened as the kernel loads
  // them (the same products from half the bytes): taken below 32 rows, where reading the
  // weights is the cost (decoding 2×); from 32 rows the widening in the inner loop cost
  // 6–13 % and the float panels are taken.
  const void* panels16 = nullptr;
  // The same for Compute::kBF16: w rounded to bfloat16 in the padded rows its kernels read
  // (pack_weight_bf16), so that they stop rounding it per call.
  const uint16_t* bf16_rows = nullptr;
  WeightRef() = default;  // null: a tensor the architecture lacks
  WeightRef(const float* w) : data(w) {}  // NOLINT: implicit on purpose, float weights as before
  WeightRef(const void* w, DType t) : data(w), dtype(t) {}
  explicit operator bool() const { return data != nullptr; }
  bool operator==(const WeightRef&) const = default;
  // The same matrix from element n on (e.g. row r of a (rows, cols) matrix: n = r·cols).
  WeightRef plus(size_t n) const { return {static_cast<const unsigned char*>(data) + n * dtype_size(dtype), dtype}; }
};

// y(M,N) = x(M,K) · w(N,K)ᵀ, or y += ... when accumulate. The layout of torch.nn.Linear:
// weights are (out, in), so every output is a dot product of two contiguous rows.
// Computed in float (exact products of the widened weights) unless compute() is kBF16.
void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate = false);

// w(N,K)ᵀ as the broadcast kernel reads it (column panels), in type t (float, or w's own
// 16-bit type), into dst, which holds packed_weight_bytes(N, K, t); the result goes into
// WeightRef::panels (float) or panels16.
size_t packed_weight_bytes(int N, int K, DType t);
void pack_weight(WeightRef w, int N, int K, DType t, void* dst);
// w(N,K) rounded to bfloat16 as Compute::kBF16's kernels read it, into dst, which holds
// bf16_weight_elements(N, K); the result goes into WeightRef::bf16_rows.
size_t bf16_weight_elements(int N, int K);
void pack_weight_bf16(WeightRef w, int N, int K, uint16_t* dst);

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

// In-place softmax of one row of n values; returns the row's log-normaliser, log Σ exp(x)
// of the input (a cross entropy's log-sum-exp, computed on the way).
float softmax(float* x, int n);

// h(n) = act(gate) * up, act = SiLU or tanh-approximated GELU.
void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act);

// Backward of gated_activation: dgate = dh·up·act'(gate), dup = dh·act(gate).
void gated_activation_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                               size_t n, Activation act);

// Causal multi-head attention with grouped-query heads over B sequences of T tokens.
// q (B*T, n_heads*hd), k and v (B*T, n_kv*hd), out (B*T, n_heads*hd). Scores are scaled by
// 1/sqrt(hd). probs, if given, receives the attention weights (B, n_heads, T, T) for backward.
// With past > 0 the T queries follow `past` earlier tokens (a KV cache): k and v hold
// (B*(past+T), n_kv*hd), the earlier keys first, query i sees keys 0..past+i, and probs
// is (B, n_heads, T, past+T).
void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs = nullptr, int past = 0);

// Backward of attention() given its saved probs: writes dq (B*T, H*hd) and dk, dv
// (B*T, KVH*hd) from dout (B*T, H*hd); q and k are the rotated inputs.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd);

// Name of the SIMD target the dispatcher chose on this CPU, e.g. "AVX3" or "AVX2".
const char* simd_target();

// The arithmetic of matmul(), process-wide (like a thread count; set it before a run, not
// while one is under way). kF32, the default, is exact float arithmetic on the widened
// weights. kBF16 (opt-in: `--compute bf16`) rounds x and w to bfloat16 (round to nearest
// even) and accumulates their exact products in float: about 3 significant digits per
// operand, for AMX tiles or AVX512-BF16 dot products where the CPU has them. matmul_nn
// (the backward pass) always computes in float.
enum class Compute : uint8_t { kF32, kBF16 };
void set_compute(Compute c);
Compute compute();
Compute parse_compute(std::string_view name);  // "f32" or "bf16"; throws strata::Error
const char* compute_name(Compute c);

// The kernels behind Compute::kBF16. kEmulated runs the float kernel on the rounded
// operands (the same products, on any CPU); the others need AVX512-BF16, or AMX-BF16 and
// the Linux kernel's permission for tile data (asked at first use; refused means absent).
enum class Bf16Kernel : uint8_t { kAmx, kAvx512Bf16, kEmulated };
std::vector<Bf16Kernel> available_bf16_kernels();  // best first; always ends with kEmulated
const char* bf16_kernel_name(Bf16Kernel k);        // "AMX", "AVX512-BF16", "emulated"
// The one kBF16 uses: the best available unless set (tests and benchmarks try each);
// setting one that is not available throws strata::Error.
Bf16Kernel bf16_kernel();
void set_bf16_kernel(Bf16Kernel k);

namespace reference {
void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate = false);
void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate = false);
void rmsnorm(float* y, const float* x, const float* w, int rows, int d, float eps, bool plus_one,
             float* inv_rms = nullptr);
void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, float theta,
          bool inverse = false);
float softmax(float* x, int n);
void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act);
void gated_activation_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                               size_t n, Activation act);
void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs = nullptr);
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd);
}  // namespace reference

}  // namespace strata::ops
