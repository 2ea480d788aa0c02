// The sweep's parts, internal to core/src/sweep/: how one iteration's prediction is kept
// (a State: surprisal, log-sum-exp and either the final hidden state or the logits), how a
// target's states become rows, statistics and Gram updates (ScheduleFinisher, GramSink),
// and the two paths that produce the states (shared passes, per target). See sweep.h.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "strata/model.h"
#include "strata/sweep.h"

namespace strata::sweep_detail {

// --- Cost of one schedule, iteration by iteration -------------------------------------

// The tokens one context of `window` tokens puts through the model: the window and the
// BOS before it, or BOS alone for the empty iteration.
inline int context_tokens(int window, bool bos) { return window == 0 ? 1 : window + (bos ? 1 : 0); }

// log Σ exp(z_v) over one row of logits, in double.
// Work (exponentials) below which a loop of rows stays on one thread: a parallel region
// costs more than it saves on a few short rows, and much more on a loaded machine.
constexpr int64_t kParallelWork = int64_t(1) << 17;
double log_sum_exp(const float* z, int n);

// --- What an iteration's prediction leaves behind -------------------------------------

// How a prediction is stored for the Gram matrix, and how two stored predictions become
// an update vector u = log p_k − log p_{k−1} in coordinates where ⟨u_i, u_j⟩ is the dot
// product of the vocabulary form:
//  * kHidden: v = the final normalised hidden state h (d floats). With Ŵ = [W, −1] and
//    δa = (δh, δlse), u = Ŵ·δa, so ⟨u_i, u_j⟩ = δa_iᵀ M̂ δa_j, M̂ = ŴᵀŴ = [[WᵀW, −Wᵀ1],
//    [−1ᵀW, V]], formed once in double. R with RᵀR = M̂ (from its eigendecomposition,
//    dropping null directions) maps δa to r ≤ d+1 coordinates: y = R·δa.
//  * kVocabulary: v = the logits z (V floats); u_v = δz_v − δlse, V coordinates.
// The differences δv and δlse are taken in double (exact for floats) before the products.
class UpdateForm {
 public:
  UpdateForm(const Transformer& model, GramForm form);  // form: kHidden or kVocabulary

  GramForm form() const { return form_; }
  int stored() const { return stored_; }  // floats kept per prediction: d or V
  int dims() const { return dims_; }      // coordinates of one update: r or V

  // One update from predictions a (earlier) and b: `stored()+1` raw differences
  // (δv, δlse) into `raw` (kHidden), or the `dims()` coordinates themselves (kVocabulary).
  int raw_size() const { return form_ == GramForm::kHidden ? stored_ + 1 : dims_; }
  void raw_update(const float* va, double lse_a, const float* vb, double lse_b, float* raw) const;
  // (m, raw_size()) → (m, dims()): y = R·raw for kHidden, a copy for kVocabulary.
  void transform(const float* raw, int m, float* out) const;

 private:
  GramForm form_;
  int stored_ = 0, dims_ = 0;
  std::vector<float> r_;  // kHidden: (dims, stored+1) row-major, R with RᵀR = M̂
};

// One iteration's prediction for one target. `v` points at stored() floats.
struct State {
  double surprisal = 0;  // bits
  double lse = 0;        // log Σ exp(logits)
  const float* v = nullptr;
};

// --- From states to statistics --------------------------------------------------------

// The Gram matrix of one schedule's updates, fed target by target (in ascending order) and
// accumulated in blocks of targets: one transform and one product per block.
class GramSink {
 public:
  GramSink(const UpdateForm& form, int columns);  // columns: K − 1
  void add(std::span<const State> states);       // one target's K states, in iteration order
  void flush(StreamingGram& gram);                // the pending targets into `gram`
  bool full() const { return pending_ == capacity_; }
  double seconds() const { return seconds_; }

 private:
  const UpdateForm& form_;
  int columns_ = 0, capacity_ = 0, pending_ = 0;
  std::vector<float> raw_;       // (capacity, columns, raw_size)
  std::vector<float> coords_;    // (capacity, columns, dims)
  std::vector<float> by_column_; // (columns, pending · dims): StreamingGram::add_targets' layout
  double seconds_ = 0;
};

// Everything that happens to a finished target under one schedule: its rows (with the
// schedule's own cumulative cost), its surprisals into the statistics, its final
// surprisal, its updates into the Gram matrix.
class ScheduleFinisher {
 public:
  ScheduleFinisher(ScheduleSweep& out, int index, const UpdateForm& form, const ModelConfig& config, bool bos,
                   const std::function<void(const SweepRow&)>& on_row);
  // states: one per iteration of out.context_len.
  void finish(int64_t t, int32_t token, std::span<const State> states);
  void close();  // flushes the Gram matrix
  double gram_seconds() const { return gram_.seconds(); }
  int iterations() const { return int(out_.context_len.size()); }
  int64_t own_token_forwards_per_target() const { return cumulative_forwards_.back(); }

 private:
  ScheduleSweep& out_;
  int index_;
  GramSink gram_;
  std::vector<int64_t> cumulative_forwards_;
  std::vector<double> cumulative_flops_;
  const std::function<void(const SweepRow&)>& on_row_;
};

// --- The two paths --------------------------------------------------------------------

struct Progress {
  SweepProgress state;
  const std::function<void(const SweepProgress&)>* callback = nullptr;
  void report() const {
    if (callback && *callback) (*callback)(state);
  }
};

// The empty-context prediction (BOS alone at position 0): the same for every target, so
// one forward call. Its logits stay, for each target's surprisal.
struct EmptyPrediction {
  std::vector<float> logits;  // V
  std::vector<float> v;       // UpdateForm::stored()
  double lse = 0;
  State state_for(int32_t token) const;
};
EmptyPrediction predict_empty(Transformer& model, const UpdateForm& form, int32_t bos_id, SweepSpent& spent);

// The shared path: every schedule of plan.shared, every target, from the plan's passes.
// finishers: indexed like options.schedules (only plan.shared ones used).
void run_shared(Transformer& model, std::span<const int32_t> tokens, const SweepPlan& plan, const SweepOptions& options,
                const UpdateForm& form, const EmptyPrediction* empty, std::vector<ScheduleFinisher>& finishers,
                SweepResult& result, Progress& progress);

// The per-target path for schedule `si`: batches of targets, one forward call per iteration.
void run_per_target(Transformer& model, std::span<const int32_t> tokens, const SweepPlan& plan, const SweepOptions& options,
                    int si, const UpdateForm& form, const EmptyPrediction* empty, ScheduleFinisher& finisher,
                    SweepResult& result, Progress& progress);

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace strata::sweep_detail
