// Sweeps: target choice, batched statistics equal to unbatched ones and to an explicit,
// unstreamed computation of G from the engine's full log-distributions, the final
// iterations of sequential and hierarchical agree, a context-free model gives flat
// curves and zero updates, and bad options are refused.
#include "strata/sweep.h"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <random>

#include "strata/error.h"
#include "strata/inference.h"

#include "../fixtures.h"

namespace strata {
namespace {

using fixtures::random_tokens;

ModelConfig tiny_config() { return fixtures::tiny_config(48); }
std::shared_ptr<Weights> random_weights(uint64_t seed) { return fixtures::random_weights(tiny_config(), seed); }

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

TEST(SweepTest, ChooseTargets) {
  EXPECT_EQ(choose_targets(20, 8, 3, 0), (std::vector<int64_t>{8, 12, 16}));
  EXPECT_EQ(choose_targets(20, 8, 3, 5), (std::vector<int64_t>{8, 13, 18}));
  EXPECT_EQ(choose_targets(9, 8, 1, 0), (std::vector<int64_t>{8}));
  EXPECT_THROW(choose_targets(8, 8, 1, 0), Error);    // no position with a full budget
  EXPECT_THROW(choose_targets(20, 8, 13, 0), Error);  // only 12 positions
  EXPECT_THROW(choose_targets(20, 8, 4, 5), Error);   // the stride fits 3
  EXPECT_THROW(choose_targets(20, 8, 0, 0), Error);
}

TEST(SweepTest, StreamedStatisticsEqualUnstreamed) {
  auto w = random_weights(11);
  Transformer model(w);
  const int V = w->config.vocab_size, L = 8;
  const auto tokens = random_tokens(60, V, 12);
  SweepOptions o;
  o.budget = L;
  o.schedules = {"sequential", "hierarchical"};
  o.targets = 9;
  o.batch = 1;
  std::vector<SweepRow> rows;
  const SweepResult one = run_sweep(model, tokens, o, [&](const SweepRow& r) { rows.push_back(r); });
  o.batch = 7;  // one full batch and a partial one
  const SweepResult seven = run_sweep(model, tokens, o);
  ASSERT_EQ(one.targets, seven.targets);
  ASSERT_EQ(one.targets.size(), 9u);

  for (size_t si = 0; si < 2; ++si) {
    SCOPED_TRACE(o.schedules[si]);
    const ScheduleSweep &a = one.schedules[si], &b = seven.schedules[si];
    EXPECT_EQ(a.name, o.schedules[si]);
    EXPECT_EQ(a.context_len, b.context_len);
    const auto ma = a.surprisal.means(), mb = b.surprisal.means();
    ASSERT_EQ(ma.size(), a.context_len.size());
    // The kernels sum in a batch-dependent order, so the values agree to float rounding.
    for (size_t k = 0; k < ma.size(); ++k) {
      EXPECT_NEAR(ma[k], mb[k], 1e-6 * std::fabs(ma[k]));
      EXPECT_NEAR(a.surprisal.std_error(int(k)), b.surprisal.std_error(int(k)), 1e-5 * std::fabs(ma[k]));
      EXPECT_EQ(a.surprisal.count(int(k)), 9);
    }
    const double scale = max_abs(a.gram.gram());
    ASSERT_GT(scale, 0);
    ASSERT_EQ(a.gram.gram().size(), b.gram.gram().size());
    for (size_t i = 0; i < a.gram.gram().size(); ++i) EXPECT_NEAR(a.gram.gram()[i], b.gram.gram()[i], 1e-6 * scale);
    EXPECT_EQ(a.token_forwards, b.token_forwards);
    EXPECT_EQ(a.gram.targets(), 9);

    // Unstreamed: the engine per target with full log-distributions, G built explicitly.
    std::shared_ptr<const Schedule> s = make_schedule(o.schedules[si]);
    const int K = int(a.context_len.size());
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(Eigen::Index(one.targets.size()) * V, K - 1);
    std::vector<std::vector<double>> values(static_cast<size_t>(K));
    for (size_t ti = 0; ti < one.targets.size(); ++ti) {
      IterativeInference run(model, tokens, one.targets[ti], s, L, {.keep_log_probs = true});
      run.run_all();
      for (int k = 0; k < K; ++k) {
        const IterationResult& r = run.history()[size_t(k)];
        values[size_t(k)].push_back(r.surprisal_bits);
        if (k > 0)
          for (int v = 0; v < V; ++v)
            G(Eigen::Index(ti) * V + v, k - 1) = double(r.log_probs[size_t(v)]) - double(run.history()[size_t(k - 1)].log_probs[size_t(v)]);
      }
      EXPECT_NEAR(a.final_surprisal[ti], run.history().back().surprisal_bits, 1e-6);
    }
    for (int k = 0; k < K; ++k) {  // mean and standard error, two-pass
      double mean = 0, sq = 0;
      for (double v : values[size_t(k)]) mean += v / 9.0;
      for (double v : values[size_t(k)]) sq += (v - mean) * (v - mean);
      EXPECT_NEAR(ma[size_t(k)], mean, 1e-6 * std::fabs(mean));
      EXPECT_NEAR(a.surprisal.std_error(k), std::sqrt(sq / 8.0 / 9.0), 1e-6 * std::fabs(mean));
    }
    const Eigen::MatrixXd gram = G.transpose() * G;
    for (int i = 0; i < K - 1; ++i)
      for (int j = 0; j < K - 1; ++j) EXPECT_NEAR(a.gram.gram()[size_t(i) * (K - 1) + j], gram(i, j), 1e-5 * scale);
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(G);
    const auto& sv = svd.singularValues();
    const RankReport rep = a.gram.rank(1e-2);
    ASSERT_EQ(rep.singular_values.size(), size_t(K - 1));
    int explicit_rank = 0;
    for (Eigen::Index i = 0; i < sv.size(); ++i) {
      EXPECT_NEAR(rep.singular_values[size_t(i)], sv(i), 1e-4 * sv(0));
      explicit_rank += sv(i) > 1e-2 * sv(0);
    }
    EXPECT_EQ(rep.numerical_rank, explicit_rank);
  }

  // The rows: one per target × schedule × iteration, cumulative compute per target.
  EXPECT_EQ(rows.size(), 9u * (8 + 4));
  int64_t forwards = 0;
  for (const SweepRow& r : rows) {
    if (r.iteration == 0) forwards = 0;
    forwards += r.context_len;
    EXPECT_EQ(r.token_forwards, forwards);
    EXPECT_EQ(r.token, tokens[size_t(r.position)]);
  }
}

TEST(SweepTest, FinalIterationsOfSequentialAndHierarchicalAgree) {
  auto w = random_weights(13);
  Transformer model(w);
  const auto tokens = random_tokens(80, w->config.vocab_size, 14);
  SweepOptions o;
  o.budget = 16;
  o.targets = 6;
  o.batch = 4;
  const SweepResult r = run_sweep(model, tokens, o);
  ASSERT_EQ(r.schedules.size(), 2u);
  const auto &s = r.schedules[0].final_surprisal, &h = r.schedules[1].final_surprisal;
  ASSERT_EQ(s.size(), 6u);
  for (size_t t = 0; t < s.size(); ++t) EXPECT_NEAR(s[t], h[t], 1e-4);
  EXPECT_EQ(r.schedules[0].token_forwards, 6 * (16 * 17 / 2));
  EXPECT_EQ(r.schedules[1].token_forwards, 6 * 31);
  EXPECT_EQ(r.schedules[1].gram.columns(), 4);
  EXPECT_EQ(r.schedules[0].gram.columns(), 15);
}

TEST(SweepTest, ContextFreeModelGivesFlatCurvesAndZeroUpdates) {
  auto w = fixtures::context_free_weights(tiny_config(), 15);
  Transformer model(w);
  const auto tokens = random_tokens(50, w->config.vocab_size, 16);
  SweepOptions o;
  o.budget = 8;
  o.targets = 5;
  o.schedules = {"sequential", "hierarchical", "dilated"};
  const SweepResult r = run_sweep(model, tokens, o);
  const double log2v = std::log2(48.0);
  for (const ScheduleSweep& s : r.schedules) {
    for (double m : s.surprisal.means()) EXPECT_NEAR(m, log2v, 1e-5);
    for (double e : s.surprisal.std_errors()) EXPECT_EQ(e, 0.0);  // the same value at every target: no spread, exactly
    EXPECT_EQ(max_abs(s.gram.gram()), 0.0);
    const RankReport rep = s.gram.rank(1e-2);
    EXPECT_EQ(rep.numerical_rank, 0);
    EXPECT_EQ(rep.effective_rank, 0.0);
  }
}

TEST(SweepTest, ExplicitPositionsAndEmptyIteration) {
  auto w = random_weights(17);
  Transformer model(w);
  const auto tokens = random_tokens(40, w->config.vocab_size, 18);
  SweepOptions o;
  o.budget = 4;
  o.positions = {4, 5, 6, 30};
  o.with_empty = true;
  o.bos_id = 47;
  std::vector<SweepRow> rows;
  const SweepResult r = run_sweep(model, tokens, o, [&](const SweepRow& row) { rows.push_back(row); });
  EXPECT_EQ(r.targets, o.positions);
  EXPECT_EQ(r.schedules[0].context_len, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(r.schedules[1].context_len, (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(r.schedules[0].gram.columns(), 4);  // one more update: empty -> first
  // The empty iteration is the same distribution for every target and schedule.
  std::shared_ptr<const Schedule> seq = make_schedule("sequential");
  IterativeInference run(model, tokens, 30, seq, 4, {.with_empty = true, .bos_id = 47});
  const double engine = run.step().surprisal_bits;
  int matched = 0;
  for (const SweepRow& row : rows)
    if (row.position == 30 && row.iteration == 0) {
      EXPECT_EQ(row.context_len, 0);
      EXPECT_EQ(row.token_forwards, 1);  // the BOS token
      EXPECT_NEAR(row.surprisal_bits, engine, 1e-5);
      ++matched;
    }
  EXPECT_EQ(matched, 2);  // once per schedule
  EXPECT_NEAR(r.schedules[0].surprisal.mean(0), r.schedules[1].surprisal.mean(0), 1e-9);

  o.positions = {5, 4};
  EXPECT_THROW(run_sweep(model, tokens, o), Error);  // not ascending
  o.positions = {3};
  EXPECT_THROW(run_sweep(model, tokens, o), Error);  // t < L
  o.positions = {40};
  EXPECT_THROW(run_sweep(model, tokens, o), Error);  // outside the text
}

TEST(SweepTest, RepeatedContextLengthsKeepTheirOwnIterations) {
  // Two windows of 2 tokens, {t-2, t-1} and {t-3, t-1}: the statistics are per iteration,
  // so the two stay apart (a curve by context length could not hold both).
  auto w = random_weights(23);
  Transformer model(w);
  const auto tokens = random_tokens(40, w->config.vocab_size, 24);
  SweepOptions o;
  o.budget = 4;
  o.targets = 5;
  o.schedules = {"custom:[2,{\"offsets\":[1,3]},2]"};
  std::vector<SweepRow> rows;
  const SweepResult r = run_sweep(model, tokens, o, [&](const SweepRow& row) { rows.push_back(row); });
  const ScheduleSweep& s = r.schedules[0];
  EXPECT_EQ(s.context_len, (std::vector<int>{2, 2, 2}));
  ASSERT_EQ(s.surprisal.size(), 3);
  std::vector<double> sums(3, 0.0);
  for (const SweepRow& row : rows) sums[size_t(row.iteration)] += row.surprisal_bits;
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(s.surprisal.count(k), 5);
    EXPECT_NEAR(s.surprisal.mean(k), sums[size_t(k)] / 5, 1e-9);
  }
  EXPECT_NE(s.surprisal.mean(0), s.surprisal.mean(1));  // different windows of one length
  EXPECT_EQ(s.surprisal.mean(0), s.surprisal.mean(2));  // the same window twice
}

TEST(SweepTest, RefusesBadOptions) {
  auto w = random_weights(19);
  Transformer model(w);
  const auto tokens = random_tokens(100, w->config.vocab_size, 20);
  SweepOptions o;
  o.budget = 8;
  o.targets = 2;
  auto expect_error = [&](SweepOptions bad, const std::string& fragment) {
    try {
      run_sweep(model, tokens, bad);
      ADD_FAILURE() << "expected strata::Error containing " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  SweepOptions b = o;
  b.budget = 64;
  expect_error(b, "exceeds the model's context");
  b = o, b.budget = 12;
  expect_error(b, "power of 2");
  b = o, b.budget = 0;
  expect_error(b, "at least 1");
  b = o, b.schedules = {"sequential", "zigzag"};
  expect_error(b, "unknown schedule");
  b = o, b.schedules = {"custom:[1, 2"};
  expect_error(b, "malformed JSON");
  b = o, b.schedules = {};
  expect_error(b, "no schedules");
  b = o, b.batch = 0;
  expect_error(b, "batch");
  b = o, b.targets = 0;
  expect_error(b, "at least 1");
  b = o, b.with_empty = true;
  expect_error(b, "BOS");
  EXPECT_NO_THROW(run_sweep(model, tokens, o));
}

}  // namespace
}  // namespace strata
