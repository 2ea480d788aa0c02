// SVG rendering of SvgPlot. Plain string building: the report needs a few plots, not a
// plotting library. See svg_plot.h.
#include "strata/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "strata/error.h"

namespace strata {

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
constexpr int kLeft = 64, kRight = 16, kTop = 34, kBottom = 48;  // margins, pixels

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string px(double v) { return fmt("%.1f", v); }

struct Tick {
  double at;  // in axis space (log10 of the value on a log axis)
  std::string label;
};

// One axis in "axis space": the value itself, or its log10 on a log axis.
struct Axis {
  bool log = false;
  double lo = 0, hi = 1;
  std::vector<Tick> ticks;

  std::optional<double> map(double v) const {  // nullopt: cannot be drawn
    if (!std::isfinite(v) || (log && v <= 0)) return std::nullopt;
    return log ? std::log10(v) : v;
  }
  double frac(double u) const { return (u - lo) / (hi - lo); }
};

// Ticks at 1, 2 or 5 times a power of ten, about six of them; the range is widened to
// whole steps so the frame starts and ends on a labelled value.
void linear_ticks(Axis& a) {
  const double raw = (a.hi - a.lo) / 6;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const double first = std::floor(a.lo / step + 1e-9), last = std::ceil(a.hi / step - 1e-9);
  a.lo = first * step;
  a.hi = last * step;
  const int decimals = std::max(0, int(-std::floor(std::log10(step) + 1e-9)));
  for (double i = first; i <= last + 0.5; i += 1) {
    const double v = i * step;
    const bool huge = std::fabs(v) >= 1e6;
    char buf[64];
    if (huge) std::snprintf(buf, sizeof buf, "%g", v);
    else std::snprintf(buf, sizeof buf, "%.*f", decimals, v == 0 ? 0.0 : v);  // no "-0"
    a.ticks.push_back({v, buf});
  }
}

// Log ticks: every mantissa 1…9 within a decade, 1-2-5 up to three decades, then powers
// of ten (thinned to about eight).
void log_ticks(Axis& a) {
  const double pad = 0.03 * (a.hi - a.lo);
  a.lo -= pad;
  a.hi += pad;
  const double decades = a.hi - a.lo;
  std::vector<int> mantissas = decades < 1 ? std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}
                               : decades < 3 ? std::vector<int>{1, 2, 5} : std::vector<int>{1};
  const int stride = std::max(1, int(std::ceil(decades / 8)));
  for (int e = int(std::floor(a.lo)); e <= int(std::ceil(a.hi)); ++e) {
    if (e % stride != 0) continue;
    for (int m : mantissas) {
      const double u = std::log10(m) + e;
      if (u >= a.lo && u <= a.hi) a.ticks.push_back({u, fmt("%g", m * std::pow(10.0, e))});
    }
  }
}

Axis make_axis(bool log, const std::vector<Series>& series, bool use_x) {
  Axis a;
  a.log = log;
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : series)
    for (double v : use_x ? s.xs : s.ys)
      if (auto u = a.map(v)) lo = std::min(lo, *u), hi = std::max(hi, *u);
  if (lo > hi) lo = 0, hi = 1;  // nothing drawable: an empty frame
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(lo))) {
    const double half = log ? 0.5 : std::max(0.5, 0.1 * std::fabs(lo));
    lo -= half, hi += half;
  }
  a.lo = lo, a.hi = hi;
  if (log) log_ticks(a);
  else linear_ticks(a);
  return a;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string SvgPlot::render() const {
  for (const Series& s : series)
    if (s.xs.size() != s.ys.size())
      throw Error("plot series \"" + s.name + "\": " + std::to_string(s.xs.size()) + " x values but " +
                  std::to_string(s.ys.size()) + " y values");
  const Axis ax = make_axis(log_x, series, true), ay = make_axis(log_y, series, false);
  const double plot_w = std::max(10, width - kLeft - kRight), plot_h = std::max(10, height - kTop - kBottom);
  auto sx = [&](double u) { return kLeft + ax.frac(u) * plot_w; };
  auto sy = [&](double u) { return kTop + (1 - ay.frac(u)) * plot_h; };

  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
       std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
       "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!title.empty())
    o += "<text x=\"" + px(kLeft + plot_w / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" +
         xml_escape(title) + "</text>\n";

  // Grid lines and tick labels, then the frame over them.
  for (const Tick& t : ax.ticks) {
    const std::string x = px(sx(t.at));
    o += "<line x1=\"" + x + "\" y1=\"" + px(kTop) + "\" x2=\"" + x + "\" y2=\"" + px(kTop + plot_h) +
         "\" stroke=\"#e5e5e5\"/><text x=\"" + x + "\" y=\"" + px(kTop + plot_h + 14) +
         "\" text-anchor=\"middle\">" + xml_escape(t.label) + "</text>\n";
  }
  for (const Tick& t : ay.ticks) {
    const std::string y = px(sy(t.at));
    o += "<line x1=\"" + px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + px(kLeft + plot_w) + "\" y2=\"" + y +
         "\" stroke=\"#e5e5e5\"/><text x=\"" + px(kLeft - 5) + "\" y=\"" + y +
         "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + xml_escape(t.label) + "</text>\n";
  }
  o += "<rect x=\"" + px(kLeft) + "\" y=\"" + px(kTop) + "\" width=\"" + px(plot_w) + "\" height=\"" + px(plot_h) +
       "\" fill=\"none\" stroke=\"#333\"/>\n";
  if (!x_label.empty())
    o += "<text x=\"" + px(kLeft + plot_w / 2) + "\" y=\"" + px(height - 10) + "\" text-anchor=\"middle\">" +
         xml_escape(x_label) + "</text>\n";
  if (!y_label.empty())
    o += "<text transform=\"translate(14 " + px(kTop + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         xml_escape(y_label) + "</text>\n";

  // Series. A point that cannot be drawn ends the current path; the next one starts anew.
  std::vector<std::string> colors;
  for (size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    colors.push_back(xml_escape(s.color.empty() ? kPalette[i % std::size(kPalette)] : s.color));
    const std::string& color = colors.back();
    std::string d, dots;
    bool in_path = false;
    for (size_t j = 0; j < s.xs.size(); ++j) {
      const auto u = ax.map(s.xs[j]), v = ay.map(s.ys[j]);
      if (!u || !v) {
        in_path = false;
        continue;
      }
      const double x = sx(*u), y = sy(*v);
      if (s.style == SeriesStyle::kPoints) {
        dots += "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"2.5\" fill=\"" + color + "\"/>";
        continue;
      }
      const bool step = in_path && s.style == SeriesStyle::kStep;
      d += !in_path ? 'M' : step ? 'H' : 'L';  // a step: across at the old y, then up or down
      d += px(x);
      d += step ? 'V' : ' ';
      d += px(y);
      in_path = true;
    }
    if (!d.empty())
      o += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\"" +
           (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n";
    if (!dots.empty()) o += "<g>" + dots + "</g>\n";
  }

  // Legend in the top-right corner; text width is estimated, SVG cannot measure it here.
  size_t longest = 0;
  for (const Series& s : series) longest = std::max(longest, s.name.size());
  if (longest > 0) {
    const double w = 34 + 6.2 * double(longest), h = 8 + 16.0 * double(series.size());
    const double x0 = kLeft + plot_w - w - 6, y0 = kTop + 6;
    o += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
         "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
    for (size_t i = 0; i < series.size(); ++i) {
      const Series& s = series[i];
      const double y = y0 + 12 + 16.0 * double(i);
      if (s.style == SeriesStyle::kPoints)
        o += "<circle cx=\"" + px(x0 + 15) + "\" cy=\"" + px(y) + "\" r=\"2.5\" fill=\"" + colors[i] + "\"/>";
      else
        o += "<line x1=\"" + px(x0 + 6) + "\" y1=\"" + px(y) + "\" x2=\"" + px(x0 + 24) + "\" y2=\"" + px(y) +
             "\" stroke=\"" + colors[i] + "\" stroke-width=\"1.5\"" + (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
      o += "<text x=\"" + px(x0 + 30) + "\" y=\"" + px(y) + "\" dominant-baseline=\"middle\">" + xml_escape(s.name) +
           "</text>\n";
    }
  }
  o += "</svg>\n";
  return o;
}

}  // namespace strata
