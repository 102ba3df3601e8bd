#!/usr/bin/env bash
# Store benchmark: see scripts/bench_store.py. Usage: scripts/bench-store.sh [N ...]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 scripts/bench_store.py "$@"
