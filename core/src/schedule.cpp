// Schedules: the windows of each iteration, placed at a target. See schedule.h.
#include "strata/schedule.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <nlohmann/json.hpp>

#include "strata/error.h"
#include "strata/file_util.h"

namespace strata {

namespace {

constexpr const char* kValidSpecs =
    "sequential, hierarchical, hierarchical:<base>, dilated, custom:<json>, custom:@<file.json>";

// Far beyond any model's context, yet keeps offsets, budgets and position ids in int32.
constexpr int64_t kMaxCustomOffset = int64_t(1) << 24;
// All windows of a custom schedule together hold at most this many offsets, checked
// before any window is expanded: a 300-byte spec must not cost gigabytes.
constexpr int64_t kMaxCustomTotalOffsets = int64_t(1) << 24;

// k with base^k == n, or -1; written with division so large n cannot overflow.
int exact_log(int n, int base) {
  if (n < 1) return -1;
  int k = 0;
  while (n % base == 0) {
    n /= base;
    ++k;
  }
  return n == 1 ? k : -1;
}

std::vector<int> most_recent(int n) {  // offsets n, n-1, …, 1
  std::vector<int> w(n);
  for (int i = 0; i < n; ++i) w[i] = n - i;
  return w;
}

// The smallest k with step^k >= d: the level of a doubling (or step-fold) hierarchy that
// first reaches back to offset d >= 1.
int level_reaching(int64_t d, int step) {
  int k = 0;
  for (int64_t w = 1; w < d; w *= step) ++k;
  return k;
}

// The powers of `base` (1, base, base², …) up to min(history, context) that `s` accepts.
std::vector<int> powers_accepted(const Schedule& s, int base, int64_t history, int context) {
  std::vector<int> out;
  const int64_t limit = std::min<int64_t>(history, context);
  for (int64_t L = 1; L <= limit; L *= base)
    if (s.accepts_budget(int(L))) out.push_back(int(L));
  return out;
}

// Level k of a schedule whose windows reach back base^k: the budgets base, base², … <= L,
// with k columns each (one more with the empty iteration).
std::vector<Schedule::RankPoint> level_rank_points(int base, int budget, bool with_empty) {
  std::vector<Schedule::RankPoint> points;
  int levels = 1;
  for (int64_t b = base; b <= budget; b *= base, ++levels) points.push_back({int(b), levels + (with_empty ? 1 : 0)});
  return points;
}

void require_power(int budget, int base, const std::string& who) {
  if (exact_log(budget, base) >= 0) return;
  int64_t below = 1;
  while (below * base <= budget) below *= base;
  throw Error(who + " needs a budget L that is a power of " + std::to_string(base) + "; L=" +
              std::to_string(budget) + " is not (nearest: " + std::to_string(below) + " or " +
              std::to_string(below * base) + ")");
}

}  // namespace

// --- Schedule --------------------------------------------------------------------------

void Schedule::check_budget(int budget) const {
  if (budget < 1)
    throw Error(name() + ": budget L=" + std::to_string(budget) + " must be at least 1");
}

std::vector<ContextSet> Schedule::contexts(int64_t t, int budget, bool with_empty) const {
  const std::vector<std::vector<int>> windows = offsets(budget);
  if (t < budget)
    throw Error(name() + ": target t=" + std::to_string(t) + " has only " + std::to_string(std::max<int64_t>(t, 0)) +
                " tokens before it, fewer than the budget L=" + std::to_string(budget));
  std::vector<ContextSet> sets;
  sets.reserve(windows.size() + (with_empty ? 1 : 0));
  if (with_empty) sets.emplace_back();
  for (const std::vector<int>& w : windows) {
    ContextSet c;
    const int span = w.front();
    c.positions.reserve(w.size());
    c.position_ids.reserve(w.size());
    for (int d : w) {
      c.positions.push_back(t - d);
      c.position_ids.push_back(span - d);
    }
    sets.push_back(std::move(c));
  }
  return sets;
}

int64_t Schedule::token_forwards(int budget, bool with_empty) const {
  int64_t total = with_empty ? 1 : 0;
  for (const std::vector<int>& w : offsets(budget)) total += int64_t(w.size());
  return total;
}

bool Schedule::accepts_budget(int budget) const {
  try {
    check_budget(budget);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::vector<int> Schedule::budget_choices(int64_t history, int context) const {
  return powers_accepted(*this, 2, history, context);
}

int Schedule::default_budget(int64_t history, int context) const {
  const std::vector<int> choices = budget_choices(history, context);
  if (!choices.empty()) return choices.back();
  if (history < 1)
    throw Error(name() + ": the target has no tokens before it, so no budget fits");
  throw Error(name() + ": no budget fits a target with " + std::to_string(history) +
              " tokens before it under a model context of " + std::to_string(context) + " tokens");
}

int Schedule::level_of_offset(int64_t d, int budget) const {
  const std::vector<std::vector<int>> windows = offsets(budget);
  for (size_t k = 0; k < windows.size(); ++k)
    if (std::find(windows[k].begin(), windows[k].end(), d) != windows[k].end()) return int(k);
  return -1;
}

int Schedule::gram_columns(int budget, bool with_empty) const {
  return iterations(budget) + (with_empty ? 1 : 0) - 1;
}

std::vector<Schedule::RankPoint> Schedule::rank_points(int budget, bool with_empty) const {
  const int columns = gram_columns(budget, with_empty);
  if (columns == 0) return {};
  return {{budget, columns}};
}

bool Schedule::contiguous(int budget) const {
  for (const std::vector<int>& w : offsets(budget))  // descending and distinct
    if (w.back() != 1 || w.front() != int(w.size())) return false;
  return true;
}

// --- Sequential ------------------------------------------------------------------------

int SequentialSchedule::iterations(int budget) const {
  check_budget(budget);
  return budget;
}

std::vector<std::vector<int>> SequentialSchedule::offsets(int budget) const {
  check_budget(budget);
  std::vector<std::vector<int>> windows;
  for (int k = 1; k <= budget; ++k) windows.push_back(most_recent(k));
  return windows;
}

std::vector<int> SequentialSchedule::budget_choices(int64_t history, int context) const {
  return powers_accepted(*this, 2, history, context);
}

int SequentialSchedule::level_of_offset(int64_t d, int budget) const {
  if (d < 1 || d > budget) return -1;
  return level_reaching(d, 2);
}

std::vector<Schedule::RankPoint> SequentialSchedule::rank_points(int budget, bool with_empty) const {
  const int extra = with_empty ? 1 : 0;
  std::vector<RankPoint> points;
  for (int64_t b = 2; b <= budget; b *= 2) points.push_back({int(b), int(b) - 1 + extra});
  if (budget > 1 && exact_log(budget, 2) < 0) points.push_back({budget, budget - 1 + extra});
  return points;
}

// --- Hierarchical ----------------------------------------------------------------------

HierarchicalSchedule::HierarchicalSchedule(int base) : base_(base) {
  if (base < 2)
    throw Error("hierarchical: base " + std::to_string(base) + " must be at least 2");
}

std::string HierarchicalSchedule::name() const {
  return base_ == 2 ? "hierarchical" : "hierarchical:" + std::to_string(base_);
}

void HierarchicalSchedule::check_budget(int budget) const {
  Schedule::check_budget(budget);
  require_power(budget, base_, name());  // base_ >= 2 is the constructor's guarantee
}

int HierarchicalSchedule::iterations(int budget) const {
  check_budget(budget);
  return exact_log(budget, base_) + 1;
}

std::vector<std::vector<int>> HierarchicalSchedule::offsets(int budget) const {
  check_budget(budget);
  std::vector<std::vector<int>> windows;
  for (int64_t n = 1; n <= budget; n *= base_) windows.push_back(most_recent(int(n)));
  return windows;
}

std::vector<int> HierarchicalSchedule::budget_choices(int64_t history, int context) const {
  return powers_accepted(*this, base_, history, context);
}

int HierarchicalSchedule::level_of_offset(int64_t d, int budget) const {
  if (d < 1 || d > budget) return -1;
  return level_reaching(d, base_);
}

std::vector<Schedule::RankPoint> HierarchicalSchedule::rank_points(int budget, bool with_empty) const {
  return level_rank_points(base_, budget, with_empty);
}

// --- Dilated ---------------------------------------------------------------------------

void DilatedSchedule::check_budget(int budget) const {
  Schedule::check_budget(budget);
  require_power(budget, 2, name());
}

int DilatedSchedule::iterations(int budget) const {
  check_budget(budget);
  return exact_log(budget, 2) + 1;
}

std::vector<std::vector<int>> DilatedSchedule::offsets(int budget) const {
  check_budget(budget);
  std::vector<std::vector<int>> windows;
  std::vector<int> w;  // kept descending: each level adds an older token in front
  for (int64_t d = 1; d <= budget; d *= 2) {
    w.insert(w.begin(), int(d));
    windows.push_back(w);
  }
  return windows;
}

std::vector<int> DilatedSchedule::budget_choices(int64_t history, int context) const {
  return powers_accepted(*this, 2, history, context);
}

std::vector<Schedule::RankPoint> DilatedSchedule::rank_points(int budget, bool with_empty) const {
  return level_rank_points(2, budget, with_empty);
}

// --- Custom ----------------------------------------------------------------------------

CustomSchedule::CustomSchedule(std::vector<std::vector<int>> windows) : windows_(std::move(windows)) {
  if (windows_.empty()) throw Error("custom schedule: the list of windows is empty");
  int64_t total = 0;
  for (const std::vector<int>& w : windows_) total += int64_t(w.size());
  if (total > kMaxCustomTotalOffsets)
    throw Error("custom schedule: its windows hold " + std::to_string(total) + " offsets in all, more than " +
                std::to_string(kMaxCustomTotalOffsets));
  for (size_t i = 0; i < windows_.size(); ++i) {
    std::vector<int>& w = windows_[i];
    const std::string where = "custom schedule: window " + std::to_string(i + 1) + ": ";
    if (w.empty())
      throw Error(where + "has no offsets (for the empty context use the with-empty option)");
    if (!std::is_sorted(w.begin(), w.end(), std::greater<int>())) std::sort(w.begin(), w.end(), std::greater<int>());
    for (size_t j = 0; j < w.size(); ++j) {
      if (w[j] < 1) throw Error(where + "offset " + std::to_string(w[j]) + " must be at least 1");
      if (w[j] > kMaxCustomOffset)
        throw Error(where + "offset " + std::to_string(w[j]) + " is larger than " + std::to_string(kMaxCustomOffset));
      if (j > 0 && w[j] == w[j - 1]) throw Error(where + "offset " + std::to_string(w[j]) + " repeated");
    }
  }
}

CustomSchedule CustomSchedule::from_json(std::string_view json_text, std::string_view origin) {
  const std::string who = origin.empty() ? "custom schedule" : "custom schedule (" + std::string(origin) + ")";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {  // syntax errors, and numbers beyond double (1e400)
    throw Error(who + ": malformed JSON: " + e.what());
  }
  if (!j.is_array())
    throw Error(who + ": expected a JSON list of windows, e.g. [1, 2, {\"offsets\": [1, 2, 4]}], got " +
                std::string(j.type_name()));
  if (j.empty()) throw Error(who + ": the list of windows is empty");

  // Accepts any JSON integer, refusing the ones that cannot be an offset or a window size.
  auto positive_int = [&](const nlohmann::json& v, const std::string& where) -> int {
    // nlohmann stores non-negative integers as unsigned, negative ones as signed.
    const bool positive = v.is_number_unsigned() ? v.get<uint64_t>() > 0
                          : v.is_number_integer() && v.get<int64_t>() > 0;
    if (!positive) throw Error(who + ": " + where + " must be a positive integer, got " + v.dump());
    if (v.get<uint64_t>() > uint64_t(kMaxCustomOffset))
      throw Error(who + ": " + where + " " + v.dump() + " is larger than " + std::to_string(kMaxCustomOffset));
    return int(v.get<uint64_t>());
  };

  // The size of every window before any is expanded (an integer n stands for n offsets).
  int64_t total = 0;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& item = j[i];
    if (item.is_object()) total += item.contains("offsets") && item["offsets"].is_array() ? int64_t(item["offsets"].size()) : 0;
    else if (item.is_number_unsigned() && item.get<uint64_t>() <= uint64_t(kMaxCustomOffset))  // larger: refused below
      total += int64_t(item.get<uint64_t>());
  }
  if (total > kMaxCustomTotalOffsets)
    throw Error(who + ": its windows hold " + std::to_string(total) + " offsets in all, more than " +
                std::to_string(kMaxCustomTotalOffsets));

  std::vector<std::vector<int>> windows;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& item = j[i];
    const std::string where = "window " + std::to_string(i + 1);
    if (item.is_object()) {
      for (const auto& [key, value] : item.items())
        if (key != "offsets") throw Error(who + ": " + where + ": unknown key \"" + key + "\" (only \"offsets\")");
      if (!item.contains("offsets") || !item["offsets"].is_array())
        throw Error(who + ": " + where + ": expected {\"offsets\": [d1, d2, ...]}");
      const nlohmann::json& list = item["offsets"];
      if (list.empty())
        throw Error(who + ": " + where + ": empty offsets (for the empty context use the with-empty option)");
      std::vector<int> w;
      w.reserve(list.size());
      for (const nlohmann::json& d : list) w.push_back(positive_int(d, where + " offset"));
      std::sort(w.begin(), w.end(), std::greater<int>());
      const auto repeat = std::adjacent_find(w.begin(), w.end());
      if (repeat != w.end()) throw Error(who + ": " + where + ": offset " + std::to_string(*repeat) + " repeated");
      windows.push_back(std::move(w));
    } else {
      windows.push_back(most_recent(positive_int(item, where + " size")));
    }
  }
  return CustomSchedule(std::move(windows));  // everything it checks was checked above
}

std::string CustomSchedule::spec() const {
  nlohmann::json list = nlohmann::json::array();
  for (const std::vector<int>& w : windows_) {
    const bool contiguous = int(w.size()) == w.front() && w.back() == 1;  // distinct, so n…1
    if (contiguous) list.push_back(w.size());
    else list.push_back({{"offsets", std::vector<int>(w.rbegin(), w.rend())}});
  }
  return "custom:" + list.dump();
}

void CustomSchedule::check_budget(int budget) const {
  Schedule::check_budget(budget);
  for (size_t i = 0; i < windows_.size(); ++i)
    if (windows_[i].front() > budget)
      throw Error("custom schedule: window " + std::to_string(i + 1) + " reaches back " +
                  std::to_string(windows_[i].front()) + " tokens, more than the budget L=" +
                  std::to_string(budget));
}

int CustomSchedule::iterations(int budget) const {
  check_budget(budget);
  return int(windows_.size());
}

std::vector<std::vector<int>> CustomSchedule::offsets(int budget) const {
  check_budget(budget);
  return windows_;
}

int CustomSchedule::reach() const {
  int r = 0;
  for (const std::vector<int>& w : windows_) r = std::max(r, w.front());  // each sorted descending
  return r;
}

std::vector<int> CustomSchedule::budget_choices(int64_t history, int context) const {
  if (reach() <= std::min<int64_t>(history, context)) return {reach()};
  return {};
}

// --- Factory and validation ------------------------------------------------------------

std::unique_ptr<Schedule> make_schedule(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view kind = spec.substr(0, colon);
  const bool has_arg = colon != std::string_view::npos;
  const std::string_view arg = has_arg ? spec.substr(colon + 1) : std::string_view();

  if (kind == "sequential" && !has_arg) return std::make_unique<SequentialSchedule>();
  if (kind == "dilated" && !has_arg) return std::make_unique<DilatedSchedule>();
  if (kind == "hierarchical") {
    if (!has_arg) return std::make_unique<HierarchicalSchedule>(2);
    int base = 0;
    const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), base);
    if (ec != std::errc() || end != arg.data() + arg.size())
      throw Error("schedule \"" + std::string(spec) + "\": the base must be an integer, as in hierarchical:3");
    return std::make_unique<HierarchicalSchedule>(base);
  }
  if (kind == "custom" && has_arg) {
    if (!arg.empty() && arg.front() == '@') {
      const std::string path(arg.substr(1));
      return std::make_unique<CustomSchedule>(CustomSchedule::from_json(read_file(path), path));
    }
    return std::make_unique<CustomSchedule>(CustomSchedule::from_json(arg));
  }
  throw Error("unknown schedule \"" + std::string(spec) + "\"; valid: " + kValidSpecs);
}

void validate_budget(const Schedule& schedule, int budget, int max_context, int64_t t, bool relative_positions,
                     bool bos) {
  if (budget < 1)
    throw Error(schedule.name() + ": budget L=" + std::to_string(budget) + " must be at least 1");
  if (budget > max_context)
    throw Error(schedule.name() + ": budget L=" + std::to_string(budget) +
                " exceeds the model's context of " + std::to_string(max_context) + " tokens");
  if (bos && budget + 1 > max_context)
    throw Error(schedule.name() + ": with BOS at position 0, budget L=" + std::to_string(budget) + " needs " +
                std::to_string(budget + 1) + " positions, more than the model's context of " +
                std::to_string(max_context) + "; use L <= " + std::to_string(max_context - 1));
  if (t < budget)
    throw Error(schedule.name() + ": target t=" + std::to_string(t) + " has only " +
                std::to_string(std::max<int64_t>(t, 0)) + " tokens before it, fewer than the budget L=" +
                std::to_string(budget));
  schedule.check_budget(budget);
  if (!relative_positions)
    for (const auto& window : schedule.offsets(budget))  // descending offsets: contiguous = n, n-1, ..., 1
      for (size_t i = 0; i < window.size(); ++i)
        if (window[i] != int(window.size() - i))
          throw Error(schedule.name() + ": its windows have gaps, which need relative positions (RoPE), but this "
                      "model has learned absolute position embeddings; use contiguous windows (sequential, hierarchical)");
}

}  // namespace strata
