#!/usr/bin/env bash
# A fuzzing campaign a person starts: builds the libFuzzer targets (clang 14, ASan + UBSan,
# UB fatal) in build/fuzz and runs each for a while, keeping what it finds under the build
# directory. The test command runs the same targets briefly (ctest: fuzz.*).
#   scripts/fuzz.sh [--minutes M] [--jobs J] [target ...]     (default: 5 minutes each, 1 job, all targets)
# Corpus: build/fuzz/tests/fuzz/corpus/<target> (grows across campaigns; seeds in tests/fuzz/corpus).
# Crashes: build/fuzz/tests/fuzz/findings/<target>/crash-* (reproduce: build/fuzz/bin/<target>_fuzz FILE).
# At the end it prints the executions per target, the figure the README reports.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=5 jobs=1 targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1 (see the header of scripts/fuzz.sh)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

bash scripts/setup.sh
CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON \
  -DSTRATA_BUILD_NATIVE=OFF -DSTRATA_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j2
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in tests/fuzz/*_fuzz.cpp; do t=$(basename "$f" _fuzz.cpp); targets+=("$t"); done
fi

summary=()
for t in "${targets[@]}"; do
  bin=build/fuzz/bin/${t}_fuzz
  [[ -x $bin ]] || { echo "fuzz.sh: no target $t ($bin)" >&2; exit 2; }
  corpus=build/fuzz/tests/fuzz/corpus/$t findings=build/fuzz/tests/fuzz/findings/$t log=build/fuzz/logs/$t.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  echo "== $t: $minutes minutes, $jobs job(s); log $log"
  # -print_final_stats gives stat::number_of_executed_units, summed over jobs below. With
  # -jobs, libFuzzer writes each job's output to fuzz-<n>.log in the working directory.
  parallel=()
  [[ $jobs -gt 1 ]] && parallel=(-jobs="$jobs" -workers="$jobs")
  # -timeout: the tokenizer target loads its real tokenizers (33 MB for Gemma 3) on the first
  # encode-mode input, minutes under ASan.
  OMP_NUM_THREADS=1 "$bin" -max_total_time=$((minutes * 60)) -max_len=65536 -print_final_stats=1 -timeout=600 \
    "${parallel[@]}" -artifact_prefix="$findings/" -dict="tests/fuzz/$t.dict" \
    "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1 || true
  # With -jobs the parent's log already repeats its workers' final stats: count each
  # worker's own log once.
  counted=$log
  [[ $jobs -gt 1 ]] && counted=$(ls fuzz-*.log 2>/dev/null || true)
  execs=$(cat $counted /dev/null | grep -h 'stat::number_of_executed_units' | awk '{s += $2} END {print s + 0}')
  if [[ $jobs -gt 1 ]]; then cat fuzz-*.log >>"$log" 2>/dev/null || true; rm -f fuzz-*.log; fi
  crashes=$(find "$findings" -type f | wc -l)
  summary+=("$(printf '%-12s %12s executions  %5s corpus files  %s findings' "$t" "$execs" "$(ls "$corpus" | wc -l)" "$crashes")")
done
echo
echo "== campaign: $minutes minutes per target"
printf '%s\n' "${summary[@]}"
