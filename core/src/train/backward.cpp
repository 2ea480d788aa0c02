// Backward pass: each forward step of model.cpp has its *_backward here, applied in reverse.
// Gradients of parameters accumulate (+=) so tied embeddings collect both uses.
#include "strata/backward.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ops/dispatch.h"
#include "strata/error.h"
#include "strata/ops.h"

namespace strata {

namespace {

void ensure(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

using ops::kParallelWork;

}  // namespace

double cross_entropy(const float* logits, const int32_t* targets, int rows, int vocab,
                     float* dlogits, float scale) {
  std::vector<double> row_loss(static_cast<size_t>(rows), 0.0);
#pragma omp parallel for schedule(static) if (int64_t(rows) * vocab > kParallelWork)
  for (int r = 0; r < rows; ++r) {
    const float* z = logits + size_t(r) * vocab;
    float* dz = dlogits ? dlogits + size_t(r) * vocab : nullptr;
    const int32_t target = targets[r];
    if (target < 0) {
      if (dz) std::fill(dz, dz + vocab, 0.0f);
      continue;
    }
    if (!dz) {  // a measurement (evaluate, validation): log-sum-exp in double, bits to ~1e-12
      const float mx = *std::max_element(z, z + vocab);
      double sum = 0;
      for (int i = 0; i < vocab; ++i) sum += std::exp(double(z[i] - mx));
      row_loss[size_t(r)] = std::log(sum) + mx - z[target];
      continue;
    }
    // A training step: the vector softmax (ops.h) on the gradient's row, in float like the
    // gradient itself (the loss to ~1e-7); two scalar double exps per logit were 12 % of a
    // step at vocabulary 2048.
    std::copy(z, z + vocab, dz);
    row_loss[size_t(r)] = double(ops::softmax(dz, vocab)) - z[target];
    for (int i = 0; i < vocab; ++i) dz[i] *= scale;
    dz[target] -= scale;
  }
  double total = 0;  // summed in a fixed order: the loss is the same at any thread count
  for (double l : row_loss) total += l;
  return total;
}

namespace {

// Backward of y = x·wᵀ (x (M,K), w (N,K)): dx = dy·w (added to dx when accumulate_dx),
// dw += dyᵀ·x, reading dy transposed through strides instead of copying it. w is F32
// (backward() checks that the weights are).
void linear_backward(float* dx, bool accumulate_dx, float* dw, const float* dy, const float* x,
                     ops::WeightRef w, int M, int N, int K) {
  ops::matmul_nn(dx, dy, size_t(N), 1, static_cast<const float*>(w.data), M, K, N, accumulate_dx);
  ops::matmul_nn(dw, dy, 1, size_t(N), x, N, K, M, /*accumulate=*/true);
}

// Backward of y = x·inv_rms·g with g = w or 1+w: adds into dx and dw.
void rmsnorm_backward(float* dx, float* dw, const float* dy, const float* x, const float* w,
                      const float* inv_rms, int rows, int d, bool plus_one) {
#pragma omp parallel for schedule(static) if (int64_t(rows) * d > kParallelWork)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * d;
    const float* dyr = dy + size_t(r) * d;
    float* dxr = dx + size_t(r) * d;
    const float inv = inv_rms[r];
    double dot = 0;
    for (int i = 0; i < d; ++i) dot += double(dyr[i]) * (plus_one ? 1.0f + w[i] : w[i]) * xr[i];
    const float coef = float(dot) * inv * inv * inv / float(d);
    for (int i = 0; i < d; ++i) dxr[i] += inv * (plus_one ? 1.0f + w[i] : w[i]) * dyr[i] - coef * xr[i];
  }
  for (int r = 0; r < rows; ++r)  // serial: rows share dw
    for (int i = 0; i < d; ++i) dw[i] += dy[size_t(r) * d + i] * x[size_t(r) * d + i] * inv_rms[r];
}

// Backward of out = x + keep ⊙ branch / (1-p) for the branch: dbranch = keep ⊙ dout / (1-p)
// (the stream's own gradient passes through unchanged).
void dropout_backward(float* dbranch, const float* dout, const uint8_t* keep, size_t n, float p) {
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for schedule(static) if (int64_t(n) > kParallelWork)
  for (size_t i = 0; i < n; ++i) dbranch[i] = keep[i] ? dout[i] * scale : 0.0f;
}

}  // namespace

Backward::Backward(const ModelConfig& c) : config_(c) {}

double Backward::loss_and_backward(const Transformer& model, std::span<const int32_t> tokens,
                                   std::span<const int32_t> positions,
                                   std::span<const int32_t> targets, std::span<float> grads) {
  const ModelConfig& c = config_;
  const Activations& a = model.activations();
  if (!a.keep_all_layers) throw Error("backward: call Transformer::forward_for_training first");
  const int B = a.B, T = a.T, N = B * T;
  const int L = c.num_hidden_layers, d = c.hidden_size, f = c.intermediate_size, V = c.vocab_size;
  const int qd = c.q_dim(), kvd = c.kv_dim(), H = c.num_attention_heads, KVH = c.num_key_value_heads;
  if (targets.size() != size_t(N) || tokens.size() != size_t(N) || positions.size() != size_t(N))
    throw Error("backward: tokens, positions and targets must match the last forward's batch");
  if (grads.size() != size_t(c.parameter_count())) throw Error("backward: gradient buffer has the wrong size");
  for (int32_t t : targets)
    if (t < -1 || t >= V) throw Error("backward: target id " + std::to_string(t) + " outside the vocabulary");

  if (!model.weights().flat_f32()) throw Error("backward: training needs the weights in float32 (load with --dtype f32)");
  const WeightViews& w = model.weights().view;
  const FlatViews g = bind_weights(c, grads.data());
  const size_t Nd = size_t(N) * d;

  int count = 0;
  for (int32_t t : targets) count += t >= 0;
  if (count == 0) return 0.0;
  ensure(dlogits_, size_t(N) * V);
  const double loss = cross_entropy(a.logits.data(), targets.data(), N, V, dlogits_.data(), 1.0f / float(count)) / count;

  ensure(dx_, Nd);
  ensure(dnorm_, Nd);
  ensure(dq_, size_t(N) * qd);
  ensure(dk_, size_t(N) * kvd);
  ensure(dv_, size_t(N) * kvd);
  ensure(dattn_, size_t(N) * qd);
  ensure(dgate_, size_t(N) * f);
  ensure(dup_, size_t(N) * f);
  ensure(dact_, size_t(N) * f);
  const bool drop = a.dropout.p > 0.0f;
  if (drop) ensure(dbranch_, Nd);

  // Output head and final norm.
  linear_backward(dnorm_.data(), false, g.lm_head, dlogits_.data(), a.final_norm.data(), w.lm_head, N, V, d);
  std::fill(dx_.begin(), dx_.begin() + Nd, 0.0f);
  rmsnorm_backward(dx_.data(), g.final_norm, dnorm_.data(), a.residual.data() + size_t(L) * Nd, w.final_norm,
                   a.final_inv_rms.data(), N, d, (c.norm == NormKind::kRMSNormPlusOne));

  // dx_ holds the gradient of the residual stream; each block adds its branch's share.
  for (int l = L - 1; l >= 0; --l) {
    const LayerWeights& lw = w.layers[size_t(l)];
    const LayerTensors<float*>& lg = g.layers[size_t(l)];
    const size_t s = size_t(l);
    const float* mlp_in = a.mlp_in.data() + s * Nd;
    const float* attn_in = a.attn_in.data() + s * Nd;

    // The gradient of a branch's output (o_proj's or down's): the stream's, through the
    // branch's dropout mask if the forward pass used one.
    auto branch_gradient = [&](int which) -> const float* {
      if (!drop) return dx_.data();
      dropout_backward(dbranch_.data(), dx_.data(), a.dropout_keep.data() + (s * 2 + size_t(which)) * Nd, Nd,
                       a.dropout.p);
      return dbranch_.data();
    };

    // MLP block: x_out = x_mid + down(act(gate) * up).
    linear_backward(dact_.data(), false, lg.w_down, branch_gradient(1), a.act.data() + s * N * f, lw.w_down, N, d, f);
    ops::gated_activation_backward(dgate_.data(), dup_.data(), dact_.data(), a.gate.data() + s * N * f,
                                   a.up.data() + s * N * f, size_t(N) * f, c.gate_activation());
    linear_backward(dnorm_.data(), false, lg.w_gate, dgate_.data(), mlp_in, lw.w_gate, N, f, d);
    linear_backward(dnorm_.data(), true, lg.w_up, dup_.data(), mlp_in, lw.w_up, N, f, d);
    rmsnorm_backward(dx_.data(), lg.mlp_norm, dnorm_.data(), a.residual_mid.data() + s * Nd, lw.mlp_norm,
                     a.mlp_inv_rms.data() + s * N, N, d, (c.norm == NormKind::kRMSNormPlusOne));

    // Attention block: x_mid = x + o_proj(attention(rope(q), rope(k), v)).
    linear_backward(dattn_.data(), false, lg.wo, branch_gradient(0), a.attn_out.data() + s * N * qd, lw.wo, N, d, qd);
    ops::attention_backward(dq_.data(), dk_.data(), dv_.data(), dattn_.data(), a.q.data() + s * N * qd,
                       a.k.data() + s * N * kvd, a.v.data() + s * N * kvd,
                       a.probs.data() + s * size_t(B) * H * T * T, B, T, H, KVH, c.head_dim);
    ops::rope(dq_.data(), positions.data(), N, H, c.head_dim, c.rope_theta, /*inverse=*/true);
    ops::rope(dk_.data(), positions.data(), N, KVH, c.head_dim, c.rope_theta, /*inverse=*/true);
    linear_backward(dnorm_.data(), false, lg.wq, dq_.data(), attn_in, lw.wq, N, qd, d);
    linear_backward(dnorm_.data(), true, lg.wk, dk_.data(), attn_in, lw.wk, N, kvd, d);
    linear_backward(dnorm_.data(), true, lg.wv, dv_.data(), attn_in, lw.wv, N, kvd, d);
    rmsnorm_backward(dx_.data(), lg.attn_norm, dnorm_.data(), a.residual.data() + s * Nd, lw.attn_norm,
                     a.attn_inv_rms.data() + s * N, N, d, (c.norm == NormKind::kRMSNormPlusOne));
  }

  // Embedding: rows of the table receive the stream's gradient (scaled like the forward).
  const float embed_scale = c.scale_embeddings ? std::sqrt(float(d)) : 1.0f;
  for (int i = 0; i < N; ++i) {
    float* ge = g.embed + size_t(tokens[size_t(i)]) * d;
    for (int j = 0; j < d; ++j) ge[j] += dx_[size_t(i) * d + j] * embed_scale;
  }
  return loss;
}

}  // namespace strata
