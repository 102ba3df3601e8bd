"""Reads a `git release serve --root` with python-gitlab, as a script listing what a
group of projects shipped would read GitLab.

Run by tests/it/groups.rs: python_gitlab_groups.py URL TOKEN. The root holds
team/app (2 releases), team/sub/lib (2 releases) and top (none). Every check is an
assert; the last line printed is the count of checks.
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


gl = gitlab.Gitlab(url, private_token=token, per_page=1)

projects = gl.projects.list(get_all=True, order_by="path", sort="asc")
paths = [p.path_with_namespace for p in projects]
check(paths == ["team/app", "team/sub/lib", "top"], f"projects {paths}")
check(len({p.id for p in projects}) == 3, "project ids are unique")

groups = gl.groups.list(get_all=True)
check(sorted(g.full_path for g in groups) == ["team", "team/sub"], f"groups {groups}")
team = gl.groups.get("team")
check(team.full_path == "team" and team.parent_id is None, "team")
check([p["path_with_namespace"] for p in team.attributes["projects"]] == ["team/app"], "team's own projects")
sub = gl.groups.get(next(g.id for g in groups if g.full_path == "team/sub"))
check(sub.parent_id == team.id, "sub's parent")

direct = team.projects.list(get_all=True)
check([p.path for p in direct] == ["app"], f"direct {direct}")
every = team.projects.list(get_all=True, include_subgroups=True, order_by="path", sort="asc")
check([p.path_with_namespace for p in every] == ["team/app", "team/sub/lib"], f"all {every}")
check([g.full_path for g in team.subgroups.list(get_all=True)] == ["team/sub"], "subgroups")
check([g.full_path for g in team.descendant_groups.list(get_all=True)] == ["team/sub"], "descendants")

for path, count in [("team/app", 2), ("team/sub/lib", 2), ("top", 0)]:
    project = gl.projects.get(path)
    check(project.path_with_namespace == path, path)
    releases = project.releases.list(get_all=True)
    check(len(releases) == count, f"{path}: {len(releases)} releases")
    same = gl.projects.get(project.id)
    check(same.path_with_namespace == path, f"{path} by id")

lib = gl.projects.get("team/sub/lib")
check(lib.namespace["full_path"] == "team/sub", "lib's namespace")
created = lib.releases.create({"tag_name": "v9.0", "ref": "main", "description": "from python"})
check(created.tag_name == "v9.0", "created in lib")
check(len(gl.projects.get("team/app").releases.list(get_all=True)) == 2, "app unchanged")

# Packages published to two projects, listed by their group.
for path, name in [("team/app", "app-bin"), ("team/sub/lib", "lib-bin")]:
    gl.projects.get(path, lazy=True).generic_packages.upload(
        package_name=name, package_version="1.0.0", file_name="x.bin", data=b"bytes")
listed = team.packages.list(get_all=True, order_by="project_path", sort="asc")
check([(p.name, p.project_path) for p in listed] == [("app-bin", "team/app"), ("lib-bin", "team/sub/lib")],
      f"group packages {[p.attributes for p in listed]}")
own = team.packages.list(get_all=True, exclude_subgroups=True)
check([p.name for p in own] == ["app-bin"], f"exclude_subgroups {own}")

try:
    gl.groups.get(999999)
    raise AssertionError("group 999999 exists")
except exceptions.GitlabGetError as e:
    check(e.response_code == 404, "missing group")

print(f"{checks} checks passed")
