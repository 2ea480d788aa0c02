// The headline numbers of a summary for a terminal (what `strata analyze` prints after
// "report in …"). See report.h.
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

}  // namespace

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
  for (const auto& [name, s] : section("schedules").items())
    out += format("  %-13s %.2f s, %.0f token-forwards/s\n", name.c_str(), s.value("seconds", 0.0),
                  s.contains("token_forwards_per_second") && s["token_forwards_per_second"].is_number()
                      ? s["token_forwards_per_second"].get<double>()
                      : 0.0);
  return out;
}

}  // namespace strata
