//! Conflicts between clones are unresolved state, never a silent decision: the local
//! values stay, nothing is published until a side is chosen, and the choice can be
//! made later (`fetch --ours|--theirs`, `resolve`). Edge cases of the merge: modify
//! against delete, no merge base, one tag on two commits, concurrent creations and
//! links, renumbered ids.

use serde_json::Value;

use crate::support::{Env, Repo, clones, tag_names};

fn two(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let mut v = clones(env, &["a", "b"]);
    let b = v.pop().unwrap();
    (v.pop().unwrap(), b)
}

fn remote(env: &Env) -> Repo<'_> {
    env.at(env.path().join("remote.git"))
}

fn view(repo: &Repo, tag: &str) -> Value {
    serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap()
}

fn remote_name_of(env: &Env, tag: &str) -> String {
    let remote = remote(env);
    let note: Value = serde_json::from_str(&remote.git([
        "notes",
        "--ref=releases",
        "show",
        &format!("{tag}^{{commit}}"),
    ]))
    .unwrap();
    note["releases"][tag]["name"].as_str().unwrap().to_owned()
}

fn tags(repo: &Repo) -> Vec<String> {
    tag_names(&repo.release_ok(["list", "--json", "--order-by", "semver", "--sort", "asc"]))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// v1 exists in both clones (created in a, fetched by b).
fn shared_v1<'e>(env: &'e Env) -> (Repo<'e>, Repo<'e>) {
    let (a, b) = two(env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "base"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    (a, b)
}

#[test]
fn the_issue_scenario_publishes_nothing_until_b_chooses_and_theirs_works_later() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "fromA"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "fromB"]);
    let remote_before = remote(&env).rev("refs/notes/releases");

    let err = b.release_err(1, ["sync"]);
    assert!(
        err.contains("release v1 → name: local \"fromB\" vs origin \"fromA\""),
        "{err}"
    );
    assert!(err.contains("not pushed"), "{err}");
    assert_eq!(remote(&env).rev("refs/notes/releases"), remote_before);
    assert_eq!(remote_name_of(&env, "v1"), "fromA");
    assert_eq!(view(&b, "v1")["name"], "fromB", "the local value is kept");
    // The merge state is plain git.
    let state: Value =
        serde_json::from_str(&b.git(["show", "refs/notes/releases-merge/origin:conflicts.json"]))
            .unwrap();
    assert_eq!(state["conflicts"][0]["subject"], "v1");
    assert_eq!(state["conflicts"][0]["theirs"], "fromA");
    b.assert_fsck_clean();

    // Publishing is refused, saying how to resolve.
    for cmd in [["push"], ["sync"]] {
        let err = b.release_err(1, cmd);
        assert!(err.contains("unresolved"), "{err}");
        assert!(err.contains("--theirs"), "{err}");
        assert_eq!(remote(&env).rev("refs/notes/releases"), remote_before);
    }
    let status = b.release_ok(["status"]);
    assert!(status.contains("release v1 → name"), "{status}");
    assert!(status.contains("not pushed"), "{status}");

    // A later run with --theirs settles it.
    let out = b.release(["sync", "--theirs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("resolved (theirs)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(view(&b, "v1")["name"], "fromA");
    assert_eq!(remote_name_of(&env, "v1"), "fromA");
    assert!(!b.ref_exists("refs/notes/releases-merge/origin"));
    a.release_ok(["fetch"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    let status = b.release_ok(["status"]);
    assert!(status.contains("No unresolved conflicts"), "{status}");
    assert!(status.contains("Up to date"), "{status}");
    b.assert_fsck_clean();
}

#[test]
fn ours_on_a_later_fetch_keeps_the_local_value_and_publishes_it() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "fromA"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "fromB"]);
    b.release_err(1, ["fetch"]);
    // Fetching again without a choice still reports it.
    let err = b.release_err(1, ["fetch"]);
    assert!(
        err.contains("unresolved conflict: release v1 → name"),
        "{err}"
    );
    b.release_ok(["fetch", "--ours"]);
    b.release_ok(["push"]);
    assert_eq!(remote_name_of(&env, "v1"), "fromB");
    a.release_ok(["fetch"]);
    assert_eq!(view(&a, "v1")["name"], "fromB");
}

#[test]
fn resolve_settles_one_release_at_a_time() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "base1"]);
    a.release_ok(["create", "v2", "--ref", "HEAD~1", "--name", "base2"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    for (repo, side) in [(&a, "A"), (&b, "B")] {
        repo.release_ok(["update", "v1", "--name", &format!("v1 from {side}")]);
        repo.release_ok(["update", "v2", "--notes", &format!("v2 notes from {side}")]);
    }
    a.release_ok(["push"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1 → name"), "{err}");
    assert!(err.contains("release v2 → description"), "{err}");

    // Bad input changes nothing.
    let state = b.rev("refs/notes/releases-merge/origin");
    let notes = b.rev("refs/notes/releases");
    let err = b.release_err(1, ["resolve", "v9", "--theirs"]);
    assert!(err.contains("\"v9\" has no unresolved conflict"), "{err}");
    assert!(err.contains("v1, v2"), "{err}");
    b.release_err(2, ["resolve", "v1", "--ours", "--theirs"]);
    b.release_err(2, ["resolve", "v1"]);
    assert_eq!(b.rev("refs/notes/releases-merge/origin"), state);
    assert_eq!(b.rev("refs/notes/releases"), notes);

    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(view(&b, "v1")["name"], "v1 from A");
    let err = b.release_err(1, ["push"]);
    assert!(err.contains("release v2 → description"), "{err}");
    assert!(!err.contains("release v1"), "{err}");
    b.release_ok(["resolve", "v2", "--ours"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    let v1 = view(&a, "v1");
    let v2 = view(&a, "v2");
    assert_eq!(v1["name"], "v1 from A");
    assert_eq!(v2["description"], "v2 notes from B");
}

#[test]
fn a_corrupt_merge_state_is_a_clear_error_and_changes_nothing() {
    let env = Env::new();
    let (_a, b) = shared_v1(&env);
    let blob = b.git(["hash-object", "-w", "--stdin"]);
    let _ = blob;
    // A ref at a commit without conflicts.json, and one at a blob.
    let empty_tree = b.git(["hash-object", "-t", "tree", "-w", "/dev/null"]);
    let commit = b.git(["commit-tree", empty_tree.trim(), "-m", "junk"]);
    b.git([
        "update-ref",
        "refs/notes/releases-merge/origin",
        commit.trim(),
    ]);
    let notes = b.rev("refs/notes/releases");
    for args in [
        &["push"][..],
        &["fetch"],
        &["sync", "--theirs"],
        &["status"],
        &["resolve", "v1", "--ours"],
    ] {
        let err = b.release_err(1, args);
        assert!(
            err.contains("refs/notes/releases-merge/origin") && err.contains("conflicts.json"),
            "{args:?}: {err}"
        );
        assert!(err.contains("git update-ref -d"), "{args:?}: {err}");
        assert_eq!(b.rev("refs/notes/releases"), notes);
        assert_eq!(b.rev("refs/notes/releases-merge/origin"), commit.trim());
    }
}

#[test]
fn modify_against_delete_is_a_conflict_both_ways() {
    // Edited here, deleted there.
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["delete", "v1", "-y"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--notes", "edited in b"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1: local {"), "{err}");
    assert!(err.contains("vs origin (deleted)"), "{err}");
    assert_eq!(view(&b, "v1")["description"], "edited in b");
    // --ours keeps the edited release and publishes it.
    b.release_ok(["resolve", "v1", "--ours"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(view(&a, "v1")["description"], "edited in b");

    // Deleted here, edited there; and the same resolved --theirs deletes.
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--notes", "edited in a"]);
    a.release_ok(["push"]);
    b.release_ok(["delete", "v1", "-y"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(
        err.contains("release v1: local (deleted) vs origin {"),
        "{err}"
    );
    b.release_err(1, ["view", "v1"]);
    b.release_ok(["fetch", "--theirs"]);
    assert_eq!(view(&b, "v1")["description"], "edited in a");
    b.assert_fsck_clean();

    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["delete", "v1", "-y"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "kept?"]);
    b.release_err(1, ["sync"]);
    b.release_ok(["sync", "--theirs"]);
    b.release_err(1, ["view", "v1"]);
    assert!(tags(&b).is_empty());
    // The index follows: a new create of v1 works.
    b.release_ok(["create", "v1", "--ref", "HEAD", "--name", "again"]);
    b.release_ok(["verify"]);
}

#[test]
fn clones_that_never_shared_a_base_merge_and_conflict_where_they_differ() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "from a"]);
    a.release_ok(["create", "va", "--ref", "HEAD~1"]);
    // b has the same tag on the same commit, with other fields.
    b.git(["tag", "v1", "HEAD"]);
    b.release_ok(["create", "v1", "--name", "from b", "--notes", "b's notes"]);
    b.release_ok(["create", "vb", "--ref", "HEAD~1"]);
    a.git(["push", "-q", "origin", "v1"]);
    a.release_ok(["push"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(
        err.contains("release v1 → name: local \"from b\" vs origin \"from a\""),
        "{err}"
    );
    // Fields only one side set are merged without a conflict.
    assert!(!err.contains("description"), "{err}");
    assert_eq!(tags(&b), ["v1", "va", "vb"]);
    let v1 = view(&b, "v1");
    assert_eq!(v1["name"], "from b");
    assert_eq!(v1["description"], "b's notes");
    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(view(&b, "v1")["name"], "from a");
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    b.assert_fsck_clean();
    b.release_ok(["verify"]);
}

#[test]
fn one_tag_released_on_two_commits_is_reported_and_listed_once() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "on head"]);
    a.release_ok(["push"]);
    b.release_ok(["create", "v1", "--ref", "HEAD~1", "--name", "on parent"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1: released on commit"), "{err}");
    assert_eq!(tags(&b), ["v1"]);
    assert_eq!(view(&b, "v1")["name"], "on parent");
    let err = b.release_err(1, ["push"]);
    assert!(err.contains("unresolved"), "{err}");
    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(tags(&b), ["v1"]);
    let v1 = view(&b, "v1");
    assert_eq!(v1["name"], "on head");
    assert_eq!(b.rev("v1^{commit}"), a.rev("HEAD"));
    b.release_ok(["push"]);
    b.release_ok(["verify"]);
    b.assert_fsck_clean();
}

#[test]
fn one_tag_on_two_commits_kept_ours_publishes_our_tag_and_the_other_clone_follows() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "on head"]);
    a.release_ok(["push"]);
    b.release_ok(["create", "v1", "--ref", "HEAD~1", "--name", "on parent"]);
    b.release_err(1, ["sync"]);
    let out = b.release(["sync", "--ours"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(remote(&env).rev("v1^{commit}"), b.rev("HEAD~1"));
    assert_eq!(remote_name_of(&env, "v1"), "on parent");
    // A fetch never moves a local tag (as `git fetch` never clobbers one): a's tag
    // stays where a made it, and that is a moved tag to settle before a publishes.
    let a_tag = a.rev("refs/tags/v1");
    let err = a.release_err(1, ["fetch"]);
    assert!(err.contains("release v1: tag v1 moved"), "{err}");
    assert_eq!(a.rev("refs/tags/v1"), a_tag);
    let out = a.release(["fetch", "--theirs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        a.rev("v1^{commit}"),
        a.rev("HEAD~1"),
        "a's tag follows the choice once a chooses it"
    );
    assert_eq!(tags(&a), ["v1"]);
    assert_eq!(view(&a, "v1")["name"], "on parent");
    a.release_ok(["verify"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
}

#[test]
fn links_added_concurrently_get_unique_ids_and_milestone_references_survive_renumbering() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    for (repo, who) in [(&a, "a"), (&b, "b")] {
        for i in 0..2 {
            repo.release_ok([
                "link",
                "add",
                "v1",
                "--name",
                &format!("{who}{i}"),
                "--url",
                &format!("https://e.com/{who}{i}"),
            ]);
        }
        repo.release_ok(["milestone", "create", &format!("M-{who}")]);
        repo.release_ok([
            "create",
            &format!("r{who}"),
            "--ref",
            "HEAD~1",
            "--milestone",
            &format!("M-{who}"),
        ]);
    }
    a.release_ok(["push"]);
    let out = b.release(["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("renumbered"), "{}", stderr(&out));
    a.release_ok(["fetch"]);
    for repo in [&a, &b] {
        let links = view(repo, "v1")["assets"]["links"].clone();
        let mut ids: Vec<u64> = links
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids.len(), 4, "{links}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "ids are unique: {links}");
        for who in ["a", "b"] {
            let r = view(repo, &format!("r{who}"));
            assert_eq!(r["milestones"][0]["title"], format!("M-{who}"), "{r}");
        }
        let ms: Value =
            serde_json::from_str(&repo.release_ok(["milestone", "list", "--json"])).unwrap();
        let mut ids: Vec<u64> = ms
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| [m["id"].as_u64().unwrap(), 1000 + m["iid"].as_u64().unwrap()])
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "milestone ids and iids are unique: {ms}");
        repo.release_ok(["verify"]);
    }
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
}

#[test]
fn a_store_merged_with_plain_git_is_detected_by_verify_and_repaired_by_doctor() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "va", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    b.release_ok(["create", "vb", "--ref", "HEAD~1"]);
    b.git([
        "fetch",
        "-q",
        "origin",
        "refs/notes/releases:refs/notes/theirs",
    ]);
    b.git([
        "notes",
        "--ref=releases",
        "merge",
        "-q",
        "-s",
        "union",
        "refs/notes/theirs",
    ]);
    b.git(["fetch", "-q", "origin", "refs/tags/*:refs/tags/*"]);
    let out = b.release(["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the index has no entry for release va"),
        "{text}"
    );
    assert!(text.contains("git release doctor --repair"), "{text}");
    let err = b.release_err(1, ["doctor"]);
    assert!(err.contains("doctor --repair"), "{err}");
    b.release_ok(["doctor", "--repair"]);
    b.release_ok(["doctor"]);
    b.release_ok(["verify"]);
    b.assert_fsck_clean();
    // The repaired index finds the release: deleting it works, re-creating refuses.
    let err = b.release_err(1, ["create", "va", "--ref", "HEAD"]);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn status_tells_unpushed_and_unfetched_changes() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let out = b.release_ok(["status"]);
    assert!(
        out.contains("Nothing to push") && out.contains("Up to date"),
        "{out}"
    );
    b.release_ok(["update", "v1", "--name", "local"]);
    let out = b.release_ok(["status"]);
    assert!(out.contains("1 local change(s) not pushed"), "{out}");
    a.release_ok(["update", "v1", "--notes", "remote"]);
    a.release_ok(["push"]);
    let out = b.release_ok(["status"]);
    assert!(out.contains("has changes you have not fetched"), "{out}");
    let json: Value = serde_json::from_str(&b.release_ok(["status", "--json"])).unwrap();
    assert_eq!(json["remote_has_unfetched_changes"], true);
    assert_eq!(json["unpushed_changes"], 1);
    let out = b.release_ok(["status", "--offline"]);
    assert!(out.contains("Could not ask"), "{out}");
}

/// A remote git cannot reach: git's several-line message is shown line by line, as git
/// shows it, never with its line breaks escaped into one line.
#[test]
fn status_shows_an_unreachable_remotes_message_line_by_line() {
    let env = Env::new();
    let (_a, b) = shared_v1(&env);
    b.git(["remote", "set-url", "origin", "/nonexistent/remote.git"]);
    let out = b.release_ok(["status"]);
    assert!(out.contains("Could not ask origin:\n"), "{out}");
    assert!(!out.contains("\\n"), "line breaks escaped: {out}");
    let fatal: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("fatal:"))
        .collect();
    assert!(fatal.len() >= 2, "git's message, one line each: {out}");
    assert!(
        fatal.iter().any(|l| l.contains("/nonexistent/remote.git")),
        "{out}"
    );
}

/// Found by the model's long run: an id renumbered on the other side can land on an
/// id in use here; the object that had it here keeps it.
#[test]
fn an_id_renumbered_elsewhere_that_lands_on_a_local_id_is_renumbered_again() {
    let env = Env::new();
    let v = clones(&env, &["c0", "c1", "c2"]);
    let link = |repo: &Repo, tag: &str, name: &str| {
        repo.release_ok([
            "link",
            "add",
            tag,
            "--name",
            name,
            "--url",
            &format!("https://e.com/{name}"),
        ])
    };
    v[0].release_ok(["create", "v1", "--ref", "HEAD"]);
    link(&v[0], "v1", "k2");
    v[0].release_ok(["push"]);
    v[1].release_ok(["fetch"]);
    v[2].release_ok(["create", "v2", "--ref", "HEAD~1"]);
    link(&v[2], "v2", "k3");
    let out = v[2].release(["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    link(&v[1], "v1", "k1");
    let out = v[1].release(["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut ids = Vec::new();
    for tag in ["v1", "v2"] {
        for l in view(&v[1], tag)["assets"]["links"].as_array().unwrap() {
            ids.push((
                l["id"].as_u64().unwrap(),
                l["name"].as_str().unwrap().to_owned(),
            ));
        }
    }
    ids.sort();
    let unique: std::collections::BTreeSet<u64> = ids.iter().map(|(i, _)| *i).collect();
    assert_eq!(unique.len(), 3, "{ids:?}");
    v[1].release_ok(["verify"]);
}

#[test]
fn milestone_and_freeze_entries_edited_differently_conflict_and_resolve_by_name() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["milestone", "create", "M1", "--description", "base"]);
    a.release_ok([
        "freeze",
        "add",
        "--start",
        "0 22 * * 5",
        "--end",
        "0 6 * * 1",
    ]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    a.release_ok(["milestone", "update", "M1", "--description", "from a"]);
    a.release_ok(["freeze", "update", "1", "--timezone", "Asia/Tokyo"]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "update", "M1", "--description", "from b"]);
    b.release_ok(["freeze", "update", "1", "--timezone", "Europe/Berlin"]);
    let err = b.release_err(1, ["sync"]);
    assert!(
        err.contains("milestone \"M1\" → description: local \"from b\" vs origin \"from a\""),
        "{err}"
    );
    assert!(
        err.contains(
            "freeze \"1\" → cron_timezone: local \"Europe/Berlin\" vs origin \"Asia/Tokyo\""
        ),
        "{err}"
    );
    let status: Value = serde_json::from_str(&b.release_ok(["status", "--json"])).unwrap();
    let subjects: Vec<&str> = status["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    // updated_at is not a conflict: the later time wins.
    assert_eq!(subjects.len(), 2, "{status}");
    assert!(
        subjects.contains(&"milestone:M1") && subjects.contains(&"freeze:1"),
        "{status}"
    );
    b.release_ok(["resolve", "milestone:M1", "--theirs"]);
    b.release_ok(["resolve", "freeze:1", "--ours"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    let ms: Value = serde_json::from_str(&a.release_ok(["milestone", "list", "--json"])).unwrap();
    assert_eq!(ms[0]["description"], "from a");
    let fs: Value = serde_json::from_str(&a.release_ok(["freeze", "list", "--json"])).unwrap();
    assert_eq!(fs[0]["cron_timezone"], "Europe/Berlin");
}

#[test]
fn a_merge_that_cannot_take_the_lock_gives_up_within_the_write_budget() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "moved on"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--notes", "local edit"]);
    let before = b.rev("refs/notes/releases");
    // Another writer holds the lock (freshly: not a stale one).
    let lock = b.path().join(".git/refs/notes/releases.lock");
    std::fs::write(&lock, "").unwrap();
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "1");
    let started = std::time::Instant::now();
    let err = b.release_err(1, ["fetch"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{err}"
    );
    assert!(
        err.contains("could not update refs/notes/releases"),
        "{err}"
    );
    std::fs::remove_file(&lock).unwrap();
    assert_eq!(b.rev("refs/notes/releases"), before);
    b.release_ok(["fetch"]);
    assert_eq!(view(&b, "v1")["name"], "moved on");
    assert_eq!(view(&b, "v1")["description"], "local edit");
}

/// Found by the model's long run: deleted here and released again on another commit,
/// edited there; taking theirs leaves one record of the tag, where theirs is.
#[test]
fn taking_theirs_over_a_release_recreated_elsewhere_keeps_one_record() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--notes", "edited in a"]);
    a.release_ok(["push"]);
    b.release_ok(["delete", "v1", "-y", "--with-tag"]);
    b.release_ok(["create", "v1", "--ref", "HEAD~1", "--name", "again in b"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1"), "{err}");
    b.release_ok(["fetch", "--theirs"]);
    assert_eq!(tags(&b), ["v1"]);
    assert_eq!(view(&b, "v1")["description"], "edited in a");
    assert_eq!(b.rev("v1^{commit}"), a.rev("v1^{commit}"));
    b.release_ok(["verify"]);
    b.release_ok(["push"]);
}

/// Each release's own display id, by tag, as the notes store it.
fn release_ids(repo: &Repo) -> std::collections::BTreeMap<String, u64> {
    let mut ids = std::collections::BTreeMap::new();
    for line in repo.git(["notes", "--ref=releases", "list"]).lines() {
        let blob = line.split_whitespace().next().unwrap();
        let note: Value = serde_json::from_str(&repo.git(["cat-file", "blob", blob])).unwrap();
        for (tag, record) in note["releases"].as_object().unwrap() {
            ids.insert(tag.clone(), record["id"].as_u64().unwrap());
        }
    }
    ids
}

/// Runs git with `input` on its standard input; returns its stdout.
fn git_stdin<const N: usize>(repo: &Repo, args: [&str; N], input: &str) -> String {
    use std::io::Write;
    let mut child = repo
        .git_command(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Every ref and where it points: bad input must leave all of them alone.
fn all_refs(repo: &Repo) -> String {
    repo.git(["for-each-ref", "--format=%(refname) %(objectname)"])
}

#[test]
fn release_ids_handed_out_in_both_clones_are_renumbered_on_the_incoming_side() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    for (repo, who) in [(&a, "a"), (&b, "b")] {
        repo.release_ok(["milestone", "create", &format!("M-{who}")]);
        repo.release_ok([
            "create",
            &format!("r{who}"),
            "--ref",
            "HEAD~1",
            "--milestone",
            &format!("M-{who}"),
        ]);
        repo.release_ok([
            "link",
            "add",
            &format!("r{who}"),
            "--name",
            &format!("bin-{who}"),
            "--url",
            &format!("https://e.com/{who}"),
        ]);
    }
    assert_eq!(
        release_ids(&a)["ra"],
        release_ids(&b)["rb"],
        "the same id on both sides"
    );
    let before_b = release_ids(&b);
    a.release_ok(["push"]);
    let out = b.release(["sync"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = format!("renumbered release \"ra\": id {} →", before_b["rb"]);
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    a.release_ok(["fetch"]);
    for repo in [&a, &b] {
        let ids = release_ids(repo);
        assert_eq!(ids["rb"], before_b["rb"], "the local release keeps its id");
        assert_eq!(ids["v1"], before_b["v1"]);
        let unique: std::collections::BTreeSet<u64> = ids.values().copied().collect();
        assert_eq!(unique.len(), 3, "{ids:?}");
        // Its milestone and link stay with the renumbered release.
        for who in ["a", "b"] {
            let r = view(repo, &format!("r{who}"));
            assert_eq!(r["milestones"][0]["title"], format!("M-{who}"), "{r}");
            assert_eq!(r["assets"]["links"][0]["name"], format!("bin-{who}"), "{r}");
        }
        // A release made afterwards gets an id above all of them.
        repo.release_ok(["verify"]);
    }
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    a.release_ok(["create", "after", "--ref", "HEAD"]);
    let ids = release_ids(&a);
    assert!(
        ids.iter().all(|(t, id)| t == "after" || *id < ids["after"]),
        "{ids:?}"
    );
}

#[test]
fn the_same_release_created_on_both_sides_does_not_conflict_over_its_id() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    // b hands out release id 2 first, so that the two records of v2 differ in id.
    b.release_ok(["create", "other", "--ref", "HEAD"]);
    b.release_ok(["delete", "other", "-y", "--with-tag"]);
    a.release_ok(["create", "v2", "--ref", "HEAD~1", "--name", "same"]);
    b.release_ok(["create", "v2", "--ref", "HEAD~1", "--name", "same"]);
    assert_ne!(release_ids(&a)["v2"], release_ids(&b)["v2"]);
    a.release_ok(["push"]);
    let out = b.release(["fetch"]);
    assert!(!stderr(&out).contains("→ id"), "{}", stderr(&out));
    b.release_ok(["resolve", "v2", "--ours"]);
    b.release_ok(["verify"]);
}

/// Found by the model's long run, in a smaller form: a conflict keeps a release out
/// of the merge (deleted here, given a link there); its link's id is also handed out
/// here meanwhile. Taking their side brings the link back under a new id.
#[test]
fn ids_a_conflict_kept_out_of_the_merge_are_renumbered_when_taken_back() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let link = |repo: &Repo, tag: &str, name: &str| {
        repo.release_ok([
            "link",
            "add",
            tag,
            "--name",
            name,
            "--url",
            &format!("https://e.com/{name}"),
        ])
    };
    link(&a, "v1", "from-a");
    a.release_ok(["push"]);
    b.release_ok(["delete", "v1", "-y"]);
    b.release_ok(["create", "v2", "--ref", "HEAD~1"]);
    link(&b, "v2", "from-b");
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1: local (deleted)"), "{err}");
    let out = b.release(["resolve", "v1", "--theirs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("renumbered link \"from-a\": id 1 → 2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(view(&b, "v2")["assets"]["links"][0]["id"], 1);
    assert_eq!(view(&b, "v1")["assets"]["links"][0]["id"], 2);
    b.release_ok(["verify"]);
    b.release_ok(["sync"]);
    a.release_ok(["fetch"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    a.release_ok(["verify"]);
    // The next link gets an id above both.
    link(&a, "v1", "later");
    let links = view(&a, "v1")["assets"]["links"].clone();
    assert!(
        links.as_array().unwrap().iter().any(|l| l["id"] == 3),
        "{links}"
    );
}

#[test]
fn bad_input_to_resolve_and_the_sharing_commands_changes_no_ref() {
    // Nothing recorded at all: resolve names the subject and says so.
    let env = Env::new();
    let (_a, b) = shared_v1(&env);
    let refs = all_refs(&b);
    let err = b.release_err(1, ["resolve", "v1", "--theirs"]);
    assert!(err.contains("\"v1\" has no unresolved conflict"), "{err}");
    assert!(err.contains("git release status"), "{err}");
    // Both sides at once: refused by the argument parser, for every command.
    for args in [
        &["resolve", "v1", "--ours", "--theirs"][..],
        &["fetch", "--ours", "--theirs"],
        &["sync", "--ours", "--theirs"],
    ] {
        let err = b.release_err(2, args);
        assert!(
            err.contains("--ours") && err.contains("--theirs"),
            "{args:?}: {err}"
        );
        assert!(err.contains("cannot be used with"), "{args:?}: {err}");
    }
    assert_eq!(all_refs(&b), refs);

    // A recorded conflict, and a field of it that is not in conflict.
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "from a"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "from b"]);
    b.release_err(1, ["fetch"]);
    let refs = all_refs(&b);
    let err = b.release_err(1, ["resolve", "v1", "--field", "description", "--theirs"]);
    assert!(err.contains("v1 → description"), "{err}");
    assert!(err.contains("has no unresolved conflict"), "{err}");
    assert_eq!(all_refs(&b), refs);

    // The merge state damaged in other ways than a missing conflicts.json: not JSON,
    // JSON of another shape, a ref at a blob.
    let state = b.rev("refs/notes/releases-merge/origin");
    let commit_with = |content: &str| {
        let blob = git_stdin(&b, ["hash-object", "-w", "--stdin"], content);
        let tree = git_stdin(
            &b,
            ["mktree"],
            &format!("100644 blob {}\tconflicts.json\n", blob.trim()),
        );
        b.git(["commit-tree", tree.trim(), "-m", "junk"])
            .trim()
            .to_owned()
    };
    let blob = git_stdin(&b, ["hash-object", "-w", "--stdin"], "junk");
    for target in [
        commit_with("{ not json"),
        commit_with("{\"conflicts\": 3}"),
        blob.trim().to_owned(),
    ] {
        b.git(["update-ref", "refs/notes/releases-merge/origin", &target]);
        let refs = all_refs(&b);
        for args in [
            &["push"][..],
            &["fetch"],
            &["fetch", "--theirs"],
            &["sync", "--ours"],
            &["status"],
            &["resolve", "v1", "--theirs"],
        ] {
            let err = b.release_err(1, args);
            assert!(
                err.contains("refs/notes/releases-merge/origin"),
                "{target} {args:?}: {err}"
            );
            assert!(
                err.contains("git update-ref -d"),
                "{target} {args:?}: {err}"
            );
            assert_eq!(all_refs(&b), refs, "{target} {args:?}");
        }
    }
    b.git(["update-ref", "refs/notes/releases-merge/origin", &state]);
    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(view(&b, "v1")["name"], "from a");
}

/// The remote keeps a tag whose release was deleted there (found by the model's long
/// run); `b` and `a` released that tag on different commits.
fn tag_kept_without_release_there(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let (a, b) = two(env);
    b.release_ok(["create", "t2", "--ref", "HEAD~1", "--name", "b's"]);
    a.release_ok(["create", "t2", "--ref", "HEAD", "--name", "a's"]);
    a.release_ok(["push"]);
    a.release_ok(["delete", "t2", "-y"]);
    a.release_ok(["push"]);
    (a, b)
}

/// The push is refused as a whole (the remote's notes must not get a record whose tag
/// points elsewhere), and the refusal is a recorded tag conflict, whether or not the
/// clone had fetched before pushing.
#[test]
fn a_remote_tag_without_its_release_against_a_local_release_is_a_tag_conflict() {
    for fetch_first in [true, false] {
        let env = Env::new();
        let (_a, b) = tag_kept_without_release_there(&env);
        let remote_notes = remote(&env).rev("refs/notes/releases");
        let remote_tag = remote(&env).rev("refs/tags/t2");
        let local_tag = b.rev("refs/tags/t2");
        if fetch_first {
            let err = b.release_err(1, ["fetch"]);
            assert!(
                err.contains("release t2: tag on commit")
                    && err.contains("which has no release on it"),
                "{err}"
            );
        }
        let err = b.release_err(1, ["push"]);
        assert!(
            err.contains("unresolved") && err.contains("release t2"),
            "{err}"
        );
        assert!(!err.contains("atomic push failed"), "{err}");
        assert_eq!(remote(&env).rev("refs/notes/releases"), remote_notes);
        assert_eq!(remote(&env).rev("refs/tags/t2"), remote_tag);
        assert_eq!(b.rev("refs/tags/t2"), local_tag, "the local tag is kept");
        assert_eq!(view(&b, "t2")["name"], "b's");
        let status: Value =
            serde_json::from_str(&b.release_ok(["status", "--offline", "--json"])).unwrap();
        assert_eq!(status["unresolved"][0]["subject"], "t2", "{status}");
        assert_eq!(status["unresolved"][0]["kind"], "tag_target", "{status}");
        b.release_ok(["verify"]);
    }
}

#[test]
fn a_tag_conflict_kept_ours_overwrites_the_remote_tag_and_the_other_clone_follows() {
    let env = Env::new();
    let (a, b) = tag_kept_without_release_there(&env);
    b.release_err(1, ["sync"]);
    let out = b.release(["resolve", "t2", "--ours"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Fetching again before the push does not bring the settled conflict back.
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = b.release(["push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(remote(&env).rev("refs/tags/t2"), b.rev("refs/tags/t2"));
    assert_eq!(remote_name_of(&env, "t2"), "b's");
    assert!(
        !b.ref_exists("refs/release-remotes/origin/ours/t2"),
        "the choice is gone once carried out"
    );
    // a kept the tag without a release: a fetch does not move it, and the release
    // published beside it waits for a's choice.
    let a_tag = a.rev("refs/tags/t2");
    let err = a.release_err(1, ["fetch"]);
    assert!(err.contains("release t2: tag t2 moved"), "{err}");
    assert_eq!(a.rev("refs/tags/t2"), a_tag);
    a.release_ok(["resolve", "t2", "--theirs"]);
    assert_eq!(a.rev("refs/tags/t2"), b.rev("refs/tags/t2"));
    assert_eq!(view(&a, "t2")["name"], "b's");
    a.release_ok(["verify"]);
    b.release_ok(["verify"]);
    remote(&env).assert_fsck_clean();
}

#[test]
fn a_tag_conflict_taken_theirs_drops_the_local_release_and_takes_their_tag() {
    let env = Env::new();
    let (_a, b) = tag_kept_without_release_there(&env);
    let remote_tag = remote(&env).rev("refs/tags/t2");
    let out = b.release(["sync", "--theirs"]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("resolved (theirs): release t2: tag on commit"),
        "{all}"
    );
    assert_eq!(b.rev("refs/tags/t2"), remote_tag);
    assert!(tags(&b).is_empty(), "{:?}", tags(&b));
    assert_eq!(remote(&env).rev("refs/tags/t2"), remote_tag);
    assert_eq!(
        remote(&env).rev("refs/notes/releases"),
        b.rev("refs/notes/releases")
    );
    b.release_ok(["verify"]);
    b.assert_fsck_clean();
}

/// The remote's tag changed after the choice to overwrite it: the lease holds, and the
/// new tag is a new conflict.
#[test]
fn a_tag_changed_on_the_remote_after_keeping_ours_is_not_overwritten() {
    let env = Env::new();
    let (a, b) = tag_kept_without_release_there(&env);
    b.release_err(1, ["fetch"]);
    b.release_ok(["resolve", "t2", "--ours"]);
    a.git(["tag", "-f", "-a", "-m", "again", "t2", "HEAD"]);
    a.git(["push", "-q", "-f", "origin", "refs/tags/t2"]);
    let moved = remote(&env).rev("refs/tags/t2");
    let err = b.release_err(1, ["push"]);
    assert!(
        err.contains("unresolved") && err.contains("release t2"),
        "{err}"
    );
    assert_eq!(remote(&env).rev("refs/tags/t2"), moved);
}
