"""Reads a releases.atom with feedparser, a real feed reader's parser, and prints what
it understood as JSON. Exits 1 when feedparser calls the feed malformed ("bozo") or
not Atom 1.0.

usage: python feed_check.py FEED
"""
import json
import sys

import feedparser

feed = feedparser.parse(sys.argv[1])
problems = []
if feed.bozo:
    problems.append(f"malformed: {feed.bozo_exception!r}")
if feed.version != "atom10":
    problems.append(f"version is {feed.version!r}, not atom10")
for key in ("id", "title", "updated"):
    if not feed.feed.get(key):
        problems.append(f"feed has no {key}")
rels = {link.get("rel"): link.get("href") for link in feed.feed.get("links", [])}
for rel in ("self", "alternate"):
    if rel not in rels:
        problems.append(f"feed has no link rel={rel}")
entries = []
for entry in feed.entries:
    for key in ("id", "title", "updated", "published", "link", "author"):
        if not entry.get(key):
            problems.append(f"entry {entry.get('id')!r} has no {key}")
    content = entry.get("content") or [{}]
    if content[0].get("type") != "text/html":
        problems.append(f"entry {entry.get('id')!r} content is {content[0].get('type')!r}")
    entries.append({
        "id": entry.get("id"),
        "title": entry.get("title"),
        "link": entry.get("link"),
        "author": entry.get("author"),
        "content": content[0].get("value"),
    })
print(json.dumps({"version": feed.version, "links": rels, "entries": entries,
                  "problems": problems}, indent=2))
sys.exit(1 if problems else 0)
