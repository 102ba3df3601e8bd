#!/usr/bin/env bash
# Hostile-content CPU benchmark of `git release serve`: see scripts/bench_hostile.py.
# Usage: scripts/bench-hostile.sh [SIZE]   (GIT_RELEASE_BIN=… to measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GIT_RELEASE_BIN:-}" ]; then
  cargo build --release --locked --quiet
fi
exec python3 scripts/bench_hostile.py "$@"
