// report.html: one self-contained page drawn from summary.json. The page's head and
// introduction, the key numbers, the four figures (figures.cpp), and the tables of words,
// fits and compute, one function each, in the order they appear. See report.h.
#include "page.h"
#include "strata/error.h"
#include "strata/report.h"

namespace strata {

namespace page {
namespace {

constexpr const char* kStyle =
    "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:0.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "td{white-space:nowrap}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}"
    "figcaption{max-width:720px;font-size:0.92em;color:#333}.key{background:#f7f7f2;padding:0.6em 1em;border:1px solid #e5e5d5}"
    "code{background:#f2f2f2;padding:0 3px}.warn{background:#fdecea;border:1px solid #e0a0a0;padding:0.6em 1em}</style></head><body>\n";

// The BOS policy of summary.json's "bos", and what decided it.
std::string bos_sentence(const ojson& s) {
  const ojson bos = s.value("bos", ojson::object());
  const std::string why = bos.contains("decided_by") && bos["decided_by"].is_string()
                              ? " (decided by " + esc(bos["decided_by"].get<std::string>()) + ")"
                              : "";
  if (!bos.value("before_every_context", false)) return "BOS policy: no BOS before the contexts" + why + ".";
  const std::string id = bos.contains("id") && bos["id"].is_number_integer() ? " (id " + std::to_string(bos["id"].get<int64_t>()) + ")" : "";
  return "BOS policy: a BOS token" + id + " at position 0 before every context" + why + ".";
}

// The head, the title and what was analysed.
std::string introduction(const Page& g) {
  const ojson& model = g.s.at("model");
  const ojson& text = g.s.at("text");
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>strata analyze report</title>\n";
  h += kStyle;
  h += "<h1>Structured context access: one model, several inference schedules</h1>\n";
  h += "<p>Model <code>" + esc(model.value("dir", std::string())) + "</code> (" +
       fmt("%.2f", get(model, "parameters") / 1e6) + "M parameters, vocabulary " + fmt("%.0f", get(model, "vocab_size")) +
       ", context " + fmt("%.0f", get(model, "context")) + "); text <code>" + esc(text.value("path", std::string())) + "</code> (" +
       fmt("%.0f", get(text, "tokens")) + " tokens). Budget L = " + std::to_string(g.L) + ", " + std::to_string(g.n_targets) +
       " target tokens, rank tolerance &tau; = " + fmt("%g", g.tol) +
       (g.s.value("with_empty", false) ? ", with the empty-context iteration" : "") + ".</p>\n";
  h += "<p>" + bos_sentence(g.s) + "</p>\n";
  h += "<p><small>" + esc(g.s.value("first_token_policy", std::string())) + "</small></p>\n";
  // Said first and plainly: curves of a text the model cannot read say nothing of the method.
  if (g.s.contains("domain") && g.s["domain"].value("outside", false) && g.s["domain"]["message"].is_string())
    h += "<p class=\"warn\"><b>Warning.</b> " + esc(g.s["domain"]["message"].get<std::string>()) + "</p>\n";
  return h;
}

// The box of key numbers: fits, bits per token and byte, the final gap, ranks at L, compute.
std::string key_numbers(const Page& g) {
  const ojson& s = g.s;
  const ojson& power = s.at("power_law");
  const ojson& rank = s.at("rank");
  std::string h = "<div class=\"key\"><b>Key numbers.</b><ul>\n";
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
  fit_line("sequential");
  if (same_fit)
    h += "<li>hierarchical: the same fit, since at n = 1, 2, 4, &hellip; both schedules ran the very same model calls</li>\n";
  else
    fit_line("hierarchical");
  if (s.at("power_law_all_points").contains("sequential"))
    h += "<li>sequential fit over all n = 1 &hellip; L: R&sup2; = " +
         fmt("%.3f", get(s["power_law_all_points"]["sequential"], "r2")) + "</li>\n";
  {
    const ojson& finals = s.at("final_mean_bits");
    const double bytes = get(s.at("targets"), "mean_bytes");
    const std::string name = g.has_seq ? "sequential" : g.labels.front();
    const double f = get(finals, name.c_str());
    h += "<li>mean surprisal with the full budget (" + esc(name) + ", last iteration): " + fmt("%.3f", f) + " bits per token";
    if (std::isfinite(bytes) && bytes > 0)
      h += ", " + fmt("%.3f", f / bytes) + " bits per byte (the targets average " + fmt("%.2f", bytes) + " bytes)";
    h += "</li>\n";
  }
  if (s.contains("final_gap_bits") && s["final_gap_bits"].is_number())
    h += "<li>final iterations (both schedules see the same " + std::to_string(g.L) +
         " tokens) agree to " + fmt("%.2g", s["final_gap_bits"].get<double>()) + " bits (largest difference over targets)</li>\n";
  const std::vector<double> budgets = doubles(rank.at("budgets"));
  if (!budgets.empty()) {
    const size_t last = budgets.size() - 1;
    if (rank.contains("sequential"))
      h += "<li>rank of the sequential updates at L = " + std::to_string(g.L) + ": " +
           fmt("%.0f", doubles(rank["sequential"])[last]) + " of at most " + fmt("%.0f", doubles(rank["sequential_bound"])[last]) +
           (rank["sequential_below_half_from"].is_number()
                ? "; at most half its bound from budget " + std::to_string(rank["sequential_below_half_from"].get<int>()) + " on"
                : "; never below half its bound") +
           "</li>\n";
    if (rank.contains("hierarchical"))
      h += "<li>rank of the hierarchical updates at L = " + std::to_string(g.L) + ": " +
           fmt("%.0f", doubles(rank["hierarchical"])[last]) + " of at most " + fmt("%.0f", doubles(rank["hierarchical_bound"])[last]) + "</li>\n";
  }
  const ojson& compute = s.at("compute");
  if (compute["token_forward_ratio"].is_number())
    h += "<li>sequential costs " + fmt("%.1f", get(compute, "token_forward_ratio")) +
         "&times; the token-forwards of hierarchical per target (each run alone)" +
         (compute["wall_time_ratio_seq_to_hier"].is_number()
              ? " and took " + fmt("%.1f", get(compute, "wall_time_ratio_seq_to_hier")) + "&times; its wall time"
              : std::string()) +
         "</li>\n";
  if (compute.contains("own") && compute.contains("spent"))
    h += "<li>compute, two views: the schedules' own cost is " + fmt("%.4g", get(compute["own"], "token_forwards")) +
         " token-forwards (every target run alone, the paper's measure); the sweep spent " +
         fmt("%.4g", get(compute["spent"], "token_forwards")) + " (" + fmt("%.1f", get(compute, "sharing_factor")) +
         "&times; less, shared passes) in " + fmt("%.1f", get(compute["spent"], "seconds")) + " s</li>\n";
  if (s.contains("domain") && s["domain"]["bits_per_byte"].is_number())
    h += "<li>" + fmt("%.3f", get(s["domain"], "bits_per_byte")) + " bits per byte against " +
         fmt("%.3f", get(s["domain"]["baseline"], "bits_per_byte")) + " for a simple compressor on this text (an order-2 adaptive byte model)" +
         (s["domain"].value("outside", false) ? ": <b>far outside the model's domain</b>" : "") + "</li>\n";
  h += "</ul></div>\n";
  return h;
}

// Words, when whole words were the targets (--by word): mean word surprisal, first and last iteration.
std::string words_table(const Page& g) {
  if (!g.s.contains("words") || !g.s["words"].contains("mean_surprisal_bits")) return "";
  const ojson& w = g.s["words"];
  std::string h = "<h2>Words</h2>\n<p>" + std::to_string(w.value("count", 0)) + " whole words were the targets (" +
                  std::to_string(g.n_targets) + " tokens). " + esc(w.value("policy", std::string())) +
                  " Mean word surprisal (bits) at the first and the last iteration:</p>\n";
  h += "<table><tr><th>schedule</th><th>first iteration</th><th>last iteration</th></tr>\n";
  for (const auto& [name, m] : w["mean_surprisal_bits"].items()) {
    const std::vector<double> v = doubles(m);
    if (v.empty()) continue;
    h += "<tr><td>" + esc(name) + "</td><td>" + fmt("%.3f", v.front()) + "</td><td>" + fmt("%.3f", v.back()) + "</td></tr>\n";
  }
  h += "</table>\n<p>Per word and iteration: words.csv.</p>\n";
  return h;
}

std::string fits_table(const Page& g) {
  std::string h =
      "<h2>Power-law fits</h2>\n<table><tr><th>schedule</th><th>points</th><th>a</th><th>&beta;</th><th>c (bits)</th><th>R&sup2;</th></tr>\n";
  auto fit_row = [&](const std::string& name, const ojson& f) {
    h += "<tr><td>" + esc(name) + "</td><td>" + fmt("%.0f", get(f, "points")) + "</td><td>" + fmt("%.4f", get(f, "a")) + "</td><td>" +
         fmt("%.4f", get(f, "beta")) + (f.value("beta_at_bound", false) ? " (at bound)" : "") + "</td><td>" + fmt("%.4f", get(f, "c")) +
         "</td><td>" + fmt("%.4f", get(f, "r2")) + "</td></tr>\n";
  };
  const ojson& power = g.s.at("power_law");
  for (auto it = power.begin(); it != power.end(); ++it) fit_row(it.key() + " (n = 1, 2, 4, …)", it.value());
  const ojson& all = g.s.at("power_law_all_points");
  for (auto it = all.begin(); it != all.end(); ++it) fit_row(it.key() + " (all n)", it.value());
  h += "</table>\n<p>The fits use the mean curve over targets, not single targets. A flat curve is reported as a = 0, &beta; = 0, "
       "c = its value, R&sup2; = 1; fewer than 3 points give no fit. &beta; <i>at bound</i> means the best fit sits at an end of "
       "the searched range [0, 5]: at &beta; &rarr; 0 it is c &minus; k&middot;ln n, the values of a and c are then artefacts "
       "of that limit, and the curve is not a power law (often too few targets for a smooth mean).</p>\n";
  return h;
}

std::string compute_table(const Page& g) {
  const ojson& schedules = g.s.at("schedules");
  const ojson& rank = g.s.at("rank");
  std::string h =
      "<h2>Compute</h2>\n<p>Two views. <b>Own cost</b>: what one target costs under a schedule run alone, &Sigma;<sub>k</sub> |C<sub>k</sub>| "
      "token-forwards; the paper's measure and the axis of figure 3. <b>Spent</b>: what this sweep ran. Schedules whose windows are the "
      "most recent tokens share passes: one causal pass over x[s &hellip; s+m&minus;1] predicts x[s+n] from its n predecessors at output "
      "n&minus;1, for every n at once, so a contiguous stretch of targets costs about L token-forwards each, for all such schedules "
      "together.</p>\n"
      "<table><tr><th>schedule</th><th>path</th><th>iterations</th><th>own token-forwards per target</th><th>own token-forwards</th>"
      "<th>own GFLOPs</th><th>seconds</th><th>final mean (bits)</th><th>rank at L</th></tr>\n";
  for (const std::string& l : g.labels) {
    const ojson& js = schedules[l];
    std::string r = "&ndash;";
    const ojson& by = rank["by_schedule"];
    if (by.contains(l) && !by[l]["rank"].empty())
      r = std::to_string(by[l]["rank"].back().get<int>()) + " / " + std::to_string(by[l]["bound"].back().get<int>());
    h += "<tr><td>" + esc(l) + "</td><td>" + esc(js.value("path", std::string("per target"))) + "</td><td>" +
         fmt("%.0f", get(js, "iterations")) + "</td><td>" + fmt("%.0f", get(js, "token_forwards_per_target")) + "</td><td>" +
         fmt("%.0f", get(js, "token_forwards")) + "</td><td>" + fmt("%.2f", get(js, "flops") / 1e9) + "</td><td>" +
         (js["seconds"].is_number() ? fmt("%.2f", get(js, "seconds")) : std::string("shared")) + "</td><td>" +
         fmt("%.4f", get(g.s.at("final_mean_bits"), l.c_str())) + "</td><td>" + r + "</td></tr>\n";
  }
  h += "</table>\n";
  const ojson& compute = g.s.at("compute");
  if (compute.contains("paths") && !compute["paths"].empty()) {
    h += "<table><tr><th>path (spent)</th><th>schedules</th><th>token-forwards</th><th>of which padding</th><th>GFLOPs</th>"
         "<th>forward calls</th><th>seconds</th><th>of which Gram</th><th>token-forwards/s</th></tr>\n";
    for (const auto& [name, p] : compute["paths"].items()) {
      std::string list;
      for (const ojson& l : p["schedules"]) list += (list.empty() ? "" : ", ") + esc(l.get<std::string>());
      h += "<tr><td>" + std::string(name == "shared" ? "shared passes" : "per target") + "</td><td>" + list + "</td><td>" +
           fmt("%.0f", get(p, "token_forwards")) + "</td><td>" + fmt("%.0f", get(p, "padding_token_forwards")) + "</td><td>" +
           fmt("%.2f", get(p, "flops") / 1e9) + "</td><td>" + fmt("%.0f", get(p, "forward_calls")) + "</td><td>" +
           fmt("%.2f", get(p, "seconds")) + "</td><td>" + fmt("%.2f", get(p, "gram_seconds")) + "</td><td>" +
           fmt("%.0f", get(p, "token_forwards_per_second")) + "</td></tr>\n";
    }
    h += "</table>\n<p>The schedules' own cost in all: " + fmt("%.4g", get(compute["own"], "token_forwards")) +
         " token-forwards; spent: " + fmt("%.4g", get(compute["spent"], "token_forwards")) + " (" +
         fmt("%.1f", get(compute, "sharing_factor")) + "&times; less). The Gram matrices were formed from " +
         esc(compute.value("gram_form", std::string("?"))) +
         " states; at most " + fmt("%.0f", get(compute["in_flight"], "targets")) + " targets (" +
         fmt("%.1f", get(compute["in_flight"], "bytes") / 1048576.0) + " MB) held state at once.</p>\n";
  }
  h += "<p>A token-forward is one token passing through the model; FLOPs count the weight matrices and causal attention. "
       "Padding: shared passes of unequal length run in one call are padded to the longest (the pass is causal, so padding "
       "changes nothing before it).</p>\n";
  return h;
}

}  // namespace
}  // namespace page

std::string make_report_html(const nlohmann::ordered_json& s) {
  try {
    const nlohmann::ordered_json& schedules = s.at("schedules");
    page::Page g{.s = s,
                 .L = s.at("budget").get<int>(),
                 .tol = s.at("tolerance").get<double>(),
                 .n_targets = s.at("targets").at("count").get<int64_t>(),
                 .labels = {},
                 .has_seq = schedules.contains("sequential"),
                 .has_hier = schedules.contains("hierarchical")};
    for (auto it = schedules.begin(); it != schedules.end(); ++it) g.labels.push_back(it.key());
    if (g.labels.empty()) throw Error("report: the summary has no schedules");

    std::string h = page::introduction(g);
    h += page::key_numbers(g);
    h += page::surprisal_figure(g);
    h += page::rank_figure(g);
    h += page::anytime_figure(g);
    h += page::spectrum_figure(g);
    h += page::words_table(g);
    h += page::fits_table(g);
    h += page::compute_table(g);
    h += "<p><small>Generated by <code>strata analyze</code>; every number on this page is in summary.json, per-token values in tokens.csv.</small></p>\n";
    h += "</body></html>\n";
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("report: the summary lacks a required entry: ") + e.what());
  }
}

}  // namespace strata
