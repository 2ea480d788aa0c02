// Analysis: power-law recovery on synthetic curves and the kinds of fit (flat, too few
// points), the streamed Gram matrix against an explicit SVD of the stacked G, streamed
// means (merge, determinism, stability), the staircase and ΔS.
#include "strata/analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "strata/error.h"

// The library keeps Eigen private, so the reference SVD reaches it by its system path.
#if __has_include(<Eigen/Dense>)
#include <Eigen/Dense>
#else
#include <Eigen/Dense>
#endif

namespace strata {
namespace {

const double kNaN = std::nan("");

// --- Power law -------------------------------------------------------------------------

std::vector<double> power_curve(const std::vector<double>& xs, double a, double beta, double c) {
  std::vector<double> ys;
  for (double x : xs) ys.push_back(a * std::pow(x, -beta) + c);
  return ys;
}

TEST(AnalysisTest, PowerLawRecoversExactParameters) {
  std::vector<double> all, log_spaced;
  for (int n = 1; n <= 256; ++n) all.push_back(n);
  for (int n = 1; n <= 256; n *= 2) log_spaced.push_back(n);
  struct Case { double a, beta, c; };
  for (Case p : {Case{3.0, 0.7, 1.3}, Case{5.5, 1.9, 1.4}, Case{1.0, 0.15, 0.0}, Case{-2.0, 0.5, 4.0},
                 Case{2.0, 4.2, 1.0}}) {
    for (const auto* xs : {&all, &log_spaced}) {
      const PowerLawFit f = fit_power_law(*xs, power_curve(*xs, p.a, p.beta, p.c));
      SCOPED_TRACE(testing::Message() << "a=" << p.a << " beta=" << p.beta << " points=" << xs->size());
      EXPECT_NEAR(f.a, p.a, 1e-3);
      EXPECT_NEAR(f.beta, p.beta, 1e-3);
      EXPECT_NEAR(f.c, p.c, 1e-3);
      EXPECT_NEAR(f.r2, 1.0, 1e-9);
      EXPECT_EQ(f.points, int(xs->size()));
      EXPECT_NEAR(f(10.0), p.a * std::pow(10.0, -p.beta) + p.c, 1e-6);
    }
  }
}

TEST(AnalysisTest, PowerLawWithNoise) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<double> xs, ys;
  for (int n = 1; n <= 256; ++n) {
    xs.push_back(n);
    ys.push_back(4.0 * std::pow(n, -0.8) + 1.35 + noise(rng));
  }
  const PowerLawFit f = fit_power_law(xs, ys);
  EXPECT_NEAR(f.beta, 0.8, 0.05);
  EXPECT_NEAR(f.a, 4.0, 0.1);
  EXPECT_NEAR(f.c, 1.35, 0.02);
  EXPECT_GT(f.r2, 0.9);
  EXPECT_LT(f.r2, 1.0);
  // The fit is a least-squares optimum: nudging any parameter does not lower the error.
  auto sse = [&](double a, double beta, double c) {
    double s = 0;
    for (size_t i = 0; i < xs.size(); ++i) s += std::pow(ys[i] - (a * std::pow(xs[i], -beta) + c), 2);
    return s;
  };
  const double best = sse(f.a, f.beta, f.c);
  for (double d : {-1e-3, 1e-3}) {
    EXPECT_GE(sse(f.a + d, f.beta, f.c), best);
    EXPECT_GE(sse(f.a, f.beta + d, f.c), best);
    EXPECT_GE(sse(f.a, f.beta, f.c + d), best);
  }
}

TEST(AnalysisTest, PowerLawFlagsTheLogarithmicLimit) {
  // A curve that falls like −ln n is the β → 0 limit of a·n^(−β) + c: the fit traces it
  // (R² near 1) with huge, opposite a and c, and must say so rather than report them.
  std::vector<double> xs, ys;
  for (int n = 1; n <= 256; n *= 2) xs.push_back(n), ys.push_back(6.0 - 0.4 * std::log(double(n)));
  const PowerLawFit log_curve = fit_power_law(xs, ys);
  EXPECT_TRUE(log_curve.beta_at_bound);
  EXPECT_LT(log_curve.beta, kPowerLawBoundTolerance);
  EXPECT_GT(log_curve.r2, 0.999);
  EXPECT_GT(std::abs(log_curve.a), 100.0);
  // Genuine power laws, slow or fast, are not flagged.
  EXPECT_FALSE(fit_power_law(xs, power_curve(xs, 3.0, 0.7, 1.3)).beta_at_bound);
  EXPECT_FALSE(fit_power_law(xs, power_curve(xs, 1.0, 0.15, 0.0)).beta_at_bound);
  EXPECT_FALSE(fit_power_law(xs, power_curve(xs, 2.0, 4.2, 1.0)).beta_at_bound);
}

TEST(AnalysisTest, PowerLawConstantAndErrors) {
  const PowerLawFit flat = fit_power_law(std::vector<double>{1, 2, 4, 8}, std::vector<double>{2, 2, 2, 2});
  EXPECT_EQ(flat.kind, PowerLawFit::Kind::kFlat);
  EXPECT_TRUE(flat.fitted());
  EXPECT_EQ(flat.a, 0.0);
  EXPECT_EQ(flat.beta, 0.0);
  EXPECT_EQ(flat.c, 2.0);
  EXPECT_FALSE(flat.beta_at_bound);  // flat is not a power law at its bound
  EXPECT_EQ(flat.points, 4);
  EXPECT_NEAR(flat(1), 2.0, 1e-12);
  EXPECT_NEAR(flat(100), 2.0, 1e-12);
  EXPECT_EQ(flat.r2, 1.0);
  // Within 1e-12 of each other (relative) is flat; just beyond is a fit.
  EXPECT_EQ(fit_power_law(std::vector<double>{1, 2, 4}, std::vector<double>{3, 3 + 1e-12, 3}).kind, PowerLawFit::Kind::kFlat);
  EXPECT_EQ(fit_power_law(std::vector<double>{1, 2, 4}, std::vector<double>{3, 2.9, 2.85}).kind, PowerLawFit::Kind::kPowerLaw);
  const std::vector<double> three = {1, 2, 3};
  EXPECT_THROW(fit_power_law(std::vector<double>{1, 2}, std::vector<double>{1, 2}), Error);
  EXPECT_THROW(fit_power_law(three, std::vector<double>{1, 2}), Error);
  EXPECT_THROW(fit_power_law(std::vector<double>{0, 1, 2}, three), Error);
  EXPECT_THROW(fit_power_law(std::vector<double>{-1, 1, 2}, three), Error);
  EXPECT_THROW(fit_power_law(std::vector<double>{2, 2, 2}, three), Error);
  EXPECT_THROW(fit_power_law(three, std::vector<double>{1, kNaN, 2}), Error);
}

TEST(AnalysisTest, PowerLawOnCurveSkipsMissingLengths) {
  std::vector<double> curve(33, kNaN);  // n = 0 … 32
  for (int n = 1; n <= 32; ++n) curve[n] = 2.0 * std::pow(n, -0.6) + 1.4;
  curve[0] = 9.0;   // the empty context is never part of the fit
  curve[5] = kNaN;  // a length without data
  const PowerLawFit all = fit_power_law_curve(curve);
  EXPECT_EQ(all.points, 31);
  EXPECT_NEAR(all.beta, 0.6, 1e-3);
  const std::vector<int> log_spaced = {1, 2, 4, 8, 16, 32, 64};  // 64 lies beyond the curve
  const PowerLawFit some = fit_power_law_curve(curve, log_spaced);
  EXPECT_EQ(some.points, 6);
  EXPECT_EQ(some.ns, (std::vector<int>{1, 2, 4, 8, 16, 32}));
  EXPECT_EQ(some.kind, PowerLawFit::Kind::kPowerLaw);
  EXPECT_NEAR(some.c, 1.4, 1e-3);
  EXPECT_EQ(all.ns.size(), 31u);
  EXPECT_EQ(all.ns.front(), 1);
}

TEST(AnalysisTest, PowerLawOnCurveStatesWhatItCouldFit) {
  // Fewer than 3 usable lengths: no fit, said so, not an error.
  std::vector<double> short_curve = {9.0, 5.0, 4.0, kNaN};
  const PowerLawFit none = fit_power_law_curve(short_curve);
  EXPECT_EQ(none.kind, PowerLawFit::Kind::kTooFewPoints);
  EXPECT_FALSE(none.fitted());
  EXPECT_EQ(none.points, 2);
  EXPECT_EQ(none.ns, (std::vector<int>{1, 2}));
  EXPECT_TRUE(std::isnan(none.a) && std::isnan(none.beta) && std::isnan(none.c) && std::isnan(none.r2));
  EXPECT_TRUE(std::isnan(none(3.0)));
  EXPECT_EQ(fit_power_law_curve({}).kind, PowerLawFit::Kind::kTooFewPoints);
  // A flat curve (a model that ignores its context): exact, flagged flat, not at a bound.
  const std::vector<double> flat(9, 5.25);
  const std::vector<int> log_spaced = {1, 2, 4, 8};
  const PowerLawFit f = fit_power_law_curve(flat, log_spaced);
  EXPECT_EQ(f.kind, PowerLawFit::Kind::kFlat);
  EXPECT_EQ(f.c, 5.25);
  EXPECT_EQ(f.r2, 1.0);
  EXPECT_EQ(f.ns, log_spaced);
  EXPECT_FALSE(f.beta_at_bound);
}

// --- Curves ----------------------------------------------------------------------------

TEST(AnalysisTest, SeriesAccumulatorMeansCountsAndMerge) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 10.0);
  SeriesAccumulator whole, part_a, part_b;
  std::vector<std::vector<double>> samples(6);
  for (int i = 0; i < 300; ++i) {
    const int n = 1 + i % 5;  // indices 1…5; 0 gets nothing
    const double s = u(rng) + n;
    samples[n].push_back(s);
    whole.add(n, s);
    (i % 3 == 0 ? part_a : part_b).add(n, s);
  }
  part_a.merge(part_b);
  EXPECT_EQ(whole.size(), 6);
  EXPECT_EQ(whole.count(0), 0);
  EXPECT_TRUE(std::isnan(whole.mean(0)));
  EXPECT_TRUE(std::isnan(whole.mean(99)));
  EXPECT_TRUE(std::isnan(whole.std_error(99)));
  EXPECT_EQ(whole.count(-1), 0);
  for (int n = 1; n <= 5; ++n) {
    double sum = 0, sq = 0;
    for (double s : samples[n]) sum += s;
    const double mean = sum / samples[n].size();
    for (double s : samples[n]) sq += (s - mean) * (s - mean);
    const double se = std::sqrt(sq / (samples[n].size() - 1) / samples[n].size());
    EXPECT_EQ(whole.count(n), int64_t(samples[n].size()));
    EXPECT_NEAR(whole.mean(n), mean, 1e-12);
    EXPECT_NEAR(whole.std_error(n), se, 1e-12);
    EXPECT_EQ(part_a.count(n), whole.count(n));
    EXPECT_NEAR(part_a.mean(n), mean, 1e-12);
    EXPECT_NEAR(part_a.std_error(n), se, 1e-12);
  }
  const std::vector<double> c = whole.means(), e = whole.std_errors();
  ASSERT_EQ(c.size(), 6u);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_TRUE(std::isnan(c[0]));
  EXPECT_TRUE(std::isnan(e[0]));
  EXPECT_DOUBLE_EQ(c[3], whole.mean(3));
  EXPECT_DOUBLE_EQ(e[3], whole.std_error(3));

  SeriesAccumulator empty;
  EXPECT_EQ(empty.size(), 0);
  EXPECT_TRUE(empty.means().empty());
  empty.merge(whole);
  EXPECT_NEAR(empty.mean(2), whole.mean(2), 1e-12);
  EXPECT_THROW(whole.add(-1, 1.0), Error);
  EXPECT_THROW(whole.add(1, kNaN), Error);
  EXPECT_THROW(whole.add(1, INFINITY), Error);
  EXPECT_THROW(SeriesAccumulator(-1), Error);

  // Sized up front: every index exists, without samples; one sample has no spread.
  SeriesAccumulator sized(3);
  EXPECT_EQ(sized.size(), 3);
  sized.add(1, 2.5);
  EXPECT_EQ(sized.count(1), 1);
  EXPECT_EQ(sized.mean(1), 2.5);
  EXPECT_TRUE(std::isnan(sized.std_error(1)));
  EXPECT_TRUE(std::isnan(sized.mean(2)));
}

TEST(AnalysisTest, SeriesAccumulatorMergeIsDeterministic) {
  // The same parts merged in the same order give the same bits, whatever was merged into
  // what before; and a merge of parts equals one stream up to rounding.
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(4.0, 1.5);
  std::vector<SeriesAccumulator> parts(4);
  SeriesAccumulator stream;
  for (int i = 0; i < 4000; ++i) {
    const double s = noise(rng);
    parts[size_t(i % 4)].add(i % 3, s);
    stream.add(i % 3, s);
  }
  auto merged = [&] {
    SeriesAccumulator m;
    for (const SeriesAccumulator& p : parts) m.merge(p);
    return m;
  };
  const SeriesAccumulator a = merged(), b = merged();
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(a.moments()[size_t(k)].mean, b.moments()[size_t(k)].mean);
    EXPECT_EQ(a.moments()[size_t(k)].m2, b.moments()[size_t(k)].m2);
    EXPECT_EQ(a.count(k), stream.count(k));
    EXPECT_NEAR(a.mean(k), stream.mean(k), 1e-13 * std::fabs(stream.mean(k)));
    EXPECT_NEAR(a.std_error(k), stream.std_error(k), 1e-12 * stream.std_error(k));
  }
  // Merging nothing, or into nothing, changes nothing.
  SeriesAccumulator c = a;
  c.merge(SeriesAccumulator(7));
  EXPECT_EQ(c.size(), 7);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(c.moments()[size_t(k)].mean, a.moments()[size_t(k)].mean);
  EXPECT_EQ(c.count(5), 0);
}

TEST(AnalysisTest, SeriesAccumulatorStableForLargeOffsets) {
  SeriesAccumulator acc;  // values with a large common offset: naive Σx² would cancel
  for (int i = 0; i < 100000; ++i) acc.add(1, 1e8 + (i % 2 ? 1.0 : -1.0));
  EXPECT_NEAR(acc.mean(1), 1e8, 1e-6);
  EXPECT_NEAR(acc.std_error(1), 1.0 / std::sqrt(100000.0), 1e-6);
  // What the sweep's statistics did before: (Σx² − (Σx)²/n)/(n−1) loses every digit here.
  double sum = 0, sq = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x = 1e8 + (i % 2 ? 1.0 : -1.0);
    sum += x, sq += x * x;
  }
  const double naive_se = std::sqrt(std::max(0.0, (sq - sum * sum / 1e5) / (1e5 - 1)) / 1e5);
  EXPECT_GT(std::fabs(naive_se - 1.0 / std::sqrt(100000.0)), 1e-3);
}

TEST(AnalysisTest, PerTokenContribution) {
  const std::vector<double> curve = {kNaN, 5.0, 4.0, 3.5, kNaN, 3.0};
  const std::vector<double> d = per_token_contribution(curve);
  ASSERT_EQ(d.size(), curve.size());
  EXPECT_TRUE(std::isnan(d[0]));
  EXPECT_TRUE(std::isnan(d[1]));  // S(0) unknown
  EXPECT_DOUBLE_EQ(d[2], 1.0);
  EXPECT_DOUBLE_EQ(d[3], 0.5);
  EXPECT_TRUE(std::isnan(d[4]));
  EXPECT_TRUE(std::isnan(d[5]));
  EXPECT_TRUE(per_token_contribution({}).empty());
}

TEST(AnalysisTest, StaircaseHoldsLargestFittingLevel) {
  const std::vector<int> lengths = {8, 1, 4, 2};  // any order
  const std::vector<double> values = {2.0, 5.0, 3.0, 4.0};
  const std::vector<double> s = staircase(lengths, values, 8);
  ASSERT_EQ(s.size(), 9u);
  EXPECT_TRUE(std::isnan(s[0]));
  const double expected[] = {5, 4, 4, 3, 3, 3, 3, 2};
  for (int n = 1; n <= 8; ++n) EXPECT_DOUBLE_EQ(s[n], expected[n - 1]) << n;

  // An empty-context level covers n = 0; a budget past the last level holds it.
  const std::vector<double> with_empty = staircase(std::vector<int>{0, 3}, std::vector<double>{7, 6}, 5);
  EXPECT_EQ(with_empty, (std::vector<double>{7, 7, 7, 6, 6, 6}));
  EXPECT_THROW(staircase(std::vector<int>{1, 1}, std::vector<double>{1, 2}, 4), Error);
  EXPECT_THROW(staircase(std::vector<int>{-1}, std::vector<double>{1}, 4), Error);
  EXPECT_THROW(staircase(std::vector<int>{1, 2}, std::vector<double>{1}, 4), Error);
}

// --- Rank of G -------------------------------------------------------------------------

// G stacked explicitly: rows = targets × vocab, one column per iteration.
Eigen::VectorXd reference_singular_values(const std::vector<std::vector<std::vector<float>>>& targets) {
  const int k = int(targets[0].size()), v = int(targets[0][0].size());
  Eigen::MatrixXd g(targets.size() * v, k);
  for (size_t t = 0; t < targets.size(); ++t)
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < v; ++i) g(t * v + i, j) = targets[t][j][i];
  return Eigen::JacobiSVD<Eigen::MatrixXd>(g).singularValues();
}

TEST(AnalysisTest, GramMatchesExplicitSvd) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int k = 7, v = 40, n_targets = 9;
  std::vector<std::vector<std::vector<float>>> targets(n_targets, std::vector<std::vector<float>>(k, std::vector<float>(v)));
  for (auto& t : targets)
    for (int j = 0; j < k; ++j)
      for (float& x : t[j]) x = normal(rng) * float(j + 1);  // distinct column scales

  StreamingGram whole(k), first, second;
  for (int t = 0; t < n_targets; ++t) {
    whole.add_target(targets[t]);
    std::vector<float> flat;  // the row-major overload on half the targets
    for (const auto& u : targets[t]) flat.insert(flat.end(), u.begin(), u.end());
    if (t < 4) first.add_target(targets[t]);
    else second.add_target(flat, v);
  }
  first.merge(second);
  EXPECT_EQ(whole.targets(), n_targets);
  EXPECT_EQ(first.targets(), n_targets);
  EXPECT_EQ(first.columns(), k);
  for (size_t i = 0; i < whole.gram().size(); ++i) EXPECT_NEAR(first.gram()[i], whole.gram()[i], 1e-9);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) EXPECT_EQ(whole.gram()[i * k + j], whole.gram()[j * k + i]);

  const Eigen::VectorXd expected = reference_singular_values(targets);
  const RankReport r = whole.rank();
  ASSERT_EQ(r.singular_values.size(), size_t(k));
  for (int i = 0; i < k; ++i) EXPECT_NEAR(r.singular_values[i], expected[i], 1e-9 * expected[0]) << i;
  for (int i = 1; i < k; ++i) EXPECT_GE(r.singular_values[i - 1], r.singular_values[i]);
  EXPECT_EQ(r.numerical_rank, k);
  EXPECT_EQ(r.columns, k);
  EXPECT_EQ(r.targets, n_targets);
  EXPECT_DOUBLE_EQ(r.rel_tol, 1e-2);
  EXPECT_GT(r.effective_rank, 1.0);
  EXPECT_LT(r.effective_rank, double(k));
  // The tolerance decides: between σ_min/σ_max and 1, columns drop out.
  const double ratio = expected[k - 1] / expected[0];
  EXPECT_LT(whole.rank(ratio * 1.01).numerical_rank, k);
}

TEST(AnalysisTest, GramRankDeficient) {
  // Every target's K updates are the same r combinations of r target-specific vectors,
  // so G = B·Cᵀ has rank exactly r.
  std::mt19937 rng(5);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int k = 10, r = 3, v = 32, n_targets = 6;
  std::vector<std::vector<double>> mix(k, std::vector<double>(r));
  for (auto& row : mix)
    for (double& c : row) c = normal(rng);
  StreamingGram gram;
  std::vector<std::vector<std::vector<float>>> targets;
  for (int t = 0; t < n_targets; ++t) {
    std::vector<std::vector<double>> basis(r, std::vector<double>(v));
    for (auto& b : basis)
      for (double& x : b) x = normal(rng);
    std::vector<std::vector<float>> updates(k, std::vector<float>(v, 0.0f));
    for (int j = 0; j < k; ++j)
      for (int i = 0; i < v; ++i) {
        double x = 0;
        for (int q = 0; q < r; ++q) x += mix[j][q] * basis[q][i];
        updates[j][i] = float(x);
      }
    gram.add_target(updates);
    targets.push_back(updates);
  }
  const RankReport rep = gram.rank();
  EXPECT_EQ(rep.numerical_rank, r);
  EXPECT_EQ(rep.columns, k);
  EXPECT_GT(rep.effective_rank, 1.0);
  EXPECT_LE(rep.effective_rank, r + 0.01);
  const Eigen::VectorXd expected = reference_singular_values(targets);
  for (int i = 0; i < r; ++i) EXPECT_NEAR(rep.singular_values[i], expected[i], 1e-9 * expected[0]);
  for (int i = r; i < k; ++i) EXPECT_LT(rep.singular_values[i], 1e-5 * expected[0]);
}

TEST(AnalysisTest, GramEqualSingularValuesGiveFullEffectiveRank) {
  const int k = 4;
  std::vector<std::vector<float>> updates(k, std::vector<float>(k, 0.0f));
  for (int j = 0; j < k; ++j) updates[j][j] = 2.0f;  // G = 2·I
  StreamingGram gram;
  gram.add_target(updates);
  const RankReport r = gram.rank();
  for (double s : r.singular_values) EXPECT_NEAR(s, 2.0, 1e-12);
  EXPECT_EQ(r.numerical_rank, k);
  EXPECT_NEAR(r.effective_rank, double(k), 1e-9);
}

TEST(AnalysisTest, GramAllZeroHasRankZero) {
  StreamingGram gram(5);
  for (int t = 0; t < 3; ++t) gram.add_target(std::vector<std::vector<float>>(5, std::vector<float>(16, 0.0f)));
  const RankReport r = gram.rank();
  EXPECT_EQ(r.numerical_rank, 0);
  EXPECT_EQ(r.effective_rank, 0.0);
  ASSERT_EQ(r.singular_values.size(), 5u);
  for (double s : r.singular_values) EXPECT_EQ(s, 0.0);

  const RankReport none = StreamingGram().rank();  // nothing added at all
  EXPECT_EQ(none.numerical_rank, 0);
  EXPECT_TRUE(none.singular_values.empty());
}

TEST(AnalysisTest, GramErrors) {
  StreamingGram gram(3);
  EXPECT_THROW(gram.add_target(std::vector<std::vector<float>>(2, std::vector<float>(4))), Error);  // K
  EXPECT_THROW(gram.add_target({{1, 2}, {1, 2}, {1}}), Error);  // ragged
  EXPECT_THROW(gram.add_target(std::vector<std::vector<float>>{}), Error);
  EXPECT_THROW(gram.add_target(std::vector<float>(7), 2), Error);  // not whole vectors
  StreamingGram other(4);
  EXPECT_THROW(gram.merge(other), Error);
  EXPECT_NO_THROW(gram.merge(StreamingGram()));
  EXPECT_THROW(gram.rank(0.0), Error);
  EXPECT_THROW(gram.rank(1.0), Error);
  EXPECT_THROW(gram.rank(kNaN), Error);
  EXPECT_THROW(StreamingGram(-1), Error);
}

}  // namespace
}  // namespace strata
