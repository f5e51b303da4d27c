#!/usr/bin/env bash
# run.sh -- check OTLP payloads against the OTLP protobuf schema: tests/interop/run.sh [check.js args]
# Installs the pinned packages (npm ci) on first use; skips cleanly where node or npm is missing.
set -euo pipefail
src="${BASH_SOURCE[0]}"; [[ "$src" == */* ]] || src="./$src"
here="$(cd "${src%/*}" && pwd)"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "interop: skipped (node not found)" >&2
  exit 0
fi
ready() { [ -f "$here/node_modules/.package-lock.json" ] && ! [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; }
if ! ready; then                    # first run: install the pinned packages (one install at a time)
  (
    if command -v flock >/dev/null 2>&1; then flock -w 600 9 || exit 1; fi
    ready || (cd "$here" && npm ci --no-audit --no-fund --silent)
  ) 9>"${TMPDIR:-/tmp}/obs-interop-npm.lock" >&2 || { echo "interop: npm ci failed (try: cd $here && npm ci)" >&2; exit 2; }
fi
exec node "$here/check.js" "$@"
