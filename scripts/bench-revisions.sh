#!/usr/bin/env bash
# What a commit id costs `git release serve`: see scripts/bench_revisions.py.
# Usage: scripts/bench-revisions.sh REPO   (GIT_RELEASE_BIN=… to measure another build)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GIT_RELEASE_BIN:-}" ]; then
  cargo build --release --locked --quiet
fi
exec python3 scripts/bench_revisions.py "$@"
