#!/usr/bin/env python3
"""Import benchmark (issue #26 item 11): `git release import` must be linear.

    scripts/bench-import.sh            (release build; GIT_RELEASE_BIN to pick another)

Import files, each imported into a fresh repository (best of BENCH_RUNS,
default 3):
  links-N       one release with N asset links (N = 8,000, 24,000, 100,000)
  releases-N    N releases on N tagged commits, each naming its own milestone and two
                links (N = 2,000, 8,000); releases-N+tags: the tags made by the import
                (--create-tags-from-commit), a loose ref file each
Names given as arguments (`links-100000`) run only those.
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


def repo_with_commits(root, name, n, tags=False):
    """A repository with `n` commits on main (fast-import), oldest first; with `tags`,
    commit i tagged v<i>, as a clone of the project has them."""
    repo = os.path.join(root, name)
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo)
    stream = []
    for i in range(n):
        msg = f"commit {i}\n".encode()
        stream.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        stream.append(b"committer Bench <bench@example.com> %d +0000\n" % (1700000000 + i))
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
    if tags:
        for i in range(n):
            stream.append(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i + 1))
    run(["git", "fast-import", "--quiet"], repo, b"".join(stream))
    return repo, run(["git", "rev-list", "--reverse", "main"], repo).decode().split()


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


def links_file(n, commits):
    links = [{"id": i + 1, "name": f"asset {i}", "url": f"https://example.com/a/{i}",
              "direct_asset_path": f"/bin/a{i}", "link_type": "package"} for i in range(n)]
    return [release("v1.0", commits[0], links)]


def releases_file(n, commits):
    """Each release on a commit of its own, as a project's history has them."""
    return [release(f"v{i}", commits[i],
                    [{"name": "bin", "url": f"https://example.com/{i}/bin"},
                     {"name": "doc", "url": f"https://example.com/{i}/doc"}],
                    [(i + 1, f"milestone {i}")])
            for i in range(n)]


def time_import(root, name, commits, make, tagged):
    best = None
    for run_no in range(RUNS):
        repo, hashes = repo_with_commits(root, f"{name}-{run_no}", commits, tagged)
        text = json.dumps(make(hashes)).encode()
        args = [BIN, "import", "-", "-q"] + ([] if tagged else ["--create-tags-from-commit"])
        start = time.perf_counter()
        run(args, repo, text)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, len(text)


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: cargo build --release")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as root:
        print(f"{'file':<20} {'size':>9} {'seconds':>8} {'per item':>10}")
        only = sys.argv[1:]
        cases = [(f"links-{n}", n, 1, lambda c, n=n: links_file(n, c), False)
                 for n in (8000, 24000, 100000)]
        for n in (2000, 8000):
            make = lambda c, n=n: releases_file(n, c)
            cases.append((f"releases-{n}", n, n, make, True))
            cases.append((f"releases-{n}+tags", n, n, make, False))
        for name, n, commits, make, tagged in cases:
            if only and name not in only:
                continue
            seconds, size = time_import(root, name, commits, make, tagged)
            print(f"{name:<20} {size / 1e6:>7.1f}MB {seconds:>8.2f} {seconds / n * 1e6:>8.1f}µs",
                  flush=True)


if __name__ == "__main__":
    main()
