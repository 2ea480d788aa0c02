// A small, dependency-free SVG plot writer for the HTML report: line, step and point
// series on linear or log axes, with ticks at round values and a legend. The result is one
// <svg> element to inline in a page, so a report is a single self-contained file.
//
//   SvgPlot p;
//   p.title = "Mean surprisal"; p.x_label = "context length n"; p.y_label = "bits";
//   p.log_x = true;
//   p.add({.name = "sequential", .xs = ns, .ys = s_seq});
//   p.add({.name = "hierarchical", .xs = ns, .ys = s_hier, .style = SeriesStyle::kStep});
//   std::string svg = p.render();
#pragma once
#include <string>
#include <vector>

namespace strata {

enum class SeriesStyle {
  kLine,    // straight segments between points
  kStep,    // hold each y until the next x (the hierarchical staircase)
  kPoints,  // markers only
};

struct Series {
  std::string name{};           // legend text; plain text, escaped on output
  std::vector<double> xs{}, ys{};  // same length; a non-finite point (or <= 0 on a log axis) breaks the line
  SeriesStyle style = SeriesStyle::kLine;
  std::string color{};          // any CSS colour; empty picks the next palette colour
  bool dashed = false;          // e.g. for bounds and reference curves
};

struct SvgPlot {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  int width = 640, height = 400;  // pixels
  std::vector<Series> series;

  void add(Series s) { series.push_back(std::move(s)); }
  std::string render() const;
};

// Escapes & < > " ' for text and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace strata
