// The matrix products of ops.h: two SIMD micro-kernels (a dot-product tile for y = x·wᵀ
// with few rows; a broadcast tile for c = a·b with any strides for a, which also serves
// y = x·wᵀ from kPackRows rows on), the packing of b into contiguous column panels and,
// at the bottom, the blocking over OpenMP threads and the choice between the kernels.
// Weights come in their stored type (ops.h: WeightRef): the dot-product tile widens them
// as it loads, the packing as it copies; the FMA loops are the same for every type.
// Dispatch: dispatch.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/matmul.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cstdint>

#include "ops/dispatch.h"
#include "ops/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------------------
// matmul: y(M,N) = x(M,K) · w(N,K)ᵀ. The hot path of every forward and backward pass.
// A tile of kR rows of x against kC rows of w keeps kR·kC accumulators in registers, so
// each loaded vector feeds several FMAs; up to 4×4 = 16 accumulators + 8 operands fit the
// 16 (AVX2) or 32 (AVX-512) vector registers.

template <int kR, int kC, class TW>
HWY_INLINE void MatmulTile(const float* HWY_RESTRICT x, const TW* HWY_RESTRICT w,
                           float* HWY_RESTRICT y, int K, int ldy, bool accumulate) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  V acc[kR][kC];
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) acc[r][c] = hn::Zero(d);
  int k = 0;
  for (; k + lanes <= K; k += lanes) {
    V xv[kR];
    for (int r = 0; r < kR; ++r) xv[r] = hn::LoadU(d, x + size_t(r) * K + k);
    for (int c = 0; c < kC; ++c) {
      const V wv = LoadWidened(d, w + size_t(c) * K + k);
      for (int r = 0; r < kR; ++r) acc[r][c] = hn::MulAdd(xv[r], wv, acc[r][c]);
    }
  }
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) {
      float sum = hn::GetLane(hn::SumOfLanes(d, acc[r][c]));
      for (int kk = k; kk < K; ++kk) sum += x[size_t(r) * K + kk] * ToFloat(w[size_t(c) * K + kk]);
      float& out = y[size_t(r) * ldy + c];
      out = accumulate ? out + sum : sum;
    }
}

template <int kR, class TW>
HWY_INLINE void MatmulTileRows(int cols, const float* x, const TW* w, float* y, int K, int ldy,
                               bool accumulate) {
  switch (cols) {
    case 4: return MatmulTile<kR, 4>(x, w, y, K, ldy, accumulate);
    case 3: return MatmulTile<kR, 3>(x, w, y, K, ldy, accumulate);
    case 2: return MatmulTile<kR, 2>(x, w, y, K, ldy, accumulate);
    default: return MatmulTile<kR, 1>(x, w, y, K, ldy, accumulate);
  }
}

// The block y[m0:m1, n0:n1]. Rows of w are the outer loop so a block of w stays in cache
// while every row of x passes it.
template <class TW>
HWY_INLINE void MatmulBlockOf(float* y, const float* x, const TW* w, int m0, int m1, int n0, int n1, int N,
                              int K, bool accumulate) {
  for (int j = n0; j < n1; j += 4) {
    const int cols = std::min(4, n1 - j);
    for (int i = m0; i < m1; i += 4) {
      const int rows = std::min(4, m1 - i);
      const float* xi = x + size_t(i) * K;
      const TW* wj = w + size_t(j) * K;
      float* yij = y + size_t(i) * N + j;
      switch (rows) {
        case 4: MatmulTileRows<4>(cols, xi, wj, yij, K, N, accumulate); break;
        case 3: MatmulTileRows<3>(cols, xi, wj, yij, K, N, accumulate); break;
        case 2: MatmulTileRows<2>(cols, xi, wj, yij, K, N, accumulate); break;
        default: MatmulTileRows<1>(cols, xi, wj, yij, K, N, accumulate); break;
      }
    }
  }
}

// The stored type picks the instantiation; only the loads of w differ between them.
HWY_NOINLINE void MatmulBlock(float* y, const float* x, const void* w, DType t, int m0, int m1, int n0,
                              int n1, int N, int K, bool accumulate) {
  switch (t) {
    case DType::kF32: return MatmulBlockOf(y, x, static_cast<const float*>(w), m0, m1, n0, n1, N, K, accumulate);
    case DType::kF16: return MatmulBlockOf(y, x, static_cast<const F16*>(w), m0, m1, n0, n1, N, K, accumulate);
    case DType::kBF16: return MatmulBlockOf(y, x, static_cast<const BF16*>(w), m0, m1, n0, n1, N, K, accumulate);
  }
}

// ---------------------------------------------------------------------------------------
// matmul_nn: c(M,N) = a(M,K) · b(K,N), b row-major. The backward pass's two products
// (dx = dy·w and dw = dyᵀ·x) both have this form once a may be read with any strides, so
// neither needs a transposed copy; the forward's y = x·wᵀ takes it too once wᵀ is packed
// (see matmul below). Each step of the K loop broadcasts kR values of a and loads kV
// vectors of b: kR·kV FMAs from kR + kV loads, with no horizontal sums. The tile fills
// the register file: 6 rows × 4 vectors = 24 accumulators of the 32 AVX-512 registers,
// 6 × 2 = 12 of the 16 elsewhere.

constexpr int kNNRows = 6;
constexpr int kNNVectors = HWY_MAX_BYTES >= 64 ? 4 : 2;

// Where element (r, p) of a tile of a lives. The two layouts the passes use get their
// stride-1 direction at compile time, so the K loop advances one pointer instead of
// recomputing kR addresses (integer work that would compete with the FMAs for ports).
struct ARows {  // a row-major: x, dy
  size_t rs;
  HWY_INLINE size_t at(int r, int p) const { return size_t(r) * rs + size_t(p); }
};
struct AColumns {  // a read transposed: dyᵀ in dw += dyᵀ·x
  size_t cs;
  HWY_INLINE size_t at(int r, int p) const { return size_t(p) * cs + size_t(r); }
};
struct AStrided {
  size_t rs, cs;
  HWY_INLINE size_t at(int r, int p) const { return size_t(r) * rs + size_t(p) * cs; }
};

template <int kR, int kV, class A, class TB>
HWY_INLINE void MatmulNNTile(const float* HWY_RESTRICT a, A layout, const TB* HWY_RESTRICT b,
                             int ldb, float* HWY_RESTRICT c, int ldc, int K, bool accumulate) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  V acc[kR][kV];
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kV; ++v) acc[r][v] = hn::Zero(d);
  for (int p = 0; p < K; ++p) {
    V bv[kV];
    for (int v = 0; v < kV; ++v) bv[v] = LoadWidened(d, b + size_t(p) * ldb + v * lanes);
    for (int r = 0; r < kR; ++r) {
      const V av = hn::Set(d, a[layout.at(r, p)]);
      for (int v = 0; v < kV; ++v) acc[r][v] = hn::MulAdd(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kV; ++v) {
      float* out = c + size_t(r) * ldc + v * lanes;
      hn::StoreU(accumulate ? hn::Add(hn::LoadU(d, out), acc[r][v]) : acc[r][v], d, out);
    }
}

template <int kV, class A, class TB>
HWY_INLINE void MatmulNNTileRows(int rows, const float* a, A layout, const TB* b, int ldb, float* c,
                                 int ldc, int K, bool accumulate) {
  static_assert(kNNRows == 6, "one case per row count up to kNNRows");
  switch (rows) {
    case 6: return MatmulNNTile<6, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
    case 5: return MatmulNNTile<5, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
    case 4: return MatmulNNTile<4, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
    case 3: return MatmulNNTile<3, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
    case 2: return MatmulNNTile<2, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
    default: return MatmulNNTile<1, kV>(a, layout, b, ldb, c, ldc, K, accumulate);
  }
}

// One block of c: rows [m0, m1), `cols` columns starting where c and b point; b's rows
// are ldb apart (N for b as given, the panel width for a packed panel). The K loop is
// split into slices so that the slice of b a tile streams (kSliceK rows of 64 columns:
// 128 KB) stays in L2 while every row tile of a passes over it; the accumulators stay in
// registers for a whole slice. Slices of 64 rows (16 KB, for L1) wrote c back 4–16 times
// per product and, at K = 1024, had 48 rows of a 4 KB apart fight over 4 L1 sets: on
// Zen 5 they gave 159–200 GFLOP/s against 190–215 with 512 (1 thread, 256 rows).
template <class A, class TB>
HWY_INLINE void MatmulNNBlockIn(float* c, int ldc, const float* a, A layout, const TB* b, int ldb,
                                int m0, int m1, int cols, int K, bool accumulate) {
  constexpr int kSliceK = 512;
  const D d;
  const int lanes = int(hn::Lanes(d));
  for (int p0 = 0; p0 < K; p0 += kSliceK) {
    const int slice = std::min(kSliceK, K - p0);
    const bool acc = accumulate || p0 > 0;
    const TB* bs = b + size_t(p0) * ldb;
    for (int i = m0; i < m1; i += kNNRows) {
      const int rows = std::min(kNNRows, m1 - i);
      const float* ai = a + layout.at(i, p0);
      float* ci = c + size_t(i) * ldc;
      int j = 0;
      for (; j + kNNVectors * lanes <= cols; j += kNNVectors * lanes)
        MatmulNNTileRows<kNNVectors>(rows, ai, layout, bs + j, ldb, ci + j, ldc, slice, acc);
      // Narrow outputs (a head's 32 columns in attention's backward): two vectors per
      // broadcast where one would leave the loads, not the FMAs, as the limit.
      if constexpr (kNNVectors > 2)
        for (; j + 2 * lanes <= cols; j += 2 * lanes)
          MatmulNNTileRows<2>(rows, ai, layout, bs + j, ldb, ci + j, ldc, slice, acc);
      for (; j + lanes <= cols; j += lanes)
        MatmulNNTileRows<1>(rows, ai, layout, bs + j, ldb, ci + j, ldc, slice, acc);
      // Columns left over from the vector width, in one-lane vectors: the same chain of
      // fused multiply-adds as a vector lane (scalar code would be contracted, or not, and
      // vectorised, or not, as the compiler sees fit), so an element's bits do not depend on
      // whether its column fell in a vector.
      const hn::CappedTag<float, 1> d1;
      for (; j < cols; ++j)
        for (int r = 0; r < rows; ++r) {
          auto sum = hn::Zero(d1);
          for (int p = 0; p < slice; ++p)
            sum = hn::MulAdd(hn::Set(d1, ai[layout.at(r, p)]), hn::Set(d1, ToFloat(bs[size_t(p) * ldb + j])), sum);
          float& out = ci[size_t(r) * ldc + j];
          out = acc ? out + hn::GetLane(sum) : hn::GetLane(sum);
        }
    }
  }
}

// b is float, or (panels packed once from 16-bit weights, read by rows of x: cs = 1) the
// weights' own F16/BF16 values, widened as they are loaded: half the bytes a step of
// decoding reads, the same products.
HWY_NOINLINE void MatmulNNBlock(float* c, int ldc, const float* a, size_t rs, size_t cs, const void* b, DType bt,
                                int ldb, int m0, int m1, int cols, int K, bool accumulate) {
  if (bt == DType::kF16)
    return MatmulNNBlockIn(c, ldc, a, ARows{rs}, static_cast<const F16*>(b), ldb, m0, m1, cols, K, accumulate);
  if (bt == DType::kBF16)
    return MatmulNNBlockIn(c, ldc, a, ARows{rs}, static_cast<const BF16*>(b), ldb, m0, m1, cols, K, accumulate);
  const float* bf = static_cast<const float*>(b);
  if (cs == 1) return MatmulNNBlockIn(c, ldc, a, ARows{rs}, bf, ldb, m0, m1, cols, K, accumulate);
  if (rs == 1) return MatmulNNBlockIn(c, ldc, a, AColumns{cs}, bf, ldb, m0, m1, cols, K, accumulate);
  MatmulNNBlockIn(c, ldc, a, AStrided{rs, cs}, bf, ldb, m0, m1, cols, K, accumulate);
}

// ---------------------------------------------------------------------------------------
// Packing: one column panel of b, `cols` ≤ kPanel columns from column n0, K×kPanel
// row-major and contiguous, widened to float on the way. b is src as given, (K, ld) with
// ld ≥ n0 + cols, or (transposed) the weights of y = x·wᵀ, w = src (N, ld = K): then
// b(p, j) = w(j, p). The transposition goes by 16×16 squares, each row of w widened with
// vector loads first, so reads and writes both stay within a few cache lines and pages.
// kPanel: dispatch.h.

template <class TW>
HWY_INLINE void PackPanelOf(const TW* src, size_t ld, bool transposed, int K, int n0, int cols, float* panel) {
  if (!transposed) {
    for (int p = 0; p < K; ++p) WidenRow(src + size_t(p) * ld + n0, cols, panel + size_t(p) * kPanel);
    return;
  }
  constexpr int kSquare = 16;
  alignas(64) float square[kSquare][kSquare];
  for (int p0 = 0; p0 < K; p0 += kSquare)
    for (int j0 = 0; j0 < cols; j0 += kSquare) {
      const int np = std::min(K - p0, kSquare), nj = std::min(cols - j0, kSquare);
      for (int j = 0; j < nj; ++j) WidenRow(src + size_t(n0 + j0 + j) * ld + p0, np, square[j]);
      float* out = panel + size_t(p0) * kPanel + j0;
      int p = 0;
#if HWY_TARGET != HWY_SCALAR
      // 4×4 blocks transposed in 128-bit registers: a scalar copy took ~2 cycles a float,
      // 5–15 % of a 256-row product (a gather per panel row was slower still).
      const hn::FixedTag<float, 4> d4;
      for (; p + 4 <= np; p += 4) {
        int j = 0;
        for (; j + 4 <= nj; j += 4) {
          const auto r0 = hn::LoadU(d4, &square[j][p]), r1 = hn::LoadU(d4, &square[j + 1][p]);
          const auto r2 = hn::LoadU(d4, &square[j + 2][p]), r3 = hn::LoadU(d4, &square[j + 3][p]);
          const auto lo01 = hn::InterleaveLower(d4, r0, r1), lo23 = hn::InterleaveLower(d4, r2, r3);
          const auto hi01 = hn::InterleaveUpper(d4, r0, r1), hi23 = hn::InterleaveUpper(d4, r2, r3);
          hn::StoreU(hn::ConcatLowerLower(d4, lo23, lo01), d4, out + size_t(p) * kPanel + j);
          hn::StoreU(hn::ConcatUpperUpper(d4, lo23, lo01), d4, out + size_t(p + 1) * kPanel + j);
          hn::StoreU(hn::ConcatLowerLower(d4, hi23, hi01), d4, out + size_t(p + 2) * kPanel + j);
          hn::StoreU(hn::ConcatUpperUpper(d4, hi23, hi01), d4, out + size_t(p + 3) * kPanel + j);
        }
        for (; j < nj; ++j)
          for (int q = p; q < p + 4; ++q) out[size_t(q) * kPanel + j] = square[j][q];
      }
#endif
      for (; p < np; ++p)
        for (int j = 0; j < nj; ++j) out[size_t(p) * kPanel + j] = square[j][p];
    }
}

HWY_NOINLINE void PackPanel(const void* src, DType t, size_t ld, bool transposed, int K, int n0, int cols,
                            float* panel) {
  switch (t) {
    case DType::kF32: return PackPanelOf(static_cast<const float*>(src), ld, transposed, K, n0, cols, panel);
    case DType::kF16: return PackPanelOf(static_cast<const F16*>(src), ld, transposed, K, n0, cols, panel);
    case DType::kBF16: return PackPanelOf(static_cast<const BF16*>(src), ld, transposed, K, n0, cols, panel);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <utility>
#include <vector>

#include "ops/bf16_kernels.h"
#include "ops/dispatch.h"
#include "strata/error.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(MatmulBlock);
HWY_EXPORT(MatmulNNBlock);
HWY_EXPORT(PackPanel);

namespace {

// The broadcast kernel over blocks of kNNBlockM rows × kNNBlockN columns. make_panel() is
// called once per thread; what it returns, called with a panel index bn, gives block bn's
// b (at its first column) and that b's row stride.
constexpr int kNNBlockM = 48, kNNBlockN = kPanel;  // 8 row tiles; 64 columns = whole tiles on every target

// threaded = false keeps the product on the calling thread without a parallel region
// (attention's products, each inside one thread's task).
template <class MakePanel>
void matmul_nn_blocks(float* c, int ldc, const float* a, size_t rs, size_t cs, MakePanel make_panel, int M, int N,
                      int K, bool accumulate, bool threaded = true, DType panel_type = DType::kF32) {
  const int blocks_m = (M + kNNBlockM - 1) / kNNBlockM, blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
  auto block = [&](auto& panel, int bn, int bm) {
    const auto [b, ldb] = panel(bn);
    const int n0 = bn * kNNBlockN;
    HWY_DYNAMIC_DISPATCH(MatmulNNBlock)(c + n0, ldc, a, rs, cs, b, panel_type, ldb, bm * kNNBlockM,
                                        std::min(M, (bm + 1) * kNNBlockM), std::min(kNNBlockN, N - n0), K, accumulate);
  };
  if (!threaded || int64_t(M) * N * K <= kParallelWork) {
    auto panel = make_panel();
    for (int bn = 0; bn < blocks_n; ++bn)
      for (int bm = 0; bm < blocks_m; ++bm) block(panel, bn, bm);
    return;
  }
  // Column panels outermost: the static schedule then gives each thread whole panels, all
  // rows of each, and equal work whenever the panels divide evenly. Rows outermost gave one
  // thread 144 of M = 256 rows and the other 112 (blocks of 48), and at M = 64 48 and 16.
#pragma omp parallel
  {
    auto panel = make_panel();
#pragma omp for schedule(static) collapse(2)
    for (int bn = 0; bn < blocks_n; ++bn)
      for (int bm = 0; bm < blocks_m; ++bm) block(panel, bn, bm);
  }
}

// Below this many rows, repacking b costs more than the kernel gains from it.
constexpr int kPackRows = 32;

// b (K, N) in column panels of kNNBlockN: panel bn is K×64, row-major and contiguous
// (PackPanel above). The kernel streams a 16 KB slice of one panel per tile; read straight
// from a matrix whose rows are N or K floats apart, such slices map onto a few L1 sets at
// the model's sizes and evict each other. b is src (K, N) as given, or (transposed) src =
// w (N, K) of y = x·wᵀ, in its stored type.
void pack_panels_into(const void* src, DType t, bool transposed, int K, int N, [[maybe_unused]] bool parallel,
                      float* dst) {
  const int blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
  const size_t panel_size = size_t(K) * kNNBlockN;
  const size_t ld = transposed ? size_t(K) : size_t(N);
#pragma omp parallel for schedule(static) if (parallel)
  for (int bn = 0; bn < blocks_n; ++bn) {
    const int n0 = bn * kNNBlockN;
    HWY_DYNAMIC_DISPATCH(PackPanel)(src, t, ld, transposed, K, n0, std::min(kNNBlockN, N - n0),
                                    dst + size_t(bn) * panel_size);
  }
}

// One thread's panel of b packed when it is first needed, into that thread's buffer, and
// kept while the thread's next blocks use the same panel. Packed whole ahead of the
// product, wᵀ of the output head (2 MB at 2048×256) left L2 before the kernel read it;
// this way each panel (K×64 floats: 64 KB at K = 256) is read back from L2 at once.
struct PanelPackedOnUse {
  const void* src;
  DType dtype;
  size_t ld;  // src's row stride
  bool transposed;
  int K, N;
  int packed_bn = -1;
  float* buffer;
  std::pair<const float*, int> operator()(int bn) {
    if (bn != packed_bn) {
      const int n0 = bn * kNNBlockN;
      HWY_DYNAMIC_DISPATCH(PackPanel)(src, dtype, ld, transposed, K, n0, std::min(kNNBlockN, N - n0), buffer);
      packed_bn = bn;
    }
    return {buffer, kNNBlockN};
  }
};

// c = a·b with b packed panel by panel as the threads reach it (PanelPackedOnUse); b's
// rows are ldb apart.
void matmul_nn_packing(float* c, int ldc, const float* a, size_t rs, size_t cs, const void* b, DType t,
                       size_t ldb, bool transposed, int M, int N, int K, bool accumulate, bool threaded = true) {
  matmul_nn_blocks(
      c, ldc, a, rs, cs,
      [&] {
        thread_local std::vector<float> buffer;  // reused across calls
        if (buffer.size() < size_t(K) * kNNBlockN) buffer.resize(size_t(K) * kNNBlockN);
        return PanelPackedOnUse{b, t, ldb, transposed, K, N, -1, buffer.data()};
      },
      M, N, K, accumulate, threaded);
}

// The kernel on panels packed ahead (WeightRef::panels, in w's stored type); c's rows are
// ldc apart.
void matmul_nn_packed(float* c, int ldc, const float* a, size_t rs, size_t cs, const void* panels, DType t, int M,
                      int N, int K, bool accumulate) {
  const size_t panel_bytes = size_t(K) * kNNBlockN * dtype_size(t);
  const auto* base = static_cast<const unsigned char*>(panels);
  matmul_nn_blocks(
      c, ldc, a, rs, cs,
      [&] { return [&](int bn) { return std::pair<const void*, int>(base + size_t(bn) * panel_bytes, kNNBlockN); }; },
      M, N, K, accumulate, /*threaded=*/true, t);
}

// wᵀ in column panels of w's own 16-bit values (no widening: the kernel widens as it loads).
void pack_panels16(const uint16_t* w, int K, int N, uint16_t* dst) {
  const int blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
#pragma omp parallel for schedule(static) if (int64_t(N) * K > kParallelWork)
  for (int bn = 0; bn < blocks_n; ++bn) {
    uint16_t* panel = dst + size_t(bn) * K * kNNBlockN;
    const int n0 = bn * kNNBlockN, cols = std::min(kNNBlockN, N - n0);
    for (int j = 0; j < cols; ++j)
      for (int p = 0; p < K; ++p) panel[size_t(p) * kNNBlockN + j] = w[size_t(n0 + j) * K + p];
  }
}

}  // namespace

// With enough rows the product runs as y = x·(wᵀ) on the broadcast kernel of matmul_nn,
// which has no horizontal sums, once wᵀ is packed (N·K copies against M·N·K
// multiply-adds; none when the caller keeps w packed). Fewer rows (decoding, short
// contexts) keep the dot-product kernel, which reads w as it is.
void matmul_f32(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate) {
  [[maybe_unused]] const int64_t work = int64_t(M) * N * K;
  // Panels packed once (WeightRef::panels) are used at any number of rows: one kernel then
  // computes every row, whatever else its call holds, so a sweep cut into shards or pieces
  // gives one process's bits (with the tile below, a piece's one-row call at its edge moved
  // a surprisal by 2e-6 bits). They pay from few rows too: at context 16 the broadcast
  // kernel took 2.2–3.1 ms against the tile's 3.8–6.1 (default model, 1 thread).
  if (w.panels16 && (M < kPackRows || !w.panels))
    return matmul_nn_packed(y, N, x, size_t(K), 1, w.panels16, w.dtype, M, N, K, accumulate);
  if (w.panels) return matmul_nn_packed(y, N, x, size_t(K), 1, w.panels, DType::kF32, M, N, K, accumulate);
  if (M >= kPackRows)
    return matmul_nn_packing(y, N, x, size_t(K), 1, w.data, w.dtype, size_t(K), /*transposed=*/true, M, N, K,
                             accumulate);
  constexpr int kBlockM = 64, kBlockN = 64;
  const int blocks_m = (M + kBlockM - 1) / kBlockM, blocks_n = (N + kBlockN - 1) / kBlockN;
#pragma omp parallel for schedule(static) collapse(2) if (work > kParallelWork)
  for (int bm = 0; bm < blocks_m; ++bm)
    for (int bn = 0; bn < blocks_n; ++bn)
      HWY_DYNAMIC_DISPATCH(MatmulBlock)(y, x, w.data, w.dtype, bm * kBlockM, std::min(M, (bm + 1) * kBlockM),
                                        bn * kBlockN, std::min(N, (bn + 1) * kBlockN), N, K,
                                        accumulate);
}

size_t packed_weight_bytes(int N, int K, DType t) {
  return size_t((N + kNNBlockN - 1) / kNNBlockN) * size_t(K) * kNNBlockN * dtype_size(t);
}

void pack_weight(WeightRef w, int N, int K, DType t, void* dst) {
  if (t != DType::kF32 && t != w.dtype) throw Error("pack_weight: 16-bit panels come in the weights' own type");
  if (t != DType::kF32)
    return pack_panels16(static_cast<const uint16_t*>(w.data), K, N, static_cast<uint16_t*>(dst));
  pack_panels_into(w.data, w.dtype, /*transposed=*/true, K, N, int64_t(N) * K > kParallelWork,
                   static_cast<float*>(dst));
}

void matmul(float* y, const float* x, WeightRef w, int M, int N, int K, bool accumulate) {
  if (compute() == Compute::kBF16) return bf16::matmul(y, x, w, M, N, K, accumulate);
  matmul_f32(y, x, w, M, N, K, accumulate);
}

void matmul_nn_strided(float* c, int ldc, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
                       int ldb, int M, int N, int K, bool accumulate, bool threaded) {
  if (M >= kPackRows)
    return matmul_nn_packing(c, ldc, a, a_row_stride, a_col_stride, b, DType::kF32, size_t(ldb), /*transposed=*/false,
                             M, N, K, accumulate, threaded);
  matmul_nn_blocks(
      c, ldc, a, a_row_stride, a_col_stride,
      [&] { return [&](int bn) { return std::pair<const float*, int>(b + size_t(bn) * kNNBlockN, ldb); }; }, M, N, K,
      accumulate, threaded);
}

void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate) {
  matmul_nn_strided(c, N, a, a_row_stride, a_col_stride, b, N, M, N, K, accumulate, /*threaded=*/true);
}

}  // namespace strata::ops
#endif  // HWY_ONCE
