// The architecture kernels (arch_ops.cpp) on their own: the options-free attention equals
// ops::attention, a window of T or more changes nothing while a shorter one does, the
// soft-cap bounds, LayerNorm normalises, and the RoPE frequency tables follow their
// definitions (the end-to-end checks against PyTorch are in model_test.cpp).
#include "strata/arch_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "strata/ops.h"

namespace strata {
namespace {

std::vector<float> random_vector(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return m;
}

TEST(ArchOpsTest, AttentionWithoutOptionsEqualsOpsAttention) {
  const int B = 2, T = 9, H = 4, KV = 2, hd = 8;
  const auto q = random_vector(size_t(B) * T * H * hd, 1), k = random_vector(size_t(B) * T * KV * hd, 2),
             v = random_vector(size_t(B) * T * KV * hd, 3);
  std::vector<float> fast(q.size()), ours(q.size()), windowed(q.size());
  ops::attention(fast.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd);
  const float scale = 1.0f / std::sqrt(float(hd));
  arch::attention(ours.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd, scale, 0, 0);
  EXPECT_LT(max_abs_diff(fast, ours), 1e-5);
  arch::attention(windowed.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd, scale, T, 0);
  EXPECT_LT(max_abs_diff(fast, windowed), 1e-5);  // a window as long as the sequence is no window
  arch::attention(windowed.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd, scale, 3, 0);
  EXPECT_GT(max_abs_diff(fast, windowed), 1e-2);
  // The first three queries see at most three keys either way.
  for (int i = 0; i < 3 * H * hd; ++i) EXPECT_NEAR(fast[size_t(i)], windowed[size_t(i)], 1e-5);
}

// Queries after `past` cached keys (decoding): the last n queries of each sequence over
// all its keys give the last n rows of the full pass, in both kernels, with a window
// counted from the query's absolute index.
TEST(ArchOpsTest, AttentionAfterPastKeysGivesTheFullPassesLastRows) {
  const int B = 2, T = 9, H = 4, KV = 2, hd = 8, n = 3, past = T - n;
  const auto q = random_vector(size_t(B) * T * H * hd, 1), k = random_vector(size_t(B) * T * KV * hd, 2),
             v = random_vector(size_t(B) * T * KV * hd, 3);
  const size_t row = size_t(H) * hd;
  std::vector<float> q_last;
  for (int b = 0; b < B; ++b) q_last.insert(q_last.end(), q.begin() + (b * T + past) * row, q.begin() + (b + 1) * T * row);
  auto last_rows = [&](const std::vector<float>& full) {
    std::vector<float> r;
    for (int b = 0; b < B; ++b) r.insert(r.end(), full.begin() + (b * T + past) * row, full.begin() + (b + 1) * T * row);
    return r;
  };
  std::vector<float> full(q.size()), cached(q_last.size());
  ops::attention(full.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd);
  ops::attention(cached.data(), q_last.data(), k.data(), v.data(), B, n, H, KV, hd, nullptr, past);
  EXPECT_LT(max_abs_diff(cached, last_rows(full)), 1e-6);
  const float scale = 0.3f;
  arch::attention(full.data(), q.data(), k.data(), v.data(), B, T, H, KV, hd, scale, 3, 2.0f);
  arch::attention(cached.data(), q_last.data(), k.data(), v.data(), B, n, H, KV, hd, scale, 3, 2.0f, past);
  EXPECT_LT(max_abs_diff(cached, last_rows(full)), 1e-6);
}

TEST(ArchOpsTest, SoftcapBoundsAndKeepsSmallValues) {
  std::vector<float> x = {-1000.0f, -0.01f, 0.0f, 0.01f, 1000.0f};
  arch::softcap(x.data(), x.size(), 5.0f);
  EXPECT_NEAR(x[0], -5.0f, 1e-6);
  EXPECT_NEAR(x[1], -0.01f, 1e-6);
  EXPECT_EQ(x[2], 0.0f);
  EXPECT_NEAR(x[4], 5.0f, 1e-6);
}

TEST(ArchOpsTest, LayerNormHasZeroMeanUnitVariance) {
  const int d = 64;
  const auto x = random_vector(2 * d, 4);
  std::vector<float> w(d, 1.0f), b(d, 0.0f), y(x.size());
  arch::layernorm(y.data(), x.data(), w.data(), b.data(), 2, d, 1e-5f);
  for (int r = 0; r < 2; ++r) {
    double mean = 0, var = 0;
    for (int j = 0; j < d; ++j) mean += y[size_t(r) * d + j];
    mean /= d;
    for (int j = 0; j < d; ++j) var += (y[size_t(r) * d + j] - mean) * (y[size_t(r) * d + j] - mean);
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(var / d, 1.0, 1e-3);
  }
}

TEST(ArchOpsTest, RopeFrequencyTables) {
  ModelConfig c;
  c.head_dim = 16;
  c.rope_theta = 10000.0f;
  const auto plain = arch::rope_inv_freq(c);
  ASSERT_EQ(plain.size(), 8u);
  EXPECT_FLOAT_EQ(plain[0], 1.0f);
  c.rope.scaling = RopeScaling::kLinear;
  c.rope.factor = 4.0f;
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_FLOAT_EQ(arch::rope_inv_freq(c)[i], plain[i] / 4.0f);
  // llama3 with an original context of 64: wavelengths under 16 are kept, over 64 divided
  // by the factor, and those between interpolated strictly between the two.
  c.rope = {RopeScaling::kLlama3, 8.0f, 1.0f, 4.0f, 64};
  const auto l3 = arch::rope_inv_freq(c);
  for (size_t i = 0; i < plain.size(); ++i) {
    const float wavelen = 2.0f * float(M_PI) / plain[i];
    if (wavelen < 16) EXPECT_FLOAT_EQ(l3[i], plain[i]) << i;
    else if (wavelen > 64) EXPECT_FLOAT_EQ(l3[i], plain[i] / 8.0f) << i;
    else EXPECT_TRUE(l3[i] < plain[i] && l3[i] > plain[i] / 8.0f) << i;
  }
  // rope() with the plain table equals ops::rope.
  const auto x = random_vector(3 * 2 * 16, 5);
  std::vector<float> a = x, b = x;
  const int32_t pos[3] = {0, 5, 77};
  ops::rope(a.data(), pos, 3, 2, 16, 10000.0f);
  arch::rope(b.data(), pos, 3, 2, 16, plain.data());
  EXPECT_LT(max_abs_diff(a, b), 1e-5);
}

}  // namespace
}  // namespace strata
