#!/usr/bin/env bash
# Group figures: `serve --root` over 1,000 repositories × 100 releases (see
# scripts/bench_groups.py, scripts/make-group-root.py).
# Usage: scripts/bench-groups.sh [--root DIR] [--repos N] [--releases N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
exec python3 scripts/bench_groups.py "$@"
