// Sweeps as bytes: the partial statistics of a sweep (SweepResult: streamed moments, Gram
// matrices, final surprisals, costs, all in double, bit for bit) and its rows, so the parts
// of one sweep run elsewhere (MPI ranks, other machines) can be sent to the process that
// writes the report, decoded and merged there in a fixed order (SweepResult::merge). The
// core knows nothing of how the bytes travel; native/distributed/ does.
//
//   std::string bytes = encode_sweep(part);          // on a worker
//   merged.merge(decode_sweep(bytes));               // on the writer, parts in target order
//
// The format is the host's own (native byte order and widths, checked on decoding): for
// processes of one build on machines of one architecture, and for the pieces one such
// build keeps on disk to resume from (strata analyze --pieces), not for an archive.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/sweep.h"

namespace strata {

std::string encode_sweep(const SweepResult& result);
// Throws strata::Error on bytes that are not one whole encode_sweep message of this format.
SweepResult decode_sweep(std::string_view bytes);

std::string encode_rows(std::span<const SweepRow> rows);
// Throws strata::Error on bytes that are not one whole encode_rows message of this format.
std::vector<SweepRow> decode_rows(std::string_view bytes);

}  // namespace strata
