#!/usr/bin/env python3
"""Hostile-content CPU benchmark of `git release serve` (a measurement, not a test).

    scripts/bench-hostile.sh [SIZE]          (SIZE: description bytes, default 1000000)

For each hostile release description (nested quotes, lists and <div>s as issue #25
found them, and the pathological inputs of cmark's own test suite), builds a repository
with one release carrying it, starts the server (GIT_RELEASE_BIN, default the release
build) and measures, for the release's JSON with description_html and for the HTML
page of the release list: the wall time and the server's CPU time (utime+stime from
/proc). Then a client that gives up after 2 s: the CPU the server spends in the 10 s
after. Then the warm HTML page of a 1,000-release project (CPU per request, averaged).

Targets (issue #25): no request over 1 s of CPU; the warm page under 5 ms of CPU.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_store import BIN, ENV, build, run  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "120"))


def cases(size):
    """(name, description) pairs, each about `size` bytes."""
    def rep(unit, tail=""):
        return unit * max(1, (size - len(tail)) // len(unit)) + tail
    half = size // 2
    n = lambda unit: max(1, half // len(unit))  # noqa: E731
    yield "nested > quotes", rep("> ", "x")
    yield "nested - lists", rep("- ", "x")
    yield "nested <div>", rep("<div>")
    yield "nested <div> 150k", "<div>" * 150000
    yield "indented lists", "".join(" " * i + "* a\n" for i in range(int((2 * size) ** 0.5)))
    yield "nested *a **a", "*a **a " * n("*a **a ") + "b" + " a** a*" * n(" a** a*")
    yield "emph closers a_", rep("a_ ")
    yield "emph openers _a", rep("_a ")
    yield "link openers [ a_", rep("[ a_")
    yield "[ (](", rep("[ (](")
    yield "nested brackets", "[" * n("[") + "a" + "]" * n("]")
    yield "backticks", "".join("e" + "`" * i for i in range(1, int((2 * size) ** 0.5)))
    yield "unclosed <links", rep("[a](<b")
    yield "unclosed links", rep("[a](b")
    yield "table columns", "|" * half + "\n" + "|-" * (half // 2) + "\n"
    yield "table rows", "| a | b |\n|---|---|\n" + rep("|x|\n")
    yield "autolinks www.", rep("www.")
    yield "autolinks a@", rep("a@")
    yield "entities &#", rep("&#")
    yield "html <", rep("<")
    yield "html comments", rep("<!--")
    yield "unclosed <b>", rep("<b>")
    yield "unclosed <a>", rep("<a href=x>")
    yield "nested <table>", rep("<table><tr><td>")
    yield "<p> siblings", rep("<p>x")
    yield "<li> siblings", rep("<li>x")
    yield "long lines of text", rep("word " * 20 + "\n")
    yield "middle dots", rep("\u00b7")
    yield "ampersands in a URL", "[x](" + rep("a&") + ")"
    yield "fenced code of &", "```\n" + rep("&&&&&&&\n") + "```\n"


def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start(repo):
    server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "-q"], cwd=repo, env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = server.stdout.readline().decode().strip()
    port = int(line.rsplit(":", 1)[1])
    return server, port


def timed(server, port, path, timeout=TIMEOUT):
    """(wall s, server CPU s, status) of one GET."""
    before = cpu(server.pid)
    started = time.perf_counter()
    status = "timeout"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        status = response.status
        conn.close()
    except (socket.timeout, TimeoutError):
        pass
    return time.perf_counter() - started, cpu(server.pid) - before, status


def one_release(root, name, description):
    repo = os.path.join(root, name)
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo)
    run(["git", "commit", "-q", "--allow-empty", "-m", "first"], repo)
    run(["git", "remote", "add", "origin", "git@example.com:group/proj.git"], repo)
    notes = os.path.join(root, name + ".md")
    with open(notes, "w") as f:
        f.write(description)
    run([BIN, "create", "v1", "--ref", "HEAD", "--notes-file", notes], repo)
    return repo


def main():
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    worst = 0.0
    print(f"server: {BIN}; descriptions of about {size:,} bytes; client timeout {TIMEOUT:.0f} s")
    print(f"{'input':22} {'JSON+html wall/cpu':>22} {'HTML page wall/cpu':>22}")
    with tempfile.TemporaryDirectory(prefix="bench-hostile") as root:
        for i, (name, description) in enumerate(cases(size)):
            description = description[:size]
            repo = one_release(root, f"r{i}", description)
            server, port = start(repo)
            try:
                a = timed(server, port, "/api/v4/projects/1/releases/v1?include_html_description=true")
                b = timed(server, port, "/group/proj/-/releases")
            finally:
                server.send_signal(signal.SIGKILL)
                server.wait()
            worst = max(worst, a[1], b[1])
            cell = lambda r: f"{r[0]:7.2f}s {r[1]:6.2f}s {r[2]}"  # noqa: E731
            print(f"{name:22} {cell(a):>22} {cell(b):>22}", flush=True)

        # A client that gives up: what the server still spends afterwards.
        repo = one_release(root, "leaver", ("| a | b |\n|---|---|\n" + "|x|\n" * size)[:size])
        server, port = start(repo)
        try:
            before = cpu(server.pid)
            timed(server, port, "/group/proj/-/releases", timeout=2)
            time.sleep(10)
            after = cpu(server.pid) - before
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait()
        print(f"client leaving after 2 s: {after:.2f} s of server CPU in the 12 s from its request")

        repo, _ = build(1000, root)
        run(["git", "remote", "add", "origin", "git@example.com:group/proj.git"], repo)
        server, port = start(repo)
        try:
            cold = timed(server, port, "/group/proj/-/releases")
            for _ in range(3):
                timed(server, port, "/group/proj/-/releases")
            rounds = 200
            before = cpu(server.pid)
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
            for _ in range(rounds):
                conn.request("GET", "/group/proj/-/releases")
                conn.getresponse().read()
            wall = time.perf_counter() - started
            spent = cpu(server.pid) - before
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait()
        print(f"1,000 releases, HTML page: cold {cold[0] * 1000:.0f} ms wall / {cold[1] * 1000:.0f} ms CPU; "
              f"warm {spent / rounds * 1000:.2f} ms CPU, {wall / rounds * 1000:.2f} ms wall per request "
              f"({rounds} requests on one connection)")
    print(f"worst request: {worst:.2f} s of server CPU")


if __name__ == "__main__":
    main()
