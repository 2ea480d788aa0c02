// The headline numbers of a summary for a terminal (what `strata analyze` prints after
// "report in …"). See report.h.
#include <cmath>
#include <cstdio>

#include "strata/report.h"

namespace strata {

namespace {

template <class... Args>
std::string format(const char* f, Args... args) {
  const int n = std::snprintf(nullptr, 0, f, args...);
  std::string s(size_t(n) + 1, '\0');
  std::snprintf(s.data(), s.size(), f, args...);
  s.pop_back();
  return s;
}

// 3289600 as "3.29M", 61925 as "61.9k".
std::string human(double v) {
  if (!std::isfinite(v)) return "-";
  if (v >= 1e9) return format("%.2fG", v / 1e9);
  if (v >= 1e6) return format("%.2fM", v / 1e6);
  if (v >= 1e4) return format("%.1fk", v / 1e3);
  return format("%.0f", v);
}

}  // namespace

std::string sharing_words(double own, double spent) {
  if (!(spent > 0) || own >= spent) return format("%.1fx less", spent > 0 ? own / spent : 0.0);
  return format("%.2fx more, padding", spent / own);
}

std::string summary_headline(const nlohmann::ordered_json& summary) {
  using ojson = nlohmann::ordered_json;
  const ojson none = ojson::object();
  auto section = [&](const char* key) -> const ojson& { return summary.contains(key) ? summary[key] : none; };
  std::string out;
  for (const auto& [name, fit] : section("power_law").items())
    if (fit.contains("r2") && fit["r2"].is_number())
      out += format("  %-13s power law a=%.3f beta=%.3f c=%.3f R2=%.3f (n = 1, 2, 4, ...)%s\n", name.c_str(),
                    fit.at("a").get<double>(), fit.at("beta").get<double>(), fit.at("c").get<double>(),
                    fit["r2"].get<double>(),
                    fit.value("beta_at_bound", false) ? ("\n                " + fit.value("note", std::string())).c_str() : "");
  if (summary.contains("final_gap_bits") && summary["final_gap_bits"].is_number())
    out += format("  final gap (sequential vs hierarchical at L): %.3g bits\n", summary["final_gap_bits"].get<double>());
  const ojson& rank = section("rank");
  for (const char* name : {"sequential", "hierarchical"})
    if (rank.contains(name) && !rank[name].empty() && rank[name].back().is_number())
      out += format("  %-13s rank at L: %d of %d\n", name, rank[name].back().get<int>(),
                    rank.at(std::string(name) + "_bound").back().get<int>());
  auto number = [](const ojson& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN; };
  // Each schedule that ran on its own (the per-target path); shared passes have one line below.
  for (const auto& [name, s] : section("schedules").items()) {
    if (s.contains("seconds") && s["seconds"].is_number()) {
      const double rate = number(s, "token_forwards_per_second");
      out += format("  %-13s %.2f s, %.0f token-forwards/s\n", name.c_str(), number(s, "seconds"), std::isfinite(rate) ? rate : 0.0);
    }
  }
  // Compute in its two views: the schedules' own cost (the paper's measure) and what the sweep spent.
  const ojson& compute = section("compute");
  if (compute.contains("own") && compute.contains("spent")) {
    const ojson &own = compute["own"], &spent = compute["spent"];
    out += format("  compute: the schedules' own cost %s token-forwards (each target run alone); the sweep spent %s "
                  "(%s) in %.0f forward calls, %.1f s, %.0f token-forwards/s, Gram %.1f s\n",
                  human(number(own, "token_forwards")).c_str(), human(number(spent, "token_forwards")).c_str(),
                  sharing_words(number(own, "token_forwards"), number(spent, "token_forwards")).c_str(),
                  number(spent, "forward_calls"), number(spent, "seconds"), number(spent, "token_forwards_per_second"),
                  number(spent, "gram_seconds"));
  }
  const ojson& domain = section("domain");
  if (domain.contains("bits_per_byte") && domain["bits_per_byte"].is_number())
    out += format("  bits per byte: %.3f (a simple compressor on this text: %.3f)\n", number(domain, "bits_per_byte"),
                  domain.contains("baseline") ? number(domain["baseline"], "bits_per_byte") : NAN);
  if (domain.contains("message") && domain["message"].is_string())
    out += "  WARNING: " + domain["message"].get<std::string>() + "\n";
  return out;
}

}  // namespace strata
