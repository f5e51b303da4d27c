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
if [ ! -f "$here/node_modules/.package-lock.json" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent) >&2 || { echo "interop: npm ci failed" >&2; exit 2; }
fi
exec node "$here/check.js" "$@"
