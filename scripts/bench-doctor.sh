#!/usr/bin/env bash
# doctor / verify --all benchmark: what checking every rule of the store costs.
# Usage: scripts/bench-doctor.sh [N releases] [K extra notes commits]  (default 2000 5000)
#
# Builds a repository with N tagged commits (git fast-import), imports N releases (one
# link each) in one commit, and times `doctor` and `verify --all`, best of 3; then adds
# K notes commits and one merge made by plain git (as `git notes merge` would) and times
# them again: the difference is the walk of the notes history that looks for data such
# merges dropped. BIN=path/to/git-release picks the binary (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
K=${2:-5000}
if [[ -z ${BIN:-} ]]; then
    cargo build --release --locked --quiet
    BIN=$PWD/target/release/git-release
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK TZ=UTC
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
unset GIT_DIR GIT_WORK_TREE GIT_RELEASE_NOW
REPO=$WORK/proj
git init -q -b main "$REPO"
cd "$REPO"

python3 - "$N" <<'PY' | git fast-import --quiet
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
for i in range(n):
    out.write(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % (1700000000 + i))
    out.write(b"data 2\nc\n")
    body = b"%d\n" % i
    out.write(b"M 100644 inline f.txt\ndata %d\n%s\n" % (len(body), body))
for i in range(n):
    out.write(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i + 1))
PY
python3 - "$N" >"$WORK/import.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps([{"tag_name": f"v{i}", "name": f"v{i}",
                   "created_at": "2024-01-01T00:00:00Z",
                   "assets": {"links": [{"name": "bin", "url": f"https://example.com/{i}"}]}}
                  for i in range(n)]))
PY
"$BIN" -q import "$WORK/import.json"

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
    printf '%-52s %8.3f s (best of 3)\n' "$label" "$best"
}

time_it "doctor, $N releases, 1 notes commit" "$BIN" doctor
time_it "verify --all, $N releases, 1 notes commit" "$BIN" verify --all

# K more notes commits (same tree) and a merge of two of them, as plain git makes.
tree=$(git rev-parse 'refs/notes/releases^{tree}')
head=$(git rev-parse refs/notes/releases)
for ((i = 0; i < K; i++)); do
    head=$(echo "c$i" | git commit-tree "$tree" -p "$head")
done
side=$(echo side | git commit-tree "$tree" -p "$head")
head=$(echo "notes: Merged notes" | git commit-tree "$tree" -p "$head" -p "$side")
git update-ref refs/notes/releases "$head"
echo "notes commits: $(git rev-list --count refs/notes/releases)"
time_it "doctor, $N releases, $K+ notes commits" "$BIN" doctor
time_it "verify --all, $N releases, $K+ notes commits" "$BIN" verify --all
"$BIN" doctor | tail -1
