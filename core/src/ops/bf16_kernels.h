// What the BF16 compute path (matmul_bf16.cpp) hands its x86 kernels: x rounded to bf16
// and w packed in "VNNI" pairs, the layout both AMX tiles (amx.cpp) and AVX512-BF16 dot
// products (avx512_bf16.cpp) read. Each kernel is compiled with its instruction set as a
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

// K is padded to kKBlock (one AMX tile row: 32 bf16 = 64 bytes), M to kRowBlock rows and N to
// kGroup columns, all with zeros, so every tile is whole.
inline constexpr int kKBlock = 32, kRowBlock = 16, kGroup = 16;

struct Operands {
  const uint16_t* a;  // (Mp, Kp): x rounded to bf16, rows Kp apart
  const uint32_t* b;  // (Np/16, Kp/2, 16): group g, pair p, column c = w(16g+c, 2p..2p+1) as bf16
  int M, N, Kp;       // true rows and columns, padded depth
  float* y;           // (M, N)
  bool accumulate;
};

// y[i0:i1, 16·g0 : 16·g1] (clipped to M, N). i0 is a multiple of kRowBlock.
void amx_block(const Operands& o, int i0, int i1, int g0, int g1);
void avx512_bf16_block(const Operands& o, int i0, int i1, int g0, int g1);

// CPUID (and, for AMX, the kernel's permission to use tile data: requested once).
bool amx_usable();
bool avx512_bf16_usable();

}  // namespace strata::ops::bf16
