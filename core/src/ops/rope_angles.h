// The rotary angles, shared by the scalar reference and the SIMD kernel so both rotate by
// bit-identical cos/sin. Computed in float like Hugging Face's LlamaRotaryEmbedding:
// inv_freq_i = 1 / theta^(2i/head_dim), angle = position * inv_freq_i.
#pragma once
#include <cmath>
#include <cstdint>

namespace strata::ops::detail {

inline void rope_angles(int32_t position, int head_dim, float theta, bool inverse, float* cos_out,
                        float* sin_out) {
  const int half = head_dim / 2;
  for (int i = 0; i < half; ++i) {
    const float inv_freq = 1.0f / std::pow(theta, float(2 * i) / float(head_dim));
    const float angle = float(position) * inv_freq;
    cos_out[i] = std::cos(angle);
    sin_out[i] = inverse ? -std::sin(angle) : std::sin(angle);
  }
}

}  // namespace strata::ops::detail
