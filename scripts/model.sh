#!/usr/bin/env bash
# The three-clone sharing model, long: CASES random sequences of up to STEPS operations
# each (release, link, milestone, freeze, evidence, fetch/push/sync, choices, plain
# `git tag`/`tag -f`/`tag -d`/`git push`, deletes with tags, retag, equal names and
# titles from two clones, crashes at named failpoints), three clones of one bare remote.
# Usage: scripts/model.sh [CASES] [STEPS]   (default 60 100)
# Prints the cases, the steps run and the time taken; a failure prints the shrunk
# sequence, to be pasted into a replay test in tests/it/model.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-60}
STEPS=${2:-100}
echo "full output: target/model-run.log"
PROPTEST_CASES=$CASES GIT_RELEASE_MODEL_STEPS=$STEPS \
    cargo test --locked --test it -- --ignored --exact \
    model::three_clones_sharing_at_random_long_run --nocapture 2>&1 |
    tee target/model-run.log |
    awk '/^model long run|panicked|^test result|FAILED/ { print } /minimal failing/ { shown = 1 } shown { print } /^\]/ { shown = 0 }'
