// Native counterpart of the page's strata_bench_forward(n, reps): milliseconds per forward
// pass over n tokens (logits at the last row) with a model directory, its weights packed
// once as the page packs them, on one thread, for each SIMD target the CPU has (the best
// one first; SSE4 is the width of WASM SIMD128).
// Not part of the build (web/ is the WebAssembly project); compile it against a native
// build of the core:
//   g++ -O2 -std=c++20 -fopenmp -Icore/include web/tests/bench_native.cpp \
//       build/core/libstrata.a -lhwy -lpcre2-8 -lutf8proc -o /tmp/bench_native
//   OMP_NUM_THREADS=1 /tmp/bench_native assets/model 256 10
// Prints one JSON line per target: {"target": "AVX3", "n": 256, "ms": [...], "min_ms": ...}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "hwy/targets.h"
#include "strata/model.h"
#include "strata/model_dir.h"
#include "strata/ops.h"

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [n=256] [reps=10]\n", argv[0]);
    return 2;
  }
  const int n_arg = argc > 2 ? std::atoi(argv[2]) : 256, reps = argc > 3 ? std::atoi(argv[3]) : 10;
  auto weights = std::make_shared<const strata::Weights>(strata::load_weights(argv[1]));
  strata::Transformer model(weights);
  model.pack_weights();  // as the page holds its model (run.cpp)
  const int n = std::clamp(n_arg, 1, model.config().max_position_embeddings);
  std::vector<int32_t> ids(static_cast<size_t>(n)), pos(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ids[size_t(i)] = (i * 37 + 11) % model.config().vocab_size;
    pos[size_t(i)] = i;
  }
  const std::vector<int> rows = {n - 1};
  const int64_t all = hwy::SupportedTargets();
  // Best target first, then each weaker one the CPU supports.
  std::vector<int64_t> targets;
  for (int64_t t = all; t; t &= t - 1) targets.push_back(t & -t);  // lowest bit = best
  for (int64_t target : targets) {
    if (target == HWY_SCALAR || target == HWY_EMU128) continue;
    hwy::SetSupportedTargetsForTest(target);
    // The CPU's targets the kernels were not compiled for (Debian's Highway knows more
    // than the build asks for) would time a fallback, not that target.
    if (std::string(strata::ops::simd_target()) != hwy::TargetName(target)) continue;
    model.forward(ids, pos, 1, n, rows);  // warm-up
    std::vector<double> ms;
    for (int r = 0; r < reps; ++r) {
      const double start = now_ms();
      model.forward(ids, pos, 1, n, rows);
      ms.push_back(now_ms() - start);
    }
    std::printf("{\"target\": \"%s\", \"kernels\": \"%s\", \"n\": %d, \"min_ms\": %.2f, \"median_ms\": %.2f}\n",
                hwy::TargetName(target), strata::ops::simd_target(), n, *std::min_element(ms.begin(), ms.end()),
                (std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end()), ms[ms.size() / 2]));
    std::fflush(stdout);
  }
  hwy::SetSupportedTargetsForTest(0);
  return 0;
}
