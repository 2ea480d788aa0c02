// Storage types: exact widening of every half and bfloat16, round-to-nearest-even
// narrowing with its edge cases, names, and the bulk conversion the loaders use.
#include "strata/dtype.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "strata/error.h"

namespace strata {
namespace {

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(DTypeTest, NamesSizesAndParsing) {
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) EXPECT_EQ(parse_dtype(dtype_name(t)), t);
  EXPECT_EQ(parse_dtype("bf16"), DType::kBF16);
  EXPECT_EQ(dtype_size(DType::kF32), 4u);
  EXPECT_EQ(dtype_size(DType::kBF16), 2u);
  try {
    parse_dtype("fp8");
    ADD_FAILURE() << "fp8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown dtype \"fp8\" (f32, f16 or bf16)"), std::string::npos) << e.what();
  }
}

TEST(DTypeTest, FloatToHalfKnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);               // largest half
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);                   // overflow -> inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -26)), 0x0000);  // underflow -> 0
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // halfway: to even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(NAN) & 0x7c00, 0x7c00);
}

TEST(DTypeTest, FloatToBfloat16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // halfway, even below: stays
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // halfway, odd below: up
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);  // above halfway: up
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up into infinity
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xff80);
  const uint16_t nan = f32_to_bf16(std::bit_cast<float>(0x7f800001u));  // a NaN whose payload is below bit 16
  EXPECT_TRUE(std::isnan(bf16_to_f32(nan))) << std::hex << nan;
  // Every bfloat16 survives the round trip through float exactly.
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = bf16_to_f32(uint16_t(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), b) << std::hex << b;
  }
}

TEST(DTypeTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(DTypeTest, WidenToF32) {
  const std::vector<float> values = {0.5f, -3.25f, 1e-3f, 65504.0f};
  std::vector<uint16_t> half, bf;
  for (float v : values) half.push_back(f32_to_f16(v)), bf.push_back(f32_to_bf16(v));
  std::vector<float> out(values.size());
  widen_to_f32(half.data(), DType::kF16, half.size(), out.data());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(bits(out[i]), bits(f16_to_f32(half[i])));
  widen_to_f32(bf.data(), DType::kBF16, bf.size(), out.data());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(bits(out[i]), bits(bf16_to_f32(bf[i])));
  widen_to_f32(values.data(), DType::kF32, values.size(), out.data());
  EXPECT_EQ(std::memcmp(out.data(), values.data(), values.size() * 4), 0);
}

TEST(DTypeTest, NarrowFromF32RoundsLikeTheScalarConversions) {
  const std::vector<float> values = {0.5f, -3.25f, 1.0f + 1.0f / 512, 1e-7f, 70000.0f, -0.0f};
  std::vector<uint16_t> out(values.size());
  narrow_from_f32(values.data(), values.size(), DType::kF16, out.data());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(out[i], f32_to_f16(values[i])) << values[i];
  narrow_from_f32(values.data(), values.size(), DType::kBF16, out.data());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(out[i], f32_to_bf16(values[i])) << values[i];
  std::vector<float> copy(values.size());
  narrow_from_f32(values.data(), values.size(), DType::kF32, copy.data());
  EXPECT_EQ(std::memcmp(copy.data(), values.data(), values.size() * 4), 0);
}

}  // namespace
}  // namespace strata
