// summary.json: every number behind the report, from a sweep. One function per section, in
// the order the summary holds them: the record (budget, model, text), targets, schedules
// (curves and compute), power laws, ranks, finals and the gap, compute ratios, the anytime
// curves, words. The statistics themselves come from the core (analysis.h: streamed means,
// the power-law fit, the rank); this file only selects and serialises. See report.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "strata/analysis.h"
#include "strata/error.h"
#include "strata/model.h"
#include "strata/report.h"
#include "strata/schedule.h"
#include "strata/words.h"

namespace strata {

namespace {

using ojson = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string first_token_policy(const SweepOptions& o) {
  std::string p =
      "Targets are positions t >= L (the budget), so every target has its full budget of context; the first L "
      "tokens of the text are context only and are never scored. ";
  if (o.bos)
    p += "Every context is fed as a BOS token (id " + std::to_string(o.bos_id) +
         ") at position 0 followed by its window at positions 1 ... n; |C_k| counts the window only, token-forwards "
         "count the BOS too. The empty-context iteration, when asked for, is the BOS token alone (never two).";
  else
    p += "No BOS token is prepended to any context; the optional empty-context iteration alone feeds a BOS token.";
  return p;
}

// Above this many targets the summary lists them as ranges only.
constexpr size_t kMaxListedPositions = 10000;

// A number for JSON: NaN and infinities become null (nlohmann would do the same; being
// explicit keeps the intent visible).
ojson num(double v) { return std::isfinite(v) ? ojson(v) : ojson(nullptr); }

ojson num_array(const std::vector<double>& v) {
  ojson a = ojson::array();
  for (double x : v) a.push_back(num(x));
  return a;
}

template <class T>
ojson to_json_array(const std::vector<T>& v) {
  ojson a = ojson::array();
  for (const T& x : v) a.push_back(x);
  return a;
}

ojson object_or_empty(const ojson& j) { return j.is_null() ? ojson::object() : j; }

// --- What the sections need of one swept schedule, derived once ----------------------

struct Swept {
  std::string label;
  const ScheduleSweep* sweep = nullptr;
  std::unique_ptr<Schedule> schedule;  // null when its spec no longer makes one (a custom file gone since the sweep)
  std::vector<double> mean, std_error;  // per iteration, over targets (bits)
  std::vector<int> span;                // per iteration: the farthest offset its window reaches
  std::vector<double> cumulative_flops, cumulative_token_forwards;  // per target, over the iterations so far
  std::vector<double> curve;  // mean by context length n = 0 … L; empty when a length repeats (custom)
};

std::vector<Swept> derive(const SweepResult& result, const SweepOptions& options, const ModelConfig& config,
                          const std::vector<std::string>& labels) {
  const int L = options.budget;
  const size_t extra = options.with_empty ? 1 : 0;
  std::vector<Swept> out(result.schedules.size());
  for (size_t i = 0; i < out.size(); ++i) {
    Swept& w = out[i];
    const ScheduleSweep& s = result.schedules[i];
    w.label = labels[i];
    w.sweep = &s;
    try {
      w.schedule = make_schedule(options.schedules[i]);
    } catch (const Error&) {
      // only the spans are lost, and the smaller budgets' ranks
    }
    const size_t K = s.context_len.size();
    w.mean = s.surprisal.means();
    w.std_error = s.surprisal.std_errors();
    w.span.assign(K, 0);
    if (w.schedule) {
      const auto windows = w.schedule->offsets(L);
      for (size_t k = extra; k < K; ++k)
        if (k - extra < windows.size()) w.span[k] = windows[k - extra].front();
    } else {
      for (size_t k = 0; k < K; ++k) w.span[k] = s.context_len[k];
    }
    double flops = 0, forwards = 0;
    for (size_t k = 0; k < K; ++k) {
      // The empty iteration feeds one BOS token; with BOS on, every context one more.
      const int len = s.context_len[k] == 0 ? 1 : s.context_len[k] + (options.bos ? 1 : 0);
      flops += Transformer::forward_flops(config, len);
      forwards += len;
      w.cumulative_flops.push_back(flops);
      w.cumulative_token_forwards.push_back(forwards);
    }
    std::vector<double> curve(size_t(L) + 1, kNaN);
    std::vector<bool> seen(size_t(L) + 1, false);
    bool distinct = true;
    for (size_t k = 0; k < K && distinct; ++k) {
      const int len = s.context_len[k];
      distinct = len >= 0 && len <= L && !seen[size_t(len)];
      if (distinct) seen[size_t(len)] = true, curve[size_t(len)] = w.mean[k];
    }
    if (distinct) w.curve = std::move(curve);
  }
  return out;
}

// The first schedule of that name ("hierarchical" is base 2), or -1.
int find(const std::vector<Swept>& swept, const std::string& name) {
  for (size_t i = 0; i < swept.size(); ++i)
    if (swept[i].sweep->name == name) return int(i);
  return -1;
}

void check(const SweepResult& result, const SweepOptions& options, const ReportInfo& info,
           const std::vector<std::string>& labels) {
  if (!(info.tolerance > 0 && info.tolerance < 1))
    throw Error("report: the rank tolerance must be in (0, 1), got " + std::to_string(info.tolerance));
  if (result.targets.empty()) throw Error("report: the sweep has no targets");
  if (result.schedules.empty()) throw Error("report: the sweep has no schedules");
  if (options.schedules.size() != result.schedules.size())
    throw Error("report: " + std::to_string(options.schedules.size()) + " schedule specs for " +
                std::to_string(result.schedules.size()) + " swept schedules");
  const int64_t n_targets = int64_t(result.targets.size());
  for (size_t i = 0; i < result.schedules.size(); ++i) {
    const ScheduleSweep& s = result.schedules[i];
    const int K = int(s.context_len.size());
    bool ok = K > 0 && s.surprisal.size() == K && int64_t(s.final_surprisal.size()) == n_targets;
    for (int k = 0; ok && k < K; ++k) ok = s.surprisal.count(k) == n_targets;
    if (!ok) throw Error("report: schedule \"" + labels[i] + "\" has inconsistent statistics");
  }
  if (info.word_surprisal && info.word_surprisal->size() != result.schedules.size())
    throw Error("report: word statistics for " + std::to_string(info.word_surprisal->size()) + " of " +
                std::to_string(result.schedules.size()) + " schedules");
}

// --- Sections --------------------------------------------------------------------------

ojson model_section(const ModelConfig& config, const ReportInfo& info) {
  return {{"dir", info.model_dir},
          {"parameters", config.parameter_count()},
          {"vocab_size", config.vocab_size},
          {"hidden_size", config.hidden_size},
          {"layers", config.num_hidden_layers},
          {"context", config.max_position_embeddings}};
}

ojson targets_section(const SweepResult& result, const SweepOptions& options, const ReportInfo& info) {
  ojson targets;
  targets["count"] = int64_t(result.targets.size());
  ojson ranges = ojson::array();
  for (const auto& [from, to] : target_ranges(result.targets)) ranges.push_back({from, to});
  targets["ranges"] = ranges;
  if (result.targets.size() <= kMaxListedPositions) targets["positions"] = to_json_array(result.targets);
  targets["selection"] = info.target_selection.empty() ? (options.stride > 0 ? "stride" : "even") : info.target_selection;
  if (!info.target_selection_note.empty()) targets["selection_note"] = info.target_selection_note;
  targets["stride"] = options.stride > 0 ? ojson(options.stride) : ojson(nullptr);
  if (info.tokenizer && !info.tokens.empty()) {
    double bytes = 0;  // a sum of small integers: exact, so its mean is rounded once
    for (int64_t t : result.targets)
      if (t >= 0 && t < int64_t(info.tokens.size())) bytes += double(info.tokenizer->token_text(info.tokens[size_t(t)]).size());
    targets["mean_bytes"] = bytes / double(result.targets.size());
  }
  return targets;
}

// Per schedule: its curve over the iterations and what it cost.
ojson schedules_section(const std::vector<Swept>& swept, const SweepOptions& options, const ReportInfo& info) {
  ojson schedules;
  for (size_t i = 0; i < swept.size(); ++i) {
    const Swept& w = swept[i];
    const ScheduleSweep& s = *w.sweep;
    ojson js;
    js["spec"] = options.schedules[i];
    js["path"] = s.shared ? "shared passes" : "per target";
    if (!s.shared && info.plan) {
      const auto& pt = info.plan->per_target;
      const auto it = std::find(pt.begin(), pt.end(), int(i));
      if (it != pt.end()) js["path_reason"] = info.plan->why_per_target[size_t(it - pt.begin())];
    }
    js["iterations"] = s.context_len.size();
    js["context_len"] = to_json_array(s.context_len);
    js["span"] = to_json_array(w.span);
    js["mean_surprisal_bits"] = num_array(w.mean);
    js["std_error_bits"] = num_array(w.std_error);
    js["token_forwards"] = s.token_forwards;
    js["token_forwards_per_target"] = w.cumulative_token_forwards.back();
    js["flops"] = s.flops;
    // A schedule on shared passes has no wall time of its own: the passes served all of them.
    js["seconds"] = s.shared ? ojson(nullptr) : ojson(s.seconds);
    js["token_forwards_per_second"] = num(!s.shared && s.seconds > 0 ? double(s.token_forwards) / s.seconds : kNaN);
    schedules[w.label] = js;
  }
  return schedules;
}

// A fit as the summary records it: a, beta, c, r2 (null without a fit), the points, and
// what kind of fit it is; `note` says in words why a fit is missing, flat or at a bound.
ojson fit_json(const PowerLawFit& f) {
  using Kind = PowerLawFit::Kind;
  ojson j;
  j["a"] = f.fitted() ? num(f.a) : ojson(nullptr);
  j["beta"] = f.fitted() ? num(f.beta) : ojson(nullptr);
  j["c"] = f.fitted() ? num(f.c) : ojson(nullptr);
  j["r2"] = f.fitted() ? num(f.r2) : ojson(nullptr);
  j["points"] = f.points;
  j["ns"] = to_json_array(f.ns);
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

// power_law (at the shared log-spaced points n = 1, 2, 4, …), power_law_all_points (every
// n, sequential) and per_token_contribution (sequential).
void power_law_sections(ojson& j, const std::vector<Swept>& swept, int seq, int hier, int L, bool with_empty) {
  std::vector<int> log_ns;
  for (int64_t n = 1; n <= L; n *= 2) log_ns.push_back(int(n));
  ojson power, power_all, contribution;
  if (seq >= 0 && !swept[size_t(seq)].curve.empty()) {
    const std::vector<double>& curve = swept[size_t(seq)].curve;
    power["sequential"] = fit_json(fit_power_law_curve(curve, log_ns));
    power_all["sequential"] = fit_json(fit_power_law_curve(curve));
    const std::vector<double> delta = per_token_contribution(curve);
    std::vector<int> ns;
    std::vector<double> ds;
    for (int n = with_empty ? 0 : 1; n <= L; ++n) ns.push_back(n), ds.push_back(delta[size_t(n)]);
    contribution["sequential"] = {{"context_len", to_json_array(ns)}, {"delta_bits", num_array(ds)}};
  }
  if (hier >= 0 && !swept[size_t(hier)].curve.empty())
    power["hierarchical"] = fit_json(fit_power_law_curve(swept[size_t(hier)].curve, log_ns));
  j["power_law"] = object_or_empty(power);
  j["power_law_all_points"] = object_or_empty(power_all);
  j["per_token_contribution"] = object_or_empty(contribution);
}

struct RankSeries {
  std::vector<int> budgets, bound, rank;
  std::vector<double> effective;
};

// The rank at each budget the schedule's Gram matrix answers (Schedule::rank_points); a
// schedule that can no longer be made from its spec is answered at the swept budget only.
RankSeries rank_series(const Swept& w, int budget, bool with_empty, double tol) {
  const StreamingGram& gram = w.sweep->gram;
  RankSeries r;
  const std::vector<Schedule::RankPoint> points =
      w.schedule ? w.schedule->rank_points(budget, with_empty) : std::vector<Schedule::RankPoint>{{budget, gram.columns()}};
  for (const Schedule::RankPoint& p : points) {
    if (p.columns > gram.columns()) continue;
    const RankReport rep = gram.leading(p.columns).rank(tol);
    r.budgets.push_back(p.budget);
    r.bound.push_back(p.columns);
    r.rank.push_back(rep.numerical_rank);
    r.effective.push_back(rep.effective_rank);
  }
  return r;
}

// Ranks per schedule, then the two main ones aligned on the budgets 2, 4, …, L with both
// bounds (drawn whether or not those schedules were swept), and the spectra at L.
ojson rank_section(const std::vector<Swept>& swept, int seq, int hier, int L, bool with_empty, double tol) {
  ojson rank;
  rank["tolerance"] = tol;
  std::vector<RankSeries> series;
  ojson by_schedule, singular;
  for (const Swept& w : swept) {
    series.push_back(rank_series(w, L, with_empty, tol));
    const RankSeries& r = series.back();
    by_schedule[w.label] = {{"budgets", to_json_array(r.budgets)},
                            {"rank", to_json_array(r.rank)},
                            {"bound", to_json_array(r.bound)},
                            {"effective_rank", num_array(r.effective)}};
    singular[w.label] = num_array(w.sweep->gram.rank(tol).singular_values);
  }
  const std::vector<Schedule::RankPoint> seq_points = SequentialSchedule().rank_points(L, with_empty);
  const std::vector<Schedule::RankPoint> hier_points = HierarchicalSchedule(2).rank_points(L, with_empty);
  std::vector<int> budgets;
  for (const Schedule::RankPoint& p : seq_points) budgets.push_back(p.budget);
  rank["budgets"] = to_json_array(budgets);
  auto aligned = [&](int idx, bool effective) {
    ojson a = ojson::array();
    const RankSeries& r = series[size_t(idx)];
    for (int b : budgets) {
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
  rank["effective_rank"] = object_or_empty(effective);
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
  return rank;
}

// The correctness check: at L both main schedules ran the very same context, so their
// final surprisals agree target by target. And every schedule's final mean.
void finals_section(ojson& j, const std::vector<Swept>& swept, int seq, int hier) {
  if (seq >= 0 && hier >= 0) {
    const auto& fs = swept[size_t(seq)].sweep->final_surprisal;
    const auto& fh = swept[size_t(hier)].sweep->final_surprisal;
    double gap = 0;
    Moments mean_gap;
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
  ojson finals;
  for (const Swept& w : swept) finals[w.label] = num(w.mean.back());
  j["final_mean_bits"] = finals;
}

ojson spent_json(const SweepSpent& p) {
  return {{"token_forwards", p.token_forwards},
          {"padding_token_forwards", p.padding},
          {"flops", p.flops},
          {"forward_calls", p.forward_calls},
          {"passes", p.passes},
          {"seconds", p.seconds},
          {"gram_seconds", p.gram_seconds},
          {"token_forwards_per_second", num(p.seconds > 0 ? double(p.token_forwards) / p.seconds : kNaN)}};
}

// Compute in two views: the schedules' own cost (what each target costs run alone, the
// paper's measure and the anytime curve's axis) and what the sweep spent (shared passes
// serve many targets and schedules at once).
ojson compute_section(const SweepResult& result, const std::vector<Swept>& swept, int seq, int hier, double seconds,
                      const ReportInfo& info) {
  ojson compute;
  if (seq >= 0 && hier >= 0) {
    const ScheduleSweep &s = *swept[size_t(seq)].sweep, &h = *swept[size_t(hier)].sweep;
    // Wall times compare only when each schedule ran on its own (the per-target path).
    compute["wall_time_ratio_seq_to_hier"] = num(!s.shared && !h.shared && h.seconds > 0 ? s.seconds / h.seconds : kNaN);
    compute["token_forward_ratio"] = num(h.token_forwards > 0 ? double(s.token_forwards) / double(h.token_forwards) : kNaN);
    compute["flops_ratio"] = num(h.flops > 0 ? s.flops / h.flops : kNaN);
  } else {
    compute["wall_time_ratio_seq_to_hier"] = nullptr;
    compute["token_forward_ratio"] = nullptr;
    compute["flops_ratio"] = nullptr;
  }
  compute["seconds"] = seconds;
  int64_t own_forwards = 0;
  double own_flops = 0;
  for (const Swept& w : swept) own_forwards += w.sweep->token_forwards, own_flops += w.sweep->flops;
  compute["own"] = {{"token_forwards", own_forwards}, {"flops", own_flops}};
  const SweepSpent spent = result.spent();
  compute["spent"] = spent_json(spent);
  compute["sharing_factor"] = num(spent.token_forwards > 0 ? double(own_forwards) / double(spent.token_forwards) : kNaN);
  compute["gram_form"] = gram_form_name(result.gram_form);
  ojson paths;
  for (const bool shared : {true, false}) {
    ojson labels = ojson::array();
    for (const Swept& w : swept)
      if (w.sweep->shared == shared) labels.push_back(w.label);
    if (labels.empty()) continue;
    ojson p = spent_json(shared ? result.shared : result.per_target);
    p["schedules"] = labels;
    paths[shared ? "shared" : "per_target"] = p;
  }
  compute["paths"] = object_or_empty(paths);
  compute["in_flight"] = {{"targets", result.peak_targets_in_flight},
                          {"bytes", result.peak_state_bytes},
                          {"bytes_per_target", info.plan ? ojson(info.plan->state_bytes_per_target) : ojson(nullptr)}};
  return compute;
}

// Is the text far outside the model's domain? Two plain signs: the model codes it in more
// bits per byte than a simple general-purpose compressor would, or its mean surprisal
// rises with context instead of falling.
ojson domain_section(const std::vector<Swept>& swept, int seq, const ojson& targets, const ReportInfo& info) {
  int ref = seq;
  for (size_t i = 0; ref < 0 && i < swept.size(); ++i)
    if (!swept[i].curve.empty()) ref = int(i);
  if (ref < 0) ref = 0;
  const Swept& w = swept[size_t(ref)];
  double first = kNaN, last = kNaN;
  int n_first = -1, n_last = -1;
  for (size_t k = 0; k < w.mean.size(); ++k) {
    const int n = w.sweep->context_len[k];
    if (n < 1) continue;
    if (n_first < 0 || n < n_first) n_first = n, first = w.mean[k];
    if (n > n_last) n_last = n, last = w.mean[k];
  }
  ojson d;
  d["schedule"] = w.label;
  const double bytes = targets.contains("mean_bytes") ? targets["mean_bytes"].get<double>() : kNaN;
  const double bpb = bytes > 0 ? w.mean.back() / bytes : kNaN;
  double baseline = kNaN;
  if (info.tokenizer && !info.tokens.empty()) baseline = byte_model_bits_per_byte(info.tokenizer->decode(info.tokens));
  d["bits_per_byte"] = num(bpb);
  d["baseline"] = {{"name", "order-2 adaptive byte model (a general-purpose compressor's rate; gzip -9 is close)"},
                   {"bits_per_byte", num(baseline)}};
  d["first_context_len"] = n_first;
  d["first_mean_bits"] = num(first);
  d["last_context_len"] = n_last;
  d["last_mean_bits"] = num(last);
  const bool rising = n_last > n_first && std::isfinite(first) && std::isfinite(last) && last > first;
  const bool worse = std::isfinite(bpb) && std::isfinite(baseline) && bpb > baseline;
  d["rising"] = rising;
  d["worse_than_baseline"] = worse;
  d["outside"] = rising || worse;
  std::string message;
  char buf[256];
  if (worse) {
    std::snprintf(buf, sizeof buf,
                  "the model needs %.2f bits per byte on these targets, more than the %.2f of a simple compressor on this text",
                  bpb, baseline);
    message = buf;
  }
  if (rising) {
    std::snprintf(buf, sizeof buf, "mean surprisal rises with context, from %.2f bits at n = %d to %.2f at n = %d", first,
                  n_first, last, n_last);
    message += (message.empty() ? "" : "; ") + std::string(buf);
  }
  d["message"] = message.empty() ? ojson(nullptr)
                                 : ojson("This text is far outside the model's domain: " + message +
                                         ". Its curves say little about the method; use a text like the model's training data.");
  return d;
}

// Mean surprisal against the compute spent per target so far, iteration by iteration.
ojson anytime_section(const std::vector<Swept>& swept) {
  ojson anytime;
  for (const Swept& w : swept) {
    std::vector<int> iterations(w.mean.size());
    for (size_t k = 0; k < iterations.size(); ++k) iterations[k] = int(k);
    ojson ja;
    ja["iteration"] = to_json_array(iterations);
    ja["cumulative_flops"] = num_array(w.cumulative_flops);
    ja["cumulative_token_forwards"] = num_array(w.cumulative_token_forwards);
    ja["mean_surprisal_bits"] = num_array(w.mean);
    anytime[w.label] = ja;
  }
  return anytime;
}

ojson words_section(const std::vector<Swept>& swept, const SweepOptions& options, const ReportInfo& info) {
  ojson means;
  for (size_t i = 0; i < swept.size(); ++i) means[swept[i].label] = num_array((*info.word_surprisal)[i].means());
  return {{"count", info.word_count},
          {"stride", options.stride > 0 ? ojson(options.stride) : ojson(nullptr)},
          {"policy", kWordPolicy},
          {"mean_surprisal_bits", means}};
}

}  // namespace

// --- Labels and summary ----------------------------------------------------------------

std::vector<std::string> schedule_labels(const std::vector<std::string>& names) {
  std::vector<std::string> labels;
  std::map<std::string, int> seen;
  for (const std::string& name : names) {
    const int k = ++seen[name];
    labels.push_back(k == 1 ? name : name + "#" + std::to_string(k));
  }
  return labels;
}

std::vector<std::string> schedule_labels(const SweepResult& result) {
  std::vector<std::string> names;
  for (const ScheduleSweep& s : result.schedules) names.push_back(s.name);
  return schedule_labels(names);
}

ojson make_summary(const SweepResult& result, const SweepOptions& options, const ModelConfig& config,
                   const ReportInfo& info) {
  const std::vector<std::string> labels = schedule_labels(result);
  check(result, options, info, labels);
  const int L = options.budget;
  const std::vector<Swept> swept = derive(result, options, config, labels);
  const int seq = find(swept, "sequential"), hier = find(swept, "hierarchical");

  ojson j;
  j["budget"] = L;
  j["with_empty"] = options.with_empty;
  j["bos"] = {{"before_every_context", options.bos}, {"id", options.bos || options.with_empty ? ojson(options.bos_id) : ojson(nullptr)}};
  if (!info.bos_reason.empty()) j["bos"]["decided_by"] = info.bos_reason;
  j["tolerance"] = info.tolerance;
  j["first_token_policy"] = first_token_policy(options);
  j["model"] = model_section(config, info);
  j["text"] = {{"path", info.text_path}, {"bytes", info.text_bytes}, {"tokens", info.text_tokens}};
  j["targets"] = targets_section(result, options, info);
  j["schedules"] = schedules_section(swept, options, info);
  power_law_sections(j, swept, seq, hier, L, options.with_empty);
  j["rank"] = rank_section(swept, seq, hier, L, options.with_empty, info.tolerance);
  finals_section(j, swept, seq, hier);
  j["compute"] = compute_section(result, swept, seq, hier, info.seconds, info);
  j["anytime"] = anytime_section(swept);
  j["domain"] = domain_section(swept, seq, j["targets"], info);
  if (info.word_surprisal) j["words"] = words_section(swept, options, info);
  return j;
}

}  // namespace strata
