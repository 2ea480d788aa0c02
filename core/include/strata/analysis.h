// The model-independent half of the analysis (method.md): streamed means (per iteration or
// per context length), the hierarchical staircase, the power-law fit S(n) = a·n^(−β) + c,
// per-token contributions, and the rank of the global transition matrix G from a streamed
// Gram matrix GᵀG. Every statistic here streams and merges, so a sweep's memory stays
// bounded and its parts (workers, MPI ranks, shared passes) combine.
//
// Convention: a *curve* is a std::vector<double> indexed by context length n, so entry 0
// belongs to the empty-context iteration; lengths without data hold NaN. Plots skip NaN.
// Eigen does the linear algebra but stays inside analysis.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace strata {

// --- Streamed means ----------------------------------------------------------------------

// Count, mean and sum of squared deviations of a stream of values (Welford), in double.
// Two of them merge exactly in exact arithmetic (Chan et al.); in floating point a merge
// differs from one long stream only by rounding, and merging the same parts in the same
// order always gives the same bits. No Σx² is kept, so no cancellation: a mean over 10^6
// targets loses no digits that matter and the spread stays right for large offsets.
struct Moments {
  int64_t count = 0;
  double mean = 0;  // meaningful when count > 0
  double m2 = 0;    // Σ (x − mean)²

  void add(double x);
  void merge(const Moments& other);
  double mean_or_nan() const;  // NaN without samples
  double std_error() const;    // standard error of the mean; NaN below 2 samples
};

// Moments per index, e.g. per iteration k of a schedule (a sweep's surprisal statistics:
// custom schedules may repeat a context length, so iterations, not lengths, index them)
// or per context length n (a curve). Mergeable across workers, ranks and shared passes:
// merge() combines index by index, in a fixed order, so the result is deterministic.
class SeriesAccumulator {
 public:
  explicit SeriesAccumulator(int size = 0);  // indices 0 … size−1 exist (with no samples)

  void add(int index, double value);  // grows as needed; throws strata::Error on index < 0 or a non-finite value
  void merge(const SeriesAccumulator& other);

  int size() const { return int(moments_.size()); }  // one past the largest index seen
  int64_t count(int index) const;                    // 0 outside 0 … size()−1
  double mean(int index) const;                      // NaN without samples
  double std_error(int index) const;                 // NaN below 2 samples
  std::vector<double> means() const;                 // for indices 0 … size()−1
  std::vector<double> std_errors() const;
  const std::vector<Moments>& moments() const { return moments_; }  // the raw state, e.g. to send to another rank
  // The accumulator whose raw state is `moments` (the inverse of moments(), e.g. on the rank
  // that received them). Throws strata::Error on a negative count or spread.
  static SeriesAccumulator from_moments(std::vector<Moments> moments);

 private:
  std::vector<Moments> moments_;
};

// ΔS(n) = S(n−1) − S(n): what the n-th token of context bought. Same indexing as the curve;
// entry 0, and any entry next to a NaN, is NaN.
std::vector<double> per_token_contribution(const std::vector<double>& curve);

// The hierarchical profile plotted over n = 0 … L: each n holds the value of the largest
// level whose window fits (length <= n), so the curve steps at the level lengths and meets
// the sequential curve there. Below the smallest level: NaN. Levels need not be sorted;
// lengths must be >= 0 and distinct (strata::Error otherwise).
std::vector<double> staircase(std::span<const int> level_lengths, std::span<const double> level_values,
                              int budget);

// --- Power law -------------------------------------------------------------------------

constexpr double kPowerLawBetaMax = 5.0;
constexpr double kPowerLawBoundTolerance = 1e-3;
constexpr int kPowerLawMinPoints = 3;

struct PowerLawFit {
  enum class Kind {
    kPowerLaw,      // a least-squares fit over β in [0, 5]
    kFlat,          // all values equal (within 1e-12 relative): exactly a = 0, β = 0, c = the value, R² = 1
    kTooFewPoints,  // fewer than kPowerLawMinPoints usable points (curve fits only): no fit, a, β, c, R² NaN
  };
  Kind kind = Kind::kPowerLaw;
  double a = 0, beta = 0, c = 0;
  double r2 = 0;        // 1 − SS_res / SS_tot (1 when the data are constant and fitted exactly)
  int points = 0;       // how many (x, y) pairs were fitted
  std::vector<int> ns;  // fit_power_law_curve: the context lengths fitted (or found too few)
  // kPowerLaw only: the best β lies at an end of the searched range [0, 5]. At β → 0 the
  // least-squares curve is c − k·ln n with a → ∓∞ and c → ±∞: the fitted values still
  // trace the data (R² is meaningful) but a and c are not, and the curve is not a power law.
  bool beta_at_bound = false;
  bool fitted() const { return kind != Kind::kTooFewPoints; }  // a, β, c and R² are numbers
  double operator()(double n) const;  // a·n^(−β) + c
};

// Least squares for y = a·x^(−β) + c, β in [0, 5]. For fixed β the model is linear in
// (a, c), so the fit is a one-dimensional search over β (grid, then golden section)
// with the exact (a, c) at each β. Needs >= 3 pairs, x > 0, two distinct x, finite values
// (strata::Error otherwise). Constant data give Kind::kFlat. Sets beta_at_bound when β
// ends within kPowerLawBoundTolerance of 0 or 5.
PowerLawFit fit_power_law(std::span<const double> xs, std::span<const double> ys);

// Fit a curve (indexed by n) at the lengths `ns`, or at every n >= 1 when ns is empty.
// NaN entries and lengths beyond the curve are skipped; n = 0 never takes part. Log-spaced
// fits pass ns = {1, 2, 4, …}. Fewer than 3 usable lengths give Kind::kTooFewPoints
// instead of an error: a small budget is a curve too short to fit, not a mistake.
PowerLawFit fit_power_law_curve(const std::vector<double>& curve, std::span<const int> ns = {});

// --- Rank of the global transition matrix ----------------------------------------------

struct RankReport {
  std::vector<double> singular_values;  // of G, descending
  int numerical_rank = 0;      // #{σ_i > rel_tol·σ_max}; 0 when σ_max = 0
  double effective_rank = 0;   // exp(entropy of σ/Σσ), tolerance-free; 0 when σ_max = 0
  double rel_tol = 0;
  int columns = 0;             // K, the rank's upper bound
  int64_t targets = 0;
};

// Accumulates GᵀG (K×K, double) for G = [g_1 … g_K], where column g_k stacks iteration k's
// update vector over every target. GᵀG is a sum over targets, so it streams and merges;
// G itself (targets × vocab rows) is never stored.
//
// Precision: σ = sqrt(eig(GᵀG)) resolves σ_i/σ_max down to about 1e-7 (the Gram matrix
// squares the condition number); smaller ratios are noise, so keep rel_tol well above it.
class StreamingGram {
 public:
  explicit StreamingGram(int columns = 0);  // 0: take K from the first target or merge

  // One target's K update vectors, each of the same length V (the vocabulary).
  void add_target(const std::vector<std::vector<float>>& updates);
  // The same as one row-major (K, V) block.
  void add_target(std::span<const float> updates, int vocab);
  // `targets` targets at once: a row-major (K, length) block whose row k is the k-th update
  // of every one of them, concatenated (any fixed order of coordinates): GᵀG += blockᵀ-wise
  // sum, as `targets` calls of add_target would give, with one product instead of many.
  void add_targets(std::span<const float> updates, int64_t length, int64_t targets);
  void merge(const StreamingGram& other);  // throws strata::Error if K differs

  int columns() const { return k_; }
  int64_t targets() const { return targets_; }
  const std::vector<double>& gram() const { return gram_; }  // (K, K) row-major, symmetric
  // The accumulator with this raw state (columns(), targets(), gram()), e.g. on the rank that
  // received it. Throws strata::Error unless gram holds columns² numbers and targets >= 0.
  static StreamingGram from_state(int columns, int64_t targets, std::vector<double> gram);

  RankReport rank(double rel_tol = 1e-2) const;  // throws strata::Error unless 0 < rel_tol < 1
  // The Gram matrix of the first k columns only (its leading k×k block): a schedule's
  // updates for a smaller budget are a prefix of its updates for a larger one.
  StreamingGram leading(int k) const;

 private:
  void set_columns(int k);
  int k_ = 0;
  int64_t targets_ = 0;
  std::vector<double> gram_;
};

}  // namespace strata
