// The sampler (core/src/sampling.cpp): the kept mass of top-k and top-p, temperature,
// greedy and top-k 1 as argmax, draws that follow the distribution, seeds that repeat
// exactly and differ from each other, and the options refused by name.
#include "strata/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fixtures.h"

namespace strata {
namespace {

using fixtures::error_of;

// Logits of the probabilities 0.5, 0.3, 0.15, 0.05 (in a shuffled id order).
const std::vector<float> kLogits = {std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};

void expect_distribution(const SamplingOptions& o, const std::vector<double>& expected) {
  const std::vector<double> d = Sampler(o).distribution(kLogits);
  ASSERT_EQ(d.size(), expected.size());
  for (size_t i = 0; i < d.size(); ++i) EXPECT_NEAR(d[i], expected[i], 1e-6) << "token " << i;
}

TEST(SamplingTest, KeptMassOfTopKTopPAndTemperature) {
  expect_distribution({}, {0.15, 0.5, 0.05, 0.3});
  expect_distribution({.top_k = 2}, {0, 0.5 / 0.8, 0, 0.3 / 0.8});
  expect_distribution({.top_p = 0.7f}, {0, 0.5 / 0.8, 0, 0.3 / 0.8});  // 0.5 < 0.7 <= 0.5 + 0.3
  expect_distribution({.top_p = 0.4f}, {0, 1, 0, 0});                  // the top token alone reaches 0.4
  expect_distribution({.top_p = 0.9f}, {0.15 / 0.95, 0.5 / 0.95, 0, 0.3 / 0.95});
  expect_distribution({.top_k = 2, .top_p = 0.5f}, {0, 1, 0, 0});      // the nucleus of the top 2's mass
  const double z = std::sqrt(0.15) + std::sqrt(0.5) + std::sqrt(0.05) + std::sqrt(0.3);  // temperature 2: p^(1/2)
  expect_distribution({.temperature = 2.0f},
                      {std::sqrt(0.15) / z, std::sqrt(0.5) / z, std::sqrt(0.05) / z, std::sqrt(0.3) / z});
  expect_distribution({.temperature = 0.0f}, {0, 1, 0, 0});
}

TEST(SamplingTest, DrawsFollowTheKeptDistribution) {
  Sampler s({.top_p = 0.7f, .seed = 3});
  std::vector<int> counts(kLogits.size());
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[size_t(s.sample(kLogits))];
  EXPECT_EQ(counts[0] + counts[2], 0);               // outside the nucleus
  EXPECT_NEAR(counts[1] / double(n), 0.625, 0.015);  // 4 standard deviations
  EXPECT_NEAR(counts[3] / double(n), 0.375, 0.015);
}

TEST(SamplingTest, GreedyAndTopOneAreArgmaxWithTiesToTheLowerId) {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f, 0.5f};
  EXPECT_EQ(argmax(logits), 1);
  Sampler greedy({.temperature = 0.0f}), top1({.top_k = 1, .seed = 9});
  for (int i = 0; i < 20; ++i) {
    std::vector<float> random(64);
    const auto ids = fixtures::random_tokens(64, 1000, uint64_t(i));
    for (size_t j = 0; j < random.size(); ++j) random[j] = float(ids[j]) / 100.0f;
    EXPECT_EQ(top1.sample(random), argmax(random));
    EXPECT_EQ(greedy.sample(random), argmax(random));
  }
  EXPECT_EQ(top1.sample(logits), 1);
}

TEST(SamplingTest, OneSeedRepeatsAndAnotherDiffers) {
  const std::vector<float> flat(48, 0.0f);  // uniform over 48 tokens: 30 draws agree by chance with odds 48^-30
  auto draws = [&](uint64_t seed) {
    Sampler s({.seed = seed});
    std::vector<int32_t> t;
    for (int i = 0; i < 30; ++i) t.push_back(s.sample(flat));
    return t;
  };
  EXPECT_EQ(draws(1), draws(1));
  EXPECT_NE(draws(1), draws(2));
}

// xoshiro256** from splitmix64(0): fixed numbers, so a seed means the same on every build.
TEST(SamplingTest, RngIsXoshiro256StarStar) {
  Rng rng(0);
  const uint64_t first = rng.next(), second = rng.next();
  Rng again(0);
  EXPECT_EQ(again.next(), first);
  EXPECT_EQ(again.next(), second);
  EXPECT_EQ(first, 0x99EC5F36CB75F2B4ull);  // computed by an independent Python transcription
  EXPECT_EQ(second, 0xBF6E1F784956452Aull);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform();
    EXPECT_TRUE(u >= 0.0 && u < 1.0);
  }
}

TEST(SamplingTest, RefusesBadOptions) {
  EXPECT_EQ(error_of([] { Sampler({.temperature = -0.5f}); }),
            "sampling: temperature must be a finite number >= 0 (0 is greedy), got -0.500000");
  EXPECT_NE(error_of([] { Sampler({.temperature = NAN}); }).find("temperature must be"), std::string::npos);
  EXPECT_EQ(error_of([] { Sampler({.top_k = -1}); }), "sampling: top-k must be >= 0 (0 keeps every token), got -1");
  EXPECT_EQ(error_of([] { Sampler({.top_p = 0.0f}); }), "sampling: top-p must be in (0, 1], got 0.000000");
  EXPECT_EQ(error_of([] { Sampler({.top_p = 1.5f}); }), "sampling: top-p must be in (0, 1], got 1.500000");
  EXPECT_EQ(error_of([] { argmax({}); }), "argmax: no logits");
}

}  // namespace
}  // namespace strata
