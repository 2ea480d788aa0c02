// The sweep's plan: targets in blocks, which schedules share passes, the passes against a
// brute-force reading of the definition, what they cost (a contiguous block: L(L+1)/2 +
// (m−1)L token-forwards for sequential; scattered targets: their own cost), calls within
// their limits, the state in flight, and cost-balanced shards whose merged sweeps are the
// whole sweep.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "../fixtures.h"
#include "expect_same.h"
#include "strata/error.h"
#include "strata/sweep.h"

namespace strata {
namespace {

ModelConfig config() { return fixtures::tiny_config(48); }

SweepOptions span(int budget, int64_t from, int64_t to, std::vector<std::string> schedules) {
  SweepOptions o;
  o.budget = budget;
  o.schedules = std::move(schedules);
  for (int64_t t = from; t < to; ++t) o.positions.push_back(t);
  return o;
}

TEST(SweepPlanTest, ChooseBlocks) {
  EXPECT_EQ(choose_blocks(1000, 8, 5), (std::vector<int64_t>{8, 9, 10, 11, 12}));  // fewer than 2L: one block at t = L
  const std::vector<int64_t> two = choose_blocks(1000, 8, 20);                   // two blocks of 10, at both ends
  ASSERT_EQ(two.size(), 20u);
  EXPECT_EQ(target_ranges(two), (std::vector<std::pair<int64_t, int64_t>>{{8, 18}, {990, 1000}}));
  const std::vector<int64_t> three = choose_blocks(1000, 8, 25);  // 9 + 8 + 8, evenly spread
  EXPECT_EQ(target_ranges(three), (std::vector<std::pair<int64_t, int64_t>>{{8, 17}, {500, 508}, {992, 1000}}));
  EXPECT_EQ(target_ranges(choose_blocks(20, 8, 12)), (std::vector<std::pair<int64_t, int64_t>>{{8, 20}}));  // every position
  EXPECT_THROW(choose_blocks(20, 8, 13), Error);
  EXPECT_THROW(choose_blocks(20, 8, 0), Error);
  EXPECT_EQ(target_ranges(std::vector<int64_t>{3, 4, 5, 9, 11, 12}),
            (std::vector<std::pair<int64_t, int64_t>>{{3, 6}, {9, 10}, {11, 13}}));
}

TEST(SweepPlanTest, PassesAreOnePerStartAsLongAsItsFarthestTarget) {
  // Brute force from the definition: pair (t, n) is served by start t − n at length >= n.
  for (const std::vector<std::string>& schedules :
       {std::vector<std::string>{"sequential"}, {"hierarchical"}, {"hierarchical:4", "custom:[3,5]"}}) {
    SCOPED_TRACE(schedules.front());
    SweepOptions o = span(16, 20, 45, schedules);
    o.positions.insert(o.positions.end(), {50, 51, 90, 130});
    const SweepPlan plan = plan_sweep(config(), 200, o);
    std::set<int> lengths;
    for (const auto& lens : plan.context_len)
      for (int n : lens) lengths.insert(n);
    EXPECT_EQ(plan.lengths, std::vector<int>(lengths.begin(), lengths.end()));
    std::map<int64_t, int> expected;
    for (int64_t t : plan.targets)
      for (int n : lengths) expected[t - n] = std::max(expected[t - n], n);
    std::map<int64_t, int> got;
    size_t covered = 0;
    for (const SweepSegment& seg : plan.segments) {
      EXPECT_EQ(seg.first_target, covered);
      covered = seg.end_target;
      for (const SweepPass& p : seg.passes) EXPECT_TRUE(got.emplace(p.start, p.length).second) << "start " << p.start << " twice";
    }
    EXPECT_EQ(covered, plan.targets.size());
    EXPECT_EQ(got, expected);
    EXPECT_EQ(plan.segments.size(), 3u);  // 20…51 overlap; 90 and 130 are more than 15 apart from the rest
  }
}

TEST(SweepPlanTest, ContiguousBlockCostsAboutLPerTarget) {
  const int L = 16;
  for (int m : {1, 5, 40}) {
    SCOPED_TRACE("block of " + std::to_string(m));
    SweepOptions o = span(L, 30, 30 + m, {"sequential", "hierarchical"});
    o.batch = 1;  // no padding
    const SweepPlan plan = plan_sweep(config(), 200, o);
    EXPECT_EQ(plan.shared, (std::vector<int>{0, 1}));
    EXPECT_TRUE(plan.per_target.empty());
    EXPECT_EQ(plan.shared_cost.token_forwards, L * (L + 1) / 2 + (m - 1) * L);
    EXPECT_EQ(plan.shared_cost.padding, 0);
    EXPECT_EQ(plan.shared_cost.passes, m + L - 1);
    EXPECT_EQ(plan.own_token_forwards(), int64_t(m) * (L * (L + 1) / 2 + 31));
    EXPECT_LE(plan.max_targets_in_flight, std::min(m, L + 1));
    o.bos = true, o.bos_id = 47;  // one more token per pass and per context
    const SweepPlan with_bos = plan_sweep(config(), 200, o);
    EXPECT_EQ(with_bos.shared_cost.token_forwards, L * (L + 1) / 2 + (m - 1) * L + m + L - 1);
    EXPECT_EQ(with_bos.own_token_forwards(), int64_t(m) * (L * (L + 1) / 2 + 31 + L + 5));
  }
}

TEST(SweepPlanTest, ScatteredTargetsCostTheirOwnAndCallsKeepTheirLimits) {
  SweepOptions o;
  o.budget = 16;
  o.schedules = {"sequential"};
  o.positions = {20, 60, 100, 140};  // more than L apart: nothing to share
  o.batch = 1;
  EXPECT_EQ(plan_sweep(config(), 200, o).shared_cost.token_forwards, plan_sweep(config(), 200, o).own_token_forwards());
  o.batch = 5;
  o.pass_tokens = 40;
  const SweepPlan plan = plan_sweep(config(), 200, o);
  EXPECT_GT(plan.shared_cost.padding, 0);  // passes of unequal length share calls
  int64_t calls = 0, tokens = 0;
  for (const SweepSegment& seg : plan.segments) {
    size_t begin = 0;
    for (size_t end : seg.call_ends) {
      int longest = 0;
      int64_t unpadded = 0;
      for (size_t p = begin; p < end; ++p) longest = std::max(longest, seg.passes[p].length), unpadded += seg.passes[p].length;
      EXPECT_LE(end - begin, 5u);
      if (end - begin > 1) {
        EXPECT_LE(int64_t(end - begin) * longest, 40);
        EXPECT_LE(4 * int64_t(end - begin) * longest, 5 * unpadded);  // padding within a quarter
      }
      tokens += int64_t(end - begin) * longest;
      ++calls;
      begin = end;
    }
    EXPECT_EQ(begin, seg.passes.size());
  }
  EXPECT_EQ(calls, plan.shared_cost.forward_calls);
  EXPECT_EQ(tokens, plan.shared_cost.token_forwards);
}

// Far-apart targets of a hierarchical schedule need passes of lengths L, L/2, …, 1 in turn:
// batched by the default limits they would be padded to L (seen: 2.8x the own cost on the
// synthetic Gemma-2B); the plan costs at most a quarter more than the schedule's own contexts.
TEST(SweepPlanTest, ScatteredHierarchicalTargetsAreNotPaddedToTheLongestPass) {
  SweepOptions o;
  o.budget = 32;
  o.schedules = {"hierarchical"};
  o.positions = {40, 100, 160};
  const SweepPlan plan = plan_sweep(config(), 200, o);
  ASSERT_EQ(plan.shared.size(), 1u);
  EXPECT_LE(4 * plan.spent_token_forwards(), 5 * plan.own_token_forwards());
}

TEST(SweepPlanTest, SparseSchedulesAndNoSharingTakeThePerTargetPath) {
  SweepOptions o = span(16, 20, 30, {"sequential", "dilated", "custom:[1,{\"offsets\":[1,3]}]"});
  SweepPlan plan = plan_sweep(config(), 200, o);
  EXPECT_EQ(plan.shared, (std::vector<int>{0}));
  EXPECT_EQ(plan.per_target, (std::vector<int>{1, 2}));
  ASSERT_EQ(plan.why_per_target.size(), 2u);
  EXPECT_NE(plan.why_per_target[0].find("sparse"), std::string::npos);
  EXPECT_EQ(plan.per_target_cost.token_forwards, 10 * (15 + 3));  // dilated 1+2+3+4+5, custom 1+2
  o.prefix_sharing = false;
  plan = plan_sweep(config(), 200, o);
  EXPECT_TRUE(plan.shared.empty());
  EXPECT_EQ(plan.why_per_target[0], "prefix sharing is off");
  EXPECT_EQ(plan.spent_token_forwards(), plan.own_token_forwards());
}

TEST(SweepPlanTest, BosNeedsRoomInTheContextAndAnId) {
  SweepOptions o = span(32, 40, 50, {"sequential"});  // the tiny model's context is 32
  EXPECT_NO_THROW(plan_sweep(config(), 200, o));
  o.bos = true, o.bos_id = 47;
  try {
    plan_sweep(config(), 200, o);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("L <= 31"), std::string::npos) << e.what();
  }
  o.budget = 16, o.bos_id = -1;
  EXPECT_THROW(plan_sweep(config(), 200, o), Error);
}

TEST(SweepPlanTest, ShardsAreBalancedAndTheirMergedSweepsAreTheWhole) {
  auto w = fixtures::random_weights(config(), 71, 0.5f);
  Transformer model(w);
  const std::vector<int32_t> tokens = fixtures::random_tokens(260, 48, 72);
  SweepOptions o = span(16, 16, 200, {"sequential", "hierarchical", "dilated"});
  o.positions.insert(o.positions.end(), {230, 250});
  o.batch = 4;
  const SweepPlan plan = plan_sweep(model.config(), int64_t(tokens.size()), o);
  const std::vector<std::vector<int64_t>> shards = shard_targets(plan, 3);
  ASSERT_EQ(shards.size(), 3u);
  std::vector<int64_t> all;
  std::vector<int64_t> costs;
  for (const auto& s : shards) {
    ASSERT_FALSE(s.empty());
    all.insert(all.end(), s.begin(), s.end());
    SweepOptions part = o;
    part.positions = s;
    costs.push_back(plan_sweep(model.config(), int64_t(tokens.size()), part).spent_token_forwards());
  }
  EXPECT_EQ(all, plan.targets);
  const auto [lo, hi] = std::minmax_element(costs.begin(), costs.end());
  EXPECT_LT(double(*hi), 1.3 * double(*lo)) << "shards' costs " << costs[0] << ", " << costs[1] << ", " << costs[2];
  // The per-target schedule (dilated) makes shards of whole batches: its calls as in one sweep.
  ASSERT_EQ(plan.per_target_batch, std::vector<int>{4});
  for (size_t i = 0, before = 0; i + 1 < shards.size(); before += shards[i++].size()) EXPECT_EQ((before + shards[i].size()) % 4, 0u);
  EXPECT_EQ(shard_targets(plan, 1000).size(), (plan.targets.size() + 3) / 4);
  SweepOptions shared_only = o;
  shared_only.schedules = {"sequential", "hierarchical"};
  const SweepPlan shared_plan = plan_sweep(model.config(), int64_t(tokens.size()), shared_only);
  EXPECT_TRUE(shared_plan.per_target_batch.empty());
  EXPECT_EQ(shard_targets(shared_plan, 1000).size(), shared_plan.targets.size());

  const SweepResult whole = run_sweep(model, tokens, o);
  SweepResult merged;
  for (const auto& s : shards) {
    SweepOptions part = o;
    part.positions = s;
    const SweepResult r = run_sweep(model, tokens, part);
    if (merged.schedules.empty()) merged = r;
    else merged.merge(r);
  }
  EXPECT_EQ(merged.targets, whole.targets);
  sweep_test::expect_same_schedules(whole, merged, 1e-6);
  EXPECT_GT(merged.shared.token_forwards, whole.shared.token_forwards);  // the starts before each shard's first target, twice
  SweepResult early = run_sweep(model, tokens, o);
  EXPECT_THROW(early.merge(whole), Error);  // not later targets
}

}  // namespace
}  // namespace strata
