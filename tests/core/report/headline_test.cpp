// The headline lines `strata analyze` prints: their exact layout for a hand-made summary,
// the bound's note, and the lines left out when a schedule or a fit is missing.
#include <gtest/gtest.h>

#include "report_fixture.h"
#include "strata/report.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;

TEST(HeadlineTest, LinesOfAHandMadeSummary) {
  ojson s;
  s["power_law"]["sequential"] = {{"a", 2.98}, {"beta", 0.787}, {"c", 3.53}, {"r2", 0.9941}, {"beta_at_bound", false}};
  s["power_law"]["hierarchical"] = {{"a", -500.0}, {"beta", 0.0},        {"c", 600.0},
                                    {"r2", 0.99},  {"beta_at_bound", true}, {"note", "beta at its lower bound 0"}};
  s["final_gap_bits"] = 0.0;
  s["rank"]["sequential"] = {1, 3, 63};
  s["rank"]["sequential_bound"] = {1, 3, 63};
  s["rank"]["hierarchical"] = {1, 2, 6};
  s["rank"]["hierarchical_bound"] = {1, 2, 6};
  s["schedules"]["sequential"] = {{"seconds", 14.421}, {"token_forwards_per_second", 3317.4}};
  s["schedules"]["hierarchical:4"] = {{"seconds", 1.28}, {"token_forwards_per_second", nullptr}};
  EXPECT_EQ(summary_headline(s),
            "  sequential    power law a=2.980 beta=0.787 c=3.530 R2=0.994 (n = 1, 2, 4, ...)\n"
            "  hierarchical  power law a=-500.000 beta=0.000 c=600.000 R2=0.990 (n = 1, 2, 4, ...)\n"
            "                beta at its lower bound 0\n"
            "  final gap (sequential vs hierarchical at L): 0 bits\n"
            "  sequential    rank at L: 63 of 63\n"
            "  hierarchical  rank at L: 6 of 6\n"
            "  sequential    14.42 s, 3317 token-forwards/s\n"
            "  hierarchical:4 1.28 s, 0 token-forwards/s\n");
}

TEST(HeadlineTest, MissingPartsAreLeftOut) {
  ojson s;
  s["power_law"]["sequential"] = {{"a", nullptr}, {"beta", nullptr}, {"c", nullptr}, {"r2", nullptr}};
  s["final_gap_bits"] = nullptr;
  s["rank"]["sequential"] = {nullptr};
  s["schedules"]["dilated"] = {{"seconds", 0.5}, {"token_forwards_per_second", 10.0}};
  EXPECT_EQ(summary_headline(s), "  dilated       0.50 s, 10 token-forwards/s\n");
  EXPECT_EQ(summary_headline(ojson::object()), "");
}

TEST(HeadlineTest, OfARealSummary) {
  const fixtures::SweptRun r = fixtures::sweep(false, {"sequential", "hierarchical", "dilated"});
  const std::string h = summary_headline(make_summary(r.result, r.options, r.weights->config, fixtures::record(r)));
  EXPECT_NE(h.find("  sequential    power law a="), std::string::npos) << h;
  EXPECT_NE(h.find("  hierarchical  rank at L: "), std::string::npos) << h;
  EXPECT_NE(h.find("  dilated       "), std::string::npos) << h;
  size_t timings = 0;
  for (size_t p = h.find(" token-forwards/s\n"); p != std::string::npos; p = h.find(" token-forwards/s\n", p + 1)) ++timings;
  EXPECT_EQ(timings, 1u) << h;  // dilated, the one schedule run on its own; the others shared passes
  EXPECT_NE(h.find("  compute: the schedules' own cost "), std::string::npos) << h;
  // A random model's curve rises with context: the warning says so.
  EXPECT_NE(h.find("  WARNING: This text is far outside the model's domain: mean surprisal rises"), std::string::npos) << h;
}

TEST(HeadlineTest, ComputeInTwoViewsAndTheDomainWarning) {
  ojson s;
  s["schedules"]["sequential"] = {{"seconds", nullptr}, {"token_forwards_per_second", nullptr}};  // shared passes
  s["compute"]["own"] = {{"token_forwards", 3289600}, {"flops", 3.4e13}};
  s["compute"]["spent"] = {{"token_forwards", 61925}, {"forward_calls", 16}, {"seconds", 20.05},
                           {"token_forwards_per_second", 3088.5}, {"gram_seconds", 0.48}};
  s["compute"]["sharing_factor"] = 53.12;
  s["domain"] = {{"bits_per_byte", 4.01}, {"baseline", {{"bits_per_byte", 3.45}}}, {"message", "This text is far outside."}};
  EXPECT_EQ(summary_headline(s),
            "  compute: the schedules' own cost 3.29M token-forwards (each target run alone); the sweep spent 61.9k "
            "(53.1x less) in 16 forward calls, 20.1 s, 3088 token-forwards/s, Gram 0.5 s\n"
            "  bits per byte: 4.010 (a simple compressor on this text: 3.450)\n"
            "  WARNING: This text is far outside.\n");
}

// Far-apart targets can cost more than their own contexts (padding): said as more, not as
// "0.8x less" (seen on the synthetic Gemma-2B).
TEST(HeadlineTest, SharingInWordsEitherWay) {
  EXPECT_EQ(sharing_words(3289600, 61925), "53.1x less");
  EXPECT_EQ(sharing_words(1533, 1533), "1.0x less");
  EXPECT_EQ(sharing_words(1533, 1869), "1.22x more, padding");
  EXPECT_EQ(sharing_words(1533, 0), "0.0x less");
}

}  // namespace
}  // namespace strata
