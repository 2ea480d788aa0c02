// SVG plots: balanced markup, escaped text, no "nan"/"inf" leaking into coordinates,
// each series style and round tick labels.
#include "strata/svg_plot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "strata/error.h"

namespace strata {
namespace {

// Every opened tag is closed in order, self-closing ones aside: enough to catch broken
// string building without an XML parser.
bool balanced_tags(const std::string& svg) {
  std::vector<std::string> open;
  for (size_t i = svg.find('<'); i != std::string::npos; i = svg.find('<', i + 1)) {
    const size_t end = svg.find('>', i);
    if (end == std::string::npos) return false;
    const std::string tag = svg.substr(i + 1, end - i - 1);
    if (tag.empty()) return false;
    const std::string name = tag.substr(tag[0] == '/', tag.find_first_of(" />", 1) - (tag[0] == '/'));
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name) return false;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
  }
  return open.empty();
}

// What printf makes of NaN and ∞, anywhere (path data glues numbers to letters: "Mnan").
// The one attribute name that contains "nan" is taken out first.
bool has_non_finite_number(const std::string& svg) {
  std::string lower(svg);
  for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  const std::string allowed = "dominant-baseline";
  for (size_t i = lower.find(allowed); i != std::string::npos; i = lower.find(allowed, i))
    lower.erase(i, allowed.size());
  return lower.find("nan") != std::string::npos || lower.find("inf") != std::string::npos;
}

TEST(SvgPlotTest, NonFiniteDetectorWorks) {
  EXPECT_TRUE(has_non_finite_number("<path d=\"M1 2LNaN 3\"/>"));
  EXPECT_TRUE(has_non_finite_number("<circle cx=\"-inf\"/>"));
  EXPECT_FALSE(has_non_finite_number("<text dominant-baseline=\"middle\">1</text>"));
}

TEST(SvgPlotTest, WellFormedWithEscapedText) {
  SvgPlot p;
  p.title = "S(n) <bits> & more";
  p.x_label = "context length \"n\"";
  p.y_label = "surprisal 'bits'";
  p.add({.name = "seq <a> & \"b\"", .xs = {1, 2, 3}, .ys = {3, 2, 1.5}});
  p.add({.name = "hier", .xs = {1, 2, 4}, .ys = {3, 2.2, 1.6}, .style = SeriesStyle::kStep, .dashed = true});
  const std::string svg = p.render();
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_TRUE(balanced_tags(svg)) << svg;
  EXPECT_NE(svg.find("seq &lt;a&gt; &amp; &quot;b&quot;"), std::string::npos);
  EXPECT_NE(svg.find("S(n) &lt;bits&gt; &amp; more"), std::string::npos);
  EXPECT_NE(svg.find("context length &quot;n&quot;"), std::string::npos);
  EXPECT_NE(svg.find("surprisal &#39;bits&#39;"), std::string::npos);
  EXPECT_EQ(svg.find("<a>"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_FALSE(has_non_finite_number(svg));
}

TEST(SvgPlotTest, NonFinitePointsAreSkipped) {
  SvgPlot p;
  p.log_x = true;
  p.log_y = true;
  const double nan = std::nan("");
  p.add({.name = "gappy", .xs = {0, 1, 2, 4, 8, 16}, .ys = {5, 4, nan, 3, INFINITY, 2}});
  p.add({.name = "points", .xs = {1, nan, 4}, .ys = {2, 3, -1}, .style = SeriesStyle::kPoints});
  const std::string svg = p.render();
  EXPECT_TRUE(balanced_tags(svg));
  EXPECT_FALSE(has_non_finite_number(svg)) << svg;
  // The gap at NaN splits the line: two subpaths (1) and (4), then (16) alone.
  const size_t path = svg.find("<path d=\"");
  ASSERT_NE(path, std::string::npos);
  const std::string d = svg.substr(path, svg.find('"', path + 9) - path);
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 3);
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 0);
  // One drawable point in the points series (y = -1 cannot sit on a log axis), plus its legend marker.
  size_t circles = 0;
  for (size_t i = svg.find("<circle"); i != std::string::npos; i = svg.find("<circle", i + 1)) ++circles;
  EXPECT_EQ(circles, 2u);
}

TEST(SvgPlotTest, StepAndLinePaths) {
  SvgPlot step, line;
  step.add({.name = "s", .xs = {1, 2, 4}, .ys = {3, 2, 1}, .style = SeriesStyle::kStep});
  line.add({.name = "l", .xs = {1, 2, 4}, .ys = {3, 2, 1}});
  const std::string s = step.render(), l = line.render();
  const auto path_of = [](const std::string& svg) {
    const size_t p = svg.find("<path d=\"");
    return svg.substr(p + 9, svg.find('"', p + 9) - p - 9);
  };
  const std::string ds = path_of(s), dl = path_of(l);
  EXPECT_EQ(std::count(ds.begin(), ds.end(), 'H'), 2);
  EXPECT_EQ(std::count(ds.begin(), ds.end(), 'V'), 2);
  EXPECT_EQ(std::count(dl.begin(), dl.end(), 'L'), 2);
}

TEST(SvgPlotTest, TicksAtRoundValues) {
  SvgPlot lin;
  lin.add({.name = "y", .xs = {0, 100}, .ys = {0.13, 9.7}});
  const std::string a = lin.render();
  for (const char* label : {">0</text>", ">2</text>", ">10</text>", ">100</text>"})
    EXPECT_NE(a.find(label), std::string::npos) << label;

  SvgPlot small;
  small.add({.name = "y", .xs = {1, 2}, .ys = {0.1, 0.35}});
  const std::string b = small.render();
  EXPECT_NE(b.find(">0.10</text>"), std::string::npos) << b;
  EXPECT_EQ(b.find("0.30000000"), std::string::npos);

  SvgPlot logx;
  logx.log_x = true;
  logx.add({.name = "y", .xs = {1, 256}, .ys = {4, 1}});
  const std::string c = logx.render();
  for (const char* label : {">1</text>", ">2</text>", ">5</text>", ">10</text>", ">200</text>"})
    EXPECT_NE(c.find(label), std::string::npos) << label;
}

TEST(SvgPlotTest, EmptyAndDegenerateInputs) {
  SvgPlot empty;
  const std::string e = empty.render();
  EXPECT_TRUE(balanced_tags(e));
  EXPECT_FALSE(has_non_finite_number(e));

  SvgPlot flat;  // one value: the range must still have a width
  flat.add({.name = "c", .xs = {3, 3}, .ys = {2, 2}, .color = "#123456"});
  const std::string f = flat.render();
  EXPECT_FALSE(has_non_finite_number(f));
  EXPECT_NE(f.find("#123456"), std::string::npos);

  SvgPlot bad;
  bad.add({.name = "mismatch", .xs = {1, 2}, .ys = {1}});
  EXPECT_THROW(bad.render(), Error);
  EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace strata
