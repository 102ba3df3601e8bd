#!/bin/sh
# Creates a release on every tag of a real repository (a copy of it: nothing is written
# to the one given), then lists, views, verifies and serves them all, and prints what it
# measured. The repository's signed tags are signed by keys this machine does not hold:
# exactly the case of a release made on a clone of a project that signs its tags.
#
#   scripts/corpus.sh /path/to/ripgrep.git      # any git directory or work tree
#
# Runs the ignored test corpus::a_release_on_every_tag_of_a_real_repository.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 <git directory of a repository with many tags>" >&2
    exit 2
fi
GIT_RELEASE_CORPUS=$(cd "$1" && pwd)
export GIT_RELEASE_CORPUS
cd "$(dirname "$0")/.."
exec cargo test --locked --test it -- --ignored --exact \
    corpus::a_release_on_every_tag_of_a_real_repository --nocapture
