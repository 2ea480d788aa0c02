// Sweeps as bytes (core/src/sweep/wire.cpp): a decoded sweep is the encoded one bit for
// bit, decoded parts merge into what the originals merge into, and bytes that are not one
// whole message of this format are refused with an error.
#include "strata/sweep_wire.h"

#include <gtest/gtest.h>

#include <cstring>

#include "strata/error.h"

#include "../fixtures.h"

namespace strata {
namespace {

ModelConfig config() {
  fixtures::Shape s;
  s.vocab = 48;
  return fixtures::tiny_config(s);
}

SweepOptions options(std::vector<int64_t> positions) {
  SweepOptions o;
  o.budget = 8;
  o.schedules = {"sequential", "hierarchical", "dilated"};
  o.positions = std::move(positions);
  o.batch = 3;
  return o;
}

// Bit-for-bit equality of everything a sweep holds.
void expect_identical(const SweepResult& a, const SweepResult& b) {
  EXPECT_EQ(encode_sweep(a), encode_sweep(b));
  EXPECT_EQ(a.targets, b.targets);
  ASSERT_EQ(a.schedules.size(), b.schedules.size());
  for (size_t i = 0; i < a.schedules.size(); ++i) {
    const ScheduleSweep &x = a.schedules[i], &y = b.schedules[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.shared, y.shared);
    EXPECT_EQ(x.context_len, y.context_len);
    ASSERT_EQ(x.surprisal.size(), y.surprisal.size());
    for (int k = 0; k < x.surprisal.size(); ++k) {
      EXPECT_EQ(x.surprisal.count(k), y.surprisal.count(k));
      EXPECT_EQ(x.surprisal.mean(k), y.surprisal.mean(k));
      EXPECT_EQ(x.surprisal.moments()[size_t(k)].m2, y.surprisal.moments()[size_t(k)].m2);
    }
    EXPECT_EQ(x.final_surprisal, y.final_surprisal);
    EXPECT_EQ(x.gram.columns(), y.gram.columns());
    EXPECT_EQ(x.gram.targets(), y.gram.targets());
    EXPECT_EQ(x.gram.gram(), y.gram.gram());
    EXPECT_EQ(x.token_forwards, y.token_forwards);
    EXPECT_EQ(x.flops, y.flops);
  }
  EXPECT_EQ(a.shared.token_forwards, b.shared.token_forwards);
  EXPECT_EQ(a.per_target.passes, b.per_target.passes);
  EXPECT_EQ(a.gram_form, b.gram_form);
  EXPECT_EQ(a.peak_state_bytes, b.peak_state_bytes);
}

TEST(SweepWireTest, DecodedPartsAreTheOriginalsAndMergeAlike) {
  Transformer model(fixtures::random_weights(config(), 5, 0.5f));
  const std::vector<int32_t> tokens = fixtures::random_tokens(60, 48, 6);
  std::vector<int64_t> first, second;
  for (int64_t t = 8; t < 30; ++t) first.push_back(t);
  for (int64_t t = 30; t < 60; t += 3) second.push_back(t);
  std::vector<SweepRow> rows;
  const SweepResult a = run_sweep(model, tokens, options(first), [&](const SweepRow& r) { rows.push_back(r); });
  const SweepResult b = run_sweep(model, tokens, options(second));

  expect_identical(decode_sweep(encode_sweep(a)), a);
  SweepResult direct = a, decoded = decode_sweep(encode_sweep(a));
  direct.merge(b);
  decoded.merge(decode_sweep(encode_sweep(b)));
  expect_identical(decoded, direct);

  const std::vector<SweepRow> back = decode_rows(encode_rows(rows));
  ASSERT_EQ(back.size(), rows.size());
  EXPECT_EQ(std::memcmp(back.data(), rows.data(), rows.size() * sizeof(SweepRow)), 0);
  EXPECT_TRUE(decode_rows(encode_rows({})).empty());
  expect_identical(decode_sweep(encode_sweep(SweepResult{})), SweepResult{});
}

TEST(SweepWireTest, RefusesWhatIsNotOneWholeMessage) {
  Transformer model(fixtures::random_weights(config(), 7, 0.5f));
  const std::vector<int32_t> tokens = fixtures::random_tokens(40, 48, 8);
  const std::string bytes = encode_sweep(run_sweep(model, tokens, options({10, 11, 12})));
  for (size_t cut : {size_t(0), size_t(7), size_t(16), bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(decode_sweep(bytes.substr(0, cut)), Error) << "cut at " << cut;
  EXPECT_THROW(decode_sweep(bytes + "x"), Error);
  EXPECT_THROW(decode_rows(bytes), Error);  // a sweep is not rows
  EXPECT_THROW(decode_sweep(encode_rows({})), Error);
  std::string other_version = bytes;
  other_version[8] ^= 0x7f;
  EXPECT_THROW(decode_sweep(other_version), Error);
  std::string huge_count = encode_rows({});
  std::memset(huge_count.data() + 16, 0xff, 8);  // a row count past the end
  EXPECT_THROW(decode_rows(huge_count), Error);
}

TEST(SweepWireTest, RawStatesRoundTripAndBadOnesAreRefused) {
  SeriesAccumulator s(2);
  s.add(0, 1.5), s.add(0, 2.5), s.add(1, -3);
  const SeriesAccumulator back = SeriesAccumulator::from_moments(s.moments());
  EXPECT_EQ(back.mean(0), s.mean(0));
  EXPECT_EQ(back.std_error(0), s.std_error(0));
  EXPECT_EQ(back.count(1), 1);
  EXPECT_THROW(SeriesAccumulator::from_moments({Moments{-1, 0, 0}}), Error);
  EXPECT_THROW(StreamingGram::from_state(2, 1, {1, 2, 3}), Error);
  EXPECT_THROW(StreamingGram::from_state(1, -1, {1}), Error);
  EXPECT_EQ(StreamingGram::from_state(1, 4, {9}).targets(), 4);
}

}  // namespace
}  // namespace strata
