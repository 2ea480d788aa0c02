// The BF16 product on AMX tiles (Intel Sapphire Rapids and later): each TDPBF16PS multiplies
// a 16×32 tile of w (16 of its rows, as stored) by a 32×16 tile of xᵀ (16 rows of x in VNNI
// pairs) into a 16×16 float tile of yᵀ, 16384 FLOPs per instruction. A 2×2 block of
// accumulator tiles (tmm0–3) reuses every loaded tile of w (tmm4–5) and x (tmm6–7) twice. Linux hands out tile state only to processes that ask
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

#define STRATA_AMX_TARGET __attribute__((target("amx-tile,amx-bf16,avx512f")))

// LDTILECFG's 64-byte operand, palette 1: bytes per row and rows of each tile.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

bool cpu_has_amx_bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ((d >> 24) & 1) && ((d >> 22) & 1) && ((b >> 16) & 1);  // AMX-TILE, AMX-BF16, AVX512F
}

bool tile_permission_granted() {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// A 16×16 accumulator tile of yᵀ (rows: columns j.. of y; lanes: rows i.. of y) into y.
// Whole tiles are transposed in registers (bf16_kernels.h; every AMX CPU has AVX-512): a
// scalar transposition cost more than the tile's products at K = 256.
STRATA_AMX_TARGET void store_tile(const Operands& o, const float (*tile)[kTile], int i, int j) {
  if (i + kTile > o.M || j + kTile > o.N) {  // an edge: clipped, element by element
    for (int c = 0; c < kTile && j + c < o.N; ++c)
      for (int r = 0; r < kTile && i + r < o.M; ++r) {
        float& out = o.y[size_t(i + r) * o.N + j + c];
        out = o.accumulate ? out + tile[c][r] : tile[c][r];
      }
    return;
  }
  __m512 r[16];
  for (int k = 0; k < 16; ++k) r[k] = _mm512_load_ps(tile[k]);
  transpose16(r);
  for (int k = 0; k < 16; ++k) {
    float* out = o.y + size_t(i + k) * o.N + j;
    _mm512_storeu_ps(out, o.accumulate ? _mm512_add_ps(_mm512_loadu_ps(out), r[k]) : r[k]);
  }
}

// yᵀ for columns [j, j + 16·kNJ) × rows [i, i + 16·kMI) of y, over all of K: A tiles are 16
// rows of w (tmm4–5), B tiles 16 rows of x in pairs (tmm6–7), accumulators tmm0–3. Tile
// numbers are immediates, hence the template.
template <int kNJ, int kMI>
STRATA_AMX_TARGET void tile_block(const Operands& o, int i, int j) {
  const size_t pairs = size_t(o.Kp) / 2, w_stride = o.ldw * 2;
  const uint16_t* w0 = o.w + size_t(j) * o.ldw;
  const uint16_t* w1 = w0 + size_t(kTile) * o.ldw;
  const uint32_t* x0 = o.xp + size_t(i / kTile) * pairs * kTile;
  const uint32_t* x1 = x0 + pairs * kTile;
  _tile_zero(0);
  if constexpr (kMI == 2) _tile_zero(1);
  if constexpr (kNJ == 2) _tile_zero(2);
  if constexpr (kNJ == 2 && kMI == 2) _tile_zero(3);
  for (int k = 0; k < o.Kp; k += kKBlock) {
    const size_t p = size_t(k) / 2;
    _tile_loadd(4, w0 + k, w_stride);
    _tile_loadd(6, x0 + p * kTile, kTile * 4);
    _tile_dpbf16ps(0, 4, 6);
    if constexpr (kMI == 2) {
      _tile_loadd(7, x1 + p * kTile, kTile * 4);
      _tile_dpbf16ps(1, 4, 7);
    }
    if constexpr (kNJ == 2) {
      _tile_loadd(5, w1 + k, w_stride);
      _tile_dpbf16ps(2, 5, 6);
      if constexpr (kMI == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) float tile[kTile][kTile];
  _tile_stored(0, tile, kTile * 4);
  store_tile(o, tile, i, j);
  if constexpr (kMI == 2) {
    _tile_stored(1, tile, kTile * 4);
    store_tile(o, tile, i + kTile, j);
  }
  if constexpr (kNJ == 2) {
    _tile_stored(2, tile, kTile * 4);
    store_tile(o, tile, i, j + kTile);
    if constexpr (kMI == 2) {
      _tile_stored(3, tile, kTile * 4);
      store_tile(o, tile, i + kTile, j + kTile);
    }
  }
}

}  // namespace

bool amx_usable() {
  static const bool usable = cpu_has_amx_bf16() && tile_permission_granted();
  return usable;
}

STRATA_AMX_TARGET void amx_block(const Operands& o, int i0, int i1, int j0, int j1) {
  TileConfig config;
  for (int t = 0; t < 8; ++t) {  // every tile 16 rows × 64 bytes: 16×16 floats, 16×32 bf16 or 16×16 pairs
    config.rows[t] = kTile;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  for (int j = j0; j < j1; j += 2 * kTile) {
    const bool two_j = j + kTile < j1;
    for (int i = i0; i < i1; i += 2 * kTile) {
      const bool two_i = i + kTile < i1;
      if (two_j && two_i) tile_block<2, 2>(o, i, j);
      else if (two_j) tile_block<2, 1>(o, i, j);
      else if (two_i) tile_block<1, 2>(o, i, j);
      else tile_block<1, 1>(o, i, j);
    }
  }
  _tile_release();  // so a context switch need not save 8 KB of tile data
}

#else  // not x86-64 Linux: never usable, never called

bool amx_usable() { return false; }
void amx_block(const Operands&, int, int, int, int) {}

#endif

}  // namespace strata::ops::bf16
