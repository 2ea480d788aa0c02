// summary.json and report.html from a sweep, plus the CSV helpers. See report.h.
#include "strata/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "strata/analysis.h"
#include "strata/error.h"
#include "strata/model.h"
#include "strata/schedule.h"
#include "strata/svg_plot.h"

namespace strata {

namespace {

using ojson = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kFirstTokenPolicy =
    "Targets are positions t >= L (the budget), so every target has its full budget of context; the first L "
    "tokens of the text are context only and are never scored. No BOS token is prepended to any context; the "
    "optional empty-context iteration alone feeds a BOS token.";

// A number for JSON: NaN and infinities become null (nlohmann would do the same; being
// explicit keeps the intent visible).
ojson num(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

ojson num_array(const std::vector<double>& v) {
  ojson a = ojson::array();
  for (double x : v) a.push_back(num(x));
  return a;
}

// --- Power-law fits --------------------------------------------------------------------

// A fit (analysis.h) as the summary records it: a, beta, c, r2 (null without a fit), the
// points, and what kind of fit it is; `note` says in words why a fit is missing, flat or
// at a bound.
ojson fit_json(const PowerLawFit& f) {
  using Kind = PowerLawFit::Kind;
  ojson j;
  j["a"] = f.fitted() ? num(f.a) : ojson(nullptr);
  j["beta"] = f.fitted() ? num(f.beta) : ojson(nullptr);
  j["c"] = f.fitted() ? num(f.c) : ojson(nullptr);
  j["r2"] = f.fitted() ? num(f.r2) : ojson(nullptr);
  j["points"] = f.points;
  ojson ns = ojson::array();
  for (int n : f.ns) ns.push_back(n);
  j["ns"] = ns;
  j["flat"] = f.kind == Kind::kFlat;
  switch (f.kind) {
    case Kind::kTooFewPoints:
      j["note"] = "fewer than 3 points: no fit";
      break;
    case Kind::kFlat:
      j["note"] = "flat curve: fitted exactly by its constant value";
      break;
    case Kind::kPowerLaw:
      j["beta_at_bound"] = f.beta_at_bound;
      if (f.beta_at_bound)
        j["note"] = f.beta < 1.0
                        ? "beta at its lower bound 0: the best fit is c - k ln n, not a power law; a and c are not meaningful"
                        : "beta at its upper bound: the curve drops faster than any power law searched; a and c are not meaningful";
      break;
  }
  return j;
}

// --- Ranks at smaller budgets ----------------------------------------------------------

struct RankSeries {
  std::vector<int> budgets, bound, rank;
  std::vector<double> effective;
};

// The rank at each budget the schedule's Gram matrix answers (Schedule::rank_points). A
// schedule that can no longer be made from its spec (a custom file gone since the sweep)
// is answered at the swept budget only.
RankSeries rank_series(const Schedule* schedule, const ScheduleSweep& s, int budget, bool with_empty, double tol) {
  RankSeries r;
  const std::vector<Schedule::RankPoint> points =
      schedule ? schedule->rank_points(budget, with_empty) : std::vector<Schedule::RankPoint>{{budget, s.gram.columns()}};
  for (const Schedule::RankPoint& p : points) {
    if (p.columns > s.gram.columns()) continue;
    const RankReport rep = s.gram.leading(p.columns).rank(tol);
    r.budgets.push_back(p.budget);
    r.bound.push_back(p.columns);
    r.rank.push_back(rep.numerical_rank);
    r.effective.push_back(rep.effective_rank);
  }
  return r;
}

template <class T>
ojson to_json_array(const std::vector<T>& v) {
  ojson a = ojson::array();
  for (const T& x : v) a.push_back(x);
  return a;
}

}  // namespace

// --- Labels and summary ----------------------------------------------------------------

std::vector<std::string> schedule_labels(const SweepResult& result) {
  std::vector<std::string> labels;
  std::map<std::string, int> seen;
  for (const ScheduleSweep& s : result.schedules) {
    const int k = ++seen[s.name];
    labels.push_back(k == 1 ? s.name : s.name + "#" + std::to_string(k));
  }
  return labels;
}

ojson make_summary(const SweepResult& result, const SweepOptions& options, const ModelConfig& config,
                   const ReportInfo& info) {
  if (!(info.tolerance > 0 && info.tolerance < 1))
    throw Error("report: the rank tolerance must be in (0, 1), got " + std::to_string(info.tolerance));
  if (result.targets.empty()) throw Error("report: the sweep has no targets");
  if (result.schedules.empty()) throw Error("report: the sweep has no schedules");
  if (options.schedules.size() != result.schedules.size())
    throw Error("report: " + std::to_string(options.schedules.size()) + " schedule specs for " +
                std::to_string(result.schedules.size()) + " swept schedules");
  const int L = options.budget;
  const int extra = options.with_empty ? 1 : 0;
  const int64_t n_targets = int64_t(result.targets.size());
  const std::vector<std::string> labels = schedule_labels(result);
  for (size_t i = 0; i < result.schedules.size(); ++i) {
    const ScheduleSweep& s = result.schedules[i];
    const size_t K = s.context_len.size();
    bool ok = K > 0 && size_t(s.surprisal.size()) == K && int64_t(s.final_surprisal.size()) == n_targets;
    for (size_t k = 0; ok && k < K; ++k) ok = s.surprisal.count(int(k)) == n_targets;
    if (!ok) throw Error("report: schedule \"" + labels[i] + "\" has inconsistent statistics");
  }

  ojson j;
  j["budget"] = L;
  j["with_empty"] = options.with_empty;
  j["tolerance"] = info.tolerance;
  j["first_token_policy"] = kFirstTokenPolicy;
  j["model"] = {{"dir", info.model_dir},
                {"parameters", config.parameter_count()},
                {"vocab_size", config.vocab_size},
                {"hidden_size", config.hidden_size},
                {"layers", config.num_hidden_layers},
                {"context", config.max_position_embeddings}};
  j["text"] = {{"path", info.text_path}, {"bytes", info.text_bytes}, {"tokens", info.text_tokens}};

  ojson targets;
  targets["count"] = n_targets;
  targets["positions"] = to_json_array(result.targets);
  targets["selection"] = info.target_selection.empty() ? (options.stride > 0 ? "stride" : "even") : info.target_selection;
  targets["stride"] = options.stride > 0 ? ojson(options.stride) : ojson(nullptr);
  if (info.tokenizer && !info.tokens.empty()) {
    double bytes = 0;
    for (int64_t t : result.targets)
      if (t >= 0 && t < int64_t(info.tokens.size())) bytes += double(info.tokenizer->token_text(info.tokens[size_t(t)]).size());
    targets["mean_bytes"] = bytes / double(n_targets);
  }
  j["targets"] = targets;

  // Per schedule: curves, compute, the anytime curve, the curve indexed by n for fits.
  std::vector<std::unique_ptr<Schedule>> made(result.schedules.size());
  std::vector<std::vector<double>> by_n(result.schedules.size());
  int seq = -1, hier = -1;
  ojson schedules, anytime;
  for (size_t i = 0; i < result.schedules.size(); ++i) {
    const ScheduleSweep& s = result.schedules[i];
    try {
      made[i] = make_schedule(options.schedules[i]);
    } catch (const Error&) {
      // e.g. a custom schedule file gone since the sweep: only the spans are lost
    }
    if (s.name == "sequential" && seq < 0) seq = int(i);
    if (s.name == "hierarchical" && hier < 0) hier = int(i);
    const size_t K = s.context_len.size();
    const std::vector<double> mean = s.surprisal.means(), se = s.surprisal.std_errors();
    std::vector<double> cum_flops(K), cum_tf(K);
    std::vector<int> span(K, 0);
    if (made[i]) {
      const auto w = made[i]->offsets(L);
      for (size_t k = 0; k < K; ++k) {
        const size_t wk = k - size_t(extra);
        span[k] = (k < size_t(extra) || wk >= w.size()) ? 0 : w[wk].front();
      }
    } else {
      for (size_t k = 0; k < K; ++k) span[k] = s.context_len[k];
    }
    double flops = 0, tf = 0;
    for (size_t k = 0; k < K; ++k) {
      const int len = std::max(1, s.context_len[k]);  // the empty iteration feeds one BOS token
      flops += Transformer::forward_flops(config, len);
      tf += len;
      cum_flops[k] = flops;
      cum_tf[k] = tf;
    }
    ojson js;
    js["spec"] = options.schedules[i];
    js["iterations"] = K;
    js["context_len"] = to_json_array(s.context_len);
    js["span"] = to_json_array(span);
    js["mean_surprisal_bits"] = num_array(mean);
    js["std_error_bits"] = num_array(se);
    js["token_forwards"] = s.token_forwards;
    js["token_forwards_per_target"] = tf;
    js["flops"] = s.flops;
    js["seconds"] = s.seconds;
    js["token_forwards_per_second"] = num(s.seconds > 0 ? double(s.token_forwards) / s.seconds : kNaN);
    schedules[labels[i]] = js;

    ojson ja;
    std::vector<int> iters(K);
    for (size_t k = 0; k < K; ++k) iters[k] = int(k);
    ja["iteration"] = to_json_array(iters);
    ja["cumulative_flops"] = num_array(cum_flops);
    ja["cumulative_token_forwards"] = num_array(cum_tf);
    ja["mean_surprisal_bits"] = num_array(mean);
    anytime[labels[i]] = ja;

    // The curve over n, when each context length occurs once (not for custom repeats).
    std::vector<double> curve(size_t(L) + 1, kNaN);
    bool distinct = true;
    for (size_t k = 0; k < K; ++k) {
      const int len = s.context_len[k];
      if (len < 0 || len > L || std::isfinite(curve[size_t(len)])) distinct = false;
      else curve[size_t(len)] = mean[k];
    }
    if (distinct) by_n[i] = std::move(curve);
  }
  j["schedules"] = schedules;

  // Power laws at the shared log-spaced points, and over all n for sequential.
  std::vector<int> log_ns;
  for (int64_t n = 1; n <= L; n *= 2) log_ns.push_back(int(n));
  ojson power, power_all, contribution;
  if (seq >= 0 && !by_n[size_t(seq)].empty()) {
    power["sequential"] = fit_json(fit_power_law_curve(by_n[size_t(seq)], log_ns));
    power_all["sequential"] = fit_json(fit_power_law_curve(by_n[size_t(seq)]));
    const std::vector<double> delta = per_token_contribution(by_n[size_t(seq)]);
    std::vector<int> ns;
    std::vector<double> ds;
    for (int n = extra ? 0 : 1; n <= L; ++n) ns.push_back(n), ds.push_back(delta[size_t(n)]);
    contribution["sequential"] = {{"context_len", to_json_array(ns)}, {"delta_bits", num_array(ds)}};
  }
  if (hier >= 0 && !by_n[size_t(hier)].empty()) power["hierarchical"] = fit_json(fit_power_law_curve(by_n[size_t(hier)], log_ns));
  j["power_law"] = power.is_null() ? ojson::object() : power;
  j["power_law_all_points"] = power_all.is_null() ? ojson::object() : power_all;
  j["per_token_contribution"] = contribution.is_null() ? ojson::object() : contribution;

  // Ranks: per schedule, then the two main ones aligned on budgets 2, 4, …, L.
  ojson rank;
  rank["tolerance"] = info.tolerance;
  std::vector<RankSeries> series;
  ojson by_schedule, singular;
  for (size_t i = 0; i < result.schedules.size(); ++i) {
    series.push_back(rank_series(made[i].get(), result.schedules[i], L, options.with_empty, info.tolerance));
    const RankSeries& r = series.back();
    by_schedule[labels[i]] = {{"budgets", to_json_array(r.budgets)},
                              {"rank", to_json_array(r.rank)},
                              {"bound", to_json_array(r.bound)},
                              {"effective_rank", num_array(r.effective)}};
    singular[labels[i]] = num_array(result.schedules[i].gram.rank(info.tolerance).singular_values);
  }
  // The two main schedules' bounds at the budgets sequential answers (2, 4, …, L), drawn
  // whether or not they were swept.
  const std::vector<Schedule::RankPoint> seq_points = SequentialSchedule().rank_points(L, options.with_empty);
  const std::vector<Schedule::RankPoint> hier_points = HierarchicalSchedule(2).rank_points(L, options.with_empty);
  std::vector<int> budgets;
  for (const Schedule::RankPoint& p : seq_points) budgets.push_back(p.budget);
  rank["budgets"] = to_json_array(budgets);
  auto aligned = [&](int idx, bool effective) {
    ojson a = ojson::array();
    for (int b : budgets) {
      const RankSeries& r = series[size_t(idx)];
      const auto it = std::find(r.budgets.begin(), r.budgets.end(), b);
      if (it == r.budgets.end()) a.push_back(nullptr);
      else if (effective) a.push_back(num(r.effective[size_t(it - r.budgets.begin())]));
      else a.push_back(r.rank[size_t(it - r.budgets.begin())]);
    }
    return a;
  };
  ojson seq_bound = ojson::array(), hier_bound = ojson::array();
  for (const Schedule::RankPoint& p : seq_points) {
    seq_bound.push_back(p.columns);
    const auto h = std::find_if(hier_points.begin(), hier_points.end(), [&](const auto& q) { return q.budget == p.budget; });
    hier_bound.push_back(h != hier_points.end() ? ojson(h->columns) : ojson(nullptr));
  }
  ojson effective;
  if (seq >= 0) rank["sequential"] = aligned(seq, false), effective["sequential"] = aligned(seq, true);
  if (hier >= 0) rank["hierarchical"] = aligned(hier, false), effective["hierarchical"] = aligned(hier, true);
  rank["sequential_bound"] = seq_bound;
  rank["hierarchical_bound"] = hier_bound;
  rank["effective_rank"] = effective.is_null() ? ojson::object() : effective;
  rank["singular_values"] = singular;
  ojson below_half = nullptr;
  if (seq >= 0) {
    const RankSeries& r = series[size_t(seq)];
    for (size_t k = 0; k < r.budgets.size(); ++k)
      if (2.0 * r.rank[k] <= double(r.bound[k])) {
        below_half = r.budgets[k];
        break;
      }
  }
  rank["sequential_below_half_from"] = below_half;
  rank["by_schedule"] = by_schedule;
  j["rank"] = rank;

  // The correctness check: at L both main schedules ran the very same context.
  ojson finals;
  for (size_t i = 0; i < result.schedules.size(); ++i) {
    const ScheduleSweep& s = result.schedules[i];
    finals[labels[i]] = num(s.surprisal.mean(s.surprisal.size() - 1));
  }
  if (seq >= 0 && hier >= 0) {
    double gap = 0;
    Moments mean_gap;
    const auto& fs = result.schedules[size_t(seq)].final_surprisal;
    const auto& fh = result.schedules[size_t(hier)].final_surprisal;
    for (size_t t = 0; t < fs.size(); ++t) {
      gap = std::max(gap, std::fabs(fh[t] - fs[t]));
      mean_gap.add(std::fabs(fh[t] - fs[t]));
    }
    j["final_gap_bits"] = num(gap);
    j["final_gap_mean_bits"] = num(mean_gap.mean_or_nan());
  } else {
    j["final_gap_bits"] = nullptr;
    j["final_gap_mean_bits"] = nullptr;
  }
  j["final_mean_bits"] = finals;

  ojson compute;
  if (seq >= 0 && hier >= 0) {
    const ScheduleSweep &s = result.schedules[size_t(seq)], &h = result.schedules[size_t(hier)];
    compute["wall_time_ratio_seq_to_hier"] = num(h.seconds > 0 ? s.seconds / h.seconds : kNaN);
    compute["token_forward_ratio"] = num(h.token_forwards > 0 ? double(s.token_forwards) / double(h.token_forwards) : kNaN);
    compute["flops_ratio"] = num(h.flops > 0 ? s.flops / h.flops : kNaN);
  } else {
    compute["wall_time_ratio_seq_to_hier"] = nullptr;
    compute["token_forward_ratio"] = nullptr;
    compute["flops_ratio"] = nullptr;
  }
  compute["seconds"] = info.seconds;
  j["compute"] = compute;
  j["anytime"] = anytime;
  return j;
}

// --- HTML ------------------------------------------------------------------------------

namespace {

std::vector<double> doubles(const ojson& a) {
  std::vector<double> v;
  for (const ojson& x : a) v.push_back(x.is_number() ? x.get<double>() : kNaN);
  return v;
}

std::string fmt(const char* format, double v) {
  if (!std::isfinite(v)) return "&ndash;";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

double get(const ojson& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN; }

std::string color_of(const std::string& label, size_t index) {
  if (label == "sequential") return "#1f77b4";
  if (label == "hierarchical") return "#d62728";
  if (label == "dilated") return "#2ca02c";
  static const char* other[] = {"#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  return other[index % 5];
}

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

std::string esc(const std::string& s) { return xml_escape(s); }

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

std::string make_report_html(const ojson& s) {
  try {
    const int L = s.at("budget").get<int>();
    const double tol = s.at("tolerance").get<double>();
    const ojson& schedules = s.at("schedules");
    const ojson& rank = s.at("rank");
    const ojson& anytime = s.at("anytime");
    const ojson& power = s.at("power_law");
    const int64_t n_targets = s.at("targets").at("count").get<int64_t>();
    const bool has_seq = schedules.contains("sequential"), has_hier = schedules.contains("hierarchical");
    std::vector<std::string> labels;
    for (auto it = schedules.begin(); it != schedules.end(); ++it) labels.push_back(it.key());

    std::string h;
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>strata analyze report</title>\n";
    h += "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
         "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}"
         "table{border-collapse:collapse;margin:0.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
         "td{white-space:nowrap}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}"
         "figcaption{max-width:720px;font-size:0.92em;color:#333}.key{background:#f7f7f2;padding:0.6em 1em;border:1px solid #e5e5d5}"
         "code{background:#f2f2f2;padding:0 3px}</style></head><body>\n";
    h += "<h1>Structured context access: one model, several inference schedules</h1>\n";
    const ojson& model = s.at("model");
    const ojson& text = s.at("text");
    h += "<p>Model <code>" + esc(model.value("dir", std::string())) + "</code> (" +
         fmt("%.2f", get(model, "parameters") / 1e6) + "M parameters, vocabulary " + fmt("%.0f", get(model, "vocab_size")) +
         ", context " + fmt("%.0f", get(model, "context")) + "); text <code>" + esc(text.value("path", std::string())) + "</code> (" +
         fmt("%.0f", get(text, "tokens")) + " tokens). Budget L = " + std::to_string(L) + ", " + std::to_string(n_targets) +
         " target tokens, rank tolerance &tau; = " + fmt("%g", tol) + (s.value("with_empty", false) ? ", with the empty-context iteration" : "") +
         ".</p>\n";
    h += "<p><small>" + esc(s.value("first_token_policy", std::string())) + "</small></p>\n";

    // Key findings.
    h += "<div class=\"key\"><b>Key numbers.</b><ul>\n";
    auto fit_line = [&](const char* name) {
      if (!power.contains(name)) return;
      const ojson& f = power[name];
      h += "<li>" + std::string(name) + " power law S(n) = a&middot;n<sup>&minus;&beta;</sup> + c at n = 1, 2, 4, &hellip;, L: a = " +
           fmt("%.3f", get(f, "a")) + ", &beta; = " + fmt("%.3f", get(f, "beta")) + ", c = " + fmt("%.3f", get(f, "c")) +
           " bits, R&sup2; = " + fmt("%.3f", get(f, "r2")) + (f.value("flat", false) ? " (a flat curve)" : "") +
           (f.value("beta_at_bound", false) ? " <b>(" + esc(f.value("note", "")) + ")</b>" : "") + "</li>\n";
    };
    // At n = 1, 2, 4, … both schedules ran the very same model calls, so their fits agree.
    const bool same_fit = power.contains("sequential") && power.contains("hierarchical") &&
                          power["sequential"]["a"] == power["hierarchical"]["a"] &&
                          power["sequential"]["beta"] == power["hierarchical"]["beta"] &&
                          power["sequential"]["c"] == power["hierarchical"]["c"];
    if (same_fit) {
      fit_line("sequential");
      h += "<li>hierarchical: the same fit, since at n = 1, 2, 4, &hellip; both schedules ran the very same model calls</li>\n";
    } else {
      fit_line("sequential");
      fit_line("hierarchical");
    }
    if (s.at("power_law_all_points").contains("sequential"))
      h += "<li>sequential fit over all n = 1 &hellip; L: R&sup2; = " +
           fmt("%.3f", get(s["power_law_all_points"]["sequential"], "r2")) + "</li>\n";
    {
      const ojson& finals = s.at("final_mean_bits");
      const double bytes = get(s.at("targets"), "mean_bytes");
      const std::string name = has_seq ? "sequential" : labels.front();
      const double f = get(finals, name.c_str());
      h += "<li>mean surprisal with the full budget (" + esc(name) + ", last iteration): " + fmt("%.3f", f) + " bits per token";
      if (std::isfinite(bytes) && bytes > 0)
        h += ", " + fmt("%.3f", f / bytes) + " bits per byte (the targets average " + fmt("%.2f", bytes) + " bytes)";
      h += "</li>\n";
    }
    if (s.contains("final_gap_bits") && s["final_gap_bits"].is_number())
      h += "<li>final iterations (both schedules see the same " + std::to_string(L) +
           " tokens) agree to " + fmt("%.2g", s["final_gap_bits"].get<double>()) + " bits (largest difference over targets)</li>\n";
    const std::vector<double> budgets = doubles(rank.at("budgets"));
    if (!budgets.empty()) {
      const size_t last = budgets.size() - 1;
      if (rank.contains("sequential"))
        h += "<li>rank of the sequential updates at L = " + std::to_string(L) + ": " +
             fmt("%.0f", doubles(rank["sequential"])[last]) + " of at most " + fmt("%.0f", doubles(rank["sequential_bound"])[last]) +
             (rank["sequential_below_half_from"].is_number()
                  ? "; at most half its bound from budget " + std::to_string(rank["sequential_below_half_from"].get<int>()) + " on"
                  : "; never below half its bound") +
             "</li>\n";
      if (rank.contains("hierarchical"))
        h += "<li>rank of the hierarchical updates at L = " + std::to_string(L) + ": " +
             fmt("%.0f", doubles(rank["hierarchical"])[last]) + " of at most " + fmt("%.0f", doubles(rank["hierarchical_bound"])[last]) + "</li>\n";
    }
    const ojson& compute = s.at("compute");
    if (compute["token_forward_ratio"].is_number())
      h += "<li>sequential used " + fmt("%.1f", get(compute, "token_forward_ratio")) + "&times; the token-forwards of hierarchical and " +
           fmt("%.1f", get(compute, "wall_time_ratio_seq_to_hier")) + "&times; its wall time</li>\n";
    h += "</ul></div>\n";

    // Figure 1: surprisal against context length.
    {
      SvgPlot p;
      p.title = "Mean surprisal against context length";
      p.x_label = "context length n (tokens the model saw), log scale";
      p.y_label = "mean surprisal (bits)";
      p.log_x = true;
      p.width = 760, p.height = 440;
      double m0 = kNaN;
      for (size_t i = 0; i < labels.size(); ++i) {
        const ojson& js = schedules[labels[i]];
        const std::vector<double> lens = doubles(js.at("context_len")), means = doubles(js.at("mean_surprisal_bits"));
        if (!lens.empty() && lens[0] == 0) m0 = means[0];
        const std::string color = color_of(labels[i], i);
        if (labels[i] == "hierarchical") {
          std::vector<int> levels;
          for (double x : lens) levels.push_back(int(x));
          const std::vector<double> steps = staircase(levels, means, L);
          std::vector<double> xs, ys;
          for (int n = 1; n <= L; ++n) xs.push_back(n), ys.push_back(steps[size_t(n)]);
          p.add({.name = "hierarchical (staircase)", .xs = xs, .ys = ys, .style = SeriesStyle::kStep, .color = color});
          p.add({.name = "hierarchical levels", .xs = lens, .ys = means, .style = SeriesStyle::kPoints, .color = color});
        } else {
          p.add({.name = labels[i], .xs = lens, .ys = means, .style = lens.size() == 1 ? SeriesStyle::kPoints : SeriesStyle::kLine, .color = color});
        }
      }
      for (const char* name : {"sequential", "hierarchical"}) {
        if (!power.contains(name) || !power[name]["a"].is_number()) continue;
        PowerLawFit f;
        f.a = get(power[name], "a"), f.beta = get(power[name], "beta"), f.c = get(power[name], "c");
        std::vector<double> xs = log_grid(L), ys;
        for (double x : xs) ys.push_back(f(x));
        p.add({.name = std::string(name) + " fit", .xs = xs, .ys = ys, .color = color_of(name, 0), .dashed = true});
      }
      if (std::isfinite(m0))
        p.add({.name = "no context (BOS only)", .xs = {1.0, double(L)}, .ys = {m0, m0}, .color = "#999", .dashed = true});
      headroom(p, 0.3);
      std::string cap =
          "How surprised the model is by each target token, averaged over the " + std::to_string(n_targets) +
          " targets, as a function of how many context tokens an iteration showed it. ";
      if (has_seq)
        cap += "Sequential access (blue) adds one token per iteration, so it traces the whole curve. ";
      if (has_hier)
        cap += "Hierarchical access (red) doubles its window each iteration; drawn over n it keeps each level's prediction "
               "until the next level, a staircase that touches the blue curve at n = 1, 2, 4, &hellip;, L. ";
      if (power.contains("sequential") || power.contains("hierarchical"))
        cap += "Dashed: the power laws S(n) = a&middot;n<sup>&minus;&beta;</sup> + c fitted to the mean curves at those shared points; c is the floor the curve levels off at. ";
      std::vector<std::string> others;
      for (const std::string& l : labels)
        if (l != "sequential" && l != "hierarchical") others.push_back("<i>" + esc(l) + "</i>");
      if (!others.empty()) {
        std::string list;
        for (size_t i = 0; i < others.size(); ++i) list += (i == 0 ? "" : i + 1 == others.size() ? " and " : ", ") + others[i];
        cap += others.size() == 1 ? "The other schedule (" + list + ") is plotted at its number of context tokens |C<sub>k</sub>|"
                                  : "The other schedules (" + list + ") are plotted at their number of context tokens |C<sub>k</sub>|";
        cap += schedules.contains("dilated") ? "; a dilated window reaches back 2<sup>k</sup> tokens but holds only k+1 of them. " : ". ";
      }
      if (has_seq) {
        const std::vector<double> m = doubles(schedules["sequential"]["mean_surprisal_bits"]);
        const std::vector<double> lens = doubles(schedules["sequential"]["context_len"]);
        double first = kNaN;
        for (size_t k = 0; k < m.size(); ++k)
          if (lens[k] == 1) first = m[k];
        cap += "Here the mean falls from " + fmt("%.2f", first) + " bits with one token of context to " + fmt("%.2f", m.back()) +
               " bits with " + std::to_string(L) + " (standard error of that mean: " +
               fmt("%.2f", doubles(schedules["sequential"]["std_error_bits"]).back()) + " bits over " + std::to_string(n_targets) +
               " targets).";
      }
      h += "<h2>1. Surprisal against context length</h2>\n" + figure(p, cap);
    }

    // Figure 2: rank against budget.
    {
      SvgPlot p;
      p.title = "Rank of the global transition matrix against the budget";
      p.x_label = "budget L, log scale";
      p.y_label = "numerical rank, log scale";
      p.log_x = true, p.log_y = true;
      p.width = 760, p.height = 440;
      const ojson& by = rank.at("by_schedule");
      bool zero = false;
      for (size_t i = 0; i < labels.size(); ++i) {
        if (!by.contains(labels[i])) continue;
        const std::vector<double> bs = doubles(by[labels[i]]["budgets"]), rs = doubles(by[labels[i]]["rank"]);
        for (double r : rs) zero |= r == 0;
        const std::string color = color_of(labels[i], i);
        p.add({.name = labels[i] + " rank", .xs = bs, .ys = rs, .style = bs.size() == 1 ? SeriesStyle::kPoints : SeriesStyle::kLine, .color = color});
      }
      p.add({.name = "bound L-1 (sequential)", .xs = budgets, .ys = doubles(rank.at("sequential_bound")), .color = "#1f77b4", .dashed = true});
      p.add({.name = "bound log2 L (hierarchical)", .xs = budgets, .ys = doubles(rank.at("hierarchical_bound")), .color = "#d62728", .dashed = true});
      headroom(p, 0.45);
      std::string cap =
          "For every target, iteration k changes the predicted log-distribution by an update vector (log p<sub>k</sub> &minus; log p<sub>k&minus;1</sub>). "
          "Stacking each iteration's updates over all targets gives one column of the global transition matrix G; its rank counts how many "
          "iterations brought a genuinely new direction of change. The rank can be at most the number of updates: L&minus;1 for sequential, "
          "log<sub>2</sub> L for hierarchical (dashed). Rank here is the number of singular values above &tau; = " + fmt("%g", tol) +
          " times the largest; a smaller budget's rank uses only that budget's first updates. ";
      if (has_seq && has_hier)
        cap += "Hierarchical access staying on its bound while sequential access falls away from its bound means most sequential iterations repeat what earlier ones already did. ";
      if (zero) cap += "A rank of 0 (all updates zero) cannot be drawn on the log scale and is left out. ";
      h += "<h2>2. Rank against budget</h2>\n" + figure(p, cap);
    }

    // Figure 3: anytime curves.
    {
      SvgPlot p;
      p.title = "Surprisal against cumulative compute (anytime inference)";
      p.x_label = "cumulative FLOPs per target, log scale";
      p.y_label = "mean surprisal (bits)";
      p.log_x = true;
      p.width = 760, p.height = 440;
      for (size_t i = 0; i < labels.size(); ++i) {
        if (!anytime.contains(labels[i])) continue;
        const std::vector<double> xs = doubles(anytime[labels[i]]["cumulative_flops"]), ys = doubles(anytime[labels[i]]["mean_surprisal_bits"]);
        const std::string color = color_of(labels[i], i);
        p.add({.name = labels[i], .xs = xs, .ys = ys, .style = xs.size() == 1 ? SeriesStyle::kPoints : SeriesStyle::kLine, .color = color});
      }
      headroom(p, 0.3);
      std::string cap =
          "Each point is one iteration: the mean surprisal reached after spending that much compute on each target, counting every "
          "iteration run so far. If inference had to stop at a given compute budget, the lower curve at that point is the better schedule. ";
      if (has_seq && has_hier) {
        const double fs = doubles(anytime["sequential"]["cumulative_flops"]).back();
        const double fh = doubles(anytime["hierarchical"]["cumulative_flops"]).back();
        cap += "Both end at the same prediction (the full budget), sequential after " + fmt("%.1f", fs / fh) + "&times; the FLOPs of hierarchical.";
      }
      h += "<h2>3. Surprisal against compute</h2>\n" + figure(p, cap);
    }

    // Figure 4: the rank spectrum at L.
    {
      SvgPlot p;
      p.title = "Singular values of G at L = " + std::to_string(L) + ", relative to the largest";
      p.x_label = "index i";
      p.y_label = "σ_i / σ_max, log scale";
      p.log_y = true;
      p.width = 760, p.height = 400;
      const ojson& sv = rank.at("singular_values");
      bool any = false;
      for (size_t i = 0; i < labels.size(); ++i) {
        if (!sv.contains(labels[i])) continue;
        const std::vector<double> sigma = doubles(sv[labels[i]]);
        if (sigma.empty() || !(sigma[0] > 0)) continue;
        std::vector<double> xs, ys;
        for (size_t k = 0; k < sigma.size(); ++k) xs.push_back(double(k + 1)), ys.push_back(sigma[k] / sigma[0]);
        const std::string color = color_of(labels[i], i);
        p.add({.name = labels[i], .xs = xs, .ys = ys, .style = xs.size() == 1 ? SeriesStyle::kPoints : SeriesStyle::kLine, .color = color});
        any = true;
      }
      double kmax = 1;
      for (const std::string& l : labels)
        if (sv.contains(l)) kmax = std::max(kmax, double(sv[l].size()));
      p.add({.name = "tolerance", .xs = {1.0, kmax}, .ys = {tol, tol}, .color = "#555", .dashed = true});
      std::string cap =
          "The singular values of each schedule's transition matrix at the full budget, largest first, as fractions of the largest. "
          "Values above the dashed line (&tau;) count toward the numerical rank of figure 2; a spectrum that drops steeply means a few "
          "directions carry almost all of the updates.";
      if (!any) cap += " All updates are zero here: there is no spectrum to draw.";
      h += "<h2>4. Rank spectrum at the full budget</h2>\n" + figure(p, cap);
    }

    // Words, when the CLI chose whole words as targets (--by word).
    if (s.contains("words") && s["words"].contains("mean_surprisal_bits")) {
      const ojson& w = s["words"];
      h += "<h2>Words</h2>\n<p>" + std::to_string(w.value("count", 0)) + " whole words were the targets (" + std::to_string(n_targets) +
           " tokens). " + esc(w.value("policy", std::string())) + " Mean word surprisal (bits) at the first and the last iteration:</p>\n";
      h += "<table><tr><th>schedule</th><th>first iteration</th><th>last iteration</th></tr>\n";
      for (const auto& [name, m] : w["mean_surprisal_bits"].items()) {
        const std::vector<double> v = doubles(m);
        if (v.empty()) continue;
        h += "<tr><td>" + esc(name) + "</td><td>" + fmt("%.3f", v.front()) + "</td><td>" + fmt("%.3f", v.back()) + "</td></tr>\n";
      }
      h += "</table>\n<p>Per word and iteration: words.csv.</p>\n";
    }

    // Tables: fits, ranks and compute.
    h += "<h2>Power-law fits</h2>\n<table><tr><th>schedule</th><th>points</th><th>a</th><th>&beta;</th><th>c (bits)</th><th>R&sup2;</th></tr>\n";
    auto fit_row = [&](const std::string& name, const ojson& f) {
      h += "<tr><td>" + esc(name) + "</td><td>" + fmt("%.0f", get(f, "points")) + "</td><td>" + fmt("%.4f", get(f, "a")) + "</td><td>" +
           fmt("%.4f", get(f, "beta")) + (f.value("beta_at_bound", false) ? " (at bound)" : "") + "</td><td>" + fmt("%.4f", get(f, "c")) +
           "</td><td>" + fmt("%.4f", get(f, "r2")) + "</td></tr>\n";
    };
    for (auto it = power.begin(); it != power.end(); ++it) fit_row(it.key() + " (n = 1, 2, 4, …)", it.value());
    const ojson& all = s.at("power_law_all_points");
    for (auto it = all.begin(); it != all.end(); ++it) fit_row(it.key() + " (all n)", it.value());
    h += "</table>\n<p>The fits use the mean curve over targets, not single targets. A flat curve is reported as a = 0, &beta; = 0, "
         "c = its value, R&sup2; = 1; fewer than 3 points give no fit. &beta; <i>at bound</i> means the best fit sits at an end of "
         "the searched range [0, 5]: at &beta; &rarr; 0 it is c &minus; k&middot;ln n, the values of a and c are then artefacts "
         "of that limit, and the curve is not a power law (often too few targets for a smooth mean).</p>\n";

    h += "<h2>Compute</h2>\n<table><tr><th>schedule</th><th>iterations</th><th>token-forwards per target</th><th>token-forwards</th>"
         "<th>GFLOPs</th><th>seconds</th><th>token-forwards/s</th><th>final mean (bits)</th><th>rank at L</th></tr>\n";
    for (const std::string& l : labels) {
      const ojson& js = schedules[l];
      std::string r = "&ndash;";
      const ojson& by = rank["by_schedule"];
      if (by.contains(l) && !by[l]["rank"].empty())
        r = std::to_string(by[l]["rank"].back().get<int>()) + " / " + std::to_string(by[l]["bound"].back().get<int>());
      h += "<tr><td>" + esc(l) + "</td><td>" + fmt("%.0f", get(js, "iterations")) + "</td><td>" + fmt("%.0f", get(js, "token_forwards_per_target")) +
           "</td><td>" + fmt("%.0f", get(js, "token_forwards")) + "</td><td>" + fmt("%.2f", get(js, "flops") / 1e9) + "</td><td>" +
           fmt("%.2f", get(js, "seconds")) + "</td><td>" + fmt("%.0f", get(js, "token_forwards_per_second")) + "</td><td>" +
           fmt("%.4f", get(s.at("final_mean_bits"), l.c_str())) + "</td><td>" + r + "</td></tr>\n";
    }
    h += "</table>\n<p>A token-forward is one token passing through the model; FLOPs count the weight matrices and causal attention. "
         "Seconds are measured wall time of each schedule's part of the sweep (batched forward passes).</p>\n";
    h += "<p><small>Generated by <code>strata analyze</code>; every number on this page is in summary.json, per-token values in tokens.csv.</small></p>\n";
    h += "</body></html>\n";
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("report: the summary lacks a required entry: ") + e.what());
  }
}

// --- CSV helpers -----------------------------------------------------------------------

std::string csv_quote(std::string_view field) {
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace strata
