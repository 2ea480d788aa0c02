// The page: a self-contained document with the four figures, no NaN or infinity printed
// for a missing number, drawn for any mix of schedules; an incomplete summary is refused.
#include <gtest/gtest.h>

#include <regex>

#include "report_fixture.h"
#include "strata/error.h"
#include "strata/report.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;

// "nan" or "inf" as a word: a number that should have been written as a dash or null.
bool has_nan(const std::string& html) { return std::regex_search(html, std::regex("\\b(nan|inf)\\b", std::regex::icase)); }

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string page(const fixtures::SweptRun& r) {
  return make_report_html(make_summary(r.result, r.options, r.weights->config, fixtures::record(r)));
}

TEST(HtmlTest, FiguresForAnyMixOfSchedules) {
  for (const auto& schedules : std::vector<std::vector<std::string>>{{"sequential", "hierarchical", "dilated", "custom:[1,3,8]"},
                                                                     {"dilated", "custom:[1,2]", "custom:[4,8]"}}) {
    const std::string html = page(fixtures::sweep(false, schedules));
    EXPECT_EQ(count(html, "<svg"), 4u);
    EXPECT_NE(html.find("</html>"), std::string::npos);
    EXPECT_FALSE(has_nan(html));
  }
  const std::string flat = page(fixtures::sweep(true, {"sequential", "hierarchical"}));
  EXPECT_EQ(count(flat, "<svg"), 4u);
  EXPECT_FALSE(has_nan(flat));
  EXPECT_NO_THROW(page(fixtures::sweep(false, {"sequential", "hierarchical"}, 2, 3)));  // too short to fit
}

TEST(HtmlTest, RefusesAnIncompleteSummary) {
  EXPECT_THROW(make_report_html(ojson::object()), Error);
  const fixtures::SweptRun r = fixtures::sweep(false, {"sequential", "hierarchical"}, 4, 2);
  ojson s = make_summary(r.result, r.options, r.weights->config, fixtures::record(r));
  s.erase("rank");
  EXPECT_THROW(make_report_html(s), Error);
}

}  // namespace
}  // namespace strata
