#!/usr/bin/env bash
# Benchmark: `git release create <new tag> --ref HEAD --tag-message M` against what
# plain git does for the same record (`git tag -a` + `git notes add`), best of 5
# (BENCH_RUNS), on three repositories:
#   tiny   one commit of three small files
#   real   REPO (or $BENCH_REPO) at TAG (or $BENCH_TAG, default v2.47.0 or HEAD), e.g. a
#          clone of git/git, used through a scratch repository that borrows its objects
#          (nothing is written to REPO); without REPO, a synthetic 6,000-file, ~60 MB tree
#   10x    a synthetic tree of 60,000 files (ten times a real project's file count)
# Target (issue 14): ratio <= 2 on each, and 10x no slower than real.
#
# usage: scripts/bench-create.sh [REPO [TAG]]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-5}
cargo build --release --quiet
bin=$PWD/target/release/git-release
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-create.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null TZ=UTC LC_ALL=C HOME=$work
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_RELEASE_NOW

# synthetic DIR FILES BYTES_PER_TEXT_FILE: a bare repository with one commit.
synthetic() {
  git init -q --bare "$1"
  python3 - "$2" "$3" <<'PY' | git --git-dir="$1" fast-import --quiet
import random, sys
files, size = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(7)
out = sys.stdout.buffer
out.write(b"commit refs/heads/main\ncommitter Bench <b@example.com> 1710135045 +0000\ndata 5\nbench\n")
for i in range(files):
    data = (b"line %d of file %d\n" % (rnd.randrange(1 << 30), i)) * max(1, rnd.randrange(size // 12, size // 6))
    out.write(b"M 100644 inline d%03d/s%02d/f%06d.c\ndata %d\n" % (i % 997, i % 31, i, len(data)))
    out.write(data + b"\n")
out.write(b"\n")
PY
  git --git-dir="$1" symbolic-ref HEAD refs/heads/main
}

repo_arg=${1:-${BENCH_REPO:-}}
tag=${2:-${BENCH_TAG:-}}
git init -q --bare "$work/tiny.git"
python3 - <<'PY' | git --git-dir="$work/tiny.git" fast-import --quiet
import sys
out = sys.stdout.buffer
out.write(b"commit refs/heads/main\ncommitter Bench <b@example.com> 1710135045 +0000\ndata 5\nbench\n")
for name in (b"README", b"main.c", b"Makefile"):
    out.write(b"M 100644 inline %s\ndata 6\nhello\n\n" % name)
PY
git --git-dir="$work/tiny.git" symbolic-ref HEAD refs/heads/main
if [ -n "$repo_arg" ]; then
  src=$(cd "$repo_arg" && git rev-parse --absolute-git-dir)
  if [ -z "$tag" ]; then
    tag=HEAD
    git --git-dir="$src" rev-parse -q --verify v2.47.0 >/dev/null && tag=v2.47.0
  fi
  # A scratch repository borrowing REPO's objects: HEAD = TAG's commit, no tags.
  git init -q --bare "$work/real.git"
  echo "$src/objects" > "$work/real.git/objects/info/alternates"
  git --git-dir="$work/real.git" update-ref refs/heads/main "$(git --git-dir="$src" rev-parse "$tag^{commit}")"
  git --git-dir="$work/real.git" symbolic-ref HEAD refs/heads/main
  real_name="real ($tag)"
else
  synthetic "$work/real.git" 6000 10000
  real_name="real (synthetic)"
fi
echo "building a 60,000-file tree ..." >&2
synthetic "$work/10x.git" 60000 1000

# best COMMAND...: best wall ms over $runs runs; the command gets the run number as $i.
ms() { local s e; s=$(date +%s%N); bash -c "$1"; e=$(date +%s%N); echo $(((e - s) / 1000000)); }

printf '%-18s %8s %10s %12s %7s\n' repository files ours_ms git_ms ratio
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   best of $runs" >&2
for name in tiny real 10x; do
  g=$work/$name.git
  files=$(git --git-dir="$g" ls-tree -r HEAD | wc -l)
  ob="" gb=""
  for i in $(seq "$runs"); do
    o=$(ms "GIT_DIR='$g' '$bin' -q create ours-$i --ref HEAD --tag-message M > /dev/null")
    # Plain git: an annotated tag and a note on a fresh commit (one with no note yet).
    c=$(git --git-dir="$g" commit-tree "HEAD^{tree}" -p HEAD -m "extra $i")
    t=$(ms "git --git-dir='$g' tag -a -m M git-$i $c && git --git-dir='$g' notes --ref=bench add -m M $c")
    if [ -z "$ob" ] || [ "$o" -lt "$ob" ]; then ob=$o; fi
    if [ -z "$gb" ] || [ "$t" -lt "$gb" ]; then gb=$t; fi
  done
  label=$name
  [ $name = real ] && label=$real_name
  printf '%-18s %8d %10d %12d %7s\n' "$label" "$files" "$ob" "$gb" \
    "$(awk -v a="$ob" -v b="$gb" 'BEGIN { printf "%.2f", a / b }')"
done
echo "(target: ratio <= 2 everywhere; 10x no slower than real)"
