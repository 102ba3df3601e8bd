#!/usr/bin/env bash
# Benchmark: `git release archive` against plain `git archive` (not a test).
#
# usage: scripts/bench-archive.sh [REPO TAG]
#   REPO: a git repository (bare or not); TAG: the tag to archive.
#   Without arguments a synthetic tree (~6,000 files, ~60 MB tar; BENCH_SCALE=N makes
#   the text files N times longer) is built first. BENCH_RUNS=N changes the 3 runs.
#
# Prints, best of 3 runs each (git and ours alternating, so both see the same
# background load), our time / git's time for tar, tar.gz, zip and tar|bzip2, and
# `--format all` / the four git commands run one after another; then our peak RSS
# per format beside the archive size. Every archive is also checked to
# be byte-identical to git's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${BENCH_RUNS:-3}

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_ATTR_NOSYSTEM=1 TZ=UTC LC_ALL=C
unset GIT_DIR GIT_WORK_TREE

cargo build --release --quiet
bin=$root/target/release/git-release
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ $# -ge 2 ]; then
  repo=$(cd "$1" && git rev-parse --absolute-git-dir)
  tag=$2
else
  echo "building a synthetic tree in $work/synthetic ..." >&2
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
  tag=v1.0
fi
prefix="bench-$tag/"
cd "$work"

# run_ms COMMAND: wall-clock milliseconds of one run of a shell command string.
run_ms() {
  local s e
  s=$(date +%s%N)
  bash -c "$1"
  e=$(date +%s%N)
  echo $(( (e - s) / 1000000 ))
}

# pair GIT_COMMAND OUR_COMMAND: "git_best our_best" over $runs rounds. The two are run
# alternately so that both see the same background load on a shared machine.
pair() {
  local gb="" ob="" g o
  for _ in $(seq "$runs"); do
    g=$(run_ms "$1"); o=$(run_ms "$2")
    if [ -z "$gb" ] || [ "$g" -lt "$gb" ]; then gb=$g; fi
    if [ -z "$ob" ] || [ "$o" -lt "$ob" ]; then ob=$o; fi
  done
  echo "$gb $ob"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

git_cmd() { # format -> command writing git.$format
  case $1 in
    tar.bz2) echo "git --git-dir='$repo' archive --format=tar --prefix='$prefix' '$tag' | bzip2 -c > git.tar.bz2" ;;
    *) echo "git --git-dir='$repo' archive --format=$1 --prefix='$prefix' '$tag' > git.$1" ;;
  esac
}
our_cmd() {
  echo "GIT_DIR='$repo' '$bin' archive '$tag' -q --force --prefix='$prefix' --format $1 -o ours.$1 > /dev/null"
}

printf '%s %s (%s)\n' "$(git --git-dir="$repo" rev-parse --short "$tag^{commit}")" "$tag" "$repo"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"
printf '%-8s %10s %10s %7s  %s\n' format git_ms ours_ms ratio identical
sum_git=0
for f in tar tar.gz zip tar.bz2; do
  read -r g o < <(pair "$(git_cmd $f)" "$(our_cmd $f)")
  sum_git=$((sum_git + g))
  same=no; cmp -s git.$f ours.$f && same=yes
  printf '%-8s %10d %10d %7s  %s\n' "$f" "$g" "$o" "$(ratio "$o" "$g")" "$same"
done
# git has no "all": the four commands one after another, best of 3 as a whole.
read -r g_all o_all < <(pair "$(git_cmd tar); $(git_cmd tar.gz); $(git_cmd zip); $(git_cmd tar.bz2)" \
  "GIT_DIR='$repo' '$bin' archive '$tag' -q --force --prefix='$prefix' --format all --output-dir all > /dev/null")
same=yes
for f in tar tar.gz zip tar.bz2; do cmp -s git.$f all/*."$f" || same=no; done
printf '%-8s %10d %10d %7s  %s\n' all "$g_all" "$o_all" "$(ratio "$o_all" "$g_all")" "$same"

# tree_rss_kb COMMAND: peak of the summed proportional set size (PSS: shared pages such
# as the pack files all readers map are split between them, not counted twice) of the
# command's process tree (git-release and its git cat-file readers), every 20 ms.
tree_rss_kb() {
  bash -c "$1" & local root=$! peak=0
  while kill -0 "$root" 2>/dev/null; do
    local pids total=0 v
    pids=$(ps -o pid= --ppid "$root" 2>/dev/null; echo "$root")
    for p in $(for q in $pids; do echo "$q"; ps -o pid= --ppid "$q" 2>/dev/null; done | sort -u); do
      v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
      total=$((total + ${v:-0}))
    done
    [ "$total" -gt "$peak" ] && peak=$total
    sleep 0.02
  done
  wait "$root"
  echo "$peak"
}

echo
printf '%-8s %14s %14s %14s\n' format archive_bytes ours_rss_kb git_rss_kb
for f in tar tar.gz zip all; do
  if [ $f = all ]; then
    cmd="GIT_DIR='$repo' '$bin' archive '$tag' -q --force --prefix='$prefix' --format all --output-dir all > /dev/null"
    size=$(cat all/* | wc -c)
    grss=-
  else
    cmd=$(our_cmd $f)
    size=$(wc -c < git.$f)
    grss=$( { /usr/bin/time -v bash -c "$(git_cmd $f)" ; } 2>&1 | awk -F': ' '/Maximum resident/ {print $2}')
  fi
  rss=$(tree_rss_kb "$cmd")
  printf '%-8s %14d %14s %14s\n' "$f" "$size" "$rss" "$grss"
done
echo "(ours: peak PSS of git-release plus its git cat-file readers; git: peak RSS of git archive)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
