// What the process launcher says about this process, read from the environment before
// MPI (if any) starts: Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE/RANK, PMIx launchers
// PMIX_RANK, Slurm and MPICH PMI_SIZE/PMI_RANK. Lets a build without MPI refuse to run as
// N unrelated copies, and lets every build keep non-first ranks quiet before MPI is up.
#pragma once

namespace strata::distributed {

struct LaunchInfo {
  int size = 1;   // processes the launcher started (1 when run directly)
  int rank = 0;   // this one's index among them
  bool launched() const { return size > 1 || rank > 0; }
};

LaunchInfo launch_info();

}  // namespace strata::distributed
