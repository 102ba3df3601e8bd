//! Group milestones: kept in the group's repository (`<group>/.group.git` in a root's
//! layout), made with `milestone --group` and over HTTP, named by the releases of the
//! group's projects; an ancestor group's refused; a clone without the group's
//! repository shows what the release kept. Plain git is the oracle for what is stored.

use std::path::{Path, PathBuf};

use serde_json::Value;

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
    assert_eq!(
        titles(&group_milestones(&env, &group_repo)["milestones"]),
        ["2.0"]
    );
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
    assert_eq!(
        titles(&group_milestones(&env, &group_repo)["milestones"]),
        ["2.1"]
    );
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

    // Renamed in the group: the project's view follows at once; the record's kept
    // title is refreshed by the next write with the group's repository at hand.
    api.release_ok([
        "milestone",
        "--group",
        "update",
        "2.0",
        "--title",
        "2.0-final",
    ]);
    assert_eq!(
        titles(&json(&api.release_ok(["--json", "view", "v1"]))["milestones"]),
        ["2.0-final"]
    );
    api.release_ok(["update", "v1", "--name", "One"]);
    let note = json(&api.git(["notes", "--ref=releases", "show", "v1^{commit}"]));
    assert_eq!(
        note["releases"]["v1"]["group_milestones"][0]["title"],
        "2.0-final"
    );
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
