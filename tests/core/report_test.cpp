// The report: summary.json has every required key with consistent shapes, report.html
// holds the figures, a context-free model gives a flat, rank-0 report without NaN, bad
// input is refused, and CSV quoting behaves.
#include "strata/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>

#include "strata/error.h"

#include "fixtures.h"

namespace strata {
namespace {

using json = nlohmann::json;

using fixtures::random_tokens;

ModelConfig tiny_config() { return fixtures::tiny_config(40); }

struct SweptRun {
  SweepOptions options;
  SweepResult result;
  std::shared_ptr<Weights> weights;
};

SweptRun sweep(bool context_free, std::vector<std::string> schedules, int budget = 8, int targets = 6) {
  SweptRun r;
  r.weights = context_free ? fixtures::context_free_weights(tiny_config(), 21) : fixtures::random_weights(tiny_config(), 21);
  Transformer model(r.weights);
  r.options.budget = budget;
  r.options.targets = targets;
  r.options.schedules = std::move(schedules);
  r.options.batch = 4;
  r.result = run_sweep(model, random_tokens(60, 40, 22), r.options);
  return r;
}

json summarize(const SweptRun& r, double tol = 1e-2) {
  ReportInfo info;
  info.tolerance = tol;
  info.model_dir = "tiny";
  info.text_path = "random";
  const auto s = make_summary(r.result, r.options, r.weights->config, info);
  return json::parse(s.dump());  // what a reader of summary.json gets
}

// "nan" or "inf" as a word: a number that should have been written as a dash or null.
bool has_nan(const std::string& html) { return std::regex_search(html, std::regex("\\b(nan|inf)\\b", std::regex::icase)); }

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(ReportTest, SummaryHasTheRequiredKeys) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical", "dilated", "custom:[1,3,8]"});
  const json s = summarize(r);
  EXPECT_EQ(s["budget"], 8);
  EXPECT_EQ(s["targets"]["count"], 6);
  EXPECT_EQ(s["targets"]["positions"].size(), 6u);
  for (const char* name : {"sequential", "hierarchical", "dilated", "custom"}) {
    SCOPED_TRACE(name);
    const json& js = s["schedules"][name];
    for (const char* key : {"context_len", "mean_surprisal_bits", "std_error_bits", "token_forwards", "flops", "seconds",
                            "token_forwards_per_second", "span"})
      EXPECT_TRUE(js.contains(key)) << key;
    EXPECT_EQ(js["context_len"].size(), js["mean_surprisal_bits"].size());
    EXPECT_EQ(js["std_error_bits"].size(), js["mean_surprisal_bits"].size());
    EXPECT_TRUE(s["anytime"][name]["cumulative_flops"].is_array());
    EXPECT_TRUE(s["rank"]["singular_values"].contains(name));
  }
  EXPECT_EQ(s["schedules"]["sequential"]["context_len"], json({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(s["schedules"]["hierarchical"]["context_len"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["dilated"]["span"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["schedules"]["dilated"]["context_len"], json({1, 2, 3, 4}));
  EXPECT_EQ(s["schedules"]["sequential"]["token_forwards"], 6 * 36);
  for (const char* name : {"sequential", "hierarchical"})
    for (const char* key : {"a", "beta", "c", "r2"}) EXPECT_TRUE(s["power_law"][name][key].is_number()) << name << key;
  EXPECT_EQ(s["power_law"]["sequential"]["ns"], json({1, 2, 4, 8}));
  EXPECT_EQ(s["power_law_all_points"]["sequential"]["points"], 8);
  EXPECT_FALSE(s["power_law"].contains("dilated"));  // fits only for the two main schedules
  EXPECT_EQ(s["per_token_contribution"]["sequential"]["delta_bits"].size(), 8u);
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
  EXPECT_NEAR(s["compute"]["token_forward_ratio"].get<double>(), 36.0 / 15.0, 1e-12);
  EXPECT_TRUE(s["compute"].contains("wall_time_ratio_seq_to_hier"));
  EXPECT_TRUE(s["first_token_policy"].is_string());

  const std::string html = make_report_html(make_summary(r.result, r.options, r.weights->config, {}));
  EXPECT_GE(count(html, "<svg"), 3u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_FALSE(has_nan(html));
}

TEST(ReportTest, ContextFreeModelGivesAFlatRankZeroReport) {
  const SweptRun r = sweep(true, {"sequential", "hierarchical"});
  const json s = summarize(r);
  for (const char* name : {"sequential", "hierarchical"}) {
    const json& f = s["power_law"][name];
    EXPECT_TRUE(f["flat"].get<bool>());
    EXPECT_EQ(f["a"], 0.0);
    EXPECT_EQ(f["beta"], 0.0);
    EXPECT_NEAR(f["c"].get<double>(), std::log2(40.0), 1e-5);
    EXPECT_EQ(f["r2"], 1.0);
    for (const json& m : s["schedules"][name]["mean_surprisal_bits"]) EXPECT_NEAR(m.get<double>(), std::log2(40.0), 1e-5);
    for (const json& k : s["rank"][name]) EXPECT_EQ(k, 0);
  }
  EXPECT_EQ(s["rank"]["sequential_below_half_from"], 2);
  EXPECT_EQ(s["final_gap_bits"], 0.0);
  const std::string html = make_report_html(make_summary(r.result, r.options, r.weights->config, {}));
  EXPECT_GE(count(html, "<svg"), 3u);
  EXPECT_FALSE(has_nan(html));
}

TEST(ReportTest, WithoutTheMainSchedulesAndWithDuplicates) {
  const SweptRun r = sweep(false, {"dilated", "custom:[1,2]", "custom:[4,8]"}, 8, 3);
  const json s = summarize(r);
  EXPECT_TRUE(s["schedules"].contains("custom#2"));
  EXPECT_TRUE(s["power_law"].empty());
  EXPECT_TRUE(s["final_gap_bits"].is_null());
  EXPECT_FALSE(s["rank"].contains("sequential"));
  EXPECT_GE(count(make_report_html(make_summary(r.result, r.options, r.weights->config, {})), "<svg"), 3u);
  // Budget 2: only two log-spaced points, so no fit, but no failure either.
  const SweptRun small = sweep(false, {"sequential", "hierarchical"}, 2, 3);
  const json s2 = summarize(small);
  EXPECT_TRUE(s2["power_law"]["sequential"]["r2"].is_null());
  EXPECT_EQ(s2["rank"]["budgets"], json({2}));
  EXPECT_NO_THROW(make_report_html(make_summary(small.result, small.options, small.weights->config, {})));
}

TEST(ReportTest, RefusesBadInput) {
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
  EXPECT_THROW(make_report_html(nlohmann::ordered_json::object()), Error);
}

TEST(ReportTest, CsvQuoting) {
  EXPECT_EQ(csv_quote("plain"), "\"plain\"");
  EXPECT_EQ(csv_quote("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
  EXPECT_EQ(csv_quote(""), "\"\"");
}


}  // namespace
}  // namespace strata
