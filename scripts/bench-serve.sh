#!/usr/bin/env bash
# Load benchmark of `git release serve`: see scripts/bench_serve.py.
# Usage: scripts/bench-serve.sh [RELEASES [REQUESTS [CLIENTS]]]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 scripts/bench_serve.py "$@"
