// run_sweep: the plan, the update form, the empty prediction, then the shared path and
// the per-target path, each finishing its targets into the schedules' statistics; and
// the merge of sweeps of consecutive target ranges. See sweep.h.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "engine.h"
#include "strata/error.h"

namespace strata {

using namespace sweep_detail;

SweepSpent SweepResult::spent() const {
  SweepSpent s = shared;
  s.add(per_target);
  return s;
}

void SweepResult::merge(const SweepResult& later) {
  if (later.schedules.size() != schedules.size()) throw Error("sweep merge: the two sweeps have different schedules");
  if (!targets.empty() && !later.targets.empty() && later.targets.front() <= targets.back())
    throw Error("sweep merge: the later sweep's targets must all come after this one's");
  for (size_t i = 0; i < schedules.size(); ++i) {
    ScheduleSweep& a = schedules[i];
    const ScheduleSweep& b = later.schedules[i];
    if (a.name != b.name || a.context_len != b.context_len || a.shared != b.shared)
      throw Error("sweep merge: schedule " + std::to_string(i) + " differs (" + a.name + ", " + b.name + ")");
    a.surprisal.merge(b.surprisal);
    a.final_surprisal.insert(a.final_surprisal.end(), b.final_surprisal.begin(), b.final_surprisal.end());
    a.gram.merge(b.gram);
    a.token_forwards += b.token_forwards;
    a.flops += b.flops;
    a.seconds += b.seconds;
  }
  targets.insert(targets.end(), later.targets.begin(), later.targets.end());
  shared.add(later.shared);
  per_target.add(later.per_target);
  peak_targets_in_flight = std::max(peak_targets_in_flight, later.peak_targets_in_flight);
  peak_state_bytes = std::max(peak_state_bytes, later.peak_state_bytes);
}

SweepResult run_sweep(Transformer& model, std::span<const int32_t> tokens, const SweepOptions& o,
                      const std::function<void(const SweepRow&)>& on_row,
                      const std::function<void(const SweepProgress&)>& progress_callback) {
  const auto start = std::chrono::steady_clock::now();
  const SweepPlan plan = plan_sweep(model.config(), int64_t(tokens.size()), o);
  const GramForm form = o.gram_form != GramForm::kAuto ? o.gram_form
                        : model.logits_affine_in_hidden()  ? GramForm::kHidden
                                                           : GramForm::kVocabulary;
  const UpdateForm update_form(model, form);

  SweepResult result;
  result.targets = plan.targets;
  result.gram_form = form;
  result.schedules.resize(o.schedules.size());
  std::vector<ScheduleFinisher> finishers;
  finishers.reserve(o.schedules.size());
  for (size_t si = 0; si < o.schedules.size(); ++si) {
    ScheduleSweep& s = result.schedules[si];
    s.name = make_schedule(o.schedules[si])->name();
    s.shared = std::find(plan.shared.begin(), plan.shared.end(), int(si)) != plan.shared.end();
    s.context_len = plan.context_len[si];
    const int K = int(s.context_len.size());
    s.surprisal = SeriesAccumulator(K);
    s.gram = StreamingGram(K - 1);
    finishers.emplace_back(s, int(si), update_form, model.config(), o.bos, on_row);
  }

  Progress progress;
  progress.callback = &progress_callback;
  progress.state.planned_token_forwards = plan.spent_token_forwards();
  progress.state.total = int64_t(plan.targets.size()) * int64_t(o.schedules.size());

  std::optional<EmptyPrediction> empty;
  if (o.with_empty) {
    empty = predict_empty(model, update_form, o.bos_id, plan.shared.empty() ? result.per_target : result.shared);
    progress.state.spent_token_forwards += 1;
  }
  if (!plan.shared.empty()) {
    run_shared(model, tokens, plan, o, update_form, empty ? &*empty : nullptr, finishers, result, progress);
    for (int si : plan.shared) {
      finishers[size_t(si)].close();
      result.shared.gram_seconds += finishers[size_t(si)].gram_seconds();
    }
    result.shared.seconds = seconds_since(start);
  }
  for (int si : plan.per_target) {
    const auto t = std::chrono::steady_clock::now();
    run_per_target(model, tokens, plan, o, si, update_form, empty ? &*empty : nullptr, finishers[size_t(si)], result, progress);
    finishers[size_t(si)].close();
    result.schedules[size_t(si)].seconds = seconds_since(t);
    result.per_target.seconds += result.schedules[size_t(si)].seconds;
    result.per_target.gram_seconds += finishers[size_t(si)].gram_seconds();
  }
  return result;
}

}  // namespace strata
