#!/usr/bin/env python3
"""Peak memory of a whole process tree: runs `bash -c COMMAND` and prints the peak,
over samples every few milliseconds, of the summed proportional set size (PSS, from
/proc/PID/smaps_rollup) of the shell and all its descendants, in KiB. PSS splits pages
that several processes map (a pack file read by two readers, shared libraries) between
them instead of counting them twice, so the sum is the memory the tree really holds.

    scripts/peak_pss.py 'git archive --format=tar HEAD > /dev/null'
"""
import os
import subprocess
import sys
import time


def children_of():
    """ppid -> [pid] for every process now running."""
    tree = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(name))
    return tree


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    proc = subprocess.Popen(["bash", "-c", sys.argv[1]])
    peak = 0
    while proc.poll() is None:
        tree = children_of()
        pids, stack = [], [proc.pid]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            stack.extend(tree.get(pid, []))
        peak = max(peak, sum(pss_kb(p) for p in pids))
        time.sleep(0.005)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {sys.argv[1]}")
    print(peak)


if __name__ == "__main__":
    main()
