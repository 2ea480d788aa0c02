// Streamed means, curves, staircase, power-law fit and the rank of the global transition matrix.
// See analysis.h; the definitions follow method.md.
#include "strata/analysis.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>

#include "strata/error.h"

namespace strata {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// --- Moments and SeriesAccumulator -----------------------------------------------------

void Moments::add(double x) {
  ++count;
  const double delta = x - mean;
  mean += delta / double(count);
  m2 += delta * (x - mean);  // both factors have the sign of delta: m2 never decreases
}

void Moments::merge(const Moments& other) {
  if (other.count == 0) return;
  if (count == 0) {
    *this = other;
    return;
  }
  // Chan et al.'s pairwise combination: exact for means and squared deviations.
  const int64_t n = count + other.count;
  const double delta = other.mean - mean;
  mean += delta * double(other.count) / double(n);
  m2 += other.m2 + delta * delta * double(count) * double(other.count) / double(n);
  count = n;
}

double Moments::mean_or_nan() const { return count > 0 ? mean : kNaN; }

double Moments::std_error() const {
  if (count < 2) return kNaN;
  return std::sqrt(m2 / double(count - 1) / double(count));
}

SeriesAccumulator::SeriesAccumulator(int size) {
  if (size < 0) throw Error("statistics: negative series size " + std::to_string(size));
  moments_.resize(size_t(size));
}

void SeriesAccumulator::add(int index, double value) {
  if (index < 0) throw Error("statistics: negative index " + std::to_string(index));
  if (!std::isfinite(value)) throw Error("statistics: non-finite value at index " + std::to_string(index));
  if (index >= size()) moments_.resize(size_t(index) + 1);
  moments_[size_t(index)].add(value);
}

void SeriesAccumulator::merge(const SeriesAccumulator& other) {
  if (other.size() > size()) moments_.resize(other.moments_.size());
  for (size_t i = 0; i < other.moments_.size(); ++i) moments_[i].merge(other.moments_[i]);
}

SeriesAccumulator SeriesAccumulator::from_moments(std::vector<Moments> moments) {
  for (const Moments& m : moments)
    if (m.count < 0 || !(m.m2 >= 0)) throw Error("streamed means: a raw state with a negative count or spread");
  SeriesAccumulator s;
  s.moments_ = std::move(moments);
  return s;
}

int64_t SeriesAccumulator::count(int index) const {
  return index >= 0 && index < size() ? moments_[size_t(index)].count : 0;
}

double SeriesAccumulator::mean(int index) const {
  return index >= 0 && index < size() ? moments_[size_t(index)].mean_or_nan() : kNaN;
}

double SeriesAccumulator::std_error(int index) const {
  return index >= 0 && index < size() ? moments_[size_t(index)].std_error() : kNaN;
}

std::vector<double> SeriesAccumulator::means() const {
  std::vector<double> m;
  for (const Moments& x : moments_) m.push_back(x.mean_or_nan());
  return m;
}

std::vector<double> SeriesAccumulator::std_errors() const {
  std::vector<double> e;
  for (const Moments& x : moments_) e.push_back(x.std_error());
  return e;
}

// --- Curve helpers ---------------------------------------------------------------------

std::vector<double> per_token_contribution(const std::vector<double>& curve) {
  std::vector<double> delta(curve.size(), kNaN);
  for (size_t n = 1; n < curve.size(); ++n) delta[n] = curve[n - 1] - curve[n];
  return delta;
}

std::vector<double> staircase(std::span<const int> level_lengths, std::span<const double> level_values,
                              int budget) {
  if (level_lengths.size() != level_values.size())
    throw Error("staircase: " + std::to_string(level_lengths.size()) + " level lengths but " +
                std::to_string(level_values.size()) + " values");
  if (budget < 0) throw Error("staircase: negative budget " + std::to_string(budget));
  std::vector<size_t> order(level_lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return level_lengths[i] < level_lengths[j]; });
  for (size_t k = 0; k < order.size(); ++k) {
    if (level_lengths[order[k]] < 0) throw Error("staircase: negative level length");
    if (k > 0 && level_lengths[order[k]] == level_lengths[order[k - 1]])
      throw Error("staircase: level length " + std::to_string(level_lengths[order[k]]) + " repeated");
  }
  std::vector<double> steps(size_t(budget) + 1, kNaN);
  size_t next = 0;  // first level not yet reached
  double held = kNaN;
  for (int n = 0; n <= budget; ++n) {
    while (next < order.size() && level_lengths[order[next]] <= n) held = level_values[order[next++]];
    steps[n] = held;
  }
  return steps;
}

// --- Power law -------------------------------------------------------------------------

double PowerLawFit::operator()(double n) const { return a * std::pow(n, -beta) + c; }

namespace {

struct LinearPart {
  double a, c, sse;
};

// For a fixed β, y = a·f + c with f = x^(−β) is ordinary linear regression.
LinearPart solve_linear(std::span<const double> xs, std::span<const double> ys, double beta) {
  const size_t n = xs.size();
  std::vector<double> f(n);
  double f_mean = 0, y_mean = 0;
  for (size_t i = 0; i < n; ++i) {
    f[i] = std::pow(xs[i], -beta);
    f_mean += f[i];
    y_mean += ys[i];
  }
  f_mean /= double(n);
  y_mean /= double(n);
  double sff = 0, sfy = 0, f_scale = 0;
  for (size_t i = 0; i < n; ++i) {
    sff += (f[i] - f_mean) * (f[i] - f_mean);
    sfy += (f[i] - f_mean) * (ys[i] - y_mean);
    f_scale += f[i] * f[i];
  }
  // At β = 0 (or near it) f is constant and a is not identifiable: the fit is y = c.
  const double a = sff > 1e-24 * f_scale ? sfy / sff : 0.0;
  const double c = y_mean - a * f_mean;
  double sse = 0;
  for (size_t i = 0; i < n; ++i) sse += (ys[i] - a * f[i] - c) * (ys[i] - a * f[i] - c);
  return {a, c, sse};
}

}  // namespace

PowerLawFit fit_power_law(std::span<const double> xs, std::span<const double> ys) {
  if (xs.size() != ys.size())
    throw Error("power-law fit: " + std::to_string(xs.size()) + " x values but " + std::to_string(ys.size()) + " y values");
  if (int(xs.size()) < kPowerLawMinPoints) throw Error("power-law fit: needs at least 3 points, got " + std::to_string(xs.size()));
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) throw Error("power-law fit: non-finite point");
    if (xs[i] <= 0) throw Error("power-law fit: x must be positive, got " + std::to_string(xs[i]));
  }
  if (std::all_of(xs.begin(), xs.end(), [&](double x) { return x == xs[0]; }))
    throw Error("power-law fit: all x are equal");

  PowerLawFit out;
  out.points = int(xs.size());
  double y_mean = 0;
  for (double y : ys) y_mean += y;
  y_mean /= double(ys.size());
  // A flat curve (e.g. a model that ignores its context) is fitted exactly by its value;
  // the search below would end at β = 0, a bound, and flag a power law that is not there.
  const auto [y_lo, y_hi] = std::minmax_element(ys.begin(), ys.end());
  if (*y_hi - *y_lo <= 1e-12 * std::max(1.0, std::fabs(y_mean))) {
    out.kind = PowerLawFit::Kind::kFlat;
    out.a = 0, out.beta = 0, out.c = y_mean, out.r2 = 1;
    return out;
  }

  // The error over β can have several local minima; a grid finds the right basin, golden
  // section then polishes inside it.
  constexpr int kGrid = 500;
  constexpr double kStep = kPowerLawBetaMax / kGrid;
  int best = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int g = 0; g <= kGrid; ++g) {
    const double sse = solve_linear(xs, ys, g * kStep).sse;
    if (sse < best_sse) best_sse = sse, best = g;
  }
  double lo = std::max(0.0, (best - 1) * kStep), hi = std::min(kPowerLawBetaMax, (best + 1) * kStep);
  const double inv_phi = (std::sqrt(5.0) - 1) / 2;
  double m1 = hi - inv_phi * (hi - lo), m2 = lo + inv_phi * (hi - lo);
  double e1 = solve_linear(xs, ys, m1).sse, e2 = solve_linear(xs, ys, m2).sse;
  for (int it = 0; it < 100 && hi - lo > 1e-12; ++it) {
    if (e1 < e2) {
      hi = m2, m2 = m1, e2 = e1;
      m1 = hi - inv_phi * (hi - lo), e1 = solve_linear(xs, ys, m1).sse;
    } else {
      lo = m1, m1 = m2, e1 = e2;
      m2 = lo + inv_phi * (hi - lo), e2 = solve_linear(xs, ys, m2).sse;
    }
  }
  double beta = (lo + hi) / 2;
  LinearPart fit = solve_linear(xs, ys, beta);
  if (best_sse < fit.sse) beta = best * kStep, fit = solve_linear(xs, ys, beta);  // grid point at an edge

  double ss_tot = 0;
  for (double y : ys) ss_tot += (y - y_mean) * (y - y_mean);

  out.a = fit.a;
  out.beta = beta;
  out.c = fit.c;
  out.r2 = ss_tot > 0 ? 1.0 - fit.sse / ss_tot : 1.0;
  out.beta_at_bound = beta < kPowerLawBoundTolerance || beta > kPowerLawBetaMax - kPowerLawBoundTolerance;
  return out;
}

PowerLawFit fit_power_law_curve(const std::vector<double>& curve, std::span<const int> ns) {
  std::vector<double> xs, ys;
  std::vector<int> used;
  auto take = [&](int n) {
    if (n >= 1 && n < int(curve.size()) && std::isfinite(curve[size_t(n)]))
      xs.push_back(n), ys.push_back(curve[size_t(n)]), used.push_back(n);
  };
  if (ns.empty())
    for (int n = 1; n < int(curve.size()); ++n) take(n);
  else
    for (int n : ns) take(n);
  PowerLawFit f;
  if (int(xs.size()) < kPowerLawMinPoints) {
    f.kind = PowerLawFit::Kind::kTooFewPoints;
    f.a = f.beta = f.c = f.r2 = kNaN;
    f.points = int(xs.size());
  } else {
    f = fit_power_law(xs, ys);
  }
  f.ns = std::move(used);
  return f;
}

// --- StreamingGram ---------------------------------------------------------------------

StreamingGram::StreamingGram(int columns) {
  if (columns < 0) throw Error("transition matrix: negative column count");
  if (columns > 0) set_columns(columns);
}

void StreamingGram::set_columns(int k) {
  k_ = k;
  gram_.assign(size_t(k) * k, 0.0);
}

void StreamingGram::add_target(const std::vector<std::vector<float>>& updates) {
  if (updates.empty()) throw Error("transition matrix: a target with no update vectors");
  const size_t vocab = updates[0].size();
  std::vector<float> block;
  block.reserve(updates.size() * vocab);
  for (const std::vector<float>& u : updates) {
    if (u.size() != vocab)
      throw Error("transition matrix: update vectors of lengths " + std::to_string(vocab) + " and " +
                  std::to_string(u.size()) + " in one target");
    block.insert(block.end(), u.begin(), u.end());
  }
  add_target(block, int(vocab));
}

void StreamingGram::add_target(std::span<const float> updates, int vocab) { add_targets(updates, vocab, 1); }

void StreamingGram::add_targets(std::span<const float> updates, int64_t vocab, int64_t targets) {
  if (targets < 1) throw Error("transition matrix: a block of " + std::to_string(targets) + " targets");
  if (vocab < 1 || updates.size() % size_t(vocab) != 0)
    throw Error("transition matrix: " + std::to_string(updates.size()) + " values is not a whole number of vectors of length " +
                std::to_string(vocab));
  const int k = int(updates.size() / size_t(vocab));
  if (k == 0) throw Error("transition matrix: a target with no update vectors");
  if (k_ == 0) set_columns(k);
  if (k != k_)
    throw Error("transition matrix: a target with " + std::to_string(k) + " update vectors, expected " +
                std::to_string(k_));
  using RowMajorF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd u = Eigen::Map<const RowMajorF>(updates.data(), k, vocab).cast<double>();
  Eigen::Map<Eigen::MatrixXd> g(gram_.data(), k_, k_);
  g.selfadjointView<Eigen::Lower>().rankUpdate(u);  // GᵀG += u·uᵀ, one triangle: half the work
  for (int j = 1; j < k_; ++j)
    for (int i = 0; i < j; ++i) g(i, j) = g(j, i);
  targets_ += targets;
}

StreamingGram StreamingGram::leading(int k) const {
  if (k < 0 || k > k_) throw Error("transition matrix: cannot take " + std::to_string(k) + " of " + std::to_string(k_) + " columns");
  StreamingGram g(k);
  g.targets_ = targets_;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) g.gram_[size_t(i) * k + j] = gram_[size_t(i) * k_ + j];
  return g;
}

StreamingGram StreamingGram::from_state(int columns, int64_t targets, std::vector<double> gram) {
  if (columns < 0 || targets < 0 || gram.size() != size_t(columns) * size_t(columns))
    throw Error("transition matrix: a raw state of " + std::to_string(gram.size()) + " numbers for " +
                std::to_string(columns) + " columns");
  StreamingGram g;
  g.k_ = columns;
  g.targets_ = targets;
  g.gram_ = std::move(gram);
  return g;
}

void StreamingGram::merge(const StreamingGram& other) {
  if (other.k_ == 0) return;
  if (k_ == 0) set_columns(other.k_);
  if (k_ != other.k_)
    throw Error("transition matrix: cannot merge " + std::to_string(other.k_) + " columns into " + std::to_string(k_));
  for (size_t i = 0; i < gram_.size(); ++i) gram_[i] += other.gram_[i];
  targets_ += other.targets_;
}

RankReport StreamingGram::rank(double rel_tol) const {
  if (!(rel_tol > 0 && rel_tol < 1))
    throw Error("transition matrix: rank tolerance must be in (0, 1), got " + std::to_string(rel_tol));
  RankReport r;
  r.rel_tol = rel_tol;
  r.columns = k_;
  r.targets = targets_;
  if (k_ == 0) return r;
  const Eigen::Map<const Eigen::MatrixXd> g(gram_.data(), k_, k_);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(g, Eigen::EigenvaluesOnly);
  r.singular_values.resize(k_);
  for (int i = 0; i < k_; ++i) r.singular_values[i] = std::sqrt(std::max(0.0, eig.eigenvalues()[i]));
  std::sort(r.singular_values.begin(), r.singular_values.end(), std::greater<double>());

  const double sigma_max = r.singular_values[0];
  if (sigma_max == 0) return r;
  double total = 0;
  for (double s : r.singular_values) {
    if (s > rel_tol * sigma_max) ++r.numerical_rank;
    total += s;
  }
  double entropy = 0;
  for (double s : r.singular_values)
    if (s > 0) entropy -= (s / total) * std::log(s / total);
  r.effective_rank = std::exp(entropy);
  return r;
}

}  // namespace strata
