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

// CPUID (and, for AMX, the kernel's permission to use tile data: requested once).
bool amx_usable();
bool avx512_bf16_usable();

}  // namespace strata::ops::bf16
