// The shared path against the per-target path: every row (target, schedule, iteration) the
// same surprisal to 1e-4 bits, the Gram matrices the same to 1e-6 of their largest entry,
// for a contiguous span, its ragged ends and scattered targets, with and without BOS and
// the empty iteration, over calls of many shapes. A row routed to the wrong target, length
// or iteration changes its surprisal (the model below depends strongly on its context), so
// these comparisons fail on any routing error; the first test also checks the shared rows
// against IterativeInference, which shares no code with the sweep.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "../fixtures.h"
#include "expect_same.h"
#include "strata/error.h"
#include "strata/inference.h"
#include "strata/sweep.h"

namespace strata {
namespace {

using Key = std::tuple<int64_t, int, int>;  // position, schedule, iteration

struct Swept {
  SweepResult result;
  std::map<Key, SweepRow> rows;
};

Swept sweep(Transformer& model, const std::vector<int32_t>& tokens, const SweepOptions& o) {
  Swept r;
  r.result = run_sweep(model, tokens, o, [&](const SweepRow& row) {
    const bool fresh = r.rows.emplace(Key{row.position, row.schedule, row.iteration}, row).second;
    EXPECT_TRUE(fresh) << "row emitted twice: t=" << row.position << " schedule " << row.schedule << " k " << row.iteration;
  });
  return r;
}

// Every row and every statistic of `a` equals `b`'s, to the tolerances.
void expect_same_sweep(const Swept& a, const Swept& b) {
  ASSERT_EQ(a.result.targets, b.result.targets);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  double worst = 0;
  for (const auto& [key, ra] : a.rows) {
    const auto it = b.rows.find(key);
    ASSERT_NE(it, b.rows.end()) << "missing row t=" << std::get<0>(key) << " schedule " << std::get<1>(key) << " k "
                                << std::get<2>(key);
    const SweepRow& rb = it->second;
    EXPECT_EQ(ra.token, rb.token);
    EXPECT_EQ(ra.context_len, rb.context_len);
    EXPECT_EQ(ra.token_forwards, rb.token_forwards);  // the schedule's own cost, whatever the path
    EXPECT_DOUBLE_EQ(ra.flops, rb.flops);
    EXPECT_NEAR(ra.surprisal_bits, rb.surprisal_bits, 1e-4)
        << "t=" << std::get<0>(key) << " schedule " << std::get<1>(key) << " k " << std::get<2>(key);
    worst = std::max(worst, std::fabs(ra.surprisal_bits - rb.surprisal_bits));
  }
  ::testing::Test::RecordProperty("worst_surprisal_difference_bits", std::to_string(worst));
  sweep_test::expect_same_schedules(a.result, b.result, 1e-4);
}

struct Fixture {
  // Large weights: predictions move a lot with every token of context, so a row routed to
  // the wrong (target, length) cannot pass for the right one.
  std::shared_ptr<Weights> weights = fixtures::random_weights(fixtures::tiny_config(48), 101, 0.5f);
  Transformer model{weights};
  std::vector<int32_t> tokens = fixtures::random_tokens(170, 48, 102);

  static SweepOptions options() {
    SweepOptions o;
    o.budget = 16;
    o.schedules = {"sequential", "hierarchical", "hierarchical:4", "custom:[1,3,3,16]", "dilated"};
    // A contiguous span (both ragged ends), a short run, and scattered targets.
    for (int64_t t = 16; t < 75; ++t) o.positions.push_back(t);
    for (int64_t t : {90, 91, 92, 120, 150, 169}) o.positions.push_back(t);
    o.bos_id = 47;
    return o;
  }
};

TEST(SharedPassesTest, EveryRowAndGramEqualThePerTargetPath) {
  Fixture f;
  struct Case {
    bool bos, with_empty;
    int batch, pass_tokens;  // calls of one pass, a few, and many short passes padded together
  };
  for (const Case c : {Case{false, false, 1, 4096}, Case{false, false, 64, 40}, Case{true, true, 3, 4096},
                       Case{false, true, 64, 4096}, Case{true, false, 64, 40}}) {
    SCOPED_TRACE(std::string(c.bos ? "BOS" : "no BOS") + (c.with_empty ? ", with the empty iteration" : "") + ", batch " +
                 std::to_string(c.batch) + ", pass_tokens " + std::to_string(c.pass_tokens));
    SweepOptions o = Fixture::options();
    o.bos = c.bos;
    o.with_empty = c.with_empty;
    o.prefix_sharing = false;
    o.batch = 7;
    const Swept per_target = sweep(f.model, f.tokens, o);
    o.prefix_sharing = true;
    o.batch = c.batch;
    o.pass_tokens = c.pass_tokens;
    const Swept shared = sweep(f.model, f.tokens, o);
    for (size_t si = 0; si < 4; ++si) EXPECT_TRUE(shared.result.schedules[si].shared);
    EXPECT_FALSE(shared.result.schedules[4].shared);  // dilated: sparse windows
    EXPECT_EQ(shared.result.per_target.token_forwards, per_target.result.schedules[4].token_forwards -
                                                           (c.with_empty ? int64_t(shared.result.targets.size()) : 0));
    expect_same_sweep(shared, per_target);
    // The point of it: far fewer token-forwards for the same numbers.
    EXPECT_LT(shared.result.shared.token_forwards * 3, per_target.result.per_target.token_forwards);
  }
}

TEST(SharedPassesTest, RowsEqualIterativeInference) {
  // An engine that shares no code with the sweep: one context at a time.
  Fixture f;
  SweepOptions o = Fixture::options();
  o.schedules = {"sequential", "hierarchical"};
  o.batch = 5;
  const Swept shared = sweep(f.model, f.tokens, o);
  for (int64_t t : {16, 17, 40, 74, 91, 169})
    for (int si = 0; si < 2; ++si) {
      IterativeInference run(f.model, f.tokens, t, make_schedule(o.schedules[size_t(si)]), 16);
      run.run_all();
      for (const IterationResult& r : run.history()) {
        const auto it = shared.rows.find(Key{t, si, r.iteration});
        ASSERT_NE(it, shared.rows.end());
        EXPECT_EQ(it->second.context_len, r.context.size());
        EXPECT_NEAR(it->second.surprisal_bits, r.surprisal_bits, 1e-4) << "t=" << t << " schedule " << si << " k " << r.iteration;
      }
    }
}

TEST(SharedPassesTest, BosComesFirstInEveryContextAndOnlyOnce) {
  // With BOS, the context of length n is [BOS, x_{t−n} … x_{t−1}] at positions 0 … n.
  Fixture f;
  SweepOptions o = Fixture::options();
  o.schedules = {"sequential"};
  o.bos = true;
  o.with_empty = true;
  const Swept shared = sweep(f.model, f.tokens, o);
  for (int64_t t : {16, 50, 150})
    for (int n : {0, 1, 5, 16}) {
      std::vector<int32_t> in = {47}, pos = {0};
      for (int i = 0; i < n; ++i) in.push_back(f.tokens[size_t(t - n + i)]), pos.push_back(i + 1);
      const int last[1] = {int(in.size()) - 1};
      const auto logits = f.model.forward(in, pos, 1, int(in.size()), last);
      std::vector<float> lp(48);
      log_softmax(logits, lp);
      const SweepRow& row = shared.rows.at(Key{t, 0, n});  // iteration n: n tokens (0: BOS alone)
      EXPECT_EQ(row.context_len, n);
      EXPECT_EQ(row.token_forwards, n == 0 ? 1 : 1 + (n * (n + 1) / 2 + n));  // each context counts its BOS
      EXPECT_NEAR(row.surprisal_bits, -lp[size_t(f.tokens[size_t(t)])] / std::log(2.0), 1e-4) << "t=" << t << " n=" << n;
    }
}

TEST(SharedPassesTest, VocabularyFormInMemoryBlocksEqualsTheHiddenForm) {
  // The vocabulary form keeps every prediction's logits: with a small memory budget its
  // targets go in blocks (recomputing the passes at each block's edge), same numbers.
  Fixture f;
  SweepOptions o = Fixture::options();
  o.schedules = {"sequential", "hierarchical"};
  o.batch = 4;
  const Swept hidden = sweep(f.model, f.tokens, o);
  EXPECT_EQ(hidden.result.gram_form, GramForm::kHidden);
  o.gram_form = GramForm::kVocabulary;
  o.memory_budget = 16 * 48 * 4 * 10;  // ten targets' logits at 16 lengths
  const SweepPlan plan = plan_sweep(f.model.config(), int64_t(f.tokens.size()), o);
  EXPECT_GT(plan.max_block_targets, 0);
  EXPECT_LE(plan.max_block_targets, 10);
  EXPECT_GT(plan.segments.size(), 6u);
  const Swept vocabulary = sweep(f.model, f.tokens, o);
  EXPECT_EQ(vocabulary.result.gram_form, GramForm::kVocabulary);
  EXPECT_LE(vocabulary.result.peak_targets_in_flight, plan.max_block_targets);
  EXPECT_GT(vocabulary.result.shared.token_forwards, hidden.result.shared.token_forwards);  // the blocks' edges
  expect_same_sweep(vocabulary, hidden);
}

}  // namespace
}  // namespace strata
