#!/usr/bin/env bash
# Benchmark: `git release archive` against plain `git archive` (not a test).
#
# usage: scripts/bench-archive.sh [REPO [TAG]]
#   REPO (or $BENCH_REPO): a git repository, bare or not, e.g. a clone of git/git;
#   TAG (or $BENCH_TAG): what to archive (default: v2.47.0 if REPO has it, else HEAD).
#   With neither, a synthetic tree of a real project's size is built first (6,000
#   files, ~60 MB of tar; BENCH_SCALE=N makes the text files N times longer).
#   BENCH_RUNS=N changes the 5 runs. BENCH_BUSY=1 keeps one core busy with a spinning
#   process for the whole run (the targets must hold on a busy machine too).
#
# Prints, best of 5 runs each (git and ours alternating, so both see the same
# background load), wall time and CPU time (user + system, children included) and
# our wall time / git's for tar, tar.gz, zip and tar.bz2 (git: `git archive | bzip2`),
# and `--format all` against the four git commands one after another; then the peak
# PSS of each whole process tree (ours, git's) per format. Every archive is checked
# to be byte-identical to git's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${BENCH_RUNS:-5}

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_ATTR_NOSYSTEM=1 TZ=UTC LC_ALL=C
unset GIT_DIR GIT_WORK_TREE

cargo build --release --quiet
bin=$root/target/release/git-release
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-archive.XXXXXX")
busy=""
trap 'rm -rf "$work"; if [ -n "$busy" ]; then kill "$busy"; fi' EXIT
if [ "${BENCH_BUSY:-0}" = 1 ]; then
  # One process spinning on a core, as another build or test run would.
  bash -c 'while :; do :; done' &
  busy=$!
fi

repo_arg=${1:-${BENCH_REPO:-}}
tag=${2:-${BENCH_TAG:-}}
if [ -n "$repo_arg" ]; then
  repo=$(cd "$repo_arg" && git rev-parse --absolute-git-dir)
  if [ -z "$tag" ]; then
    tag=HEAD
    git --git-dir="$repo" rev-parse -q --verify v2.47.0 >/dev/null && tag=v2.47.0
  fi
else
  echo "building a synthetic tree in $work/synthetic.git ..." >&2
  repo=$work/synthetic.git
  git init -q --bare "$repo"
  BENCH_SCALE=${BENCH_SCALE:-1} python3 - <<'PY' | git --git-dir="$repo" fast-import --quiet
import os, random, sys
scale = int(os.environ["BENCH_SCALE"])
rnd = random.Random(42)
out = sys.stdout.buffer
words = [b"alpha", b"beta", b"gamma", b"delta", b"archive", b"release", b"tree", b"blob",
         b"commit", b"struct", b"return", b"if", b"else", b"for", b"while", b"{", b"}", b";"]
out.write(b"commit refs/heads/main\ncommitter Bench <b@example.com> 1710135045 +0000\ndata 5\nbench\n")
for i in range(6000):
    d = "dir%02d/sub%02d" % (rnd.randrange(60), rnd.randrange(20))
    if i % 50 == 0:
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1000, 60000)))
        name = "%s/blob%05d.bin" % (d, i)
    else:
        lines = []
        for _ in range(rnd.randrange(20, 400) * scale):
            lines.append(b" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 14))))
        data = b"\n".join(lines) + b"\n"
        name = "%s/file%05d.c" % (d, i)
    mode = b"100755" if i % 97 == 0 else b"100644"
    out.write(b"M %s inline %s\ndata %d\n" % (mode, name.encode(), len(data)))
    out.write(data + b"\n")
out.write(b"\n")
out.write(b"tag v1.0\nfrom refs/heads/main\ntagger Bench <b@example.com> 1710135045 +0000\ndata 4\nv1.0\n")
PY
  # Packed as a clone would have it (deltas, one pack), not as fast-import left it.
  git --git-dir="$repo" repack -adq
  tag=v1.0
fi
prefix="bench/"
cd "$work"

# run COMMAND: "wall_ms cpu_ms" of one run of a shell command string (cpu: user +
# system of the command and everything it waited for).
run() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" bash -c "$1"
  awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }' "$work/time"
}

# pair GIT_COMMAND OUR_COMMAND: "git_wall git_cpu our_wall our_cpu", each the best of
# $runs rounds; the two are run alternately so both see the same background load.
pair() {
  local gw="" gc="" ow="" oc="" w c
  for _ in $(seq "$runs"); do
    read -r w c < <(run "$1")
    if [ -z "$gw" ] || [ "$w" -lt "$gw" ]; then gw=$w; fi
    if [ -z "$gc" ] || [ "$c" -lt "$gc" ]; then gc=$c; fi
    read -r w c < <(run "$2")
    if [ -z "$ow" ] || [ "$w" -lt "$ow" ]; then ow=$w; fi
    if [ -z "$oc" ] || [ "$c" -lt "$oc" ]; then oc=$c; fi
  done
  echo "$gw $gc $ow $oc"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }

git_cmd() { # format -> command writing git.$format
  case $1 in
    tar.bz2) echo "git --git-dir='$repo' archive --format=tar --prefix='$prefix' '$tag' | bzip2 -c > git.tar.bz2" ;;
    *) echo "git --git-dir='$repo' archive --format=$1 --prefix='$prefix' '$tag' > git.$1" ;;
  esac
}
our_cmd() {
  echo "GIT_DIR='$repo' '$bin' archive '$tag' -q --force --prefix='$prefix' --format $1 -o ours.$1 > /dev/null"
}
our_all="GIT_DIR='$repo' '$bin' archive '$tag' -q --force --prefix='$prefix' --format all --output-dir all > /dev/null"
git_all="$(git_cmd tar); $(git_cmd tar.gz); $(git_cmd zip); $(git_cmd tar.bz2)"

files=$(git --git-dir="$repo" ls-tree -r "$tag" | wc -l)
printf '%s %s (%s): %d files\n' "$(git --git-dir="$repo" rev-parse --short "$tag^{commit}")" "$tag" "$repo" "$files"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)   best of $runs${busy:+   one core kept busy}"
printf '%-8s %12s %9s %9s %9s %9s %7s %9s  %s\n' format archive_bytes git_ms ours_ms git_cpu ours_cpu ratio cpu_ratio identical
for f in tar tar.gz zip tar.bz2 all; do
  if [ $f = all ]; then
    read -r gw gc ow oc < <(pair "$git_all" "$our_all")
    same=yes
    for g in tar tar.gz zip tar.bz2; do cmp -s git.$g all/*."$g" || same=no; done
    size=$(cat all/* | wc -c)
  else
    read -r gw gc ow oc < <(pair "$(git_cmd $f)" "$(our_cmd $f)")
    same=no; cmp -s git.$f ours.$f && same=yes
    size=$(wc -c < git.$f)
  fi
  printf '%-8s %12d %9d %9d %9d %9d %7s %9s  %s\n' "$f" "$size" "$gw" "$ow" "$gc" "$oc" \
    "$(ratio "$ow" "$gw")" "$(ratio "$oc" "$gc")" "$same"
done
echo "(wall ms: git_ms, ours_ms; CPU ms: git_cpu, ours_cpu; ratio = ours_ms / git_ms)"

# Peak PSS of each whole process tree (git-release with any git it runs; git archive,
# and bzip2 for tar.bz2), best (lowest) of 3; for "all", git's is the largest of its four.
pss() {
  local best="" v
  for _ in 1 2 3; do
    v=$(python3 "$root/scripts/peak_pss.py" "$1")
    if [ -z "$best" ] || [ "$v" -lt "$best" ]; then best=$v; fi
  done
  echo "$best"
}
echo
printf '%-8s %12s %12s %7s\n' format ours_pss_kb git_pss_kb ratio
git_max=0
for f in tar tar.gz zip tar.bz2 all; do
  if [ $f = all ]; then
    ours=$(pss "$our_all")
    git=$git_max
  else
    ours=$(pss "$(our_cmd $f)")
    git=$(pss "$(git_cmd $f)")
    [ "$git" -gt "$git_max" ] && git_max=$git
  fi
  printf '%-8s %12d %12d %7s\n' "$f" "$ours" "$git" "$(ratio "$ours" "$git")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
