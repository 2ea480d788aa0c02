// Shared inputs of the benchmarks and the program's main(): strata's own flags
// (--model, --text) are taken out of argv before Google Benchmark parses the rest.
#include "bench_setup.h"

#include "../wait_policy.h"

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "strata/error.h"
#include "strata/file_util.h"
#include "strata/ops.h"

namespace strata::bench {

Inputs& inputs() {
  static Inputs in{STRATA_SOURCE_DIR "/assets/model", STRATA_SOURCE_DIR "/../shared/data/sherlock/adventures.txt"};
  return in;
}

const LoadedModel& default_model() {
  // Held in float32 (it is stored in F16): the training step needs it so, and the forward
  // figures stay comparable with the peers' F32 runs.
  static const LoadedModel model = load_model(inputs().model_dir, DType::kF32);
  return model;
}

const LoadedModel& default_model_as_stored() {
  static const LoadedModel model = load_model(inputs().model_dir);
  return model;
}

const std::vector<int32_t>& text_tokens() {
  static const std::vector<int32_t> tokens = default_model().tokenizer.encode(read_file(inputs().text_path));
  return tokens;
}

void set_threads(int n) {
  static const int chosen = omp_get_max_threads();  // before any call here has set it
  if (n == 0) n = chosen;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
  Eigen::setNbThreads(n);
}

}  // namespace strata::bench

int main(int argc, char** argv) {
  strata::native::choose_omp_waiting(argv);
  using strata::bench::inputs;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--model=", 8) == 0) inputs().model_dir = argv[i] + 8;
    else if (std::strncmp(argv[i], "--text=", 7) == 0) inputs().text_path = argv[i] + 7;
    else argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {  // fail before the first benchmark, with the file's name, rather than inside one
    using strata::bench::kContext;
    const int context = strata::bench::default_model().weights->config.max_position_embeddings;
    if (context < kContext)
      throw strata::Error(inputs().model_dir + ": context " + std::to_string(context) + " tokens; the benchmarks need " +
                          std::to_string(kContext));
    const size_t need = size_t(kContext + strata::bench::kSweepTargets);
    if (strata::bench::text_tokens().size() <= need)
      throw strata::Error(inputs().text_path + ": " + std::to_string(strata::bench::text_tokens().size()) +
                          " tokens; the benchmarks need more than " + std::to_string(need));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata-bench: %s\n(pass --model=DIR and --text=FILE)\n", e.what());
    return 1;
  }
  benchmark::AddCustomContext("strata_simd_target", strata::ops::simd_target());
  std::string bf16_kernels;
  for (strata::ops::Bf16Kernel k : strata::ops::available_bf16_kernels())
    bf16_kernels += std::string(bf16_kernels.empty() ? "" : ",") + strata::ops::bf16_kernel_name(k);
  benchmark::AddCustomContext("strata_bf16_kernels", bf16_kernels);
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("hardware_threads", std::to_string(std::thread::hardware_concurrency()));
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin_count = std::getenv("GOMP_SPINCOUNT");
  benchmark::AddCustomContext("omp_wait_policy", wait_policy ? wait_policy : spin_count ? "(spin, then sleep)" : "(libgomp default: spin)");
  if (spin_count) benchmark::AddCustomContext("gomp_spincount", spin_count);
  benchmark::AddCustomContext("omp_threads_at_start", std::to_string(omp_get_max_threads()));  // threads:0
  benchmark::AddCustomContext("model", inputs().model_dir);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
