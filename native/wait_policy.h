// How strata's programs (the CLI and strata-bench) make OpenMP wait at its barriers,
// unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT). Two costs pull apart:
// - with a core taken by another process, a waiter that spins holds its core while the
//   thread it waits for queues for the other: libgomp's default (~300k spins before it
//   sleeps) made a 2-thread forward ~100× slower than 1 thread on this project's 2-core
//   machine, and even 10,000 spins made it 4× slower at context 16; sleeping waiters
//   (OMP_WAIT_POLICY=PASSIVE) free the core for the straggler;
// - on an idle machine every barrier of a sleeping pool pays a futex wake-up: decoding
//   (one row, ~50 small parallel regions per token) ran 705 tokens/s on 2 threads with
//   PASSIVE and 1237 with 10,000 spins.
// So the program looks before it starts: on an idle machine (no other task runnable) the
// waiters spin briefly (kIdleSpinCount) and then sleep; otherwise they sleep at once, and
// the pool takes only the cores the other tasks leave (at least one): even sleeping, 2
// threads beside one busy loop ran a context-16 forward in 4.9 ms where 1 thread took 3.3,
// every region waiting for the thread queued behind the busy core. A load that arrives
// later meets the brief spin: bounded, not libgomp's default. libgomp reads its settings
// once, when it is loaded, before main(): so the program sets them and executes itself
// again, once, first thing in main(). The user's OMP_NUM_THREADS, OMP_WAIT_POLICY or
// GOMP_SPINCOUNT, and --threads, win.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <omp.h>

#if defined(__linux__)
#include <time.h>
#include <unistd.h>
#endif

namespace strata::native {

inline constexpr const char* kIdleSpinCount = "10000";

#if defined(__linux__)
// This process's threads that are runnable now (a library's pool starting up, such as
// OpenBLAS's in strata-bench, counts in procs_running too).
inline int own_runnable_threads() {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t end_of_name = line.rfind(')');  // the name may hold spaces
    if (end_of_name != std::string::npos && end_of_name + 2 < line.size() && line[end_of_name + 2] == 'R') ++n;
  }
  return n;
}
#endif

// Tasks of other processes runnable now, the fewest of five samples of /proc/stat's
// procs_running over ~10 ms: a busy process is in every sample, a pipeline's grep
// starting beside us is not. -1 when it cannot be read.
inline int other_runnable_tasks() {
  int fewest = -1;
#if defined(__linux__)
  for (int sample = 0; sample < 5; ++sample) {
    std::ifstream stat("/proc/stat");
    std::string key;
    long value = 0;
    while (stat >> key) {
      if (key == "procs_running" && stat >> value) {
        const int others = std::max(0, int(value) - own_runnable_threads());
        fewest = fewest < 0 ? others : std::min(fewest, others);
        break;
      }
      stat.ignore(1 << 20, '\n');
    }
    const timespec pause{0, 2'000'000};
    nanosleep(&pause, nullptr);
  }
#endif
  return fewest;
}

// Returns only if the policy is already chosen (by the user, or by the first run) or the
// re-execution failed (then OpenMP's default stays, and the program runs as before).
inline void choose_omp_waiting([[maybe_unused]] char** argv) {
#if defined(__linux__)
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  const int others = other_runnable_tasks();
  if (others == 0) {
    setenv("GOMP_SPINCOUNT", kIdleSpinCount, 1);
  } else {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    if (others > 0 && !std::getenv("OMP_NUM_THREADS"))
      setenv("OMP_NUM_THREADS", std::to_string(std::max(1, omp_get_num_procs() - others)).c_str(), 1);
  }
  execv("/proc/self/exe", argv);
#endif
}

}  // namespace strata::native
