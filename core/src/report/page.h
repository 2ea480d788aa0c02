// The pieces of report.html, internal to the report: what every part of the page reads of
// the summary, number formatting for the page, and the four figures (figures.cpp), which
// html.cpp assembles with the key numbers and the tables. Everything is drawn from
// summary.json alone.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "strata/svg_plot.h"

namespace strata::page {

using ojson = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// What every part of the page needs of the summary.
struct Page {
  const ojson& s;                   // the summary
  int L = 0;                        // the budget
  double tol = 0;                   // the rank tolerance
  int64_t n_targets = 0;
  std::vector<std::string> labels;  // the schedules, in the summary's order
  bool has_seq = false, has_hier = false;
};

// A JSON array as numbers, null as NaN.
inline std::vector<double> doubles(const ojson& a) {
  std::vector<double> v;
  for (const ojson& x : a) v.push_back(x.is_number() ? x.get<double>() : kNaN);
  return v;
}

// A number for the page; NaN (a null in the summary) as a dash.
inline std::string fmt(const char* format, double v) {
  if (!std::isfinite(v)) return "&ndash;";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// j[key] as a number, NaN when absent or null.
inline double get(const ojson& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

inline std::string esc(const std::string& s) { return xml_escape(s); }

// The figures, each with its heading and caption (figures.cpp).
std::string surprisal_figure(const Page& p);  // 1. mean surprisal against context length, staircase and fits
std::string rank_figure(const Page& p);       // 2. rank of G against the budget, with both bounds
std::string anytime_figure(const Page& p);    // 3. mean surprisal against cumulative compute
std::string spectrum_figure(const Page& p);   // 4. singular values of G at L

}  // namespace strata::page
