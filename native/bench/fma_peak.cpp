// The core's measured floating-point peak: independent chains of vector fused
// multiply-adds with nothing else in the loop, on the SIMD target strata's kernels use
// (chosen at run time, as they are). The matmul benchmarks are read against this figure.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "fma_peak.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace strata::bench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 12 accumulators: more than FMA latency × FMA ports (4 × 2) vectors in flight.
// Returns the sum (so the loop cannot be removed) and the FLOPs it did.
HWY_NOINLINE float FmaChains(int64_t iterations, double* flops, const char** target) {
  const hn::ScalableTag<float> d;
  constexpr int kChains = 12;
  const auto scale = hn::Set(d, 0.999999f), shift = hn::Set(d, 1e-6f);
  hn::Vec<decltype(d)> acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = hn::Set(d, float(c));
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = hn::MulAdd(acc[c], scale, shift);
  auto sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = hn::Add(sum, acc[c]);
  *flops = 2.0 * double(hn::Lanes(d)) * kChains * double(iterations);
  *target = hwy::TargetName(HWY_TARGET);
  return hn::GetLane(sum);
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::bench
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <benchmark/benchmark.h>
#include <omp.h>

#include "bench_setup.h"

namespace strata::bench {
HWY_EXPORT(FmaChains);

namespace {

// Every thread runs the chains; GFLOP/s is the sum over threads.
void BM_FmaPeak(benchmark::State& state) {
  const int threads = int(state.range(0));
  set_threads(threads);
  constexpr int64_t kIterations = 1 << 22;
  double flops_per_call = 0;
  const char* target = "";
  for (auto _ : state) {
    double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      double flops = 0;
      const char* name = "";
      benchmark::DoNotOptimize(HWY_DYNAMIC_DISPATCH(FmaChains)(kIterations, &flops, &name));
      total += flops;
#pragma omp master
      target = name;
    }
    flops_per_call = total;
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_call * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(target);
}
BENCHMARK(BM_FmaPeak)->Name("fma_peak")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace strata::bench
#endif  // HWY_ONCE
