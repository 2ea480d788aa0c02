// The core's measured BF16 peaks, read beside the matmul benchmarks as fma_peak.cpp's FP32
// figure is: TDPBF16PS on four independent AMX accumulator tiles with nothing loaded in the
// loop (16384 FLOPs each), and VDPBF16PS on independent AVX-512 chains (64 FLOPs each). Each
// runs only where ops::available_bf16_kernels() says the CPU (and the kernel, for AMX
// tiles) allows it; the instruction sets are function attributes, as in core/src/ops.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "bench_setup.h"
#include "strata/ops.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace strata::bench {
namespace {

bool has(ops::Bf16Kernel k) {
  const auto kernels = ops::available_bf16_kernels();
  return std::find(kernels.begin(), kernels.end(), k) != kernels.end();
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Returns the FLOPs done.
__attribute__((target("amx-tile,amx-bf16"))) double amx_chains(int64_t iterations) {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  alignas(64) static uint16_t ones[16 * 32];
  std::fill(ones, ones + 16 * 32, uint16_t(0x3f80));  // bf16 1.0
  _tile_loadconfig(&config);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, ones, 64);
  _tile_loadd(5, ones, 64);
  _tile_loadd(6, ones, 64);
  _tile_loadd(7, ones, 64);
  for (int64_t i = 0; i < iterations; ++i) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float out[16 * 16];
  _tile_stored(0, out, 64);
  _tile_release();
  benchmark::DoNotOptimize(out[0]);
  return 4.0 * 16 * 16 * 32 * 2 * double(iterations);
}

__attribute__((target("avx512f,avx512bf16"))) double avx512_bf16_chains(int64_t iterations) {
  constexpr int kChains = 12;  // more than latency × ports vectors in flight, as fma_peak.cpp
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const __m512i a = _mm512_set1_epi32(0x3f803f80), b = _mm512_set1_epi32(0x3f803f80);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], (__m512bh)a, (__m512bh)b);
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  benchmark::DoNotOptimize(sum);
  return 2.0 * 32 * kChains * double(iterations);
}

template <ops::Bf16Kernel kKernel>
void BM_Bf16Peak(benchmark::State& state) {
  if (!has(kKernel)) return state.SkipWithError("not available on this CPU");
  const int threads = int(state.range(0));
  set_threads(threads);
  constexpr int64_t kIterations = int64_t(1) << 20;
  double flops_per_call = 0;
  for (auto _ : state) {
    double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    total += kKernel == ops::Bf16Kernel::kAmx ? amx_chains(kIterations / 16) : avx512_bf16_chains(kIterations);
    flops_per_call = total;
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_call * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Bf16Peak<ops::Bf16Kernel::kAmx>)->Name("amx_bf16_peak")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Bf16Peak<ops::Bf16Kernel::kAvx512Bf16>)
    ->Name("avx512_bf16_peak")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace strata::bench
#endif
