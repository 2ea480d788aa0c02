#!/usr/bin/env bash
# Builds the browser demo with Emscripten:
#   scripts/build_web.sh [build-dir] [cmake options...]
#     build-dir                 default build/web
#     -DSTRATA_WASM_SIMD=OFF    scalar WASM instead of SIMD128 (default ON)
#     -DCMAKE_BUILD_TYPE=Debug  unoptimized, with Emscripten's assertions
# Output in <build-dir>/bin: index.html, strata_demo.js/.wasm/.data and model/ (assets/model
# plus manifest.json, fetched by the page at run time). Then:
#   scripts/serve_web.sh [build-dir]                      serve it on 127.0.0.1:8080
#   ctest --test-dir <build-dir> --output-on-failure      WASM unit test + browser e2e test
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/web
if [[ $# -gt 0 && $1 != -* ]]; then build=$1; shift; fi

for f in third_party/imgui-src/imgui.cpp third_party/highway-src/hwy/targets.cc; do
  [[ -f $f ]] || { echo "build_web: $f is missing; run scripts/setup.sh first" >&2; exit 1; }
done
command -v emcmake >/dev/null || { echo "build_web: emcmake not found (apt-get install emscripten)" >&2; exit 1; }
node=$(command -v node || command -v nodejs) || { echo "build_web: node not found" >&2; exit 1; }

# Debian's emcc needs node to find acorn for -O1 and above (cmake/wasm.cmake sets it for the
# link too); a frozen cache means EM_CACHE must stay unset.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
unset EM_CACHE

generator=()
if command -v ninja >/dev/null && [[ ! -f $build/CMakeCache.txt ]]; then generator=(-G Ninja); fi

start=$(date +%s)
emcmake cmake -S . -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PROJECT_INCLUDE="$PWD/cmake/wasm.cmake" \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=$node;--no-experimental-fetch" \
  "$@"
cmake --build "$build" -j2
end=$(date +%s)

bin=$build/bin
echo
echo "build_web: built in $((end - start)) s ($(grep -o 'STRATA_WASM_SIMD:BOOL=[A-Z]*' "$build/CMakeCache.txt"))"
for f in "$bin"/strata_demo.wasm "$bin"/strata_demo.js "$bin"/strata_demo.data "$bin"/index.html; do
  [[ -f $f ]] && printf '  %-40s %8d bytes\n' "$f" "$(stat -c %s "$f")"
done
printf '  %-40s %s\n' "$bin/model/" "$(ls "$bin/model" | tr '\n' ' ')"
echo "serve: scripts/serve_web.sh $build"
echo "test:  ctest --test-dir $build --output-on-failure"
