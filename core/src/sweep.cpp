// Batched, streamed sweeps of schedules over a text.
#include "strata/sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "strata/error.h"
#include "strata/inference.h"

namespace strata {

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

SweepResult run_sweep(Transformer& model, std::span<const int32_t> tokens, const SweepOptions& o,
                      const std::function<void(const SweepRow&)>& on_row,
                      const std::function<void(int64_t, int64_t)>& progress) {
  const ModelConfig& c = model.config();
  const int V = c.vocab_size;
  if (o.batch < 1) throw Error("sweep: batch must be at least 1");
  if (o.schedules.empty()) throw Error("sweep: no schedules given");
  std::vector<std::unique_ptr<Schedule>> schedules;
  for (const auto& spec : o.schedules) schedules.push_back(make_schedule(spec));
  // The budget against each schedule and the model first (t = budget always has enough
  // history), so a bad budget is reported as such rather than as a text too short for it.
  for (const auto& s : schedules) validate_budget(*s, o.budget, c.max_position_embeddings, o.budget, c.position == PositionEncoding::kRoPE);
  SweepResult result;
  if (o.positions.empty()) {
    result.targets = choose_targets(int64_t(tokens.size()), o.budget, o.targets, o.stride);
  } else {
    for (size_t i = 0; i < o.positions.size(); ++i) {
      const int64_t t = o.positions[i];
      if (t < o.budget || t >= int64_t(tokens.size()))
        throw Error("sweep: target position " + std::to_string(t) + " is outside [" + std::to_string(o.budget) +
                    ", " + std::to_string(tokens.size()) + "): it needs a full budget of context and a token to predict");
      if (i > 0 && t <= o.positions[i - 1]) throw Error("sweep: explicit target positions must be strictly ascending");
    }
    result.targets = o.positions;
  }
  if (o.with_empty && (o.bos_id < 0 || o.bos_id >= V))
    throw Error("sweep: the empty-context iteration needs a BOS token in the vocabulary");

  const int64_t n_targets = int64_t(result.targets.size());
  const int64_t total = n_targets * int64_t(schedules.size());
  int64_t done = 0;
  std::vector<int32_t> input, positions;
  std::vector<float> log_probs;  // (B, V) this iteration
  std::vector<float> updates;    // (B, K-1, V) this chunk's update vectors
  for (size_t si = 0; si < schedules.size(); ++si) {
    const Schedule& schedule = *schedules[si];
    ScheduleSweep stats;
    stats.name = schedule.name();
    const auto start = std::chrono::steady_clock::now();
    // The schedule's shape, the same at every target (translation invariance).
    const auto shape = schedule.contexts(result.targets.front(), o.budget, o.with_empty);
    const int K = int(shape.size());
    for (const auto& ctx : shape) stats.context_len.push_back(ctx.size());
    stats.surprisal = SeriesAccumulator(K);
    stats.gram = StreamingGram(K - 1);

    for (int64_t t0 = 0; t0 < n_targets; t0 += o.batch) {
      const int B = int(std::min<int64_t>(o.batch, n_targets - t0));
      updates.assign(size_t(B) * std::max(0, K - 1) * V, 0.0f);
      std::vector<int64_t> cumulative_forwards(size_t(B), 0);
      std::vector<double> cumulative_flops(size_t(B), 0.0);
      std::vector<std::vector<ContextSet>> contexts;
      for (int b = 0; b < B; ++b) contexts.push_back(schedule.contexts(result.targets[size_t(t0 + b)], o.budget, o.with_empty));
      for (int k = 0; k < K; ++k) {
        const int n = std::max(1, shape[size_t(k)].size());
        input.assign(size_t(B) * n, 0);
        positions.assign(size_t(B) * n, 0);
        for (int b = 0; b < B; ++b) {
          const ContextSet& ctx = contexts[size_t(b)][size_t(k)];
          if (ctx.empty()) {
            input[size_t(b) * n] = o.bos_id;
            continue;
          }
          for (int i = 0; i < n; ++i) {
            input[size_t(b) * n + i] = tokens[size_t(ctx.positions[size_t(i)])];
            positions[size_t(b) * n + i] = ctx.position_ids[size_t(i)];
          }
        }
        const auto logits = model.forward(input, positions, B, n, std::vector<int>{n - 1});
        log_probs.resize(size_t(B) * V);
        const double flops = Transformer::forward_flops(c, n);
        for (int b = 0; b < B; ++b) {
          std::span<float> lp(log_probs.data() + size_t(b) * V, size_t(V));
          log_softmax(logits.subspan(size_t(b) * V, size_t(V)), lp);
          const int64_t t = result.targets[size_t(t0 + b)];
          const int32_t target = tokens[size_t(t)];
          const double s = -double(lp[size_t(target)]) / std::log(2.0);
          if (!std::isfinite(s))
            throw Error("sweep: a non-finite surprisal for target " + std::to_string(t) + " under " + stats.name +
                        ", iteration " + std::to_string(k) + " (the model's logits are not finite)");
          stats.surprisal.add(k, s);
          cumulative_forwards[size_t(b)] += n;
          cumulative_flops[size_t(b)] += flops;
          if (k == K - 1) stats.final_surprisal.push_back(s);
          if (k > 0) {  // u_k = log p_k − log p_{k−1}; column k−1 of this target's block
            float* u = updates.data() + (size_t(b) * (K - 1) + size_t(k - 1)) * V;
            for (int v = 0; v < V; ++v) u[v] += lp[size_t(v)];
          }
          if (k < K - 1) {
            float* u = updates.data() + (size_t(b) * (K - 1) + size_t(k)) * V;
            for (int v = 0; v < V; ++v) u[v] -= lp[size_t(v)];
          }
          if (on_row)
            on_row({t, target, int(si), k, shape[size_t(k)].size(), s, cumulative_forwards[size_t(b)],
                    cumulative_flops[size_t(b)]});
        }
        stats.token_forwards += int64_t(B) * n;
        stats.flops += flops * B;
      }
      if (K > 1)
        for (int b = 0; b < B; ++b)
          stats.gram.add_target(std::span<const float>(updates.data() + size_t(b) * (K - 1) * V, size_t(K - 1) * V), V);
      done += B;
      if (progress) progress(done, total);
    }
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.schedules.push_back(std::move(stats));
  }
  return result;
}

}  // namespace strata
