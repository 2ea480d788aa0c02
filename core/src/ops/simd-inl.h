// The SIMD vocabulary the kernel files share: the float vector type of the target being
// compiled and the softmax of one row, which both the softmax kernel (rows.cpp) and
// attention's scores (attention.cpp) run. Each kernel file includes this header in every
// pass foreach_target.h makes over it, so the guard below toggles once per target
// (Highway's -inl.h convention) instead of #pragma once.
#include <algorithm>
#include <cmath>

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

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#endif  // STRATA_OPS_SIMD_INL_H_
