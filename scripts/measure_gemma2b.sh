#!/usr/bin/env bash
# Load time, peak resident memory and forward latency of strata on the synthetic Gemma-2B
# (scripts/synthetic_gemma2b.py), at contexts 16 and 256. `strata eval --ids` over n+1
# token ids with --context n runs exactly one forward pass of n tokens; its "seconds" is
# that pass, and the rest of the wall time (from /usr/bin/time -v) is loading.
#   scripts/measure_gemma2b.sh [build dir] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
model=$build/gemma2b-synthetic
[ -f "$model/model.safetensors.index.json" ] || /usr/bin/python3 scripts/synthetic_gemma2b.py "$model"
for n in 16 256; do
  ids=$build/gemma2b-ids-$n.json
  /usr/bin/python3 -c "import random; random.seed($n); print([random.randrange(256000) for _ in range($n + 1)])" > "$ids"
  log=$build/gemma2b-time-$n.txt
  /usr/bin/time -v "$build/bin/strata" --threads "$threads" eval --model "$model" --ids "$ids" --context "$n" --json \
    > "$build/gemma2b-eval-$n.json" 2> "$log"
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  fwd=$(/usr/bin/python3 -c "import json; print('%.2f' % json.load(open('$build/gemma2b-eval-$n.json'))['seconds'])")
  echo "context $n: wall $wall, forward ${fwd} s, peak RSS $((rss / 1024)) MiB"
done
