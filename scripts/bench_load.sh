#!/usr/bin/env bash
# strata's forward under load: the same benchmark rows with 0, 1 and 2 busy loops beside
# them (one process each, spinning for the whole run), so the thread pool's behaviour when
# a core is taken is a figure beside the idle one, from one build and one sitting.
#   scripts/bench_load.sh [strata-bench flags...]   (default: forward at T = 16 and 64)
# threads:0 rows run on the thread count strata-bench chose when it started, as every
# strata program chooses (native/wait_policy.h: the cores the busy loops leave free).
# Extra environment (e.g. OMP_WAIT_POLICY=active) is passed through to strata-bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=build/bin/strata-bench
[[ -x $bench ]] || { echo "build strata-bench first (cmake --build build --target strata_bench)" >&2; exit 1; }
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--benchmark_filter='^forward/B:1/T:(16|64)/' --benchmark_min_time=0.3)

busy=()
stop_busy() { for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done; busy=(); }
trap stop_busy EXIT
for loops in 0 1 2; do
  stop_busy
  for ((i = 0; i < loops; ++i)); do
    bash -c 'while :; do :; done' &
    busy+=($!)
  done
  echo "== $loops busy loop(s); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bench" "${args[@]}" 2>/dev/null | grep -E '^forward' | awk '{printf "%-45s %10s %s\n", $1, $2, $3}'
done
