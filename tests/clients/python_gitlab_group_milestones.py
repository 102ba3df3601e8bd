"""Group milestones through python-gitlab's `group.milestones`, against a
`git release serve --root`.

Run by tests/it/group_milestones.rs: python_gitlab_group_milestones.py URL TOKEN. The
root holds platform/api and platform/tools/cli (groups platform and platform/tools).
Every check is an assert; the last line printed is the count of checks.
"""

import sys

import gitlab
from gitlab import exceptions

url, token = sys.argv[1], sys.argv[2]
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


gl = gitlab.Gitlab(url, private_token=token)
platform = gl.groups.get("platform")
check(platform.milestones.list(get_all=True) == [], "no milestones yet")

made = platform.milestones.create({"title": "2.0", "due_date": "2030-01-01"})
check(made.title == "2.0" and made.group_id == platform.id, f"created {made}")
try:
    platform.milestones.create({"title": "2.0"})
    check(False, "a duplicate title is refused")
except exceptions.GitlabCreateError as e:
    check(e.response_code == 400, f"duplicate: {e.response_code}")

got = platform.milestones.get(made.id)
got.description = "the big one"
got.state_event = "close"
got.save()
again = platform.milestones.get(made.id)
check(again.description == "the big one" and again.state == "closed", f"updated {again}")
check([m.title for m in platform.milestones.list(state="closed")] == ["2.0"], "closed filter")

api = gl.projects.get("platform/api")
release = api.releases.create({"tag_name": "v1", "ref": "main", "milestones": ["2.0"]})
check([m["title"] for m in release.milestones] == ["2.0"], f"release {release.milestones}")
check(release.milestones[0]["group_id"] == platform.id, "a group milestone")

platform.milestones.create({"title": "P"})
cli = gl.projects.get("platform/tools/cli")
try:
    cli.releases.create({"tag_name": "v1", "ref": "main", "milestones": ["P"]})
    check(False, "an ancestor group's milestone is refused")
except exceptions.GitlabCreateError as e:
    check(e.response_code == 400, f"ancestor: {e.response_code}")
    check("None of the group milestones" in str(e.error_message), f"ancestor: {e.error_message}")

platform.milestones.delete(made.id)
try:
    platform.milestones.get(made.id)
    check(False, "deleted")
except exceptions.GitlabGetError as e:
    check(e.response_code == 404, "deleted: 404")

print(f"{checks} checks passed")
