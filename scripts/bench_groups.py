#!/usr/bin/env python3
"""Group figures of docs/performance.md: `serve --root` over a root of many
repositories (scripts/make-group-root.py builds it), `GET /groups/:id/releases` cold
and warm, the server's memory, and `git release stats --root`.

    scripts/bench_groups.py [--root DIR] [--repos 1000] [--releases 100] [--binary PATH]

Prints one line per figure: the cold first request (every project's releases read),
then warm pages (best and median of 10), the server's resident and proportional memory
after them, and the time of `stats --root`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def timed_get(url):
    start = time.perf_counter()
    with urllib.request.urlopen(url) as response:
        body = response.read()
        headers = response.headers
    return time.perf_counter() - start, body, headers


def memory(pid):
    rss = pss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default="/tmp/git-release-group-root")
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "git-release"))
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, os.path.join(HERE, "make-group-root.py"), args.root,
             "--repos", str(args.repos), "--releases", str(args.releases)],
            check=True,
        )
        print(f"generated {args.root}: {time.perf_counter() - start:.1f} s")
    server = subprocess.Popen(
        [args.binary, "serve", "--root", args.root, "--listen", "127.0.0.1:0", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        base = server.stdout.readline().strip().removeprefix("Listening on ")
        url = f"{base}/api/v4/groups/all/releases"
        cold, _, headers = timed_get(url)
        print(f"cold first page ({headers['x-total']} releases in the group): {cold * 1000:.0f} ms")
        for name, query in [("page 1", "?per_page=20"), ("page 100 of 100 per page", "?per_page=100&page=100"),
                            ("simple page 1", "?simple=true&per_page=100")]:
            times = [timed_get(url + query)[0] for _ in range(10)]
            print(f"warm {name}: best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms")
        rss, pss = memory(server.pid)
        print(f"server memory after: RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB")
        times = [timed_get(f"{base}/api/v4/groups/all/release_stats")[0] for _ in range(5)]
        print(f"warm release_stats: median {statistics.median(times) * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait()
    start = time.perf_counter()
    subprocess.run([args.binary, "stats", "--root", args.root, "--json"], check=True, stdout=subprocess.DEVNULL)
    print(f"stats --root (cold, CLI): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
