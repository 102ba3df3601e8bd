#!/usr/bin/env bash
# Import benchmark: see scripts/bench_import.py. Usage: scripts/bench-import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 scripts/bench_import.py "$@"
