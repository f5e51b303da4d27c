#!/usr/bin/env bash
# run.sh -- run the OpenTelemetry JS peer benchmark: bash bench/peer-js/run.sh [--quick] [--reps N] ...
# Installs the pinned packages (npm ci) on first use; skips cleanly where node or npm is missing.
# Set OBS_BENCH_ENDPOINT=http://127.0.0.1:P/v1/traces to include the e2e case.
set -euo pipefail
src="${BASH_SOURCE[0]}"; [[ "$src" == */* ]] || src="./$src"
here="$(cd "${src%/*}" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "peer-js: skipped (node not found)" >&2
  exit 0
fi
ready() { [ -f "$here/node_modules/.package-lock.json" ] && ! [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; }
if ! ready; then                    # first run: install the pinned packages (one install at a time)
  (
    if command -v flock >/dev/null 2>&1; then flock -w 600 9 || exit 1; fi
    ready || (cd "$here" && npm ci --no-audit --no-fund --silent)
  ) 9>"${TMPDIR:-/tmp}/obs-peer-js-npm.lock" >&2 || { echo "peer-js: npm ci failed (try: cd $here && npm ci)" >&2; exit 1; }
fi
exec node "$here/bench.js" "$@"
