// Causal grouped-query attention of ops.h and its backward, both as matrix products on
// the matmul kernel (one (sequence, head) forward, one (sequence, kv group) backward) with
// the causal softmax between them as this file's SIMD kernel, and their distribution over
// OpenMP threads with per-thread buffers. Dispatch: dispatch.h.
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
// The causal softmax of one head's scores: row i (query i, at index past + i of the keys)
// scaled, normalised over keys 0..past+i, and 0 past them, so that the product with V may
// run over every key. probs, if given, receives the rows (T × keys, dense).

HWY_NOINLINE void CausalSoftmaxRows(float* scores, size_t ld, int T, int past, int keys, float scale, float* probs) {
  for (int i = 0; i < T; ++i) {
    float* row = scores + size_t(i) * ld;
    const int seen = past + i + 1;
    for (int j = 0; j < seen; ++j) row[j] *= scale;
    SoftmaxRow(row, seen);
    std::fill(row + seen, row + keys, 0.0f);
    if (probs) std::copy(row, row + keys, probs + size_t(i) * keys);
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

HWY_EXPORT(CausalSoftmaxRows);

namespace {

// Columns of the score products come in whole vectors (dispatch.h: matmul_nn_strided), so
// that a score's bits are the same in every call.
int padded(int n) { return (n + 15) / 16 * 16; }

// One thread's buffers for attention_head, kept across calls.
struct HeadBuffers {
  std::vector<float> operand, scores, scores_t;
};

void ensure(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// Attention for one (sequence, head) as two products on the matmul kernel:
//   S = Q_h·K_gᵀ (T × keys), the causal softmax of each row, O_h = P·V_g.
// Each score is one chain of fused multiply-adds over the head's dimensions and each
// output one over the keys, whatever T and past are, so a row's bits do not depend on the
// call: a context scored in pieces, shards or with a KV cache gives one call's bits. Per
// (query, key), a dot product with its horizontal sum, and an axpy chain per output vector,
// held the forward to a fraction of the kernel's rate. S comes as Q_h·K_gᵀ, with Kᵀ
// gathered (keys × hd copies), or, for few queries, as (K_g·Q_hᵀ)ᵀ, with Qᵀ gathered
// (T × hd) and S transposed back (T × keys): the same chains either way (a·b = b·a).
void attention_head(float* out, const float* q, const float* k, const float* v, int b, int h, int T, int past,
                    int H, int KVH, int hd, float* probs, HeadBuffers& s) {
  const int g = h / (H / KVH);
  const int keys = past + T;
  const size_t qs = size_t(H) * hd, kvs = size_t(KVH) * hd;
  const float* qh = q + size_t(b) * T * qs + size_t(h) * hd;
  const float* kg = k + size_t(b) * keys * kvs + size_t(g) * hd;
  const float* vg = v + size_t(b) * keys * kvs + size_t(g) * hd;
  const int ld = padded(keys);
  ensure(s.scores, size_t(T) * ld);
  if (int64_t(T) * (hd + keys) < int64_t(keys) * hd) {
    const int tp = padded(T);
    s.operand.assign(size_t(hd) * tp, 0.0f);
    for (int i = 0; i < T; ++i)
      for (int e = 0; e < hd; ++e) s.operand[size_t(e) * tp + i] = qh[size_t(i) * qs + e];
    ensure(s.scores_t, size_t(keys) * tp);
    matmul_nn_strided(s.scores_t.data(), tp, kg, kvs, 1, s.operand.data(), tp, keys, tp, hd, false, false);
    for (int i = 0; i < T; ++i)
      for (int j = 0; j < keys; ++j) s.scores[size_t(i) * ld + j] = s.scores_t[size_t(j) * tp + i];
  } else {
    ensure(s.operand, size_t(hd) * ld);
    for (int e = 0; e < hd; ++e) {
      float* column = s.operand.data() + size_t(e) * ld;
      for (int j = 0; j < keys; ++j) column[j] = kg[size_t(j) * kvs + e];
      std::fill(column + keys, column + ld, 0.0f);
    }
    matmul_nn_strided(s.scores.data(), ld, qh, qs, 1, s.operand.data(), ld, T, ld, hd, false, false);
  }
  const float scale = 1.0f / std::sqrt(float(hd));
  HWY_DYNAMIC_DISPATCH(CausalSoftmaxRows)(s.scores.data(), size_t(ld), T, past, keys, scale,
                                          probs ? probs + (size_t(b) * H + h) * T * keys : nullptr);
  matmul_nn_strided(out + size_t(b) * T * qs + size_t(h) * hd, int(qs), s.scores.data(), size_t(ld), 1, vg, int(kvs),
                    T, hd, keys, /*accumulate=*/false, /*threaded=*/false);
}

}  // namespace

// The (sequence, head) tasks over the threads; the products inside a task run on that
// task's thread.
void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs, int past) {
  [[maybe_unused]] const int64_t work = int64_t(B) * n_heads * T * (past + T) * head_dim;
#pragma omp parallel if (work > kParallelWork)
  {
    thread_local HeadBuffers buffers;
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < n_heads; ++h)
        attention_head(out, q, k, v, b, h, T, past, n_heads, n_kv_heads, head_dim, probs, buffers);
  }
}

namespace {

// One thread's buffers for the backward of a kv group: the group's k and v rows, one
// query head's q and dout rows, gathered contiguous (T×hd each) so the products read them
// as plain matrices; the head's T×T score gradients; the outputs before they are scattered.
struct GroupBuffers {
  std::vector<float> k, v, q, dout, dscore, dq, dk, dv;
  void ensure_sizes(int T, int hd) {
    for (auto* rows : {&k, &v, &q, &dout, &dq, &dk, &dv}) ensure(*rows, size_t(T) * hd);
    ensure(dscore, size_t(T) * T);
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
    matmul_nn_strided(s.dq.data(), hd, s.dscore.data(), size_t(T), 1, s.k.data(), hd, T, hd, T, false, false);
    matmul_nn_strided(s.dk.data(), hd, s.dscore.data(), 1, size_t(T), s.q.data(), hd, T, hd, T, !first, false);
    matmul_nn_strided(s.dv.data(), hd, p, 1, size_t(T), s.dout.data(), hd, T, hd, T, !first, false);
    scatter_rows(dq + q_base, s.dq.data(), qs, T, hd);
  }
  scatter_rows(dk + kv_base, s.dk.data(), kvs, T, hd);
  scatter_rows(dv + kv_base, s.dv.data(), kvs, T, hd);
}

}  // namespace

// The (sequence, group) tasks over the threads; the products inside a task run on that
// task's thread.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd) {
  [[maybe_unused]] const int64_t work = int64_t(B) * H * T * T * hd;
#pragma omp parallel if (work > kParallelWork)
  {
    // Kept per thread across calls: freed after each layer's call, these 0.5 MB came back
    // as fresh pages, every one a page fault.
    thread_local GroupBuffers buffers;
    buffers.ensure_sizes(T, hd);
#pragma omp for schedule(static) collapse(2)
    for (int b = 0; b < B; ++b)
      for (int g = 0; g < KVH; ++g)
        attention_backward_group(dq, dk, dv, dout, q, k, v, probs, b, g, T, H, KVH, hd, buffers);
  }
}

}  // namespace strata::ops
#endif  // HWY_ONCE
