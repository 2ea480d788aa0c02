// What the BF16 compute path (matmul_bf16.cpp) hands its x86 kernels, AMX tiles (amx.cpp)
// and AVX512-BF16 dot products (avx512_bf16.cpp): x and w as rows of bf16, and for AMX x
// also in "VNNI" pairs (AMX computes yᵀ = w·xᵀ, so w, the big operand, is a tile's rows as
// it lies in memory and only x, M·K values, is rearranged). Each kernel is compiled with its instruction set as a
// function attribute (no file-wide -m flags, so no inline function of a shared header is
// ever emitted with instructions a CPU may lack) and is only called once the CPU, and for
// AMX the Linux kernel, said yes.
#pragma once
#include <cstddef>
#include <cstdint>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "strata/ops.h"

namespace strata::ops::bf16 {

// ops::matmul under Compute::kBF16 (matmul_bf16.cpp): rounds, packs, runs bf16_kernel().
void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate);

// K is padded to kKBlock (one AMX tile row: 32 bf16 = 64 bytes) and M, N to kTile rows,
// all with zeros, so every tile is whole. w is read as it is stored when it already is
// bf16 in that shape (a BF16 checkpoint: nothing packed per call), else rounded into a copy.
inline constexpr int kKBlock = 32, kTile = 16;

struct Operands {
  const uint16_t* x;   // (Mp, Kp): x rounded to bf16, rows Kp apart
  const uint32_t* xp;  // (Mp/16, Kp/2, 16): group g, pair p, lane c = x(16g+c, 2p..2p+1); AMX only
  const uint16_t* w;   // (Np, ldw ≥ Kp): w in bf16, rows ldw apart
  size_t ldw;
  int M, N, Kp;        // true rows and columns, padded depth
  float* y;            // (M, N)
  bool accumulate;
};

// y[i0:i1, j0:j1] (i1 ≤ M, j1 ≤ N); i0 and j0 are multiples of kTile.
void amx_block(const Operands& o, int i0, int i1, int j0, int j1);
void avx512_bf16_block(const Operands& o, int i0, int i1, int j0, int j1);

// n floats rounded to bf16 (nearest even) with VCVTNE2PS2BF16; only where avx512_bf16_usable().
void avx512_round_to_bf16(const float* src, size_t n, uint16_t* dst);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// r[k][l] ← r[l][k]: a 16×16 float transposition in 4 rounds of AVX-512 shuffles (AMX's
// tiles of yᵀ; the horizontal sums of 16 AVX-512 accumulators at once).
// GCC 12 reports -Wmaybe-uninitialized inside its own avx512fintrin.h for these shuffles
// (its _mm512_undefined_ps idiom under a target attribute): a false positive, silenced here.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
__attribute__((target("avx512f"), always_inline)) inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 16; k += 4) {
    r[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
    r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xee);
    r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xee);
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);
    t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xdd);
    t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
    t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xdd);
  }
  for (int k = 0; k < 8; ++k) {
    r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
    r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xdd);
  }
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// CPUID (and, for AMX, the kernel's permission to use tile data: requested once).
bool amx_usable();
bool avx512_bf16_usable();

}  // namespace strata::ops::bf16
