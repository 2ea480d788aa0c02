// Scalar kernels for architecture options (see arch_ops.h). Sums run in double where a
// row is reduced, so these are at least as accurate as the float32 reference they are
// checked against.
#include "strata/arch_ops.h"

#include <algorithm>
#include <cmath>

namespace strata::arch {

void layernorm(float* y, const float* x, const float* w, const float* b, int rows, int d, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * d;
    float* yr = y + size_t(r) * d;
    double mean = 0, var = 0;
    for (int j = 0; j < d; ++j) mean += xr[j];
    mean /= d;
    for (int j = 0; j < d; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    const double inv = 1.0 / std::sqrt(var / d + double(eps));
    for (int j = 0; j < d; ++j) yr[j] = float((xr[j] - mean) * inv) * w[j] + b[j];
  }
}

void add_bias(float* y, const float* b, int rows, int n) {
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < n; ++j) y[size_t(r) * n + j] += b[j];
}

void gelu_tanh(float* x, size_t n) {
  const float k = std::sqrt(2.0f / float(M_PI));
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
  }
}

void softcap(float* x, size_t n, float cap) {
  for (size_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const int half = c.head_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) inv[size_t(i)] = 1.0f / std::pow(c.rope_theta, float(2 * i) / float(c.head_dim));
  const RopeConfig& r = c.rope;
  if (r.scaling == RopeScaling::kLinear) {
    for (float& f : inv) f /= r.factor;
  } else if (r.scaling == RopeScaling::kLlama3) {
    // Wavelengths longer than the original context / low_freq_factor are slowed by the
    // factor, shorter than original / high_freq_factor kept, and those between interpolated.
    const float old_len = float(r.original_max_position_embeddings);
    const float low_wavelen = old_len / r.low_freq_factor, high_wavelen = old_len / r.high_freq_factor;
    for (float& f : inv) {
      const float wavelen = 2.0f * float(M_PI) / f;
      if (wavelen > low_wavelen) {
        f /= r.factor;
      } else if (wavelen >= high_wavelen) {
        const float smooth = (old_len / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
        f = (1.0f - smooth) * f / r.factor + smooth * f;
      }
    }
  }
  return inv;
}

void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, const float* inv_freq) {
  const int half = head_dim / 2;
  std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
  for (int r = 0; r < rows; ++r) {
    for (int i = 0; i < half; ++i) {
      const float angle = float(positions[r]) * inv_freq[i];
      cs[size_t(i)] = std::cos(angle);
      sn[size_t(i)] = std::sin(angle);
    }
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (size_t(r) * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * cs[size_t(i)] - b * sn[size_t(i)];
        v[i + half] = b * cs[size_t(i)] + a * sn[size_t(i)];
      }
    }
  }
}

void attention(float* out, const float* q, const float* k, const float* v, int B, int T, int n_heads,
               int n_kv_heads, int head_dim, float scale, int window, float softcap, int past) {
  const int group = n_heads / n_kv_heads;
  const int keys = past + T;
  const size_t qs = size_t(n_heads) * head_dim, kvs = size_t(n_kv_heads) * head_dim;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < n_heads; ++h) {
      std::vector<double> p(static_cast<size_t>(keys)), acc(static_cast<size_t>(head_dim));
      const int kvh = h / group;
      for (int i = 0; i < T; ++i) {
        const float* qi = q + (size_t(b) * T + i) * qs + size_t(h) * head_dim;
        const int last = past + i;  // the query's index among the keys: the window counts from it
        const int first = window > 0 ? std::max(0, last - window + 1) : 0;
        double mx = -INFINITY;
        for (int j = first; j <= last; ++j) {
          const float* kj = k + (size_t(b) * keys + j) * kvs + size_t(kvh) * head_dim;
          double s = 0;
          for (int e = 0; e < head_dim; ++e) s += double(qi[e]) * kj[e];
          s *= scale;
          if (softcap > 0) s = softcap * std::tanh(s / softcap);
          p[size_t(j)] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (int j = first; j <= last; ++j) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int j = first; j <= last; ++j) {
          const float* vj = v + (size_t(b) * keys + j) * kvs + size_t(kvh) * head_dim;
          const double w = p[size_t(j)] / sum;
          for (int e = 0; e < head_dim; ++e) acc[size_t(e)] += w * vj[e];
        }
        float* o = out + (size_t(b) * T + i) * qs + size_t(h) * head_dim;
        for (int e = 0; e < head_dim; ++e) o[e] = float(acc[size_t(e)]);
      }
    }
}

}  // namespace strata::arch
