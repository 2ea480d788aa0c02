// Scalar reference kernels: the definition of what every SIMD kernel must compute. Plain
// loops in double where it matters, no threads; the SIMD tests compare against these.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/rope_angles.h"
#include "strata/ops.h"

namespace strata::ops::reference {

void matmul(float* y, const float* x, WeightRef wr, int M, int N, int K, bool accumulate) {
  std::vector<float> w(size_t(N) * K);  // the stored type widened by dtype.h's scalar code
  widen_to_f32(wr.data, wr.dtype, w.size(), w.data());
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double sum = accumulate ? y[size_t(i) * N + j] : 0.0;
      for (int k = 0; k < K; ++k) sum += double(x[size_t(i) * K + k]) * w[size_t(j) * K + k];
      y[size_t(i) * N + j] = float(sum);
    }
}

void matmul_nn(float* c, const float* a, size_t a_row_stride, size_t a_col_stride, const float* b,
               int M, int N, int K, bool accumulate) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double sum = accumulate ? c[size_t(i) * N + j] : 0.0;
      for (int p = 0; p < K; ++p) sum += double(a[i * a_row_stride + p * a_col_stride]) * b[size_t(p) * N + j];
      c[size_t(i) * N + j] = float(sum);
    }
}

void rmsnorm(float* y, const float* x, const float* w, int rows, int d, float eps, bool plus_one,
             float* inv_rms) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * d;
    double ss = 0;
    for (int i = 0; i < d; ++i) ss += double(xr[i]) * xr[i];
    const float inv = float(1.0 / std::sqrt(ss / d + eps));
    if (inv_rms) inv_rms[r] = inv;
    for (int i = 0; i < d; ++i) y[size_t(r) * d + i] = xr[i] * inv * (plus_one ? 1.0f + w[i] : w[i]);
  }
}

void rope(float* x, const int32_t* positions, int rows, int n_heads, int head_dim, float theta,
          bool inverse) {
  const int half = head_dim / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int r = 0; r < rows; ++r) {
    detail::rope_angles(positions[r], head_dim, theta, inverse, c.data(), s.data());
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + (size_t(r) * n_heads + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i] + a * s[i];
      }
    }
  }
}

float softmax(float* x, int n) {
  const float mx = *std::max_element(x, x + n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  for (int i = 0; i < n; ++i) x[i] = float(x[i] / sum);
  return float(mx + std::log(sum));
}

void gated_activation(float* h, const float* gate, const float* up, size_t n, Activation act) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    float a;
    if (act == Activation::kSiLU) {
      a = g / (1.0f + std::exp(-g));
    } else {
      const float kAlpha = 0.7978845608028654f;  // sqrt(2/pi)
      a = 0.5f * g * (1.0f + std::tanh(kAlpha * (g + 0.044715f * g * g * g)));
    }
    h[i] = a * up[i];
  }
}

void gated_activation_backward(float* dgate, float* dup, const float* dh, const float* gate, const float* up,
                               size_t n, Activation act) {
  for (size_t i = 0; i < n; ++i) {
    const double g = gate[i];
    double a, da;
    if (act == Activation::kSiLU) {
      const double s = 1.0 / (1.0 + std::exp(-g));
      a = g * s;
      da = s * (1.0 + g * (1.0 - s));
    } else {
      const double kAlpha = 0.7978845608028654, kCubic = 0.044715;
      const double t = std::tanh(kAlpha * (g + kCubic * g * g * g));
      a = 0.5 * g * (1.0 + t);
      da = 0.5 * (1.0 + t) + 0.5 * g * (1.0 - t * t) * kAlpha * (1.0 + 3.0 * kCubic * g * g);
    }
    dgate[i] = float(dh[i] * up[i] * da);
    dup[i] = float(dh[i] * a);
  }
}

void attention(float* out, const float* q, const float* k, const float* v, int B, int T,
               int n_heads, int n_kv_heads, int head_dim, float* probs) {
  const int group = n_heads / n_kv_heads;
  const size_t q_stride = size_t(n_heads) * head_dim, kv_stride = size_t(n_kv_heads) * head_dim;
  const double scale = 1.0 / std::sqrt(double(head_dim));
  std::vector<double> p(static_cast<size_t>(T));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < n_heads; ++h) {
      const int kvh = h / group;
      for (int i = 0; i < T; ++i) {
        const float* qi = q + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
        double mx = -INFINITY;
        for (int j = 0; j <= i; ++j) {
          const float* kj = k + (size_t(b) * T + j) * kv_stride + size_t(kvh) * head_dim;
          double dot = 0;
          for (int e = 0; e < head_dim; ++e) dot += double(qi[e]) * kj[e];
          p[j] = dot * scale;
          mx = std::max(mx, p[j]);
        }
        double sum = 0;
        for (int j = 0; j <= i; ++j) sum += (p[j] = std::exp(p[j] - mx));
        float* oi = out + (size_t(b) * T + i) * q_stride + size_t(h) * head_dim;
        for (int e = 0; e < head_dim; ++e) {
          double acc = 0;
          for (int j = 0; j <= i; ++j)
            acc += p[j] / sum * v[(size_t(b) * T + j) * kv_stride + size_t(kvh) * head_dim + e];
          oi[e] = float(acc);
        }
        if (probs) {
          float* pr = probs + ((size_t(b) * n_heads + h) * T + i) * T;
          for (int j = 0; j < T; ++j) pr[j] = j <= i ? float(p[j] / sum) : 0.0f;
        }
      }
    }
}

// dP_ij = dout_i·v_j, dS_ij = P_ij (dP_ij − Σ_j' P_ij' dP_ij'), dq_i = scale Σ_j dS_ij k_j,
// dk_j = scale Σ_i dS_ij q_i, dv_j = Σ_i P_ij dout_i; kv heads sum over their query group.
void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* q,
                        const float* k, const float* v, const float* probs, int B, int T, int H,
                        int KVH, int hd) {
  const int group = H / KVH;
  const size_t qs = size_t(H) * hd, kvs = size_t(KVH) * hd;
  const double scale = 1.0 / std::sqrt(double(hd));
  std::fill(dk, dk + size_t(B) * T * kvs, 0.0f);
  std::fill(dv, dv + size_t(B) * T * kvs, 0.0f);
  std::vector<double> dp(static_cast<size_t>(T));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const size_t kv_off = size_t(h / group) * hd, q_off = size_t(h) * hd;
      for (int i = 0; i < T; ++i) {
        const float* p = probs + ((size_t(b) * H + h) * T + i) * T;
        const float* doi = dout + (size_t(b) * T + i) * qs + q_off;
        const float* qi = q + (size_t(b) * T + i) * qs + q_off;
        double weighted = 0;
        for (int j = 0; j <= i; ++j) {
          double dot = 0;
          for (int e = 0; e < hd; ++e) dot += double(doi[e]) * v[(size_t(b) * T + j) * kvs + kv_off + e];
          dp[j] = dot;
          weighted += p[j] * dot;
        }
        for (int e = 0; e < hd; ++e) {
          double acc = 0;
          for (int j = 0; j <= i; ++j)
            acc += p[j] * (dp[j] - weighted) * scale * k[(size_t(b) * T + j) * kvs + kv_off + e];
          dq[(size_t(b) * T + i) * qs + q_off + e] = float(acc);
        }
        for (int j = 0; j <= i; ++j) {
          const double ds = p[j] * (dp[j] - weighted) * scale;
          for (int e = 0; e < hd; ++e) {
            dk[(size_t(b) * T + j) * kvs + kv_off + e] += float(ds * qi[e]);
            dv[(size_t(b) * T + j) * kvs + kv_off + e] += float(p[j] * doi[e]);
          }
        }
      }
    }
}

}  // namespace strata::ops::reference
