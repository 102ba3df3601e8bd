//! create / list / view / update / delete against real repositories, with plain git as
//! the oracle for what was stored.

use serde_json::Value;

use crate::support::{COMMITTER_EMAIL, COMMITTER_NAME, Env, NOW, Repo, project, tag_names};

/// The note JSON for `tag`'s commit, read with plain git.
fn note(repo: &Repo, rev: &str) -> Value {
    let text = repo.git([
        "notes",
        "--ref=releases",
        "show",
        &format!("{rev}^{{commit}}"),
    ]);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn create_with_ref_makes_lightweight_tag_and_note_git_can_read() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let out = repo.release_ok([
        "create",
        "v1.2.0",
        "--ref",
        "main~1",
        "--notes",
        "First release",
    ]);
    assert!(out.contains("Created release v1.2.0"), "{out}");

    assert_eq!(repo.git(["cat-file", "-t", "v1.2.0"]).trim(), "commit");
    assert_eq!(repo.rev("v1.2.0"), repo.rev("main~1"));
    let doc = note(&repo, "v1.2.0");
    assert_eq!(doc["schema"], 1);
    let record = &doc["releases"]["v1.2.0"];
    assert_eq!(record["name"], "v1.2.0", "name defaults to the tag");
    assert_eq!(record["description"], "First release");
    assert_eq!(record["created_at"], "2024-06-01T12:00:00.000Z");
    assert_eq!(record["released_at"], "2024-06-01T12:00:00.000Z");
    assert_eq!(record["commit"], repo.rev("main~1"));

    // Pretty-printed with a 2-space indent and a trailing newline.
    let raw = repo.git(["notes", "--ref=releases", "show", "v1.2.0^{commit}"]);
    assert!(
        raw.starts_with("{\n  \"schema\": 1,\n  \"releases\": {\n    \"v1.2.0\": {"),
        "{raw}"
    );
    assert!(raw.ends_with("}\n"));
    // The record is written first (pending), the tag created, then the claim settled.
    assert_eq!(
        repo.git(["log", "--format=%s", "refs/notes/releases"]),
        "create v1.2.0\ncreate v1.2.0 (tag pending)\n"
    );
    assert!(record.get("pending").is_none(), "{record}");
    let listed = repo.git(["notes", "--ref=releases", "list"]);
    assert!(listed.contains(&repo.rev("main~1")), "{listed}");
    repo.assert_fsck_clean();
}

#[test]
fn create_with_tag_message_makes_annotated_tag_as_git_tag_would() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok([
        "create",
        "v2.0",
        "--ref",
        "HEAD",
        "--tag-message",
        "Release 2.0  \n\n# comment\n\n\nbody\n\n",
    ]);
    assert_eq!(repo.git(["cat-file", "-t", "v2.0"]).trim(), "tag");
    let tag = repo.git(["cat-file", "tag", "v2.0"]);
    assert!(
        tag.contains(&format!(
            "tagger {COMMITTER_NAME} <{COMMITTER_EMAIL}> 1710135045 -0700"
        )),
        "{tag}"
    );
    assert!(
        tag.ends_with("\n\nRelease 2.0\n\nbody\n"),
        "message cleaned up as git does: {tag:?}"
    );
    assert_eq!(repo.rev("v2.0^{commit}"), repo.rev("HEAD"));
    let doc = note(&repo, "v2.0");
    assert_eq!(doc["releases"]["v2.0"]["tag_target"], repo.rev("v2.0"));
    repo.assert_fsck_clean();
}

#[test]
fn create_with_existing_tag_ignores_ref_and_tag_message() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.git(["tag", "-a", "-m", "hand made", "v1.0", "main~1"]);
    let before = repo.rev("v1.0");
    let out = repo.release([
        "create",
        "v1.0",
        "--ref",
        "main",
        "--tag-message",
        "ignored",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--ref ignored") && stderr.contains("--tag-message ignored"),
        "{stderr}"
    );
    assert_eq!(repo.rev("v1.0"), before, "the tag is untouched");
    assert_eq!(
        note(&repo, "v1.0")["releases"]["v1.0"]["commit"],
        repo.rev("main~1")
    );
}

#[test]
fn create_without_ref_for_missing_tag_fails_and_writes_nothing() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let err = repo.release_err(1, ["create", "v9"]);
    assert!(
        err.contains("ref is not specified") && err.contains("hint: use --ref"),
        "{err}"
    );
    assert!(repo.notes_ref().is_none());
    assert!(!repo.ref_exists("refs/tags/v9"));

    let err = repo.release_err(1, ["create", "v9", "--ref", "no-such-branch"]);
    assert!(err.contains("no-such-branch"), "{err}");
    assert!(repo.notes_ref().is_none());
    assert!(!repo.ref_exists("refs/tags/v9"));
}

#[test]
fn duplicate_release_is_refused_and_changes_nothing() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--notes", "one"]);
    let before = repo.notes_ref();
    let err = repo.release_err(1, ["create", "v1", "--notes", "two"]);
    assert!(err.contains("release \"v1\" already exists"), "{err}");
    assert_eq!(repo.notes_ref(), before);
    assert_eq!(note(&repo, "v1")["releases"]["v1"]["description"], "one");
}

#[test]
fn tag_names_follow_git_check_ref_format_and_gitlab() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let names = [
        "v1.0",
        "release/1",
        "a..b",
        "a b",
        "a~b",
        "a^b",
        "a:b",
        "a?b",
        "a*b",
        "a[b",
        "a\\b",
        ".x",
        "x/.y",
        "x.lock",
        "x/",
        "/x",
        "a//b",
        "x.",
        "a@{b",
        "@",
        "ü-1",
        "-v1",
        "HEAD",
        "a\x7fb",
    ];
    for name in names {
        let git_ok = repo
            .git_output(["check-ref-format", &format!("refs/tags/{name}")])
            .status
            .success();
        let gitlab_ok = git_ok && !name.starts_with('-') && name != "HEAD";
        let out = repo.release(["create", "--ref", "HEAD", "--", name]);
        assert_eq!(
            out.status.success(),
            gitlab_ok,
            "tag {name:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !gitlab_ok {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("invalid tag name"), "{name:?}: {err}");
        }
    }
    repo.assert_fsck_clean();
}

#[test]
fn description_limit_is_one_million_characters() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    // Multi-byte characters: the limit counts characters, not bytes.
    repo.write("ok.md", "é".repeat(1_000_000));
    repo.write("big.md", "é".repeat(1_000_001));
    let err = repo.release_err(
        1,
        ["create", "big", "--ref", "HEAD", "--notes-file", "big.md"],
    );
    assert!(
        err.contains("1000001 characters") && err.contains("1000000"),
        "{err}"
    );
    assert!(repo.notes_ref().is_none() && !repo.ref_exists("refs/tags/big"));
    repo.release_ok(["create", "ok", "--ref", "HEAD", "--notes-file", "ok.md"]);
    let doc = note(&repo, "ok");
    assert_eq!(
        doc["releases"]["ok"]["description"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        1_000_000
    );
}

#[test]
fn notes_file_dash_reads_stdin_and_missing_file_is_named() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let mut cmd = repo.release_command();
    cmd.args(["create", "v1", "--ref", "HEAD", "--notes-file", "-"])
        .write_stdin("from *stdin*\n");
    cmd.assert().success();
    assert_eq!(
        note(&repo, "v1")["releases"]["v1"]["description"],
        "from *stdin*\n"
    );
    let err = repo.release_err(1, ["update", "v1", "--notes-file", "nope.md"]);
    assert!(err.contains("nope.md"), "{err}");
}

#[test]
fn released_at_accepts_any_offset_and_rejects_garbage() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2024-05-01T14:30:00.5+02:00",
    ]);
    assert_eq!(
        note(&repo, "v1")["releases"]["v1"]["released_at"],
        "2024-05-01T12:30:00.500Z"
    );
    for bad in [
        "yesterday",
        "2024-02-30T00:00:00Z",
        "2024-05-01T25:00:00Z",
        "",
    ] {
        // A usage error (exit 2): the argument parser refuses it before any work.
        let err = repo.release_err(2, ["create", "v2", "--ref", "HEAD", "--released-at", bad]);
        assert!(err.contains("invalid time"), "{bad:?}: {err}");
    }
    assert!(!repo.ref_exists("refs/tags/v2"));
}

#[test]
fn upcoming_and_historical_releases_are_flagged_and_filtered() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok([
        "create",
        "past",
        "--ref",
        "HEAD",
        "--released-at",
        "2020-01-01T00:00:00Z",
    ]);
    repo.release_ok([
        "create",
        "future",
        "--ref",
        "HEAD",
        "--released-at",
        "2030-01-01T00:00:00Z",
    ]);
    repo.release_ok(["create", "now", "--ref", "HEAD"]);
    let flags = |tag: &str| {
        let v: Value = serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap();
        (
            v["upcoming_release"].as_bool().unwrap(),
            v["historical_release"].as_bool().unwrap(),
        )
    };
    assert_eq!(flags("past"), (false, true));
    assert_eq!(flags("future"), (true, false));
    assert_eq!(flags("now"), (false, false));
    let tags = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "--json"];
        all.extend_from_slice(args);
        let v: Value = serde_json::from_str(&repo.release_ok(all)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["tag_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(tags(&["--upcoming"]), ["future"]);
    assert_eq!(tags(&["--historical"]), ["past"]);
    let human = repo.release_ok(["list"]);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("future") && l.ends_with("upcoming")),
        "{human}"
    );
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("past") && l.ends_with("historical")),
        "{human}"
    );
    // "latest" is the first by released_at desc, upcoming included.
    let latest: Value =
        serde_json::from_str(&repo.release_ok(["view", "latest", "--json"])).unwrap();
    assert_eq!(latest["tag_name"], "future");
}

fn list_tags(repo: &Repo, args: &[&str]) -> Vec<String> {
    let mut all = vec!["list", "--json"];
    all.extend_from_slice(args);
    tag_names(&repo.release_ok(all))
}

#[test]
fn list_orders_and_pages_like_gitlab_and_by_semver() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let releases = [
        ("v1.10.0", "2024-01-03T00:00:00Z"),
        ("v1.2.0", "2024-01-05T00:00:00Z"),
        ("nightly", "2024-01-04T00:00:00Z"),
        ("2.0", "2024-01-01T00:00:00Z"),
        ("v1.2.0-rc.1", "2024-01-02T00:00:00Z"),
    ];
    for (i, (tag, at)) in releases.iter().enumerate() {
        env_now(
            &repo,
            &format!("2024-02-0{}T00:00:00Z", i + 1),
            &["create", tag, "--ref", "HEAD", "--released-at", at],
        );
    }
    assert_eq!(
        list_tags(&repo, &[]),
        ["v1.2.0", "nightly", "v1.10.0", "v1.2.0-rc.1", "2.0"]
    );
    assert_eq!(
        list_tags(&repo, &["--sort", "asc"]),
        ["2.0", "v1.2.0-rc.1", "v1.10.0", "nightly", "v1.2.0"]
    );
    assert_eq!(
        list_tags(&repo, &["--order-by", "created_at"]),
        ["v1.2.0-rc.1", "2.0", "nightly", "v1.2.0", "v1.10.0"]
    );
    // Descending is the exact reverse of ascending: tags that are no versions, which
    // come last going up, come first going down.
    assert_eq!(
        list_tags(&repo, &["--order-by", "semver"]),
        ["nightly", "2.0", "v1.10.0", "v1.2.0", "v1.2.0-rc.1"]
    );
    assert_eq!(
        list_tags(&repo, &["--order-by", "semver", "--sort", "asc"]),
        ["v1.2.0-rc.1", "v1.2.0", "v1.10.0", "2.0", "nightly"]
    );
    assert_eq!(
        list_tags(&repo, &["--per-page", "2", "--page", "2"]),
        ["v1.10.0", "v1.2.0-rc.1"]
    );
    assert_eq!(
        list_tags(&repo, &["--per-page", "2", "--page", "4"]),
        Vec::<String>::new()
    );
    // As GitLab: more than 100 per page is capped (with a notice), page 0 is page 1.
    assert_eq!(
        list_tags(&repo, &["--per-page", "101"]),
        list_tags(&repo, &["--per-page", "100"])
    );
    assert_eq!(
        list_tags(&repo, &["--per-page", "2", "--page", "0"]),
        list_tags(&repo, &["--per-page", "2", "--page", "1"])
    );
    repo.release_err(2, ["list", "--per-page", "0"]);
    repo.release_err(2, ["list", "--order-by", "name"]);
}

/// Runs git-release with a specific "now".
fn env_now(repo: &Repo, now: &str, args: &[&str]) {
    let mut cmd = repo.release_command();
    cmd.env("GIT_RELEASE_NOW", now).args(args);
    cmd.assert().success();
}

#[test]
fn default_page_size_is_twenty() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    for i in 0..25 {
        repo.git(["tag", &format!("t{i:02}")]);
    }
    for i in 0..25 {
        repo.release_ok([
            "create",
            &format!("t{i:02}"),
            "--released-at",
            &format!("2024-01-01T00:00:{i:02}Z"),
        ]);
    }
    let first = list_tags(&repo, &[]);
    assert_eq!(first.len(), 20);
    assert_eq!(first[0], "t24");
    assert_eq!(
        list_tags(&repo, &["--page", "2"]),
        ["t04", "t03", "t02", "t01", "t00"]
    );
}

#[test]
fn releases_whose_tag_was_deleted_are_not_listed_but_named() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    repo.git(["tag", "-d", "v1"]);
    let out = repo.release(["list", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["tag_name"], "v2");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("v1") && err.contains("deleted"), "{err}");
    let err = repo.release_err(1, ["view", "v1"]);
    assert!(err.contains("not found"), "{err}");
    // A new tag and release of the same name replace the orphaned record.
    repo.release_ok(["create", "v1", "--ref", "HEAD~1"]);
    assert_eq!(list_tags(&repo, &["--order-by", "semver"]), ["v2", "v1"]);
}

#[test]
fn view_latest_and_a_tag_literally_named_latest() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let err = repo.release_err(1, ["view", "latest"]);
    assert!(err.contains("no releases"), "{err}");
    repo.release_ok([
        "create",
        "tags/latest",
        "--ref",
        "HEAD",
        "--released-at",
        "2020-01-01T00:00:00Z",
        "--name",
        "literal",
    ]);
    repo.release_ok(["create", "v3", "--ref", "HEAD", "--name", "Three"]);
    let out = repo.release_ok(["view", "latest"]);
    assert!(out.starts_with("v3 — Three"), "{out}");
    let out = repo.release_ok(["show", "tags/latest"]);
    assert!(out.starts_with("latest — literal"), "{out}");
    let out: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["get", "v3", "--json"])).unwrap();
    assert_eq!(
        (&out["tag_name"], &out["name"]),
        (&"v3".into(), &"Three".into())
    );
}

#[test]
fn many_tags_on_one_commit_keep_their_own_records() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    for i in 0..12 {
        repo.release_ok([
            "create",
            &format!("alias-{i}"),
            "--ref",
            "HEAD",
            "--notes",
            &format!("notes {i}"),
        ]);
    }
    let doc = note(&repo, "HEAD");
    assert_eq!(doc["releases"].as_object().unwrap().len(), 12);
    for i in 0..12 {
        let v: Value =
            serde_json::from_str(&repo.release_ok(["view", &format!("alias-{i}"), "--json"]))
                .unwrap();
        assert_eq!(v["description"], format!("notes {i}"));
    }
    repo.release_ok(["delete", "alias-3", "-y"]);
    let doc = note(&repo, "HEAD");
    assert_eq!(doc["releases"].as_object().unwrap().len(), 11);
    assert!(doc["releases"].get("alias-3").is_none());
}

#[test]
fn release_is_found_after_its_tag_moved_with_a_warning() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let old = repo.rev("HEAD~1");
    repo.release_ok(["create", "v1", "--ref", "HEAD~1", "--notes", "made on old"]);
    repo.git(["tag", "-f", "v1", "HEAD"]);
    let out = repo.release(["view", "v1", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["description"], "made on old");
    assert_eq!(v["commit"]["id"], old);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tag v1 was moved") && err.contains(&old[..12]),
        "{err}"
    );
    // Still a release: a second create is a duplicate, update and delete find it.
    let err = repo.release_err(1, ["create", "v1"]);
    assert!(err.contains("already exists"), "{err}");
    repo.release_ok(["update", "v1", "--name", "renamed"]);
    assert_eq!(note(&repo, &old)["releases"]["v1"]["name"], "renamed");
    repo.release_ok(["delete", "v1", "-y"]);
    assert!(repo.release_err(1, ["view", "v1"]).contains("not found"));
}

#[test]
fn update_changes_only_what_is_given() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok([
        "create", "v1", "--ref", "HEAD", "--name", "One", "--notes", "n1",
    ]);
    repo.release_ok(["edit", "v1", "--notes", "n2"]);
    let record = &note(&repo, "v1")["releases"]["v1"];
    assert_eq!(
        (record["name"].as_str(), record["description"].as_str()),
        (Some("One"), Some("n2"))
    );
    repo.release_ok([
        "update",
        "v1",
        "--released-at",
        "2024-01-01T00:00:00Z",
        "--name",
        "Uno",
    ]);
    let record = &note(&repo, "v1")["releases"]["v1"];
    assert_eq!(record["name"], "Uno");
    assert_eq!(record["released_at"], "2024-01-01T00:00:00.000Z");
    assert_eq!(record["created_at"], "2024-06-01T12:00:00.000Z");
    let subjects = repo.git(["log", "--format=%s", "refs/notes/releases"]);
    assert_eq!(
        subjects,
        "update v1\nupdate v1\ncreate v1\ncreate v1 (tag pending)\n"
    );

    let before = repo.notes_ref();
    assert!(
        repo.release_err(1, ["update", "v1"])
            .contains("nothing to change")
    );
    assert!(
        repo.release_err(1, ["update", "nope", "--name", "x"])
            .contains("release \"nope\" not found")
    );
    assert!(
        repo.release_err(2, ["update", "v1", "--released-at", "soon"])
            .contains("invalid time")
    );
    assert_eq!(repo.notes_ref(), before);
}

#[test]
fn delete_keeps_the_tag_unless_asked_and_needs_confirmation() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    let before = repo.notes_ref();
    // No terminal on stdin in tests: refused without -y.
    let err = repo.release_err(1, ["delete", "v1"]);
    assert!(err.contains("pass -y"), "{err}");
    assert_eq!(repo.notes_ref(), before);

    repo.release_ok(["delete", "v1", "-y"]);
    assert!(repo.ref_exists("refs/tags/v1"), "the tag stays");
    assert!(repo.release_err(1, ["view", "v1"]).contains("not found"));
    let out = repo.release_ok(["delete", "v2", "--with-tag", "--yes"]);
    assert!(out.contains("Deleted release v2 and tag v2"), "{out}");
    assert!(!repo.ref_exists("refs/tags/v2"));
    assert!(
        repo.release_err(1, ["delete", "v2", "-y"])
            .contains("not found")
    );
    assert_eq!(
        repo.git(["log", "--format=%s", "-2", "refs/notes/releases"]),
        "delete v2 with its tag\ndelete v1\n"
    );
    // The last release gone: no note is left, and the index is empty. Evidence
    // snapshots are never removed: they are the audit trail. The tag deleted with its
    // release is recorded, so that pushes delete it on remotes too.
    assert_eq!(repo.git(["notes", "--ref=releases", "list"]), "");
    let left = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    assert!(
        left.lines().all(|path| path.starts_with("evidence/")
            || path.starts_with("deleted-tags/")
            || path == "project.json"),
        "{left}"
    );
    assert_eq!(
        left.lines()
            .filter(|p| p.starts_with("deleted-tags/"))
            .count(),
        1,
        "{left}"
    );
    repo.assert_fsck_clean();
}

#[test]
fn human_list_is_an_aligned_table() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok([
        "create",
        "v1.0.0",
        "--ref",
        "HEAD~1",
        "--name",
        "Première",
        "--released-at",
        "2024-05-30T12:00:00Z",
    ]);
    repo.release_ok(["create", "v1.1", "--ref", "HEAD", "--name", "Second"]);
    let out = repo.release_ok(["list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "TAG     NAME      RELEASED              AGE");
    assert_eq!(lines[1], "v1.1    Second    2024-06-01 12:00 UTC  just now");
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        "v1.0.0  Première  2024-05-30 12:00 UTC  2 days ago  historical"
    );
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");
}

/// From a few dozen releases on, `list` reads every tag in one pass instead of one
/// lookup per release: it must see what `view` (one lookup) sees, for packed and loose
/// tags, a moved tag, a deleted tag and a symbolic one.
#[test]
fn list_of_many_releases_sees_each_tag_as_view_does() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    let old = repo.rev("HEAD~1");
    for i in 0..36 {
        if i == 18 {
            // Half the tags in packed-refs, half loose.
            repo.git(["pack-refs", "--all"]);
        }
        repo.release_ok(["create", &format!("t{i}"), "--ref", "HEAD"]);
    }
    repo.git(["tag", "-f", "t1", &old]);
    repo.git(["tag", "-f", "t20", &old]);
    repo.git(["tag", "-d", "t2"]);
    repo.git(["tag", "-d", "t21"]);
    repo.git(["symbolic-ref", "refs/tags/t3", "refs/tags/t4"]);
    let out = repo.release(["list", "--json", "--per-page", "100"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t2, t21") || err.contains("t21, t2"), "{err}");
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut tags: Vec<&str> = listed
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap())
        .collect();
    tags.sort_unstable();
    let mut expected: Vec<String> = (0..36)
        .filter(|i| ![2, 21].contains(i))
        .map(|i| format!("t{i}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(tags, expected);
    for entry in &listed {
        let tag = entry["tag_name"].as_str().unwrap();
        let viewed: Value =
            serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap();
        assert_eq!(entry, &viewed, "{tag}");
    }
    // A moved tag's release stays on the commit it was made on.
    let head = repo.rev("HEAD");
    let t20 = listed.iter().find(|r| r["tag_name"] == "t20").unwrap();
    assert_eq!(t20["commit"]["id"], head);
}
