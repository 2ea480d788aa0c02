// The page's content against its summary. report.html is read back like a reader would:
// each figure's axes from its tick labels, its series from the legend and the paths and
// markers, every vertex mapped back through the axes; the key numbers, captions and tables
// as text. Then each figure must draw exactly the summary's series (names, number of
// points, where each point sits, to a fraction of a pixel) and every number printed must
// be the summary's (to its printed precision). A figure drawn from the wrong data, with a
// point too many or too few, or a table cell from the wrong key, fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "report_fixture.h"
#include "strata/error.h"
#include "strata/report.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;
using fixtures::record;
using fixtures::sweep;
using fixtures::SweptRun;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPixelTolerance = 0.3;  // coordinates are printed to 0.1 px

// --- Reading the page ------------------------------------------------------------------

std::string between(const std::string& s, size_t from, const std::string& open, const std::string& close, size_t* end = nullptr) {
  const size_t a = s.find(open, from);
  if (a == std::string::npos) return "";
  const size_t b = s.find(close, a + open.size());
  if (b == std::string::npos) return "";
  if (end) *end = b + close.size();
  return s.substr(a + open.size(), b - a - open.size());
}

std::string attr(const std::string& tag, const std::string& name) { return between(tag, 0, " " + name + "=\"", "\""); }

std::string unescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  }
  return s;
}

double number(const std::string& s) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() ? kNaN : v;
}

struct Pt {
  double x, y;  // pixels
};

// pixel = a + b·u, u = the value (or its log10 on a log axis), fitted to the tick labels.
// An axis with a single tick label (a narrow log range) cannot be calibrated: only values
// equal to that label have a known pixel, the others are checked for count alone.
struct Axis {
  bool log = false;
  double a = 0, b = 0;
  double only_tick_pixel = kNaN, only_tick_value = kNaN;
  bool calibrated() const { return std::isfinite(b); }
  bool drawable(double v) const { return std::isfinite(v) && (!log || v > 0); }
  double pixel(double v) const {
    if (!calibrated()) return v == only_tick_value ? only_tick_pixel : kNaN;
    return a + b * (log ? std::log10(v) : v);
  }
  double value(double px) const {
    const double u = (px - a) / b;
    return log ? std::pow(10.0, u) : u;
  }
};

Axis fit_axis(const std::vector<std::pair<double, double>>& ticks, bool log) {  // (pixel, value)
  Axis ax;
  ax.log = log;
  ax.b = kNaN;
  if (ticks.empty()) {
    ADD_FAILURE() << "an axis without tick labels";
    return ax;
  }
  const auto& [p0, v0] = ticks.front();
  const auto& [p1, v1] = ticks.back();
  if (ticks.size() == 1) {
    ax.only_tick_pixel = p0, ax.only_tick_value = v0;
    return ax;
  }
  const double u0 = log ? std::log10(v0) : v0, u1 = log ? std::log10(v1) : v1;
  ax.b = (p1 - p0) / (u1 - u0);
  ax.a = p0 - ax.b * u0;
  return ax;
}

// |got − want| within tolerance, when the axis tells where `want` is.
void expect_pixel(double got, double want, const std::string& what) {
  if (std::isfinite(want)) {
    EXPECT_NEAR(got, want, kPixelTolerance) << what;
  }
}

struct LegendEntry {
  std::string name, color;
  bool points = false, dashed = false;
};

struct Drawn {  // a path (subpaths of vertices) or a group of markers
  bool points = false, dashed = false;
  std::string color;
  std::vector<std::vector<Pt>> subpaths;  // markers: one subpath
};

struct Figure {
  std::string heading, title, caption;
  Axis x, y;
  std::vector<LegendEntry> legend;
  std::vector<Drawn> drawn;
};

std::vector<std::vector<Pt>> parse_path(const std::string& d) {
  std::vector<std::vector<Pt>> out;
  size_t i = 0;
  while (i < d.size()) {
    const char cmd = d[i++];
    char* end = nullptr;
    const double x = std::strtod(d.c_str() + i, &end);
    i = size_t(end - d.c_str());
    ++i;  // ' ' or 'V'
    const double y = std::strtod(d.c_str() + i, &end);
    i = size_t(end - d.c_str());
    if (cmd == 'M') out.emplace_back();
    EXPECT_TRUE(cmd == 'M' || cmd == 'L' || cmd == 'H') << "path command " << cmd;
    if (out.empty()) out.emplace_back();
    out.back().push_back({x, y});
  }
  return out;
}

Figure parse_svg(const std::string& svg) {
  Figure f;
  f.title = unescape(between(svg, 0, "font-size=\"14\">", "</text>"));
  // Tick lines are grey grid lines, each followed by its label.
  std::vector<std::pair<double, double>> xt, yt;
  for (size_t p = svg.find("stroke=\"#e5e5e5\"/>"); p != std::string::npos; p = svg.find("stroke=\"#e5e5e5\"/>", p + 1)) {
    const size_t line = svg.rfind("<line", p);
    const std::string tag = svg.substr(line, p - line);
    const std::string label = between(svg, p, ">", "</text>").substr(between(svg, p, ">", "</text>").find('>') + 1);
    if (attr(tag, "x1") == attr(tag, "x2")) xt.push_back({number(attr(tag, "x1")), number(label)});
    else yt.push_back({number(attr(tag, "y1")), number(label)});
  }
  // Axis labels: the x label is the first text after the frame, the y label is rotated.
  const size_t frame = svg.find("fill=\"none\" stroke=\"#333\"/>");
  const std::string x_label = between(svg, frame, "text-anchor=\"middle\">", "</text>");
  const std::string y_label = between(svg, 0, "rotate(-90)\" text-anchor=\"middle\">", "</text>");
  f.x = fit_axis(xt, x_label.find("log scale") != std::string::npos);
  f.y = fit_axis(yt, y_label.find("log scale") != std::string::npos);

  // The series, in order, up to the legend box.
  const size_t legend = svg.find("fill-opacity=\"0.85\"");
  const std::string data = svg.substr(frame, legend == std::string::npos ? std::string::npos : legend - frame);
  size_t p = 0;
  while (true) {
    const size_t path = data.find("<path ", p), group = data.find("<g>", p);
    if (path == std::string::npos && group == std::string::npos) break;
    Drawn d;
    if (path < group) {
      const size_t end = data.find("/>", path);
      const std::string tag = data.substr(path, end - path);
      d.color = attr(tag, "stroke");
      d.dashed = tag.find("stroke-dasharray") != std::string::npos;
      d.subpaths = parse_path(attr(tag, "d"));
      p = end;
    } else {
      const size_t end = data.find("</g>", group);
      const std::string g = data.substr(group, end - group);
      d.points = true;
      d.subpaths.emplace_back();
      for (size_t c = g.find("<circle"); c != std::string::npos; c = g.find("<circle", c + 1)) {
        const std::string tag = g.substr(c, g.find("/>", c) - c);
        d.color = attr(tag, "fill");
        d.subpaths.back().push_back({number(attr(tag, "cx")), number(attr(tag, "cy"))});
      }
      p = end;
    }
    f.drawn.push_back(std::move(d));
  }
  // The legend: a marker or a line, then the name.
  if (legend != std::string::npos) {
    const std::string box = svg.substr(legend);
    for (size_t t = box.find("dominant-baseline=\"middle\">"); t != std::string::npos;
         t = box.find("dominant-baseline=\"middle\">", t + 1)) {
      const size_t tag_start = box.rfind('<', box.rfind("<text", t) - 1);
      const std::string tag = box.substr(tag_start, box.rfind("<text", t) - tag_start);
      LegendEntry e;
      e.points = tag.rfind("<circle", 0) == 0;
      e.color = attr(tag, e.points ? "fill" : "stroke");
      e.dashed = tag.find("stroke-dasharray") != std::string::npos;
      e.name = unescape(between(box, t, ">", "</text>"));
      f.legend.push_back(e);
    }
  }
  return f;
}

std::vector<Figure> read_figures(const std::string& html) {
  std::vector<Figure> figures;
  for (size_t p = html.find("<figure>"); p != std::string::npos; p = html.find("<figure>", p + 1)) {
    const size_t h2 = html.rfind("<h2>", p);
    Figure f = parse_svg(between(html, p, "<svg", "</svg>"));
    f.heading = between(html, h2, "<h2>", "</h2>");
    f.caption = between(html, p, "<figcaption>", "</figcaption>");
    figures.push_back(std::move(f));
  }
  return figures;
}

// The rows of the table under the heading `heading`, as cells (tags inside cells kept).
std::vector<std::vector<std::string>> table_after(const std::string& html, const std::string& heading) {
  std::vector<std::vector<std::string>> rows;
  const size_t h = html.find("<h2>" + heading + "</h2>");
  if (h == std::string::npos) return rows;
  const std::string table = between(html, h, "<table>", "</table>");
  for (size_t r = table.find("<tr><td>"); r != std::string::npos; r = table.find("<tr><td>", r + 1)) {
    const std::string row = between(table, r, "<tr>", "</tr>");
    std::vector<std::string> cells;
    for (size_t c = row.find("<td>"); c != std::string::npos; c = row.find("<td>", c + 1)) cells.push_back(between(row, c, "<td>", "</td>"));
    rows.push_back(cells);
  }
  return rows;
}

std::vector<std::string> key_items(const std::string& html) {
  std::vector<std::string> items;
  const std::string box = between(html, 0, "<div class=\"key\">", "</div>");
  for (size_t p = box.find("<li>"); p != std::string::npos; p = box.find("<li>", p + 1)) items.push_back(between(box, p, "<li>", "</li>"));
  return items;
}

// --- Comparing numbers -----------------------------------------------------------------

double value_of(const ojson& j) { return j.is_number() ? j.get<double>() : kNaN; }

// A printed number is the value to its printed precision: half a unit of its last digit
// (a dash for a missing value).
void expect_printed(const std::string& printed, double v, const std::string& what) {
  SCOPED_TRACE(what + ": printed \"" + printed + "\"");
  if (!std::isfinite(v)) {
    EXPECT_EQ(printed, "&ndash;") << "the summary has no value";
    return;
  }
  const double p = number(printed);
  ASSERT_TRUE(std::isfinite(p)) << "not a number";
  const size_t e = printed.find_first_of("eE");
  const std::string mantissa = printed.substr(0, e);
  const size_t dot = mantissa.find('.');
  const int decimals = dot == std::string::npos ? 0 : int(mantissa.size() - dot - 1);
  const int exponent = e == std::string::npos ? 0 : std::atoi(printed.c_str() + e + 1);
  const double half_unit = 0.5 * std::pow(10.0, exponent - decimals);
  EXPECT_LE(std::fabs(p - v), half_unit * (1 + 1e-9) + 1e-300) << "summary value " << v;
}

std::smatch expect_match(const std::string& text, const std::string& pattern) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(text, m, std::regex(pattern))) << "\"" << text << "\" does not match " << pattern;
  return m;
}

// --- What each figure must draw, from the summary alone --------------------------------

struct Expected {
  std::string name{};
  std::vector<double> xs{}, ys{};
  bool points = false;
  bool fit = false;  // a fitted curve: its vertices must lie on a·n^(−β) + c for n in [1, n_max]
  double a = 0, beta = 0, c = 0, n_max = 0;
};

std::vector<double> doubles(const ojson& a) {
  std::vector<double> v;
  for (const ojson& x : a) v.push_back(value_of(x));
  return v;
}

std::vector<std::string> labels_of(const ojson& s) {
  std::vector<std::string> labels;
  for (auto it = s.at("schedules").begin(); it != s.at("schedules").end(); ++it) labels.push_back(it.key());
  return labels;
}

std::vector<Expected> expected_surprisal(const ojson& s) {
  const int L = s.at("budget").get<int>();
  std::vector<Expected> e;
  double m0 = kNaN;
  for (const std::string& l : labels_of(s)) {
    const ojson& js = s["schedules"][l];
    const std::vector<double> lens = doubles(js["context_len"]), means = doubles(js["mean_surprisal_bits"]);
    for (size_t k = 0; k < lens.size(); ++k)
      if (lens[k] == 0) m0 = means[k];
    if (l == "hierarchical") {  // the staircase: at each n, the level of the largest window that fits
      Expected stair{.name = "hierarchical (staircase)"};
      for (int n = 1; n <= L; ++n) {
        double held = kNaN, best = -1;
        for (size_t k = 0; k < lens.size(); ++k)
          if (lens[k] <= n && lens[k] > best) best = lens[k], held = means[k];
        stair.xs.push_back(n), stair.ys.push_back(held);
      }
      e.push_back(stair);
      e.push_back({.name = "hierarchical levels", .xs = lens, .ys = means, .points = true});
    } else {
      e.push_back({.name = l, .xs = lens, .ys = means, .points = lens.size() == 1});
    }
  }
  for (const char* name : {"sequential", "hierarchical"}) {
    const ojson& power = s.at("power_law");
    if (!power.contains(name) || !power[name]["a"].is_number()) continue;
    e.push_back({.name = std::string(name) + " fit", .fit = true, .a = value_of(power[name]["a"]),
                 .beta = value_of(power[name]["beta"]), .c = value_of(power[name]["c"]), .n_max = double(L)});
  }
  if (std::isfinite(m0)) e.push_back({.name = "no context (BOS only)", .xs = {1.0, double(L)}, .ys = {m0, m0}});
  return e;
}

std::vector<Expected> expected_rank(const ojson& s) {
  const ojson& rank = s.at("rank");
  std::vector<Expected> e;
  for (const std::string& l : labels_of(s)) {
    if (!rank["by_schedule"].contains(l)) continue;
    const std::vector<double> b = doubles(rank["by_schedule"][l]["budgets"]);
    e.push_back({.name = l + " rank", .xs = b, .ys = doubles(rank["by_schedule"][l]["rank"]), .points = b.size() == 1});
  }
  e.push_back({.name = "bound L-1 (sequential)", .xs = doubles(rank["budgets"]), .ys = doubles(rank["sequential_bound"])});
  e.push_back({.name = "bound log2 L (hierarchical)", .xs = doubles(rank["budgets"]), .ys = doubles(rank["hierarchical_bound"])});
  return e;
}

std::vector<Expected> expected_anytime(const ojson& s) {
  std::vector<Expected> e;
  for (const std::string& l : labels_of(s)) {
    const std::vector<double> xs = doubles(s["anytime"][l]["cumulative_flops"]);
    e.push_back({.name = l, .xs = xs, .ys = doubles(s["anytime"][l]["mean_surprisal_bits"]), .points = xs.size() == 1});
  }
  return e;
}

std::vector<Expected> expected_spectrum(const ojson& s) {
  const ojson& sv = s.at("rank").at("singular_values");
  std::vector<Expected> e;
  double kmax = 1;
  for (const std::string& l : labels_of(s)) {
    const std::vector<double> sigma = doubles(sv[l]);
    kmax = std::max(kmax, double(sigma.size()));
    if (sigma.empty() || !(sigma[0] > 0)) continue;  // all updates zero: nothing to draw
    Expected x{.name = l, .points = sigma.size() == 1};
    for (size_t k = 0; k < sigma.size(); ++k) x.xs.push_back(double(k + 1)), x.ys.push_back(sigma[k] / sigma[0]);
    e.push_back(x);
  }
  const double tol = s.at("tolerance").get<double>();
  e.push_back({.name = "tolerance", .xs = {1.0, kmax}, .ys = {tol, tol}});
  return e;
}

// The drawable points of a series: markers all in one group; a line split where a point
// cannot be drawn (non-finite, or not positive on a log axis), as the plot does.
std::vector<std::vector<Pt>> expected_pixels(const Expected& e, const Figure& f) {
  std::vector<std::vector<Pt>> out;
  bool open = false;
  for (size_t i = 0; i < e.xs.size(); ++i) {
    if (!f.x.drawable(e.xs[i]) || !f.y.drawable(e.ys[i])) {
      open = false;
      continue;
    }
    if (out.empty() || (!open && !e.points)) out.emplace_back();
    open = true;
    out.back().push_back({f.x.pixel(e.xs[i]), f.y.pixel(e.ys[i])});
  }
  return out;
}

void expect_figure(const Figure& f, const std::vector<Expected>& expected, bool headroom) {
  SCOPED_TRACE("figure \"" + f.heading + "\"");
  std::vector<std::string> names, legend;
  for (const Expected& e : expected) names.push_back(e.name);
  for (const LegendEntry& l : f.legend) legend.push_back(l.name);
  ASSERT_EQ(legend, names) << "the legend lists other series than the summary has";

  // Which drawn element belongs to which series: in order, skipping series with nothing
  // drawable. The first line (drawable or not) carries the headroom vertex, when the
  // figure has anything to draw.
  double x_lo = INFINITY;
  bool any = false;
  for (const Expected& e : expected) {
    any |= e.fit;
    if (e.fit) x_lo = std::min(x_lo, f.x.pixel(1.0));
    for (const auto& sub : expected_pixels(e, f))
      for (const Pt& p : sub) any = true, x_lo = std::min(x_lo, p.x);
  }
  bool host_seen = !headroom || !any;
  size_t next = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const Expected& e = expected[i];
    SCOPED_TRACE("series \"" + e.name + "\"");
    const std::vector<std::vector<Pt>> want = e.fit ? std::vector<std::vector<Pt>>{{{0, 0}}} : expected_pixels(e, f);
    const bool host = !host_seen && !e.points;
    host_seen |= host;
    if (want.empty() && !host) continue;
    ASSERT_LT(next, f.drawn.size()) << "nothing drawn for it";
    const Drawn& d = f.drawn[next++];
    EXPECT_EQ(d.points, f.legend[i].points);
    EXPECT_EQ(d.points, e.points) << "drawn as " << (d.points ? "markers" : "a line");
    EXPECT_EQ(d.color, f.legend[i].color);
    EXPECT_EQ(d.dashed, f.legend[i].dashed);
    std::vector<std::vector<Pt>> got = d.subpaths;
    if (host) {  // the first line carries one invisible extra vertex that lifts the y axis for the legend
      ASSERT_FALSE(got.empty());
      ASSERT_EQ(got.back().size(), 1u) << "the headroom vertex is a lone point at the end";
      expect_pixel(got.back()[0].x, x_lo, "x of the headroom vertex");
      for (const auto& sub : got)
        for (const Pt& p : sub) EXPECT_GE(p.y, got.back()[0].y - 1e-9) << "the headroom vertex is the top";
      got.pop_back();
    }
    if (e.fit) {
      ASSERT_EQ(got.size(), 1u);
      if (!f.x.calibrated() || !f.y.calibrated()) continue;
      ASSERT_GE(got[0].size(), 2u);
      EXPECT_NEAR(f.x.value(got[0].front().x), 1.0, 0.01) << "a fit is drawn from n = 1";
      EXPECT_NEAR(f.x.value(got[0].back().x) / e.n_max, 1.0, 0.01) << "a fit is drawn up to n = L";
      for (const Pt& p : got[0]) {
        const double n = f.x.value(p.x);
        EXPECT_NEAR(p.y, f.y.pixel(e.a * std::pow(n, -e.beta) + e.c), kPixelTolerance) << "n = " << n;
      }
      continue;
    }
    ASSERT_EQ(got.size(), want.size()) << "pieces of the line (breaks at undrawable points)";
    for (size_t s = 0; s < want.size(); ++s) {
      ASSERT_EQ(got[s].size(), want[s].size()) << "points in piece " << s;
      for (size_t k = 0; k < want[s].size(); ++k) {
        expect_pixel(got[s][k].x, want[s][k].x, "x of point " + std::to_string(k));
        expect_pixel(got[s][k].y, want[s][k].y, "y of point " + std::to_string(k));
      }
    }
  }
  EXPECT_EQ(next, f.drawn.size()) << "more drawn than the summary has";
}

// --- The checks ------------------------------------------------------------------------

void expect_figures(const ojson& s, const std::string& html) {
  const std::vector<Figure> figures = read_figures(html);
  ASSERT_EQ(figures.size(), 4u);
  EXPECT_EQ(figures[0].heading, "1. Surprisal against context length");
  EXPECT_EQ(figures[1].heading, "2. Rank against budget");
  EXPECT_EQ(figures[2].heading, "3. Surprisal against compute");
  EXPECT_EQ(figures[3].heading, "4. Rank spectrum at the full budget");
  EXPECT_TRUE(figures[0].x.log && !figures[0].y.log);
  EXPECT_TRUE(figures[1].x.log && figures[1].y.log);
  EXPECT_TRUE(figures[2].x.log && !figures[2].y.log);
  EXPECT_TRUE(!figures[3].x.log && figures[3].y.log);
  EXPECT_EQ(figures[3].title, "Singular values of G at L = " + std::to_string(s["budget"].get<int>()) + ", relative to the largest");
  expect_figure(figures[0], expected_surprisal(s), true);
  expect_figure(figures[1], expected_rank(s), true);
  expect_figure(figures[2], expected_anytime(s), true);
  expect_figure(figures[3], expected_spectrum(s), false);

  // The numbers the captions quote.
  const ojson& schedules = s["schedules"];
  if (schedules.contains("sequential")) {
    const std::smatch m = expect_match(figures[0].caption, "falls from (\\S+) bits with one token of context to (\\S+) bits with (\\d+) "
                                                           "\\(standard error of that mean: (\\S+) bits over (\\d+) targets\\)");
    if (!m.empty()) {
      const std::vector<double> lens = doubles(schedules["sequential"]["context_len"]);
      const std::vector<double> means = doubles(schedules["sequential"]["mean_surprisal_bits"]);
      const size_t one = size_t(std::find(lens.begin(), lens.end(), 1.0) - lens.begin());
      expect_printed(m[1], means[one], "mean at n = 1");
      expect_printed(m[2], means.back(), "mean at n = L");
      EXPECT_EQ(std::stoi(m[3]), s["budget"].get<int>());
      expect_printed(m[4], value_of(schedules["sequential"]["std_error_bits"].back()), "standard error at L");
      EXPECT_EQ(std::stoll(m[5]), s["targets"]["count"].get<int64_t>());
    }
  }
  if (schedules.contains("sequential") && schedules.contains("hierarchical")) {
    const std::smatch m = expect_match(figures[2].caption, "sequential after (\\S+)&times; the FLOPs of hierarchical");
    if (!m.empty())
      expect_printed(m[1], value_of(s["anytime"]["sequential"]["cumulative_flops"].back()) /
                               value_of(s["anytime"]["hierarchical"]["cumulative_flops"].back()), "FLOP ratio");
  }
  const std::smatch tau = expect_match(figures[1].caption, "above &tau; = (\\S+) times the largest");
  if (!tau.empty()) {
    EXPECT_EQ(number(tau[1]), s["tolerance"].get<double>());
  }
}

void expect_key_numbers(const ojson& s, const std::string& html) {
  const std::vector<std::string> items = key_items(html);
  const ojson& power = s["power_law"];
  const ojson& rank = s["rank"];
  size_t expected_items = 0;
  auto item = [&](const std::string& start) -> std::string {
    for (const std::string& i : items)
      if (i.rfind(start, 0) == 0) return i;
    ADD_FAILURE() << "no key number starting \"" << start << "\"";
    return "";
  };
  auto expect_fit = [&](const std::string& text, const ojson& f, const std::string& name) {
    const std::smatch m = expect_match(text, "a = (\\S+), &beta; = (\\S+), c = (\\S+) bits, R&sup2; = ([^ <]+)");
    if (m.empty()) return;
    expect_printed(m[1], value_of(f["a"]), name + " a");
    expect_printed(m[2], value_of(f["beta"]), name + " beta");
    expect_printed(m[3], value_of(f["c"]), name + " c");
    expect_printed(m[4], value_of(f["r2"]), name + " r2");
    EXPECT_EQ(text.find("(a flat curve)") != std::string::npos, f.value("flat", false));
  };
  if (power.contains("sequential")) ++expected_items, expect_fit(item("sequential power law"), power["sequential"], "sequential");
  if (power.contains("hierarchical")) {
    ++expected_items;
    const bool same = power.contains("sequential") && power["sequential"]["a"] == power["hierarchical"]["a"] &&
                      power["sequential"]["beta"] == power["hierarchical"]["beta"] && power["sequential"]["c"] == power["hierarchical"]["c"];
    if (same) item("hierarchical: the same fit");
    else expect_fit(item("hierarchical power law"), power["hierarchical"], "hierarchical");
  }
  if (s["power_law_all_points"].contains("sequential")) {
    ++expected_items;
    const std::string text = item("sequential fit over all n");
    const std::smatch m = expect_match(text, "R&sup2; = (\\S+)$");
    if (!m.empty()) expect_printed(m[1], value_of(s["power_law_all_points"]["sequential"]["r2"]), "all-points r2");
  }
  {
    ++expected_items;
    const std::string name = s["schedules"].contains("sequential") ? "sequential" : labels_of(s).front();
    const std::string text = item("mean surprisal with the full budget (" + name + ", last iteration)");
    const double f = value_of(s["final_mean_bits"][name]);
    const std::smatch m = expect_match(text, "last iteration\\): (\\S+) bits per token");
    if (!m.empty()) expect_printed(m[1], f, "final mean");
    EXPECT_EQ(f, value_of(s["schedules"][name]["mean_surprisal_bits"].back()));
    if (s["targets"].contains("mean_bytes")) {
      const double bytes = value_of(s["targets"]["mean_bytes"]);
      const std::smatch b = expect_match(text, ", (\\S+) bits per byte \\(the targets average (\\S+) bytes\\)");
      if (!b.empty()) {
        expect_printed(b[1], f / bytes, "bits per byte");
        expect_printed(b[2], bytes, "mean bytes");
      }
    } else {
      EXPECT_EQ(text.find("per byte"), std::string::npos);
    }
  }
  if (s["final_gap_bits"].is_number()) {
    ++expected_items;
    const std::string text = item("final iterations");
    const std::smatch m = expect_match(text, "see the same (\\d+) tokens\\) agree to (\\S+) bits");
    if (!m.empty()) {
      EXPECT_EQ(std::stoi(m[1]), s["budget"].get<int>());
      expect_printed(m[2], value_of(s["final_gap_bits"]), "final gap");
    }
  }
  if (!rank["budgets"].empty()) {
    for (const std::string name : {"sequential", "hierarchical"}) {
      if (!rank.contains(name)) continue;
      ++expected_items;
      const std::string text = item("rank of the " + name + " updates at L = " + std::to_string(s["budget"].get<int>()));
      const std::smatch m = expect_match(text, ": (\\S+) of at most (\\S+?)(;|$)");
      if (m.empty()) continue;
      expect_printed(m[1], value_of(rank[name].back()), name + " rank at L");
      expect_printed(m[2], value_of(rank[name + "_bound"].back()), name + " bound at L");
      if (name == "sequential") {
        if (rank["sequential_below_half_from"].is_number())
          EXPECT_NE(text.find("from budget " + std::to_string(rank["sequential_below_half_from"].get<int>()) + " on"), std::string::npos) << text;
        else
          EXPECT_NE(text.find("never below half its bound"), std::string::npos) << text;
      }
    }
  }
  const ojson& compute = s["compute"];
  if (compute["token_forward_ratio"].is_number()) {
    ++expected_items;
    const std::string text = item("sequential costs");
    const std::smatch m = expect_match(text, "costs (\\S+)&times; the token-forwards of hierarchical per target \\(each run alone\\)");
    if (!m.empty()) expect_printed(m[1], value_of(compute["token_forward_ratio"]), "token-forward ratio");
    if (compute["wall_time_ratio_seq_to_hier"].is_number()) {
      const std::smatch w = expect_match(text, " and took (\\S+)&times; its wall time$");
      if (!w.empty()) expect_printed(w[1], value_of(compute["wall_time_ratio_seq_to_hier"]), "wall-time ratio");
    } else {
      EXPECT_EQ(text.find("wall time"), std::string::npos) << "no wall-time ratio when the schedules shared passes";
    }
  }
  {
    ++expected_items;
    const std::string text = item("compute, two views");
    const std::smatch m = expect_match(text, "own cost is (\\S+) token-forwards .* the sweep spent (\\S+) \\((\\S+)&times; less, shared passes\\) in (\\S+) s$");
    if (!m.empty()) {
      expect_printed(m[1], value_of(compute["own"]["token_forwards"]), "own token-forwards");
      expect_printed(m[2], value_of(compute["spent"]["token_forwards"]), "spent token-forwards");
      expect_printed(m[3], value_of(compute["sharing_factor"]), "sharing factor");
      expect_printed(m[4], value_of(compute["spent"]["seconds"]), "spent seconds");
    }
  }
  if (s["domain"]["bits_per_byte"].is_number()) {
    ++expected_items;
    std::string text;
    for (const std::string& i : items)
      if (i.find(" bits per byte against ") != std::string::npos) text = i;
    EXPECT_FALSE(text.empty()) << "no key number on bits per byte against the compressor";
    const std::smatch m = expect_match(text, "^(\\S+) bits per byte against (\\S+) for a simple compressor");
    if (!m.empty()) {
      expect_printed(m[1], value_of(s["domain"]["bits_per_byte"]), "bits per byte");
      expect_printed(m[2], value_of(s["domain"]["baseline"]["bits_per_byte"]), "baseline bits per byte");
    }
    EXPECT_EQ(text.find("far outside") != std::string::npos, s["domain"]["outside"].get<bool>());
  }
  EXPECT_EQ(html.find("<p class=\"warn\">") != std::string::npos, s["domain"]["outside"].get<bool>());
  EXPECT_EQ(items.size(), expected_items) << "key numbers the summary does not call for";

  const std::smatch intro = expect_match(html, "Budget L = (\\d+), (\\d+) target tokens, rank tolerance &tau; = (\\S+?)(, with|\\.</p>)");
  if (!intro.empty()) {
    EXPECT_EQ(std::stoi(intro[1]), s["budget"].get<int>());
    EXPECT_EQ(std::stoll(intro[2]), s["targets"]["count"].get<int64_t>());
    EXPECT_EQ(number(intro[3]), s["tolerance"].get<double>());
  }
  const std::smatch model = expect_match(html, "\\((\\S+)M parameters, vocabulary (\\d+), context (\\d+)\\); text <code>[^<]*</code> \\((\\d+) tokens\\)");
  if (!model.empty()) {
    expect_printed(model[1], value_of(s["model"]["parameters"]) / 1e6, "parameters");
    EXPECT_EQ(std::stoi(model[2]), s["model"]["vocab_size"].get<int>());
    EXPECT_EQ(std::stoi(model[3]), s["model"]["context"].get<int>());
    EXPECT_EQ(std::stoll(model[4]), s["text"]["tokens"].get<int64_t>());
  }
}

void expect_tables(const ojson& s, const std::string& html) {
  // Fits: one row per fit, log-spaced first, then over all n.
  std::vector<std::pair<std::string, const ojson*>> fits;
  for (auto it = s["power_law"].begin(); it != s["power_law"].end(); ++it) fits.push_back({it.key() + " (n = 1, 2, 4, …)", &it.value()});
  for (auto it = s["power_law_all_points"].begin(); it != s["power_law_all_points"].end(); ++it)
    fits.push_back({it.key() + " (all n)", &it.value()});
  const auto fit_rows = table_after(html, "Power-law fits");
  ASSERT_EQ(fit_rows.size(), fits.size());
  for (size_t i = 0; i < fits.size(); ++i) {
    const auto& row = fit_rows[i];
    const ojson& f = *fits[i].second;
    ASSERT_EQ(row.size(), 6u);
    EXPECT_EQ(row[0], fits[i].first);
    expect_printed(row[1], value_of(f["points"]), fits[i].first + " points");
    expect_printed(row[2], value_of(f["a"]), fits[i].first + " a");
    const bool at_bound = f.value("beta_at_bound", false);
    EXPECT_EQ(row[3].find(" (at bound)") != std::string::npos, at_bound);
    expect_printed(row[3].substr(0, row[3].find(' ')), value_of(f["beta"]), fits[i].first + " beta");
    expect_printed(row[4], value_of(f["c"]), fits[i].first + " c");
    expect_printed(row[5], value_of(f["r2"]), fits[i].first + " r2");
  }
  // Compute: one row per schedule (its own cost), then one per path (what the sweep spent).
  const std::vector<std::string> labels = labels_of(s);
  const auto compute = table_after(html, "Compute");
  ASSERT_EQ(compute.size(), labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    const auto& row = compute[i];
    const ojson& js = s["schedules"][labels[i]];
    ASSERT_EQ(row.size(), 9u);
    EXPECT_EQ(row[0], labels[i]);
    EXPECT_EQ(row[1], js["path"].get<std::string>());
    expect_printed(row[2], value_of(js["iterations"]), labels[i] + " iterations");
    expect_printed(row[3], value_of(js["token_forwards_per_target"]), labels[i] + " token-forwards per target");
    expect_printed(row[4], value_of(js["token_forwards"]), labels[i] + " token-forwards");
    expect_printed(row[5], value_of(js["flops"]) / 1e9, labels[i] + " GFLOPs");
    if (js["path"] == "shared passes") EXPECT_EQ(row[6], "shared");
    else expect_printed(row[6], value_of(js["seconds"]), labels[i] + " seconds");
    expect_printed(row[7], value_of(s["final_mean_bits"][labels[i]]), labels[i] + " final mean");
    const ojson& by = s["rank"]["by_schedule"][labels[i]];
    EXPECT_EQ(row[8], by["rank"].empty() ? "&ndash;"
                                         : std::to_string(by["rank"].back().get<int>()) + " / " + std::to_string(by["bound"].back().get<int>()));
  }
  const size_t second = html.find("<table>", html.find("<table>", html.find("<h2>Compute</h2>")) + 1);
  ASSERT_NE(second, std::string::npos);
  const ojson& paths = s["compute"]["paths"];
  std::vector<std::vector<std::string>> path_rows;
  const std::string table = html.substr(second, html.find("</table>", second) - second);
  for (size_t r = table.find("<tr><td>"); r != std::string::npos; r = table.find("<tr><td>", r + 1)) {
    std::vector<std::string> cells;
    const std::string row = table.substr(r, table.find("</tr>", r) - r);
    for (size_t c = row.find("<td>"); c != std::string::npos; c = row.find("<td>", c + 1))
      cells.push_back(row.substr(c + 4, row.find("</td>", c) - c - 4));
    path_rows.push_back(cells);
  }
  ASSERT_EQ(path_rows.size(), paths.size());
  size_t pi = 0;
  for (auto it = paths.begin(); it != paths.end(); ++it, ++pi) {
    const auto& row = path_rows[pi];
    const ojson& p = it.value();
    ASSERT_EQ(row.size(), 9u);
    EXPECT_EQ(row[0], it.key() == "shared" ? "shared passes" : "per target");
    expect_printed(row[2], value_of(p["token_forwards"]), it.key() + " spent token-forwards");
    expect_printed(row[3], value_of(p["padding_token_forwards"]), it.key() + " padding");
    expect_printed(row[4], value_of(p["flops"]) / 1e9, it.key() + " spent GFLOPs");
    expect_printed(row[5], value_of(p["forward_calls"]), it.key() + " calls");
    expect_printed(row[6], value_of(p["seconds"]), it.key() + " seconds");
    expect_printed(row[7], value_of(p["gram_seconds"]), it.key() + " Gram seconds");
    expect_printed(row[8], value_of(p["token_forwards_per_second"]), it.key() + " token-forwards/s");
  }
  // Words: first and last iteration per schedule, when words were the targets.
  const auto words = table_after(html, "Words");
  if (!s.contains("words")) {
    EXPECT_TRUE(words.empty());
    return;
  }
  const ojson& w = s["words"]["mean_surprisal_bits"];
  ASSERT_EQ(words.size(), w.size());
  size_t i = 0;
  for (auto it = w.begin(); it != w.end(); ++it, ++i) {
    ASSERT_EQ(words[i].size(), 3u);
    EXPECT_EQ(words[i][0], it.key());
    expect_printed(words[i][1], value_of(it.value().front()), it.key() + " first word mean");
    expect_printed(words[i][2], value_of(it.value().back()), it.key() + " last word mean");
  }
  expect_match(html, std::to_string(s["words"]["count"].get<int64_t>()) + " whole words were the targets \\(" +
                         std::to_string(s["targets"]["count"].get<int64_t>()) + " tokens\\)");
}

// Everything: what a reader of report.html sees is what summary.json says.
void expect_page_matches_summary(const ojson& s) {
  const std::string html = make_report_html(s);
  {
    SCOPED_TRACE("figures");
    expect_figures(s, html);
  }
  {
    SCOPED_TRACE("key numbers");
    expect_key_numbers(s, html);
  }
  {
    SCOPED_TRACE("tables");
    expect_tables(s, html);
  }
  EXPECT_FALSE(std::regex_search(html, std::regex("\\b(nan|inf)\\b", std::regex::icase)));
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

ojson summary_of(const SweptRun& r, bool with_words = false) {
  ReportInfo info = record(r);
  static const Tokenizer bytes;  // ids 0…39 are one byte each: mean_bytes 1
  info.tokenizer = &bytes;
  info.tokens = r.tokens;
  static std::vector<SeriesAccumulator> words;
  if (with_words) {
    words.assign(r.result.schedules.size(), SeriesAccumulator());
    for (size_t i = 0; i < words.size(); ++i)
      for (int k = 0; k < int(r.result.schedules[i].context_len.size()); ++k) words[i].add(k, 7.5 - 0.25 * k + 0.01 * double(i));
    info.word_count = 3;
    info.word_surprisal = &words;
  }
  return make_summary(r.result, r.options, r.weights->config, info);
}

// --- Tests -----------------------------------------------------------------------------

TEST(HtmlTest, EveryScheduleKind) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical", "dilated", "hierarchical:4", "custom:[1,3,16]"}, 16, 6);
  expect_page_matches_summary(summary_of(r, true));
}

TEST(HtmlTest, WithTheEmptyIterationAndARepeatedLength) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical", "custom:[2,{\"offsets\":[1,3]}]"}, 8, 5, true);
  expect_page_matches_summary(summary_of(r));
}

TEST(HtmlTest, ContextFreeModelFlatAndRankZero) {
  const SweptRun r = sweep(true, {"sequential", "hierarchical"});
  const ojson s = summary_of(r);
  expect_page_matches_summary(s);
  const std::string html = make_report_html(s);
  EXPECT_NE(html.find("A rank of 0 (all updates zero) cannot be drawn"), std::string::npos);
  EXPECT_NE(html.find("there is no spectrum to draw"), std::string::npos);
}

TEST(HtmlTest, WithoutTheMainSchedules) {
  const SweptRun r = sweep(false, {"dilated", "custom:[1,2]", "custom:[4,8]"}, 8, 3);
  expect_page_matches_summary(summary_of(r));
}

TEST(HtmlTest, TooShortToFit) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical"}, 2, 3);
  expect_page_matches_summary(summary_of(r));
}

TEST(HtmlTest, RedrawnFromSummaryJsonAlone) {
  // summary.json on disk is enough to redraw the page: the same bytes from the parsed file.
  const SweptRun r = sweep(false, {"sequential", "hierarchical", "dilated"}, 8, 5, true);
  const ojson s = summary_of(r, true);
  EXPECT_EQ(make_report_html(ojson::parse(s.dump(2) + "\n")), make_report_html(s));
}

// The BOS policy of summary.json, and what decided it, said under the introduction.
TEST(HtmlTest, StatesTheBosPolicy) {
  const SweptRun r = sweep(false, {"sequential", "hierarchical"}, 4, 2);
  ojson s = summary_of(r);
  ASSERT_EQ(s["bos"]["before_every_context"], false);
  EXPECT_NE(make_report_html(s).find("<p>BOS policy: no BOS before the contexts.</p>"), std::string::npos);
  s["bos"] = {{"before_every_context", false}, {"id", nullptr}, {"decided_by", "no file asks for a BOS"}};
  EXPECT_NE(make_report_html(s).find("<p>BOS policy: no BOS before the contexts (decided by no file asks for a BOS).</p>"),
            std::string::npos);
  s["bos"] = {{"before_every_context", true}, {"id", 39}, {"decided_by", "tokenizer_config.json add_bos_token"}};
  EXPECT_NE(make_report_html(s).find("<p>BOS policy: a BOS token (id 39) at position 0 before every context (decided by "
                                     "tokenizer_config.json add_bos_token).</p>"),
            std::string::npos);
}

TEST(HtmlTest, RefusesAnIncompleteSummary) {
  EXPECT_THROW(make_report_html(ojson::object()), Error);
  const SweptRun r = sweep(false, {"sequential", "hierarchical"}, 4, 2);
  ojson s = summary_of(r);
  s.erase("rank");
  EXPECT_THROW(make_report_html(s), Error);
}

}  // namespace
}  // namespace strata
