// The sweep's plan: targets (spread, strided or in blocks), which schedules take shared
// passes, the passes each segment of targets needs, how they are cut into forward calls,
// what that costs against the schedules' own cost, and cost-balanced shards. See sweep.h.
#include <algorithm>
#include <memory>
#include <numeric>
#include <string>

#include "engine.h"
#include "strata/error.h"

namespace strata {

using sweep_detail::context_tokens;

const char* gram_form_name(GramForm form) {
  switch (form) {
    case GramForm::kAuto: return "auto";
    case GramForm::kHidden: return "hidden";
    case GramForm::kVocabulary: return "vocabulary";
  }
  return "?";
}

void SweepSpent::add(const SweepSpent& o) {
  token_forwards += o.token_forwards;
  padding += o.padding;
  flops += o.flops;
  forward_calls += o.forward_calls;
  passes += o.passes;
  seconds += o.seconds;
  gram_seconds += o.gram_seconds;
}

int64_t SweepPlan::own_token_forwards() const {
  int64_t total = 0;
  for (int64_t f : own_token_forwards_per_target) total += f * int64_t(targets.size());
  return total;
}

int64_t SweepPlan::spent_token_forwards() const { return shared_cost.token_forwards + per_target_cost.token_forwards; }

// --- Targets ---------------------------------------------------------------------------

std::vector<int64_t> choose_targets(int64_t text_tokens, int budget, int64_t count, int64_t stride) {
  if (count < 1) throw Error("sweep: the number of targets must be at least 1");
  if (text_tokens <= budget)
    throw Error("sweep: the text has " + std::to_string(text_tokens) + " tokens; a budget of " +
                std::to_string(budget) + " needs more than " + std::to_string(budget));
  const int64_t available = text_tokens - budget;  // positions budget … text_tokens-1
  std::vector<int64_t> t;
  if (stride > 0) {
    for (int64_t p = budget; p < text_tokens && int64_t(t.size()) < count; p += stride) t.push_back(p);
    if (int64_t(t.size()) < count)
      throw Error("sweep: only " + std::to_string(t.size()) + " targets fit with stride " + std::to_string(stride) +
                  "; use a smaller stride or fewer targets");
    return t;
  }
  if (count > available)
    throw Error("sweep: " + std::to_string(count) + " targets requested but the text has only " +
                std::to_string(available) + " positions with a full budget of context");
  for (int64_t i = 0; i < count; ++i) t.push_back(budget + i * available / count);
  return t;
}

std::vector<int64_t> choose_blocks(int64_t text_tokens, int budget, int64_t count) {
  if (count < 1) throw Error("sweep: the number of targets must be at least 1");
  if (budget < 1) throw Error("sweep: budget L=" + std::to_string(budget) + " must be at least 1");
  const int64_t available = std::max<int64_t>(0, text_tokens - budget);
  if (count > available)
    throw Error("sweep: " + std::to_string(count) + " targets requested but the text has only " +
                std::to_string(available) + " positions with a full budget of context");
  const int64_t blocks = std::max<int64_t>(1, count / budget);
  const int64_t free = available - count;
  std::vector<int64_t> t;
  t.reserve(size_t(count));
  int64_t before = 0;  // targets in earlier blocks
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t size = count / blocks + (b < count % blocks ? 1 : 0);
    const int64_t start = budget + before + (blocks > 1 ? b * free / (blocks - 1) : 0);
    for (int64_t i = 0; i < size; ++i) t.push_back(start + i);
    before += size;
  }
  return t;
}

std::vector<std::pair<int64_t, int64_t>> target_ranges(std::span<const int64_t> targets) {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t t : targets) {
    if (!ranges.empty() && ranges.back().second == t) ++ranges.back().second;
    else ranges.push_back({t, t + 1});
  }
  return ranges;
}

// --- The plan --------------------------------------------------------------------------

namespace {

// Forward calls of consecutive passes: a call takes passes while it holds fewer than
// `batch` and, padded to its longest, at most `pass_tokens` tokens (always at least one),
// and while padding stays within a quarter of its real tokens: targets far apart give
// passes of every length in turn (256, 128, …, 1 for a hierarchical schedule), and one
// call padding them all to the longest would cost more than the schedules' own contexts.
// MPI ranks and --pieces cut the targets into shards that form other calls at their
// edges; their numbers stay one process's because, with the weights packed
// (Transformer::pack_weights), a row's result does not depend on what else its call holds.
void cut_calls(SweepSegment& seg, bool bos, int batch, int pass_tokens, SweepSpent& cost) {
  size_t count = 0;
  int longest = 0;
  int64_t tokens = 0;  // unpadded, this call
  auto close = [&](size_t end) {
    if (count == 0) return;
    seg.call_ends.push_back(end);
    const int64_t padded = int64_t(count) * longest;
    cost.token_forwards += padded;
    cost.padding += padded - tokens;
    cost.forward_calls += 1;
    cost.passes += int64_t(count);
    count = 0, longest = 0, tokens = 0;
  };
  for (size_t i = 0; i < seg.passes.size(); ++i) {
    const int len = context_tokens(seg.passes[i].length, bos);
    const int64_t padded = int64_t(count + 1) * std::max(longest, len);
    if (count > 0 && (int(count) >= batch || padded > pass_tokens || 4 * padded > 5 * (tokens + len))) close(i);
    longest = std::max(longest, len);
    tokens += len;
    ++count;
  }
  close(seg.passes.size());
}

// The passes of targets [first, end): one per start s = t − n (n in lengths), as long as
// the longest n any of its targets needs. Starts are dense in [t_first − n_max, t_last − n_min].
void plan_passes(const std::vector<int64_t>& targets, const std::vector<int>& lengths, SweepSegment& seg) {
  const int64_t lo = targets[seg.first_target] - lengths.back();
  const int64_t hi = targets[seg.end_target - 1] - lengths.front();
  std::vector<int> longest(size_t(hi - lo + 1), 0);
  for (size_t i = seg.first_target; i < seg.end_target; ++i)
    for (int n : lengths) {
      int& l = longest[size_t(targets[i] - n - lo)];
      l = std::max(l, n);
    }
  for (int64_t s = lo; s <= hi; ++s)
    if (longest[size_t(s - lo)] > 0) seg.passes.push_back({s, longest[size_t(s - lo)]});
}

// The most targets holding state at once: after call c (last start s_c), the targets
// touched (t − n_max <= s_c) and not finished before it (t − n_min > s_{c−1}).
int64_t peak_in_flight(const std::vector<int64_t>& targets, const std::vector<int>& lengths, const SweepSegment& seg) {
  const auto first = targets.begin() + std::ptrdiff_t(seg.first_target), end = targets.begin() + std::ptrdiff_t(seg.end_target);
  int64_t peak = 0, previous_last = INT64_MIN / 2;
  for (size_t e : seg.call_ends) {
    const int64_t last = seg.passes[e - 1].start;
    const auto touched = std::upper_bound(first, end, last + lengths.back());
    const auto finished = std::upper_bound(first, end, previous_last + lengths.front());
    peak = std::max<int64_t>(peak, touched - finished);
    previous_last = last;
  }
  return peak;
}

}  // namespace

SweepPlan plan_sweep(const ModelConfig& config, int64_t text_tokens, const SweepOptions& o) {
  if (o.batch < 1) throw Error("sweep: batch must be at least 1");
  if (o.pass_tokens < 1) throw Error("sweep: pass_tokens must be at least 1");
  if (o.schedules.empty()) throw Error("sweep: no schedules given");
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (const auto& spec : o.schedules) schedules.push_back(make_schedule(spec));
  // The budget against each schedule and the model first (t = budget always has enough
  // history), so a bad budget is reported as such rather than as a text too short for it.
  for (const auto& s : schedules) validate_budget(*s, o.budget, config.max_position_embeddings, o.budget,
                                                  config.position == PositionEncoding::kRoPE, o.bos);
  if ((o.with_empty || o.bos) && (o.bos_id < 0 || o.bos_id >= config.vocab_size))
    throw Error(std::string("sweep: ") + (o.bos ? "BOS before every context" : "the empty-context iteration") +
                " needs a BOS token in the vocabulary");

  SweepPlan plan;
  plan.budget = o.budget;
  plan.bos = o.bos;
  plan.with_empty = o.with_empty;
  if (o.positions.empty()) {
    plan.targets = choose_targets(text_tokens, o.budget, o.targets, o.stride);
  } else {
    for (size_t i = 0; i < o.positions.size(); ++i) {
      const int64_t t = o.positions[i];
      if (t < o.budget || t >= text_tokens)
        throw Error("sweep: target position " + std::to_string(t) + " is outside [" + std::to_string(o.budget) + ", " +
                    std::to_string(text_tokens) + "): it needs a full budget of context and a token to predict");
      if (i > 0 && t <= o.positions[i - 1]) throw Error("sweep: explicit target positions must be strictly ascending");
    }
    plan.targets = o.positions;
  }

  // Which path each schedule takes, its shape and its own cost.
  std::vector<bool> needed(size_t(o.budget) + 1, false);
  for (size_t si = 0; si < schedules.size(); ++si) {
    const Schedule& s = *schedules[si];
    std::vector<int> lens;
    for (const ContextSet& c : s.contexts(o.budget, o.budget, o.with_empty)) lens.push_back(c.size());
    int64_t forwards = 0;
    double flops = 0;
    for (int n : lens) {
      forwards += context_tokens(n, o.bos);
      flops += Transformer::forward_flops(config, context_tokens(n, o.bos));
    }
    plan.context_len.push_back(lens);
    plan.own_token_forwards_per_target.push_back(forwards);
    plan.own_flops_per_target.push_back(flops);
    const bool contiguous = s.contiguous(o.budget);
    if (o.prefix_sharing && contiguous) {
      plan.shared.push_back(int(si));
      for (int n : lens)
        if (n > 0) needed[size_t(n)] = true;
    } else {
      plan.per_target.push_back(int(si));
      plan.why_per_target.push_back(!contiguous ? "its windows are not the most recent tokens (sparse), so no causal pass "
                                                  "over a stretch of text computes them"
                                                : "prefix sharing is off");
      // The empty iteration is one call for the whole sweep (below), not one per target.
      const int windows = int(lens.size()) - (o.with_empty ? 1 : 0);
      const int64_t n_targets = int64_t(plan.targets.size());
      plan.per_target_cost.token_forwards += (forwards - (o.with_empty ? 1 : 0)) * n_targets;
      plan.per_target_cost.flops +=
          (flops - (o.with_empty ? Transformer::forward_flops(config, 1) : 0.0)) * double(n_targets);
      plan.per_target_cost.forward_calls += int64_t(windows) * ((n_targets + o.batch - 1) / o.batch);
      plan.per_target_cost.passes += int64_t(windows) * n_targets;
    }
  }
  if (o.with_empty) {  // BOS alone: the same prediction for every target and schedule
    SweepSpent& c = plan.shared.empty() ? plan.per_target_cost : plan.shared_cost;
    c.token_forwards += 1, c.flops += Transformer::forward_flops(config, 1), c.forward_calls += 1, c.passes += 1;
  }
  // The vocabulary form stores the logits of every prediction kept, the hidden form h.
  const GramForm form = o.gram_form != GramForm::kAuto ? o.gram_form
                        : Transformer::logits_affine_in_hidden(config) ? GramForm::kHidden
                                                                       : GramForm::kVocabulary;
  const int64_t stored = form == GramForm::kHidden ? config.hidden_size : config.vocab_size;
  // The per-target path keeps a batch's predictions until its targets finish: as many
  // targets as fit the memory budget.
  for (int si : plan.per_target) {
    const int64_t bytes_per_target = int64_t(plan.context_len[size_t(si)].size()) * stored * 4;
    plan.per_target_batch.push_back(int(std::clamp<int64_t>(o.memory_budget / std::max<int64_t>(bytes_per_target, 1), 1, o.batch)));
  }
  if (plan.shared.empty()) return plan;
  for (int n = 1; n <= o.budget; ++n)
    if (needed[size_t(n)]) plan.lengths.push_back(n);

  // State per target in flight: per context length, the prediction's stored floats, its
  // surprisal and log-sum-exp, and a flag.
  plan.state_bytes_per_target = int64_t(plan.lengths.size()) * (stored * 4 + 8 + 8 + 1);
  const int64_t natural_in_flight = int64_t(o.budget) + o.batch;
  if (plan.state_bytes_per_target * natural_in_flight > o.memory_budget)
    plan.max_block_targets = std::max<int64_t>(1, o.memory_budget / plan.state_bytes_per_target);

  // Segments: targets whose starts can coincide (gap <= n_max − n_min) stay together,
  // unless memory cuts them into blocks.
  const int64_t reach = plan.lengths.back() - plan.lengths.front();
  size_t first = 0;
  for (size_t i = 1; i <= plan.targets.size(); ++i) {
    const bool cut = i == plan.targets.size() || plan.targets[i] - plan.targets[i - 1] > reach ||
                     (plan.max_block_targets > 0 && int64_t(i - first) >= plan.max_block_targets);
    if (!cut) continue;
    SweepSegment seg;
    seg.first_target = first;
    seg.end_target = i;
    plan_passes(plan.targets, plan.lengths, seg);
    cut_calls(seg, o.bos, o.batch, o.pass_tokens, plan.shared_cost);
    plan.max_targets_in_flight = std::max(plan.max_targets_in_flight, peak_in_flight(plan.targets, plan.lengths, seg));
    plan.segments.push_back(std::move(seg));
    first = i;
  }
  return plan;
}

// --- Shards ----------------------------------------------------------------------------

std::vector<std::vector<int64_t>> shard_targets(const SweepPlan& plan, int count) {
  if (count < 1) throw Error("sweep: at least one shard");
  const size_t n = plan.targets.size();
  // Each pass's tokens are charged to the farthest target it serves, the per-target
  // schedules' cost to every target alike.
  std::vector<double> cost(n, 0.0);
  int64_t per_target = 0;
  for (int si : plan.per_target) per_target += plan.own_token_forwards_per_target[size_t(si)];
  for (size_t i = 0; i < n; ++i) cost[i] = double(per_target);
  for (const SweepSegment& seg : plan.segments)
    for (const SweepPass& p : seg.passes) {
      const auto it = std::lower_bound(plan.targets.begin(), plan.targets.end(), p.start + p.length);
      if (it != plan.targets.end()) cost[size_t(it - plan.targets.begin())] += context_tokens(p.length, plan.bos);
    }
  const double total = std::accumulate(cost.begin(), cost.end(), 0.0);
  // Per-target schedules: shards hold whole batches (their least common multiple), so that
  // with SweepOptions::first_target every forward call holds the targets it holds in one sweep.
  size_t align = 1;
  for (int b : plan.per_target_batch) align = std::lcm(align, size_t(b));
  std::vector<std::vector<int64_t>> shards;
  double done = 0;
  size_t i = 0;
  for (int k = 0; k < count && i < n; ++k) {
    const double goal = total * double(k + 1) / double(count);
    std::vector<int64_t> shard;
    while (i < n && (shard.empty() || done + cost[i] / 2 <= goal || k + 1 == count || i % align != 0)) {
      done += cost[i];
      shard.push_back(plan.targets[i++]);
    }
    shards.push_back(std::move(shard));
  }
  return shards;
}

}  // namespace strata
