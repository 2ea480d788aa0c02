// Storage types and their conversions. See dtype.h.
#include "strata/dtype.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "strata/error.h"

namespace strata {

size_t dtype_size(DType t) { return t == DType::kF32 ? 4 : 2; }

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

DType parse_dtype(std::string_view name) {
  if (name == "F32" || name == "f32") return DType::kF32;
  if (name == "F16" || name == "f16") return DType::kF16;
  if (name == "BF16" || name == "bf16") return DType::kBF16;
  throw Error("unknown dtype \"" + std::string(name) + "\" (f32, f16 or bf16)");
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float; the sign survives for -0.
    const float mag = std::ldexp(float(mant), -24);
    return sign ? -mag : mag;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mant = x & 0x7fffffu;
  const int exp = int((x >> 23) & 0xffu);
  if (exp == 0xff) return uint16_t(sign | 0x7c00u | (mant ? 0x200u : 0u));
  const int e = exp - 127 + 15;
  if (e >= 0x1f) return uint16_t(sign | 0x7c00u);
  if (e <= 0) {  // a half subnormal (or zero): m·2^-24 with m = 1.mant·2^(e-14+23)
    if (e < -10) return uint16_t(sign);
    mant |= 0x800000u;
    const int shift = 14 - e;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1u))) ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = sign | (uint32_t(e) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;  // a carry rounds into the exponent
  return uint16_t(half);
}

uint16_t f32_to_bf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // NaN stays (quiet) NaN
  // Round to nearest even on the 16 bits dropped; a carry may round up into infinity.
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

void widen_to_f32(const void* src, DType t, size_t n, float* dst) {
  const auto* bytes = static_cast<const unsigned char*>(src);
  switch (t) {
    case DType::kF32:
      if constexpr (std::endian::native == std::endian::little) {
        if (n) std::memcpy(dst, src, n * 4);
      } else {
        for (size_t i = 0; i < n; ++i)
          dst[i] = std::bit_cast<float>(uint32_t(bytes[4 * i]) | uint32_t(bytes[4 * i + 1]) << 8 |
                                        uint32_t(bytes[4 * i + 2]) << 16 | uint32_t(bytes[4 * i + 3]) << 24);
      }
      return;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) dst[i] = f16_to_f32(uint16_t(bytes[2 * i] | bytes[2 * i + 1] << 8));
      return;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(uint16_t(bytes[2 * i] | bytes[2 * i + 1] << 8));
      return;
  }
}

void narrow_from_f32(const float* src, size_t n, DType t, void* dst) {
  if (t == DType::kF32) {
    if (n) std::memcpy(dst, src, n * 4);
    return;
  }
  auto* out = static_cast<uint16_t*>(dst);
  for (size_t i = 0; i < n; ++i) out[i] = t == DType::kF16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
}

}  // namespace strata
