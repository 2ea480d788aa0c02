#!/usr/bin/env bash
# strata analyze under mpirun (a build with STRATA_MPI): two ranks give the statistics and
# rows of one process (compare_analyses.py); bad input stops every rank before any work
# with one message; a rank that fails, or is killed, ends the job with an error and leaves
# no output directory (nor a temporary one) behind.
#   mpi_analyze_test.sh <strata binary> <mpiexec> <work dir>
set -euo pipefail
strata=$1
mpiexec=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
rm -rf "$work" && mkdir -p "$work"

mpi=("$mpiexec" -np 2 --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
# One OpenMP thread per rank: two ranks on a shared two-core machine.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
args=(analyze --model "$root/assets/model" --text "$root/assets/text/adventures.txt" --budget 32
      --span 32:224 --schedules sequential,hierarchical,dilated --by word --batch 16)

fail() { echo "mpi_analyze_test: $*"; exit 1; }

# 1. One process, then two ranks: the same summary and rows.
"$strata" "${args[@]}" --out "$work/one" >/dev/null 2>"$work/one.err" || { cat "$work/one.err"; fail "one process failed"; }
"${mpi[@]}" -x OMP_NUM_THREADS -x OMP_WAIT_POLICY "$strata" "${args[@]}" --out "$work/two" >"$work/two.out" 2>"$work/two.err" ||
  { cat "$work/two.err"; fail "two ranks failed"; }
python3 "$here/compare_analyses.py" "$work/one" "$work/two" || fail "two ranks differ from one process"
cmp -s "$work/one/words.csv" "$work/two/words.csv" || fail "words.csv differs"
python3 - "$work/two/summary.json" <<'PY' || fail "the distributed record is wrong"
import json, sys
d = json.load(open(sys.argv[1]))["distributed"]
assert d["ranks"] == 2, d
assert all(s["targets"] > 0 for s in d["shards"]), d
assert d["shards"][1]["bytes_sent"] > 0, d
PY
[[ $(grep -c "strata analyze: .* 2 ranks" "$work/two.err") -eq 1 ]] || fail "expected one plan line (rank 0's)"

# 2. Bad input: every rank finds it before any work; one message.
status=0
"${mpi[@]}" "$strata" "${args[@]/32:224/1:224}" --out "$work/bad" >/dev/null 2>"$work/bad.err" || status=$?
[[ $status -ne 0 ]] || fail "bad input did not fail"
[[ $(grep -c "strata: error:" "$work/bad.err") -eq 1 ]] || { cat "$work/bad.err"; fail "expected one error line for bad input"; }
grep -q "targets start at t = L" "$work/bad.err" || { cat "$work/bad.err"; fail "not the span's message"; }
[[ ! -e $work/bad ]] || fail "bad input left $work/bad"

# 3. Rank 1 fails after its first forward call: a clear error, no output, nothing temporary.
status=0
STRATA_TEST_FAIL_RANK=1 "${mpi[@]}" -x STRATA_TEST_FAIL_RANK "$strata" "${args[@]}" --out "$work/out-failed" \
  >/dev/null 2>"$work/failed.err" || status=$?
[[ $status -ne 0 ]] || fail "a failing rank did not fail the job"
grep -q "strata: error: rank 1: a fault injected" "$work/failed.err" || { cat "$work/failed.err"; fail "no clear error for the failing rank"; }
[[ $(grep -c "strata: error:" "$work/failed.err") -eq 1 ]] || { cat "$work/failed.err"; fail "expected one error line"; }
compgen -G "$work/out-failed*" >/dev/null && fail "a failing rank left output: $(ls -d "$work"/out-failed*)"

# 4. Rank 1 is killed (SIGKILL): mpirun ends the job; no output, nothing temporary.
status=0
STRATA_TEST_FAIL_RANK=1 STRATA_TEST_FAIL_MODE=kill "${mpi[@]}" -x STRATA_TEST_FAIL_RANK -x STRATA_TEST_FAIL_MODE \
  "$strata" "${args[@]}" --out "$work/out-killed" >/dev/null 2>"$work/killed.err" || status=$?
[[ $status -ne 0 ]] || fail "a killed rank did not fail the job"
grep -qi "signal 9\|killed" "$work/killed.err" || { cat "$work/killed.err"; fail "no word of the killed rank"; }
compgen -G "$work/out-killed*" >/dev/null && fail "a killed rank left output: $(ls -d "$work"/out-killed*)"
echo "mpi_analyze_test: ok"
