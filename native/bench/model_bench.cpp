// The default model end to end: forward latency for one sequence of n = 1, 2, 4, …, 256
// tokens (logits at the last row, as iterative inference needs), throughput for 1×256
// and 8×256 (and the same without the weights packed once), and one training step (forward, backward, AdamW) on B = 8 windows of 256.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "bench_setup.h"
#include "strata/model.h"
#include "strata/trainer.h"

namespace {

using strata::bench::default_model;
using strata::bench::text_tokens;

// B windows of T consecutive text tokens spread over the text, positions 0…T-1
// (main() has checked that the text holds more than T tokens).
struct Batch {
  std::vector<int32_t> tokens, positions, targets;
  Batch(int B, int T) {
    const auto& text = text_tokens();
    const size_t span = text.size() - size_t(T) - 1;  // window starts in [0, span]
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < T; ++i) {
        const size_t at = span * size_t(b) / size_t(B) + size_t(i);
        tokens.push_back(text[at]);
        targets.push_back(text[at + 1]);
        positions.push_back(i);
      }
  }
};

// packed: the weights packed once (Transformer::pack_weights, as every command runs), or
// repacked by every call of 32 rows or more. The model is held in float32, or as stored
// (F16, as the commands hold it unless told: its panels widened as the kernel loads them).
void forward_case(benchmark::State& state, bool packed, bool as_stored = false) {
  const int B = int(state.range(0)), T = int(state.range(1));
  strata::bench::set_threads(int(state.range(2)));
  strata::Transformer model(as_stored ? strata::bench::default_model_as_stored().weights : default_model().weights);
  if (packed) model.pack_weights();
  const Batch batch(B, T);
  const std::vector<int> last_row = {T - 1};
  // One call first, as the PyTorch peer makes two: the model's buffers are touched for the
  // first time there (page faults were a quarter of a 1-iteration training step's time).
  model.forward(batch.tokens, batch.positions, B, T, last_row);
  for (auto _ : state) benchmark::DoNotOptimize(model.forward(batch.tokens, batch.positions, B, T, last_row).data());
  state.counters["tokens/s"] = benchmark::Counter(double(B) * T, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      1e-9 * B * strata::Transformer::forward_flops(model.config(), T), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_Forward(benchmark::State& state) { forward_case(state, /*packed=*/true); }
void BM_ForwardRepacking(benchmark::State& state) { forward_case(state, /*packed=*/false); }
void BM_ForwardAsStored(benchmark::State& state) { forward_case(state, /*packed=*/true, /*as_stored=*/true); }
BENCHMARK(BM_Forward)
    ->Name("forward")
    ->ArgNames({"B", "T", "threads"})
    ->ArgsProduct({{1}, benchmark::CreateRange(1, 256, 2), {1, 2}})
    ->Args({8, 256, 1})
    ->Args({8, 256, 2})
    ->Args({1, 16, 0})  // threads:0, the count the program chose at start (scripts/bench_load.sh)
    ->Args({1, 64, 0})
    ->UseRealTime();
BENCHMARK(BM_ForwardAsStored)
    ->Name("forward_as_stored")
    ->ArgNames({"B", "T", "threads"})
    ->ArgsProduct({{1}, {1, 16, 64, 256}, {1, 2}})
    ->Args({8, 256, 1})
    ->Args({8, 256, 2})
    ->UseRealTime();
BENCHMARK(BM_ForwardRepacking)
    ->Name("forward_repacking")
    ->ArgNames({"B", "T", "threads"})
    ->ArgsProduct({{1}, {64, 256}, {1, 2}})
    ->UseRealTime();

// One optimiser step of the default model's architecture from its trained weights (the
// time does not depend on the values), learning rate fixed.
void BM_TrainStep(benchmark::State& state) {
  const int B = 8, T = 256;
  strata::bench::set_threads(int(state.range(0)));
  auto weights = std::make_shared<strata::Weights>(*default_model().weights);
  strata::TrainOptions options;
  options.batch_size = B;
  options.seq_len = T;
  strata::Trainer trainer(weights, text_tokens(), text_tokens(), options);
  const Batch batch(B, T);
  trainer.step_on(batch.tokens, batch.positions, batch.targets, B, T, 1e-4f);  // first touch (see forward_case)
  for (auto _ : state) benchmark::DoNotOptimize(trainer.step_on(batch.tokens, batch.positions, batch.targets, B, T, 1e-4f));
  state.counters["tokens/s"] = benchmark::Counter(double(B) * T, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TrainStep)->Name("train_step/B:8/T:256")->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
