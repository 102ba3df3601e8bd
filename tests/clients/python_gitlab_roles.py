"""Drives `git release serve --tokens FILE --require-token-for-reads` with python-gitlab
as each of GitLab's roles, as a team's jobs and people would.

Run by tests/it/permissions.rs: python_gitlab_roles.py URL GUEST REPORTER DEVELOPER
MAINTAINER. The project `group/proj` (a private one: every request needs a token) has
releases `v0.1` (on a tag protected by `[[protected_tag]] pattern = "v*"`, Maintainers
only) with one link, and `beta-1` (unprotected). Every check is an assert; the last line
printed is the count of checks.
"""

import sys

import gitlab
from gitlab import exceptions

url, guest_token, reporter_token, developer_token, maintainer_token = sys.argv[1:6]
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
        if code == 403:
            check(e.error_message == "403 Forbidden", f"{what}: message {e.error_message!r}")
        return
    raise AssertionError(f"{what}: did not fail")


def client(token, username):
    gl = gitlab.Gitlab(url, private_token=token)
    gl.auth()
    check(gl.user.username == username, f"user {gl.user.username}, expected {username}")
    return gl, gl.projects.get("group/proj")


freezes = "/projects/1/freeze_periods"

# Anonymous: a private project is closed.
anonymous = gitlab.Gitlab(url)
fails_with(401, lambda: anonymous.projects.get(1).releases.list(), "anonymous read")

# Guest: releases with the repository left out, field by field as GitLab's entity.
gl, project = client(guest_token, "gus")
releases = project.releases.list(get_all=True)
check(len(releases) == 2, f"guest sees {len(releases)} releases")
for release in releases:
    attrs = release.attributes
    check(attrs["name"].startswith("Release-") and attrs["name"][8:].isdigit(),
          f"guest name {attrs['name']}")
    for hidden in ("tag_name", "commit", "commit_path", "tag_path", "evidences"):
        check(hidden not in attrs, f"guest sees {hidden}")
    check("sources" not in attrs["assets"], "guest sees sources")
    check(attrs["assets"]["count"] == len(attrs["assets"]["links"]), "guest count is links only")
    check(attrs["_links"] == {}, f"guest _links {attrs['_links']}")
    for kept in ("description", "created_at", "released_at", "upcoming_release", "author"):
        check(kept in attrs, f"guest lacks {kept}")
    for link in attrs["assets"]["links"]:
        check(link["direct_asset_url"] == link["url"], "a guest's direct asset URL names no tag")
    check("v0.1" not in str(attrs) and "beta-1" not in str(attrs), f"a tag name in {attrs}")
one = project.releases.get("v0.1")
check(one.name.startswith("Release-") and "tag_name" not in one.attributes, "guest get")
check(len(project.milestones.list(get_all=True)) == 1, "guest reads milestones")
fails_with(403, lambda: project.tags.list(), "guest lists tags")
fails_with(403, lambda: project.repository_archive(sha="v0.1", format="zip"), "guest archive")
fails_with(403, lambda: gl.http_list(freezes), "guest reads freeze periods")
fails_with(403, lambda: project.releases.create({"tag_name": "beta-9", "ref": "main"}), "guest creates")
fails_with(403, lambda: project.milestones.create({"title": "G"}), "guest creates a milestone")

# Reporter: reads everything, manages milestones, releases nothing.
gl, project = client(reporter_token, "rita")
full = project.releases.get("v0.1")
check(full.tag_name == "v0.1" and full.commit["id"], "reporter sees the whole release")
check(len(full.assets["sources"]) == 4 and full.name == "v0.1", "reporter sees sources and name")
check(len(project.tags.list(get_all=True)) == 2, "reporter lists tags")
check(gl.http_list(freezes, get_all=True) == [], "reporter reads freeze periods")
milestone = project.milestones.create({"title": "R1"})
check(milestone.title == "R1", "reporter creates a milestone")
project.milestones.delete(milestone.id)
fails_with(403, lambda: project.releases.create({"tag_name": "beta-9", "ref": "main"}), "reporter creates")
beta = project.releases.get("beta-1")
fails_with(403, lambda: beta.links.create({"name": "r", "url": "https://example.com/r"}), "reporter adds a link")
fails_with(403, lambda: gl.http_post(freezes, post_data={"freeze_start": "0 1 * * *", "freeze_end": "0 2 * * *"}),
           "reporter creates a freeze period")

# Developer: releases and links on tags nobody protected; nothing on `v*`.
gl, project = client(developer_token, "dev")
fails_with(403, lambda: project.releases.create({"tag_name": "v1.0", "ref": "main", "name": "nope"}),
           "developer creates v1.0 on a protected tag")
fails_with(404, lambda: project.tags.get("v1.0"), "the refused create made no tag")
fails_with(404, lambda: project.releases.get("v1.0"), "the refused create made no release")
made = project.releases.create({"tag_name": "beta-2", "ref": "main", "description": "by a developer"})
check(made.author["username"] == "dev" and made.author["name"] == "Dee Veloper", f"author {made.author}")
check(made.author["email"] == "dev@example.com", "author email")
beta2 = project.releases.get("beta-2")
beta2.description = "changed"
beta2.save()
check(project.releases.get("beta-2").description == "changed", "developer updates")
link = beta2.links.create({"name": "app", "url": "https://example.com/app"})
check(link.name == "app", "developer adds a link")
v01 = project.releases.get("v0.1")
fails_with(403, lambda: v01.links.create({"name": "x", "url": "https://example.com/x"}),
           "developer adds a link on a protected tag")
v01.description = "developer was here"
fails_with(403, v01.save, "developer updates a release on a protected tag")
fails_with(403, lambda: project.releases.delete("beta-2"), "developer deletes")
check(len(gl.http_list(freezes, get_all=True)) == 0, "developer reads freeze periods")
fails_with(403, lambda: gl.http_post(freezes, post_data={"freeze_start": "0 1 * * *", "freeze_end": "0 2 * * *"}),
           "developer creates a freeze period")

# Maintainer: protected tags, deletes, freeze periods.
gl, project = client(maintainer_token, "mia")
v10 = project.releases.create({"tag_name": "v1.0", "ref": "main", "name": "One"})
check(v10.tag_name == "v1.0" and v10.author["username"] == "mia", "maintainer creates v1.0")
check(isinstance(v10.author["id"], int) and v10.author["id"] > 0, f"author id {v10.author['id']}")
check(v10.author["id"] != made.author["id"], "each user has an id of their own")
check(v10.author["state"] == "active", "author state")
v10.description = "by the maintainer"
v10.save()
check(project.releases.get("v1.0").description == "by the maintainer", "maintainer updates v1.0")
mlink = project.releases.get("v1.0").links.create({"name": "bin", "url": "https://example.com/bin"})
check(mlink.name == "bin", "maintainer adds a link on a protected tag")
project.releases.delete("beta-2")
fails_with(404, lambda: project.releases.get("beta-2"), "maintainer deleted beta-2")
freeze = gl.http_post(freezes, post_data={"freeze_start": "0 1 * * *", "freeze_end": "0 2 * * *"})
check(freeze["freeze_start"] == "0 1 * * *", "maintainer creates a freeze period")
gl.http_delete(f"{freezes}/{freeze['id']}")

print(f"{checks} checks passed")
