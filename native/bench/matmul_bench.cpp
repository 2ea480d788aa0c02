// The forward pass's product y(M,N) = x(M,K) · w(N,K)ᵀ at the model's shapes, three ways
// in one run: strata's kernel, OpenBLAS's cblas_sgemm and Eigen, 1 and 2 threads, in
// GFLOP/s (2·M·N·K per call). Beside them, fma_peak.cpp measures what the core can do.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <Eigen/Core>
#include <random>
#include <vector>

#include "bench_setup.h"
#include "strata/ops.h"

namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Library { kStrata, kOpenBlas, kEigen };

struct Operands {
  std::vector<float> x, w, y;
  Operands(int M, int K, int N) : x(size_t(M) * K), w(size_t(N) * K), y(size_t(M) * N) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = u(rng);
  }
};

template <Library kLibrary>
void BM_Matmul(benchmark::State& state) {
  const int M = int(state.range(0)), K = int(state.range(1)), N = int(state.range(2));
  strata::bench::set_threads(int(state.range(3)));
  Operands o(M, K, N);
  Eigen::Map<const RowMajor> X(o.x.data(), M, K), W(o.w.data(), N, K);
  Eigen::Map<RowMajor> Y(o.y.data(), M, N);
  for (auto _ : state) {
    if constexpr (kLibrary == Library::kStrata) {
      strata::ops::matmul(o.y.data(), o.x.data(), o.w.data(), M, N, K);
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

BENCHMARK(BM_Matmul<Library::kStrata>)->Name("matmul/strata")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kOpenBlas>)->Name("matmul/openblas")->Apply(Shapes);
BENCHMARK(BM_Matmul<Library::kEigen>)->Name("matmul/eigen")->Apply(Shapes);

}  // namespace
