// SIMD kernels, written once with Highway and compiled for each target by
// foreach_target.h (natively SSE4, AVX2+FMA, AVX-512; one static target on WebAssembly:
// SIMD128, or EMU128 when SIMD is off). The public functions at the bottom choose the best
// target the CPU supports at run time and split work across OpenMP threads; the SIMD code
// itself never spawns threads, so there is only one thread pool.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/kernels.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/rope_angles.h"
#include "strata/config.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

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

// ---------------------------------------------------------------------------------------
// Row kernels. Tails shorter than a vector go through a padded stack buffer so that one
// vector code path (including Exp and Tanh) serves every length.

constexpr int kMaxLanes = 64;

HWY_INLINE float SumOfSquares(const float* HWY_RESTRICT x, int n) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  V acc = hn::Zero(d);
  int i = 0;
  for (; i + lanes <= n; i += lanes) {
    const V v = hn::LoadU(d, x + i);
    acc = hn::MulAdd(v, v, acc);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

HWY_NOINLINE void RmsnormRows(float* y, const float* x, const float* w, int r0, int r1, int dim,
                              float eps, bool plus_one, float* inv_rms) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  for (int r = r0; r < r1; ++r) {
    const float* xr = x + size_t(r) * dim;
    float* yr = y + size_t(r) * dim;
    const float inv = 1.0f / std::sqrt(SumOfSquares(xr, dim) / float(dim) + eps);
    if (inv_rms) inv_rms[r] = inv;
    const V vinv = hn::Set(d, inv);
    const V one = hn::Set(d, plus_one ? 1.0f : 0.0f);
    int i = 0;
    for (; i + lanes <= dim; i += lanes) {
      const V scale = hn::Add(one, hn::LoadU(d, w + i));
      hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(d, xr + i), vinv), scale), d, yr + i);
    }
    for (; i < dim; ++i) yr[i] = xr[i] * inv * (plus_one ? 1.0f + w[i] : w[i]);
  }
}

HWY_NOINLINE void RopeRows(float* x, const int32_t* positions, int r0, int r1, int n_heads,
                           int head_dim, float theta, bool inverse) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  const int half = head_dim / 2;
  float cos_buf[512], sin_buf[512];  // head_dim <= 1024, checked by the caller
  for (int r = r0; r < r1; ++r) {
    detail::rope_angles(positions[r], head_dim, theta, inverse, cos_buf, sin_buf);
    for (int h = 0; h < n_heads; ++h) {
      float* lo = x + (size_t(r) * n_heads + h) * head_dim;
      float* hi = lo + half;
      int i = 0;
      for (; i + lanes <= half; i += lanes) {
        const V a = hn::LoadU(d, lo + i), b = hn::LoadU(d, hi + i);
        const V c = hn::LoadU(d, cos_buf + i), s = hn::LoadU(d, sin_buf + i);
        hn::StoreU(hn::NegMulAdd(b, s, hn::Mul(a, c)), d, lo + i);
        hn::StoreU(hn::MulAdd(a, s, hn::Mul(b, c)), d, hi + i);
      }
      for (; i < half; ++i) {
        const float a = lo[i], b = hi[i];
        lo[i] = a * cos_buf[i] - b * sin_buf[i];
        hi[i] = b * cos_buf[i] + a * sin_buf[i];
      }
    }
  }
}

HWY_INLINE void SoftmaxRow(float* HWY_RESTRICT x, int n) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  V vmax = hn::Set(d, -INFINITY);
  int i = 0;
  for (; i + lanes <= n; i += lanes) vmax = hn::Max(vmax, hn::LoadU(d, x + i));
  float mx = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (int j = i; j < n; ++j) mx = std::max(mx, x[j]);
  const V vmx = hn::Set(d, mx);
  V vsum = hn::Zero(d);
  for (i = 0; i + lanes <= n; i += lanes) {
    const V e = hn::Exp(d, hn::Sub(hn::LoadU(d, x + i), vmx));
    hn::StoreU(e, d, x + i);
    vsum = hn::Add(vsum, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(d, vsum));
  if (i < n) {
    alignas(64) float tail[kMaxLanes];
    std::fill(tail, tail + lanes, -INFINITY);
    std::copy(x + i, x + n, tail);
    const V e = hn::Exp(d, hn::Sub(hn::Load(d, tail), vmx));
    hn::Store(e, d, tail);
    for (int j = i; j < n; ++j) sum += (x[j] = tail[j - i]);
  }
  const V inv = hn::Set(d, 1.0f / sum);
  for (i = 0; i + lanes <= n; i += lanes) hn::StoreU(hn::Mul(hn::LoadU(d, x + i), inv), d, x + i);
  for (; i < n; ++i) x[i] *= 1.0f / sum;
}

HWY_NOINLINE void SoftmaxRows(float* x, int rows, int n) {
  for (int r = 0; r < rows; ++r) SoftmaxRow(x + size_t(r) * n, n);
}

HWY_INLINE V GatedVector(D d, V g, V u, Activation act) {
  if (act == Activation::kSiLU) {
    const V one = hn::Set(d, 1.0f);
    return hn::Mul(hn::Div(g, hn::Add(one, hn::Exp(d, hn::Neg(g)))), u);
  }
  const V inner = hn::Mul(hn::Set(d, 0.7978845608028654f),
                          hn::MulAdd(hn::Mul(hn::Set(d, 0.044715f), g), hn::Mul(g, g), g));
  const V half_g = hn::Mul(hn::Set(d, 0.5f), g);
  return hn::Mul(hn::MulAdd(half_g, hn::Tanh(d, inner), half_g), u);
}

HWY_NOINLINE void GatedActivation(float* h, const float* gate, const float* up, size_t n,
                                  Activation act) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(GatedVector(d, hn::LoadU(d, gate + i), hn::LoadU(d, up + i), act), d, h + i);
  if (i < n) {
    alignas(64) float g[kMaxLanes] = {}, u[kMaxLanes] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    hn::Store(GatedVector(d, hn::Load(d, g), hn::Load(d, u), act), d, g);
    std::copy(g, g + (n - i), h + i);
  }
}

// ---------------------------------------------------------------------------------------
// Attention for one (sequence, head): each query i attends to keys 0..i.

HWY_INLINE float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, int n) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  V acc = hn::Zero(d);
  int i = 0;
  for (; i + lanes <= n; i += lanes) acc = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), acc);
  float sum = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

HWY_NOINLINE void AttentionHead(float* out, const float* q, const float* k, const float* v, int b,
                                int h, int T, int n_heads, int n_kv_heads, int head_dim,
                                float* scores, float* probs) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  const int kvh = h / (n_heads / n_kv_heads);
  const size_t q_stride = size_t(n_heads) * head_dim, kv_stride = size_t(n_kv_heads) * head_dim;
  const float scale = 1.0f / std::sqrt(float(head_dim));
  const float* kb = k + size_t(b) * T * kv_stride + size_t(kvh) * head_dim;
  const float* vb = v + size_t(b) * T * kv_stride + size_t(kvh) * head_dim;
  for (int i = 0; i < T; ++i) {
    const float* qi = q + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
    for (int j = 0; j <= i; ++j) scores[j] = Dot(qi, kb + size_t(j) * kv_stride, head_dim) * scale;
    SoftmaxRow(scores, i + 1);
    float* oi = out + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
    int e = 0;
    for (; e + lanes <= head_dim; e += lanes) {
      V acc = hn::Zero(d);
      for (int j = 0; j <= i; ++j)
        acc = hn::MulAdd(hn::Set(d, scores[j]), hn::LoadU(d, vb + size_t(j) * kv_stride + e), acc);
      hn::StoreU(acc, d, oi + e);
    }
    for (; e < head_dim; ++e) {
      float acc = 0;
      for (int j = 0; j <= i; ++j) acc += scores[j] * vb[size_t(j) * kv_stride + e];
      oi[e] = acc;
    }
    if (probs) {
      float* pr = probs + ((size_t(b) * n_heads + h) * T + i) * T;
      std::copy(scores, scores + i + 1, pr);
      std::fill(pr + i + 1, pr + T, 0.0f);
    }
  }
}


// Backward of AttentionHead for every query head of one kv group, so that one task owns
// the group's dk and dv rows. Per (i, j): one dot product and three axpys over head_dim.
HWY_INLINE void Axpy(float alpha, const float* HWY_RESTRICT x, float* HWY_RESTRICT y, int n) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  const V va = hn::Set(d, alpha);
  int e = 0;
  for (; e + lanes <= n; e += lanes) hn::StoreU(hn::MulAdd(va, hn::LoadU(d, x + e), hn::LoadU(d, y + e)), d, y + e);
  for (; e < n; ++e) y[e] += alpha * x[e];
}

HWY_NOINLINE void AttentionBackwardGroup(float* dq, float* dk, float* dv, const float* dout,
                                         const float* q, const float* k, const float* v,
                                         const float* probs, int b, int kvh, int T, int H,
                                         int KVH, int hd, float* dscore) {
  const int group = H / KVH;
  const size_t qs = size_t(H) * hd, kvs = size_t(KVH) * hd;
  const float scale = 1.0f / std::sqrt(float(hd));
  const size_t kv_base = size_t(b) * T * kvs + size_t(kvh) * hd;
  for (int j = 0; j < T; ++j) {
    std::fill_n(dk + kv_base + size_t(j) * kvs, hd, 0.0f);
    std::fill_n(dv + kv_base + size_t(j) * kvs, hd, 0.0f);
  }
  for (int h = kvh * group; h < (kvh + 1) * group; ++h)
    for (int i = 0; i < T; ++i) {
      const float* p = probs + ((size_t(b) * H + h) * T + i) * T;
      const size_t qrow = (size_t(b) * T + i) * qs + size_t(h) * hd;
      const float* doi = dout + qrow;
      const float* qi = q + qrow;
      float* dqi = dq + qrow;
      float weighted = 0;
      for (int j = 0; j <= i; ++j) {
        dscore[j] = Dot(doi, v + kv_base + size_t(j) * kvs, hd);
        weighted += p[j] * dscore[j];
      }
      std::fill_n(dqi, hd, 0.0f);
      for (int j = 0; j <= i; ++j) {
        const float ds = p[j] * (dscore[j] - weighted) * scale;
        const size_t row = kv_base + size_t(j) * kvs;
        Axpy(ds, k + row, dqi, hd);
        Axpy(ds, qi, dk + row, hd);
        Axpy(p[j], doi, dv + row, hd);
      }
    }
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <utility>
#include <vector>

#include "strata/error.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(MatmulBlock);
HWY_EXPORT(MatmulNNBlock);
HWY_EXPORT(RmsnormRows);
HWY_EXPORT(RopeRows);
HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(GatedActivation);
HWY_EXPORT(AttentionHead);
HWY_EXPORT(AttentionBackwardGroup);

namespace {
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr int64_t kParallelWork = 1 << 15;

// The broadcast kernel over blocks of kNNBlockM rows × kNNBlockN columns; panel(bn)
// returns block bn's b (at its first column) and that b's row stride.
constexpr int kNNBlockM = 48, kNNBlockN = 64;  // 8 row tiles; 64 columns = whole tiles on every target

template <class Panel>
void matmul_nn_blocks(float* c, const float* a, size_t rs, size_t cs, Panel panel, int M, int N, int K,
                      bool accumulate) {
  const int blocks_m = (M + kNNBlockM - 1) / kNNBlockM, blocks_n = (N + kNNBlockN - 1) / kNNBlockN;
  const int64_t work = int64_t(M) * N * K;
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
const float* pack_panels(const float* src, size_t sp, size_t sj, int K, int N, bool parallel) {
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

void rmsnorm(float* y, const float* x, const float* w, int rows, int d, float eps, bool plus_one,
             float* inv_rms) {
  constexpr int kChunk = 16;
  const int chunks = (rows + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (int64_t(rows) * d > kParallelWork)
  for (int c = 0; c < chunks; ++c)
    HWY_DYNAMIC_DISPATCH(RmsnormRows)(y, x, w, c * kChunk, std::min(rows, (c + 1) * kChunk), d, eps,
                                      plus_one, inv_rms);
}

void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, float theta,
          bool inverse) {
  if (head_dim > 1024) throw Error("rope: head_dim > 1024 is not supported");
  constexpr int kChunk = 16;
  const int chunks = (rows + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (int64_t(rows) * n_heads * head_dim > kParallelWork)
  for (int c = 0; c < chunks; ++c)
    HWY_DYNAMIC_DISPATCH(RopeRows)(x, positions, c * kChunk, std::min(rows, (c + 1) * kChunk),
                                   n_heads, head_dim, theta, inverse);
}

void softmax(float* x, int n) { HWY_DYNAMIC_DISPATCH(SoftmaxRows)(x, 1, n); }

void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act) {
  constexpr size_t kChunk = 4096;
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = size_t(c) * kChunk, len = std::min(kChunk, n - begin);
    HWY_DYNAMIC_DISPATCH(GatedActivation)(h + begin, gate + begin, up + begin, len, act);
  }
}

void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs) {
  const int64_t work = int64_t(B) * n_heads * T * T * head_dim;
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> scores(static_cast<size_t>(T));
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < n_heads; ++h)
        HWY_DYNAMIC_DISPATCH(AttentionHead)(out, q, k, v, b, h, T, n_heads, n_kv_heads, head_dim,
                                            scores.data(), probs);
  }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd) {
  const int64_t work = int64_t(B) * H * T * T * hd;
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> dscore(static_cast<size_t>(T));
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int kvh = 0; kvh < KVH; ++kvh)
        HWY_DYNAMIC_DISPATCH(AttentionBackwardGroup)(dq, dk, dv, dout, q, k, v, probs, b, kvh, T, H,
                                                     KVH, hd, dscore.data());
  }
}

const char* simd_target() {
  const int64_t targets = hwy::SupportedTargets() & HWY_TARGETS;
  return hwy::TargetName(targets & -targets);  // lowest bit = best target
}

}  // namespace strata::ops
#endif  // HWY_ONCE
