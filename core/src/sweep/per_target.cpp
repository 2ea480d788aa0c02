// The per-target path: a batch of targets at a time, iteration k of every target in one
// forward call (the contexts of one iteration have the same length for every target:
// schedules are translation invariant), logits at the last row only. For sparse windows
// (dilated, custom offsets) and for checking the shared path. See sweep.h and engine.h.
#include <algorithm>
#include <cmath>
#include <memory>

#include "engine.h"
#include "strata/error.h"

namespace strata::sweep_detail {

void run_per_target(Transformer& model, std::span<const int32_t> tokens, const SweepPlan& plan, const SweepOptions& o,
                    int si, const UpdateForm& form, const EmptyPrediction* empty, ScheduleFinisher& finisher,
                    SweepResult& result, Progress& progress) {
  const ModelConfig& c = model.config();
  const int V = c.vocab_size, d = c.hidden_size, stored = form.stored();
  const int bos = plan.bos ? 1 : 0;
  const double ln2 = std::log(2.0);
  const std::unique_ptr<Schedule> schedule = make_schedule(o.schedules[size_t(si)]);
  const int K = int(plan.context_len[size_t(si)].size());
  const int64_t n_targets = int64_t(plan.targets.size());
  const int64_t own_per_target = plan.own_token_forwards_per_target[size_t(si)];
  // A batch's predictions are kept until its targets finish: as many as fit the memory budget.
  const size_t entry = size_t(std::find(plan.per_target.begin(), plan.per_target.end(), si) - plan.per_target.begin());
  const int batch = plan.per_target_batch.at(entry);

  std::vector<float> v(size_t(batch) * K * stored);
  std::vector<double> surprisal(size_t(batch) * K), lse(size_t(batch) * K);
  std::vector<std::vector<ContextSet>> contexts;
  std::vector<int32_t> input, positions;
  std::vector<State> states;
  for (int64_t t0 = 0; t0 < n_targets;) {
    // Batches start on multiples of the batch in the numbering of the whole sweep this may be
    // a shard of (SweepOptions::first_target): a call's rows may differ in their last bits
    // with the call's shape, so a shard's calls hold exactly the targets the whole sweep's do.
    const int B = int(std::min<int64_t>(batch - (o.first_target + t0) % batch, n_targets - t0));
    contexts.clear();
    for (int b = 0; b < B; ++b) contexts.push_back(schedule->contexts(plan.targets[size_t(t0 + b)], plan.budget, plan.with_empty));
    for (int k = 0; k < K; ++k) {
      const int n = contexts[0][size_t(k)].size();
      if (n == 0) continue;  // the empty iteration: one prediction for every target (below)
      const int T = n + bos;
      input.resize(size_t(B) * T);
      positions.resize(size_t(B) * T);
      for (int b = 0; b < B; ++b) {
        const ContextSet& ctx = contexts[size_t(b)][size_t(k)];
        int32_t* in = input.data() + size_t(b) * T;
        int32_t* pos = positions.data() + size_t(b) * T;
        if (bos) in[0] = o.bos_id, pos[0] = 0;
        for (int i = 0; i < n; ++i) {
          in[bos + i] = tokens[size_t(ctx.positions[size_t(i)])];
          pos[bos + i] = ctx.position_ids[size_t(i)] + bos;
        }
      }
      const int last[1] = {T - 1};
      const auto logits = model.forward(input, positions, B, T, last);
      const float* hidden = model.activations().final_norm.data();
#pragma omp parallel for schedule(static) if (int64_t(B) * V > kParallelWork)
      for (int b = 0; b < B; ++b) {
        const float* z = logits.data() + size_t(b) * V;
        const size_t at = size_t(b) * K + k;
        lse[at] = log_sum_exp(z, V);
        surprisal[at] = (lse[at] - double(z[tokens[size_t(plan.targets[size_t(t0 + b)])]])) / ln2;
        const float* src = form.form() == GramForm::kHidden ? hidden + size_t(b) * d : z;
        std::copy_n(src, stored, v.data() + at * stored);
      }
      result.per_target.token_forwards += int64_t(B) * T;
      result.per_target.flops += double(B) * Transformer::forward_flops(c, T);
      result.per_target.forward_calls += 1;
      result.per_target.passes += B;
      progress.state.spent_token_forwards += int64_t(B) * T;
      progress.report();
    }
    for (int b = 0; b < B; ++b) {
      const int64_t t = plan.targets[size_t(t0 + b)];
      const int32_t token = tokens[size_t(t)];
      states.clear();
      for (int k = 0; k < K; ++k) {
        const size_t at = size_t(b) * K + k;
        if (contexts[size_t(b)][size_t(k)].empty()) states.push_back(empty->state_for(token));
        else states.push_back({surprisal[at], lse[at], v.data() + at * stored});
      }
      finisher.finish(t, token, states);
      progress.state.done += 1;
      progress.state.own_token_forwards += own_per_target;
    }
    progress.report();
    t0 += B;
  }
}

}  // namespace strata::sweep_detail
