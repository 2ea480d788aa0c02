// ops::matmul under Compute::kBF16: the opt-in low-precision path. x and w are rounded to
// bfloat16 (nearest even), their products (exact in float) summed in float. Three kernels
// give the same products: AMX tiles (amx.cpp), AVX512-BF16 dot products (avx512_bf16.cpp),
// and, on any other CPU, the float kernel on the rounded values. The x86 kernels read x
// and w as rows of bf16 (bf16_kernels.h): x is rounded here on every call, w only when it
// is not already stored as bf16 in whole tiles or kept rounded by its owner.
#include <algorithm>
#include <atomic>
#include <cstring>
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

// n floats to bf16, with AVX512-BF16 where the CPU has it.
void round_to_bf16(const float* src, size_t n, uint16_t* dst) {
  if (bf16::avx512_bf16_usable()) return bf16::avx512_round_to_bf16(src, n, dst);
  for (size_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

// rows × K values (rows `ld` elements apart, of type t) → (rows_padded, Kp) bf16, zero-padded.
void pack_rows(const void* src, DType t, size_t ld, int rows, int K, int rows_padded, int Kp, uint16_t* dst) {
  const size_t elem = dtype_size(t);
#pragma omp parallel for schedule(static) if (int64_t(rows) * K > kParallelWork)
  for (int i = 0; i < rows_padded; ++i) {
    uint16_t* row = dst + size_t(i) * Kp;
    int k = 0;
    if (i < rows) {
      const auto* in = static_cast<const unsigned char*>(src) + size_t(i) * ld * elem;
      if (t == DType::kBF16) {
        std::memcpy(row, in, size_t(K) * 2);
      } else if (t == DType::kF32) {
        round_to_bf16(reinterpret_cast<const float*>(in), size_t(K), row);
      } else {
        thread_local std::vector<float> wide;
        wide.resize(size_t(K));
        widen_to_f32(in, t, size_t(K), wide.data());
        round_to_bf16(wide.data(), size_t(K), row);
      }
      k = K;
    }
    std::fill(row + k, row + Kp, uint16_t(0));
  }
}

// x rows (Mp, Kp) bf16 → VNNI pairs: group g, pair p, lane c = x(16g+c, 2p..2p+1).
void pair_rows(const uint16_t* x, int Mp, int Kp, uint32_t* xp) {
  const size_t pairs = size_t(Kp) / 2;
  for (int g = 0; g < Mp / bf16::kTile; ++g)
    for (int c = 0; c < bf16::kTile; ++c) {
      const uint16_t* row = x + size_t(g * bf16::kTile + c) * Kp;
      uint32_t* out = xp + size_t(g) * pairs * bf16::kTile + c;
      for (size_t p = 0; p < pairs; ++p) out[p * bf16::kTile] = uint32_t(row[2 * p]) | uint32_t(row[2 * p + 1]) << 16;
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

size_t bf16_weight_elements(int N, int K) { return round_up(size_t(N), bf16::kTile) * round_up(size_t(K), bf16::kKBlock); }

void pack_weight_bf16(WeightRef w, int N, int K, uint16_t* dst) {
  pack_rows(w.data, w.dtype, size_t(K), N, K, int(round_up(size_t(N), bf16::kTile)),
            int(round_up(size_t(K), bf16::kKBlock)), dst);
}

namespace bf16 {

void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate) {
  const Bf16Kernel kernel = bf16_kernel();
  if (kernel == Bf16Kernel::kEmulated) return emulated(y, x, w, M, N, K, accumulate);
  const int Kp = int(round_up(size_t(K), kKBlock));
  const int Mp = int(round_up(size_t(M), kTile)), Np = int(round_up(size_t(N), kTile));
  thread_local std::vector<uint16_t> xb, wb;
  thread_local std::vector<uint32_t> xp;
  xb.resize(size_t(Mp) * Kp);
  pack_rows(x, DType::kF32, size_t(K), M, K, Mp, Kp, xb.data());
  if (kernel == Bf16Kernel::kAmx) {
    xp.resize(xb.size() / 2);
    pair_rows(xb.data(), Mp, Kp, xp.data());
  }
  // A BF16 checkpoint is read in place when whole tiles fit it, a copy its owner keeps as
  // is (pack_weight_bf16); anything else is rounded into a copy here.
  const uint16_t* wp = w.bf16_rows ? w.bf16_rows : static_cast<const uint16_t*>(w.data);
  if (!w.bf16_rows && (w.dtype != DType::kBF16 || K != Kp || N != Np)) {
    wb.resize(size_t(Np) * Kp);
    pack_rows(w.data, w.dtype, size_t(K), N, K, Np, Kp, wb.data());
    wp = wb.data();
  }
  const Operands o{xb.data(), xp.data(), wp, size_t(Kp), M, N, Kp, y, accumulate};
  // Blocks of 32 rows × 64 columns: 2 × 4 AMX tile pairs, 8 × 16 AVX-512 dot tiles.
  constexpr int kBlockRows = 2 * kTile, kBlockCols = 4 * kTile;
  const int blocks_m = (M + kBlockRows - 1) / kBlockRows, blocks_n = (N + kBlockCols - 1) / kBlockCols;
  [[maybe_unused]] const int64_t work = int64_t(M) * N * K;
#pragma omp parallel for schedule(static) collapse(2) if (work > kParallelWork)
  for (int bn = 0; bn < blocks_n; ++bn)
    for (int bm = 0; bm < blocks_m; ++bm) {
      const int i0 = bm * kBlockRows, i1 = std::min(M, i0 + kBlockRows);
      const int j0 = bn * kBlockCols, j1 = std::min(N, j0 + kBlockCols);
      if (kernel == Bf16Kernel::kAmx) amx_block(o, i0, i1, j0, j1);
      else avx512_bf16_block(o, i0, i1, j0, j1);
    }
}

}  // namespace bf16

}  // namespace strata::ops
