#!/usr/bin/env python3
"""Builds a root of many repositories with many releases each, for the group figures
of docs/performance.md (`serve --root`, `GET /groups/:id/releases`, `stats --root`).

    scripts/make-group-root.py DIR [--top all] [--groups 10] [--repos 1000] [--releases 100]

DIR/all/group-NN/repo-NNNN.git, bare, `--repos` in all spread over `--groups`
subgroups of one top-level group (so that one group holds them all). Each
repository is written by `git fast-import`, twice: first its history (one commit per
release) and lightweight tags, then — once the commits' ids are known from the marks
file — one commit on refs/notes/releases holding the store as `git release create`
writes it (a note per release, `index/`, `project.json`; see docs/storage.md). No
`git release` command runs, so a thousand repositories take seconds, not hours.
Release dates differ between repositories so that a group's list interleaves them.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

AUTHOR = "Root Generator <generator@example.com>"
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)


def data(text: bytes) -> bytes:
    return b"data %d\n" % len(text) + text + b"\n"


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def git(args, cwd, stdin=None):
    return subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, check=True, capture_output=True
    ).stdout


def history(releases: int, start: datetime) -> bytes:
    out = []
    for i in range(releases):
        when = int((start + timedelta(days=i)).timestamp())
        out.append(b"commit refs/heads/main\n")
        out.append(b"mark :%d\n" % (i + 1))
        out.append(b"committer %s %d +0000\n" % (AUTHOR.encode(), when))
        out.append(data(b"change %d" % i))
        if i > 0:
            out.append(b"from :%d\n" % i)
        out.append(b"M 100644 inline VERSION\n")
        out.append(data(b"%d\n" % i))
        out.append(b"reset refs/tags/v1.%d\n" % i)
        out.append(b"from :%d\n\n" % (i + 1))
    return b"".join(out)


def store(releases: int, start: datetime, commits: dict) -> bytes:
    out = [b"commit refs/notes/releases\n"]
    when = int((start + timedelta(days=releases)).timestamp())
    out.append(b"committer %s %d +0000\n" % (AUTHOR.encode(), when))
    out.append(data(b"import %d releases" % releases))
    name, email = AUTHOR[: AUTHOR.index(" <")], AUTHOR[AUTHOR.index("<") + 1 : -1]
    for i in range(releases):
        tag = "v1.%d" % i
        commit = commits[i + 1]
        date = stamp(start + timedelta(days=i, hours=1))
        record = {
            "schema": 1,
            "releases": {
                tag: {
                    "id": i + 1,
                    "name": tag,
                    "description": "Release %s\n\n- one change\n- another" % tag,
                    "created_at": date,
                    "released_at": date,
                    "author": {"name": name, "email": email},
                    "commit": commit,
                    "tag_target": commit,
                }
            },
        }
        note = (json.dumps(record, indent=2) + "\n").encode()
        out.append(b"N inline %s\n" % commit.encode())
        out.append(data(note))
        digest = hashlib.sha256(tag.encode()).hexdigest()
        index = json.dumps({"tag": tag, "commit": commit}, separators=(",", ":")).encode()
        out.append(b"M 100644 inline index/%s/%s\n" % (digest[:2].encode(), digest.encode()))
        out.append(data(index))
    project = {"schema": 1, "last_ids": {"release": releases}}
    out.append(b"M 100644 inline project.json\n")
    out.append(data((json.dumps(project, indent=2) + "\n").encode()))
    return b"".join(out)


def make(path: str, releases: int, start: datetime):
    os.makedirs(path)
    git(["init", "-q", "--bare", "-b", "main", path], cwd=".")
    marks = os.path.join(path, "generator-marks")
    git(["fast-import", "--quiet", "--export-marks=" + marks], cwd=path, stdin=history(releases, start))
    commits = {}
    with open(marks) as f:
        for line in f:
            mark, oid = line.split()
            commits[int(mark[1:])] = oid
    os.remove(marks)
    git(["fast-import", "--quiet"], cwd=path, stdin=store(releases, start, commits))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--top", default="all")
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if os.path.exists(args.dir) and os.listdir(args.dir):
        sys.exit(f"{args.dir} exists and is not empty")
    jobs = []
    for r in range(args.repos):
        group = "group-%02d" % (r % args.groups)
        path = os.path.join(args.dir, args.top, group, "repo-%04d.git" % r)
        jobs.append((path, EPOCH + timedelta(hours=r)))
    with ThreadPoolExecutor(args.jobs) as pool:
        for _ in pool.map(lambda job: make(job[0], args.releases, job[1]), jobs):
            pass
    print(f"{args.repos} repositories × {args.releases} releases in {args.groups} groups under {args.dir}")


if __name__ == "__main__":
    main()
