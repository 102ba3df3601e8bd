//! No surprises for GitLab users: our JSON against GitLab's shapes (fixtures/gitlab),
//! release-cli's flags, CI habits, milestone issues, export/import round trips, and
//! the small sharp edges a newcomer meets first.

use serde_json::{Value, json};

use crate::support::schema::assert_valid;
use crate::support::{Env, Repo, tag_names};

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn awesome_app(env: &Env) -> Repo<'_> {
    let repo = env.repo("awesome-app");
    repo.commit("Initial commit", &[("a", "a")]);
    repo.commit("feat: b", &[("b", "b")]);
    repo
}

// ---- 4. GitLab's shapes -------------------------------------------------------------

#[test]
fn release_milestone_and_link_json_match_gitlabs_schemas() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = awesome_app(&env);
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:g/awesome-app.git",
    ]);
    repo.release_ok(["milestone", "create", "past", "--due-date", "2024-05-31"]);
    repo.release_ok(["milestone", "create", "today", "--due-date", "2024-06-01"]);
    repo.release_ok(["milestone", "create", "open-ended"]);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--milestone",
        "past",
        "--milestone",
        "today",
        "--link",
        "name=app,url=https://cdn.example.com/app,path=/bin/app",
    ]);
    let view = json(&repo.release_ok(["view", "v1", "--json", "--html"]));
    assert_valid(&view, "release.json");
    let ms = view["milestones"].as_array().unwrap();
    assert_eq!(
        (ms[0]["title"].as_str(), &ms[0]["expired"]),
        (Some("past"), &json!(true))
    );
    assert_eq!(
        (ms[1]["title"].as_str(), &ms[1]["expired"]),
        (Some("today"), &json!(false))
    );
    for list in [
        repo.release_ok(["list", "--json"]),
        repo.release_ok(["list", "--json", "--html"]),
    ] {
        for entity in json(&list).as_array().unwrap() {
            assert_valid(entity, "release.json");
        }
    }
    let milestones = json(&repo.release_ok(["milestone", "list", "--json"]));
    for m in milestones.as_array().unwrap() {
        assert_valid(m, "milestone.json");
        assert_eq!(m["project_id"], 1, "release.projectId defaults to 1");
    }
    assert_eq!(milestones[2]["expired"], false, "no due date: not expired");
    let links = json(&repo.release_ok(["link", "list", "v1", "--json"]));
    assert_valid(&links[0], "link.json");

    // One setting gives every project id.
    repo.git(["config", "release.projectId", "42"]);
    let view = json(&repo.release_ok(["view", "v1", "--json"]));
    assert_eq!(view["milestones"][0]["project_id"], 42);
    let m = json(&repo.release_ok(["milestone", "view", "past", "--json"]));
    assert_eq!(m["project_id"], 42);
    repo.git(["config", "release.projectId", "zero"]);
    let err = repo.release_err(1, ["view", "v1", "--json"]);
    assert!(err.contains("release.projectId"), "{err}");
}

#[test]
fn the_author_is_gitlabs_user_shape_typed_with_nulls_where_unknown() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let author = json(&repo.release_ok(["view", "v1", "--json"]))["author"].clone();
    assert_valid(&author, "user_basic.json");
    assert_eq!(
        author,
        json!({"id": 905_741_797, "username": "ada", "name": "Ada Author", "state": "active",
               "avatar_url": null, "web_url": null, "email": "ada@example.com"})
    );
    let keys: Vec<&String> = author.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "username",
            "name",
            "state",
            "avatar_url",
            "web_url",
            "email"
        ]
    );
}

#[test]
fn delete_json_prints_the_deleted_release() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--notes", "gone soon"]);
    let before = json(&repo.release_ok(["view", "v1", "--json"]));
    let deleted = json(&repo.release_ok(["delete", "v1", "--with-tag", "-y", "--json"]));
    assert_valid(&deleted, "release.json");
    assert_eq!(deleted, before);
    assert!(!repo.ref_exists("refs/tags/v1"));
}

#[test]
fn no_notes_is_the_empty_string_everywhere_and_html_follows() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--notes", "**bold**"]);
    let view = json(&repo.release_ok(["view", "v1", "--json", "--html"]));
    assert_eq!(
        (&view["description"], &view["description_html"]),
        (&json!(""), &json!(""))
    );
    let list = json(&repo.release_ok(["list", "--json", "--html"]));
    let v1 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag_name"] == "v1")
        .unwrap();
    assert_eq!(
        (&v1["description"], &v1["description_html"]),
        (&json!(""), &json!(""))
    );
    let evidence = json(&repo.release_ok(["evidence", "show", "v1"]));
    assert_eq!(evidence["release"]["description"], "");
    let export = json(&repo.release_ok(["export"]));
    assert!(
        export
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["description"].is_string())
    );

    // Clearing the notes gives the same value, not null and not a different spelling.
    repo.release_ok(["update", "v2", "--notes", ""]);
    let view = json(&repo.release_ok(["view", "v2", "--json", "--html"]));
    assert_eq!(
        (&view["description"], &view["description_html"]),
        (&json!(""), &json!(""))
    );
}

#[test]
fn evidence_is_gitlabs_shape_with_ids_project_and_dates_filled() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00.250Z");
    let repo = env.repo("awesome-app");
    repo.commit(
        "Initial commit",
        &[(
            ".git-release.toml",
            "[project]\nid = 20\ndescription = \"Project description\"\n",
        )],
    );
    repo.release_ok(["milestone", "create", "4.0-rc1", "--due-date", "2024-05-12"]);
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "4.0-rc1",
        "--title",
        "Popup broken",
        "--state",
        "closed",
        "--due-date",
        "2024-05-10",
    ]);
    std::fs::write(env.path().join("rspec.xml"), "<testsuite/>").unwrap();
    let artifact = env.path().join("rspec.xml");
    repo.release_ok([
        "create",
        "v4.0",
        "--ref",
        "HEAD",
        "--name",
        "New release",
        "--notes",
        "Release description",
        "--milestone",
        "4.0-rc1",
        "--artifact",
        artifact.to_str().unwrap(),
    ]);
    let evidence = json(&repo.release_ok(["evidence", "show", "v4.0"]));
    assert_valid(&evidence, "evidence.json");
    let r = &evidence["release"];
    assert_eq!(r["id"], 1, "the first release made here");
    assert_eq!(r["created_at"], "2024-06-01 12:00:00 UTC");
    // 1710135045 = 2024-03-11T05:30:45Z: the first commit.
    assert_eq!(
        r["project"],
        json!({"id": 20, "name": "awesome-app", "description": "Project description",
               "created_at": "2024-03-11T05:30:45.000Z"})
    );
    let m = &r["milestones"][0];
    assert_eq!(
        (&m["due_date"], &m["issues"][0]["due_date"]),
        (
            &json!("2024-05-12 00:00:00 UTC"),
            &json!("2024-05-10 00:00:00 UTC")
        )
    );
    assert_eq!(r["report_artifacts"][0]["name"], "rspec.xml");
    assert_eq!(r["report_artifacts"][0]["url"], Value::Null);
    assert!(
        evidence["git_release"].get("due_at").is_none(),
        "not a scheduled one"
    );
    // The stored sha still hashes the exact bytes, and verify accepts the snapshot.
    repo.release_ok(["verify", "v4.0"]);
}

#[test]
fn a_scheduled_snapshot_records_when_it_was_due_and_when_it_was_taken() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = awesome_app(&env);
    repo.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD",
        "--released-at",
        "2024-06-02T08:00:00Z",
    ]);
    let err = repo.release_err(1, ["evidence", "show", "v2"]);
    assert!(
        err.contains("upcoming") && err.contains("2024-06-02T08:00:00.000Z"),
        "{err}"
    );
    env.set("GIT_RELEASE_NOW", "2024-06-03T09:30:00Z");
    repo.release_ok(["evidence", "collect", "--due"]);
    let evidence = json(&repo.release_ok(["evidence", "show", "v2"]));
    assert_valid(&evidence, "evidence.json");
    assert_eq!(
        evidence["git_release"]["due_at"],
        "2024-06-02T08:00:00.000Z"
    );
    assert_eq!(
        evidence["git_release"]["collected_at"],
        "2024-06-03T09:30:00.000Z"
    );
}

#[test]
fn create_artifact_needs_a_snapshot_at_creation_to_attach_to() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = awesome_app(&env);
    std::fs::write(env.path().join("sbom.json"), "{}").unwrap();
    let artifact = env.path().join("sbom.json");
    let err = repo.release_err(
        1,
        [
            "create",
            "v9",
            "--ref",
            "HEAD",
            "--released-at",
            "2030-01-01T00:00:00Z",
            "--artifact",
            artifact.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains("upcoming") && err.contains("evidence collect"),
        "{err}"
    );
    assert_eq!(repo.notes_ref(), None, "nothing written");
    assert!(!repo.ref_exists("refs/tags/v9"));
}

// ---- 5. release-cli and CI habits ---------------------------------------------------

#[test]
fn release_cli_flags_work_on_create() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["milestone", "create", "m1"]);
    std::fs::write(
        env.path().join("CHANGES.md"),
        "## Changes\n\n- all of them\n",
    )
    .unwrap();
    let changes = env.path().join("CHANGES.md");
    repo.release_ok([
        "create",
        "--name",
        "Release v1.0",
        "--description",
        changes.to_str().unwrap(),
        "--tag-name",
        "v1.0",
        "--ref",
        "HEAD",
        "--tag-message",
        "Annotated v1.0",
        "--released-at",
        "2024-01-02T03:04:05Z",
        "--milestone",
        "m1",
        "--assets-link",
        r#"{"name":"linux","url":"https://e.com/linux","link_type":"package"}"#,
        "--assets-link",
        r#"[{"name":"mac","url":"https://e.com/mac","filepath":"/bin/mac"}]"#,
    ]);
    let v = json(&repo.release_ok(["view", "v1.0", "--json"]));
    assert_eq!(v["name"], "Release v1.0");
    assert_eq!(
        v["description"], "## Changes\n\n- all of them\n",
        "--description FILE reads it"
    );
    assert_eq!(v["released_at"], "2024-01-02T03:04:05.000Z");
    assert_eq!(v["milestones"][0]["title"], "m1");
    assert_eq!(v["assets"]["links"].as_array().unwrap().len(), 2);
    assert_eq!(repo.git(["cat-file", "-t", "v1.0"]).trim(), "tag");
    assert_eq!(
        repo.git(["tag", "-l", "--format=%(contents)", "v1.0"])
            .trim(),
        "Annotated v1.0"
    );
    // --description with text that names no file is the text itself.
    repo.release_ok([
        "create",
        "--tag-name",
        "v1.1",
        "--ref",
        "HEAD",
        "--description",
        "plain",
    ]);
    assert_eq!(
        json(&repo.release_ok(["view", "v1.1", "--json"]))["description"],
        "plain"
    );
    // The tag once: positional or --tag-name, not both, not neither.
    repo.release_err(2, ["create", "v2", "--tag-name", "v3", "--ref", "HEAD"]);
    repo.release_err(2, ["create", "--ref", "HEAD"]);
}

#[test]
fn freeze_check_exits_0_open_1_frozen_2_bad_input_and_speaks_ci() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = awesome_app(&env);
    let run = |args: &[&str]| repo.release(args);
    let out = run(&["freeze", "check", "--env"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "nothing when open");
    repo.release_ok([
        "freeze",
        "add",
        "--from",
        "2024-06-01T00:00:00Z",
        "--until",
        "2024-06-02T00:00:00Z",
    ]);
    let out = run(&["freeze", "check", "--env"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CI_DEPLOY_FREEZE=true\n"
    );
    assert_eq!(run(&["freeze", "check"]).status.code(), Some(1));
    assert_eq!(
        run(&["freeze", "check", "--at", "2024-07-01T00:00:00Z"])
            .status
            .code(),
        Some(0)
    );
    // Bad input is never mistaken for "frozen" (1) or "open" (0).
    assert_eq!(
        run(&["freeze", "check", "--at", "someday"]).status.code(),
        Some(2)
    );
    let bare = env.path().join("not-a-repo");
    std::fs::create_dir_all(&bare).unwrap();
    let out = repo
        .release_command()
        .current_dir(&bare)
        .args(["freeze", "check"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- 6. milestone issues ------------------------------------------------------------

#[test]
fn milestone_issues_close_reopen_update_and_remove_and_titles_are_unique() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["milestone", "create", "1.0"]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--milestone", "1.0"]);
    let add = |title: &str| {
        json(&repo.release_ok([
            "milestone",
            "issue",
            "add",
            "1.0",
            "--title",
            title,
            "--json",
        ]))
    };
    let first = add("Crash on start")["id"].as_u64().unwrap();
    let second = add("Typo in help")["id"].as_u64().unwrap();
    let stats = |repo: &Repo| {
        json(&repo.release_ok(["view", "v1", "--json"]))["milestones"][0]["issue_stats"].clone()
    };
    assert_eq!(stats(&repo), json!({"total": 2, "closed": 0}));

    let before = repo.notes_ref();
    let err = repo.release_err(
        1,
        [
            "milestone",
            "issue",
            "add",
            "1.0",
            "--title",
            "Crash on start",
        ],
    );
    assert!(
        err.contains("already has an issue titled") && err.contains(&format!("#{first}")),
        "{err}"
    );
    assert_eq!(
        repo.notes_ref(),
        before,
        "a refused duplicate changes nothing"
    );

    let id = first.to_string();
    repo.release_ok(["milestone", "issue", "close", "1.0", &id]);
    assert_eq!(stats(&repo), json!({"total": 2, "closed": 1}));
    repo.release_ok(["milestone", "issue", "reopen", "1.0", &format!("#{first}")]);
    assert_eq!(stats(&repo), json!({"total": 2, "closed": 0}));
    let updated = json(&repo.release_ok([
        "milestone",
        "issue",
        "update",
        "1.0",
        &second.to_string(),
        "--title",
        "Typo in --help",
        "--state",
        "closed",
        "--json",
    ]));
    assert_eq!(
        (&updated["title"], &updated["state"]),
        (&json!("Typo in --help"), &json!("closed"))
    );
    let err = repo.release_err(
        1,
        [
            "milestone",
            "issue",
            "update",
            "1.0",
            &id,
            "--title",
            "Typo in --help",
        ],
    );
    assert!(err.contains("already has an issue titled"), "{err}");
    repo.release_ok(["milestone", "issue", "remove", "1.0", &id]);
    assert_eq!(stats(&repo), json!({"total": 1, "closed": 1}));
    let err = repo.release_err(1, ["milestone", "issue", "close", "1.0", &id]);
    assert!(err.contains(&format!("no issue #{first}")), "{err}");
    repo.release_err(2, ["milestone", "issue", "close", "1.0", "first"]);
}

// ---- 7. export/import round trip ----------------------------------------------------

fn import(repo: &Repo, text: &str) -> std::process::Output {
    let mut cmd = repo.release_command();
    cmd.args(["import", "-"]).write_stdin(text.to_owned());
    cmd.output().unwrap()
}

fn without_evidence(mut list: Value) -> Value {
    for release in list.as_array_mut().unwrap() {
        release["evidences"] = json!([]);
    }
    list
}

#[test]
fn export_import_round_trip_keeps_ids_authors_and_milestones() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-02-01T10:00:00Z");
    let seed = env.repo("seed");
    seed.commit(
        "one",
        &[(
            ".git-release.toml",
            "[project]\nname = \"proj\"\nweb_url = \"https://gitlab.example.com/g/proj\"\n",
        )],
    );
    seed.commit("two", &[("f", "2")]);
    seed.release_ok(["milestone", "create", "1.0", "--due-date", "2024-01-31"]);
    seed.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "a",
        "--state",
        "closed",
    ]);
    seed.release_ok(["milestone", "issue", "add", "1.0", "--title", "b"]);
    seed.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD~1",
        "--milestone",
        "1.0",
        "--link",
        "name=app,url=https://cdn.example.com/app,path=/bin/app",
    ]);
    // A release that came from GitLab, with its user's username and id.
    seed.git(["tag", "v2.0", "HEAD"]);
    let from_gitlab = json!([{
        "tag_name": "v2.0", "name": "Two", "description": "from GitLab",
        "released_at": "2024-01-20T00:00:00.000Z",
        "author": {"id": 7, "username": "root", "name": "Administrator",
                   "email": "admin@example.com", "state": "active"},
        "milestones": [{"id": 40, "iid": 4, "title": "old", "state": "closed",
                        "issue_stats": {"total": 98, "closed": 76}}]
    }]);
    let out = import(&seed, &from_gitlab.to_string());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v2 = json(&seed.release_ok(["view", "v2.0", "--json"]));
    // No created_at in the file: created when it was released.
    assert_eq!(v2["created_at"], "2024-01-20T00:00:00.000Z");
    assert_eq!(v2["historical_release"], false);
    assert_eq!(
        (
            &v2["author"]["username"],
            &v2["author"]["email"],
            &v2["author"]["id"]
        ),
        (&json!("root"), &json!("admin@example.com"), &json!(7))
    );
    assert_eq!(
        v2["milestones"][0]["issue_stats"],
        json!({"total": 98, "closed": 76})
    );

    let exported = seed.release_ok(["export"]);
    seed.git(["clone", "-q", ".", "../fresh"]);
    let fresh = env.at(env.path().join("fresh"));
    env.set("GIT_AUTHOR_NAME", "Someone Else");
    env.set("GIT_AUTHOR_EMAIL", "else@example.net");
    let out = import(&fresh, &exported);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list =
        |r: &Repo| without_evidence(json(&r.release_ok(["list", "--json", "--per-page", "100"])));
    assert_eq!(list(&fresh), list(&seed));
    assert_eq!(
        tag_names(&fresh.release_ok(["list", "--json"])),
        ["v1.0", "v2.0"]
    );
    let fresh_v1 = json(&fresh.release_ok(["view", "v1.0", "--json"]));
    assert_eq!(
        (
            &fresh_v1["author"]["username"],
            &fresh_v1["author"]["email"]
        ),
        (&json!("ada"), &json!("ada@example.com"))
    );
    // Milestones came along with their ids and counts (their issues are not in the file).
    let ms = |r: &Repo| {
        let mut all = json(&r.release_ok(["milestone", "list", "--json"]));
        for m in all.as_array_mut().unwrap() {
            m.as_object_mut().unwrap().remove("updated_at");
        }
        all
    };
    assert_eq!(ms(&fresh), ms(&seed));
}

// ---- 3. git log stays readable ------------------------------------------------------

#[test]
fn setup_remote_leaves_git_log_free_of_json() {
    let env = Env::new();
    let seed = awesome_app(&env);
    seed.release_ok(["create", "v1", "--ref", "HEAD", "--notes", "notes"]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    seed.git(["push", "-q", "../remote.git", "refs/notes/releases"]);
    seed.git(["remote", "add", "origin", "../remote.git"]);
    seed.release_ok(["config", "--setup-remote"]);
    let log = seed.git(["log", "-1"]);
    assert!(!log.contains('{') && !log.contains("\"schema\""), "{log}");
    assert_eq!(log.lines().count(), 5, "{log}");
    // The records are one flag away.
    assert!(
        seed.git(["log", "-1", "--notes=releases"])
            .contains("\"releases\"")
    );
}

// ---- 8. small sharp edges -----------------------------------------------------------

#[test]
fn list_only_suggests_pages_that_exist() {
    let env = Env::new();
    let repo = awesome_app(&env);
    for tag in ["v1", "v2", "v3"] {
        repo.release_ok(["create", tag, "--ref", "HEAD"]);
    }
    let err = |args: &[&str]| String::from_utf8(repo.release(args).stderr).unwrap();
    let first = err(&["list", "--per-page", "2"]);
    assert!(
        first.contains("Showing 1–2 of 3; see more with --page 2"),
        "{first}"
    );
    let last = err(&["list", "--per-page", "2", "--page", "2"]);
    assert!(
        last.contains("Showing 3–3 of 3 (the last page)") && !last.contains("--page 3"),
        "{last}"
    );
    let past = err(&["list", "--per-page", "2", "--page", "5"]);
    assert!(
        past.contains("No releases on page 5") && past.contains("--page 2"),
        "{past}"
    );
}

#[test]
fn long_names_are_cut_in_tables_and_whole_in_json() {
    let env = Env::new();
    let repo = awesome_app(&env);
    let long = "A release name that goes on and on well past any terminal's patience".to_owned();
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--name", &long]);
    repo.release_ok(["milestone", "create", &long]);
    let table = repo.release_ok(["list"]);
    let row = table.lines().nth(1).unwrap();
    assert!(
        row.contains("A release name that goes on and on well…") && !row.contains("patience"),
        "{table}"
    );
    let ms = repo.release_ok(["milestone", "list"]);
    assert!(!ms.contains("patience") && ms.contains('…'), "{ms}");
    assert_eq!(
        json(&repo.release_ok(["list", "--json"]))[0]["name"],
        long.as_str()
    );
}

#[test]
fn link_pairs_refuse_unknown_keys_and_paths_must_agree() {
    let env = Env::new();
    let repo = awesome_app(&env);
    let err = repo.release_err(
        1,
        [
            "create",
            "v1",
            "--ref",
            "HEAD",
            "--link",
            "name=app,url=https://e.com/app,paht=/bin/app",
        ],
    );
    assert!(err.contains("unknown key \"paht\""), "{err}");
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD", "--assets-link",
        r#"{"name":"app","url":"https://e.com/app","filepath":"/bin/old","direct_asset_path":"/bin/app"}"#]);
    assert!(
        err.contains("\"filepath\"") && err.contains("differ"),
        "{err}"
    );
    assert_eq!(repo.notes_ref(), None);
    assert!(!repo.ref_exists("refs/tags/v1"));
    // A comma inside a URL that is the last pair still works; so does the same path twice.
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--link",
        "name=app,url=https://e.com/dl?a=1,2",
        "--assets-link",
        r#"{"name":"b","url":"https://e.com/b","filepath":"/b","direct_asset_path":"/b"}"#,
    ]);
}

#[test]
fn a_date_alone_is_midnight_utc() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2024-03-01",
    ]);
    assert_eq!(
        json(&repo.release_ok(["view", "v1", "--json"]))["released_at"],
        "2024-03-01T00:00:00.000Z"
    );
    let help = repo.release_ok(["create", "--help"]);
    assert!(help.contains("midnight UTC"), "documented in the help");
}

#[test]
fn evidence_show_on_an_upcoming_release_points_at_no_refused_command() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok([
        "create",
        "v9",
        "--ref",
        "HEAD",
        "--released-at",
        "2099-01-01T00:00:00Z",
    ]);
    let err = repo.release_err(1, ["evidence", "show", "v9"]);
    assert!(
        err.contains("upcoming") && err.contains("2099-01-01"),
        "{err}"
    );
    assert!(!err.contains("evidence collect"), "{err}");
}

#[test]
fn a_new_tag_named_like_a_ref_is_refused() {
    let env = Env::new();
    let repo = awesome_app(&env);
    let err = repo.release_err(1, ["create", "refs/heads/main", "--ref", "HEAD"]);
    assert!(
        err.contains("refs/") && err.contains("did you mean \"main\""),
        "{err}"
    );
    assert!(!repo.ref_exists("refs/tags/refs/heads/main"));
    assert_eq!(repo.notes_ref(), None);
}

#[test]
fn an_empty_repository_says_it_has_no_commits_yet() {
    let env = Env::new();
    let repo = env.repo("empty");
    for reference in ["HEAD", "main"] {
        let err = repo.release_err(1, ["create", "v1", "--ref", reference]);
        assert!(
            err.contains("no commits yet") && err.contains("commit"),
            "{err}"
        );
    }
    let out = repo.release(["list"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).contains("No releases"));
}

#[test]
fn milestone_delete_confirms_as_delete_does() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["milestone", "create", "m"]);
    let before = repo.notes_ref();
    let release = repo.release_err(1, ["delete", "v1"]);
    let milestone = repo.release_err(1, ["milestone", "delete", "m"]);
    assert_eq!(
        release.replace("release v1", "X"),
        milestone.replace("milestone \"m\"", "X")
    );
    assert_eq!(repo.notes_ref(), before);
    repo.release_ok(["milestone", "delete", "m", "--yes"]);
    repo.release_ok(["delete", "v1", "--yes"]);
}

#[test]
fn config_list_shows_the_archive_default_that_archive_uses() {
    let env = Env::new();
    let repo = awesome_app(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let entries = json(&repo.release_ok(["config", "--list", "--json"]));
    let formats = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "archive.formats")
        .unwrap();
    assert_eq!(
        (&formats["value"], &formats["source"]),
        (&json!("tar.gz"), &json!("default"))
    );
    repo.release_ok(["archive", "v1", "--output-dir", "out"]);
    let made: Vec<String> = std::fs::read_dir(repo.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made, ["awesome-app-v1.tar.gz"]);
}
