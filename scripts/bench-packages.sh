#!/usr/bin/env bash
# Peak memory of a large package file going into the repository and back out, through
# the command line and through `serve`'s generic package API (curl as the client).
# Prints the peak resident memory of the git-release process for each step, in MiB;
# each file that comes back is compared with the original.
#
# Usage: scripts/bench-packages.sh [SIZE_MIB]      (default 1024: a 1 GiB file)
# GIT_RELEASE_BIN=path/to/git-release uses that binary instead of building a release one.
# Needs twice SIZE_MIB of free space in the temporary directory (the file, a copy back),
# plus the repository's objects.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
bin=${GIT_RELEASE_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked --quiet
  bin=$PWD/target/release/git-release
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com GIT_RELEASE_SERVE_TOKEN=bench-token
git init -q "$work/repo"
cd "$work/repo"
git commit -q --allow-empty -m one
git remote add origin https://gitlab.example.com/group/proj.git
head -c $((size_mib << 20)) /dev/urandom > "$work/file.bin"

# Peak resident set of one command (GNU time's maximum RSS, KiB), as MiB.
peak() {
  /usr/bin/time -f %M -o "$work/rss" "$@" > /dev/null
  echo $(( $(tail -n 1 "$work/rss") / 1024 ))
}

# Starts `serve` in the background; sets $server (its pid) and $base (its URL).
start_server() {
  : > "$work/serve.out"
  "$bin" serve --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 100); do grep -q '^Listening on ' "$work/serve.out" && break; sleep 0.1; done
  base=$(sed -n 's/^Listening on //p' "$work/serve.out")
}

# The server's peak resident set so far (VmHWM), as MiB.
server_peak() {
  echo $(( $(awk '/^VmHWM:/ {print $2}' /proc/$server/status) / 1024 ))
}

echo "file: ${size_mib} MiB"
echo "package upload (CLI):      $(peak "$bin" package upload big 1.0 "$work/file.bin") MiB peak"
echo "package download (CLI):    $(peak "$bin" package download big 1.0 file.bin -o "$work/back.bin") MiB peak"
cmp "$work/file.bin" "$work/back.bin"
rm "$work/back.bin"

start_server
url=$base/api/v4/projects/1/packages/generic/big/2.0/file.bin
curl -sSf --header "JOB-TOKEN: bench-token" --upload-file "$work/file.bin" "$url" > /dev/null
after_upload=$(server_peak)
curl -sSf "$url" -o "$work/back.bin"
after_download=$(server_peak)
cmp "$work/file.bin" "$work/back.bin"
echo "serve PUT (curl upload):   ${after_upload} MiB peak of the server"
echo "serve GET (curl download): ${after_download} MiB peak of the server (upload included)"

# The same downloads once the chunks are packed, as after `fetch --packages` or
# `git gc` (random bytes: no deltas to look for). GNU time's figure is the largest of
# git-release and the `git cat-file` it reads through.
kill "$server"; wait "$server" 2>/dev/null || true; server=
git repack -a -d -q --window=0
rm "$work/back.bin"
echo "packed download (CLI):     $(peak "$bin" package download big 1.0 file.bin -o "$work/back.bin") MiB peak (git cat-file included)"
cmp "$work/file.bin" "$work/back.bin"
rm "$work/back.bin"
start_server
curl -sSf "$base/api/v4/projects/1/packages/generic/big/2.0/file.bin" -o "$work/back.bin"
cmp "$work/file.bin" "$work/back.bin"
echo "packed serve GET:          $(server_peak) MiB peak of the server"
