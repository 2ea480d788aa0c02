// The decoder's forward pass, one layer at a time, over buffers that persist across calls.
// One pass serves every family: the config's enums pick the norm, position encoding, MLP and
// attention options, in the order of operations of Hugging Face's modelling code.
#include "strata/model.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "strata/error.h"
#include "strata/arch_ops.h"
#include "strata/kv_cache.h"
#include "strata/ops.h"

namespace strata {

namespace {

// Resize only when a call needs more room, so steady-state calls never allocate.
template <typename V>
void ensure(V& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The keep mask of one branch (n elements) and out = x + keep ⊙ branch / (1-p), where x
// may alias out. Elementwise, and each element's mask depends only on its index.
void dropout_residual(float* out, const float* x, const float* branch, uint8_t* keep, size_t n,
                      const Dropout& dropout, int layer, int which) {
  const float scale = 1.0f / (1.0f - dropout.p);
#pragma omp parallel for schedule(static) if (n > (size_t(1) << 15))
  for (size_t i = 0; i < n; ++i) {
    keep[i] = uint8_t(dropout_keeps(dropout, layer, which, i));
    out[i] = x[i] + (keep[i] ? branch[i] * scale : 0.0f);
  }
}

// The matrices a forward pass multiplies by, with their (N, K): per layer q, k, v, o and
// the MLP's, then the head (layer -1).
struct MatrixSlot {
  int layer;
  ops::WeightRef LayerWeights::*member;
  int N, K;
};

std::vector<MatrixSlot> forward_matrices(const ModelConfig& c) {
  const int d = c.hidden_size, f = c.intermediate_size;
  std::vector<MatrixSlot> m;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    m.push_back({l, &LayerWeights::wq, c.q_dim(), d});
    m.push_back({l, &LayerWeights::wk, c.kv_dim(), d});
    m.push_back({l, &LayerWeights::wv, c.kv_dim(), d});
    m.push_back({l, &LayerWeights::wo, d, c.q_dim()});
    if (c.gated_mlp()) m.push_back({l, &LayerWeights::w_gate, f, d});
    m.push_back({l, &LayerWeights::w_up, f, d});
    m.push_back({l, &LayerWeights::w_down, d, f});
  }
  m.push_back({-1, nullptr, c.vocab_size, d});
  return m;
}

// A value as the model's dtype would hold it (F16 and BF16 round to nearest even).
float round_to_dtype(float v, DType t) {
  if (t == DType::kBF16) return bf16_to_f32(f32_to_bf16(v));
  if (t == DType::kF16) return f16_to_f32(f32_to_f16(v));
  return v;
}

}  // namespace

bool dropout_keeps(const Dropout& dropout, int layer, int branch, uint64_t index) {
  const uint64_t stream = splitmix64(dropout.seed ^ splitmix64(uint64_t(layer) * 2 + uint64_t(branch)));
  const uint64_t u = splitmix64(stream + index) >> 40;  // uniform in [0, 2^24)
  return double(u) >= double(dropout.p) * double(1 << 24);
}

Transformer::Transformer(std::shared_ptr<const Weights> weights) : weights_(std::move(weights)) {
  if (!weights_) throw Error("Transformer: no weights");
}

size_t Transformer::packed_bytes(const ModelConfig& c) {
  size_t floats = 0;
  for (const MatrixSlot& s : forward_matrices(c)) floats += ops::packed_weight_bytes(s.N, s.K, DType::kF32) / 4;
  return floats * sizeof(float);
}

bool Transformer::pack_weights() {
  if (packed_view_) return true;
  const ModelConfig& c = config();
  if (packed_bytes(c) > kMaxPackedBytes) return false;
  const std::vector<MatrixSlot> matrices = forward_matrices(c);
  const bool bf16 = ops::compute() == ops::Compute::kBF16;
  auto view = std::make_unique<WeightViews>(weights_->view);
  auto slot = [&](const MatrixSlot& s) -> ops::WeightRef& {
    return s.layer < 0 ? view->lm_head : view->layers[size_t(s.layer)].*s.member;
  };
  size_t bytes = 0, bf16_elements = 0;
  for (const MatrixSlot& s : matrices) {
    bytes += ops::packed_weight_bytes(s.N, s.K, DType::kF32);
    if (slot(s).dtype != DType::kF32) bytes += ops::packed_weight_bytes(s.N, s.K, slot(s).dtype);
    if (bf16) bf16_elements += ops::bf16_weight_elements(s.N, s.K);
  }
  if (bytes > kMaxPackedBytes) return false;
  packed_.resize((bytes + sizeof(float) - 1) / sizeof(float));  // floats, for their alignment
  packed_bf16_.resize(bf16_elements);
  auto* dst = reinterpret_cast<unsigned char*>(packed_.data());
  uint16_t* dst16 = packed_bf16_.data();
  for (const MatrixSlot& s : matrices) {
    ops::WeightRef& w = slot(s);
    ops::pack_weight(w, s.N, s.K, DType::kF32, dst);
    w.panels = reinterpret_cast<const float*>(dst);
    dst += ops::packed_weight_bytes(s.N, s.K, DType::kF32);
    if (w.dtype != DType::kF32) {
      ops::pack_weight(w, s.N, s.K, w.dtype, dst);
      w.panels16 = dst;
      dst += ops::packed_weight_bytes(s.N, s.K, w.dtype);
    }
    if (bf16) {
      ops::pack_weight_bf16(w, s.N, s.K, dst16);
      w.bf16_rows = dst16;
      dst16 += ops::bf16_weight_elements(s.N, s.K);
    }
  }
  packed_view_ = std::move(view);
  return true;
}

double Transformer::forward_flops(const ModelConfig& c, int n, int logit_rows) {
  const double head = 2.0 * c.hidden_size * c.vocab_size;
  const double body = 2.0 * double(c.matmul_params_per_token() - int64_t(c.hidden_size) * c.vocab_size);
  // Causal attention: QKᵀ and PV each cost 2·q_dim multiply-adds per (query, key) pair.
  const double pairs = double(n) * (n + 1) / 2.0;
  const double attention = c.num_hidden_layers * 2.0 * 2.0 * c.q_dim() * pairs;
  return body * n + attention + head * logit_rows;
}

std::span<const float> Transformer::forward(std::span<const int32_t> tokens,
                                            std::span<const int32_t> positions, int B, int T,
                                            std::span<const int> rows) {
  run(tokens, positions, B, T, rows, /*keep_all_layers=*/false);
  const size_t R = rows.empty() ? size_t(T) : rows.size();
  return std::span<const float>(acts_.logits).first(size_t(B) * R * size_t(config().vocab_size));
}

std::span<const float> Transformer::forward(std::span<const int32_t> tokens, KVCache& cache,
                                            std::span<const int> rows) {
  if (!cache.fits(config())) throw Error("forward: the KV cache belongs to a model of another shape");
  const int T = int(tokens.size());
  cache.reserve(T);  // refuses a pass beyond the context, naming it
  std::vector<int32_t> positions(tokens.size());
  for (int i = 0; i < T; ++i) positions[size_t(i)] = cache.length() + i;
  run(tokens, positions, /*B=*/1, T, rows, /*keep_all_layers=*/false, {}, &cache);
  const size_t R = rows.empty() ? size_t(T) : rows.size();
  return std::span<const float>(acts_.logits).first(R * size_t(config().vocab_size));
}

std::span<const float> Transformer::forward_for_training(std::span<const int32_t> tokens,
                                                         std::span<const int32_t> positions, int B,
                                                         int T, const Dropout& dropout) {
  if (!(dropout.p >= 0.0f && dropout.p < 1.0f)) throw Error("forward: dropout probability must be in [0, 1)");
  if (packed_view_) throw Error("forward: a model with packed weights is for inference, not training");
  // The backward pass (train/backward.cpp) covers the Llama/Gemma decoder only.
  if (!config().trainable())
    throw Error("training a " + config().model_type + " model with these options is not supported");
  run(tokens, positions, B, T, {}, /*keep_all_layers=*/true, dropout);
  return std::span<const float>(acts_.logits).first(size_t(B) * T * size_t(config().vocab_size));
}

void Transformer::run(std::span<const int32_t> tokens, std::span<const int32_t> positions, int B,
                      int T, std::span<const int> rows, bool keep_all_layers, const Dropout& dropout,
                      KVCache* cache) {
  const ModelConfig& c = weights_->config;
  const WeightViews& w = packed_view_ ? *packed_view_ : weights_->view;
  if (B <= 0 || T <= 0) throw Error("forward: batch and sequence length must be positive");
  const size_t N = size_t(B) * T;
  if (tokens.size() != N || positions.size() != N)
    throw Error("forward: expected " + std::to_string(N) + " tokens and positions, got " +
                std::to_string(tokens.size()) + " and " + std::to_string(positions.size()));
  for (size_t i = 0; i < N; ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      throw Error("forward: token id " + std::to_string(tokens[i]) + " outside the vocabulary (" +
                  std::to_string(c.vocab_size) + ")");
    if (positions[i] < 0 || positions[i] >= c.max_position_embeddings)
      throw Error("forward: position " + std::to_string(positions[i]) + " outside [0, " +
                  std::to_string(c.max_position_embeddings) + ")");
  }
  for (int r : rows)
    if (r < 0 || r >= T) throw Error("forward: requested logits row " + std::to_string(r) + " outside the sequence");

  const int L = c.num_hidden_layers, d = c.hidden_size, f = c.intermediate_size;
  const int qd = c.q_dim(), kvd = c.kv_dim(), H = c.num_attention_heads;
  const size_t layers_kept = keep_all_layers ? size_t(L) : 1;
  Activations& a = acts_;
  a.B = B;
  a.T = T;
  a.keep_all_layers = keep_all_layers;
  a.dropout = dropout;
  const bool drop = dropout.p > 0.0f;  // only forward_for_training passes one
  if (drop) ensure(a.dropout_keep, size_t(L) * 2 * N * d);
  ensure(a.residual, (keep_all_layers ? size_t(L) + 1 : 1) * N * d);
  if (keep_all_layers) ensure(a.residual_mid, size_t(L) * N * d);
  ensure(a.attn_in, layers_kept * N * d);
  ensure(a.attn_inv_rms, layers_kept * N);
  ensure(a.q, layers_kept * N * qd);
  ensure(a.k, layers_kept * N * kvd);
  ensure(a.v, layers_kept * N * kvd);
  if (keep_all_layers) ensure(a.probs, size_t(L) * B * H * size_t(T) * T);
  ensure(a.attn_out, layers_kept * N * qd);
  ensure(a.mlp_in, layers_kept * N * d);
  ensure(a.mlp_inv_rms, layers_kept * N);
  ensure(a.gate, layers_kept * N * f);
  ensure(a.up, layers_kept * N * f);
  ensure(a.act, layers_kept * N * f);
  ensure(a.final_norm, N * d);
  ensure(a.final_inv_rms, N);
  ensure(mlp_scratch_, N * d);

  // Embedding: Gemma multiplies by sqrt(d) rounded to the model's dtype (as Hugging Face's
  // normalizer tensor is); GPT-2 adds the learned embedding of each position.
  float* x = a.residual.data();
  const float embed_scale = c.scale_embeddings ? round_to_dtype(std::sqrt(float(d)), c.torch_dtype) : 1.0f;
  // Rows are widened from their held type into the stream (the position's row through
  // mlp_scratch_, free until the first MLP).
  for (size_t i = 0; i < N; ++i) {
    float* xi = x + i * d;
    const ops::WeightRef e = w.embed.plus(size_t(tokens[i]) * d);
    widen_to_f32(e.data, e.dtype, size_t(d), xi);
    if (embed_scale != 1.0f)
      for (int j = 0; j < d; ++j) xi[j] *= embed_scale;
    if (w.pos_embed) {
      const ops::WeightRef pe = w.pos_embed.plus(size_t(positions[i]) * d);
      widen_to_f32(pe.data, pe.dtype, size_t(d), mlp_scratch_.data());
      for (int j = 0; j < d; ++j) xi[j] += mlp_scratch_[size_t(j)];
    }
  }
  if (c.rope.scaling != RopeScaling::kNone && rope_inv_freq_.empty()) rope_inv_freq_ = arch::rope_inv_freq(c);
  const float query_scale = c.attention.query_pre_attn_scalar > 0 ? c.attention.query_pre_attn_scalar : float(c.head_dim);
  const float score_scale = 1.0f / std::sqrt(query_scale);
  const int past = cache ? cache->length() : 0;  // earlier tokens whose keys the cache holds

  // Rows nobody reads leave the last layer after its keys and values: every row's key and
  // value is attended to, but the queries, o_proj, the MLP, the final norm and the head are
  // needed only at the R requested rows (one of T when a context's prediction is all that
  // is read). Inference only: training reads every row.
  const int R = rows.empty() ? T : int(rows.size());
  const bool narrow_last = !keep_all_layers && R < T;
  // ops::attention is the fast path; the options it lacks go through arch::attention.
  auto attend = [&](float* out, const float* q, const float* keys, const float* values, int nb, int nq, int seen,
                    int window, float* probs) {
    if ((window == 0 || window >= seen + nq) && c.attention.logit_softcap == 0 && c.attention.query_pre_attn_scalar == 0)
      ops::attention(out, q, keys, values, nb, nq, H, c.num_key_value_heads, c.head_dim, probs, seen);
    else
      arch::attention(out, q, keys, values, nb, nq, H, c.num_key_value_heads, c.head_dim, score_scale, window,
                      c.attention.logit_softcap, seen);
  };

  for (int l = 0; l < L; ++l) {
    const LayerWeights& lw = w.layers[size_t(l)];
    const size_t s = keep_all_layers ? size_t(l) : 0;  // which saved slot this layer writes
    const bool narrow = narrow_last && l == L - 1;
    const size_t Nq = narrow ? size_t(B) * R : N;  // rows past the keys and values
    // Training keeps the stream after attention (x_mid) and after the MLP (x_out) of every
    // layer for backward; inference updates one stream in place.
    float* x_mid = keep_all_layers ? a.residual_mid.data() + s * N * d : x;
    float* x_out = keep_all_layers ? x + N * d : x;
    float* attn_in = a.attn_in.data() + s * N * d;
    float* q = a.q.data() + s * N * qd;
    // Decoding writes this pass's keys and values straight into the cache, after its rows.
    float* k = cache ? cache->keys(l) + size_t(past) * kvd : a.k.data() + s * N * kvd;
    float* v = cache ? cache->values(l) + size_t(past) * kvd : a.v.data() + s * N * kvd;
    float* attn_out = a.attn_out.data() + s * N * qd;
    float* mlp_in = a.mlp_in.data() + s * N * d;
    float* gate = a.gate.data() + s * N * f;
    float* up = a.up.data() + s * N * f;
    float* act = a.act.data() + s * N * f;
    float* probs = keep_all_layers ? a.probs.data() + s * size_t(B) * H * T * T : nullptr;

    // Attention block: x + [post_norm](o_proj(attention(rope(q), rope(k), v))).
    norm(attn_in, x, lw.attn_norm, lw.attn_norm_bias, int(N), a.attn_inv_rms.data() + s * N);
    linear(k, attn_in, lw.wk, lw.bk, int(N), kvd, d);
    linear(v, attn_in, lw.wv, lw.bv, int(N), kvd, d);
    const float* q_in = attn_in;
    const int32_t* q_positions = positions.data();
    if (narrow) {  // the requested rows of the stream and of attention's input, (B, R) each
      ensure(narrow_x_, Nq * d);
      ensure(narrow_in_, Nq * d);
      narrow_positions_.resize(Nq);
      for (int b = 0; b < B; ++b)
        for (int r = 0; r < R; ++r) {
          const size_t from = size_t(b) * T + size_t(rows[size_t(r)]), to = size_t(b) * R + size_t(r);
          std::copy_n(x + from * d, d, narrow_x_.data() + to * d);
          std::copy_n(attn_in + from * d, d, narrow_in_.data() + to * d);
          narrow_positions_[to] = positions[from];
        }
      x = x_mid = x_out = narrow_x_.data();
      q_in = narrow_in_.data();
      q_positions = narrow_positions_.data();
    }
    linear(q, q_in, lw.wq, lw.bq, int(Nq), qd, d);
    if (c.position == PositionEncoding::kRoPE) {
      if (rope_inv_freq_.empty()) {
        ops::rope(q, q_positions, int(Nq), H, c.head_dim, c.rope_theta);
        ops::rope(k, positions.data(), int(N), c.num_key_value_heads, c.head_dim, c.rope_theta);
      } else {
        arch::rope(q, q_positions, int(Nq), H, c.head_dim, rope_inv_freq_.data());
        arch::rope(k, positions.data(), int(N), c.num_key_value_heads, c.head_dim, rope_inv_freq_.data());
      }
    }
    const int window = c.attention.sliding_at(l) ? c.attention.sliding_window : 0;
    const float* keys = k - size_t(past) * kvd;  // with the cache's earlier rows
    const float* values = v - size_t(past) * kvd;
    if (!narrow) {
      attend(attn_out, q, keys, values, B, T, past, window, probs);
    } else {  // each requested row is one query that sees its sequence's keys up to itself
      for (int b = 0; b < B; ++b)
        for (int r = 0; r < R; ++r) {
          const size_t i = size_t(b) * R + size_t(r), seq = size_t(b) * T * kvd;  // B is 1 with a cache
          attend(attn_out + i * qd, q + i * qd, keys + seq, values + seq, 1, 1, past + rows[size_t(r)], window, nullptr);
        }
    }
    if (drop) {  // training (no biases, no post-norms): the branch apart, then masked into the stream
      ops::matmul(mlp_scratch_.data(), attn_out, lw.wo, int(N), d, qd);
      dropout_residual(x_mid, x, mlp_scratch_.data(), a.dropout_keep.data() + (s * 2 + 0) * N * d, N * d, dropout, l, 0);
    } else {
      if (x_mid != x) std::copy(x, x + N * d, x_mid);
      residual_branch(x_mid, attn_out, lw.wo, lw.bo, lw.post_attn_norm, int(Nq), qd);
    }

    // MLP block: x_mid + [post_norm](down(act(gate(h)) * up(h))), or down(gelu(up(h))).
    norm(mlp_in, x_mid, lw.mlp_norm, lw.mlp_norm_bias, int(Nq), a.mlp_inv_rms.data() + s * N);
    linear(up, mlp_in, lw.w_up, lw.b_up, int(Nq), f, d);
    if (c.gated_mlp()) {
      linear(gate, mlp_in, lw.w_gate, lw.b_gate, int(Nq), f, d);
      ops::gated_activation(act, gate, up, Nq * f, c.gate_activation());
    } else {
      std::copy(up, up + Nq * f, act);
      arch::gelu_tanh(act, Nq * f);
    }
    if (drop) {
      ops::matmul(mlp_scratch_.data(), act, lw.w_down, int(N), d, f);
      dropout_residual(x_out, x_mid, mlp_scratch_.data(), a.dropout_keep.data() + (s * 2 + 1) * N * d, N * d, dropout, l, 1);
    } else {
      if (x_out != x_mid) std::copy(x_mid, x_mid + N * d, x_out);
      residual_branch(x_out, act, lw.w_down, lw.b_down, lw.post_mlp_norm, int(Nq), f);
    }
    x = x_out;
  }
  if (cache) cache->append(T);

  // Final norm and output head at the requested rows: final_norm holds them as (B, R, d),
  // the logits (B, R, vocab).
  ensure(a.logits, size_t(B) * R * c.vocab_size);
  if (narrow_last || rows.empty()) {  // x holds exactly those rows
    norm(a.final_norm.data(), x, w.final_norm, w.final_norm_bias, B * R, a.final_inv_rms.data());
  } else {  // as many rows as T or more (repeated, or in another order)
    norm(mlp_scratch_.data(), x, w.final_norm, w.final_norm_bias, int(N), a.final_inv_rms.data());
    ensure(a.final_norm, size_t(B) * R * d);
    for (int b = 0; b < B; ++b)
      for (int r = 0; r < R; ++r)
        std::copy_n(mlp_scratch_.data() + (size_t(b) * T + size_t(rows[size_t(r)])) * d, d,
                    a.final_norm.data() + (size_t(b) * R + size_t(r)) * d);
  }
  ops::matmul(a.logits.data(), a.final_norm.data(), w.lm_head, B * R, c.vocab_size, d);
  if (c.final_logit_softcap > 0) arch::softcap(a.logits.data(), size_t(B) * R * c.vocab_size, c.final_logit_softcap);
}

void Transformer::norm(float* y, const float* x, const float* w, const float* b, int rows, float* inv_rms) const {
  const ModelConfig& c = weights_->config;
  if (c.norm == NormKind::kLayerNorm)
    arch::layernorm(y, x, w, b, rows, c.hidden_size, c.rms_norm_eps);
  else
    ops::rmsnorm(y, x, w, rows, c.hidden_size, c.rms_norm_eps, c.norm == NormKind::kRMSNormPlusOne, inv_rms);
}

void Transformer::linear(float* y, const float* x, ops::WeightRef w, const float* b, int M, int N, int K) {
  ops::matmul(y, x, w, M, N, K);
  if (b) arch::add_bias(y, b, M, N);
}

void Transformer::residual_branch(float* x, const float* h, ops::WeightRef w, const float* b, const float* post_norm,
                                  int rows, int K) {
  const int d = weights_->config.hidden_size;
  if (!post_norm) {
    ops::matmul(x, h, w, rows, d, K, /*accumulate=*/true);
    if (b) arch::add_bias(x, b, rows, d);
    return;
  }
  // Gemma 2 norms the branch's output before adding it: it needs a buffer of its own.
  ensure(branch_, size_t(rows) * d);
  linear(branch_.data(), h, w, b, rows, d, K);
  norm(branch_.data(), branch_.data(), post_norm, nullptr, rows, nullptr);
  for (size_t i = 0; i < size_t(rows) * d; ++i) x[i] += branch_[i];
}

}  // namespace strata
