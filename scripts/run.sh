#!/usr/bin/env bash
# The main job: sets up a bare Debian 12, builds strata, runs the paper's analysis
# (`strata analyze`) with the default model (assets/model) on the paper's own text, then
# builds the browser demo and serves it on 127.0.0.1.
#   scripts/run.sh [--text FILE] [--budget L] [--targets N|all | --span FROM:TO] [--no-serve] [-- ANALYZE-OPTIONS...]
# Default: every token of a stretch of The Adventures of Sherlock Holmes (assets/text/, held
# out from the model's training), the 2,048 targets after the first L tokens
# (--span L:L+2048), sequential and hierarchical access at L = 256 on shared passes: about
# 0.56M token-forwards, a few minutes on 2 cores. --targets N takes N targets in contiguous
# blocks; --targets all sweeps the whole text (the whole book: about 39M token-forwards, ~2 h).
# Any other text is --text FILE; options after -- go to `strata analyze` as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

text=assets/text/adventures.txt budget=256 targets="" span="" serve=1 port=${STRATA_PORT:-8080}
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --text) text=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --span) span=$2; shift 2 ;;
    --no-serve) serve=0; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run.sh: unknown option $1 (see the header of scripts/run.sh)" >&2; exit 2 ;;
  esac
done
if [[ -n $targets && -n $span ]]; then echo "run.sh: give --targets or --span, not both" >&2; exit 2; fi
[[ -z $targets && -z $span ]] && span="$budget:$((budget + 2048))"
if [[ -n $span ]]; then select=(--span "$span"); else select=(--targets "$targets"); fi

bash scripts/setup.sh
echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target strata_cli

# How OpenMP's workers wait (spin briefly or sleep) is the program's own choice, made from
# the machine's load when it starts (native/wait_policy.h); OMP_WAIT_POLICY, if set, wins.

name=$(basename "$text" .txt)
out=build/analysis/$name-L$budget
echo "== strata analyze: $text, budget $budget, ${select[*]}"
build/bin/strata analyze --model assets/model --text "$text" --budget "$budget" "${select[@]}" \
  --out "$out" --force "${extra[@]}"
echo
echo "Report: $out/report.html (summary.json, tokens.csv beside it)"

if [[ $serve -eq 1 ]]; then
  echo "== browser demo"
  bash scripts/build_web.sh build/web >/dev/null
  cp -r "$out" build/web/bin/analysis
  echo "The report is also served at http://127.0.0.1:$port/analysis/report.html"
  exec bash scripts/serve_web.sh build/web "$port"
fi
