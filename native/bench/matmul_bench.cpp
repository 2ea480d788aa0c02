// The forward pass's product y(M,N) = x(M,K) · w(N,K)ᵀ at the model's shapes, in one run:
// strata's kernel (float weights packed per call, packed once as inference keeps them, and
// weights stored as BF16 widened while packing),
// strata's opt-in BF16 arithmetic on each kernel the CPU has (AMX tiles, AVX512-BF16),
// OpenBLAS's cblas_sgemm and Eigen, 1 and 2 threads, in GFLOP/s (2·M·N·K per call).
// Beside them, fma_peak.cpp and bf16_peak.cpp measure what the core can do.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <Eigen/Core>
#include <algorithm>
#include <optional>
#include <random>
#include <vector>

#include "bench_setup.h"
#include "strata/ops.h"

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Library { kStrata, kStrataPacked, kStrataBf16Weights, kStrataAmx, kStrataAvx512Bf16, kOpenBlas, kEigen };

struct Operands {
  std::vector<float> x, w, y;
  std::vector<uint16_t> w_bf16;
  Operands(int M, int K, int N) : x(size_t(M) * K), w(size_t(N) * K), y(size_t(M) * N), w_bf16(w.size()) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = u(rng);
    for (size_t i = 0; i < w.size(); ++i) w_bf16[i] = strata::f32_to_bf16(w[i]);
  }
};

// Compute::kBF16 on one kernel for the benchmark's duration.
class Bf16Scope {
 public:
  explicit Bf16Scope(strata::ops::Bf16Kernel k) {
    strata::ops::set_bf16_kernel(k);
    strata::ops::set_compute(strata::ops::Compute::kBF16);
  }
  ~Bf16Scope() {
    strata::ops::set_compute(strata::ops::Compute::kF32);
    strata::ops::set_bf16_kernel(strata::ops::available_bf16_kernels().front());
  }
};

template <Library kLibrary>
void BM_Matmul(benchmark::State& state) {
  const int M = int(state.range(0)), K = int(state.range(1)), N = int(state.range(2));
  strata::bench::set_threads(int(state.range(3)));
  using strata::ops::Bf16Kernel;
  constexpr bool kBf16 = kLibrary == Library::kStrataAmx || kLibrary == Library::kStrataAvx512Bf16;
  const Bf16Kernel kernel = kLibrary == Library::kStrataAmx ? Bf16Kernel::kAmx : Bf16Kernel::kAvx512Bf16;
  if (kBf16) {
    const auto kernels = strata::ops::available_bf16_kernels();
    if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end())
      return state.SkipWithError("not available on this CPU");
  }
  std::optional<Bf16Scope> scope;
  if (kBf16) scope.emplace(kernel);
  Operands o(M, K, N);
  std::vector<float> panels;
  strata::ops::WeightRef packed(o.w.data());
  if constexpr (kLibrary == Library::kStrataPacked) {
    panels.resize(strata::ops::packed_weight_bytes(N, K, strata::DType::kF32) / sizeof(float));
    strata::ops::pack_weight(packed, N, K, strata::DType::kF32, panels.data());
    packed.panels = panels.data();
  }
  Eigen::Map<const RowMajor> X(o.x.data(), M, K), W(o.w.data(), N, K);
  Eigen::Map<RowMajor> Y(o.y.data(), M, N);
  for (auto _ : state) {
    if constexpr (kLibrary == Library::kStrata || kBf16) {
      strata::ops::matmul(o.y.data(), o.x.data(), o.w.data(), M, N, K);
    } else if constexpr (kLibrary == Library::kStrataPacked) {
      strata::ops::matmul(o.y.data(), o.x.data(), packed, M, N, K);
    } else if constexpr (kLibrary == Library::kStrataBf16Weights) {
      strata::ops::matmul(o.y.data(), o.x.data(), strata::ops::WeightRef(o.w_bf16.data(), strata::DType::kBF16), M, N,
                          K);
    } else if constexpr (kLibrary == Library::kOpenBlas) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, o.x.data(), K, o.w.data(), K, 0.0f,
                  o.y.data(), N);
    } else {
      Y.noalias() = X * W.transpose();
    }
    benchmark::DoNotOptimize(o.y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2e-9 * M * N * K, benchmark::Counter::kIsIterationInvariantRate);
}

// {M, K, N}: 256 tokens through q/k/v/o (256→256), gate/up (256→768), down (768→256), the
// output head (256→2048), a wider MLP (1024→256); then 1…16 rows, as in short contexts.
void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "K", "N", "threads"});
  const int shapes[][3] = {{256, 256, 256}, {256, 256, 768}, {256, 768, 256}, {256, 1024, 256},
                           {256, 256, 2048}, {1, 256, 768},  {4, 256, 768},   {16, 256, 768}};
  for (int threads : {1, 2})
    for (const auto& s : shapes) b->Args({s[0], s[1], s[2], threads});
  b->UseRealTime();
}

// The copy of wᵀ into column panels that a call without packed weights pays first, in
// floats written per second: a matmul's share of it is this time against its own.
void BM_PackWeight(benchmark::State& state) {
  const int N = int(state.range(0)), K = int(state.range(1));
  strata::bench::set_threads(1);
  Operands o(1, K, N);
  std::vector<float> panels(strata::ops::packed_weight_bytes(N, K, strata::DType::kF32) / sizeof(float));
  for (auto _ : state) {
    strata::ops::pack_weight(o.w.data(), N, K, strata::DType::kF32, panels.data());
    benchmark::DoNotOptimize(panels.data());
    benchmark::ClobberMemory();
  }
  state.counters["Gfloat/s"] = benchmark::Counter(1e-9 * N * K, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PackWeight)->Name("pack_weight")->ArgNames({"N", "K"})->Args({256, 256})->Args({2048, 256})->UseRealTime();

BENCHMARK(BM_Matmul<Library::kStrata>)->Name("matmul/strata")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kStrataPacked>)->Name("matmul/strata_packed")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kStrataBf16Weights>)->Name("matmul/strata_bf16_weights")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kStrataAmx>)->Name("matmul/strata_bf16_amx")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kStrataAvx512Bf16>)->Name("matmul/strata_bf16_avx512")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kOpenBlas>)->Name("matmul/openblas")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kEigen>)->Name("matmul/eigen")->Apply(Shapes);

}  // namespace
