// The matrix products of ops.h: two SIMD micro-kernels (a dot-product tile for y = x·wᵀ
// with few rows; a broadcast tile for c = a·b with any strides for a, which also serves
// y = x·wᵀ from kPackRows rows on) and, at the bottom, the packing of b into contiguous
// column panels, the blocking over OpenMP threads and the choice between the kernels.
// Dispatch: dispatch.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/matmul.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cstdint>

#include "ops/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------------------
// matmul: y(M,N) = x(M,K) · w(N,K)ᵀ. The hot path of every forward and backward pass.
// A tile of kR rows of x against kC rows of w keeps kR·kC accumulators in registers, so
// each loaded vector feeds several FMAs; up to 4×4 = 16 accumulators + 8 operands fit the
// 16 (AVX2) or 32 (AVX-512) vector registers.

template <int kR, int kC>
HWY_INLINE void MatmulTile(const float* HWY_RESTRICT x, const float* HWY_RESTRICT w,
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
      const V wv = hn::LoadU(d, w + size_t(c) * K + k);
      for (int r = 0; r < kR; ++r) acc[r][c] = hn::MulAdd(xv[r], wv, acc[r][c]);
    }
  }
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) {
      float sum = hn::GetLane(hn::SumOfLanes(d, acc[r][c]));
      for (int kk = k; kk < K; ++kk) sum += x[size_t(r) * K + kk] * w[size_t(c) * K + kk];
      float& out = y[size_t(r) * ldy + c];
      out = accumulate ? out + sum : sum;
    }
}

template <int kR>
HWY_INLINE void MatmulTileRows(int cols, const float* x, const float* w, float* y, int K, int ldy,
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
HWY_NOINLINE void MatmulBlock(float* y, const float* x, const float* w, int m0, int m1, int n0,
                              int n1, int N, int K, bool accumulate) {
  for (int j = n0; j < n1; j += 4) {
    const int cols = std::min(4, n1 - j);
    for (int i = m0; i < m1; i += 4) {
      const int rows = std::min(4, m1 - i);
      const float* xi = x + size_t(i) * K;
      const float* wj = w + size_t(j) * K;
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

template <int kR, int kV, class A>
HWY_INLINE void MatmulNNTile(const float* HWY_RESTRICT a, A layout, const float* HWY_RESTRICT b,
                             int ldb, float* HWY_RESTRICT c, int ldc, int K, bool accumulate) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  V acc[kR][kV];
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kV; ++v) acc[r][v] = hn::Zero(d);
  for (int p = 0; p < K; ++p) {
    V bv[kV];
    for (int v = 0; v < kV; ++v) bv[v] = hn::LoadU(d, b + size_t(p) * ldb + v * lanes);
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

template <int kV, class A>
HWY_INLINE void MatmulNNTileRows(int rows, const float* a, A layout, const float* b, int ldb, float* c,
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
// 16 KB) stays in L1 while every row tile of a passes over it.
template <class A>
HWY_INLINE void MatmulNNBlockIn(float* c, int ldc, const float* a, A layout, const float* b, int ldb,
                                int m0, int m1, int cols, int K, bool accumulate) {
  constexpr int kSliceK = 64;
  const D d;
  const int lanes = int(hn::Lanes(d));
  for (int p0 = 0; p0 < K; p0 += kSliceK) {
    const int slice = std::min(kSliceK, K - p0);
    const bool acc = accumulate || p0 > 0;
    const float* bs = b + size_t(p0) * ldb;
    for (int i = m0; i < m1; i += kNNRows) {
      const int rows = std::min(kNNRows, m1 - i);
      const float* ai = a + layout.at(i, p0);
      float* ci = c + size_t(i) * ldc;
      int j = 0;
      for (; j + kNNVectors * lanes <= cols; j += kNNVectors * lanes)
        MatmulNNTileRows<kNNVectors>(rows, ai, layout, bs + j, ldb, ci + j, ldc, slice, acc);
      for (; j + lanes <= cols; j += lanes)
        MatmulNNTileRows<1>(rows, ai, layout, bs + j, ldb, ci + j, ldc, slice, acc);
      for (; j < cols; ++j)  // columns left over from the vector width
        for (int r = 0; r < rows; ++r) {
          float sum = 0;
          for (int p = 0; p < slice; ++p) sum += ai[layout.at(r, p)] * bs[size_t(p) * ldb + j];
          float& out = ci[size_t(r) * ldc + j];
          out = acc ? out + sum : sum;
        }
    }
  }
}

HWY_NOINLINE void MatmulNNBlock(float* c, int ldc, const float* a, size_t rs, size_t cs, const float* b,
                                int ldb, int m0, int m1, int cols, int K, bool accumulate) {
  if (cs == 1) return MatmulNNBlockIn(c, ldc, a, ARows{rs}, b, ldb, m0, m1, cols, K, accumulate);
  if (rs == 1) return MatmulNNBlockIn(c, ldc, a, AColumns{cs}, b, ldb, m0, m1, cols, K, accumulate);
  MatmulNNBlockIn(c, ldc, a, AStrided{rs, cs}, b, ldb, m0, m1, cols, K, accumulate);
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <utility>
#include <vector>

#include "ops/dispatch.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(MatmulBlock);
HWY_EXPORT(MatmulNNBlock);

namespace {

// The broadcast kernel over blocks of kNNBlockM rows × kNNBlockN columns; panel(bn)
// returns block bn's b (at its first column) and that b's row stride.
constexpr int kNNBlockM = 48, kNNBlockN = 64;  // 8 row tiles; 64 columns = whole tiles on every target

template <class Panel>
void matmul_nn_blocks(float* c, const float* a, size_t rs, size_t cs, Panel panel, int M, int N, int K,
                      bool accumulate) {
  const int blocks_m = (M + kNNBlockM - 1) / kNNBlockM, blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
  [[maybe_unused]] const int64_t work = int64_t(M) * N * K;
#pragma omp parallel for schedule(static) collapse(2) if (work > kParallelWork)
  for (int bm = 0; bm < blocks_m; ++bm)
    for (int bn = 0; bn < blocks_n; ++bn) {
      const auto [b, ldb] = panel(bn);
      const int n0 = bn * kNNBlockN;
      HWY_DYNAMIC_DISPATCH(MatmulNNBlock)(c + n0, N, a, rs, cs, b, ldb, bm * kNNBlockM,
                                          std::min(M, (bm + 1) * kNNBlockM), std::min(kNNBlockN, N - n0), K,
                                          accumulate);
    }
}

// Below this many rows, repacking b costs more than the kernel gains from it.
constexpr int kPackRows = 32;

// b(p, j) = src[p·sp + j·sj] (p < K, j < N) copied into column panels of kNNBlockN: panel
// bn is K×64, row-major and contiguous. The kernel streams a 16 KB slice of one panel per
// tile; read straight from a matrix whose rows are N or K floats apart, such slices map
// onto a few L1 sets at the model's sizes and evict each other. Copied in 16×16 squares,
// so reads and writes both stay within a few cache lines and pages.
const float* pack_panels(const float* src, size_t sp, size_t sj, int K, int N, [[maybe_unused]] bool parallel) {
  thread_local std::vector<float> packed;  // reused across calls
  const int blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
  const size_t panel_size = size_t(K) * kNNBlockN;
  if (packed.size() < panel_size * blocks_n) packed.resize(panel_size * blocks_n);
  float* dst = packed.data();
  constexpr int kSquare = 16;
#pragma omp parallel for schedule(static) if (parallel)
  for (int bn = 0; bn < blocks_n; ++bn) {
    const int n0 = bn * kNNBlockN, cols = std::min(kNNBlockN, N - n0);
    float* panel = dst + size_t(bn) * panel_size;
    for (int p0 = 0; p0 < K; p0 += kSquare)
      for (int j0 = 0; j0 < cols; j0 += kSquare) {
        const int p1 = std::min(K, p0 + kSquare), j1 = std::min(cols, j0 + kSquare);
        if (sj == 1)
          for (int p = p0; p < p1; ++p)
            for (int j = j0; j < j1; ++j) panel[size_t(p) * kNNBlockN + j] = src[size_t(p) * sp + size_t(n0 + j)];
        else
          for (int j = j0; j < j1; ++j)
            for (int p = p0; p < p1; ++p) panel[size_t(p) * kNNBlockN + j] = src[size_t(p) * sp + size_t(n0 + j) * sj];
      }
  }
  return dst;
}

// The kernel on packed panels of b.
void matmul_nn_packed(float* c, const float* a, size_t rs, size_t cs, const float* panels, int M, int N, int K,
                      bool accumulate) {
  const size_t panel_size = size_t(K) * kNNBlockN;
  matmul_nn_blocks(c, a, rs, cs,
                   [&](int bn) { return std::pair<const float*, int>(panels + size_t(bn) * panel_size, kNNBlockN); },
                   M, N, K, accumulate);
}

}  // namespace

// With enough rows the product runs as y = x·(wᵀ) on the broadcast kernel of matmul_nn,
// which has no horizontal sums, once wᵀ is packed (N·K copies against M·N·K
// multiply-adds). Fewer rows (decoding, short contexts) keep the dot-product kernel,
// which reads w as it is.
void matmul(float* y, const float* x, const float* w, int M, int N, int K, bool accumulate) {
  const int64_t work = int64_t(M) * N * K;
  if (M >= kPackRows) {
    const float* wt = pack_panels(w, /*sp=*/1, /*sj=*/size_t(K), K, N, work > kParallelWork);
    return matmul_nn_packed(y, x, size_t(K), 1, wt, M, N, K, accumulate);
  }
  constexpr int kBlockM = 64, kBlockN = 64;
  const int blocks_m = (M + kBlockM - 1) / kBlockM, blocks_n = (N + kBlockN - 1) / kBlockN;
#pragma omp parallel for schedule(static) collapse(2) if (work > kParallelWork)
  for (int bm = 0; bm < blocks_m; ++bm)
    for (int bn = 0; bn < blocks_n; ++bn)
      HWY_DYNAMIC_DISPATCH(MatmulBlock)(y, x, w, bm * kBlockM, std::min(M, (bm + 1) * kBlockM),
                                        bn * kBlockN, std::min(N, (bn + 1) * kBlockN), N, K,
                                        accumulate);
}

void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate) {
  const int64_t work = int64_t(M) * N * K;
  if (M >= kPackRows) {
    const float* panels = pack_panels(b, /*sp=*/size_t(N), /*sj=*/1, K, N, work > kParallelWork);
    return matmul_nn_packed(c, a, a_row_stride, a_col_stride, panels, M, N, K, accumulate);
  }
  matmul_nn_blocks(c, a, a_row_stride, a_col_stride,
                   [&](int bn) { return std::pair<const float*, int>(b + size_t(bn) * kNNBlockN, N); }, M, N, K,
                   accumulate);
}

}  // namespace strata::ops
#endif  // HWY_ONCE
