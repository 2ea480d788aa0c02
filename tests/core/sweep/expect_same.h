// Two sweeps of the same targets give the same statistics, schedule by schedule: shapes
// and own costs exactly, final and per-iteration mean surprisal to `bits` (the issue's
// 1e-4 between paths), the Gram matrix to 1e-6 of its largest entry. Shared by the tests
// that compare the shared path with the per-target path and merged shards with the whole.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "strata/sweep.h"

namespace strata::sweep_test {

inline double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

inline void expect_same_schedules(const SweepResult& a, const SweepResult& b, double bits) {
  ASSERT_EQ(a.schedules.size(), b.schedules.size());
  for (size_t si = 0; si < a.schedules.size(); ++si) {
    const ScheduleSweep &x = a.schedules[si], &y = b.schedules[si];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.context_len, y.context_len);
    EXPECT_EQ(x.token_forwards, y.token_forwards);
    ASSERT_EQ(x.final_surprisal.size(), y.final_surprisal.size());
    for (size_t i = 0; i < x.final_surprisal.size(); ++i) EXPECT_NEAR(x.final_surprisal[i], y.final_surprisal[i], 1e-4);
    ASSERT_EQ(x.surprisal.size(), y.surprisal.size());
    for (int k = 0; k < x.surprisal.size(); ++k) {
      EXPECT_EQ(x.surprisal.count(k), y.surprisal.count(k));
      EXPECT_NEAR(x.surprisal.mean(k), y.surprisal.mean(k), bits);
      EXPECT_NEAR(x.surprisal.std_error(k), y.surprisal.std_error(k), bits);
    }
    ASSERT_EQ(x.gram.columns(), y.gram.columns());
    EXPECT_EQ(x.gram.targets(), y.gram.targets());
    const double scale = max_abs(x.gram.gram());
    if (x.gram.columns() > 0) {
      ASSERT_GT(scale, 0);
    }
    for (size_t i = 0; i < x.gram.gram().size(); ++i)
      EXPECT_NEAR(x.gram.gram()[i], y.gram.gram()[i], 1e-6 * scale) << "Gram entry " << i;
  }
}

}  // namespace strata::sweep_test
