#!/usr/bin/env bash
# site benchmark. Usage: scripts/bench-site.sh [N]   (default 1000)
#
# Builds a repository with N commits and N tags (git fast-import) and N releases with
# a few paragraphs of notes and a link each, then times `git release site` writing
# the whole site (target: under 2 s at N = 1000). BIN=path overrides the binary
# (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
if [[ -z ${BIN:-} ]]; then
    cargo build --release --locked --quiet
    BIN=$PWD/target/release/git-release
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$WORK TZ=UTC
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_RELEASE_NOW=2025-01-01T00:00:00Z
unset GIT_DIR GIT_WORK_TREE
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
    msg = b"commit %d\n" % i
    out.write(b"data %d\n%s" % (len(msg), msg))
    body = b"%d\n" % i
    out.write(b"M 100644 inline src/f%d.txt\ndata %d\n%s\n" % (i % 20, len(body), body))
for i in range(n):
    out.write(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i + 1))
PY
git reset -q --hard main
NOTES=$'## Changes\n\n* faster **things**\n* fixed `bugs`, see https://example.com/issue\n\n| a | b |\n|---|---|\n| 1 | 2 |\n'
start=$(date +%s.%N)
for ((i = 0; i < N; i++)); do
    # Back-dated, so no evidence is collected: this measures the site, not create.
    "$BIN" -q create "v$i" --released-at "2024-01-01T00:00:00Z" --notes "$NOTES" \
        --link "name=app,url=https://example.com/v$i/app,link_type=package" >/dev/null
done
end=$(date +%s.%N)
printf 'created %d releases in %.1f s\n' "$N" "$(echo "$end - $start" | bc)"
best=
for run in 1 2 3; do
    s=$(date +%s.%N)
    "$BIN" -q site -o "$WORK/public" >/dev/null
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [[ -z $best ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
done
printf 'site for %d releases: %.3f s (best of 3), %s files, %s\n' "$N" "$best" \
    "$(find "$WORK/public" -type f | wc -l)" "$(du -sh "$WORK/public" | cut -f1)"
