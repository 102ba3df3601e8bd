#!/usr/bin/env python3
"""Load benchmark of `git release serve` (a benchmark, not a test).

    scripts/bench-serve.sh [RELEASES [REQUESTS [CLIENTS]]]   (default: 1000 20000 32)

Builds a repository with RELEASES releases (as scripts/bench_store.py does), starts the
release build of the server on a free loopback port, and sends REQUESTS requests from
CLIENTS concurrent keep-alive connections, a mix of API and pages: 40%
`GET /projects/1/releases?page=N` (20 per page, N random), 30%
`GET /projects/1/releases/<random tag>`, 15% the HTML list `/group/proj/-/releases?page=N`
(50 per page), 10% a release's HTML page, 5% the Atom feed. Prints requests per second,
p50/p99 latency (overall and per kind), errors, and the server's peak resident memory
(VmHWM).
"""
import http.client
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_store import BIN, ENV, build  # noqa: E402


def main():
    releases = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    with tempfile.TemporaryDirectory(prefix="bench-serve") as root:
        repo, _ = build(releases, root)
        subprocess.run(["git", "remote", "add", "origin", "git@example.com:group/proj.git"],
                       cwd=repo, env=ENV, check=True)
        server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "-q"], cwd=repo,
                                  env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = server.stdout.readline().decode().strip()
            host, port = line.removeprefix("Listening on http://").rsplit(":", 1)
            assert host == "127.0.0.1", line
            report(run_load(int(port), releases, requests, clients), server.pid,
                   releases, requests, clients)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def run_load(port, releases, requests, clients):
    pages = (releases + 19) // 20
    html_pages = (releases + 49) // 50
    latencies, errors = [], []
    kinds = {}
    lock = threading.Lock()
    share = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]

    def client(count, seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed, by_kind = [], [], {}
        for _ in range(count):
            roll = rng.random()
            if roll < 0.40:
                kind, path, start = "api list", f"/api/v4/projects/1/releases?page={rng.randint(1, pages)}", b"["
            elif roll < 0.70:
                kind, path, start = "api release", f"/api/v4/projects/1/releases/v{rng.randrange(releases)}", b"{"
            elif roll < 0.85:
                kind, path, start = "html list", f"/group/proj/-/releases?page={rng.randint(1, html_pages)}", b"<!doctype"
            elif roll < 0.95:
                kind, path, start = "html release", f"/group/proj/-/releases/v{rng.randrange(releases)}", b"<!doctype"
            else:
                kind, path, start = "atom feed", "/group/proj/-/releases.atom", b"<?xml"
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": "text/html"})
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body.startswith(start):
                    failed.append(f"{path}: {response.status}")
            except OSError as e:
                failed.append(f"{path}: {e}")
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = time.perf_counter() - started
            mine.append(took)
            by_kind.setdefault(kind, []).append(took)
        with lock:
            latencies.extend(mine)
            errors.extend(failed)
            for kind, values in by_kind.items():
                kinds.setdefault(kind, []).extend(values)

    threads = [threading.Thread(target=client, args=(n, i)) for i, n in enumerate(share)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, errors, kinds


def report(result, pid, releases, requests, clients):
    elapsed, latencies, errors, kinds = result
    with open(f"/proc/{pid}/status") as f:
        peak = next(line.split()[1] for line in f if line.startswith("VmHWM"))
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"{releases} releases, {requests} requests (API lists and releases, HTML lists and "
          f"release pages, the feed) from {clients} concurrent clients")
    print(f"  {requests / elapsed:,.0f} requests/s, {elapsed:.1f} s")
    print(f"  latency p50 {p(0.50):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"mean {statistics.mean(latencies) * 1000:.1f} ms")
    for kind, values in sorted(kinds.items()):
        values.sort()
        q = lambda f: values[min(len(values) - 1, int(f * len(values)))] * 1000  # noqa: E731
        print(f"    {kind:13} {len(values):6} requests, p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms")
    print(f"  errors: {len(errors)}")
    print(f"  server peak memory (VmHWM): {int(peak) / 1024:.1f} MiB")
    for e in errors[:5]:
        print(f"    {e}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
