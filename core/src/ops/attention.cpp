// Causal grouped-query attention of ops.h and its backward: the SIMD kernels for one
// (sequence, head) forward and one (sequence, kv group) backward, and at the bottom their
// distribution over OpenMP threads with per-thread score buffers. Dispatch: dispatch.h.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/attention.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include <algorithm>
#include <cmath>

#include "ops/simd-inl.h"

HWY_BEFORE_NAMESPACE();
namespace strata::ops {
namespace HWY_NAMESPACE {

// ---------------------------------------------------------------------------------------
// Attention for one (sequence, head): query i, at index past + i of the sequence's
// past + T keys (the first `past` of them from a KV cache), attends to keys 0..past+i.

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
                                int h, int T, int past, int n_heads, int n_kv_heads, int head_dim,
                                float* scores, float* probs) {
  const D d;
  const int lanes = int(hn::Lanes(d));
  const int kvh = h / (n_heads / n_kv_heads);
  const int keys = past + T;
  const size_t q_stride = size_t(n_heads) * head_dim, kv_stride = size_t(n_kv_heads) * head_dim;
  const float scale = 1.0f / std::sqrt(float(head_dim));
  const float* kb = k + size_t(b) * keys * kv_stride + size_t(kvh) * head_dim;
  const float* vb = v + size_t(b) * keys * kv_stride + size_t(kvh) * head_dim;
  for (int i = 0; i < T; ++i) {
    const int last = past + i;  // the last key this query sees
    const float* qi = q + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
    for (int j = 0; j <= last; ++j) scores[j] = Dot(qi, kb + size_t(j) * kv_stride, head_dim) * scale;
    SoftmaxRow(scores, last + 1);
    float* oi = out + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
    int e = 0;
    for (; e + lanes <= head_dim; e += lanes) {
      V acc = hn::Zero(d);
      for (int j = 0; j <= last; ++j)
        acc = hn::MulAdd(hn::Set(d, scores[j]), hn::LoadU(d, vb + size_t(j) * kv_stride + e), acc);
      hn::StoreU(acc, d, oi + e);
    }
    for (; e < head_dim; ++e) {
      float acc = 0;
      for (int j = 0; j <= last; ++j) acc += scores[j] * vb[size_t(j) * kv_stride + e];
      oi[e] = acc;
    }
    if (probs) {
      float* pr = probs + ((size_t(b) * n_heads + h) * T + i) * keys;
      std::copy(scores, scores + last + 1, pr);
      std::fill(pr + last + 1, pr + keys, 0.0f);
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
#include <vector>

#include "ops/dispatch.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(AttentionHead);
HWY_EXPORT(AttentionBackwardGroup);

void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs, int past) {
  [[maybe_unused]] const int64_t work = int64_t(B) * n_heads * T * (past + T) * head_dim;
#pragma omp parallel if (work > kParallelWork)
  {
    std::vector<float> scores(static_cast<size_t>(past + T));
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < n_heads; ++h)
        HWY_DYNAMIC_DISPATCH(AttentionHead)(out, q, k, v, b, h, T, past, n_heads, n_kv_heads, head_dim,
                                            scores.data(), probs);
  }
}

void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd) {
  [[maybe_unused]] const int64_t work = int64_t(B) * H * T * T * hd;
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

}  // namespace strata::ops
#endif  // HWY_ONCE
