// The BF16 product on AVX512-BF16 dot products (Cooper Lake, Sapphire Rapids, Zen 4 and
// later), for CPUs without AMX or where the kernel refuses tiles: VDPBF16PS adds, in each
// of 16 float lanes, the two products of a bf16 pair of x (broadcast) and of w (one VNNI
// pair per column), so a step of the loop is the broadcast tile of matmul.cpp's matmul_nn
// on pairs: 6 rows × 4 groups of 16 columns = 24 accumulators.
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

#define STRATA_BF16_TARGET __attribute__((target("avx512f,avx512bf16")))

constexpr int kRows = 6, kGroups = 4;

template <int kR, int kG>
STRATA_BF16_TARGET void dot_tile(const Operands& o, int i, int g) {
  const size_t pairs = size_t(o.Kp) / 2;
  __m512 acc[kR][kG];
  for (int r = 0; r < kR; ++r)
    for (int v = 0; v < kG; ++v) acc[r][v] = _mm512_setzero_ps();
  const uint16_t* a = o.a + size_t(i) * o.Kp;
  const uint32_t* b = o.b + size_t(g) * pairs * kGroup;
  for (size_t p = 0; p < pairs; ++p) {
    __m512i bv[kG];
    for (int v = 0; v < kG; ++v) bv[v] = _mm512_loadu_si512(b + (size_t(v) * pairs + p) * kGroup);
    for (int r = 0; r < kR; ++r) {
      uint32_t pair;
      std::memcpy(&pair, a + size_t(r) * o.Kp + 2 * p, 4);
      const __m512i av = _mm512_set1_epi32(int(pair));
      for (int v = 0; v < kG; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], (__m512bh)av, (__m512bh)bv[v]);
    }
  }
  for (int v = 0; v < kG; ++v) {
    const int j = (g + v) * kGroup, cols = o.N - j < kGroup ? o.N - j : kGroup;
    const __mmask16 mask = __mmask16((1u << cols) - 1);
    for (int r = 0; r < kR; ++r) {
      float* out = o.y + size_t(i + r) * o.N + j;
      const __m512 sum = o.accumulate ? _mm512_add_ps(acc[r][v], _mm512_maskz_loadu_ps(mask, out)) : acc[r][v];
      _mm512_mask_storeu_ps(out, mask, sum);
    }
  }
}

template <int kG>
void dot_rows(const Operands& o, int rows, int i, int g) {
  static_assert(kRows == 6, "one case per row count up to kRows");
  switch (rows) {
    case 6: return dot_tile<6, kG>(o, i, g);
    case 5: return dot_tile<5, kG>(o, i, g);
    case 4: return dot_tile<4, kG>(o, i, g);
    case 3: return dot_tile<3, kG>(o, i, g);
    case 2: return dot_tile<2, kG>(o, i, g);
    default: return dot_tile<1, kG>(o, i, g);
  }
}

}  // namespace

bool avx512_bf16_usable() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !((a >> 5) & 1)) return false;  // AVX512_BF16
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !((b >> 16) & 1)) return false;  // AVX512F
  if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 27) & 1)) return false;             // OSXSAVE
  unsigned lo, hi;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & 0xe6) == 0xe6;  // the OS saves SSE, AVX and all of AVX-512's state
}

void avx512_bf16_block(const Operands& o, int i0, int i1, int g0, int g1) {
  const int last_row = i1 < o.M ? i1 : o.M;
  for (int i = i0; i < last_row; i += kRows) {
    const int rows = last_row - i < kRows ? last_row - i : kRows;
    int g = g0;
    for (; g + kGroups <= g1; g += kGroups) dot_rows<kGroups>(o, rows, i, g);
    for (; g < g1; ++g) dot_rows<1>(o, rows, i, g);
  }
}

#else  // not x86-64: never usable, never called

bool avx512_bf16_usable() { return false; }
void avx512_bf16_block(const Operands&, int, int, int, int) {}

#endif

}  // namespace strata::ops::bf16
