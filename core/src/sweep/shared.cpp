// The shared path: the plan's passes, a forward call at a time, each output row routed to
// its (target, context length); a target is finished, under every shared schedule, as soon
// as its last pass (start t − n_min) has run. Passes run in ascending start, so a target's
// iterations arrive from its longest context (start t − n_max) to its shortest, and only
// the targets between those starts hold state: about L + the passes of one call. See
// sweep.h and engine.h.
#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <string>

#include "engine.h"
#include "strata/error.h"

namespace strata::sweep_detail {

namespace {

// One target's predictions while its passes arrive: one per context length of the plan.
struct Slot {
  std::vector<float> v;           // (lengths, stored)
  std::vector<double> surprisal;  // (lengths)
  std::vector<double> lse;        // (lengths)
  std::vector<uint8_t> filled;    // (lengths): how many rows reached it (must end at exactly 1)
};

// A needed output row of a call: pass b's row `row` is (target index, length index).
struct Item {
  int b, row, length_index;
  size_t target;  // index into plan.targets
};

}  // namespace

void run_shared(Transformer& model, std::span<const int32_t> tokens, const SweepPlan& plan, const SweepOptions& o,
                const UpdateForm& form, const EmptyPrediction* empty, std::vector<ScheduleFinisher>& finishers,
                SweepResult& result, Progress& progress) {
  const ModelConfig& c = model.config();
  const int V = c.vocab_size, d = c.hidden_size, stored = form.stored();
  const int bos = plan.bos ? 1 : 0;
  const int n_lengths = int(plan.lengths.size());
  const double ln2 = std::log(2.0);

  // Per shared schedule, iteration k → the slot's length index (−1: the empty prediction).
  std::vector<int> length_index(size_t(plan.budget) + 1, -1);
  for (int i = 0; i < n_lengths; ++i) length_index[size_t(plan.lengths[size_t(i)])] = i;
  std::vector<std::vector<int>> route(plan.context_len.size());
  int64_t own_per_target = 0;
  for (int si : plan.shared) {
    for (int n : plan.context_len[size_t(si)]) route[size_t(si)].push_back(n == 0 ? -1 : length_index[size_t(n)]);
    own_per_target += plan.own_token_forwards_per_target[size_t(si)];
  }

  std::vector<std::unique_ptr<Slot>> pool;  // finished slots, for reuse
  auto new_slot = [&] {
    std::unique_ptr<Slot> s;
    if (pool.empty()) {
      s = std::make_unique<Slot>();
      s->v.resize(size_t(n_lengths) * stored);
      s->surprisal.resize(size_t(n_lengths));
      s->lse.resize(size_t(n_lengths));
    } else {
      s = std::move(pool.back());
      pool.pop_back();
    }
    s->filled.assign(size_t(n_lengths), 0);
    return s;
  };

  std::vector<State> states;
  auto finish = [&](size_t ti, Slot& slot) {
    const int64_t t = plan.targets[ti];
    for (int i = 0; i < n_lengths; ++i)
      if (slot.filled[size_t(i)] != 1)
        throw Error("sweep: target " + std::to_string(t) + " received " + std::to_string(slot.filled[size_t(i)]) +
                    " rows for context length " + std::to_string(plan.lengths[size_t(i)]) + " (expected 1): a routing error");
    const int32_t token = tokens[size_t(t)];
    for (int si : plan.shared) {
      states.clear();
      for (int li : route[size_t(si)])
        states.push_back(li < 0 ? empty->state_for(token)
                                : State{slot.surprisal[size_t(li)], slot.lse[size_t(li)], slot.v.data() + size_t(li) * stored});
      finishers[size_t(si)].finish(t, token, states);
    }
    progress.state.done += int64_t(plan.shared.size());
    progress.state.own_token_forwards += own_per_target;
  };

  std::vector<int32_t> input, positions;
  std::vector<Item> items;
  std::vector<char> wanted;
  std::vector<int> rows, row_at;
  for (const SweepSegment& seg : plan.segments) {
    const int64_t t_first = plan.targets[seg.first_target];
    std::vector<int64_t> index_of(size_t(plan.targets[seg.end_target - 1] - t_first + 1), -1);
    for (size_t i = seg.first_target; i < seg.end_target; ++i) index_of[size_t(plan.targets[i] - t_first)] = int64_t(i);
    std::deque<std::unique_ptr<Slot>> open;  // targets [next, next + open.size())
    size_t next = seg.first_target;
    size_t begin = 0;
    for (size_t end : seg.call_ends) {
      // The call: B passes padded to the longest, BOS first when asked.
      const int B = int(end - begin);
      int T = 0, unpadded = 0;
      for (size_t p = begin; p < end; ++p) {
        T = std::max(T, context_tokens(seg.passes[p].length, plan.bos));
        unpadded += context_tokens(seg.passes[p].length, plan.bos);
      }
      input.assign(size_t(B) * T, 0);  // padding: any token serves, the pass is causal
      positions.resize(size_t(B) * T);
      items.clear();
      wanted.assign(size_t(T), 0);
      for (int b = 0; b < B; ++b) {
        const SweepPass& pass = seg.passes[begin + size_t(b)];
        int32_t* in = input.data() + size_t(b) * T;
        if (bos) in[0] = o.bos_id;
        std::copy_n(tokens.data() + pass.start, pass.length, in + bos);
        for (int j = 0; j < T; ++j) positions[size_t(b) * T + j] = j;
        // Output row n − 1 (+ BOS) predicts x[start + n] from its n predecessors.
        for (int li = 0; li < n_lengths; ++li) {
          const int n = plan.lengths[size_t(li)];
          if (n > pass.length) break;
          const int64_t t = pass.start + n;
          if (t < t_first || t - t_first >= int64_t(index_of.size())) continue;
          const int64_t ti = index_of[size_t(t - t_first)];
          if (ti < 0) continue;
          const int row = n - 1 + bos;
          items.push_back({b, row, li, size_t(ti)});
          wanted[size_t(row)] = 1;
        }
      }
      rows.clear();
      row_at.assign(size_t(T), -1);
      for (int r = 0; r < T; ++r)
        if (wanted[size_t(r)]) row_at[size_t(r)] = int(rows.size()), rows.push_back(r);
      const bool all_rows = int(rows.size()) == T;
      const int R = all_rows ? T : int(rows.size());
      if (all_rows)
        for (int r = 0; r < T; ++r) row_at[size_t(r)] = r;

      // Slots for every target this call reaches (targets arrive in ascending order).
      for (const Item& it : items) {
        if (it.target < next) throw Error("sweep: a pass reached a target already finished: a planning error");
        while (next + open.size() <= it.target) open.push_back(new_slot());
      }
      result.peak_targets_in_flight = std::max(result.peak_targets_in_flight, int64_t(open.size()));

      const auto logits = model.forward(input, positions, B, T, all_rows ? std::span<const int>() : std::span<const int>(rows));
      const float* hidden = model.activations().final_norm.data();
      const int64_t n_items = int64_t(items.size());
#pragma omp parallel for schedule(static) if (n_items * V > kParallelWork)
      for (int64_t i = 0; i < n_items; ++i) {
        const Item& it = items[size_t(i)];
        const float* z = logits.data() + (size_t(it.b) * R + size_t(row_at[size_t(it.row)])) * V;
        Slot& slot = *open[it.target - next];
        const double lse = log_sum_exp(z, V);
        const int32_t target_token = tokens[size_t(plan.targets[it.target])];
        slot.lse[size_t(it.length_index)] = lse;
        slot.surprisal[size_t(it.length_index)] = (lse - double(z[target_token])) / ln2;
        const float* v = form.form() == GramForm::kHidden ? hidden + (size_t(it.b) * R + size_t(row_at[size_t(it.row)])) * d : z;
        std::copy_n(v, stored, slot.v.data() + size_t(it.length_index) * stored);
        ++slot.filled[size_t(it.length_index)];  // one item per (target, length): no two threads share it
      }
      result.shared.token_forwards += int64_t(B) * T;
      result.shared.padding += int64_t(B) * T - unpadded;
      result.shared.flops += double(B) * Transformer::forward_flops(c, T, R);
      result.shared.forward_calls += 1;
      result.shared.passes += B;

      // Every target whose last pass (start t − n_min) has run is complete.
      const int64_t last_start = seg.passes[end - 1].start;
      while (next < seg.end_target && plan.targets[next] - plan.lengths.front() <= last_start) {
        if (open.empty()) throw Error("sweep: target " + std::to_string(plan.targets[next]) + " got no rows: a routing error");
        finish(next, *open.front());
        pool.push_back(std::move(open.front()));
        open.pop_front();
        ++next;
      }
      progress.state.spent_token_forwards += int64_t(B) * T;
      progress.report();
      begin = end;
    }
    if (next != seg.end_target || !open.empty()) throw Error("sweep: a segment ended with unfinished targets: a planning error");
  }
  result.peak_state_bytes = std::max(result.peak_state_bytes, result.peak_targets_in_flight * plan.state_bytes_per_target);
}

}  // namespace strata::sweep_detail
