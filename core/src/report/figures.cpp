// The four figures of report.html, one function each, drawn from summary.json as inline
// SVG (svg_plot.h) with a caption of a few plain sentences: surprisal against context
// length (with the hierarchical staircase and the power-law fits), rank against budget
// (with both bounds), surprisal against compute (anytime), and the rank spectrum at L.
#include <algorithm>

#include "page.h"
#include "strata/analysis.h"

namespace strata::page {

namespace {

std::string color_of(const std::string& label, size_t index) {
  if (label == "sequential") return "#1f77b4";
  if (label == "hierarchical") return "#d62728";
  if (label == "dilated") return "#2ca02c";
  static const char* other[] = {"#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  return other[index % 5];
}

// A single point is drawn as a marker: a line through one point draws nothing.
SeriesStyle line_or_points(size_t points) { return points == 1 ? SeriesStyle::kPoints : SeriesStyle::kLine; }

std::string figure(const SvgPlot& plot, const std::string& caption) {
  return "<figure>\n" + plot.render() + "<figcaption>" + caption + "</figcaption>\n</figure>\n";
}

// n from 1 to L, about 80 points evenly spaced in log n, for drawing a fitted curve.
std::vector<double> log_grid(int L) {
  std::vector<double> xs;
  const int m = 80;
  for (int i = 0; i <= m; ++i) xs.push_back(std::pow(double(std::max(L, 2)), double(i) / m));
  return xs;
}

// Raises the top of the y axis by `fraction` of the data's range (in log space on a log
// axis), so the legend in the top-right corner sits above the curves. Done with one extra,
// invisible point: alone between two breaks, it starts a path that draws nothing.
void headroom(SvgPlot& p, double fraction) {
  double lo = INFINITY, hi = -INFINITY, x_lo = INFINITY;
  Series* host = nullptr;
  for (Series& s : p.series) {
    for (size_t i = 0; i < s.xs.size(); ++i) {
      const double x = s.xs[i], y = s.ys[i];
      if (!std::isfinite(x) || !std::isfinite(y) || (p.log_x && x <= 0) || (p.log_y && y <= 0)) continue;
      const double u = p.log_y ? std::log10(y) : y;
      lo = std::min(lo, u), hi = std::max(hi, u), x_lo = std::min(x_lo, x);
    }
    if (!host && s.style != SeriesStyle::kPoints) host = &s;
  }
  if (!host || !(lo <= hi)) return;
  const double top = hi + fraction * std::max(hi - lo, p.log_y ? 0.5 : 1e-9 + 0.1 * std::fabs(hi));
  host->xs.insert(host->xs.end(), {kNaN, x_lo});
  host->ys.insert(host->ys.end(), {kNaN, p.log_y ? std::pow(10.0, top) : top});
}

}  // namespace

// --- 1. Surprisal against context length -----------------------------------------------

std::string surprisal_figure(const Page& g) {
  const ojson& schedules = g.s.at("schedules");
  const ojson& power = g.s.at("power_law");
  SvgPlot p;
  p.title = "Mean surprisal against context length";
  p.x_label = "context length n (tokens the model saw), log scale";
  p.y_label = "mean surprisal (bits)";
  p.log_x = true;
  p.width = 760, p.height = 440;
  double m0 = kNaN;
  for (size_t i = 0; i < g.labels.size(); ++i) {
    const ojson& js = schedules[g.labels[i]];
    const std::vector<double> lens = doubles(js.at("context_len")), means = doubles(js.at("mean_surprisal_bits"));
    if (!lens.empty() && lens[0] == 0) m0 = means[0];
    const std::string color = color_of(g.labels[i], i);
    if (g.labels[i] == "hierarchical") {
      std::vector<int> levels;
      for (double x : lens) levels.push_back(int(x));
      const std::vector<double> steps = staircase(levels, means, g.L);
      std::vector<double> xs, ys;
      for (int n = 1; n <= g.L; ++n) xs.push_back(n), ys.push_back(steps[size_t(n)]);
      p.add({.name = "hierarchical (staircase)", .xs = xs, .ys = ys, .style = SeriesStyle::kStep, .color = color});
      p.add({.name = "hierarchical levels", .xs = lens, .ys = means, .style = SeriesStyle::kPoints, .color = color});
    } else {
      p.add({.name = g.labels[i], .xs = lens, .ys = means, .style = line_or_points(lens.size()), .color = color});
    }
  }
  for (const char* name : {"sequential", "hierarchical"}) {
    if (!power.contains(name) || !power[name]["a"].is_number()) continue;
    PowerLawFit f;
    f.a = get(power[name], "a"), f.beta = get(power[name], "beta"), f.c = get(power[name], "c");
    std::vector<double> xs = log_grid(g.L), ys;
    for (double x : xs) ys.push_back(f(x));
    p.add({.name = std::string(name) + " fit", .xs = xs, .ys = ys, .color = color_of(name, 0), .dashed = true});
  }
  if (std::isfinite(m0))
    p.add({.name = "no context (BOS only)", .xs = {1.0, double(g.L)}, .ys = {m0, m0}, .color = "#999", .dashed = true});
  headroom(p, 0.3);

  std::string cap =
      "How surprised the model is by each target token, averaged over the " + std::to_string(g.n_targets) +
      " targets, as a function of how many context tokens an iteration showed it. ";
  if (g.has_seq) cap += "Sequential access (blue) adds one token per iteration, so it traces the whole curve. ";
  if (g.has_hier)
    cap += "Hierarchical access (red) doubles its window each iteration; drawn over n it keeps each level's prediction "
           "until the next level, a staircase that touches the blue curve at n = 1, 2, 4, &hellip;, L. ";
  if (power.contains("sequential") || power.contains("hierarchical"))
    cap += "Dashed: the power laws S(n) = a&middot;n<sup>&minus;&beta;</sup> + c fitted to the mean curves at those shared points; c is the floor the curve levels off at. ";
  std::vector<std::string> others;
  for (const std::string& l : g.labels)
    if (l != "sequential" && l != "hierarchical") others.push_back("<i>" + esc(l) + "</i>");
  if (!others.empty()) {
    std::string list;
    for (size_t i = 0; i < others.size(); ++i) list += (i == 0 ? "" : i + 1 == others.size() ? " and " : ", ") + others[i];
    cap += others.size() == 1 ? "The other schedule (" + list + ") is plotted at its number of context tokens |C<sub>k</sub>|"
                              : "The other schedules (" + list + ") are plotted at their number of context tokens |C<sub>k</sub>|";
    cap += schedules.contains("dilated") ? "; a dilated window reaches back 2<sup>k</sup> tokens but holds only k+1 of them. " : ". ";
  }
  if (g.has_seq) {
    const std::vector<double> m = doubles(schedules["sequential"]["mean_surprisal_bits"]);
    const std::vector<double> lens = doubles(schedules["sequential"]["context_len"]);
    double first = kNaN;
    for (size_t k = 0; k < m.size(); ++k)
      if (lens[k] == 1) first = m[k];
    cap += "Here the mean falls from " + fmt("%.2f", first) + " bits with one token of context to " + fmt("%.2f", m.back()) +
           " bits with " + std::to_string(g.L) + " (standard error of that mean: " +
           fmt("%.2f", doubles(schedules["sequential"]["std_error_bits"]).back()) + " bits over " +
           std::to_string(g.n_targets) + " targets).";
  }
  return "<h2>1. Surprisal against context length</h2>\n" + figure(p, cap);
}

// --- 2. Rank against budget ------------------------------------------------------------

std::string rank_figure(const Page& g) {
  const ojson& rank = g.s.at("rank");
  const std::vector<double> budgets = doubles(rank.at("budgets"));
  SvgPlot p;
  p.title = "Rank of the global transition matrix against the budget";
  p.x_label = "budget L, log scale";
  p.y_label = "numerical rank, log scale";
  p.log_x = true, p.log_y = true;
  p.width = 760, p.height = 440;
  const ojson& by = rank.at("by_schedule");
  bool zero = false;
  for (size_t i = 0; i < g.labels.size(); ++i) {
    if (!by.contains(g.labels[i])) continue;
    const std::vector<double> bs = doubles(by[g.labels[i]]["budgets"]), rs = doubles(by[g.labels[i]]["rank"]);
    for (double r : rs) zero |= r == 0;
    p.add({.name = g.labels[i] + " rank", .xs = bs, .ys = rs, .style = line_or_points(bs.size()), .color = color_of(g.labels[i], i)});
  }
  p.add({.name = "bound L-1 (sequential)", .xs = budgets, .ys = doubles(rank.at("sequential_bound")), .color = "#1f77b4", .dashed = true});
  p.add({.name = "bound log2 L (hierarchical)", .xs = budgets, .ys = doubles(rank.at("hierarchical_bound")), .color = "#d62728", .dashed = true});
  headroom(p, 0.45);

  std::string cap =
      "For every target, iteration k changes the predicted log-distribution by an update vector (log p<sub>k</sub> &minus; log p<sub>k&minus;1</sub>). "
      "Stacking each iteration's updates over all targets gives one column of the global transition matrix G; its rank counts how many "
      "iterations brought a genuinely new direction of change. The rank can be at most the number of updates: L&minus;1 for sequential, "
      "log<sub>2</sub> L for hierarchical (dashed). Rank here is the number of singular values above &tau; = " + fmt("%g", g.tol) +
      " times the largest; a smaller budget's rank uses only that budget's first updates. ";
  if (g.has_seq && g.has_hier)
    cap += "Hierarchical access staying on its bound while sequential access falls away from its bound means most sequential iterations repeat what earlier ones already did. ";
  if (zero) cap += "A rank of 0 (all updates zero) cannot be drawn on the log scale and is left out. ";
  return "<h2>2. Rank against budget</h2>\n" + figure(p, cap);
}

// --- 3. Surprisal against compute ------------------------------------------------------

std::string anytime_figure(const Page& g) {
  const ojson& anytime = g.s.at("anytime");
  SvgPlot p;
  p.title = "Surprisal against cumulative compute (anytime inference)";
  p.x_label = "cumulative FLOPs per target, log scale";
  p.y_label = "mean surprisal (bits)";
  p.log_x = true;
  p.width = 760, p.height = 440;
  for (size_t i = 0; i < g.labels.size(); ++i) {
    if (!anytime.contains(g.labels[i])) continue;
    const std::vector<double> xs = doubles(anytime[g.labels[i]]["cumulative_flops"]),
                              ys = doubles(anytime[g.labels[i]]["mean_surprisal_bits"]);
    p.add({.name = g.labels[i], .xs = xs, .ys = ys, .style = line_or_points(xs.size()), .color = color_of(g.labels[i], i)});
  }
  headroom(p, 0.3);

  std::string cap =
      "Each point is one iteration: the mean surprisal reached after spending that much compute on each target, counting every "
      "iteration run so far. If inference had to stop at a given compute budget, the lower curve at that point is the better schedule. ";
  if (g.has_seq && g.has_hier) {
    const double fs = doubles(anytime["sequential"]["cumulative_flops"]).back();
    const double fh = doubles(anytime["hierarchical"]["cumulative_flops"]).back();
    cap += "Both end at the same prediction (the full budget), sequential after " + fmt("%.1f", fs / fh) + "&times; the FLOPs of hierarchical.";
  }
  return "<h2>3. Surprisal against compute</h2>\n" + figure(p, cap);
}

// --- 4. The rank spectrum at L ---------------------------------------------------------

std::string spectrum_figure(const Page& g) {
  const ojson& sv = g.s.at("rank").at("singular_values");
  SvgPlot p;
  p.title = "Singular values of G at L = " + std::to_string(g.L) + ", relative to the largest";
  p.x_label = "index i";
  p.y_label = "σ_i / σ_max, log scale";
  p.log_y = true;
  p.width = 760, p.height = 400;
  bool any = false;
  for (size_t i = 0; i < g.labels.size(); ++i) {
    if (!sv.contains(g.labels[i])) continue;
    const std::vector<double> sigma = doubles(sv[g.labels[i]]);
    if (sigma.empty() || !(sigma[0] > 0)) continue;
    std::vector<double> xs, ys;
    for (size_t k = 0; k < sigma.size(); ++k) xs.push_back(double(k + 1)), ys.push_back(sigma[k] / sigma[0]);
    p.add({.name = g.labels[i], .xs = xs, .ys = ys, .style = line_or_points(xs.size()), .color = color_of(g.labels[i], i)});
    any = true;
  }
  double kmax = 1;
  for (const std::string& l : g.labels)
    if (sv.contains(l)) kmax = std::max(kmax, double(sv[l].size()));
  p.add({.name = "tolerance", .xs = {1.0, kmax}, .ys = {g.tol, g.tol}, .color = "#555", .dashed = true});

  std::string cap =
      "The singular values of each schedule's transition matrix at the full budget, largest first, as fractions of the largest. "
      "Values above the dashed line (&tau;) count toward the numerical rank of figure 2; a spectrum that drops steeply means a few "
      "directions carry almost all of the updates.";
  if (!any) cap += " All updates are zero here: there is no spectrum to draw.";
  return "<h2>4. Rank spectrum at the full budget</h2>\n" + figure(p, cap);
}

}  // namespace strata::page
