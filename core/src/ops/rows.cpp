// The row kernels of ops.h: RMSNorm, rotary embedding, softmax (its row kernel is shared
// with attention, simd-inl.h) and the gated activations (SiLU, tanh-GELU) with their
// backward, each over whole rows or chunks of a row, with the OpenMP chunking at the
// bottom. Dispatch: dispatch.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/rows.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/rope_angles.h"
#include "ops/simd-inl.h"
#include "strata/config.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------------------
// Row kernels. Tails shorter than a vector go through a padded stack buffer so that one
// vector code path (including Exp and Tanh) serves every length (kMaxLanes, simd-inl.h).

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

HWY_NOINLINE float SoftmaxRows(float* x, int rows, int n) {
  float log_normalizer = 0;
  for (int r = 0; r < rows; ++r) log_normalizer = SoftmaxRow(x + size_t(r) * n, n);
  return log_normalizer;  // the last row's: softmax() asks for one
}

// tanh-GELU(g) = ½g·(1 + tanh(α(g + c·g³))); its tanh's argument, shared with the backward.
constexpr float kGeluAlpha = 0.7978845608028654f, kGeluCubic = 0.044715f;  // √(2/π), c
HWY_INLINE V GeluTanhArgument(D d, V g) {
  return hn::Mul(hn::Set(d, kGeluAlpha), hn::MulAdd(hn::Mul(hn::Set(d, kGeluCubic), g), hn::Mul(g, g), g));
}

HWY_INLINE V GatedVector(D d, V g, V u, Activation act) {
  if (act == Activation::kSiLU) {
    const V one = hn::Set(d, 1.0f);
    return hn::Mul(hn::Div(g, hn::Add(one, hn::Exp(d, hn::Neg(g)))), u);
  }
  const V half_g = hn::Mul(hn::Set(d, 0.5f), g);
  return hn::Mul(hn::MulAdd(half_g, hn::Tanh(d, GeluTanhArgument(d, g)), half_g), u);
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

// Backward of h = act(gate)·up: dgate = dh·up·act'(gate), dup = dh·act(gate). Its scalar
// form took 3% of a training step (one libm exp or tanh per element).
HWY_INLINE void GatedBackwardVector(D d, V g, V u, V dh, Activation act, V& dgate, V& dup) {
  const V one = hn::Set(d, 1.0f);
  V a, da;
  if (act == Activation::kSiLU) {
    const V s = hn::Div(one, hn::Add(one, hn::Exp(d, hn::Neg(g))));
    a = hn::Mul(g, s);
    da = hn::Mul(s, hn::MulAdd(g, hn::Sub(one, s), one));  // s·(1 + g·(1 − s))
  } else {
    const V half = hn::Set(d, 0.5f);
    const V t = hn::Tanh(d, GeluTanhArgument(d, g));
    const V half_g = hn::Mul(half, g);
    a = hn::MulAdd(half_g, t, half_g);
    // ½(1 + t) + ½g·(1 − t²)·α(1 + 3c·g²)
    const V dinner = hn::Mul(hn::Set(d, kGeluAlpha), hn::MulAdd(hn::Set(d, 3.0f * kGeluCubic), hn::Mul(g, g), one));
    da = hn::MulAdd(hn::Mul(half_g, hn::NegMulAdd(t, t, one)), dinner, hn::Mul(half, hn::Add(one, t)));
  }
  dgate = hn::Mul(hn::Mul(dh, u), da);
  dup = hn::Mul(dh, a);
}

HWY_NOINLINE void GatedActivationBackward(float* dgate, float* dup, const float* dh, const float* gate,
                                          const float* up, size_t n, Activation act) {
  const D d;
  const size_t lanes = hn::Lanes(d);
  size_t i = 0;
  V dg, du;
  for (; i + lanes <= n; i += lanes) {
    GatedBackwardVector(d, hn::LoadU(d, gate + i), hn::LoadU(d, up + i), hn::LoadU(d, dh + i), act, dg, du);
    hn::StoreU(dg, d, dgate + i);
    hn::StoreU(du, d, dup + i);
  }
  if (i < n) {
    alignas(64) float g[kMaxLanes] = {}, u[kMaxLanes] = {}, e[kMaxLanes] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    std::copy(dh + i, dh + n, e);
    GatedBackwardVector(d, hn::Load(d, g), hn::Load(d, u), hn::Load(d, e), act, dg, du);
    hn::Store(dg, d, g);
    hn::Store(du, d, u);
    std::copy(g, g + (n - i), dgate + i);
    std::copy(u, u + (n - i), dup + i);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>

#include "ops/dispatch.h"
#include "strata/error.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(RmsnormRows);
HWY_EXPORT(RopeRows);
HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(GatedActivation);
HWY_EXPORT(GatedActivationBackward);

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

float softmax(float* x, int n) { return HWY_DYNAMIC_DISPATCH(SoftmaxRows)(x, 1, n); }

void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act) {
  constexpr size_t kChunk = 4096;
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = size_t(c) * kChunk, len = std::min(kChunk, n - begin);
    HWY_DYNAMIC_DISPATCH(GatedActivation)(h + begin, gate + begin, up + begin, len, act);
  }
}

void gated_activation_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                               size_t n, Activation act) {
  constexpr size_t kChunk = 4096;
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = size_t(c) * kChunk, len = std::min(kChunk, n - begin);
    HWY_DYNAMIC_DISPATCH(GatedActivationBackward)(dgate + begin, dup + begin, dh + begin, gate + begin, up + begin,
                                                  len, act);
  }
}

}  // namespace strata::ops
#endif  // HWY_ONCE
