#!/usr/bin/env bash
# Load time, peak resident memory, forward latency and bits per token on the synthetic
# Gemma-2B (scripts/synthetic_gemma2b.py) at contexts 16 and 256, strata and PyTorch side by
# side in one run. `strata eval --ids` over n+1 token ids with --context n --bos never runs
# exactly one forward pass of n tokens; its "seconds" is that pass, and the rest of the wall
# time (from /usr/bin/time -v) is loading. scripts/torch_gemma2b.py runs the same pass through
# the project's PyTorch reference, weights in BF16 as stored, computing in BF16 (as
# transformers would) and then in float32 widened on use (as strata's kernels do).
#   scripts/measure_gemma2b.sh [build dir] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-2}
model=$build/gemma2b-synthetic
[ -f "$model/model.safetensors.index.json" ] || /usr/bin/python3 scripts/synthetic_gemma2b.py "$model"
field() { /usr/bin/python3 -c "import json; print('%.${3:-2}f' % json.load(open('$1'))['$2'])"; }
echo "load average before: $(uptime | sed 's/.*load average: //')"
for n in 16 256; do
  ids=$build/gemma2b-ids-$n.json
  /usr/bin/python3 -c "import random; random.seed($n); print([random.randrange(256000) for _ in range($n + 1)])" > "$ids"
  log=$build/gemma2b-time-$n.txt
  /usr/bin/time -v "$build/bin/strata" --threads "$threads" eval --model "$model" --ids "$ids" --context "$n" \
    --bos never --json > "$build/gemma2b-eval-$n.json" 2> "$log"
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  cpu=$(grep -E "(User|System) time" "$log" | awk '{s += $NF} END {print s}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "context $n, strata: wall $wall (CPU $cpu s, load + forward), forward $(field "$build/gemma2b-eval-$n.json" seconds) s," \
    "peak RSS $((rss / 1024)) MiB, $(field "$build/gemma2b-eval-$n.json" bits_per_token 6) bits/token"
  for compute in bf16 f32; do
    out=$build/gemma2b-torch-$compute-$n.json
    /usr/bin/python3 scripts/torch_gemma2b.py "$model" "$ids" "$n" --threads "$threads" --compute "$compute" > "$out"
    echo "context $n, torch $compute: load $(field "$out" load_seconds) s (CPU $(field "$out" load_cpu_seconds) s)," \
      "forward $(field "$out" forward_seconds) s (CPU $(field "$out" forward_cpu_seconds) s)," \
      "peak RSS $(field "$out" peak_rss_mib 0) MiB, $(field "$out" bits_per_token 6) bits/token"
  done
done
# The analysis itself: 3 targets of the hierarchical schedule at L = 256, from ids (the
# synthetic model has no tokenizer).
ids=$build/gemma2b-ids-600.json
/usr/bin/python3 -c "import random; random.seed(7); print([random.randrange(256000) for _ in range(600)])" > "$ids"
log=$build/gemma2b-analyze-time.txt
/usr/bin/time -v "$build/bin/strata" --threads "$threads" analyze --model "$model" --ids "$ids" --budget 256 --targets 3 \
  --schedules hierarchical --bos never --force --out "$build/gemma2b-analyze" 2> "$log" > /dev/null
grep "strata analyze:" "$log" | head -1
echo "analyze, strata: wall $(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')," \
  "peak RSS $(( $(grep "Maximum resident set size" "$log" | awk '{print $NF}') / 1024 )) MiB"
echo "load average after: $(uptime | sed 's/.*load average: //')"
