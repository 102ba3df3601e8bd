#!/usr/bin/env bash
# verify benchmark. Usage: scripts/bench-verify.sh [N]   (default 1000)
#
# Builds a repository with N commits and N tags (git fast-import), makes N releases
# through the CLI (one evidence snapshot each, taken at create), then times, best of 3,
# and per 1,000 releases:
#   verify --all              (target: <= 1 s at N = 1000)
#   verify --all --archives   (target: close to regenerating the archives once)
#   baseline: plain git making the four source archives of every tag once
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
cargo build --release --locked --quiet
BIN=$PWD/target/release/git-release
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK TZ=UTC
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_RELEASE_NOW
REPO=$WORK/proj
git init -q -b main "$REPO"
cd "$REPO"

# N commits, each changing one of 20 files of a small source tree; tag v<i> on each.
python3 - "$N" <<'PY' | git fast-import --quiet
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    out.write(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % (1700000000 + i))
    msg = b"commit %d\n" % i
    out.write(b"data %d\n%s" % (len(msg), msg))
    if i == 0:
        for f in range(20):
            body = (b"file %d line\n" % f) * 200
            out.write(b"M 100644 inline src/f%d.txt\ndata %d\n%s\n" % (f, len(body), body))
    body = b"%d\n" % i
    out.write(b"M 100644 inline src/f%d.txt\ndata %d\n%s\n" % (i % 20, len(body), body))
for i in range(n):
    out.write(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i + 1))
PY
git reset -q --hard main

start=$(date +%s.%N)
for ((i = 0; i < N; i++)); do
    "$BIN" -q create "v$i" >/dev/null
done
end=$(date +%s.%N)
printf 'created %d releases with evidence in %.1f s\n' "$N" "$(echo "$end - $start" | bc)"

time_it() { # label, command...
    local label=$1
    shift
    local best=
    for run in 1 2 3; do
        local s e t
        s=$(date +%s.%N)
        "$@" >/dev/null || true
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [[ -z $best ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
    done
    printf '%-40s %8.3f s (best of 3)  %8.3f s per 1,000 releases\n' "$label" "$best" \
        "$(echo "$best * 1000 / $N" | bc -l)"
}

snapshots=$(git ls-tree -r --name-only refs/notes/releases | grep -c '^evidence/' || true)
echo "evidence snapshots: $snapshots for $N releases"
"$BIN" verify --all | tail -1
time_it "verify --all" "$BIN" verify --all
time_it "verify --all --archives" "$BIN" verify --all --archives
baseline() {
    for ((i = 0; i < N; i++)); do
        git archive --format=zip --prefix="proj-v$i/" "v$i" >/dev/null
        git archive --format=tar.gz --prefix="proj-v$i/" "v$i" >/dev/null
        git archive --format=tar --prefix="proj-v$i/" "v$i" | bzip2 -9 >/dev/null
        git archive --format=tar --prefix="proj-v$i/" "v$i" >/dev/null
    done
}
time_it "git archive x4 formats x $N tags" baseline
