// Decoding with a KV cache on the default model: the rate of single-token steps after a
// prompt of P text tokens, at 1 and 2 threads. prompt:1 is llama-bench's tg figure
// (generation from an empty context, which llama.cpp starts with one token's pass too).
// Each iteration truncates the cache back to the prompt and steps through the next N
// text tokens, so every iteration does the same work; the prefill is outside the timing.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench_setup.h"
#include "strata/generate.h"

namespace {

void decode_case(benchmark::State& state, const strata::LoadedModel& model) {
  const int P = int(state.range(0)), N = int(state.range(1));
  strata::bench::set_threads(int(state.range(2)));
  const std::vector<int32_t>& text = strata::bench::text_tokens();  // main() checked it holds > kContext tokens
  strata::Decoder decoder(model.weights);
  decoder.prefill(std::span(text).first(size_t(P)));
  for (auto _ : state) {
    decoder.truncate(P);
    for (int i = 0; i < N; ++i) benchmark::DoNotOptimize(decoder.step(text[size_t(P + i)]).data());
  }
  state.counters["tokens/s"] = benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
}
void BM_Decode(benchmark::State& state) { decode_case(state, strata::bench::default_model()); }
void BM_DecodeAsStored(benchmark::State& state) { decode_case(state, strata::bench::default_model_as_stored()); }
BENCHMARK(BM_Decode)
    ->Name("decode")
    ->ArgNames({"prompt", "steps", "threads"})
    ->ArgsProduct({{1, 64}, {128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
// The weights in their stored type (F16): the panels too, widened as the kernel loads them.
BENCHMARK(BM_DecodeAsStored)
    ->Name("decode_as_stored")
    ->ArgNames({"prompt", "steps", "threads"})
    ->ArgsProduct({{1}, {128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
