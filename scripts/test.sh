#!/usr/bin/env bash
# The test command: installs what a bare Debian 12 needs, builds, and runs every suite:
#   1. the GoogleTest suite under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan),
#      then every libFuzzer target for a bounded, seeded run (build/fuzz, clang)
#   2. the installed package, consumed by tests/consumer through find_package(strata)
#   3. the browser demo: WASM unit test and the Chromium end-to-end test (build/web)
#   4. the native suite (build/), incl. the PyTorch reference checks; its ctest summary
#      closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=2
export CTEST_OUTPUT_ON_FAILURE=1
# The suites require torch where CI runs: a missing torch fails instead of skipping.
export STRATA_REQUIRE_TORCH=1

echo "== sanitizers: build/asan"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON -DSTRATA_BUILD_NATIVE=OFF >/dev/null
cmake --build build/asan -j$jobs
# The PyTorch and tokenizer reference checks spawn Python and node (uninstrumented); they
# run in the native suite below. The kernels' scalar-reference checks run here too.
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build/asan -j$jobs -E 'Torch|TokenizerReference'

echo "== fuzz targets, a bounded run each: build/fuzz"
CC=clang-14 CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_FUZZ=ON \
  -DSTRATA_BUILD_NATIVE=OFF -DSTRATA_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j$jobs
ctest --test-dir build/fuzz -j$jobs

echo "== native build: build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PWD/build/install" >/dev/null
cmake --build build -j$jobs
cmake --install build >/dev/null

echo "== installed package: tests/consumer"
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer
ctest --test-dir build/consumer

echo "== browser demo: build/web"
bash scripts/build_web.sh build/web
ctest --test-dir build/web

echo "== native suite"
ctest --test-dir build -j$jobs
