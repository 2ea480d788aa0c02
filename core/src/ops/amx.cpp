// The BF16 product on AMX tiles (Intel Sapphire Rapids and later): each TDPBF16PS multiplies
// a 16×32 tile of x by a 32×16 tile of w (VNNI pairs) into a 16×16 float tile, 16384 FLOPs
// per instruction. A 2×2 block of accumulator tiles (tmm0–3) reuses every loaded tile of x
// (tmm4–5) and of w (tmm6–7) twice. Linux hands out tile state only to processes that ask
// (arch_prctl ARCH_REQ_XCOMP_PERM), so amx_usable() asks once and says no when refused.
#include "ops/bf16_kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__)
#define STRATA_HAVE_AMX 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace strata::ops::bf16 {

#ifdef STRATA_HAVE_AMX
namespace {

#define STRATA_AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

// LDTILECFG's 64-byte operand, palette 1: bytes per row and rows of each tile.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

bool cpu_has_amx_bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((d >> 24) & 1) && ((d >> 22) & 1);  // AMX-TILE, AMX-BF16
}

bool tile_permission_granted() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// Accumulator tile t (of the kMI × kNG block) written to y, clipped to M × N.
void store_tile(const Operands& o, const float (*tile)[kGroup], int i, int j) {
  for (int r = 0; r < kRowBlock && i + r < o.M; ++r) {
    float* out = o.y + size_t(i + r) * o.N;
    for (int c = 0; c < kGroup && j + c < o.N; ++c) out[j + c] = o.accumulate ? out[j + c] + tile[r][c] : tile[r][c];
  }
}

// Rows [i, i + 16·kMI) × groups [g, g + kNG), over all of K. Tile numbers are immediates.
template <int kMI, int kNG>
STRATA_AMX_TARGET void tile_block(const Operands& o, int i, int g) {
  const size_t pairs = size_t(o.Kp) / 2, a_stride = size_t(o.Kp) * 2;
  const uint16_t* a0 = o.a + size_t(i) * o.Kp;
  const uint16_t* a1 = a0 + size_t(kRowBlock) * o.Kp;
  const uint32_t* b0 = o.b + size_t(g) * pairs * kGroup;
  const uint32_t* b1 = b0 + pairs * kGroup;
  _tile_zero(0);
  if constexpr (kNG == 2) _tile_zero(1);
  if constexpr (kMI == 2) _tile_zero(2);
  if constexpr (kMI == 2 && kNG == 2) _tile_zero(3);
  for (int k = 0; k < o.Kp; k += kKBlock) {
    const size_t p = size_t(k) / 2;
    _tile_loadd(4, a0 + k, a_stride);
    _tile_loadd(6, b0 + p * kGroup, kGroup * 4);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (kNG == 2) {
      _tile_loadd(7, b1 + p * kGroup, kGroup * 4);
      _tile_dpbf16ps(1, 4, 7);
    }
    if constexpr (kMI == 2) {
      _tile_loadd(5, a1 + k, a_stride);
      _tile_dpbf16ps(2, 5, 6);
      if constexpr (kNG == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) float tile[kRowBlock][kGroup];
  const int j0 = g * kGroup, j1 = j0 + kGroup;
  _tile_stored(0, tile, kGroup * 4);
  store_tile(o, tile, i, j0);
  if constexpr (kNG == 2) {
    _tile_stored(1, tile, kGroup * 4);
    store_tile(o, tile, i, j1);
  }
  if constexpr (kMI == 2) {
    _tile_stored(2, tile, kGroup * 4);
    store_tile(o, tile, i + kRowBlock, j0);
    if constexpr (kNG == 2) {
      _tile_stored(3, tile, kGroup * 4);
      store_tile(o, tile, i + kRowBlock, j1);
    }
  }
}

}  // namespace

bool amx_usable() {
  static const bool usable = cpu_has_amx_bf16() && tile_permission_granted();
  return usable;
}

STRATA_AMX_TARGET void amx_block(const Operands& o, int i0, int i1, int g0, int g1) {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {  // every tile 16 rows × 64 bytes: C (16×16 float), A (16×32 bf16), B (16 pairs × 16)
    config.rows[t] = kRowBlock;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  for (int i = i0; i < i1; i += 2 * kRowBlock) {
    const bool two_rows = i + kRowBlock < i1;
    for (int g = g0; g < g1; g += 2) {
      const bool two_groups = g + 1 < g1;
      if (two_rows && two_groups) tile_block<2, 2>(o, i, g);
      else if (two_rows) tile_block<2, 1>(o, i, g);
      else if (two_groups) tile_block<1, 2>(o, i, g);
      else tile_block<1, 1>(o, i, g);
    }
  }
  _tile_release();  // so a context switch need not save 8 KB of tile data
}

#else  // not x86-64 Linux: never usable, never called

bool amx_usable() { return false; }
void amx_block(const Operands&, int, int, int, int) {}

#endif

}  // namespace strata::ops::bf16
