#!/usr/bin/env bash
# strata beside the user's own llama.cpp build on the same model (llama.cpp is never a
# dependency of the project: this script takes the path of a checkout with a build).
#   scripts/bench_llama_cpp.sh LLAMA_CPP_DIR [--model DIR] [--quick]
# Converts the model directory to GGUF, F32 and F16, with the checkout's own gguf-py
# (native/bench/to_gguf.py); checks that llama.cpp scores a text as strata does
# (llama-perplexity beside `strata eval` on the same token ids); runs llama-bench
# (pp 16, 64, 256 and tg 128 on 1 and 2 threads) and the matching strata-bench cases in
# the same run; writes build/bench/llama_cpp.md (--quick: fewer repetitions, noisier).
# Needs llama-bench, llama-perplexity and llama-tokenize under LLAMA_CPP_DIR/build/bin,
# and python3-numpy and python3-torch (scripts/setup.sh installs both).
set -euo pipefail

die() { echo "bench_llama_cpp.sh: $*" >&2; exit 1; }
[[ $# -ge 1 && $1 != -* ]] || die "usage: scripts/bench_llama_cpp.sh LLAMA_CPP_DIR [--model DIR] [--quick]"
[[ -d $1 ]] || die "$1: no such directory (expected a llama.cpp checkout)"
llama=$(cd "$1" && pwd)
shift
model=assets/model
min_time=0.5 reps=5
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) [[ $# -ge 2 ]] || die "--model needs a directory"; model=$(cd "$2" 2>/dev/null && pwd) || die "$2: no such directory"; shift 2 ;;
    --quick) min_time=0.1 reps=2; shift ;;
    *) die "unknown option $1 (usage: LLAMA_CPP_DIR [--model DIR] [--quick])" ;;
  esac
done
cd "$(dirname "$0")/.."

bin=$llama/build/bin
for tool in llama-bench llama-perplexity llama-tokenize; do
  [[ -x $bin/$tool ]] || die "$bin/$tool not found; build it with: cmake -S $llama -B $llama/build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF && cmake --build $llama/build -j --target llama-bench llama-perplexity llama-tokenize"
done
[[ -f $llama/gguf-py/gguf/gguf_writer.py ]] || die "$llama/gguf-py/gguf/gguf_writer.py not found (is $llama a llama.cpp source checkout?)"
/usr/bin/python3 -c 'import numpy, torch' 2>/dev/null || die "needs python3-numpy and python3-torch (run scripts/setup.sh)"
text=assets/text/adventures.txt
[[ -f $text ]] || die "$text not found (the benchmark text)"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target strata_bench strata_cli
out=build/bench/llama_cpp
mkdir -p "$out"

echo "== GGUF F32 and F16 ($out/model-f32.gguf, model-f16.gguf)"
for dtype in f32 f16; do
  /usr/bin/python3 native/bench/to_gguf.py --model "$model" --gguf-py "$llama/gguf-py" --dtype $dtype --out "$out/model-$dtype.gguf"
done

echo "== agreement: llama-perplexity beside strata eval on llama-tokenize's ids"
context=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["max_position_embeddings"])' "$model/config.json")
head -c 16384 "$text" > "$out/text.txt"  # ~18 chunks of 256 tokens on the default model
"$bin/llama-tokenize" -m "$out/model-f32.gguf" -f "$out/text.txt" --ids --log-disable > "$out/ids.json"
for dtype in f32 f16; do
  "$bin/llama-perplexity" -m "$out/model-$dtype.gguf" -f "$out/text.txt" -c "$context" -t 2 > "$out/perplexity-$dtype.log" 2>&1 ||
    die "llama-perplexity failed on $out/model-$dtype.gguf (see $out/perplexity-$dtype.log)"
done
/usr/bin/python3 native/bench/peer_llama_cpp.py agree --strata build/bin/strata --model "$model" --text "$out/text.txt" --ids "$out/ids.json" \
  --context "$context" --perplexity "$out/perplexity-f32.log" "$out/perplexity-f16.log" > "$out/agree.json"
cat "$out/agree.json"

echo "== strata-bench ($out/strata.json)"
build/bin/strata-bench --model="$model" --text="$text" --benchmark_filter='^(forward(_as_stored)?/B:1/T:(16|64|256)/|decode(_as_stored)?/prompt:1/)' \
  --benchmark_min_time="$min_time" --benchmark_out="$out/strata.json" --benchmark_out_format=json
for dtype in f32 f16; do
  echo "== llama-bench ${dtype^^} ($out/llama-bench-$dtype.json)"
  "$bin/llama-bench" -m "$out/model-$dtype.gguf" -p 16,64,256 -n 128 -t 1,2 -r "$reps" -o json > "$out/llama-bench-$dtype.json"
done

cpu=$(lscpu | sed -n 's/^Model name: *//p')
isa=$(grep -m1 -ow -E 'avx2|avx512f|avx512_bf16|avx512_fp16|amx_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
header="Machine: $cpu, $(nproc) hardware threads; ISA: ${isa% }. llama.cpp $(git -C "$llama" rev-parse --short HEAD 2>/dev/null || echo '(not a git checkout)'), \
strata $(git describe --always --dirty). Load average (1, 5, 15 min) $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after."
/usr/bin/python3 native/bench/peer_llama_cpp.py table --strata "$out/strata.json" \
  --llama "$out/llama-bench-f32.json" "$out/llama-bench-f16.json" --agree "$out/agree.json" --header "$header" > build/bench/llama_cpp.md
cat build/bench/llama_cpp.md
echo "== table in build/bench/llama_cpp.md"
