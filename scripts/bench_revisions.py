#!/usr/bin/env python3
"""What it costs `git release serve` to take a commit id as GitLab does (a measurement).

    scripts/bench-revisions.sh REPO      (a clone with many refs, e.g. git/git)

A commit id is served only when a branch or tag reaches it; the reachable commits are
found once per state of the branches and tags (a walk of the history) and kept. This
starts the server (GIT_RELEASE_BIN, default the release build) on REPO and times the
archive of one file (`path=Makefile`) by: a tag (no walk), an old commit id (the first
one walks the history), the same again (kept), another commit id, and a commit only
another kind of ref reaches (refused). Prints wall and server CPU time and the server's
resident memory before and after.
"""
import http.client
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_store import BIN, ENV  # noqa: E402
from bench_hostile import cpu  # noqa: E402


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmRSS"))) / 1024


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True,
                          stdout=subprocess.PIPE).stdout.decode().strip()


def main():
    repo = os.path.abspath(sys.argv[1])
    tags = git(repo, "for-each-ref", "--count=1", "--sort=-creatordate", "--format=%(refname:short)", "refs/tags")
    old = git(repo, "rev-list", "--max-count=1", "--skip=50000", "HEAD")
    other = git(repo, "rev-list", "--max-count=1", "--skip=20000", "HEAD")
    foreign = git(repo, "for-each-ref", "--format=%(objectname)", "refs/pull/").split("\n")
    unreached = next((c for c in foreign[:200]
                      if subprocess.run(["git", "branch", "--all", "--contains", c], cwd=repo, env=ENV,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip() == b""
                      and subprocess.run(["git", "tag", "--contains", c], cwd=repo, env=ENV,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.strip() == b""),
                     None)
    commits = git(repo, "rev-list", "--count", "--branches", "--tags")
    refs = git(repo, "for-each-ref", "--format=x", "refs/heads", "refs/tags").count("x")
    graph = os.path.exists(os.path.join(repo, "objects/info/commit-graph")) or \
        os.path.exists(os.path.join(repo, ".git/objects/info/commit-graph"))
    print(f"{repo}: {commits} commits reachable from {refs} branches and tags; "
          f"commit-graph file: {'yes' if graph else 'no'}")
    server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "-q"], cwd=repo, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(server.stdout.readline().decode().strip().rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        print(f"server memory at start: {rss(server.pid):.0f} MiB")
        cases = [("tag " + tags, tags), ("old commit id (first: walks)", old), ("same again (kept)", old),
                 ("another commit id", other), ("short id", other[:12]),
                 ("after a push: its commit id", "PUSH"), ("after the push: an old one", old)]
        if unreached:
            cases.append(("commit only refs/pull reaches", unreached))
        pushed = None
        for name, sha in cases:
            if sha == "PUSH":
                # A push: a new commit on a new branch, then its id.
                tree = git(repo, "rev-parse", "HEAD^{tree}")
                sha = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "bench push")
                git(repo, "update-ref", "refs/heads/bench-pushed", sha)
                pushed = sha
            before, started = cpu(server.pid), time.perf_counter()
            conn.request("GET", f"/api/v4/projects/1/repository/archive.tar?sha={sha}&path=Makefile")
            response = conn.getresponse()
            response.read()
            print(f"  {name:34} {response.status}  {time.perf_counter() - started:7.3f} s wall  "
                  f"{cpu(server.pid) - before:6.2f} s CPU  {rss(server.pid):6.0f} MiB")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        if pushed:
            git(repo, "update-ref", "-d", "refs/heads/bench-pushed")


if __name__ == "__main__":
    main()
