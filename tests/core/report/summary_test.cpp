// The summary: every required key with consistent shapes, means and standard errors from
// the sweep's rows, fits as the core's fit states them (a fit, flat, too few points), a
// context-free model gives a flat, rank-0 summary, the words section, unique labels, and
// bad input is refused.
#include <gtest/gtest.h>

#include <cmath>

#include "report_fixture.h"
#include "strata/error.h"
#include "strata/report.h"
#include "strata/words.h"

namespace strata {
namespace {

using json = nlohmann::json;
using fixtures::record;
using fixtures::sweep;
using fixtures::SweptRun;

json summarize(const SweptRun& r, double tol = 1e-2) {
  const auto s = make_summary(r.result, r.options, r.weights->config, record(r, tol));
  return json::parse(s.dump());  // what a reader of summary.json gets
}

TEST(SummaryTest, HasTheRequiredKeys) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical", "dilated", "custom:[1,3,8]"});
  const json s = summarize(r);
  EXPECT_EQ(s["budget"], 8);
  EXPECT_EQ(s["targets"]["count"], 6);
  EXPECT_EQ(s["targets"]["positions"].size(), 6u);
  EXPECT_EQ(s["targets"]["selection"], "even");
  EXPECT_TRUE(s["targets"]["stride"].is_null());
  EXPECT_FALSE(s["targets"].contains("mean_bytes"));  // no tokenizer recorded
  EXPECT_EQ(s["text"]["tokens"], 60);
  for (const char* name : {"sequential", "hierarchical", "dilated", "custom"}) {
    SCOPED_TRACE(name);
    const json& js = s["schedules"][name];
    for (const char* key : {"spec", "iterations", "context_len", "mean_surprisal_bits", "std_error_bits", "token_forwards",
                            "token_forwards_per_target", "flops", "seconds", "token_forwards_per_second", "span"})
      EXPECT_TRUE(js.contains(key)) << key;
    EXPECT_EQ(js["context_len"].size(), js["mean_surprisal_bits"].size());
    EXPECT_EQ(js["std_error_bits"].size(), js["mean_surprisal_bits"].size());
    EXPECT_EQ(js["iterations"], js["context_len"].size());
    EXPECT_EQ(s["anytime"][name]["cumulative_flops"].size(), js["context_len"].size());
    EXPECT_EQ(s["anytime"][name]["mean_surprisal_bits"], js["mean_surprisal_bits"]);
    EXPECT_TRUE(s["rank"]["singular_values"].contains(name));
    EXPECT_EQ(s["final_mean_bits"][name], js["mean_surprisal_bits"].back());
  }
  EXPECT_EQ(s["schedules"]["custom"]["spec"], "custom:[1,3,8]");
  EXPECT_EQ(s["schedules"]["sequential"]["context_len"], json({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(s["schedules"]["hierarchical"]["context_len"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["dilated"]["span"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["dilated"]["context_len"], json({1, 2, 3, 4}));
  EXPECT_EQ(s["schedules"]["sequential"]["token_forwards"], 6 * 36);
  EXPECT_EQ(s["schedules"]["sequential"]["token_forwards_per_target"], 36.0);
  EXPECT_EQ(s["anytime"]["hierarchical"]["cumulative_token_forwards"], json({1.0, 3.0, 7.0, 15.0}));
  for (const char* name : {"sequential", "hierarchical"})
    for (const char* key : {"a", "beta", "c", "r2"}) EXPECT_TRUE(s["power_law"][name][key].is_number()) << name << key;
  EXPECT_EQ(s["power_law"]["sequential"]["ns"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["power_law"]["sequential"]["points"], 4);
  EXPECT_FALSE(s["power_law"]["sequential"]["flat"].get<bool>());
  EXPECT_TRUE(s["power_law"]["sequential"].contains("beta_at_bound"));
  EXPECT_EQ(s["power_law_all_points"]["sequential"]["points"], 8);
  EXPECT_FALSE(s["power_law"].contains("dilated"));  // fits only for the two main schedules
  EXPECT_EQ(s["per_token_contribution"]["sequential"]["delta_bits"].size(), 8u);
  EXPECT_EQ(s["per_token_contribution"]["sequential"]["context_len"][0], 1);
  const json& rank = s["rank"];
  EXPECT_EQ(rank["tolerance"], 1e-2);
  EXPECT_EQ(rank["budgets"], json({2, 4, 8}));
  EXPECT_EQ(rank["sequential_bound"], json({1, 3, 7}));
  EXPECT_EQ(rank["hierarchical_bound"], json({1, 2, 3}));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_LE(rank["sequential"][i].get<int>(), rank["sequential_bound"][i].get<int>());
    EXPECT_LE(rank["hierarchical"][i].get<int>(), rank["hierarchical_bound"][i].get<int>());
  }
  EXPECT_EQ(rank["effective_rank"]["sequential"].size(), 3u);
  EXPECT_EQ(rank["singular_values"]["sequential"].size(), 7u);
  EXPECT_EQ(rank["singular_values"]["hierarchical"].size(), 3u);
  EXPECT_EQ(rank["by_schedule"]["dilated"]["bound"], json({1, 2, 3}));
  EXPECT_EQ(rank["by_schedule"]["custom"]["budgets"], json({8}));
  EXPECT_TRUE(rank.contains("sequential_below_half_from"));
  ASSERT_TRUE(s["final_gap_bits"].is_number());
  EXPECT_LE(s["final_gap_bits"].get<double>(), 1e-4);
  EXPECT_LE(s["final_gap_mean_bits"].get<double>(), s["final_gap_bits"].get<double>());
  EXPECT_NEAR(s["compute"]["token_forward_ratio"].get<double>(), 36.0 / 15.0, 1e-12);
  EXPECT_TRUE(s["compute"].contains("wall_time_ratio_seq_to_hier"));
  EXPECT_TRUE(s["compute"]["wall_time_ratio_seq_to_hier"].is_null());  // they shared passes: no wall time of their own
  EXPECT_TRUE(s["first_token_policy"].is_string());
  EXPECT_FALSE(s.contains("words"));
  // Paths and the two views of compute: the schedules' own cost and what the sweep spent.
  EXPECT_EQ(s["schedules"]["sequential"]["path"], "shared passes");
  EXPECT_EQ(s["schedules"]["dilated"]["path"], "per target");
  EXPECT_TRUE(s["schedules"]["sequential"]["seconds"].is_null());
  EXPECT_TRUE(s["schedules"]["dilated"]["seconds"].is_number());
  const json& compute = s["compute"];
  int64_t own = 0;
  for (const auto& [name, js] : s["schedules"].items()) own += js["token_forwards"].get<int64_t>();
  EXPECT_EQ(compute["own"]["token_forwards"], own);
  EXPECT_EQ(compute["spent"]["token_forwards"].get<int64_t>(), r.result.spent().token_forwards);
  EXPECT_EQ(compute["paths"]["shared"]["token_forwards"].get<int64_t>(), r.result.shared.token_forwards);
  EXPECT_EQ(compute["paths"]["per_target"]["token_forwards"].get<int64_t>(), r.result.per_target.token_forwards);
  EXPECT_EQ(compute["paths"]["per_target"]["schedules"], json({"dilated"}));
  EXPECT_NEAR(compute["sharing_factor"].get<double>(), double(own) / double(r.result.spent().token_forwards), 1e-12);
  EXPECT_EQ(compute["gram_form"], "hidden");
  EXPECT_GT(compute["in_flight"]["targets"].get<int64_t>(), 0);
  EXPECT_EQ(s["targets"]["ranges"].size(), s["targets"]["positions"].size());  // six targets spread apart
  EXPECT_EQ(s["bos"]["before_every_context"], false);
  EXPECT_TRUE(s["domain"]["rising"].is_boolean());
  EXPECT_TRUE(s["domain"]["bits_per_byte"].is_null());  // no tokenizer given: no bytes to count

  // The key order is part of the format: a reader diffing two summaries sees the same layout.
  const auto ordered = make_summary(r.result, r.options, r.weights->config, record(r));
  std::vector<std::string> in_order;
  for (auto it = ordered.begin(); it != ordered.end(); ++it) in_order.push_back(it.key());
  EXPECT_EQ(in_order, (std::vector<std::string>{"budget", "with_empty", "bos", "tolerance", "first_token_policy", "model", "text",
                                                "targets", "schedules", "power_law", "power_law_all_points",
                                                "per_token_contribution", "rank", "final_gap_bits", "final_gap_mean_bits",
                                                "final_mean_bits", "compute", "anytime", "domain"}));
}

TEST(SummaryTest, MeansAndStandardErrorsAreTheRowsOnes) {
  const ModelConfig c = fixtures::tiny_config(fixtures::kReportVocab);
  Transformer model(fixtures::random_weights(c, 25));
  SweepOptions o;
  o.budget = 4;
  o.targets = 7;
  o.schedules = {"sequential", "custom:[2,{\"offsets\":[1,3]}]"};
  o.batch = 3;
  std::vector<SweepRow> rows;
  const SweepResult r = run_sweep(model, fixtures::random_tokens(50, fixtures::kReportVocab, 26), o,
                                  [&](const SweepRow& row) { rows.push_back(row); });
  const json s = json::parse(make_summary(r, o, c, {}).dump());
  for (int si = 0; si < 2; ++si) {
    const json& js = s["schedules"][si == 0 ? "sequential" : "custom"];
    const size_t K = js["context_len"].size();
    for (size_t k = 0; k < K; ++k) {
      std::vector<double> v;
      for (const SweepRow& row : rows)
        if (row.schedule == si && row.iteration == int(k)) v.push_back(row.surprisal_bits);
      ASSERT_EQ(v.size(), 7u);
      double mean = 0, sq = 0;
      for (double x : v) mean += x / 7.0;
      for (double x : v) sq += (x - mean) * (x - mean);
      EXPECT_NEAR(js["mean_surprisal_bits"][k].get<double>(), mean, 1e-12 * std::fabs(mean));
      EXPECT_NEAR(js["std_error_bits"][k].get<double>(), std::sqrt(sq / 6.0 / 7.0), 1e-12 * std::fabs(mean));
    }
  }
  // A custom schedule repeating a context length has per-iteration statistics but no curve
  // over n: no fit, no staircase.
  EXPECT_EQ(s["schedules"]["custom"]["context_len"], json({2, 2}));
  EXPECT_EQ(s["schedules"]["custom"]["span"], json({2, 3}));
  EXPECT_FALSE(s["power_law"].contains("custom"));
  // One target: no spread to measure.
  o.targets = 1;
  const SweepResult one = run_sweep(model, fixtures::random_tokens(50, fixtures::kReportVocab, 26), o);
  const json s1 = json::parse(make_summary(one, o, c, {}).dump());
  for (const json& e : s1["schedules"]["sequential"]["std_error_bits"]) EXPECT_TRUE(e.is_null());
}

TEST(SummaryTest, ContextFreeModelGivesAFlatRankZeroSummary) {
  const SweptRun r = sweep(true, {"sequential", "hierarchical"});
  const json s = summarize(r);
  for (const char* name : {"sequential", "hierarchical"}) {
    const json& f = s["power_law"][name];
    EXPECT_TRUE(f["flat"].get<bool>());
    EXPECT_EQ(f["a"], 0.0);
    EXPECT_EQ(f["beta"], 0.0);
    EXPECT_NEAR(f["c"].get<double>(), std::log2(40.0), 1e-5);
    EXPECT_EQ(f["r2"], 1.0);
    EXPECT_FALSE(f.contains("beta_at_bound"));
    EXPECT_EQ(f["note"], "flat curve: fitted exactly by its constant value");
    for (const json& m : s["schedules"][name]["mean_surprisal_bits"]) EXPECT_NEAR(m.get<double>(), std::log2(40.0), 1e-5);
    for (const json& e : s["schedules"][name]["std_error_bits"]) EXPECT_EQ(e, 0.0);  // exactly: no Σx² cancellation
    for (const json& k : s["rank"][name]) EXPECT_EQ(k, 0);
  }
  EXPECT_EQ(s["rank"]["sequential_below_half_from"], 2);
  EXPECT_EQ(s["final_gap_bits"], 0.0);
}

TEST(SummaryTest, WithoutTheMainSchedulesAndWithDuplicates) {
  const SweptRun r = sweep(false, {"dilated", "custom:[1,2]", "custom:[4,8]"}, 8, 3);
  const json s = summarize(r);
  EXPECT_TRUE(s["schedules"].contains("custom#2"));
  EXPECT_EQ(s["schedules"]["custom#2"]["spec"], "custom:[4,8]");
  EXPECT_TRUE(s["power_law"].empty());
  EXPECT_TRUE(s["power_law_all_points"].empty());
  EXPECT_TRUE(s["per_token_contribution"].empty());
  EXPECT_TRUE(s["final_gap_bits"].is_null());
  EXPECT_TRUE(s["compute"]["token_forward_ratio"].is_null());
  EXPECT_FALSE(s["rank"].contains("sequential"));
  EXPECT_TRUE(s["rank"]["effective_rank"].empty());
  // Budget 2: only two log-spaced points, so no fit, said so, but no failure either.
  const SweptRun small = sweep(false, {"sequential", "hierarchical"}, 2, 3);
  const json s2 = summarize(small);
  const json& f = s2["power_law"]["sequential"];
  EXPECT_TRUE(f["r2"].is_null());
  EXPECT_TRUE(f["a"].is_null());
  EXPECT_EQ(f["points"], 2);
  EXPECT_EQ(f["ns"], json({1, 2}));
  EXPECT_FALSE(f["flat"].get<bool>());
  EXPECT_EQ(f["note"], "fewer than 3 points: no fit");
  EXPECT_EQ(s2["rank"]["budgets"], json({2}));
}

TEST(SummaryTest, WithTheEmptyIteration) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical"}, 8, 4, true);
  const json s = summarize(r);
  EXPECT_TRUE(s["with_empty"].get<bool>());
  EXPECT_EQ(s["schedules"]["hierarchical"]["context_len"], json({0, 1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["hierarchical"]["span"], json({0, 1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["sequential"]["mean_surprisal_bits"][0], s["schedules"]["hierarchical"]["mean_surprisal_bits"][0]);
  EXPECT_EQ(s["per_token_contribution"]["sequential"]["context_len"][0], 0);
  EXPECT_EQ(s["rank"]["sequential_bound"], json({2, 4, 8}));  // one more column each
  EXPECT_EQ(s["anytime"]["hierarchical"]["cumulative_token_forwards"][0], 1.0);  // the BOS token
}

TEST(SummaryTest, WordsSectionAndTargetRecord) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical"});
  ReportInfo info = record(r);
  const Tokenizer bytes;  // ids 0…39 are one byte each
  info.tokenizer = &bytes;
  info.tokens = r.tokens;
  info.target_selection = "words";
  std::vector<SeriesAccumulator> words(2);
  words[0].add(0, 3.0), words[0].add(0, 5.0), words[0].add(1, 2.0);
  words[1].add(0, 1.5);
  info.word_count = 2;
  info.word_surprisal = &words;
  const auto ordered = make_summary(r.result, r.options, r.weights->config, info);
  const json s = json::parse(ordered.dump());
  EXPECT_EQ(s["targets"]["selection"], "words");
  EXPECT_EQ(s["targets"]["mean_bytes"], 1.0);
  ASSERT_TRUE(s.contains("words"));
  EXPECT_EQ((--ordered.end()).key(), "words");  // the last section
  EXPECT_EQ(s["words"]["count"], 2);
  EXPECT_TRUE(s["words"]["stride"].is_null());
  EXPECT_EQ(s["words"]["policy"], kWordPolicy);
  EXPECT_EQ(s["words"]["mean_surprisal_bits"]["sequential"], json({4.0, 2.0}));
  EXPECT_EQ(s["words"]["mean_surprisal_bits"]["hierarchical"], json({1.5}));
  std::vector<SeriesAccumulator> one(1);
  info.word_surprisal = &one;
  EXPECT_THROW(make_summary(r.result, r.options, r.weights->config, info), Error);
}

TEST(SummaryTest, Labels) {
  EXPECT_EQ(schedule_labels(std::vector<std::string>{"custom", "sequential", "custom", "custom"}),
            (std::vector<std::string>{"custom", "sequential", "custom#2", "custom#3"}));
  EXPECT_TRUE(schedule_labels(std::vector<std::string>{}).empty());
  SweepResult r;
  r.schedules.resize(2);
  r.schedules[0].name = r.schedules[1].name = "dilated";
  EXPECT_EQ(schedule_labels(r), (std::vector<std::string>{"dilated", "dilated#2"}));
}

TEST(SummaryTest, RefusesBadInput) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical"}, 4, 2);
  ReportInfo info;
  for (double tol : {0.0, 1.0, -0.5, double(NAN)}) {
    info.tolerance = tol;
    EXPECT_THROW(make_summary(r.result, r.options, r.weights->config, info), Error) << tol;
  }
  info.tolerance = 1e-2;
  SweepResult empty;
  EXPECT_THROW(make_summary(empty, r.options, r.weights->config, info), Error);
  SweepOptions fewer = r.options;
  fewer.schedules.pop_back();
  EXPECT_THROW(make_summary(r.result, fewer, r.weights->config, info), Error);
  SweepResult short_stats = r.result;  // an iteration with fewer samples than targets
  short_stats.schedules[0].surprisal = SeriesAccumulator(int(short_stats.schedules[0].context_len.size()));
  EXPECT_THROW(make_summary(short_stats, r.options, r.weights->config, info), Error);
}

}  // namespace
}  // namespace strata
