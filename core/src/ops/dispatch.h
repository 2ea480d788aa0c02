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

namespace strata::ops {

// Below this many multiply-adds a parallel region costs more than it saves (the kernels'
// threshold, and the backward pass's for its own loops). WebAssembly builds have no OpenMP,
// so a variable that only feeds an `if` clause is marked [[maybe_unused]].
inline constexpr int64_t kParallelWork = 1 << 15;

}  // namespace strata::ops
