// Every SIMD kernel against its scalar reference, on every SIMD target this CPU supports
// (Highway's test hook forces each in turn), at sizes that are and are not multiples of
// the vector width.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "strata/error.h"
#include "strata/ops.h"

namespace strata {
namespace {

std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Largest |a-b| / (|b| + floor) over both vectors.
double max_relative_error(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-3) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (std::abs(double(b[i])) + floor));
  return worst;
}

class OpsTest : public testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { hwy::SetSupportedTargetsForTest(GetParam()); }
  void TearDown() override { hwy::SetSupportedTargetsForTest(0); }
};

const int kOdd[] = {1, 3, 7, 8, 15, 16, 17, 33, 64, 100};

TEST_P(OpsTest, MatmulMatchesReference) {
  for (int M : {1, 2, 5, 16, 67})
    for (int N : {1, 3, 4, 13, 70})
      for (int K : kOdd) {
        auto x = random_vector(size_t(M) * K, 1), w = random_vector(size_t(N) * K, 2);
        for (bool accumulate : {false, true}) {
          auto y = random_vector(size_t(M) * N, 3), y_ref = y;
          ops::matmul(y.data(), x.data(), w.data(), M, N, K, accumulate);
          ops::reference::matmul(y_ref.data(), x.data(), w.data(), M, N, K, accumulate);
          // Errors of a float dot product grow with its typical size, sqrt(K) here.
          ASSERT_LT(max_relative_error(y, y_ref, std::sqrt(double(K))), 1e-5)
              << "M=" << M << " N=" << N << " K=" << K << " acc=" << accumulate;
        }
      }
}

// (Named without "Reference": scripts/test.sh's sanitizer run skips tests matching it, meant
// for the PyTorch checks.) The 16-bit weight types: the same products as the reference (which widens with dtype.h's
// scalar code) on the dot-product path (M < 32) and the packing path (M ≥ 32).
std::vector<uint16_t> narrowed(const std::vector<float>& w, DType t) {
  std::vector<uint16_t> bits(w.size());
  for (size_t i = 0; i < w.size(); ++i) bits[i] = t == DType::kF16 ? f32_to_f16(w[i]) : f32_to_bf16(w[i]);
  return bits;
}

TEST_P(OpsTest, MatmulWidensStoredWeightTypesLikeTheScalarCode) {
  for (DType t : {DType::kF16, DType::kBF16})
    for (int M : {1, 5, 33, 67})
      for (int N : {1, 13, 70})
        for (int K : {1, 7, 16, 33, 100}) {
          auto x = random_vector(size_t(M) * K, 1), w = random_vector(size_t(N) * K, 2);
          w[0] = 3e-6f;  // a half subnormal
          const auto bits = narrowed(w, t);
          const ops::WeightRef ref(bits.data(), t);
          for (bool accumulate : {false, true}) {
            auto y = random_vector(size_t(M) * N, 3), y_ref = y;
            ops::matmul(y.data(), x.data(), ref, M, N, K, accumulate);
            ops::reference::matmul(y_ref.data(), x.data(), ref, M, N, K, accumulate);
            ASSERT_LT(max_relative_error(y, y_ref, std::sqrt(double(K))), 1e-5)
                << dtype_name(t) << " M=" << M << " N=" << N << " K=" << K << " acc=" << accumulate;
          }
        }
}

// Past the kernel's K slice (512 rows of b kept in L2) and over many panels, each packed by
// the thread that reaches it: K = 2048 is four slices, N = 8192 + 67 ends in a partial
// panel, BF16 weights widen while packing. One target: the blocking is the same code on
// all of them.
TEST(OpsPanelPacking, MatmulOverManySlicesAndPanelsMatchesReference) {
  const int M = 32, K = 2048, N = 8192 + 67;
  auto x = random_vector(size_t(M) * K, 4), w = random_vector(size_t(N) * K, 5);
  const auto bits = narrowed(w, DType::kBF16);
  const ops::WeightRef ref(bits.data(), DType::kBF16);
  auto y = random_vector(size_t(M) * N, 6), y_ref = y;
  ops::matmul(y.data(), x.data(), ref, M, N, K, /*accumulate=*/true);
  ops::reference::matmul(y_ref.data(), x.data(), ref, M, N, K, /*accumulate=*/true);
  ASSERT_LT(max_relative_error(y, y_ref, std::sqrt(double(K))), 1e-5);
}

// Every one of the 65536 bit patterns widened exactly (subnormals, infinities, NaN): row j
// of w holds pattern j in one column and zeros elsewhere, x is all ones, so y(i, j) is
// that one value (+0 added). Both kernel paths, vector loads and scalar tails.
TEST_P(OpsTest, MatmulWidensEveryBitPatternExactly) {
  const int N = 1 << 16;
  for (DType t : {DType::kF16, DType::kBF16})
    for (int K : {16, 19})
      for (int M : {1, 32}) {
        std::vector<uint16_t> w(size_t(N) * K, 0);
        for (int j = 0; j < N; ++j) w[size_t(j) * K + size_t(j % K)] = uint16_t(j);
        const std::vector<float> x(size_t(M) * K, 1.0f);
        std::vector<float> y(size_t(M) * N);
        ops::matmul(y.data(), x.data(), ops::WeightRef(w.data(), t), M, N, K);
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) {
            const float want = t == DType::kF16 ? f16_to_f32(uint16_t(j)) : bf16_to_f32(uint16_t(j));
            const float got = y[size_t(i) * N + j];
            ASSERT_TRUE(std::isnan(want) ? std::isnan(got) : got == want)
                << dtype_name(t) << " pattern 0x" << std::hex << j << " K=" << std::dec << K << " M=" << M
                << ": " << got << " vs " << want;
          }
      }
}

// Compute::kBF16 on each of its kernels the CPU has. Stated tolerances: against the
// reference on the operands rounded to bf16 (the same products; only the order of the
// float sums and AMX's flushing of subnormals differ) 1e-4 of the typical |y| (√K); against
// exact float arithmetic, 2e-2 (bf16 keeps 8 significant bits: 2^-9 relative per operand).
TEST_P(OpsTest, MatmulInBf16AgreesWithScalarCodeOnRoundedOperands) {
  for (ops::Bf16Kernel kernel : ops::available_bf16_kernels()) {
    ops::set_bf16_kernel(kernel);
    for (DType t : {DType::kF32, DType::kF16, DType::kBF16})
      for (int M : {1, 7, 33})
        for (int N : {1, 32, 70})  // 32: whole tiles, so BF16 weights are read in place
          for (int K : {1, 31, 64, 100}) {
            auto x = random_vector(size_t(M) * K, 1), w = random_vector(size_t(N) * K, 2);
            const auto bits = t == DType::kF32 ? std::vector<uint16_t>() : narrowed(w, t);
            const ops::WeightRef ref = t == DType::kF32 ? ops::WeightRef(w.data()) : ops::WeightRef(bits.data(), t);
            std::vector<float> x_rounded(x.size()), w_wide(w.size());
            for (size_t i = 0; i < x.size(); ++i) x_rounded[i] = bf16_to_f32(f32_to_bf16(x[i]));
            widen_to_f32(ref.data, t, w.size(), w_wide.data());
            const auto w_rounded = narrowed(w_wide, DType::kBF16);
            for (bool accumulate : {false, true}) {
              auto y = random_vector(size_t(M) * N, 3), y_rounded = y, y_exact = y;
              ops::set_compute(ops::Compute::kBF16);
              ops::matmul(y.data(), x.data(), ref, M, N, K, accumulate);
              ops::set_compute(ops::Compute::kF32);
              ops::reference::matmul(y_rounded.data(), x_rounded.data(), ops::WeightRef(w_rounded.data(), DType::kBF16),
                                     M, N, K, accumulate);
              ops::reference::matmul(y_exact.data(), x.data(), ref, M, N, K, accumulate);
              const auto where = [&] {
                return std::string(ops::bf16_kernel_name(kernel)) + " " + dtype_name(t) + " M=" + std::to_string(M) +
                       " N=" + std::to_string(N) + " K=" + std::to_string(K) + " acc=" + std::to_string(accumulate);
              };
              ASSERT_LT(max_relative_error(y, y_rounded, std::sqrt(double(K))), 1e-4) << where();
              ASSERT_LT(max_relative_error(y, y_exact, std::sqrt(double(K))), 2e-2) << where();
            }
          }
  }
  ops::set_bf16_kernel(ops::available_bf16_kernels().front());
}

TEST(Bf16Kernels, EmulatedIsAlwaysAvailableAndOthersRefuseWhenAbsent) {
  const auto kernels = ops::available_bf16_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_EQ(kernels.back(), ops::Bf16Kernel::kEmulated);
  for (ops::Bf16Kernel k : {ops::Bf16Kernel::kAmx, ops::Bf16Kernel::kAvx512Bf16})
    if (std::find(kernels.begin(), kernels.end(), k) == kernels.end()) {
      EXPECT_THROW(ops::set_bf16_kernel(k), Error);
    }
  EXPECT_EQ(ops::parse_compute("bf16"), ops::Compute::kBF16);
  EXPECT_THROW(ops::parse_compute("fp8"), Error);
}

TEST_P(OpsTest, MatmulNNMatchesReferenceWithEitherLayoutOfA) {
  for (int M : {1, 3, 9, 70})
    for (int N : {1, 5, 16, 33, 130})
      for (int K : {1, 7, 64, 100, 1100}) {  // 1100: three K slices of the kernel
        auto a = random_vector(size_t(M) * K, 1), b = random_vector(size_t(K) * N, 2);
        for (bool transposed : {false, true}) {  // a stored (M,K), or (K,M) and read as aᵀ
          const size_t rs = transposed ? 1 : size_t(K), cs = transposed ? size_t(M) : 1;
          for (bool accumulate : {false, true}) {
            auto c = random_vector(size_t(M) * N, 3), c_ref = c;
            ops::matmul_nn(c.data(), a.data(), rs, cs, b.data(), M, N, K, accumulate);
            ops::reference::matmul_nn(c_ref.data(), a.data(), rs, cs, b.data(), M, N, K, accumulate);
            ASSERT_LT(max_relative_error(c, c_ref, std::sqrt(double(K))), 1e-5)
                << "M=" << M << " N=" << N << " K=" << K << " transposed=" << transposed;
          }
        }
      }
}

TEST_P(OpsTest, RmsnormMatchesReference) {
  for (int d : kOdd)
    for (bool plus_one : {false, true}) {
      const int rows = 37;
      auto x = random_vector(size_t(rows) * d, 4), w = random_vector(size_t(d), 5);
      std::vector<float> y(x.size()), y_ref(x.size()), inv(rows), inv_ref(rows);
      ops::rmsnorm(y.data(), x.data(), w.data(), rows, d, 1e-5f, plus_one, inv.data());
      ops::reference::rmsnorm(y_ref.data(), x.data(), w.data(), rows, d, 1e-5f, plus_one, inv_ref.data());
      ASSERT_LT(max_relative_error(y, y_ref), 1e-5) << "d=" << d;
      ASSERT_LT(max_relative_error(inv, inv_ref), 1e-5) << "d=" << d;
    }
}

TEST_P(OpsTest, RopeMatchesReferenceAndInverts) {
  for (int head_dim : {2, 6, 16, 34, 64, 128})
    for (int heads : {1, 3}) {
      const int rows = 21;
      std::vector<int32_t> pos(rows);
      for (int r = 0; r < rows; ++r) pos[r] = (r * 37) % 300;
      auto x = random_vector(size_t(rows) * heads * head_dim, 6), x_ref = x, original = x;
      ops::rope(x.data(), pos.data(), rows, heads, head_dim, 10000.0f);
      ops::reference::rope(x_ref.data(), pos.data(), rows, heads, head_dim, 10000.0f);
      ASSERT_LT(max_relative_error(x, x_ref, 1e-2), 1e-5) << "head_dim=" << head_dim;
      ops::rope(x.data(), pos.data(), rows, heads, head_dim, 10000.0f, /*inverse=*/true);
      ASSERT_LT(max_relative_error(x, original, 1e-2), 1e-4) << "head_dim=" << head_dim;
    }
}

TEST_P(OpsTest, SoftmaxMatchesReference) {
  for (int n : kOdd) {
    auto x = random_vector(size_t(n), 7, 5.0f), x_ref = x;
    const float log_normalizer = ops::softmax(x.data(), n);
    const float log_normalizer_ref = ops::reference::softmax(x_ref.data(), n);
    ASSERT_LT(max_relative_error(x, x_ref, 1e-6), 1e-5) << "n=" << n;
    ASSERT_NEAR(log_normalizer, log_normalizer_ref, 1e-5f * std::abs(log_normalizer_ref) + 1e-6f) << "n=" << n;
  }
}

TEST_P(OpsTest, GatedActivationsMatchReference) {
  for (Activation act : {Activation::kSiLU, Activation::kGeluTanh})
    for (int n : kOdd) {
      auto g = random_vector(size_t(n), 8, 3.0f), u = random_vector(size_t(n), 9);
      std::vector<float> h(static_cast<size_t>(n)), h_ref(h.size());
      ops::gated_activation(h.data(), g.data(), u.data(), size_t(n), act);
      ops::reference::gated_activation(h_ref.data(), g.data(), u.data(), size_t(n), act);
      ASSERT_LT(max_relative_error(h, h_ref, 1e-2), 2e-5) << "n=" << n;
    }
}

TEST_P(OpsTest, GatedActivationBackwardMatchesReference) {
  for (Activation act : {Activation::kSiLU, Activation::kGeluTanh})
    for (int n : kOdd) {
      auto g = random_vector(size_t(n), 8, 3.0f), u = random_vector(size_t(n), 9), dh = random_vector(size_t(n), 10);
      std::vector<float> dg(static_cast<size_t>(n)), du(dg.size()), dg_ref(dg.size()), du_ref(dg.size());
      ops::gated_activation_backward(dg.data(), du.data(), dh.data(), g.data(), u.data(), size_t(n), act);
      ops::reference::gated_activation_backward(dg_ref.data(), du_ref.data(), dh.data(), g.data(), u.data(), size_t(n), act);
      // Against a double reference. GELU's derivative has 1 − t² with t = tanh(…) near ±1,
      // which cancels: the scalar float formula the kernel replaced was 5.5e-5 off on 10⁶
      // such draws; a wrong term is off by 1e-2 or more.
      ASSERT_LT(max_relative_error(dg, dg_ref, 1e-2), 2e-4) << "n=" << n << " act=" << int(act);
      ASSERT_LT(max_relative_error(du, du_ref, 1e-2), 2e-4) << "n=" << n << " act=" << int(act);
    }
}

TEST_P(OpsTest, AttentionMatchesReference) {
  struct Case { int B, T, heads, kv_heads, head_dim; };
  for (Case c : {Case{1, 1, 1, 1, 4}, Case{2, 5, 4, 2, 8}, Case{1, 19, 3, 1, 17}, Case{3, 33, 4, 4, 16}}) {
    auto q = random_vector(size_t(c.B) * c.T * c.heads * c.head_dim, 10);
    auto k = random_vector(size_t(c.B) * c.T * c.kv_heads * c.head_dim, 11);
    auto v = random_vector(size_t(c.B) * c.T * c.kv_heads * c.head_dim, 12);
    std::vector<float> out(q.size()), out_ref(q.size());
    std::vector<float> p(size_t(c.B) * c.heads * c.T * c.T), p_ref(p.size());
    ops::attention(out.data(), q.data(), k.data(), v.data(), c.B, c.T, c.heads, c.kv_heads, c.head_dim, p.data());
    ops::reference::attention(out_ref.data(), q.data(), k.data(), v.data(), c.B, c.T, c.heads, c.kv_heads,
                              c.head_dim, p_ref.data());
    ASSERT_LT(max_relative_error(out, out_ref), 1e-4) << "T=" << c.T;
    ASSERT_LT(max_relative_error(p, p_ref, 1e-6), 1e-4) << "T=" << c.T;
  }
}

// A query row's output has the same bits whatever call computes it: all T queries at once,
// or each alone after a KV cache of the keys before it (the narrow last layer, pieces and
// shards of a sweep rely on this).
TEST_P(OpsTest, AttentionRowsHaveTheSameBitsInEveryCall) {
  for (int head_dim : {8, 32, 17})
    for (int T : {8, 40}) {
      const int H = 4, KVH = 2;
      auto q = random_vector(size_t(T) * H * head_dim, 21);
      auto k = random_vector(size_t(T) * KVH * head_dim, 22), v = random_vector(k.size(), 23);
      std::vector<float> all(q.size()), one(size_t(H) * head_dim);
      ops::attention(all.data(), q.data(), k.data(), v.data(), 1, T, H, KVH, head_dim);
      for (int i = 0; i < T; ++i) {
        ops::attention(one.data(), q.data() + size_t(i) * H * head_dim, k.data(), v.data(), 1, 1, H, KVH, head_dim,
                       nullptr, /*past=*/i);
        for (size_t e = 0; e < one.size(); ++e)
          ASSERT_EQ(one[e], all[size_t(i) * H * head_dim + e]) << "hd=" << head_dim << " T=" << T << " row " << i;
      }
    }
}

TEST_P(OpsTest, AttentionBackwardMatchesReference) {
  struct Case { int B, T, heads, kv_heads, head_dim; };
  for (Case c : {Case{1, 1, 1, 1, 4}, Case{2, 5, 4, 2, 8}, Case{1, 19, 3, 1, 17}, Case{2, 33, 4, 4, 16},
                 Case{2, 70, 4, 2, 32}}) {  // the last: the products on packed panels, 2-vector tiles
    const size_t rows = size_t(c.B) * c.T;
    auto q = random_vector(rows * c.heads * c.head_dim, 13), dout = random_vector(q.size(), 14);
    auto k = random_vector(rows * c.kv_heads * c.head_dim, 15), v = random_vector(k.size(), 16);
    std::vector<float> out(q.size()), probs(size_t(c.B) * c.heads * c.T * c.T);
    ops::reference::attention(out.data(), q.data(), k.data(), v.data(), c.B, c.T, c.heads, c.kv_heads,
                              c.head_dim, probs.data());
    std::vector<float> dq(q.size()), dk(k.size(), 1.0f), dv(k.size(), 1.0f);  // must be overwritten
    std::vector<float> dq_ref(q.size()), dk_ref(k.size()), dv_ref(k.size());
    ops::attention_backward(dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                            probs.data(), c.B, c.T, c.heads, c.kv_heads, c.head_dim);
    ops::reference::attention_backward(dq_ref.data(), dk_ref.data(), dv_ref.data(), dout.data(), q.data(),
                                       k.data(), v.data(), probs.data(), c.B, c.T, c.heads, c.kv_heads,
                                       c.head_dim);
    ASSERT_LT(max_relative_error(dq, dq_ref, 1e-2), 1e-4) << "T=" << c.T;
    ASSERT_LT(max_relative_error(dk, dk_ref, 1e-2), 1e-4) << "T=" << c.T;
    ASSERT_LT(max_relative_error(dv, dv_ref, 1e-2), 1e-4) << "T=" << c.T;
  }
}

std::string target_name(const testing::TestParamInfo<int64_t>& info) {
  return hwy::TargetName(info.param);
}

INSTANTIATE_TEST_SUITE_P(EveryTarget, OpsTest, testing::ValuesIn(hwy::SupportedAndGeneratedTargets()),
                         target_name);

}  // namespace
}  // namespace strata
