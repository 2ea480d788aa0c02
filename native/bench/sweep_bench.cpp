// A sweep of one schedule over the text on the default model at budget L = 64, 128, 256:
// the analysis job's inner loop (batched forwards, streamed statistics). The table reads
// the wall time per target and the token-forwards per target side by side for both
// schedules; their ratios are the compute claim of the method.
#include <benchmark/benchmark.h>

#include <string>

#include "bench_setup.h"
#include "strata/model.h"
#include "strata/sweep.h"

namespace {

// One batch of the analysis default; sequential at L = 256 is 2.1M token-forwards.
constexpr int kTargets = strata::bench::kSweepTargets;

void BM_Sweep(benchmark::State& state, const std::string& schedule) {
  const int budget = int(state.range(0));
  strata::bench::set_threads(2);
  strata::Transformer model(strata::bench::default_model().weights);
  model.pack_weights();
  strata::SweepOptions options;
  options.budget = budget;
  options.schedules = {schedule};
  options.targets = kTargets;
  options.batch = kTargets;
  int64_t token_forwards = 0;
  for (auto _ : state) {
    const auto result = strata::run_sweep(model, strata::bench::text_tokens(), options);
    token_forwards = result.schedules.front().token_forwards;
  }
  state.counters["ms/target"] = benchmark::Counter(
      kTargets / 1e3, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["token_forwards/target"] = double(token_forwards) / kTargets;
  state.counters["token_forwards/s"] = benchmark::Counter(double(token_forwards), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_Sweep, sequential, std::string("sequential"))
    ->Name("sweep/sequential")->ArgName("L")->Arg(64)->Arg(128)->Arg(256)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Sweep, hierarchical, std::string("hierarchical"))
    ->Name("sweep/hierarchical")->ArgName("L")->Arg(64)->Arg(128)->Arg(256)->Iterations(3)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace
