// Fuzz target: the sweep's wire format (sweep_wire.h), which MPI ranks send and which
// `strata analyze --pieces` keeps on disk and reads back on --resume. The first byte picks
// the message (even: a sweep's statistics, odd: its rows), the rest is the message.
// Invariants: a refusal is a strata::Error; an accepted message re-encodes to bytes that
// decode to the same encoding again.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "strata/sweep_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      const std::string once = strata::encode_sweep(strata::decode_sweep(bytes));
      STRATA_FUZZ_CHECK(strata::encode_sweep(strata::decode_sweep(once)) == once);
    } else {
      const std::string once = strata::encode_rows(strata::decode_rows(bytes));
      STRATA_FUZZ_CHECK(strata::encode_rows(strata::decode_rows(once)) == once);
    }
  } catch (const strata::Error&) {
  }
  return 0;
}
