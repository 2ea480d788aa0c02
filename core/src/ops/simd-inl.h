// The SIMD vocabulary the kernel files share: the float vector type of the target being
// compiled, exact widening loads of the 16-bit weight types (dtype.h) and the softmax of one row, which both the softmax kernel (rows.cpp) and
// attention's scores (attention.cpp) run. Each kernel file includes this header in every
// pass foreach_target.h makes over it, so the guard below toggles once per target
// (Highway's -inl.h convention) instead of #pragma once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "strata/dtype.h"

#if defined(STRATA_OPS_SIMD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef STRATA_OPS_SIMD_INL_H_
#undef STRATA_OPS_SIMD_INL_H_
#else
#define STRATA_OPS_SIMD_INL_H_
#endif

#include "hwy/highway.h"
#include "hwy/contrib/math/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Tails shorter than a vector go through a padded stack buffer of kMaxLanes floats (the
// widest target's lanes), so that one vector code path (including Exp and Tanh) serves
// every length.
constexpr int kMaxLanes = 64;

// Weight elements as stored (float, or Highway's 16-bit types over dtype.h's bits), widened
// to float: one vector of lanes from p, or one scalar. Every conversion is exact.
using BF16 = hwy::bfloat16_t;
using F16 = hwy::float16_t;
static_assert(sizeof(BF16) == 2 && sizeof(F16) == 2, "16-bit storage types");

HWY_INLINE float ToFloat(float v) { return v; }
HWY_INLINE float ToFloat(BF16 v) {
  uint16_t bits;
  std::memcpy(&bits, &v, 2);
  return bf16_to_f32(bits);
}
HWY_INLINE float ToFloat(F16 v) {
  uint16_t bits;
  std::memcpy(&bits, &v, 2);
  return f16_to_f32(bits);
}

HWY_INLINE V LoadWidened(D d, const float* HWY_RESTRICT p) { return hn::LoadU(d, p); }
HWY_INLINE V LoadWidened(D d, const BF16* HWY_RESTRICT p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<BF16, D>(), p));  // a shift: bf16 is a float's top half
}
HWY_INLINE V LoadWidened(D d, const F16* HWY_RESTRICT p) {
#if HWY_TARGET <= HWY_AVX2 && HWY_ARCH_X86
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<F16, D>(), p));  // F16C: exact
#else
  // Highway's emulation elsewhere maps infinities and NaN to finite values; this one is
  // exact: normals and inf/NaN by rebiasing the exponent, subnormals as mant·2^-24.
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const auto bits = hn::PromoteTo(du, hn::LoadU(hn::Rebind<uint16_t, D>(), reinterpret_cast<const uint16_t*>(p)));
  const auto sign = hn::ShiftLeft<16>(hn::And(bits, hn::Set(du, 0x8000u)));
  const auto mag = hn::And(bits, hn::Set(du, 0x7fffu));
  const auto exp = hn::And(mag, hn::Set(du, 0x7c00u));
  const auto normal = hn::Add(hn::ShiftLeft<13>(mag), hn::Set(du, uint32_t(127 - 15) << 23));
  const auto inf_nan = hn::Add(normal, hn::Set(du, uint32_t(128 - 16) << 23));
  const auto subnormal = hn::BitCast(du, hn::Mul(hn::ConvertTo(d, hn::BitCast(di, mag)), hn::Set(d, 1.0f / 16777216)));
  const auto widened = hn::IfThenElse(hn::Eq(exp, hn::Zero(du)), subnormal,
                                      hn::IfThenElse(hn::Eq(exp, hn::Set(du, 0x7c00u)), inf_nan, normal));
  return hn::BitCast(d, hn::Or(sign, widened));
#endif
}

// n weights from src widened into dst.
template <class TW>
HWY_INLINE void WidenRow(const TW* HWY_RESTRICT src, int n, float* HWY_RESTRICT dst) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  int i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(LoadWidened(d, src + i), d, dst + i);
  for (; i < n; ++i) dst[i] = ToFloat(src[i]);
}

HWY_INLINE float SoftmaxRow(float* HWY_RESTRICT x, int n) {  // returns log Σ exp(x)
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
  return mx + std::log(sum);
}

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#endif  // STRATA_OPS_SIMD_INL_H_
