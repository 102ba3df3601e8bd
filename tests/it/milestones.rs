//! Milestones: their lifecycle in milestones.json (read back with plain git), and
//! releases attached to them by key.

use serde_json::Value;

use crate::support::{Env, NOW, Repo, project};

fn stored(repo: &Repo) -> Value {
    serde_json::from_str(&repo.git(["show", "refs/notes/releases:milestones.json"])).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn milestone_lifecycle_is_stored_in_milestones_json() {
    let env = Env::new();
    let repo = project(&env, NOW, 1);
    repo.release_ok([
        "milestone",
        "create",
        "1.0",
        "--description",
        "First",
        "--start-date",
        "2024-05-01",
        "--due-date",
        "2024-07-01",
    ]);
    repo.release_ok(["milestone", "create", "2.0"]);

    let file = stored(&repo);
    let ms = file["milestones"].as_array().unwrap();
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0]["title"], "1.0");
    assert_eq!(ms[0]["id"], 1);
    assert_eq!(ms[0]["iid"], 1);
    assert_eq!(ms[0]["state"], "active");
    assert_eq!(ms[0]["due_date"], "2024-07-01");
    assert_eq!(ms[0]["start_date"], "2024-05-01");
    assert_eq!(ms[0]["key"].as_str().unwrap().len(), 32);
    assert_eq!(ms[1]["id"], 2);

    env.set("GIT_RELEASE_NOW", "2024-06-02T00:00:00Z");
    repo.release_ok(["milestone", "update", "2.0", "--title", "2.0-beta"]);
    repo.release_ok(["milestone", "close", "1.0"]);
    let file = stored(&repo);
    assert_eq!(file["milestones"][1]["title"], "2.0-beta");
    assert_eq!(
        file["milestones"][1]["updated_at"],
        "2024-06-02T00:00:00.000Z"
    );
    assert_eq!(file["milestones"][0]["state"], "closed");

    let closed = json(&repo.release_ok(["milestone", "list", "--state", "closed", "--json"]));
    assert_eq!(closed.as_array().unwrap().len(), 1);
    assert_eq!(closed[0]["title"], "1.0");
    let all = json(&repo.release_ok(["milestone", "list", "--json"]));
    assert_eq!(all.as_array().unwrap().len(), 2, "default is all states");
    repo.release_ok(["milestone", "reopen", "1.0"]);
    assert_eq!(stored(&repo)["milestones"][0]["state"], "active");

    // Ids are never reused, even after a delete.
    repo.release_ok(["milestone", "delete", "2.0-beta", "-y"]);
    repo.release_ok(["milestone", "create", "3.0"]);
    let file = stored(&repo);
    assert_eq!(file["milestones"][1]["title"], "3.0");
    assert_eq!(file["milestones"][1]["id"], 3);
    assert_eq!(file["milestones"][1]["iid"], 3);

    let log = repo.git(["log", "--format=%s", "refs/notes/releases"]);
    assert!(
        log.contains("milestone rename \"2.0\" to \"2.0-beta\""),
        "{log}"
    );
    assert!(log.contains("milestone close \"1.0\""), "{log}");
    repo.assert_fsck_clean();
}

#[test]
fn bad_titles_and_dates_are_refused_and_change_nothing() {
    let env = Env::new();
    let repo = project(&env, NOW, 1);
    repo.release_ok(["milestone", "create", "1.0"]);
    let before = repo.notes_ref();
    let err = repo.release_err(1, ["milestone", "create", "1.0"]);
    assert!(err.contains("milestone \"1.0\" already exists"), "{err}");
    let err = repo.release_err(1, ["milestone", "create", " padded "]);
    assert!(err.contains("milestone title"), "{err}");
    let err = repo.release_err(1, ["milestone", "create", "x", "--due-date", "2024-02-30"]);
    assert!(
        err.contains("2024-02-30") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    let err = repo.release_err(
        1,
        [
            "milestone",
            "create",
            "x",
            "--start-date",
            "2024-06-01",
            "--due-date",
            "2024-05-01",
        ],
    );
    assert!(err.contains("before the start date"), "{err}");
    let err = repo.release_err(1, ["milestone", "close", "nope"]);
    assert!(err.contains("milestone \"nope\" not found"), "{err}");
    repo.release_ok(["milestone", "create", "2.0"]);
    let mid = repo.notes_ref();
    let err = repo.release_err(1, ["milestone", "update", "2.0", "--title", "1.0"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(repo.notes_ref(), mid);
    assert_ne!(before, mid);
}

#[test]
fn releases_show_milestones_as_gitlab_does_and_follow_renames() {
    let env = Env::new();
    let repo = project(&env, NOW, 1);
    repo.release_ok(["milestone", "create", "1.0", "--due-date", "2024-07-01"]);
    repo.release_ok(["milestone", "create", "extra"]);
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "Crash",
        "--state",
        "closed",
    ]);
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "Docs",
        "--url",
        "https://example.com/issues/2",
        "--due-date",
        "2024-06-30",
    ]);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--milestone",
        "1.0",
        "-m",
        "extra",
    ]);
    let issues = &stored(&repo)["milestones"][0]["issues"];
    assert_eq!(issues[0]["title"], "Crash");
    assert_eq!(issues[0]["state"], "closed");
    assert_eq!(issues[1]["url"], "https://example.com/issues/2");
    assert_eq!(issues[1]["due_date"], "2024-06-30");
    assert_eq!(issues[1]["id"], 2);
    let err = repo.release_err(
        1,
        [
            "milestone",
            "issue",
            "add",
            "1.0",
            "--title",
            "x",
            "--url",
            "javascript:alert(1)",
        ],
    );
    assert!(err.contains("issue URL"), "{err}");

    let entity = json(&repo.release_ok(["view", "v1", "--json"]));
    let keys: Vec<&str> = entity
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let commit = keys.iter().position(|k| *k == "commit").unwrap();
    assert_eq!(keys[commit + 1], "milestones", "{keys:?}");
    assert_eq!(keys[commit + 2], "commit_path", "{keys:?}");
    let m = &entity["milestones"][0];
    let mkeys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        mkeys,
        [
            "id",
            "iid",
            "project_id",
            "title",
            "description",
            "state",
            "created_at",
            "updated_at",
            "due_date",
            "start_date",
            "expired",
            "web_url",
            "issue_stats"
        ]
    );
    assert_eq!(m["project_id"], 1, "release.projectId's default");
    assert_eq!(m["title"], "1.0");
    assert_eq!(m["due_date"], "2024-07-01");
    assert_eq!(m["issue_stats"]["total"], 2);
    assert_eq!(m["issue_stats"]["closed"], 1);
    assert_eq!(entity["milestones"][1]["title"], "extra");

    // The note stores keys, so a rename follows.
    let note: Value =
        serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", "v1"])).unwrap();
    let stored_keys = &note["releases"]["v1"]["milestones"];
    assert_eq!(stored_keys[0], stored(&repo)["milestones"][0]["key"]);
    repo.release_ok(["milestone", "update", "1.0", "--title", "1.0-final"]);
    let entity = json(&repo.release_ok(["view", "v1", "--json"]));
    assert_eq!(entity["milestones"][0]["title"], "1.0-final");
    let view = repo.release_ok(["milestone", "view", "1.0-final"]);
    assert!(view.contains("releases  v1"), "{view}");
    assert!(view.contains("1 of 2 closed"), "{view}");
    let view = json(&repo.release_ok(["milestone", "view", "1.0-final", "--json"]));
    assert_eq!(view["releases"], serde_json::json!(["v1"]));

    // Deleting a milestone detaches it; clearing drops the key from the entity.
    let out = repo.release_ok(["milestone", "delete", "extra", "-y"]);
    assert!(out.contains("Detached from v1"), "{out}");
    let entity = json(&repo.release_ok(["view", "v1", "--json"]));
    assert_eq!(entity["milestones"].as_array().unwrap().len(), 1);
    repo.release_ok(["update", "v1", "--clear-milestones"]);
    let entity = json(&repo.release_ok(["view", "v1", "--json"]));
    assert!(entity.get("milestones").is_none(), "{entity}");
    let note: Value =
        serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", "v1"])).unwrap();
    assert!(note["releases"]["v1"].get("milestones").is_none(), "{note}");
    repo.release_ok(["update", "v1", "--milestone", "1.0-final"]);
    let entity = json(&repo.release_ok(["view", "v1", "--json"]));
    assert_eq!(entity["milestones"][0]["title"], "1.0-final");
    repo.assert_fsck_clean();
}

#[test]
fn unknown_milestone_leaves_no_tag_and_no_record() {
    let env = Env::new();
    let repo = project(&env, NOW, 1);
    repo.release_ok(["milestone", "create", "1.0"]);
    let before = repo.notes_ref();
    let err = repo.release_err(
        1,
        [
            "create",
            "v1",
            "--ref",
            "HEAD",
            "--milestone",
            "1.0",
            "--milestone",
            "nope",
        ],
    );
    assert!(err.contains("milestone \"nope\" not found"), "{err}");
    assert!(err.contains("milestone list"), "hint: {err}");
    assert!(!repo.ref_exists("refs/tags/v1"));
    assert_eq!(repo.notes_ref(), before);

    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let before = repo.notes_ref();
    let err = repo.release_err(1, ["update", "v1", "--milestone", "nope"]);
    assert!(err.contains("\"nope\""), "{err}");
    assert_eq!(repo.notes_ref(), before);
    let err = repo.release_err(
        2,
        ["update", "v1", "--milestone", "1.0", "--clear-milestones"],
    );
    assert!(err.contains("cannot be used with"), "{err}");
}
