// Fuzz target: schedule specs (make_schedule) and the contexts they place at a target.
// Invariants: a refusal is a strata::Error; an accepted spec re-parses from spec() to the
// same windows; its contexts are ascending positions before the target, with position ids
// that keep the gaps; its budget rules agree with each other.
#include <algorithm>
#include <cstdio>
#include <string>

#include "fuzz_util.h"
#include "strata/schedule.h"

namespace {

// Small enough that a sequential schedule's L²/2 offsets stay cheap per input.
constexpr int kHistory = 48, kContext = 48;

void check(const strata::Schedule& s) {
  const std::vector<int> choices = s.budget_choices(kHistory, kContext);
  for (int L : choices) STRATA_FUZZ_CHECK(s.accepts_budget(L) && L <= kContext);
  if (choices.empty()) return;
  const int L = s.default_budget(kHistory, kContext);
  STRATA_FUZZ_CHECK(L == choices.back());
  const int64_t t = kHistory;
  const auto sets = s.contexts(t, L);
  STRATA_FUZZ_CHECK(int(sets.size()) == s.iterations(L));
  int64_t forwards = 0;
  for (const strata::ContextSet& c : sets) {
    STRATA_FUZZ_CHECK(!c.empty() && c.positions.size() == c.position_ids.size());
    for (size_t i = 0; i < c.positions.size(); ++i) {
      STRATA_FUZZ_CHECK(c.positions[i] >= t - L && c.positions[i] < t);
      if (i > 0) STRATA_FUZZ_CHECK(c.positions[i] > c.positions[i - 1]);
      // Ids keep the real gaps from the window's oldest token.
      STRATA_FUZZ_CHECK(c.position_ids[i] == c.positions[i] - c.positions[0]);
      STRATA_FUZZ_CHECK(s.level_of_offset(t - c.positions[i], L) >= 0);
    }
    forwards += c.size();
  }
  STRATA_FUZZ_CHECK(forwards == s.token_forwards(L));
  STRATA_FUZZ_CHECK(s.gram_columns(L) == s.iterations(L) - 1);
  const auto points = s.rank_points(L);
  for (const auto& p : points) STRATA_FUZZ_CHECK(p.budget <= L && p.columns >= 1 && p.columns <= s.gram_columns(L));
  if (!points.empty()) STRATA_FUZZ_CHECK(points.back().budget < L || points.back().columns == s.gram_columns(L));
  // The spec rebuilds the same schedule.
  const auto again = strata::make_schedule(s.spec());
  STRATA_FUZZ_CHECK(again->spec() == s.spec() && again->offsets(L) == s.offsets(L));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string spec(reinterpret_cast<const char*>(data), size);
  if (spec.rfind("custom:@", 0) == 0) return 0;  // names a file: not this target's business
  try {
    check(*strata::make_schedule(spec));
  } catch (const strata::Error&) {
  }
  return 0;
}
