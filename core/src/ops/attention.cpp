// Causal grouped-query attention of ops.h and its backward: the SIMD kernel for one
// (sequence, head) forward, the backward of one (sequence, kv group) as matrix products,
// and at the bottom their distribution over OpenMP threads with per-thread buffers.
// Dispatch: dispatch.h.
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

}  // namespace HWY_NAMESPACE
}  // namespace strata::ops
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/dispatch.h"
#include "strata/ops.h"

namespace strata::ops {

HWY_EXPORT(AttentionHead);

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

namespace {

// One thread's buffers for the backward of a kv group: the group's k and v rows, one
// query head's q and dout rows, gathered contiguous (T×hd each) so the products read them
// as plain matrices; the head's T×T score gradients; the outputs before they are scattered.
struct GroupBuffers {
  std::vector<float> k, v, q, dout, dscore, dq, dk, dv;
  void ensure(int T, int hd) {
    for (auto* rows : {&k, &v, &q, &dout, &dq, &dk, &dv})
      if (rows->size() < size_t(T) * hd) rows->resize(size_t(T) * hd);
    if (dscore.size() < size_t(T) * T) dscore.resize(size_t(T) * T);
  }
};

void gather_rows(float* dst, const float* src, size_t stride, int rows, int hd) {
  for (int t = 0; t < rows; ++t) std::copy_n(src + size_t(t) * stride, hd, dst + size_t(t) * hd);
}
void scatter_rows(float* dst, const float* src, size_t stride, int rows, int hd) {
  for (int t = 0; t < rows; ++t) std::copy_n(src + size_t(t) * hd, hd, dst + size_t(t) * stride);
}

// Backward of attention for every query head h of kv group g in sequence b, so that one
// task owns the group's dk and dv rows. With P the head's saved probabilities (T×T, 0
// above the diagonal):
//   dS = dout_h·V_gᵀ,  dS ← P ⊙ (dS − rowsum(P ⊙ dS)) / √hd,
//   dq_h = dS·K_g,  dk_g += dSᵀ·q_h,  dv_g += Pᵀ·dout_h.
// Whole T×T products do twice the causal triangle's multiply-adds, on the matmul kernel:
// per (i, j), one dot product and three axpys over hd (loads and stores for every
// multiply-add) took 15 % of a training step.
void attention_backward_group(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                              const float* v, const float* probs, int b, int g, int T, int H, int KVH, int hd,
                              GroupBuffers& s) {
  const int group = H / KVH;
  const size_t qs = size_t(H) * hd, kvs = size_t(KVH) * hd;
  const float scale = 1.0f / std::sqrt(float(hd));
  const size_t kv_base = size_t(b) * T * kvs + size_t(g) * hd;
  gather_rows(s.k.data(), k + kv_base, kvs, T, hd);
  gather_rows(s.v.data(), v + kv_base, kvs, T, hd);
  for (int h = g * group; h < (g + 1) * group; ++h) {
    const size_t q_base = size_t(b) * T * qs + size_t(h) * hd;
    const float* p = probs + (size_t(b) * H + h) * T * T;
    gather_rows(s.q.data(), q + q_base, qs, T, hd);
    gather_rows(s.dout.data(), dout + q_base, qs, T, hd);
    matmul_f32(s.dscore.data(), s.dout.data(), s.v.data(), T, T, hd, /*accumulate=*/false);
    for (int i = 0; i < T; ++i) {
      float* ds = s.dscore.data() + size_t(i) * T;
      const float* pi = p + size_t(i) * T;
      float weighted = 0;
      for (int j = 0; j <= i; ++j) weighted += pi[j] * ds[j];
      for (int j = 0; j <= i; ++j) ds[j] = pi[j] * (ds[j] - weighted) * scale;
      std::fill(ds + i + 1, ds + T, 0.0f);
    }
    const bool first = h == g * group;
    matmul_nn(s.dq.data(), s.dscore.data(), size_t(T), 1, s.k.data(), T, hd, T);
    matmul_nn(s.dk.data(), s.dscore.data(), 1, size_t(T), s.q.data(), T, hd, T, /*accumulate=*/!first);
    matmul_nn(s.dv.data(), p, 1, size_t(T), s.dout.data(), T, hd, T, /*accumulate=*/!first);
    scatter_rows(dq + q_base, s.dq.data(), qs, T, hd);
  }
  scatter_rows(dk + kv_base, s.dk.data(), kvs, T, hd);
  scatter_rows(dv + kv_base, s.dv.data(), kvs, T, hd);
}

}  // namespace

// The (sequence, group) tasks over the threads; the products inside a task run on that
// task's thread (a nested parallel region is inactive).
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd) {
  [[maybe_unused]] const int64_t work = int64_t(B) * H * T * T * hd;
#pragma omp parallel if (work > kParallelWork)
  {
    // Kept per thread across calls: freed after each layer's call, these 0.5 MB came back
    // as fresh pages, every one a page fault.
    thread_local GroupBuffers buffers;
    buffers.ensure(T, hd);
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int g = 0; g < KVH; ++g)
        attention_backward_group(dq, dk, dv, dout, q, k, v, probs, b, g, T, H, KVH, hd, buffers);
  }
}

}  // namespace strata::ops
#endif  // HWY_ONCE
