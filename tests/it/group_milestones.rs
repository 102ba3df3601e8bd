//! Group milestones: kept in the group's repository (`<group>/.group.git` in a root's
//! layout), made with `milestone --group` and over HTTP, named by the releases of the
//! group's projects; an ancestor group's refused; a clone without the group's
//! repository shows what the release kept. Plain git is the oracle for what is stored.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::serve::{Server, TOKEN, start};
use crate::support::{Env, NOW};

/// A root as `serve --root` lays it out: `platform` (id 7) with the work tree
/// `platform/api`, and its subgroup `platform/tools` (id 8) with `platform/tools/cli`.
fn build_root(env: &Env) -> PathBuf {
    env.set("GIT_RELEASE_NOW", NOW);
    let root = env.path().join("root");
    for (dir, text) in [
        ("platform", "[group]\n\tid = 7\n\tpath = platform\n"),
        (
            "platform/tools",
            "[group]\n\tid = 8\n\tpath = platform/tools\n",
        ),
    ] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join(".git-release-group"), text).unwrap();
    }
    std::fs::write(root.join(".git-release-root"), "").unwrap();
    for project in ["platform/api", "platform/tools/cli"] {
        let repo = env.at(root.join(project));
        std::fs::create_dir_all(repo.path()).unwrap();
        repo.git(["init", "-q"]);
        repo.commit("first", &[("a.txt", "a\n")]);
    }
    root
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The group repository's milestones file, as git shows it.
fn group_milestones(env: &Env, group_repo: &Path) -> Value {
    let out = env
        .at(group_repo)
        .git(["show", "refs/notes/releases:milestones.json"]);
    json(&out)
}

fn group_notes(env: &Env, group_repo: &Path) -> String {
    env.at(group_repo).git(["rev-parse", "refs/notes/releases"])
}

/// The titles of the milestones the group repository at `group_repo` keeps.
fn group_titles(env: &Env, group_repo: &Path) -> Vec<String> {
    titles(&group_milestones(env, group_repo)["milestones"])
}

/// Creating release v1 of `platform/tools/cli` naming `title`, a milestone of its
/// ancestor group, is GitLab's 400.
#[track_caller]
fn assert_ancestor_milestone_refused(server: &Server, title: &str) {
    let answer = post(
        server,
        "/api/v4/projects/platform%2Ftools%2Fcli/releases",
        json!({"tag_name": "v1", "ref": "main", "milestones": [title]}),
    );
    assert_eq!(
        answer,
        (
            400,
            json!({"message": "Validation failed: Milestone releases None of the group milestones have the same project as the release"})
        )
    );
}

/// `POST path` with a JSON body and the token: the status and the answer.
fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    call(server, "POST", path, Some(body))
}

fn titles(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn group_milestones_by_cli_are_kept_in_the_group_repository() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let group_repo = root.join("platform/.group.git");
    assert!(!group_repo.exists());

    let made = json(&api.release_ok([
        "--json",
        "milestone",
        "--group",
        "create",
        "2.0",
        "--due-date",
        "2030-01-01",
    ]));
    assert_eq!(made["title"], "2.0");
    assert_eq!(made["group_id"], 7);
    assert!(made.get("project_id").is_none(), "{made}");
    // Created on the group's first write: a bare repository, fsck-clean (its HEAD is
    // unborn: it holds only the notes ref), recording its group.
    assert_eq!(
        env.at(&group_repo)
            .git(["rev-parse", "--is-bare-repository"])
            .trim(),
        "true"
    );
    let fsck = env
        .at(&group_repo)
        .git_output(["fsck", "--strict", "--no-progress"]);
    assert!(fsck.status.success(), "{fsck:?}");
    assert!(
        !String::from_utf8_lossy(&fsck.stderr).contains("error"),
        "{fsck:?}"
    );
    assert_eq!(
        env.at(&group_repo)
            .git(["config", "release.groupPath"])
            .trim(),
        "platform"
    );
    assert_eq!(group_titles(&env, &group_repo), ["2.0"]);
    // The project's own store is untouched.
    assert_eq!(api.notes_ref(), None);

    api.release_ok(["milestone", "--group", "update", "2.0", "--title", "2.1"]);
    api.release_ok(["milestone", "--group", "create", "3.0"]);
    let listed = json(&api.release_ok(["--json", "milestone", "--group", "list"]));
    assert_eq!(titles(&listed), ["2.1", "3.0"]);
    // The project's list stays its own.
    assert_eq!(
        titles(&json(&api.release_ok(["--json", "milestone", "list"]))),
        Vec::<String>::new()
    );

    // Bad input: a clear error, nothing changed.
    let before = group_notes(&env, &group_repo);
    let err = api.release_err(1, ["milestone", "--group", "create", "2.1"]);
    assert!(err.contains("already exists"), "{err}");
    let err = api.release_err(
        1,
        [
            "milestone",
            "--group",
            "create",
            "4.0",
            "--due-date",
            "2030-13-01",
        ],
    );
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let err = api.release_err(
        1,
        ["milestone", "--group", "update", "nope", "--title", "x"],
    );
    assert!(err.contains("not found"), "{err}");
    assert_eq!(group_notes(&env, &group_repo), before);

    api.release_ok(["milestone", "--group", "delete", "3.0", "-y"]);
    assert_eq!(group_titles(&env, &group_repo), ["2.1"]);
}

#[test]
fn a_release_names_a_group_milestone() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let group_repo = root.join("platform/.group.git");
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    api.release_ok([
        "milestone",
        "--group",
        "issue",
        "add",
        "2.0",
        "--title",
        "Crash",
        "--state",
        "closed",
    ]);
    api.release_ok(["milestone", "create", "own"]);

    api.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--milestone",
        "2.0",
        "--milestone",
        "own",
    ]);
    let view = json(&api.release_ok(["--json", "view", "v1"]));
    let milestones = view["milestones"].as_array().unwrap();
    assert_eq!(titles(&view["milestones"]), ["own", "2.0"]);
    assert_eq!(milestones[0]["project_id"], 1);
    assert_eq!(milestones[1]["group_id"], 7);
    assert_eq!(milestones[1]["issue_stats"]["total"], 1);
    assert_eq!(milestones[1]["issue_stats"]["closed"], 1);
    // Its page is the group's (GitLab's schema is checked in gitlab_schemas.rs).
    api.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:platform/api.git",
    ]);
    let view = json(&api.release_ok(["--json", "view", "v1"]));
    assert_eq!(
        view["milestones"][1]["web_url"],
        "https://gitlab.example.com/groups/platform/-/milestones/1"
    );
    // The record keeps the group milestone's key and title.
    let note = json(&api.git(["notes", "--ref=releases", "show", "v1^{commit}"]));
    let kept = &note["releases"]["v1"]["group_milestones"][0];
    assert_eq!(kept["title"], "2.0");
    assert_eq!(kept["group"], "platform");
    let key = group_milestones(&env, &group_repo)["milestones"][0]["key"].clone();
    assert_eq!(kept["key"], key);
    // Evidence lists it with its issues, as GitLab's does.
    let evidence = json(&api.release_ok(["evidence", "show", "v1"]));
    let snapshot = &evidence["release"]["milestones"];
    assert_eq!(titles(snapshot), ["own", "2.0"]);
    assert_eq!(snapshot[1]["issues"][0]["title"], "Crash");
    // The group milestone's view lists the project's releases that name it.
    let viewed = json(&api.release_ok(["--json", "milestone", "--group", "view", "2.0"]));
    assert_eq!(viewed["releases"], serde_json::json!(["v1"]));

    // An unknown title: a clear error, no tag, no record.
    let notes = api.notes_ref();
    let err = api.release_err(1, ["create", "v2", "--ref", "HEAD", "--milestone", "nope"]);
    assert!(err.contains("\"nope\" not found"), "{err}");
    assert!(!api.ref_exists("refs/tags/v2"));
    assert_eq!(api.notes_ref(), notes);

    // Update may name it, or clear it.
    api.release_ok(["update", "v1", "--clear-milestones"]);
    assert!(
        json(&api.release_ok(["--json", "view", "v1"]))
            .get("milestones")
            .is_none()
    );
    api.release_ok(["update", "v1", "--milestone", "2.0"]);
    assert_eq!(
        titles(&json(&api.release_ok(["--json", "view", "v1"]))["milestones"]),
        ["2.0"]
    );
    api.assert_fsck_clean();
}

#[test]
fn an_ancestor_group_milestone_is_refused() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let cli = env.at(root.join("platform/tools/cli"));
    api.release_ok(["milestone", "--group", "create", "P"]);
    cli.release_ok(["milestone", "--group", "create", "T"]);
    assert!(root.join("platform/tools/.group.git/HEAD").is_file());

    let err = cli.release_err(1, ["create", "v1", "--ref", "HEAD", "--milestone", "P"]);
    assert!(err.contains("ancestor"), "{err}");
    assert!(err.contains("\"platform\""), "{err}");
    assert!(!cli.ref_exists("refs/tags/v1"));
    assert_eq!(cli.notes_ref(), None);
    // Its own group's milestone is fine.
    cli.release_ok(["create", "v1", "--ref", "HEAD", "--milestone", "T"]);
    let view = json(&cli.release_ok(["--json", "view", "v1"]));
    assert_eq!(view["milestones"][0]["group_id"], 8);
}

#[test]
fn a_clone_without_the_group_repository_shows_the_kept_title() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    api.release_ok(["create", "v1", "--ref", "HEAD", "--milestone", "2.0"]);

    let clone_dir = env.path().join("elsewhere/api");
    std::fs::create_dir_all(clone_dir.parent().unwrap()).unwrap();
    env.at(env.path()).git([
        "clone",
        "-q",
        api.path().to_str().unwrap(),
        clone_dir.to_str().unwrap(),
    ]);
    let clone = env.at(&clone_dir);
    clone.release_ok(["fetch"]);
    let out = clone.release(["--json", "view", "v1"]);
    assert!(out.status.success());
    let view = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(titles(&view["milestones"]), ["2.0"]);
    assert_eq!(view["milestones"][0]["group_id"], 7);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not here"), "{stderr}");
    // Human output too.
    let out = clone.release(["view", "v1"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("2.0"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not here"));

    // Renamed in the group from this project: the view follows at once, and so does
    // what its releases keep, which a clone without the group's repository shows.
    let out = api.release([
        "milestone",
        "--group",
        "update",
        "2.0",
        "--title",
        "2.0-final",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refreshed what 1 release(s)"), "{stderr}");
    assert_eq!(
        titles(&json(&api.release_ok(["--json", "view", "v1"]))["milestones"]),
        ["2.0-final"]
    );
    let kept = |field: &str| {
        let note = json(&api.git(["notes", "--ref=releases", "show", "v1^{commit}"]));
        note["releases"]["v1"]["group_milestones"][0][field].clone()
    };
    assert_eq!(kept("title"), "2.0-final");
    clone.release_ok(["fetch"]);
    let view = json(&clone.release_ok(["--json", "view", "v1"]));
    assert_eq!(titles(&view["milestones"]), ["2.0-final"]);

    // Closed through the group's API, where no command of the project runs: the next
    // `push` of the project refreshes what its releases keep, and publishes it.
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
    let id = call(&server, "GET", "/api/v4/groups/platform/milestones", None).1[0]["id"].clone();
    let (status, body) = call(
        &server,
        "PUT",
        &format!("/api/v4/groups/platform/milestones/{id}"),
        Some(json!({"state_event": "close"})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(kept("state"), "active");
    let remote = env.path().join("remote.git");
    env.at(env.path())
        .git(["init", "-q", "--bare", remote.to_str().unwrap()]);
    api.git(["remote", "add", "origin", remote.to_str().unwrap()]);
    let out = api.release(["push"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refreshed what 1 release(s)"), "{stderr}");
    assert_eq!(kept("state"), "closed");
    // Nothing changed since: the next push refreshes nothing.
    let again = api.release(["push"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("refreshed"));
    clone.git(["remote", "set-url", "origin", remote.to_str().unwrap()]);
    clone.release_ok(["fetch"]);
    let view = json(&clone.release_ok(["--json", "view", "v1"]));
    assert_eq!(view["milestones"][0]["state"], "closed", "{view}");
    api.assert_fsck_clean();
}

#[test]
fn a_committed_group_repository_cannot_point_elsewhere() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    api.commit(
        "config",
        &[(
            ".git-release.toml",
            "[group]\nrepository = \"../../x.git\"\n",
        )],
    );
    let err = api.release_err(1, ["milestone", "--group", "create", "2.0"]);
    assert!(err.contains("never a path"), "{err}");
    let err = api.release_err(1, ["create", "v1", "--ref", "HEAD", "--milestone", "2.0"]);
    assert!(err.contains("never a path"), "{err}");
    assert!(!root.join("x.git").exists() && !env.path().join("x.git").exists());
    assert!(!api.ref_exists("refs/tags/v1"));
    // A group path with `..` is refused as well.
    api.commit(
        "config",
        &[(".git-release.toml", "[group]\npath = \"../etc\"\n")],
    );
    let err = api.release_err(1, ["milestone", "--group", "list"]);
    assert!(err.contains("group path"), "{err}");
    // The user's own git config may name any place.
    let elsewhere = env.path().join("groups/platform.git");
    api.commit("config", &[(".git-release.toml", "")]);
    api.git([
        "config",
        "release.groupRepository",
        elsewhere.to_str().unwrap(),
    ]);
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    assert!(elsewhere.join("HEAD").is_file());
}

/// `(status, body)` of a request with the token.
fn call(server: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let reply = server.call(method, path, Some(TOKEN), body.as_deref());
    let value = if reply.body.is_empty() {
        Value::Null
    } else {
        reply.json()
    };
    (reply.status, value)
}

#[test]
fn group_milestones_over_http_as_gitlab() {
    let env = Env::new();
    let root = build_root(&env);
    let group_repo = root.join("platform/.group.git");
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
    let milestones = "/api/v4/groups/platform/milestones";

    // Nothing yet, and reading makes nothing.
    assert_eq!(call(&server, "GET", milestones, None), (200, json!([])));
    assert!(!group_repo.exists());
    // Bad input: GitLab's errors, and no repository made for it.
    let (status, body) = post(
        &server,
        milestones,
        json!({"title": "2.0", "due_date": "2030-13-01"}),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(&server, milestones, json!({"description": "no title"}));
    assert_eq!(status, 400);
    assert!(!group_repo.exists());
    let anonymous = server.call("POST", milestones, None, Some(r#"{"title":"x"}"#));
    assert_eq!(anonymous.status, 401);

    let (status, made) = post(
        &server,
        milestones,
        json!({"title": "2.0", "due_date": "2030-01-01"}),
    );
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["group_id"], 7);
    assert_eq!(made["title"], "2.0");
    assert_eq!(made["due_date"], "2030-01-01");
    assert!(made.get("project_id").is_none());
    assert!(group_repo.join("HEAD").is_file());
    let id = made["id"].as_u64().unwrap();
    let (status, body) = call(&server, "POST", milestones, Some(json!({"title": "2.0"})));
    assert_eq!(
        (status, body),
        (
            400,
            json!({"message": "Failed to create milestone: title has already been taken"})
        )
    );
    // The command line sees what the server made, in the group's repository.
    assert_eq!(group_titles(&env, &group_repo), ["2.0"]);

    let one = format!("{milestones}/{id}");
    let (status, body) = call(&server, "PUT", &one, Some(json!({"title": "2.1"})));
    assert_eq!((status, body["title"].clone()), (200, json!("2.1")));
    let (status, body) = call(&server, "PUT", &one, Some(json!({"state_event": "close"})));
    assert_eq!((status, body["state"].clone()), (200, json!("closed")));
    let (status, _) = call(&server, "PUT", &one, Some(json!({})));
    assert_eq!(status, 400);
    let (status, body) = call(&server, "GET", &format!("{milestones}?state=closed"), None);
    assert_eq!((status, titles(&body)), (200, vec!["2.1".to_owned()]));
    assert_eq!(
        call(
            &server,
            "GET",
            "/api/v4/groups/platform/milestones/99",
            None
        )
        .0,
        404
    );
    assert_eq!(
        call(&server, "GET", "/api/v4/groups/nope/milestones", None).0,
        404
    );

    // The group's repository is no project, and no group of its own.
    let (_, projects) = call(
        &server,
        "GET",
        "/api/v4/projects?order_by=path&sort=asc",
        None,
    );
    let paths: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["platform/api", "platform/tools/cli"]);

    // A release of the group's project names it.
    let (status, release) = post(
        &server,
        "/api/v4/projects/platform%2Fapi/releases",
        json!({"tag_name": "v1", "ref": "main", "milestones": ["2.1"]}),
    );
    assert_eq!(status, 201, "{release}");
    assert_eq!(titles(&release["milestones"]), ["2.1"]);
    assert_eq!(release["milestones"][0]["group_id"], 7);
    assert_eq!(release["milestones"][0]["state"], "closed");
    let (_, listed) = call(&server, "GET", "/api/v4/groups/platform/releases", None);
    assert_eq!(titles(&listed[0]["milestones"]), ["2.1"]);

    // An ancestor group's milestone: GitLab's 400, nothing made.
    let (status, _) = call(&server, "POST", milestones, Some(json!({"title": "P"})));
    assert_eq!(status, 201);
    let cli = env.at(root.join("platform/tools/cli"));
    assert_ancestor_milestone_refused(&server, "P");
    assert!(!cli.ref_exists("refs/tags/v1"));
    assert_eq!(cli.notes_ref(), None);

    let (status, _) = call(&server, "DELETE", &one, None);
    assert_eq!(status, 204);
    assert_eq!(call(&server, "GET", &one, None).0, 404);
    assert_eq!(group_titles(&env, &group_repo), ["P"]);
}

#[test]
#[ignore = "needs python-gitlab (tests/requirements.txt); .ci/run runs it"]
fn python_gitlab_manages_group_milestones() {
    let venv = crate::support::tools::venv("gitlab");
    // In the root's default layout, and where the root keeps its groups' repositories
    // in another place.
    for place in [None, Some(".groups")] {
        let env = Env::new();
        let root = build_root(&env);
        if let Some(place) = place {
            configure_place(&env, &root, place);
        }
        env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
        let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
        crate::support::tools::python_client_checks(
            &venv,
            env.path(),
            "python_gitlab_group_milestones.py",
            &[&server.base, TOKEN],
            &server,
        );
        let group_repo = match place {
            Some(place) => root.join(place).join("platform.git"),
            None => root.join("platform/.group.git"),
        };
        assert_eq!(group_titles(&env, &group_repo), ["P"]);
        if place.is_some() {
            assert!(!root.join("platform/.group.git").exists());
        }
    }
}

/// `git config -f ROOT/.git-release-root registry.groupRepositories VALUE`.
fn configure_place(env: &Env, root: &Path, value: &str) {
    env.at(root).git([
        "config",
        "-f",
        root.join(".git-release-root").to_str().unwrap(),
        "registry.groupRepositories",
        value,
    ]);
}

fn project_paths(server: &Server) -> Vec<String> {
    let (_, projects) = call(
        server,
        "GET",
        "/api/v4/projects?order_by=path&sort=asc",
        None,
    );
    projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path_with_namespace"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_root_keeps_group_repositories_in_the_place_it_configures() {
    let env = Env::new();
    let root = build_root(&env);
    // Inside the root, in a directory the scan skips (its name starts with `.`).
    configure_place(&env, &root, ".groups");
    let place = root.join(".groups");
    let platform_repo = place.join("platform.git");
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
    let milestones = "/api/v4/groups/platform/milestones";

    let (status, made) = call(&server, "POST", milestones, Some(json!({"title": "2.0"})));
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["group_id"], 7);
    // Made on the group's first write, in the place; plain git reads it.
    let group = env.at(&platform_repo);
    assert_eq!(
        group.git(["rev-parse", "--is-bare-repository"]).trim(),
        "true"
    );
    assert_eq!(group_titles(&env, &platform_repo), ["2.0"]);
    assert_eq!(
        group
            .git(["log", "--format=%s", "refs/notes/releases"])
            .lines()
            .count(),
        1
    );
    let fsck = group.git_output(["fsck", "--strict", "--no-progress"]);
    assert!(fsck.status.success(), "{fsck:?}");
    assert!(
        !String::from_utf8_lossy(&fsck.stderr).contains("error"),
        "{fsck:?}"
    );
    assert_eq!(
        group.git(["config", "release.groupPath"]).trim(),
        "platform"
    );
    assert!(!root.join("platform/.group.git").exists());
    // The place's repositories are no projects.
    assert_eq!(
        project_paths(&server),
        ["platform/api", "platform/tools/cli"]
    );

    // A release made over HTTP names it ...
    let (status, release) = post(
        &server,
        "/api/v4/projects/platform%2Fapi/releases",
        json!({"tag_name": "v1", "ref": "main", "milestones": ["2.0"]}),
    );
    assert_eq!(status, 201, "{release}");
    assert_eq!(titles(&release["milestones"]), ["2.0"]);
    assert_eq!(release["milestones"][0]["group_id"], 7);
    // ... and so does one made by the command line in the project.
    let api = env.at(root.join("platform/api"));
    api.release_ok(["create", "v2", "--ref", "HEAD", "--milestone", "2.0"]);
    let view = json(&api.release_ok(["--json", "view", "v2"]));
    assert_eq!(titles(&view["milestones"]), ["2.0"]);
    assert_eq!(view["milestones"][0]["group_id"], 7);
    let viewed = json(&api.release_ok(["--json", "milestone", "--group", "view", "2.0"]));
    assert_eq!(viewed["releases"], json!(["v2", "v1"]));

    // The command line makes a subgroup's repository there too.
    let cli = env.at(root.join("platform/tools/cli"));
    cli.release_ok(["milestone", "--group", "create", "T"]);
    assert!(place.join("platform/tools.git/HEAD").is_file());
    assert!(!root.join("platform/tools/.group.git").exists());
    assert_eq!(group_titles(&env, &place.join("platform/tools.git")), ["T"]);

    // An ancestor group's milestone is refused, over HTTP and on the command line.
    assert_ancestor_milestone_refused(&server, "2.0");
    let err = cli.release_err(1, ["create", "v1", "--ref", "HEAD", "--milestone", "2.0"]);
    assert!(err.contains("ancestor"), "{err}");
    assert!(err.contains("\"platform\""), "{err}");
    assert!(!cli.ref_exists("refs/tags/v1"));
    assert_eq!(cli.notes_ref(), None);
    cli.release_ok(["create", "v1", "--ref", "HEAD", "--milestone", "T"]);
    let (_, subgroup) = call(
        &server,
        "GET",
        "/api/v4/groups/platform%2Ftools/milestones",
        None,
    );
    assert_eq!(titles(&subgroup), ["T"]);
    assert_eq!(
        project_paths(&server),
        ["platform/api", "platform/tools/cli"]
    );

    // A restarted server finds them where they are.
    drop(server);
    let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
    let (status, listed) = call(&server, "GET", milestones, None);
    assert_eq!((status, titles(&listed)), (200, vec!["2.0".to_owned()]));
    let (_, release) = call(
        &server,
        "GET",
        "/api/v4/projects/platform%2Fapi/releases/v2",
        None,
    );
    assert_eq!(release["milestones"][0]["title"], "2.0");
    assert!(!root.join("platform/.group.git").exists());
}

#[test]
fn group_repositories_given_on_the_command_line_and_outside_the_root() {
    let env = Env::new();
    let root = build_root(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    // Outside the root, relative to it in the root file.
    configure_place(&env, &root, "../groups");
    let api = env.at(root.join("platform/api"));
    api.release_ok(["milestone", "--group", "create", "filed"]);
    let filed = env.path().join("groups/platform.git");
    assert!(filed.join("HEAD").is_file());

    // The flag overrides the root file, for the group API and the releases the server
    // writes alike.
    let flagged = env.path().join("flagged");
    let server = start(
        &env.at(&root),
        &[
            "--root",
            root.to_str().unwrap(),
            "--group-repositories",
            flagged.to_str().unwrap(),
        ],
    );
    let (status, _) = post(
        &server,
        "/api/v4/groups/platform/milestones",
        json!({"title": "flag"}),
    );
    assert_eq!(status, 201);
    assert_eq!(group_titles(&env, &flagged.join("platform.git")), ["flag"]);
    let (status, release) = post(
        &server,
        "/api/v4/projects/platform%2Fapi/releases",
        json!({"tag_name": "v1", "ref": "main", "milestones": ["flag"]}),
    );
    assert_eq!(status, 201, "{release}");
    assert_eq!(release["milestones"][0]["group_id"], 7);
    let (status, _) = post(
        &server,
        "/api/v4/projects/platform%2Fapi/releases",
        json!({"tag_name": "v2", "ref": "main", "milestones": ["filed"]}),
    );
    assert_eq!(status, 400);
    drop(server);

    // The project's own git config still wins over the root's place.
    let own = env.path().join("own.git");
    api.git(["config", "release.groupRepository", own.to_str().unwrap()]);
    api.release_ok(["milestone", "--group", "create", "mine"]);
    assert!(own.join("HEAD").is_file());
    assert_eq!(group_titles(&env, &filed), ["filed"]);
}

#[test]
fn a_place_among_the_projects_is_refused() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let root_arg = root.to_str().unwrap().to_owned();
    for (value, flag) in [
        ("groups", None),
        (".", None),
        ("platform", None),
        ("..", None),
        ("", Some("groups")),
    ] {
        if flag.is_none() {
            configure_place(&env, &root, value);
        } else {
            configure_place(&env, &root, ".ok");
        }
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--root", &root_arg];
        let flagged = flag.map(|f| root.join(f).to_str().unwrap().to_owned());
        if let Some(flagged) = &flagged {
            args.extend(["--group-repositories", flagged]);
        }
        let err = env.at(&root).release_err(1, &args);
        assert!(err.contains("group repositories"), "{value:?}: {err}");
        if flag.is_none() {
            let err = env.at(&root).release_err(1, ["stats", "--root", &root_arg]);
            assert!(err.contains("registry.groupRepositories"), "{err}");
            // The project's command line refuses it as well, and makes nothing.
            let err = api.release_err(1, ["milestone", "--group", "create", "2.0"]);
            assert!(err.contains("group repositories"), "{value:?}: {err}");
        }
    }
    configure_place(&env, &root, "groups");
    let err = env.at(&root).release_err(1, ["serve", "--root", &root_arg]);
    assert!(err.contains("inside the root"), "{err}");
    assert!(err.contains("registry.groupRepositories"), "{err}");
    assert!(!root.join("groups").exists());
    assert!(!root.join("platform/.group.git").exists());
    assert!(!root.join("platform.git").exists());
    assert_eq!(api.notes_ref(), None);
    // A place that is a file is refused.
    std::fs::write(env.path().join("file"), "").unwrap();
    configure_place(&env, &root, "../file");
    let err = api.release_err(1, ["milestone", "--group", "create", "2.0"]);
    assert!(err.contains("not a directory"), "{err}");
}

/// `git release import -` of `text` in `repo`.
fn import(repo: &crate::support::Repo, text: &str) -> std::process::Output {
    let mut cmd = repo.release_command();
    cmd.args(["import", "-"]).write_stdin(text.to_owned());
    cmd.output().unwrap()
}

fn clone_to(env: &Env, from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    env.at(env.path())
        .git(["clone", "-q", from.to_str().unwrap(), to.to_str().unwrap()]);
}

#[test]
fn export_then_import_keeps_a_group_milestone_a_group_milestone() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let group_repo = root.join("platform/.group.git");
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    api.release_ok(["milestone", "create", "own"]);
    api.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--milestone",
        "2.0",
        "--milestone",
        "own",
    ]);
    // GitLab's export names the group in the milestone's `web_url`.
    api.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:platform/api.git",
    ]);
    let exported = api.release_ok(["export"]);
    assert!(
        exported.contains("https://gitlab.example.com/groups/platform/-/milestones/1"),
        "{exported}"
    );
    let key = group_milestones(&env, &group_repo)["milestones"][0]["key"].clone();

    // Into another project of the same group: the group's milestone, by its key.
    let web_dir = root.join("platform/web");
    clone_to(&env, api.path(), &web_dir);
    let web = env.at(&web_dir);
    let out = import(&web, &exported);
    assert!(out.status.success(), "{out:?}");
    let view = json(&web.release_ok(["--json", "view", "v1"]));
    assert_eq!(titles(&view["milestones"]), ["own", "2.0"]);
    assert_eq!(view["milestones"][1]["group_id"], 7);
    assert!(view["milestones"][1].get("project_id").is_none());
    assert_eq!(
        titles(&json(&web.release_ok(["--json", "milestone", "list"]))),
        ["own"],
        "no project milestone made for the group's"
    );
    let note = json(&web.git(["notes", "--ref=releases", "show", "v1^{commit}"]));
    let kept = &note["releases"]["v1"]["group_milestones"][0];
    assert_eq!((&kept["key"], &kept["title"]), (&key, &json!("2.0")));
    assert_eq!(
        group_titles(&env, &group_repo),
        ["2.0"],
        "the group is unchanged"
    );
    web.assert_fsck_clean();

    // Into a repository in no group: kept by title, with a notice; still a group
    // milestone.
    let alone_dir = env.path().join("elsewhere/api");
    clone_to(&env, api.path(), &alone_dir);
    let alone = env.at(&alone_dir);
    let out = import(&alone, &exported);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("group milestone \"2.0\"") && stderr.contains("kept by its title"),
        "{stderr}"
    );
    let view = alone.release(["--json", "view", "v1"]);
    let view = json(&String::from_utf8_lossy(&view.stdout));
    assert_eq!(titles(&view["milestones"]), ["own", "2.0"]);
    assert_eq!(view["milestones"][1]["group_id"], 7);
    assert_eq!(
        titles(&json(&alone.release_ok(["--json", "milestone", "list"]))),
        ["own"]
    );
    let note = json(&alone.git(["notes", "--ref=releases", "show", "v1^{commit}"]));
    let kept = &note["releases"]["v1"]["group_milestones"][0];
    assert_eq!(kept["title"], "2.0");
    assert_eq!(kept["group"], "platform");
    assert_eq!(kept["group_id"], 7);
    alone.assert_fsck_clean();

    // Into a project of another group, whose repository has no such milestone: kept
    // by title with a notice, and the other group is not written to.
    let other_dir = root.join("other/api");
    clone_to(&env, api.path(), &other_dir);
    std::fs::write(
        root.join("other/.git-release-group"),
        "[group]\n\tid = 9\n\tpath = other\n",
    )
    .unwrap();
    let other = env.at(&other_dir);
    other.release_ok(["milestone", "--group", "create", "theirs"]);
    let before = group_notes(&env, &root.join("other/.group.git"));
    let out = import(&other, &exported);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has no milestone of that title"),
        "{stderr}"
    );
    assert_eq!(group_notes(&env, &root.join("other/.group.git")), before);
    assert_eq!(
        titles(&json(&other.release_ok(["--json", "milestone", "list"]))),
        ["own"]
    );
}

#[test]
fn config_lists_the_group_settings_and_where_they_come_from() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let entry = |key: &str| -> Value {
        let all = json(&api.release_ok(["config", "--list", "--json"]));
        all.as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {all}"))
    };
    let canonical = root.canonicalize().unwrap();
    let repository = entry("group.repository");
    assert_eq!(
        repository["value"],
        canonical.join("platform/.group.git").to_str().unwrap()
    );
    assert!(
        repository["source"]
            .as_str()
            .unwrap()
            .starts_with("default"),
        "{repository}"
    );
    assert_eq!(entry("group.path")["value"], "platform");

    configure_place(&env, &root, ".groups");
    let repository = entry("group.repository");
    assert_eq!(
        repository["value"],
        canonical.join(".groups/platform.git").to_str().unwrap()
    );
    assert!(
        repository["source"]
            .as_str()
            .unwrap()
            .contains("registry.groupRepositories"),
        "{repository}"
    );

    api.git(["config", "release.groupRepository", "/srv/elsewhere.git"]);
    api.git(["config", "release.group", "platform"]);
    assert_eq!(
        api.release_ok(["config", "group.repository"]),
        "/srv/elsewhere.git\n"
    );
    let path = entry("group.path");
    assert_eq!(path["source"], "git config release.group (local)", "{path}");
    assert_eq!(
        entry("group.repository")["source"],
        "git config release.groupRepository (local)"
    );

    // A bad setting is shown as such; the rest of the list is still there.
    api.git(["config", "release.group", "../etc"]);
    let path = entry("group.path");
    assert!(path["value"].is_null(), "{path}");
    assert!(
        path["source"].as_str().unwrap().starts_with("invalid"),
        "{path}"
    );
    assert_eq!(entry("hook.freeze")["value"], "refuse");
    // A project at the top of a root is in no group.
    let top = env.at(root.join("top"));
    std::fs::create_dir_all(top.path()).unwrap();
    top.git(["init", "-q"]);
    let out = top.release_ok(["config", "--list", "--json"]);
    let all = json(&out);
    let group = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "group.repository")
        .unwrap();
    assert!(group["value"].is_null(), "{group}");
}

#[test]
fn verify_finds_a_group_milestone_the_group_no_longer_has() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    api.release_ok(["milestone", "--group", "create", "3.0"]);
    api.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--milestone",
        "2.0",
        "--milestone",
        "3.0",
    ]);
    let (code, out) = crate::support::verify(&api, &["v1"]);
    assert_eq!(code, 0, "{out}");

    // A clone without the group's repository: not checked, and said so.
    let clone_dir = env.path().join("elsewhere/api");
    clone_to(&env, api.path(), &clone_dir);
    let clone = env.at(&clone_dir);
    clone.release_ok(["fetch"]);
    let out = clone.release(["verify", "v1"]);
    assert!(out.status.success(), "{out:?}");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("2 group milestone(s) not checked"), "{text}");

    // Deleted in the group: a finding naming it, and the fix.
    api.release_ok(["milestone", "--group", "delete", "2.0", "-y"]);
    let (code, out) = crate::support::verify(&api, &["v1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("group milestone \"2.0\""), "{out}");
    assert!(!out.contains("\"3.0\""), "{out}");
    let (code, out) = crate::support::verify(&api, &["--all"]);
    assert_eq!(code, 1, "{out}");
    let report = api.release(["--json", "verify", "v1"]);
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("group_milestone_missing"), "{text}");
    // doctor finds it too, and says so in a clone without the group.
    let out = api.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("names the group milestone \"2.0\"") && stdout.contains("fix:"),
        "{stdout}"
    );
    let out = clone.release(["doctor"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not checked"),
        "{out:?}"
    );
    // Named again: clean.
    api.release_ok(["update", "v1", "--clear-milestones"]);
    api.release_ok(["update", "v1", "--milestone", "3.0"]);
    let (code, out) = crate::support::verify(&api, &["v1"]);
    assert_eq!(code, 0, "{out}");
    api.release_ok(["doctor"]);
}

#[test]
fn site_root_reads_group_milestones_where_group_repositories_says() {
    let env = Env::new();
    let root = build_root(&env);
    let api = env.at(root.join("platform/api"));
    let place = env.path().join("groups");
    configure_place(&env, &root, place.to_str().unwrap());
    api.release_ok(["milestone", "--group", "create", "2.0"]);
    api.release_ok(["create", "v1", "--ref", "HEAD", "--milestone", "2.0"]);
    // Renamed in the group's repository itself (no command of the project runs, so
    // the record still keeps "2.0"); a reader with that repository at hand shows the
    // new title.
    env.at(place.join("platform.git")).release_ok([
        "milestone",
        "update",
        "2.0",
        "--title",
        "2.0-final",
    ]);
    env.at(&root).git([
        "config",
        "-f",
        root.join(".git-release-root").to_str().unwrap(),
        "--unset",
        "registry.groupRepositories",
    ]);
    let site = |flag: Option<&Path>, out: &Path| {
        let mut args = vec![
            "site".to_owned(),
            "--root".to_owned(),
            root.to_str().unwrap().to_owned(),
            "--output".to_owned(),
            out.to_str().unwrap().to_owned(),
        ];
        if let Some(flag) = flag {
            args.extend([
                "--group-repositories".to_owned(),
                flag.display().to_string(),
            ]);
        }
        env.at(env.path()).release_ok(&args);
        let list =
            std::fs::read_to_string(out.join("projects/platform/api/releases.json")).unwrap();
        titles(&json(&list)[0]["milestones"])
    };
    assert_eq!(site(Some(&place), &env.path().join("with")), ["2.0-final"]);
    // Without it, the root's default layout has no such repository: what was kept.
    assert_eq!(site(None, &env.path().join("without")), ["2.0"]);
    // A bad place is refused, and nothing is written.
    let err = env.at(env.path()).release_err(
        1,
        [
            "site",
            "--root",
            root.to_str().unwrap(),
            "--output",
            env.path().join("bad").to_str().unwrap(),
            "--group-repositories",
            root.join("platform").to_str().unwrap(),
        ],
    );
    assert!(err.contains("inside the root"), "{err}");
    assert!(!env.path().join("bad").exists());
}

/// GitLab's `include_ancestors` and `include_descendants`: a group's list with its
/// ancestors' or subgroups' milestones, a project's with its groups' (each entry with
/// its own `group_id`); without them, only the group's or project's own.
#[test]
fn milestone_lists_include_ancestors_and_descendants_when_asked() {
    let env = Env::new();
    let root = build_root(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&env.at(&root), &["--root", root.to_str().unwrap()]);
    for (path, title) in [
        ("/api/v4/groups/platform/milestones", "P-1"),
        ("/api/v4/groups/platform%2Ftools/milestones", "T-1"),
        (
            "/api/v4/projects/platform%2Ftools%2Fcli/milestones",
            "cli-1",
        ),
    ] {
        let (status, body) = call(&server, "POST", path, Some(json!({"title": title})));
        assert_eq!(status, 201, "{path}: {body}");
    }
    let list = |path: &str| {
        let (status, body) = call(&server, "GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
        let groups: Vec<Value> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["group_id"].clone())
            .collect();
        (titles(&body), groups)
    };
    let tools = "/api/v4/groups/platform%2Ftools/milestones";
    assert_eq!(list(tools).0, ["T-1"]);
    assert_eq!(
        list(&format!("{tools}?include_ancestors=true")),
        (vec!["T-1".into(), "P-1".into()], vec![json!(8), json!(7)])
    );
    // GitLab's older name for it.
    assert_eq!(
        list(&format!("{tools}?include_parent_milestones=true")).0,
        ["T-1", "P-1"]
    );
    let platform = "/api/v4/groups/platform/milestones";
    assert_eq!(list(platform).0, ["P-1"]);
    assert_eq!(
        list(&format!("{platform}?include_descendants=true")).0,
        ["P-1", "T-1"]
    );
    assert_eq!(
        list(&format!("{platform}?include_descendants=true&title=T-1")).0,
        ["T-1"]
    );
    let cli = "/api/v4/projects/platform%2Ftools%2Fcli/milestones";
    assert_eq!(list(cli).0, ["cli-1"]);
    let (titles_found, groups) = list(&format!("{cli}?include_ancestors=true"));
    assert_eq!(titles_found, ["cli-1", "T-1", "P-1"]);
    assert_eq!(groups, [Value::Null, json!(8), json!(7)]);
    // A project of the top group, which has no milestones of its own: its group's.
    let api = "/api/v4/projects/platform%2Fapi/milestones?include_ancestors=true";
    assert_eq!(list(api).0, ["P-1"]);
    let (status, _) = call(
        &server,
        "GET",
        &format!("{tools}?include_ancestors=maybe"),
        None,
    );
    assert_eq!(status, 400);

    // A plain `serve` in the project finds its groups as its own commands do.
    let plain = start(&env.at(root.join("platform/tools/cli")), &[]);
    let id = env
        .at(root.join("platform/tools/cli"))
        .git(["config", "release.projectId"]);
    let (status, body) = call(
        &plain,
        "GET",
        &format!(
            "/api/v4/projects/{}/milestones?include_ancestors=true",
            id.trim()
        ),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(titles(&body), ["cli-1", "T-1", "P-1"]);
}
