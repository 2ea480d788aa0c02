// The pieces directory of `strata analyze --pieces N`: OUT.pieces beside --out keeps the
// sweep's finished pieces (each a TeamPart: its encoded statistics and rows, sweep_wire.h,
// and its wall time) so that a long run killed at any moment loses at most the piece in
// progress, and `--resume` goes on from the rest.
//   plan.json            the run's fingerprint: every file and option the pieces' bits depend on
//   piece-K-of-N.bin     piece K (1-based), written atomically when it is finished
// The directory appears whole (made as OUT.pieces.tmp-PID with its plan.json, then renamed),
// is reused only when asked (--resume) and when its plan.json is this run's, and is never
// deleted but by remove(), after the report is in place: it is the user's hours of compute.
// Piece files are for one build on one machine (sweep_wire.h's format is the host's own).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "distributed/team.h"

namespace strata::cli {

// What the pieces' bits depend on, as option -> value in the words of the command line
// ({"--budget": 256, "text hash": "…"}): written as plan.json, and compared key by key so
// that a mismatch names the option that differs.
using Fingerprint = nlohmann::ordered_json;

// A 64-bit FNV-1a hash as 16 hex digits: for fingerprints, not for security.
std::string content_hash(std::string_view bytes);

class PiecesDir {
 public:
  // OUT.pieces for `count` pieces: made when absent; when present, reused with `resume` if
  // its plan.json equals `fingerprint`, else refused. Throws strata::Error, one line that
  // says what to do ("…: made with --budget 256, not 128; remove it or match the options").
  PiecesDir(const std::string& out, int count, const Fingerprint& fingerprint, bool resume);

  const std::string& path() const { return dir_; }
  int count() const { return count_; }
  std::string piece_path(int k) const;  // k 0-based; the file says K = k + 1
  bool has(int k) const;
  void write(int k, const distributed::TeamPart& part) const;
  // Throws strata::Error when the file is not one whole piece of this run.
  distributed::TeamPart read(int k) const;
  void remove() const;  // every piece, once the report that merges them is in place

 private:
  std::string dir_;
  int count_;
  std::string plan_hash_;  // of plan.json: stamped into every piece, checked on reading
};

}  // namespace strata::cli
