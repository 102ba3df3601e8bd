#!/usr/bin/env bash
# Create benchmark: see scripts/bench_create.py. Usage: scripts/bench-create.sh [REPO]
#   REPO: a real repository to release on (cloned --shared, never written to), e.g. a
#         clone of git/git; without it a synthetic tree of that size is built.
# BENCH_RUNS (default 5) and BENCH_RELEASES (default 10000) adjust the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 scripts/bench_create.py "$@"
