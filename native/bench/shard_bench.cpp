// The cost of sharding a whole-book sweep across R ranks, from the planner alone (no model
// runs): Gemma-2B's shape, the Adventures at Gemma's tokenisation (an assumed 135,000
// tokens), every target t >= L at L = 256, sequential and hierarchical on shared passes,
// cut by shard_targets into R cost-balanced shards, model FLOPs counted call by call. Each shard also runs the passes before
// its first target, so the work grows with R; the slowest shard sets the wall time. The
// README's scaling model multiplies these planned FLOPs by a per-rank throughput.
#include <benchmark/benchmark.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "strata/config.h"
#include "strata/model.h"
#include "strata/sweep.h"

namespace {

constexpr int64_t kBookTokens = 135000;
constexpr int kBudget = 256;

// google/gemma-2b's config.json (the fields strata reads).
strata::ModelConfig gemma_2b() {
  return strata::config_from_json(nlohmann::json::parse(R"({
    "model_type": "gemma", "vocab_size": 256000, "hidden_size": 2048, "intermediate_size": 16384,
    "num_hidden_layers": 18, "num_attention_heads": 8, "num_key_value_heads": 1, "head_dim": 256,
    "hidden_act": "gelu_pytorch_tanh", "max_position_embeddings": 8192, "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0, "tie_word_embeddings": true})"));
}

// A plan's model FLOPs, call by call as the shared path runs them (every output row's
// logits: sequential needs them all), plus the per-target path's.
double planned_flops(const strata::ModelConfig& config, const strata::SweepPlan& plan) {
  double flops = plan.per_target_cost.flops;
  for (const strata::SweepSegment& seg : plan.segments) {
    size_t begin = 0;
    for (size_t end : seg.call_ends) {
      int longest = 0;
      for (size_t i = begin; i < end; ++i) longest = std::max(longest, seg.passes[i].length + (plan.bos ? 1 : 0));
      flops += double(end - begin) * strata::Transformer::forward_flops(config, longest, longest);
      begin = end;
    }
  }
  return flops;
}

void BM_Shards(benchmark::State& state) {
  const int ranks = int(state.range(0));
  const strata::ModelConfig config = gemma_2b();
  strata::SweepOptions options;
  options.budget = kBudget;
  options.schedules = {"sequential", "hierarchical"};
  for (int64_t t = kBudget; t < kBookTokens; ++t) options.positions.push_back(t);
  double total = 0, slowest = 0, one = 0, one_forwards = 0, slowest_forwards = 0;
  int64_t targets_per_shard = 0;
  for (auto _ : state) {
    const strata::SweepPlan plan = strata::plan_sweep(config, kBookTokens, options);
    one = planned_flops(config, plan);
    one_forwards = double(plan.spent_token_forwards());
    total = slowest = 0;
    const auto shards = strata::shard_targets(plan, ranks);
    for (const auto& shard : shards) {
      strata::SweepOptions part = options;
      part.positions = shard;
      const strata::SweepPlan p = strata::plan_sweep(config, kBookTokens, part);
      const double flops = planned_flops(config, p);
      total += flops;
      slowest = std::max(slowest, flops);
      slowest_forwards = std::max(slowest_forwards, double(p.spent_token_forwards()));
    }
    targets_per_shard = int64_t(options.positions.size()) / ranks;
  }
  state.counters["one_process_PFLOP"] = one / 1e15;
  state.counters["all_shards_PFLOP"] = total / 1e15;
  state.counters["slowest_shard_PFLOP"] = slowest / 1e15;
  state.counters["one_process_Mtokfwd"] = one_forwards / 1e6;
  state.counters["slowest_shard_Mtokfwd"] = slowest_forwards / 1e6;
  state.counters["work_overhead"] = total / one - 1;
  state.counters["efficiency"] = one / (double(ranks) * slowest);  // against a perfect split of one process's work
  state.counters["targets_per_shard"] = double(targets_per_shard);
}
BENCHMARK(BM_Shards)->Name("shards/gemma-2b-book")->ArgName("ranks")->Arg(1)->Arg(8)->Arg(64)->Arg(512)->Arg(1024)
    ->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
