// How the kernels reach a SIMD target and the threads. Each kernel file (matmul.cpp,
// rows.cpp, attention.cpp) is written once with Highway and compiled for each target by
// foreach_target.h (natively SSE4, AVX2+FMA, AVX-512; one static target on WebAssembly:
// SIMD128, or EMU128 when SIMD is off) and names its per-target entry points with
// HWY_EXPORT. The public functions of ops.h, at the bottom of each file, call them through
// HWY_DYNAMIC_DISPATCH, which chooses the best target the CPU supports at run time
// (simd_target() in dispatch.cpp names that choice), and split work across OpenMP threads;
// the SIMD code itself never spawns threads, so there is only one thread pool.
#pragma once
#include <cstdint>

#include "strata/ops.h"

namespace strata::ops {

// ops::matmul in float whatever compute() says (matmul.cpp); the BF16 path's fallback.
void matmul_f32(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate);

// ops::matmul_nn with c's rows ldc apart and b's ldb apart (attention's operands are one
// head's columns of wider rows). Every element of c is one chain of fused multiply-adds
// over p = 0, 1, … (in slices of 512), whatever M and N are: an element's bits do not
// depend on the call it is part of. threaded = false: on the calling thread, with no
// parallel region (for products inside one thread's task: a nested region is one more
// fork and join per call, which made 2-thread decoding 3× slower).
void matmul_nn_strided(float* c, int ldc, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
                       int ldb, int M, int N, int K, bool accumulate, bool threaded);

// Below this many multiply-adds a parallel region costs more than it saves (the kernels'
// threshold, and the backward pass's for its own loops). WebAssembly builds have no OpenMP,
// so a variable that only feeds an `if` clause is marked [[maybe_unused]].
inline constexpr int64_t kParallelWork = 1 << 15;

// Columns of one packed panel of b in the broadcast matmul kernel (matmul.cpp): whole
// vector tiles on every target.
inline constexpr int kPanel = 64;

}  // namespace strata::ops
