// How strata's programs (the CLI and strata-bench) make OpenMP wait: passively, unless the
// user chose. libgomp's workers spin at every barrier by default (~300k iterations before
// they sleep); when another process holds one of the cores, the thread that finished
// spins on its core while the one it waits for queues for the other, and a 2-thread
// forward ran ~100× slower than 1 thread on this project's 2-core machine (the issue's
// figures; scripts/bench_load.sh measures it). Sleeping waiters free their core for the
// straggler. libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main(): so the
// program sets it and executes itself again, once, first thing in main().
#pragma once
#include <cstdlib>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace strata::native {

// Returns only if the policy is already chosen (by the user, or by the first run) or the
// re-execution failed (then OpenMP's default stays, and the program runs as before).
inline void default_to_passive_waiting([[maybe_unused]] char** argv) {
#if defined(__linux__)
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
#endif
}

}  // namespace strata::native
