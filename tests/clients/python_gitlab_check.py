"""Drives `git release serve` with python-gitlab, as a release job would drive GitLab.

Run by tests/it/serve.rs: python_gitlab_check.py URL TOKEN ARCHIVE_OUT. The repository
has 25 releases v1.0 .. v1.24 plus release/2.0, a milestone-free history and a branch
`main`. Every check is an assert; the last line printed is the count of checks.
"""

import sys

import gitlab
from gitlab import exceptions

url, token, archive_out = sys.argv[1], sys.argv[2], sys.argv[3]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def fails_with(code, call, what):
    try:
        call()
    except exceptions.GitlabError as e:
        check(e.response_code == code, f"{what}: got {e.response_code}, expected {code}")
        return
    raise AssertionError(f"{what}: did not fail")


gl = gitlab.Gitlab(url, private_token=token)
gl.auth()
check(gl.user.username == "carl", f"user {gl.user.username}")
version, _ = gl.version()
check(version.startswith("17."), f"version {version}")

project = gl.projects.get("group/proj")
check(project.id == 1, "project id")
check(project.path_with_namespace == "group/proj", "path_with_namespace")
check(project.web_url == f"{url}/group/proj", f"web_url {project.web_url}")
check(project.default_branch == "main", "default_branch")

# Pagination: get_all follows the Link headers across pages.
releases = project.releases.list(get_all=True, per_page=10)
tags = [r.tag_name for r in releases]
check(len(tags) == 26, f"get_all found {len(tags)}")
check(len(set(tags)) == 26, "no release listed twice")
dates = [r.released_at for r in releases]
check(dates == sorted(dates, reverse=True), "newest first")
lazy = project.releases.list(iterator=True, per_page=7)
check(lazy.total == 26 and lazy.total_pages == 4, f"iterator totals {lazy.total}")
check([r.tag_name for r in lazy] == tags, "iterator and get_all agree")
oldest = project.releases.list(order_by="released_at", sort="asc", per_page=1, page=1)
check(oldest[0].tag_name == "v1.0", f"oldest {oldest[0].tag_name}")

release = project.releases.get("v1.0")
check(release.tag_name == "v1.0" and release.commit["id"], "get v1.0")
check(release.assets["count"] == 4, "four sources")
slashed = project.releases.get("release/2.0")
check(slashed.tag_name == "release/2.0", "a tag with a slash")
fails_with(404, lambda: project.releases.get("no-such-tag"), "missing tag")

# Writes, with the token.
created = project.releases.create(
    {
        "tag_name": "v9.0",
        "ref": "main",
        "name": "Nine",
        "description": "Made by **python-gitlab**",
        "assets": {
            "links": [
                {
                    "name": "app",
                    "url": "https://example.com/app",
                    "direct_asset_path": "/bin/app",
                    "link_type": "package",
                }
            ]
        },
    }
)
check(created.name == "Nine", "create returned the release")
check(created.assets["links"][0]["direct_asset_url"] == f"{url}/group/proj/-/releases/v9.0/downloads/bin/app",
      "direct asset URL on this server")
fails_with(409, lambda: project.releases.create({"tag_name": "v9.0"}), "duplicate create")
fails_with(422, lambda: project.releases.create({"tag_name": "v9.1"}), "no ref for a new tag")

nine = project.releases.get("v9.0")
nine.name = "Nine!"
nine.description = "changed"
nine.save()
check(project.releases.get("v9.0").name == "Nine!", "update")

links = nine.links.list()
check(len(links) == 1 and links[0].name == "app", "links list")
doc = nine.links.create({"name": "docs", "url": "https://example.com/docs"})
check(doc.id > 0, "link create")
doc.name = "manual"
doc.save()
check(nine.links.get(doc.id).name == "manual", "link update")
nine.links.delete(doc.id)
fails_with(404, lambda: nine.links.get(doc.id), "deleted link")

milestone = project.milestones.create({"title": "M1", "due_date": "2030-01-31"})
check(milestone.title == "M1" and milestone.state == "active", "milestone create")
milestone.state_event = "close"
milestone.save()
check(project.milestones.get(milestone.id).state == "closed", "milestone close")
check([m.title for m in project.milestones.list(get_all=True)] == ["M1"], "milestone list")
project.milestones.delete(milestone.id)
fails_with(404, lambda: project.milestones.get(milestone.id), "deleted milestone")

# python-gitlab has no manager for the Freeze Periods API: its generic HTTP calls.
freezes = f"/projects/{project.id}/freeze_periods"
freeze = gl.http_post(
    freezes, post_data={"freeze_start": "0 23 * * 5", "freeze_end": "0 7 * * 1", "cron_timezone": "UTC"}
)
check(freeze["freeze_start"] == "0 23 * * 5", "freeze create")
gl.http_put(f"{freezes}/{freeze['id']}", post_data={"freeze_end": "0 8 * * 1"})
check(gl.http_get(f"{freezes}/{freeze['id']}")["freeze_end"] == "0 8 * * 1", "freeze update")
check(len(gl.http_list(freezes, get_all=True)) == 1, "freeze list")
fails_with(400, lambda: gl.http_post(freezes, post_data={"freeze_start": "nope", "freeze_end": "0 7 * * 1"}),
           "bad cron")
gl.http_delete(f"{freezes}/{freeze['id']}")
fails_with(404, lambda: gl.http_get(f"{freezes}/{freeze['id']}"), "deleted freeze")

archive = project.repository_archive(sha="v1.0", format="zip")
check(archive[:2] == b"PK", "zip archive")
with open(archive_out, "wb") as f:
    f.write(archive)

tag = project.tags.get("v1.0")
check(tag.release["tag_name"] == "v1.0", "tag with its release")
check(len(project.tags.list(get_all=True)) == 27, "tags list")

project.releases.delete("v9.0")
fails_with(404, lambda: project.releases.get("v9.0"), "deleted release")
check(project.tags.get("v9.0").name == "v9.0", "delete keeps the tag")

# Without a token reads work and writes are refused.
anonymous = gitlab.Gitlab(url)
open_project = anonymous.projects.get(1)
check(len(open_project.releases.list(get_all=True)) == 26, "anonymous read")
fails_with(401, lambda: open_project.releases.create({"tag_name": "v1.0-anon", "ref": "main"}),
           "anonymous write")
wrong = gitlab.Gitlab(url, private_token="wrong")
fails_with(401, lambda: wrong.projects.get(1), "wrong token")

print(f"python-gitlab: {checks} checks passed")
