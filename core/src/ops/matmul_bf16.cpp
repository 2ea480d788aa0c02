// ops::matmul under Compute::kBF16: the opt-in low-precision path. x and w are rounded to
// bfloat16 (nearest even), their products (exact in float) summed in float. Three kernels
// give the same products: AMX tiles (amx.cpp), AVX512-BF16 dot products (avx512_bf16.cpp),
// and, on any other CPU, the float kernel on the rounded values. The x86 kernels read x as
// bf16 rows and w as VNNI pairs (bf16_kernels.h), both packed here on every call.
#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "ops/bf16_kernels.h"
#include "ops/dispatch.h"
#include "strata/error.h"
#include "strata/ops.h"

namespace strata::ops {

namespace {

std::atomic<Compute> g_compute{Compute::kF32};

// -1: not chosen yet (the best available on first use).
std::atomic<int> g_kernel{-1};

bool usable(Bf16Kernel k) {
  switch (k) {
    case Bf16Kernel::kAmx: return bf16::amx_usable();
    case Bf16Kernel::kAvx512Bf16: return bf16::avx512_bf16_usable();
    case Bf16Kernel::kEmulated: return true;
  }
  return false;
}

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// x (M, K) → a (Mp, Kp) bf16, zero-padded.
void pack_rows(const float* x, int M, int K, int Mp, int Kp, uint16_t* a) {
#pragma omp parallel for schedule(static) if (int64_t(M) * K > kParallelWork)
  for (int i = 0; i < Mp; ++i) {
    uint16_t* row = a + size_t(i) * Kp;
    int k = 0;
    if (i < M)
      for (; k < K; ++k) row[k] = f32_to_bf16(x[size_t(i) * K + k]);
    for (; k < Kp; ++k) row[k] = 0;
  }
}

// w (N, K) in its stored type → b: group g, pair p, column c holds w(16g+c, 2p) in the
// low half and w(16g+c, 2p+1) in the high half, zero beyond N and K.
void pack_pairs(WeightRef w, int N, int K, int Kp, uint32_t* b) {
  const int groups = int(round_up(size_t(N), bf16::kGroup) / bf16::kGroup);
  const size_t pairs = size_t(Kp) / 2;
#pragma omp parallel for schedule(static) if (int64_t(N) * K > kParallelWork)
  for (int g = 0; g < groups; ++g) {
    std::vector<uint16_t> row(static_cast<size_t>(Kp));
    std::vector<float> wide(static_cast<size_t>(K));
    uint32_t* panel = b + size_t(g) * pairs * bf16::kGroup;
    for (int c = 0; c < bf16::kGroup; ++c) {
      const int n = g * bf16::kGroup + c;
      std::fill(row.begin(), row.end(), uint16_t(0));
      if (n < N) {
        const auto* bytes = static_cast<const unsigned char*>(w.data) + size_t(n) * K * dtype_size(w.dtype);
        if (w.dtype == DType::kBF16) {
          for (int k = 0; k < K; ++k) row[size_t(k)] = uint16_t(bytes[2 * k] | bytes[2 * k + 1] << 8);
        } else {
          widen_to_f32(bytes, w.dtype, size_t(K), wide.data());
          for (int k = 0; k < K; ++k) row[size_t(k)] = f32_to_bf16(wide[size_t(k)]);
        }
      }
      for (size_t p = 0; p < pairs; ++p) panel[p * bf16::kGroup + c] = uint32_t(row[2 * p]) | uint32_t(row[2 * p + 1]) << 16;
    }
  }
}

// Any CPU: the float kernel on x and w rounded to bf16 (and widened back, exactly).
void emulated(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate) {
  thread_local std::vector<float> xr;
  thread_local std::vector<uint16_t> wr;
  xr.resize(size_t(M) * K);
  for (size_t i = 0; i < xr.size(); ++i) xr[i] = bf16_to_f32(f32_to_bf16(x[i]));
  if (w.dtype != DType::kBF16) {
    std::vector<float> wide(size_t(N) * K);
    widen_to_f32(w.data, w.dtype, wide.size(), wide.data());
    wr.resize(wide.size());
    for (size_t i = 0; i < wide.size(); ++i) wr[i] = f32_to_bf16(wide[i]);
    w = WeightRef(wr.data(), DType::kBF16);
  }
  matmul_f32(y, xr.data(), w, M, N, K, accumulate);
}

}  // namespace

void set_compute(Compute c) { g_compute.store(c, std::memory_order_relaxed); }
Compute compute() { return g_compute.load(std::memory_order_relaxed); }

Compute parse_compute(std::string_view name) {
  if (name == "f32" || name == "F32") return Compute::kF32;
  if (name == "bf16" || name == "BF16") return Compute::kBF16;
  throw Error("unknown compute type \"" + std::string(name) + "\" (f32 or bf16)");
}

const char* compute_name(Compute c) { return c == Compute::kBF16 ? "bf16" : "f32"; }

std::vector<Bf16Kernel> available_bf16_kernels() {
  std::vector<Bf16Kernel> kernels;
  for (Bf16Kernel k : {Bf16Kernel::kAmx, Bf16Kernel::kAvx512Bf16, Bf16Kernel::kEmulated})
    if (usable(k)) kernels.push_back(k);
  return kernels;
}

const char* bf16_kernel_name(Bf16Kernel k) {
  switch (k) {
    case Bf16Kernel::kAmx: return "AMX";
    case Bf16Kernel::kAvx512Bf16: return "AVX512-BF16";
    case Bf16Kernel::kEmulated: return "emulated";
  }
  return "?";
}

Bf16Kernel bf16_kernel() {
  int k = g_kernel.load(std::memory_order_relaxed);
  if (k < 0) {
    k = int(available_bf16_kernels().front());
    g_kernel.store(k, std::memory_order_relaxed);
  }
  return Bf16Kernel(k);
}

void set_bf16_kernel(Bf16Kernel k) {
  if (!usable(k)) throw Error(std::string("the ") + bf16_kernel_name(k) + " kernel is not available on this machine");
  g_kernel.store(int(k), std::memory_order_relaxed);
}

namespace bf16 {

void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate) {
  const Bf16Kernel kernel = bf16_kernel();
  if (kernel == Bf16Kernel::kEmulated) return emulated(y, x, w, M, N, K, accumulate);
  const int Kp = int(round_up(size_t(K), kKBlock)), Mp = int(round_up(size_t(M), kRowBlock));
  const int groups = int(round_up(size_t(N), kGroup) / kGroup);
  thread_local std::vector<uint16_t> a;
  thread_local std::vector<uint32_t> b;
  a.resize(size_t(Mp) * Kp);
  b.resize(size_t(groups) * kGroup * (size_t(Kp) / 2));
  pack_rows(x, M, K, Mp, Kp, a.data());
  pack_pairs(w, N, K, Kp, b.data());
  const Operands o{a.data(), b.data(), M, N, Kp, y, accumulate};
  // Blocks of 32 rows (two AMX row tiles; five AVX512 row tiles would be 30) × 4 groups (64 columns).
  constexpr int kBlockRows = 2 * kRowBlock, kBlockGroups = 4;
  const int blocks_m = (M + kBlockRows - 1) / kBlockRows, blocks_n = (groups + kBlockGroups - 1) / kBlockGroups;
  [[maybe_unused]] const int64_t work = int64_t(M) * N * K;
#pragma omp parallel for schedule(static) collapse(2) if (work > kParallelWork)
  for (int bm = 0; bm < blocks_m; ++bm)
    for (int bn = 0; bn < blocks_n; ++bn) {
      const int i0 = bm * kBlockRows, i1 = std::min(M, i0 + kBlockRows);
      const int g0 = bn * kBlockGroups, g1 = std::min(groups, g0 + kBlockGroups);
      if (kernel == Bf16Kernel::kAmx) amx_block(o, i0, i1, g0, g1);
      else avx512_bf16_block(o, i0, i1, g0, g1);
    }
}

}  // namespace bf16

}  // namespace strata::ops
