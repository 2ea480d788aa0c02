// Schedules: the exact context sets for small budgets, position-id conventions, the
// factory and every refusal (budget, base, custom JSON), each with a useful message.
#include "strata/schedule.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "strata/error.h"

namespace strata {
namespace {

std::vector<int64_t> range(int64_t first, int64_t last) {  // inclusive
  std::vector<int64_t> r;
  for (int64_t p = first; p <= last; ++p) r.push_back(p);
  return r;
}

std::vector<int32_t> ids(int n) {
  std::vector<int32_t> r(n);
  for (int i = 0; i < n; ++i) r[i] = i;
  return r;
}

// Runs f, expecting strata::Error whose message contains every fragment.
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected strata::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& frag : fragments)
      EXPECT_NE(msg.find(frag), std::string::npos) << "message: " << msg << "\nmissing: " << frag;
  }
}

TEST(ScheduleTest, SequentialGrowsOneTokenPerIteration) {
  SequentialSchedule s;
  const int64_t t = 20;
  const auto sets = s.contexts(t, 8);
  ASSERT_EQ(sets.size(), 8u);
  EXPECT_EQ(s.iterations(8), 8);
  for (int k = 1; k <= 8; ++k) {
    EXPECT_EQ(sets[k - 1].size(), k);
    EXPECT_EQ(sets[k - 1].positions, range(t - k, t - 1));
    EXPECT_EQ(sets[k - 1].position_ids, ids(k));
  }
  EXPECT_EQ(s.token_forwards(8), 36);  // 1 + 2 + … + 8
}

TEST(ScheduleTest, HierarchicalDoublesTheWindow) {
  HierarchicalSchedule s;
  const int64_t t = 8;  // the smallest t with a full budget: positions reach 0
  const auto sets = s.contexts(t, 8);
  ASSERT_EQ(sets.size(), 4u);
  EXPECT_EQ(s.iterations(8), 4);
  const int sizes[] = {1, 2, 4, 8};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(sets[k].positions, range(t - sizes[k], t - 1));
    EXPECT_EQ(sets[k].position_ids, ids(sizes[k]));
  }
  EXPECT_EQ(sets[3].positions.front(), 0);
  EXPECT_EQ(s.token_forwards(8), 15);
  EXPECT_EQ(s.iterations(1), 1);
}

TEST(ScheduleTest, HierarchicalOtherBase) {
  HierarchicalSchedule s(3);
  EXPECT_EQ(s.name(), "hierarchical:3");
  const auto sets = s.contexts(100, 9);
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].size(), 1);
  EXPECT_EQ(sets[1].size(), 3);
  EXPECT_EQ(sets[2].size(), 9);
  EXPECT_EQ(s.iterations(27), 4);
}

TEST(ScheduleTest, FinalIterationSameForSequentialAndHierarchical) {
  for (int budget : {1, 2, 16, 256}) {
    const auto seq = SequentialSchedule().contexts(1000, budget);
    const auto hier = HierarchicalSchedule().contexts(1000, budget);
    EXPECT_EQ(seq.back().positions, hier.back().positions) << budget;
    EXPECT_EQ(seq.back().position_ids, hier.back().position_ids) << budget;
  }
}

TEST(ScheduleTest, DilatedKeepsRelativeGaps) {
  DilatedSchedule s;
  const int64_t t = 50;
  const auto sets = s.contexts(t, 8);
  ASSERT_EQ(sets.size(), 4u);
  EXPECT_EQ(s.iterations(8), 4);
  EXPECT_EQ(sets[0].positions, (std::vector<int64_t>{49}));
  EXPECT_EQ(sets[1].positions, (std::vector<int64_t>{48, 49}));
  EXPECT_EQ(sets[2].positions, (std::vector<int64_t>{46, 48, 49}));
  EXPECT_EQ(sets[3].positions, (std::vector<int64_t>{42, 46, 48, 49}));
  // Position id of p is p - (t - 2^k): the gaps stay, the oldest token is at 0.
  EXPECT_EQ(sets[0].position_ids, (std::vector<int32_t>{0}));
  EXPECT_EQ(sets[1].position_ids, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(sets[2].position_ids, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(sets[3].position_ids, (std::vector<int32_t>{0, 4, 6, 7}));
  EXPECT_EQ(s.token_forwards(8), 10);
}

TEST(ScheduleTest, EmptyContextIterationComesFirst) {
  for (const char* spec : {"sequential", "hierarchical", "dilated", "custom:[2]"}) {
    const auto s = make_schedule(spec);
    const auto plain = s->contexts(10, 8);
    const auto with = s->contexts(10, 8, /*with_empty=*/true);
    ASSERT_EQ(with.size(), plain.size() + 1) << spec;
    EXPECT_TRUE(with[0].empty());
    EXPECT_TRUE(with[0].position_ids.empty());
    EXPECT_EQ(with[1].positions, plain[0].positions);
    EXPECT_EQ(s->token_forwards(8, true), s->token_forwards(8) + 1);  // the BOS token
  }
}

TEST(ScheduleTest, CustomWindowsFromJson) {
  const auto s = make_schedule(R"(custom:[1, 3, {"offsets": [4, 1, 2]}, 8])");
  EXPECT_EQ(s->name(), "custom");
  EXPECT_EQ(s->iterations(8), 4);
  const auto sets = s->contexts(30, 8);
  ASSERT_EQ(sets.size(), 4u);
  EXPECT_EQ(sets[0].positions, range(29, 29));
  EXPECT_EQ(sets[1].positions, range(27, 29));
  EXPECT_EQ(sets[1].position_ids, ids(3));
  EXPECT_EQ(sets[2].positions, (std::vector<int64_t>{26, 28, 29}));
  EXPECT_EQ(sets[2].position_ids, (std::vector<int32_t>{0, 2, 3}));
  EXPECT_EQ(sets[3].positions, range(22, 29));
  // The spec round-trips through the factory.
  EXPECT_EQ(s->spec(), R"(custom:[1,3,{"offsets":[1,2,4]},8])");
  EXPECT_EQ(make_schedule(s->spec())->offsets(8), s->offsets(8));
}

TEST(ScheduleTest, CustomFromFile) {
  const std::string path = (std::filesystem::temp_directory_path() / "strata_schedule_test.json").string();
  { std::ofstream(path) << "[1, 2, {\"offsets\": [1, 4]}]\n"; }
  const auto s = make_schedule("custom:@" + path);
  EXPECT_EQ(s->iterations(4), 3);
  { std::ofstream(path) << "[1, 0]"; }
  expect_error([&] { make_schedule("custom:@" + path); }, {path, "window 2", "positive"});
  std::filesystem::remove(path);
  expect_error([&] { make_schedule("custom:@" + path); }, {path});
}

TEST(ScheduleTest, CustomJsonErrors) {
  auto bad = [](const std::string& json, std::initializer_list<std::string> fragments) {
    SCOPED_TRACE(json);
    expect_error([&] { make_schedule("custom:" + json); }, fragments);
  };
  bad("[1, 2", {"malformed JSON"});
  bad("", {"malformed JSON"});
  bad(R"({"offsets": [1]})", {"list of windows"});
  bad("[]", {"empty"});
  bad("[1, 0]", {"window 2", "positive"});
  bad("[-3]", {"window 1", "positive"});
  bad("[1.5]", {"window 1", "positive integer"});
  bad(R"(["four"])", {"window 1", "positive integer"});
  bad("[true]", {"window 1", "positive integer"});
  bad("[[1, 2]]", {"window 1", "positive integer"});
  bad("[1000000000000]", {"window 1", "larger than"});
  bad("[18446744073709551615]", {"window 1", "larger than"});
  bad(R"([{"offsets": []}])", {"window 1", "empty offsets"});
  bad(R"([{"offsets": [1, 2, 1]}])", {"window 1", "repeated"});
  bad(R"([{"offsets": [0]}])", {"window 1", "positive"});
  bad(R"([{"offsets": 3}])", {"window 1", "offsets"});
  bad(R"([2, {"offset": [1]}])", {"window 2", "unknown key \"offset\""});
  expect_error([] { CustomSchedule(std::vector<std::vector<int>>{}); }, {"empty"});
  expect_error([] { CustomSchedule(std::vector<std::vector<int>>{{1}, {}}); }, {"window 2", "no offsets"});
  expect_error([] { CustomSchedule(std::vector<std::vector<int>>{{0}}); }, {"window 1", "at least 1"});
}

TEST(ScheduleTest, FactoryNames) {
  EXPECT_EQ(make_schedule("sequential")->name(), "sequential");
  EXPECT_EQ(make_schedule("hierarchical")->name(), "hierarchical");
  EXPECT_EQ(make_schedule("hierarchical:2")->name(), "hierarchical");
  EXPECT_EQ(make_schedule("hierarchical:4")->spec(), "hierarchical:4");
  EXPECT_EQ(make_schedule("dilated")->name(), "dilated");
  for (const char* unknown : {"", "Sequential", "linear", "sequential:2", "custom", "dilated:3"})
    expect_error([&] { make_schedule(unknown); },
                 {"unknown schedule", "sequential", "hierarchical:<base>", "dilated", "custom:<json>", "custom:@"});
  expect_error([] { make_schedule("hierarchical:two"); }, {"base must be an integer"});
  expect_error([] { make_schedule("hierarchical:"); }, {"base must be an integer"});
  expect_error([] { make_schedule("hierarchical:1"); }, {"base 1", "at least 2"});
  expect_error([] { make_schedule("hierarchical:-2"); }, {"at least 2"});
  expect_error([] { HierarchicalSchedule(0); }, {"at least 2"});
}

TEST(ScheduleTest, BudgetErrors) {
  const SequentialSchedule seq;
  const HierarchicalSchedule hier;
  const DilatedSchedule dil;
  EXPECT_NO_THROW(validate_budget(seq, 8, 256, 8));
  EXPECT_NO_THROW(validate_budget(seq, 7, 256, 100));
  EXPECT_NO_THROW(validate_budget(hier, 256, 256, 1000));
  expect_error([&] { validate_budget(seq, 0, 256, 100); }, {"L=0", "at least 1"});
  expect_error([&] { validate_budget(hier, -4, 256, 100); }, {"L=-4", "at least 1"});
  expect_error([&] { validate_budget(seq, 512, 256, 1000); }, {"L=512", "context of 256"});
  expect_error([&] { validate_budget(hier, 8, 256, 5); }, {"t=5", "L=8"});
  expect_error([&] { validate_budget(hier, 6, 256, 100); }, {"power of 2", "L=6", "4 or 8"});
  expect_error([&] { validate_budget(HierarchicalSchedule(3), 8, 256, 100); }, {"power of 3", "3 or 9"});
  expect_error([&] { validate_budget(dil, 12, 256, 100); }, {"dilated", "power of 2"});
  expect_error([&] { validate_budget(*make_schedule("custom:[1, 16]"), 8, 256, 100); },
               {"window 2", "16", "L=8"});
  // contexts() applies the schedule's own rules and the history check as well.
  expect_error([&] { hier.contexts(100, 12); }, {"power of 2"});
  expect_error([&] { seq.contexts(3, 4); }, {"t=3", "L=4"});
  expect_error([&] { seq.iterations(0); }, {"at least 1"});
}


TEST(ScheduleTest, BudgetChoicesAndDefaults) {
  using V = std::vector<int>;
  // Each schedule offers its own grid, up to the smaller of history and context.
  EXPECT_EQ(SequentialSchedule().budget_choices(300, 256), (V{1, 2, 4, 8, 16, 32, 64, 128, 256}));
  EXPECT_EQ(HierarchicalSchedule().budget_choices(100, 256), (V{1, 2, 4, 8, 16, 32, 64}));
  EXPECT_EQ(HierarchicalSchedule(3).budget_choices(1000, 256), (V{1, 3, 9, 27, 81, 243}));
  EXPECT_EQ(DilatedSchedule().budget_choices(9, 256), (V{1, 2, 4, 8}));
  EXPECT_EQ(make_schedule("custom:[1, 3, 16]")->budget_choices(100, 256), (V{16}));
  EXPECT_EQ(make_schedule("custom:[1, 3, 16]")->budget_choices(15, 256), V{});
  EXPECT_EQ(SequentialSchedule().budget_choices(0, 256), V{});
  // The default is the largest choice, and it is always accepted: hierarchical:3 on a
  // 256-token model defaults to 243, never to a power of 2 it would then refuse.
  for (const char* spec : {"sequential", "hierarchical", "hierarchical:3", "hierarchical:5", "dilated", "custom:[2, 7]"}) {
    const auto s = make_schedule(spec);
    const int L = s->default_budget(1000, 256);
    EXPECT_TRUE(s->accepts_budget(L)) << spec << " L=" << L;
    EXPECT_NO_THROW(validate_budget(*s, L, 256, 1000)) << spec;
  }
  EXPECT_EQ(make_schedule("hierarchical:3")->default_budget(1000, 256), 243);
  EXPECT_EQ(make_schedule("hierarchical:5")->default_budget(1000, 256), 125);
  expect_error([] { SequentialSchedule().default_budget(0, 256); }, {"no tokens before it"});
  expect_error([] { make_schedule("custom:[64]")->default_budget(40, 256); }, {"40 tokens", "256"});
  EXPECT_FALSE(HierarchicalSchedule().accepts_budget(6));
  EXPECT_TRUE(SequentialSchedule().accepts_budget(6));
}

TEST(ScheduleTest, LevelsOfOffsets) {
  // Hierarchical: the level whose window first reaches d; sequential is coloured in the
  // same doubling bands; dilated only reaches the powers of 2; custom by its windows.
  const HierarchicalSchedule h2, h3(3);
  const SequentialSchedule seq;
  const DilatedSchedule dil;
  const int want2[] = {0, 1, 2, 2, 3, 3, 3, 3, 4};  // d = 1 … 9
  for (int d = 1; d <= 9; ++d) {
    EXPECT_EQ(h2.level_of_offset(d, 16), want2[d - 1]) << d;
    EXPECT_EQ(seq.level_of_offset(d, 16), want2[d - 1]) << d;
  }
  EXPECT_EQ(h3.level_of_offset(1, 27), 0);
  EXPECT_EQ(h3.level_of_offset(3, 27), 1);
  EXPECT_EQ(h3.level_of_offset(4, 27), 2);
  EXPECT_EQ(h3.level_of_offset(27, 27), 3);
  EXPECT_EQ(h2.level_of_offset(17, 16), -1);
  EXPECT_EQ(dil.level_of_offset(4, 16), 2);
  EXPECT_EQ(dil.level_of_offset(3, 16), -1);
  const auto custom = make_schedule(R"(custom:[2, {"offsets": [1, 5]}, 8])");
  EXPECT_EQ(custom->level_of_offset(2, 8), 0);
  EXPECT_EQ(custom->level_of_offset(5, 8), 1);
  EXPECT_EQ(custom->level_of_offset(3, 8), 2);
  // The default (first window holding d) agrees with the hierarchical rule.
  for (int d = 1; d <= 27; ++d) EXPECT_EQ(h3.Schedule::level_of_offset(d, 27), h3.level_of_offset(d, 27)) << d;
}

TEST(ScheduleTest, GramColumnsAndRankPoints) {
  using P = std::vector<std::pair<int, int>>;
  auto pairs = [](const std::vector<Schedule::RankPoint>& r) {
    P out;
    for (const auto& p : r) out.push_back({p.budget, p.columns});
    return out;
  };
  EXPECT_EQ(SequentialSchedule().gram_columns(16), 15);
  EXPECT_EQ(HierarchicalSchedule().gram_columns(16), 4);
  EXPECT_EQ(HierarchicalSchedule().gram_columns(16, true), 5);
  EXPECT_EQ(pairs(SequentialSchedule().rank_points(16)), (P{{2, 1}, {4, 3}, {8, 7}, {16, 15}}));
  EXPECT_EQ(pairs(SequentialSchedule().rank_points(12)), (P{{2, 1}, {4, 3}, {8, 7}, {12, 11}}));
  EXPECT_EQ(pairs(HierarchicalSchedule().rank_points(16, true)), (P{{2, 2}, {4, 3}, {8, 4}, {16, 5}}));
  EXPECT_EQ(pairs(HierarchicalSchedule(3).rank_points(27)), (P{{3, 1}, {9, 2}, {27, 3}}));
  // Bounds are drawn for budgets a schedule was not swept at (12 is no power of 2).
  EXPECT_EQ(pairs(HierarchicalSchedule().rank_points(12)), (P{{2, 1}, {4, 2}, {8, 3}}));
  EXPECT_EQ(pairs(DilatedSchedule().rank_points(8)), (P{{2, 1}, {4, 2}, {8, 3}}));
  EXPECT_EQ(pairs(make_schedule("custom:[1, 3, 16]")->rank_points(16)), (P{{16, 2}}));
  // A single iteration leaves no update to rank (found by the fuzzer: hierarchical:796 at L = 1).
  EXPECT_EQ(pairs(make_schedule("hierarchical:796")->rank_points(1)), P{});
  EXPECT_EQ(pairs(make_schedule("custom:[5]")->rank_points(8)), P{});
  // The point at L always has the Gram matrix's own column count.
  for (const char* spec : {"sequential", "hierarchical", "hierarchical:4", "dilated"})
    EXPECT_EQ(make_schedule(spec)->rank_points(16).back().columns, make_schedule(spec)->gram_columns(16)) << spec;
}

TEST(ScheduleTest, ContiguousWindows) {
  EXPECT_TRUE(SequentialSchedule().contiguous(8));
  EXPECT_TRUE(HierarchicalSchedule(3).contiguous(9));
  EXPECT_FALSE(DilatedSchedule().contiguous(8));
  EXPECT_TRUE(DilatedSchedule().contiguous(2));  // {1} and {2, 1}
  EXPECT_TRUE(make_schedule("custom:[1, 5, 3]")->contiguous(8));
  EXPECT_FALSE(make_schedule(R"(custom:[1, {"offsets": [1, 3]}])")->contiguous(8));
}


// Fuzzing findings (issue 11): each failed before its fix.
TEST(ScheduleTest, NumberBeyondDoubleIsAStrataError) {
  // nlohmann throws out_of_range, not parse_error, for 1e400: it used to escape make_schedule.
  expect_error([] { make_schedule("custom:[1e400]"); }, {"malformed JSON"});
  expect_error([] { make_schedule(R"(custom:[{"offsets": [1, -1e999]}])"); }, {"malformed JSON"});
}

TEST(ScheduleTest, TotalSizeIsBoundedBeforeExpanding) {
  // 40 windows of 2^24 tokens: 2.6 GB of offsets were built before anything refused them.
  std::string spec = "custom:[";
  for (int i = 0; i < 40; ++i) spec += (i ? ",16777216" : "16777216");
  spec += "]";
  expect_error([&] { make_schedule(spec); }, {"offsets in all", "more than 16777216"});
  expect_error([] { CustomSchedule(std::vector<std::vector<int>>(2, std::vector<int>(9000000, 1))); }, {"offsets in all"});
  // One large window alone is fine, and cheap: already in order, it is not sorted again.
  EXPECT_EQ(make_schedule("custom:[1, 4000000]")->iterations(4000000), 2);
}

}  // namespace
}  // namespace strata
