// From an iteration's prediction to the statistics: the update form (hidden or
// vocabulary), the Gram matrix in blocks of targets, and the rows and means of a finished
// target. See engine.h.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>

#include "engine.h"
#include "strata/error.h"
#include "strata/ops.h"

namespace strata::sweep_detail {

double log_sum_exp(const float* z, int n) {
  float mx = z[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, z[i]);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(z[i]) - double(mx));
  return double(mx) + std::log(sum);
}

// --- UpdateForm ------------------------------------------------------------------------

UpdateForm::UpdateForm(const Transformer& model, GramForm form) : form_(form) {
  const ModelConfig& c = model.config();
  const int V = c.vocab_size, d = c.hidden_size;
  if (form == GramForm::kVocabulary) {
    stored_ = dims_ = V;
    return;
  }
  if (form != GramForm::kHidden) throw Error("sweep: the Gram form must be resolved before use");
  if (!model.logits_affine_in_hidden())
    throw Error("sweep: the hidden-state Gram form needs logits affine in the final hidden state; this model's are not");
  stored_ = d;
  // M̂ = ŴᵀŴ with Ŵ = [W, −1], in double, the head read in blocks of rows (a 256k-token
  // vocabulary in double at once would be gigabytes), each widened from its held type.
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const ops::WeightRef W = model.weights().view.lm_head;
  Eigen::MatrixXd m_hat = Eigen::MatrixXd::Zero(d + 1, d + 1);
  constexpr int kBlock = 4096;
  RowMajorF block(std::min(kBlock, V), d);
  for (int v0 = 0; v0 < V; v0 += kBlock) {
    const int rows = std::min(kBlock, V - v0);
    const ops::WeightRef w = W.plus(size_t(v0) * d);
    widen_to_f32(w.data, w.dtype, size_t(rows) * d, block.data());
    Eigen::MatrixXd w_hat(rows, d + 1);
    w_hat.leftCols(d) = block.topRows(rows).cast<double>();
    w_hat.col(d).setConstant(-1.0);
    m_hat.selfadjointView<Eigen::Lower>().rankUpdate(w_hat.transpose());
  }
  m_hat = m_hat.selfadjointView<Eigen::Lower>();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(m_hat);
  if (eig.info() != Eigen::Success) throw Error("sweep: the eigendecomposition of the head's Gram matrix failed");
  const Eigen::VectorXd& lambda = eig.eigenvalues();  // ascending
  const double floor = 1e-13 * std::max(lambda(d), 0.0);
  std::vector<int> kept;
  for (int i = d; i >= 0; --i)
    if (lambda(i) > floor) kept.push_back(i);
  dims_ = int(kept.size());
  if (dims_ == 0) dims_ = 1, kept.push_back(d);  // an all-zero head: every update is 0
  r_.assign(size_t(dims_) * (d + 1), 0.0f);
  for (int row = 0; row < dims_; ++row) {
    const int i = kept[size_t(row)];
    const double s = std::sqrt(std::max(lambda(i), 0.0));
    for (int j = 0; j <= d; ++j) r_[size_t(row) * (d + 1) + j] = float(s * eig.eigenvectors()(j, i));
  }
}

void UpdateForm::raw_update(const float* va, double lse_a, const float* vb, double lse_b, float* raw) const {
  const double dlse = lse_b - lse_a;
  if (form_ == GramForm::kHidden) {
    for (int i = 0; i < stored_; ++i) raw[i] = float(double(vb[i]) - double(va[i]));
    raw[stored_] = float(dlse);
  } else {
    for (int i = 0; i < stored_; ++i) raw[i] = float(double(vb[i]) - double(va[i]) - dlse);
  }
}

void UpdateForm::transform(const float* raw, int m, float* out) const {
  if (m == 0) return;
  if (form_ == GramForm::kHidden) ops::matmul(out, raw, r_.data(), m, dims_, stored_ + 1);
  else std::copy_n(raw, size_t(m) * dims_, out);
}

// --- GramSink --------------------------------------------------------------------------

namespace {
// Floats per buffer of a Gram block: targets are gathered until one buffer would hold
// more, so a block's product is large enough to run near the kernels' speed and its
// buffers stay small (8 MB each).
constexpr int64_t kGramBlockFloats = int64_t(1) << 21;
constexpr int kGramMaxBlockTargets = 256;
}  // namespace

GramSink::GramSink(const UpdateForm& form, int columns) : form_(form), columns_(columns) {
  if (columns_ <= 0) return;
  const int64_t per_target = int64_t(columns_) * std::max(form.raw_size(), form.dims());
  capacity_ = int(std::clamp<int64_t>(kGramBlockFloats / per_target, 1, kGramMaxBlockTargets));
}

void GramSink::add(std::span<const State> states) {
  if (columns_ <= 0) return;
  if (int(states.size()) != columns_ + 1) throw Error("sweep: a target with the wrong number of iterations for its Gram matrix");
  const auto start = std::chrono::steady_clock::now();
  const size_t raw = size_t(form_.raw_size());
  if (raw_.empty()) raw_.resize(size_t(capacity_) * columns_ * raw);
  float* out = raw_.data() + size_t(pending_) * columns_ * raw;
  for (int k = 1; k <= columns_; ++k)
    form_.raw_update(states[size_t(k - 1)].v, states[size_t(k - 1)].lse, states[size_t(k)].v, states[size_t(k)].lse,
                     out + size_t(k - 1) * raw);
  ++pending_;
  seconds_ += seconds_since(start);
}

void GramSink::flush(StreamingGram& gram) {
  if (pending_ == 0) return;
  const auto start = std::chrono::steady_clock::now();
  const size_t dims = size_t(form_.dims());
  const size_t m = size_t(pending_) * columns_;  // update vectors, target-major
  coords_.resize(m * dims);
  form_.transform(raw_.data(), int(m), coords_.data());
  // (target, k, dims) → (k, target·dims): row k of the block is the k-th update of every
  // pending target, so one product adds all of them.
  by_column_.resize(m * dims);
  for (int p = 0; p < pending_; ++p)
    for (int k = 0; k < columns_; ++k)
      std::copy_n(coords_.data() + (size_t(p) * columns_ + k) * dims, dims,
                  by_column_.data() + (size_t(k) * pending_ + p) * dims);
  gram.add_targets(std::span<const float>(by_column_.data(), m * dims), int64_t(pending_) * int64_t(dims), pending_);
  pending_ = 0;
  seconds_ += seconds_since(start);
}

// --- ScheduleFinisher ------------------------------------------------------------------

ScheduleFinisher::ScheduleFinisher(ScheduleSweep& out, int index, const UpdateForm& form, const ModelConfig& config, bool bos,
                                   const std::function<void(const SweepRow&)>& on_row)
    : out_(out), index_(index), gram_(form, int(out.context_len.size()) - 1), on_row_(on_row) {
  int64_t forwards = 0;
  double flops = 0;
  for (int n : out.context_len) {
    const int tokens = context_tokens(n, bos);
    forwards += tokens;
    flops += Transformer::forward_flops(config, tokens);
    cumulative_forwards_.push_back(forwards);
    cumulative_flops_.push_back(flops);
  }
}

void ScheduleFinisher::finish(int64_t t, int32_t token, std::span<const State> states) {
  const int K = iterations();
  if (int(states.size()) != K) throw Error("sweep: a target finished with the wrong number of iterations");
  for (int k = 0; k < K; ++k) {
    const double s = states[size_t(k)].surprisal;
    if (!std::isfinite(s))
      throw Error("sweep: a non-finite surprisal for target " + std::to_string(t) + " under " + out_.name + ", iteration " +
                  std::to_string(k) + " (the model's logits are not finite)");
    out_.surprisal.add(k, s);
    if (on_row_)
      on_row_({t, token, index_, k, out_.context_len[size_t(k)], s, cumulative_forwards_[size_t(k)], cumulative_flops_[size_t(k)]});
  }
  out_.final_surprisal.push_back(states.back().surprisal);
  out_.token_forwards += cumulative_forwards_.back();
  out_.flops += cumulative_flops_.back();
  gram_.add(states);
  if (gram_.full()) gram_.flush(out_.gram);
}

void ScheduleFinisher::close() { gram_.flush(out_.gram); }

// --- The empty prediction --------------------------------------------------------------

State EmptyPrediction::state_for(int32_t token) const {
  return {(lse - double(logits[size_t(token)])) / std::log(2.0), lse, v.data()};
}

EmptyPrediction predict_empty(Transformer& model, const UpdateForm& form, int32_t bos_id, SweepSpent& spent) {
  const int V = model.config().vocab_size, d = model.config().hidden_size;
  const int32_t token[1] = {bos_id}, position[1] = {0};
  const int row[1] = {0};
  const auto logits = model.forward(token, position, 1, 1, row);
  EmptyPrediction e;
  e.logits.assign(logits.begin(), logits.begin() + V);
  e.lse = log_sum_exp(e.logits.data(), V);
  if (form.form() == GramForm::kHidden) e.v.assign(model.activations().final_norm.begin(), model.activations().final_norm.begin() + d);
  else e.v = e.logits;
  spent.token_forwards += 1;
  spent.flops += Transformer::forward_flops(model.config(), 1);
  spent.forward_calls += 1;
  spent.passes += 1;
  return e;
}

}  // namespace strata::sweep_detail
