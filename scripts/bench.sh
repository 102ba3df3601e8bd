#!/usr/bin/env bash
# The performance suite (benchmarks, not tests): everything issue 14 measures, each
# against plain git doing the least equivalent work, side by side in one run (best of
# BENCH_RUNS=5), with the ratio printed.
#
#   scripts/bench.sh [REPO [TAG]]        (or BENCH_REPO=… BENCH_TAG=… scripts/bench.sh)
#
# REPO is a real-sized repository (e.g. a clone of git/git; TAG defaults to v2.47.0 if
# it has it, else HEAD). Without one, the archive and create benchmarks build a
# synthetic tree of that size (6,000 files, ~60 MB of tar).
#
# - archives: tar, tar.gz, zip, tar.bz2 and --format all against git archive (wall,
#             CPU, peak PSS of both process trees)          scripts/bench-archive.sh
# - create:   create <new tag> --ref HEAD against git tag -a + git notes add, on a
#             tiny, the real-sized and a 10x tree            scripts/bench-create.sh
# - store:    list --json / view / create (existing tag) at 10,000 and 50,000 releases
#             (BENCH_SIZES) against git cat-file --batch, git notes show,
#             git notes add                                   scripts/bench-store.sh
# - verify:   verify --all with one evidence snapshot per release, in seconds per
#             1,000 releases (BENCH_VERIFY=N releases)        scripts/bench-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "### machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), $(git --version)"
echo
echo "### archives"
scripts/bench-archive.sh "$@"
echo
echo "### create"
scripts/bench-create.sh "$@"
echo
echo "### store"
# shellcheck disable=SC2086
scripts/bench-store.sh ${BENCH_SIZES:-10000 50000}
echo
echo "### verify"
scripts/bench-verify.sh "${BENCH_VERIFY:-1000}"
