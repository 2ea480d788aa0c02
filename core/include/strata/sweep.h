// Sweeps: iterative inference for many targets of a text under several schedules, with
// batched forward passes (the contexts of one iteration have the same length for every
// target, so a batch of targets is one call) and streamed statistics: per-iteration
// surprisal means and spreads and the Gram matrix GᵀG of the updates, so memory stays
// bounded however many targets there are. Per-row results go to a callback (e.g. a CSV
// writer).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/analysis.h"
#include "strata/model.h"
#include "strata/schedule.h"

namespace strata {

struct SweepOptions {
  int budget = 256;
  std::vector<std::string> schedules = {"sequential", "hierarchical"};  // make_schedule specs
  int64_t targets = 100;  // how many target positions
  int64_t stride = 0;     // every stride-th position from t = budget; 0 spreads the targets evenly
  // Explicit target positions, strictly ascending, each in [budget, text length). When not
  // empty they replace `targets` and `stride` (e.g. every token of some chosen words).
  std::vector<int64_t> positions;
  int batch = 64;         // targets per forward pass: large batches amortise the per-call work of short contexts
  bool with_empty = false;  // prepend the unconditional (BOS-only) iteration
  int32_t bos_id = -1;
};

// One (target, schedule, iteration) result.
struct SweepRow {
  int64_t position = 0;  // t
  int32_t token = 0;     // x_t
  int schedule = 0;      // index into SweepOptions::schedules
  int iteration = 0;
  int context_len = 0;   // |C_k|
  double surprisal_bits = 0;
  int64_t token_forwards = 0;  // cumulative over this target's iterations so far
  double flops = 0;            // cumulative
};

// One schedule's statistics. `surprisal` and `gram` stream and merge (SeriesAccumulator,
// StreamingGram): sweeps of disjoint target sets combine into the sweep of their union.
// Within a sweep, targets enter every iteration's statistics in ascending order whatever
// the batch size, so a rerun gives the same bits (the surprisals themselves may move in
// their last bits with the batch size: the kernels' summation order depends on it).
struct ScheduleSweep {
  std::string name;
  std::vector<int> context_len;         // per iteration
  SeriesAccumulator surprisal;          // per iteration k: mean and spread over targets (bits)
  std::vector<double> final_surprisal;  // per target: the last iteration's surprisal
  StreamingGram gram;                   // of the updates log p_k − log p_{k−1}
  int64_t token_forwards = 0;           // over all targets
  double flops = 0;
  double seconds = 0;
};

struct SweepResult {
  std::vector<int64_t> targets;
  std::vector<ScheduleSweep> schedules;
};

// Target positions: `count` positions t ≥ budget, every `stride`-th, or spread evenly.
std::vector<int64_t> choose_targets(int64_t text_tokens, int budget, int64_t count, int64_t stride);

// progress(targets done over all schedules, total). Throws strata::Error on bad options
// and on a non-finite surprisal (a model whose logits are not finite).
SweepResult run_sweep(Transformer& model, std::span<const int32_t> tokens, const SweepOptions& options,
                      const std::function<void(const SweepRow&)>& on_row = {},
                      const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace strata
