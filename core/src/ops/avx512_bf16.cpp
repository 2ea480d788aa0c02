// The BF16 product on AVX512-BF16 dot products (Cooper Lake, Sapphire Rapids, Zen 4 and
// later), for CPUs without AMX or where the kernel refuses tiles: VDPBF16PS adds, in each
// of 16 float lanes, the two products of a bf16 pair of x and of w, so 32 values of a row
// of x against 32 of a row of w per instruction: the dot-product tile of matmul.cpp, on
// rows of bf16 as they are stored. Also the rounding of float rows to bf16 (VCVTNE2PS2BF16).
#include "ops/bf16_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define STRATA_HAVE_AVX512_BF16 1
#include <cpuid.h>
#include <immintrin.h>

#include <cstring>
#endif

namespace strata::ops::bf16 {

#ifdef STRATA_HAVE_AVX512_BF16
namespace {

#define STRATA_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// kR rows of x against kC rows of w, 32 bf16 of each per step, as matmul.cpp's
// dot-product tile: 16 accumulators + 5 operands of the 32 registers.
template <int kR, int kC>
STRATA_BF16_TARGET void dot_tile(const Operands& o, int i, int j) {
  __m512 acc[kR][kC];
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) acc[r][c] = _mm512_setzero_ps();
  const uint16_t* x = o.x + size_t(i) * o.Kp;
  const uint16_t* w = o.w + size_t(j) * o.ldw;
  for (int k = 0; k < o.Kp; k += kKBlock) {
    __m512i xv[kR];
    for (int r = 0; r < kR; ++r) xv[r] = _mm512_loadu_si512(x + size_t(r) * o.Kp + k);
    for (int c = 0; c < kC; ++c) {
      const __m512i wv = _mm512_loadu_si512(w + size_t(c) * o.ldw + k);
      for (int r = 0; r < kR; ++r) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)xv[r], (__m512bh)wv);
    }
  }
  // The kR·kC horizontal sums at once: transposed, the 16 accumulators add up lane-wise.
  __m512 rows[16];
  for (int k = 0; k < 16; ++k) rows[k] = k < kR * kC ? acc[k / kC][k % kC] : _mm512_setzero_ps();
  transpose16(rows);
  __m512 sum = rows[0];
  for (int k = 1; k < 16; ++k) sum = _mm512_add_ps(sum, rows[k]);
  alignas(64) float sums[16];
  _mm512_store_ps(sums, sum);
  for (int r = 0; r < kR; ++r)
    for (int c = 0; c < kC; ++c) {
      float& out = o.y[size_t(i + r) * o.N + j + c];
      out = o.accumulate ? out + sums[r * kC + c] : sums[r * kC + c];
    }
}

template <int kR>
void dot_cols(const Operands& o, int cols, int i, int j) {
  switch (cols) {
    case 4: return dot_tile<kR, 4>(o, i, j);
    case 3: return dot_tile<kR, 3>(o, i, j);
    case 2: return dot_tile<kR, 2>(o, i, j);
    default: return dot_tile<kR, 1>(o, i, j);
  }
}

}  // namespace

namespace {

bool cpu_has_avx512_bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !((a >> 5) & 1)) return false;  // AVX512_BF16
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || ((b >> 16) & (b >> 30) & (b >> 31) & 1) == 0)
    return false;  // AVX512F, BW, VL
  if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return false;             // OSXSAVE
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xe6) == 0xe6;  // the OS saves SSE, AVX and all of AVX-512's state
}

}  // namespace

bool avx512_bf16_usable() {
  static const bool usable = cpu_has_avx512_bf16();  // once: CPUID traps to the hypervisor in a VM
  return usable;
}

void avx512_bf16_block(const Operands& o, int i0, int i1, int j0, int j1) {
  for (int j = j0; j < j1; j += 4) {  // w's rows outer: a block of w stays in cache for every row of x
    const int cols = j1 - j < 4 ? j1 - j : 4;
    for (int i = i0; i < i1; i += 4) {
      switch (i1 - i < 4 ? i1 - i : 4) {
        case 4: dot_cols<4>(o, cols, i, j); break;
        case 3: dot_cols<3>(o, cols, i, j); break;
        case 2: dot_cols<2>(o, cols, i, j); break;
        default: dot_cols<1>(o, cols, i, j); break;
      }
    }
  }
}

STRATA_BF16_TARGET void avx512_round_to_bf16(const float* src, size_t n, uint16_t* dst) {
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512bh pair = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
    _mm512_storeu_si512(dst + i, (__m512i)pair);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = __mmask16(n - i >= 16 ? 0xffffu : (1u << (n - i)) - 1);
    const __m256bh half = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + i));
    _mm256_mask_storeu_epi16(dst + i, mask, (__m256i)half);
  }
}

#else  // not x86-64: never usable, never called

bool avx512_bf16_usable() { return false; }
void avx512_bf16_block(const Operands&, int, int, int, int) {}
void avx512_round_to_bf16(const float*, size_t, uint16_t*) {}

#endif

}  // namespace strata::ops::bf16
