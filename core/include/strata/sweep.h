// Sweeps: iterative inference for many targets of a text under several schedules, with
// streamed statistics (per-iteration surprisal means and spreads, and the Gram matrix GᵀG
// of the updates), so memory stays bounded however many targets there are. Per-row results
// go to a callback (e.g. a CSV writer).
//
// Two paths compute the same numbers (method.md, "Shared passes"):
//  * shared passes, for every schedule whose windows are contiguous (sequential,
//    hierarchical with any base, custom lists of window sizes). A causal pass over
//    x[s … s+m−1] with positions 0 … m−1 gives at output j the prediction of x[s+j+1]
//    from exactly its j+1 predecessors, so the pair (target t, context length n) is
//    served by the pass from start s = t − n at output n − 1. One pass per start serves
//    every target s+1 … s+L and every contiguous schedule at once: about L token-forwards
//    per target of a contiguous span instead of Σ_k |C_k| (L²/2 for sequential).
//  * per target, for sparse windows (dilated, custom offsets) and with prefix sharing off:
//    iteration k of a batch of targets is one forward call of equal-length contexts.
//
//   SweepPlan plan = plan_sweep(model.config(), tokens.size(), options);  // passes, costs
//   SweepResult r = run_sweep(model, tokens, options, on_row, on_progress);
//
// The Gram matrix needs, per target, all its iterations' update vectors
// u_k = log p_k − log p_{k−1}, which on the shared path arrive from different passes.
// log_softmax(W·h) = W·h − lse·1 is affine in the final normalised hidden state h, so
// ⟨u_i, u_j⟩ = δa_iᵀ M̂ δa_j with δa = (δh, δlse) and M̂ = [W −1]ᵀ[W −1], computed once:
// d+1 numbers per iteration and target instead of V (GramForm::kHidden, used on both paths
// when the model's logits are affine in h). Models whose logits are transformed
// non-affinely (soft-capping) keep the vocabulary form, in target blocks sized to memory.
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

// How the Gram matrix of the updates is formed. kAuto: kHidden when the model's logits are
// affine in its final hidden state (Transformer::logits_affine_in_hidden), else kVocabulary.
enum class GramForm { kAuto, kHidden, kVocabulary };
const char* gram_form_name(GramForm form);  // "auto", "hidden", "vocabulary"

struct SweepOptions {
  int budget = 256;
  std::vector<std::string> schedules = {"sequential", "hierarchical"};  // make_schedule specs
  int64_t targets = 100;  // how many target positions
  int64_t stride = 0;     // every stride-th position from t = budget; 0 spreads the targets evenly
  // Explicit target positions, strictly ascending, each in [budget, text length). When not
  // empty they replace `targets` and `stride` (e.g. a span, or every token of some words).
  std::vector<int64_t> positions;
  // When this sweep is a shard of a larger one (shard_targets): how many of the larger
  // sweep's targets come before positions[0]. The per-target path starts its batches on
  // multiples of `batch` in that numbering, so each forward call holds the targets it holds
  // in the larger sweep and the rows are the same bits (a call's shape can move them).
  int64_t first_target = 0;
  // Sequences per forward call: targets on the per-target path; passes on the shared path,
  // where a call also holds at most `pass_tokens` tokens (padding included).
  int batch = 64;
  int pass_tokens = 4096;
  bool with_empty = false;  // prepend the unconditional (BOS-only) iteration
  // BOS policy (ours, method.md "BOS"): with `bos`, every context is fed as bos_id at
  // position 0 followed by the window at 1 … n (so L + 1 must fit the model's context);
  // |C_k| still counts the window only. The empty iteration is BOS alone, never two.
  bool bos = false;
  int32_t bos_id = -1;
  bool prefix_sharing = true;  // false: every schedule takes the per-target path
  GramForm gram_form = GramForm::kAuto;
  // Per-target state the shared path may hold at once (bytes); the vocabulary form splits
  // its targets into blocks that fit.
  int64_t memory_budget = int64_t(1) << 30;
};

// One (target, schedule, iteration) result. Compute is the schedule's own (what this
// target costs run alone), not what shared passes spent.
struct SweepRow {
  int64_t position = 0;  // t
  int32_t token = 0;     // x_t
  int schedule = 0;      // index into SweepOptions::schedules
  int iteration = 0;
  int context_len = 0;   // |C_k|
  double surprisal_bits = 0;
  int64_t token_forwards = 0;  // cumulative over this target's iterations so far (BOS included)
  double flops = 0;            // cumulative
};

// One schedule's statistics. `surprisal` and `gram` stream and merge (SeriesAccumulator,
// StreamingGram): sweeps of disjoint target sets combine into the sweep of their union
// (SweepResult::merge). Targets enter every iteration's statistics in ascending order
// whatever the path and batch size, so a rerun gives the same bits (the surprisals
// themselves may move in their last bits with the batch shape: the kernels' summation
// order depends on it).
struct ScheduleSweep {
  std::string name;
  bool shared = false;                  // served by shared passes (else per target)
  std::vector<int> context_len;         // per iteration
  SeriesAccumulator surprisal;          // per iteration k: mean and spread over targets (bits)
  std::vector<double> final_surprisal;  // per target: the last iteration's surprisal
  StreamingGram gram;                   // of the updates log p_k − log p_{k−1}
  int64_t token_forwards = 0;           // the schedule's own cost over all targets
  double flops = 0;                     // the schedule's own cost over all targets
  double seconds = 0;                   // per-target path only: its wall time (shared: see SweepSpent)
};

// What one path of a sweep actually ran.
struct SweepSpent {
  int64_t token_forwards = 0;  // tokens through the model: padding and BOS included
  int64_t padding = 0;         // of which padding (shared passes of unequal length in one call)
  double flops = 0;            // model FLOPs (Transformer::forward_flops per call)
  int64_t forward_calls = 0;
  int64_t passes = 0;          // sequences run: shared passes, or contexts on the per-target path
  double seconds = 0;          // wall time of the path
  double gram_seconds = 0;     // of which forming and accumulating the Gram matrices
  void add(const SweepSpent& other);
};

struct SweepResult {
  std::vector<int64_t> targets;
  std::vector<ScheduleSweep> schedules;
  SweepSpent shared, per_target;  // by path
  GramForm gram_form = GramForm::kHidden;  // as resolved
  int64_t peak_targets_in_flight = 0;      // shared path: targets holding state at once
  int64_t peak_state_bytes = 0;            // their state

  SweepSpent spent() const;  // both paths
  // Appends the sweep of later targets (every one after this sweep's last) under the same
  // schedules and options: statistics merge in a fixed order (SeriesAccumulator and
  // StreamingGram merges), costs add, peaks take the maximum. For shards of one sweep
  // (shard_targets) merged in order. Throws strata::Error when the two do not fit.
  void merge(const SweepResult& later);
};

// --- The plan of the shared passes ----------------------------------------------------

// A forward pass of the shared path: the tokens x[start … start+length−1] at positions
// 0 … length−1 (1 … length after a BOS at 0); output n−1 (n with BOS) gives the pair
// (target start+n, context length n).
struct SweepPass {
  int64_t start = 0;
  int length = 0;  // window tokens, without the BOS
};

// Targets whose passes are planned together, and those passes in ascending start, cut
// into forward calls of consecutive passes (padded to the longest in the call).
struct SweepSegment {
  size_t first_target = 0, end_target = 0;  // indices into SweepPlan::targets, [first, end)
  std::vector<SweepPass> passes;
  std::vector<size_t> call_ends;            // call c runs passes [call_ends[c−1], call_ends[c])
};

struct SweepPlan {
  int budget = 0;
  bool bos = false, with_empty = false;
  std::vector<int64_t> targets;       // every target, ascending
  std::vector<int> shared;            // schedules served by shared passes (indices into options.schedules)
  std::vector<int> per_target;        // the others: sparse windows, or prefix sharing off
  std::vector<std::string> why_per_target;  // per entry of per_target: the reason, in words
  std::vector<int> per_target_batch;        // per entry of per_target: targets per forward call (memory-bound)
  std::vector<std::vector<int>> context_len;  // per schedule, per iteration: |C_k|
  std::vector<int> lengths;           // the context lengths the shared schedules need, ascending
  std::vector<SweepSegment> segments;
  int64_t max_block_targets = 0;      // > 0: segments cut into blocks of at most this many targets (memory)
  int64_t state_bytes_per_target = 0; // shared path: state one target in flight holds
  int64_t max_targets_in_flight = 0;  // shared path: at most this many targets hold state at once

  std::vector<int64_t> own_token_forwards_per_target;  // per schedule: Σ_k (|C_k| + BOS)
  std::vector<double> own_flops_per_target;            // per schedule
  SweepSpent shared_cost, per_target_cost;             // planned (seconds 0)

  int64_t own_token_forwards() const;    // Σ over schedules and targets of their own cost
  int64_t spent_token_forwards() const;  // what the plan runs, both paths
};

// The plan of a sweep: its targets (choose_targets or options.positions), which schedules
// take shared passes, the passes and calls, and both costs. The Gram form (and so the
// state per target and the blocks) follows Transformer::logits_affine_in_hidden(config).
// Throws strata::Error on bad options (the messages run_sweep gives).
SweepPlan plan_sweep(const ModelConfig& config, int64_t text_tokens, const SweepOptions& options);

// Cuts a plan's targets into `count` contiguous ranges of about equal cost (token-forwards
// of the passes each range needs, per-target schedules included), for workers that sweep
// one range each (options.positions = a range) and merge their results in order. Each
// range's passes are its own: the L starts before a range's first target are run by both
// neighbours. With per-target schedules every range but the last holds whole batches of
// theirs (per_target_batch), so that swept with SweepOptions::first_target a range's
// forward calls are the whole sweep's, bit for bit. Fewer ranges than asked when there are
// fewer targets.
std::vector<std::vector<int64_t>> shard_targets(const SweepPlan& plan, int count);

// --- Targets -------------------------------------------------------------------------

// Target positions: `count` positions t ≥ budget, every `stride`-th, or spread evenly.
std::vector<int64_t> choose_targets(int64_t text_tokens, int budget, int64_t count, int64_t stride);

// `count` targets in contiguous blocks, the cheap choice for shared passes: blocks of at
// least `budget` targets (a block of m costs about L + L²/2m token-forwards per target),
// as many as fit, spread evenly over t ≥ budget; one block starting at t = budget when
// count < 2·budget. Throws strata::Error when fewer than `count` positions exist.
std::vector<int64_t> choose_blocks(int64_t text_tokens, int budget, int64_t count);

// Maximal runs of consecutive positions, as half-open [from, to) pairs.
std::vector<std::pair<int64_t, int64_t>> target_ranges(std::span<const int64_t> targets);

// --- The sweep -----------------------------------------------------------------------

struct SweepProgress {
  int64_t spent_token_forwards = 0, planned_token_forwards = 0;  // what the sweep runs
  int64_t own_token_forwards = 0;  // the schedules' own cost of the (target, schedule) pairs done
  int64_t done = 0, total = 0;     // (target, schedule) pairs
};

// Runs plan_sweep(model.config(), tokens.size(), options). on_row sees every row, each
// target's in iteration order (shared schedules: target by target, every shared schedule in
// turn; then each per-target schedule over all targets); progress is called after every
// forward call. Throws strata::Error on bad options and on a non-finite surprisal (a
// model whose logits are not finite).
SweepResult run_sweep(Transformer& model, std::span<const int32_t> tokens, const SweepOptions& options,
                      const std::function<void(const SweepRow&)>& on_row = {},
                      const std::function<void(const SweepProgress&)>& progress = {});

}  // namespace strata
