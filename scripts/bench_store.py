#!/usr/bin/env python3
"""Store benchmark: git-release list/view/create on repositories with thousands of
releases, side by side with plain git doing the least equivalent work.

    scripts/bench-store.sh [N ...]        (default: 2000 10000)

For each N, builds a repository with N commits, N lightweight tags and N releases
written in git-release's storage format (via git fast-import, so building is quick),
then prints timings (best of BENCH_RUNS, default 5, ours and git's alternating so both
see the same background load) and ratios against issue 14's targets:
  list   git release list --json          vs  git cat-file --batch over every note blob
  view   git release view <tag> --json    vs  git notes --ref=releases show <tag>^{commit}
  create git release create <tag> (existing tag)  vs  git notes --ref=releases add
  create+tag  git release create <tag> --ref <commit> (tag made too)
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(os.environ.get("GIT_RELEASE_BIN", "target/release/git-release"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

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


def build(n, root):
    repo = os.path.join(root, f"repo-{n}")
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo)
    stream = []
    for i in range(n):
        data = f"{i}\n".encode()
        stream.append(b"commit refs/heads/main\nmark :%d\n" % (i + 1))
        stream.append(b"committer Bench <bench@example.com> %d +0000\n" % (1700000000 + i))
        msg = f"commit {i}\n".encode()
        stream.append(b"data %d\n%s" % (len(msg), msg))
        stream.append(b"M 100644 inline file\ndata %d\n%s\n" % (len(data), data))
    for i in range(n):
        stream.append(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i + 1))
    run(["git", "fast-import", "--quiet"], repo, b"".join(stream))
    commits = run(["git", "rev-list", "--reverse", "main"], repo).decode().split()
    assert len(commits) == n

    # The notes tree in git-release's format: note at ab/cdef…, index/<aa>/<sha256(tag)>.
    notes = []
    for i, commit in enumerate(commits):
        tag = f"v{i}"
        at = "2024-01-01T00:00:00.000Z"
        released = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000Z"
        record = {"name": f"Release {i}", "description": f"Notes for release {i}\n",
                  "created_at": at, "released_at": released,
                  "author": {"name": "Bench", "email": "bench@example.com"},
                  "commit": commit, "tag_target": commit}
        doc = json.dumps({"schema": 1, "releases": {tag: record}}, indent=2).encode() + b"\n"
        notes.append((f"{commit[:2]}/{commit[2:]}", doc))
        digest = hashlib.sha256(tag.encode()).hexdigest()
        entry = json.dumps({"tag": tag, "commit": commit}, separators=(",", ":")).encode() + b"\n"
        notes.append((f"index/{digest[:2]}/{digest}", entry))
    stream = [b"commit refs/notes/releases\ncommitter Bench <bench@example.com> 1710135045 +0000\n",
              b"data 6\nbench\n"]
    project = b'{"schema": 1, "last_ids": {}}\n'
    stream.append(b"M 100644 inline project.json\ndata %d\n%s\n" % (len(project), project))
    for path, data in notes:
        stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    run(["git", "fast-import", "--quiet"], repo, b"".join(stream))
    run(["git", "config", "user.name", "Bench"], repo)
    run(["git", "config", "user.email", "bench@example.com"], repo)
    run(["git", "gc", "-q"], repo)
    return repo, commits


def best_time(fn, runs=RUNS):
    times = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return min(times)


def side_by_side(ours_fn, git_fn, runs=RUNS):
    """Best of `runs` for each, run alternately."""
    ours, git = [], []
    for i in range(runs):
        for fn, times in ((ours_fn, ours), (git_fn, git)):
            start = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - start)
    return min(ours), min(git)


def bench(n, root):
    t0 = time.perf_counter()
    repo, commits = build(n, root)
    print(f"\n== {n} releases (built in {time.perf_counter() - t0:.1f}s)")
    # Sanity: git-release reads what was built.
    listed = json.loads(run([BIN, "list", "--json", "--per-page", "100"], repo))
    assert len(listed) == 100, len(listed)

    blobs = run(["git", "ls-tree", "-r", "refs/notes/releases"], repo).decode().splitlines()
    note_blobs = "".join(l.split()[2] + "\n" for l in blobs if not l.split("\t")[1].startswith(("index/", "project")))
    rows = []
    ours, git = side_by_side(lambda i: run([BIN, "list", "--json"], repo),
                             lambda i: run(["git", "cat-file", "--batch"], repo, note_blobs.encode()))
    rows.append(("list --json", ours, git, "cat-file --batch (all notes)", 1.0))
    ours100 = best_time(lambda i: run([BIN, "list", "--json", "--per-page", "100"], repo))
    rows.append(("list --json --per-page 100", ours100, git, "cat-file --batch (all notes)", None))

    mid = n // 2
    ours, git = side_by_side(
        lambda i: run([BIN, "view", f"v{mid + i}", "--json"], repo),
        lambda i: run(["git", "notes", "--ref=releases", "show", f"v{mid + i}^{{commit}}"], repo))
    rows.append(("view --json", ours, git, "git notes show", 1.5))

    # create on existing tags (one notes commit) vs git notes add on commits with no note:
    # fresh tags on the first commits, whose notes we remove first with one fast-import.
    for i in range(RUNS * 2):
        run(["git", "tag", f"bench-{i}", commits[i]], repo)
    extra = [c for c in run(["git", "rev-list", "--max-count", str(RUNS), "--skip", str(n), "main"], repo).decode().split()]
    # git notes add needs commits with no note: make RUNS new commits.
    new_commits = []
    for i in range(RUNS):
        tree = run(["git", "rev-parse", "main^{tree}"], repo).decode().strip()
        new_commits.append(run(["git", "commit-tree", tree, "-m", f"extra {i}"], repo).decode().strip())
    ours, git = side_by_side(
        lambda i: run([BIN, "create", f"bench-{i}"], repo),
        lambda i: run(["git", "notes", "--ref=releases", "add", "-m", "x", new_commits[i]], repo))
    rows.append(("create (existing tag)", ours, git, "git notes add", 2.0))
    ours = best_time(lambda i: run([BIN, "create", f"fresh-{i}", "--ref", commits[RUNS * 2 + i]], repo))
    rows.append(("create --ref (tag too)", ours, git, "git notes add", None))
    del extra

    width = max(len(r[0]) for r in rows)
    for name, ours, git, what, target in rows:
        goal = f"target ≤ {target:g}×" if target else ""
        print(f"  {name:<{width}}  {ours * 1000:8.1f} ms   vs {what:<30} {git * 1000:8.1f} ms   "
              f"ratio {ours / git:5.2f}  {goal}")
    subprocess.run(["git", "fsck", "--strict", "--no-dangling", "--no-progress"], cwd=repo, env=ENV, check=True)
    return {name: ours for name, ours, *_ in rows}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [2000, 10000]
    with tempfile.TemporaryDirectory(prefix="bench-store-") as root:
        results = {n: bench(n, root) for n in sizes}
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        print(f"\n== scaling {lo} → {hi} releases ({hi / lo:.0f}× more)")
        for name in results[lo]:
            print(f"  {name:<28} {results[hi][name] / results[lo][name]:5.2f}×")


if __name__ == "__main__":
    main()
