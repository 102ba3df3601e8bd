#!/usr/bin/env python3
"""Import benchmark (issue #26 item 11): `git release import` must be linear.

    scripts/bench-import.sh            (release build; GIT_RELEASE_BIN to pick another)

Three import files, each imported into a fresh repository (best of BENCH_RUNS,
default 3):
  links-N       one release with N asset links (N = 8,000, 24,000, 100,000)
  releases-N    N releases, each naming its own milestone and two links (N = 8,000)
Prints seconds per file and the time per link or release, so a quadratic cost shows
as a per-item time that grows with N.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(os.environ.get("GIT_RELEASE_BIN", "target/release/git-release"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))

ENV = dict(os.environ)
for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_RELEASE_NOW"):
    ENV.pop(var, None)
ENV.update({
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_AUTHOR_DATE": "1710135045 +0000", "GIT_COMMITTER_DATE": "1710135045 +0000",
})


def run(args, cwd, stdin=None):
    return subprocess.run(args, cwd=cwd, env=ENV, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def repo_with_commit(root, name):
    repo = os.path.join(root, name)
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo)
    run(["git", "commit", "-q", "--allow-empty", "-m", "one"], repo)
    return repo, run(["git", "rev-parse", "HEAD"], repo).decode().strip()


def release(tag, commit, links, milestones=()):
    return {
        "tag_name": tag,
        "name": tag,
        "description": "notes",
        "created_at": "2024-01-01T00:00:00Z",
        "released_at": "2024-01-01T00:00:00Z",
        "commit": {"id": commit},
        "assets": {"links": links},
        "milestones": [{"title": t, "id": i, "iid": i} for i, t in milestones],
    }


def links_file(n, commit):
    links = [{"id": i + 1, "name": f"asset {i}", "url": f"https://example.com/a/{i}",
              "direct_asset_path": f"/bin/a{i}", "link_type": "package"} for i in range(n)]
    return [release("v1.0", commit, links)]


def releases_file(n, commit):
    return [release(f"v{i}", commit,
                    [{"name": "bin", "url": f"https://example.com/{i}/bin"},
                     {"name": "doc", "url": f"https://example.com/{i}/doc"}],
                    [(i + 1, f"milestone {i}")])
            for i in range(n)]


def time_import(root, name, make):
    best = None
    for run_no in range(RUNS):
        repo, commit = repo_with_commit(root, f"{name}-{run_no}")
        text = json.dumps(make(commit)).encode()
        start = time.perf_counter()
        run([BIN, "import", "-", "--create-tags-from-commit", "-q"], repo, text)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, len(text)


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: cargo build --release")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as root:
        print(f"{'file':<16} {'size':>9} {'seconds':>8} {'per item':>10}")
        cases = [(f"links-{n}", n, lambda c, n=n: links_file(n, c)) for n in (8000, 24000, 100000)]
        cases.append(("releases-8000", 8000, lambda c: releases_file(8000, c)))
        for name, n, make in cases:
            seconds, size = time_import(root, name, make)
            print(f"{name:<16} {size / 1e6:>7.1f}MB {seconds:>8.2f} {seconds / n * 1e6:>8.1f}µs",
                  flush=True)


if __name__ == "__main__":
    main()
