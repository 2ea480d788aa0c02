// The processes that sweep one analysis together: this process alone (LocalTeam), or the
// ranks of an MPI job (mpi_team.cpp, built with STRATA_MPI). Rank 0 writes the report;
// every rank sweeps one cost-balanced shard of the targets (shard_targets) and sends its
// partial statistics and rows to rank 0 as bytes (sweep_wire.h). The protocol, so that a
// failure anywhere ends every rank with one message and no output:
//  * agree(): after the checks, before any work; a failure on any rank fails all of them.
//  * each rank other than 0 ends with exactly one terminal message to rank 0 (its part, or
//    its failure) and receives exactly one verdict from rank 0 (written, or stop). Rank 0
//    watches for failures while it sweeps and while it gathers, and on any failure sends
//    stop to every rank and waits for their terminal messages before it returns.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "strata/error.h"

namespace strata::distributed {

// Work counters of one rank, summed over the team for the one progress line.
struct TeamProgress {
  int64_t spent = 0, own = 0, done = 0;
  void add(const TeamProgress& o) {
    spent += o.spent;
    own += o.own;
    done += o.done;
  }
};

// What a rank sends to rank 0 at the end: its encoded sweep and rows, and its record.
struct TeamPart {
  std::string sweep, rows;  // encode_sweep, encode_rows
  double seconds = 0;       // its sweep's wall time
};

// Thrown on a rank told to stop because another failed: the message is rank 0's to print.
struct StoppedByTeam : Error {
  StoppedByTeam() : Error("stopped: another rank failed") {}
};

class Team {
 public:
  virtual ~Team() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Collective: `error` is this rank's failure so far ("" when none). When any rank failed,
  // throws strata::Error with the lowest failing rank's message on every rank.
  virtual void agree(const std::string& error) = 0;
  // After each forward call: this rank's counters. Rank 0 gets the team's sum so far (its own
  // counters with the latest the others sent) and throws strata::Error when another rank
  // failed; the others get their own and throw StoppedByTeam when rank 0 says stop.
  virtual TeamProgress progress(const TeamProgress& mine) = 0;
  // This rank's finished part. Rank 0 returns every rank's, in rank order, calling `tick`
  // with the team's counters while it waits (tick may throw, e.g. on Ctrl-C); it throws
  // strata::Error when a rank failed. The others send theirs and return {}.
  virtual std::vector<TeamPart> gather(TeamPart mine, const std::function<void(const TeamProgress&)>& tick) = 0;
  // Rank 0: the report is written; tells every other rank to end successfully.
  virtual void finish() = 0;
  // This rank failed (message) or was stopped (StoppedByTeam): rank 0 tells the others to
  // stop and waits for them; the others tell rank 0 (unless it told them) and wait for its verdict.
  virtual void fail(const std::string& message) = 0;
};

// The team this process belongs to: the MPI job when launched by mpirun with several
// processes in a build with MPI, else this process alone.
std::unique_ptr<Team> join_team();

}  // namespace strata::distributed
