#!/usr/bin/env bash
# Serves the built browser demo on 127.0.0.1 and prints the address to open:
#   scripts/serve_web.sh [build-dir] [port]      defaults: build/web 8080
# Build it first with scripts/build_web.sh. Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/web}
port=${2:-8080}
if [[ ! -f $build/bin/strata_demo.js ]]; then
  echo "serve_web: $build/bin/strata_demo.js not found; run scripts/build_web.sh $build first" >&2
  exit 1
fi
exec node web/tests/static_server.mjs "$build/bin" "$port"
