// The element types weights are stored in, and their exact conversions. Checkpoints come
// in F32, F16 and BF16; the kernels take a weight matrix in its stored type (ops.h,
// WeightRef) and widen it to float while they work, so a BF16 model stays BF16 in memory.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

enum class DType : uint8_t { kF32, kF16, kBF16 };

size_t dtype_size(DType t);         // bytes per element: 4, 2, 2
const char* dtype_name(DType t);    // as safetensors spells it: "F32", "F16", "BF16"
// "F32"/"f32", "F16"/"f16", "BF16"/"bf16"; throws strata::Error naming the valid ones.
DType parse_dtype(std::string_view name);

// IEEE half and bfloat16 to float: exact (every value of either is a float), subnormals,
// infinities and NaN payloads included.
float f16_to_f32(uint16_t h);
inline float bf16_to_f32(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }  // a float's top half

// float to half / bfloat16, rounding to nearest even; overflow goes to ±inf, NaN stays NaN.
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);

// n elements of type t at src (little-endian) widened to float at dst.
void widen_to_f32(const void* src, DType t, size_t n, float* dst);
// n floats at src stored as type t at dst (native byte order), rounding as above.
void narrow_from_f32(const float* src, size_t n, DType t, void* dst);

}  // namespace strata

