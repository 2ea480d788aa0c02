// Schedules: which parts of the context each iteration of iterative inference sees.
// A schedule maps a target position t and a context budget L to an ordered list of context
// sets C_0 … C_K (method.md, "Definitions"). It knows nothing about models: the engine feeds
// each set's tokens, with the set's position ids, to an unchanged model. Keeping the two
// apart is the point of the method, so nothing here may include model.h.
//
// Conventions (ours, documented in method.md as choices):
//  * Every schedule is translation invariant: a window is a set of offsets d >= 1, meaning
//    the tokens at positions t - d. offsets(L) describes a schedule once per budget and
//    contexts(t, L) places it at a target.
//  * Position ids start at 0 at the window's oldest token and keep the original gaps:
//    the token at offset d gets id span - d, span = the largest offset. For a contiguous
//    window of n tokens that is 0 … n-1. RoPE only sees relative positions, so any shift
//    is equivalent; starting at 0 makes the last sequential and the last hierarchical
//    iteration (both {t-L … t-1}) the very same model call, the method's correctness check.
//    A sparse (dilated) window keeps its real gaps: position p gets id p - (t - 2^k).
//  * The optional empty-context iteration (the unconditional distribution) is a ContextSet
//    with no positions; the engine feeds a BOS token for it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

// One iteration's context: the tokens at `positions` (ascending, all < t), fed in that
// order with the RoPE ids `position_ids` (same length). Empty = the BOS-only iteration.
struct ContextSet {
  std::vector<int64_t> positions;
  std::vector<int32_t> position_ids;

  int size() const { return int(positions.size()); }  // |C_k|, the context length n
  bool empty() const { return positions.empty(); }
};

class Schedule {
 public:
  virtual ~Schedule() = default;

  // Short label for tables and plots: "sequential", "hierarchical", "hierarchical:3", ...
  virtual std::string name() const = 0;
  // The text make_schedule() accepts to rebuild this schedule (equals name() except custom).
  virtual std::string spec() const { return name(); }

  // Throws strata::Error if this schedule cannot run with budget L (L < 1, L not a power
  // of the base, a custom window wider than L). Model limits are validate_budget's job.
  virtual void check_budget(int budget) const;

  // Iterations for budget L, not counting the optional empty-context one.
  virtual int iterations(int budget) const = 0;

  // The schedule independent of t: per iteration, its offsets in descending order, so
  // that positions t - d come out ascending. Checks the budget first.
  virtual std::vector<std::vector<int>> offsets(int budget) const = 0;

  // The context sets for target t. with_empty prepends the empty (BOS-only) iteration.
  // Throws strata::Error on a bad budget or when t < L (too little history).
  std::vector<ContextSet> contexts(int64_t t, int budget, bool with_empty = false) const;

  // Σ|C_k| over the iterations: tokens the model processes per target (the empty
  // iteration counts its BOS token).
  int64_t token_forwards(int budget, bool with_empty = false) const;

  // --- What a front-end may offer, and how to read the iterations ----------------------
  // These rules live here, not in the CLI, the report or the page, so that every front-end
  // offers the same budgets and colours the same levels.

  // check_budget() as a question: true when this schedule runs with budget L.
  bool accepts_budget(int budget) const;

  // The budgets to offer for a target with `history` tokens before it, under a model whose
  // context is `context`: the accepted L <= min(history, context) on this schedule's own
  // grid, ascending. Hierarchical and dilated: the powers of their base; sequential: the
  // powers of 2 (any L is accepted, and these are the budgets at which it can be compared
  // level by level with hierarchical access); custom: the smallest L that fits its windows.
  // Empty when none fits. The default (for schedules defined elsewhere): the accepted
  // powers of 2.
  virtual std::vector<int> budget_choices(int64_t history, int context) const;

  // The largest of budget_choices(): what a front-end runs when no budget is given.
  // Throws strata::Error saying why none fits (too little history, too small a context).
  int default_budget(int64_t history, int context) const;

  // The level of the token at offset d >= 1 before the target, for colouring a context:
  // the first iteration whose window reaches it (its index k in offsets(budget)), or -1
  // when no window does. Sequential overrides it (see there).
  virtual int level_of_offset(int64_t d, int budget) const;

  // Columns of the global transition matrix G for budget L: one update per iteration after
  // the first, u_k = log p_k − log p_{k−1} (with the empty iteration, one more).
  int gram_columns(int budget, bool with_empty = false) const;

  // Budgets L' <= L whose rank the Gram matrix swept at L answers from its leading block
  // (a schedule's updates for L' are a prefix of its updates for L), each with its number
  // of columns: the rank's upper bound. Computed for any L >= 1, accepted or not, so a
  // report can draw a schedule's bound without having swept it. Default: L alone. Every
  // point has at least one column; none when a single iteration leaves nothing to rank.
  struct RankPoint {
    int budget = 0;
    int columns = 0;
  };
  virtual std::vector<RankPoint> rank_points(int budget, bool with_empty = false) const;

  // True when every window for budget L is the n most recent tokens for some n: the
  // contexts a causal pass over a contiguous stretch of text also computes.
  bool contiguous(int budget) const;
};

// C_k = {t-k … t-1}, k = 1 … L: one more token per iteration, L iterations.
class SequentialSchedule final : public Schedule {
 public:
  std::string name() const override { return "sequential"; }
  int iterations(int budget) const override;
  std::vector<std::vector<int>> offsets(int budget) const override;
  std::vector<int> budget_choices(int64_t history, int context) const override;
  // One iteration per token would give L levels; for colouring, offsets are grouped in the
  // doubling bands of hierarchical access (1, 2, 3–4, 5–8, …), so that both schedules'
  // contexts are coloured alike.
  int level_of_offset(int64_t d, int budget) const override;
  // L' = 2, 4, …, L (and L itself when it is not a power of 2), L' − 1 columns each.
  std::vector<RankPoint> rank_points(int budget, bool with_empty = false) const override;
};

// C_k = the b^k most recent tokens, k = 0 … K with b^K = L: log_b(L) + 1 iterations.
// L must be a power of b, so the last level sees exactly the budget; a budget between
// powers is refused instead of silently truncated, because the final iteration must
// equal the sequential one.
class HierarchicalSchedule final : public Schedule {
 public:
  explicit HierarchicalSchedule(int base = 2);  // throws strata::Error if base < 2
  int base() const { return base_; }
  std::string name() const override;
  void check_budget(int budget) const override;
  int iterations(int budget) const override;
  std::vector<std::vector<int>> offsets(int budget) const override;
  std::vector<int> budget_choices(int64_t history, int context) const override;
  int level_of_offset(int64_t d, int budget) const override;  // smallest k with b^k >= d
  // L' = b, b², …, up to L: log_b L' columns each.
  std::vector<RankPoint> rank_points(int budget, bool with_empty = false) const override;

 private:
  int base_;
};

// C_k = {t-1, t-2, t-4, …, t-2^k}, k = 0 … log2 L (ours): sparse, the same number of
// iterations as hierarchical but each adds only one, ever older, token. L: a power of 2.
class DilatedSchedule final : public Schedule {
 public:
  std::string name() const override { return "dilated"; }
  void check_budget(int budget) const override;
  int iterations(int budget) const override;
  std::vector<std::vector<int>> offsets(int budget) const override;
  std::vector<int> budget_choices(int64_t history, int context) const override;
  // L' = 2, 4, …, up to L: log2 L' columns each.
  std::vector<RankPoint> rank_points(int budget, bool with_empty = false) const override;
};

// Any list of windows, from JSON: [1, 3, {"offsets": [1, 2, 4]}, 16]. An integer n is the
// n most recent tokens; {"offsets": [...]} the positions t - d for each d. The windows do
// not depend on L; every window must fit in the budget (largest offset <= L).
class CustomSchedule final : public Schedule {
 public:
  // Offsets per window, each >= 1; sorted descending and checked here.
  explicit CustomSchedule(std::vector<std::vector<int>> windows);
  // Parses the JSON text; `origin` names it in errors (e.g. the file path).
  static CustomSchedule from_json(std::string_view json_text, std::string_view origin = "");

  std::string name() const override { return "custom"; }
  std::string spec() const override;  // "custom:" + compact JSON
  void check_budget(int budget) const override;
  int iterations(int budget) const override;
  std::vector<std::vector<int>> offsets(int budget) const override;
  // The windows do not depend on L: the one budget offered is the smallest that fits them.
  std::vector<int> budget_choices(int64_t history, int context) const override;
  int reach() const;  // the largest offset of any window

 private:
  std::vector<std::vector<int>> windows_;
};

// "sequential", "hierarchical", "hierarchical:<base>", "dilated", "custom:<json text>",
// "custom:@<file.json>". Throws strata::Error naming the valid specs otherwise.
std::unique_ptr<Schedule> make_schedule(std::string_view spec);

// Everything that can make (schedule, L, model, target) unusable, each with its own
// message: L < 1, L > max_context (the model's trained context), t < L, and the
// schedule's own rules (base < 2, L not a power of the base, oversized custom windows).
// relative_positions is false for a model with absolute (learned) position embeddings:
// there a sparse window's position ids would not mean "this far back", so a schedule with
// gaps in any window is refused; contiguous windows (ids 0 … n-1) run on any model.
// bos: every context is fed after a BOS at position 0, so L + 1 positions must fit.
void validate_budget(const Schedule& schedule, int budget, int max_context, int64_t t,
                     bool relative_positions = true, bool bos = false);

}  // namespace strata
