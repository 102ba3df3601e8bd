#!/usr/bin/env bash
# The performance suite (benchmarks, not tests): prints tables of our timings beside
# plain git doing the least equivalent work, and how they scale with the number of
# releases.
#
#   scripts/bench.sh [REPO TAG]
#
# - store:    list / view / create at 1,000, 10,000 and 50,000 releases (BENCH_SIZES)
#             against git cat-file --batch, git notes show, git notes add
# - archives: tar, tar.gz, zip, tar.bz2 and --format all against git archive, on REPO at
#             TAG if given (e.g. a clone of git/git), else on a synthetic ~60 MB tree
# - verify:   verify --all on 1,000 releases, with and without --archives
set -euo pipefail
cd "$(dirname "$0")/.."
echo "### store"
# shellcheck disable=SC2086
scripts/bench-store.sh ${BENCH_SIZES:-1000 10000 50000}
echo
echo "### archives"
scripts/bench-archive.sh "$@"
if [ -x scripts/bench-verify.sh ]; then
  echo
  echo "### verify"
  scripts/bench-verify.sh
fi
