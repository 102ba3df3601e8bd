//! The store's own rules hold after every merge and `verify`/`doctor` check each of
//! them (issue #24 cases 4, 5, 8, 9, 10; #26 items 3 and 4's notes-tree part): two
//! clones through one bare remote, plain git as the oracle, `git fsck --strict` clean.

use serde_json::Value;

use crate::support::clones;
use crate::support::{Env, Repo};

fn two(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let mut v = clones(env, &["a", "b"]);
    let b = v.pop().unwrap();
    (v.pop().unwrap(), b)
}

fn remote(env: &Env) -> Repo<'_> {
    env.at(env.path().join("remote.git"))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (name, url) of a release's links.
fn links(repo: &Repo, tag: &str) -> Vec<(String, String)> {
    let list = json(&repo.release_ok(["link", "list", tag, "--json"]));
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_owned(),
                l["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The milestones stored in the notes tree, read with plain git.
fn stored_milestones(repo: &Repo) -> Vec<Value> {
    let text = repo.git(["show", "refs/notes/releases:milestones.json"]);
    json(&text)["milestones"].as_array().unwrap().clone()
}

fn titles(repo: &Repo) -> Vec<String> {
    let mut t: Vec<String> = stored_milestones(repo)
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

/// v1 exists in both clones (created in a, fetched by b).
fn shared_v1<'e>(env: &'e Env) -> (Repo<'e>, Repo<'e>) {
    let (a, b) = two(env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "base"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    (a, b)
}

fn all_clean(env: &Env, repos: &[&Repo]) {
    for repo in repos {
        repo.assert_fsck_clean();
        repo.release_ok(["verify", "--all"]);
        let doctor = repo.release_ok(["doctor"]);
        assert!(doctor.contains("The store is consistent."), "{doctor}");
    }
    remote(env).assert_fsck_clean();
}

#[test]
fn the_same_link_added_in_two_clones_is_one_link_after_sync() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "dup",
        "--url",
        "https://example.com/x",
    ]);
    a.release_ok(["push"]);
    b.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "dup",
        "--url",
        "https://example.com/x",
    ]);
    b.release_ok(["sync"]);
    a.release_ok(["fetch"]);
    let want = vec![("dup".to_owned(), "https://example.com/x".to_owned())];
    assert_eq!(links(&a, "v1"), want);
    assert_eq!(links(&b, "v1"), want);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    b.release_ok([
        "link",
        "update",
        "v1",
        "dup",
        "--url",
        "https://example.com/y",
    ]);
    all_clean(&env, &[&a, &b]);
}

#[test]
fn different_links_with_one_name_are_a_conflict_to_settle_not_a_duplicate() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "dup",
        "--url",
        "https://example.com/a",
    ]);
    a.release_ok(["push"]);
    b.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "dup",
        "--url",
        "https://example.com/b",
    ]);
    let remote_before = remote(&env).rev("refs/notes/releases");
    let out = b.release(["sync"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("release v1 → links[\"dup\"]: origin has another link named alike (url: local \"https://example.com/b\" vs origin \"https://example.com/a\")"),
        "{err}"
    );
    assert_eq!(
        remote(&env).rev("refs/notes/releases"),
        remote_before,
        "nothing published"
    );
    // One link, the local one, until a side is chosen.
    assert_eq!(
        links(&b, "v1"),
        [("dup".to_owned(), "https://example.com/b".to_owned())]
    );
    let status = b.release_ok(["status"]);
    assert!(status.contains("links[\"dup\"]"), "{status}");
    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(
        links(&b, "v1"),
        [("dup".to_owned(), "https://example.com/a".to_owned())]
    );
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(links(&a, "v1"), links(&b, "v1"));
    // The one link is reachable by name in both clones.
    a.release_ok(["link", "update", "v1", "dup", "--name", "renamed"]);
    all_clean(&env, &[&a, &b]);
}

#[test]
fn two_links_with_one_url_under_different_names_are_a_conflict() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "from-a",
        "--url",
        "https://example.com/same",
    ]);
    a.release_ok(["push"]);
    b.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "from-b",
        "--url",
        "https://example.com/same",
    ]);
    let err = b.release_err(1, ["fetch"]);
    assert!(
        err.contains("release v1 → links[\"from-b\"]: origin has another link named alike (name: local \"from-b\" vs origin \"from-a\")"),
        "{err}"
    );
    assert_eq!(
        links(&b, "v1"),
        [("from-b".to_owned(), "https://example.com/same".to_owned())]
    );
    b.release_ok(["fetch", "--ours"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(links(&a, "v1"), links(&b, "v1"));
    all_clean(&env, &[&a, &b]);
}

#[test]
fn the_same_milestone_made_in_two_clones_is_one_and_keeps_both_releases() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M2"]);
    a.release_ok(["update", "v1", "--milestone", "M2"]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "create", "M2"]);
    b.commit("three", &[("f", "3")]);
    b.release_ok(["create", "v2", "--ref", "HEAD", "--milestone", "M2"]);
    b.release_ok(["sync"]);
    a.release_ok(["fetch"]);
    for repo in [&a, &b] {
        assert_eq!(titles(repo), ["M2"]);
        let view = json(&repo.release_ok(["milestone", "view", "M2", "--json"]));
        assert_eq!(view["title"], "M2");
        // Both releases are in the one milestone.
        for tag in ["v1", "v2"] {
            let release = json(&repo.release_ok(["view", tag, "--json"]));
            assert_eq!(release["milestones"][0]["title"], "M2", "{tag}");
        }
    }
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    a.release_ok(["milestone", "update", "M2", "--description", "one"]);
    all_clean(&env, &[&a, &b]);
}

#[test]
fn different_milestones_with_one_title_are_a_conflict_settled_by_resolve() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M2", "--description", "from a"]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "create", "M2", "--description", "from b"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(
        err.contains("milestone \"M2\": origin has another milestone titled alike (description: local \"from b\" vs origin \"from a\")"),
        "{err}"
    );
    assert_eq!(titles(&b), ["M2"]);
    b.release_ok(["resolve", "milestone:M2", "--theirs"]);
    let view = json(&b.release_ok(["milestone", "view", "M2", "--json"]));
    assert_eq!(view["description"], "from a");
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(titles(&a), ["M2"]);
    all_clean(&env, &[&a, &b]);
}

/// Two clones' first syncs: no shared notes history at all.
#[test]
fn the_same_milestone_in_two_clones_first_syncs_is_one() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["milestone", "create", "M1"]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "create", "M1"]);
    b.release_ok(["sync"]);
    a.release_ok(["fetch"]);
    assert_eq!(titles(&a), ["M1"]);
    assert_eq!(titles(&b), ["M1"]);
    all_clean(&env, &[&a, &b]);
}

/// The record of `tag` on `commit` as plain git shows it, if any.
fn record_on(repo: &Repo, commit: &str, tag: &str) -> Option<Value> {
    let out = repo.git_output(["notes", "--ref=releases", "show", commit]);
    if !out.status.success() {
        return None;
    }
    let note = json(&String::from_utf8_lossy(&out.stdout));
    note["releases"].get(tag).cloned()
}

/// Case 8: a second note claims v1 (put there with plain `git notes`); the record
/// named by commit goes, the genuine one (where the tag points) stays.
#[test]
fn delete_note_removes_the_one_record_named_and_keeps_the_genuine_one() {
    let env = Env::new();
    let (a, _b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "genuine"]);
    let genuine = a.rev("HEAD");
    let stray = a.rev("HEAD~1");
    let mut record = record_on(&a, &genuine, "v1").unwrap();
    record["name"] = Value::from("stray");
    record["commit"] = Value::from(stray.clone());
    let note = serde_json::json!({"schema": 1, "releases": {"v1": record}});
    a.write("stray.json", serde_json::to_string_pretty(&note).unwrap());
    a.git(["notes", "--ref=releases", "add", "-F", "stray.json", &stray]);
    let doctor = a.release(["doctor"]);
    assert_eq!(doctor.status.code(), Some(1));
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("release v1 is recorded on 2 commits"),
        "{text}"
    );
    let fix = format!("git release delete v1 --note {}", &stray[..12]);
    assert!(text.contains(&fix), "{text}");

    // The command doctor names, as it names it.
    a.release_ok(["delete", "v1", "--note", &stray[..12], "-y"]);
    assert!(record_on(&a, &stray, "v1").is_none());
    assert_eq!(record_on(&a, &genuine, "v1").unwrap()["name"], "genuine");
    let view = json(&a.release_ok(["view", "v1", "--json"]));
    assert_eq!(view["name"], "genuine");
    assert!(a.ref_exists("refs/tags/v1"));
    a.release_ok(["verify", "--all"]);
    assert!(
        a.release_ok(["doctor"])
            .contains("The store is consistent.")
    );
    a.assert_fsck_clean();

    // A commit with no such record is refused and changes nothing.
    let before = a.rev("refs/notes/releases");
    let err = a.release_err(1, ["delete", "v1", "--note", &stray, "-y"]);
    assert!(err.contains("holds no release v1"), "{err}");
    let err = a.release_err(1, ["delete", "v1", "--note", "nothing-like-a-commit", "-y"]);
    assert!(err.contains("invalid note commit"), "{err}");
    assert_eq!(a.rev("refs/notes/releases"), before);
}

use crate::support::edit_store;

fn notes(repo: &Repo) -> String {
    repo.rev("refs/notes/releases")
}

fn store_file(repo: &Repo, path: &str) -> String {
    repo.git(["show", &format!("refs/notes/releases:{path}")])
}

/// A's store, changed with plain git and pushed with plain git (as a hostile or
/// newer clone would).
fn push_store_file(a: &Repo, path: &str, bytes: &[u8]) {
    edit_store(a, path, Some(bytes));
    a.git(["push", "-q", "origin", "refs/notes/releases"]);
}

fn merge_states(repo: &Repo) -> String {
    repo.git(["for-each-ref", "refs/notes/releases-merge/"])
}

/// Case 5: a newer schema from the remote is refused by fetch, both when the
/// fetch would fast-forward and when it merges; nothing changes, nothing is recorded.
#[test]
fn a_newer_schema_from_the_remote_is_refused_and_never_overwritten() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let project = json(&store_file(&a, "project.json"));
    let mut newer = project.clone();
    newer["schema"] = Value::from(99);
    push_store_file(&a, "project.json", newer.to_string().as_bytes());
    for diverged in [false, true] {
        if diverged {
            b.release_ok(["update", "v1", "--name", "local"]);
        }
        let before = notes(&b);
        let err = b.release_err(1, ["fetch"]);
        assert!(
            err.contains("project.json fetched from origin uses schema version 99"),
            "{err}"
        );
        assert!(err.contains("upgrade git-release"), "{err}");
        assert_eq!(notes(&b), before, "nothing changed");
        assert_eq!(merge_states(&b), "", "nothing recorded");
        assert_eq!(json(&store_file(&b, "project.json"))["schema"], 1);
        // Nothing to settle: resolve finds no conflict.
        b.release_err(1, ["resolve", "v1", "--ours"]);
        b.release_err(1, ["fetch", "--theirs"]);
        assert_eq!(notes(&b), before);
    }
    // The remote still holds schema 99: nothing overwrote it.
    assert_eq!(
        json(&store_file(&remote(&env), "project.json"))["schema"],
        99
    );
    b.assert_fsck_clean();
}

/// Case 5: doctor, doctor --repair and every writer refuse a local store holding a
/// newer schema, and leave it byte for byte.
#[test]
fn doctor_and_writers_refuse_a_store_of_a_newer_schema() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M1"]);
    let project = json(&store_file(&a, "project.json"));
    let mut newer = project.clone();
    newer["schema"] = Value::from(99);
    newer["last_ids"]["future"] = Value::from(7);
    edit_store(&a, "project.json", Some(newer.to_string().as_bytes()));
    let before = notes(&a);
    let out = a.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("uses schema version 99"), "{text}");
    assert!(text.contains("upgrade git-release"), "{text}");
    let err = a.release_err(1, ["doctor", "--repair"]);
    assert!(err.contains("never rewrites"), "{err}");
    let out = a.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    for args in [
        &["update", "v1", "--name", "x"][..],
        &["milestone", "create", "M2"],
        &[
            "link",
            "add",
            "v1",
            "--name",
            "n",
            "--url",
            "https://e.com/n",
        ],
    ] {
        let err = a.release_err(1, args);
        assert!(err.contains("schema version 99"), "{args:?}: {err}");
    }
    assert_eq!(notes(&a), before);
    assert_eq!(json(&store_file(&a, "project.json")), newer);

    // milestones.json of a newer schema: the milestone commands refuse it too.
    a.git(["update-ref", "refs/notes/releases", &before]);
    edit_store(&a, "project.json", Some(project.to_string().as_bytes()));
    let mut ms = json(&store_file(&a, "milestones.json"));
    ms["schema"] = Value::from(2);
    edit_store(&a, "milestones.json", Some(ms.to_string().as_bytes()));
    let before = notes(&a);
    let err = a.release_err(1, ["milestone", "create", "M2"]);
    assert!(err.contains("schema version 2"), "{err}");
    a.release_err(1, ["doctor", "--repair"]);
    assert_eq!(notes(&a), before);
}

/// Case 9: a plain `git notes merge -s union` drops the other side's milestone;
/// verify and doctor notice, and doctor --repair takes it back.
#[test]
fn a_milestone_lost_by_a_plain_union_merge_is_noticed_and_taken_back() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M3", "--description", "from a"]);
    a.release_ok([
        "freeze",
        "add",
        "--from",
        "2024-12-20T00:00:00Z",
        "--until",
        "2025-01-06T00:00:00Z",
    ]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "create", "M1"]);
    b.release_ok([
        "freeze",
        "add",
        "--from",
        "2025-07-01T00:00:00Z",
        "--until",
        "2025-07-02T00:00:00Z",
    ]);
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
    assert_eq!(titles(&b), ["M1"], "the plain merge dropped M3");
    assert_eq!(freezes(&b), 1, "and a's freeze period");
    let out = b.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("milestone \"M3\" was dropped by the merge in notes commit"),
        "{text}"
    );
    let out = b.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("milestone \"M3\" was dropped"), "{text}");
    assert!(text.contains("git release doctor --repair"), "{text}");
    let repaired = b.release_ok(["doctor", "--repair"]);
    assert!(
        repaired.contains("took back: milestone \"M3\""),
        "{repaired}"
    );
    assert_eq!(titles(&b), ["M1", "M3"]);
    let m3 = json(&b.release_ok(["milestone", "view", "M3", "--json"]));
    assert_eq!(m3["description"], "from a");
    b.release_ok(["sync"]);
    a.release_ok(["fetch"]);
    assert_eq!(titles(&a), ["M1", "M3"]);
    assert_eq!(freezes(&a), 2);
    all_clean(&env, &[&a, &b]);
}

fn freezes(repo: &Repo) -> usize {
    json(&repo.release_ok(["freeze", "list", "--json"]))
        .as_array()
        .unwrap()
        .len()
}

/// Case 10: a corrupt milestones.json is reported by verify and doctor, and
/// doctor --repair takes back its last readable version; commands work again.
#[test]
fn a_corrupt_milestones_file_is_reported_and_repaired_from_history() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M1"]);
    a.release_ok(["update", "v1", "--milestone", "M1"]);
    edit_store(&a, "milestones.json", Some(b"{\"milestones\": [oops"));
    a.release_err(1, ["milestone", "list"]);
    let out = a.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("refs/notes/releases:milestones.json cannot be read")
            && text.contains("doctor --repair"),
        "{text}"
    );
    let out = a.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let repaired = a.release_ok(["doctor", "--repair"]);
    assert!(
        repaired.contains("took back refs/notes/releases:milestones.json")
            || repaired.contains("took back milestones.json"),
        "{repaired}"
    );
    assert_eq!(titles(&a), ["M1"]);
    let v1 = json(&a.release_ok(["view", "v1", "--json"]));
    assert_eq!(v1["milestones"][0]["title"], "M1");
    a.release_ok(["milestone", "create", "M2"]);
    a.release_ok(["verify", "--all"]);
    assert!(a.release_ok(["doctor"]).contains("consistent"));
    a.assert_fsck_clean();
}

/// Case 10, variant: a milestones.json that was never readable is removed (its
/// bytes stay in the notes history).
#[test]
fn a_milestones_file_never_readable_is_removed_by_repair() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    edit_store(&a, "milestones.json", Some(b"not json at all"));
    let bad = notes(&a);
    a.release_err(1, ["milestone", "list"]);
    let repaired = a.release_ok(["doctor", "--repair"]);
    assert!(repaired.contains("removed milestones.json"), "{repaired}");
    assert!(
        !a.git_output(["cat-file", "-e", "refs/notes/releases:milestones.json"])
            .status
            .success()
    );
    assert_eq!(
        a.git(["show", &format!("{bad}:milestones.json")]),
        "not json at all"
    );
    a.release_ok(["milestone", "create", "M1"]);
    a.release_ok(["verify", "--all"]);
    a.assert_fsck_clean();
}

/// Case 4's other half: duplicates already in a store (made with plain git) are
/// found by verify and doctor, and repaired: equal ones become one, different
/// ones are renamed apart.
#[test]
fn duplicates_in_a_store_are_found_and_repaired() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "dup",
        "--url",
        "https://e.com/1",
    ]);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "other",
        "--url",
        "https://e.com/2",
    ]);
    a.release_ok(["milestone", "create", "M2"]);
    a.release_ok(["milestone", "create", "M3", "--description", "three"]);
    let commit = a.rev("v1^{commit}");
    let path = format!("{}/{}", &commit[..2], &commit[2..]);
    let mut note = json(&a.git(["notes", "--ref=releases", "show", &commit]));
    let links = note["releases"]["v1"]["links"].as_array_mut().unwrap();
    let mut copy = links[0].clone();
    copy["key"] = Value::from("00000000000000000000000000000001");
    copy["id"] = Value::from(90);
    links.push(copy);
    links[1]["name"] = Value::from("dup");
    edit_store(&a, &path, Some(note.to_string().as_bytes()));
    let mut ms = json(&store_file(&a, "milestones.json"));
    let list = ms["milestones"].as_array_mut().unwrap();
    let mut equal = list[0].clone();
    equal["key"] = Value::from("00000000000000000000000000000002");
    (equal["id"], equal["iid"]) = (Value::from(91), Value::from(91));
    let mut different = list[1].clone();
    different["title"] = Value::from("M2");
    different["key"] = Value::from("00000000000000000000000000000003");
    (different["id"], different["iid"]) = (Value::from(92), Value::from(92));
    list.extend([equal, different]);
    edit_store(&a, "milestones.json", Some(ms.to_string().as_bytes()));

    let out = a.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("release v1 has 3 links with the name \"dup\""),
        "{text}"
    );
    assert!(text.contains("3 milestones are titled \"M2\""), "{text}");
    let repaired = a.release_ok(["doctor", "--repair"]);
    assert!(
        repaired.contains("removed link \"dup\" (id 90)"),
        "{repaired}"
    );
    assert!(repaired.contains("renamed link \"dup\""), "{repaired}");
    assert!(
        repaired.contains("removed milestone \"M2\" (id 91)"),
        "{repaired}"
    );
    assert!(
        repaired.contains("renamed milestone \"M2\" (id 92)"),
        "{repaired}"
    );
    let mut names: Vec<String> = links_of(&a, "v1");
    names.sort();
    assert_eq!(names, ["dup", "dup (2)"]);
    assert_eq!(titles(&a), ["M2", "M2 (92)", "M3"]);
    a.release_ok(["verify", "--all"]);
    assert!(a.release_ok(["doctor"]).contains("consistent"));
    a.assert_fsck_clean();
}

fn links_of(repo: &Repo, tag: &str) -> Vec<String> {
    links(repo, tag).into_iter().map(|(n, _)| n).collect()
}

/// #26 item 3: an id near 2^64 in an import file is refused before anything is
/// written.
#[test]
fn ids_above_two_to_the_53_are_refused_at_import() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    let before = notes(&a);
    for (what, body) in [
        (
            "link",
            r#"[{"tag_name": "v9", "name": "v9", "created_at": "2024-01-01T00:00:00Z", "assets": {"links": [{"id": 18446744073709551615, "name": "x", "url": "https://e.com/x"}]}}]"#,
        ),
        (
            "milestone",
            r#"[{"tag_name": "v9", "name": "v9", "created_at": "2024-01-01T00:00:00Z", "milestones": [{"id": 3, "iid": 9007199254740992, "title": "M9"}]}]"#,
        ),
    ] {
        a.write("import.json", body);
        let err = a.release_err(1, ["import", "import.json"]);
        assert!(err.contains("above the largest id"), "{what}: {err}");
        assert_eq!(notes(&a), before, "{what}: nothing changed");
    }
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "n",
        "--url",
        "https://e.com/n",
    ]);
}

/// #26 item 3: a remote whose counters are at 2^64 − 1 is refused by fetch, which
/// changes nothing; the local counters keep working.
#[test]
fn a_fetch_bringing_an_exhausted_counter_fails_cleanly() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let mut project = json(&store_file(&a, "project.json"));
    project["last_ids"]["link"] = Value::from(u64::MAX);
    push_store_file(&a, "project.json", project.to_string().as_bytes());
    for diverged in [false, true] {
        if diverged {
            b.release_ok(["update", "v1", "--name", "local"]);
        }
        let before = notes(&b);
        let err = b.release_err(1, ["fetch"]);
        assert!(
            err.contains("project.json fetched from origin")
                && err.contains("the link counter is 18446744073709551615"),
            "{err}"
        );
        assert_eq!(notes(&b), before);
        assert_eq!(merge_states(&b), "");
    }
    b.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "n",
        "--url",
        "https://e.com/n",
    ]);
    b.assert_fsck_clean();
}

/// #26 item 3: a counter at its end (put there before this version, or by hand)
/// is reported by doctor and verify and set back by doctor --repair.
#[test]
fn doctor_repairs_a_counter_at_its_end() {
    let env = Env::new();
    let (a, _b) = shared_v1(&env);
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "n",
        "--url",
        "https://e.com/n",
    ]);
    let mut project = json(&store_file(&a, "project.json"));
    project["last_ids"]["link"] = Value::from(u64::MAX);
    edit_store(&a, "project.json", Some(project.to_string().as_bytes()));
    let err = a.release_err(
        1,
        [
            "link",
            "add",
            "v1",
            "--name",
            "m",
            "--url",
            "https://e.com/m",
        ],
    );
    assert!(
        err.contains("at its end") && err.contains("doctor --repair"),
        "{err}"
    );
    let out = a.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("project.json's link counter is 18446744073709551615"),
        "{text}"
    );
    a.release_err(1, ["verify", "--all"]);
    let repaired = a.release_ok(["doctor", "--repair"]);
    assert!(repaired.contains("back to 1"), "{repaired}");
    a.release_ok([
        "link",
        "add",
        "v1",
        "--name",
        "m",
        "--url",
        "https://e.com/m",
    ]);
    let list = json(&a.release_ok(["link", "list", "v1", "--json"]));
    let mut ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2]);
    assert!(a.release_ok(["doctor"]).contains("consistent"));
    a.assert_fsck_clean();
}

/// #26 item 4 (notes tree): files in the remote's notes tree that are not part of
/// the store are reported (escaped) and left out; a blob above the size bound is
/// refused unread.
#[test]
fn unknown_files_in_a_remote_notes_tree_are_left_out_and_reported() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let escape = "esc\u{1b}]0;title\u{7}name";
    push_store_file(&a, "x;$(touch pwned)", b"#!/bin/sh\n");
    push_store_file(&a, escape, b"junk");
    push_store_file(&a, "evidence/zz/loose", b"junk");
    let big = vec![b'x'; 40 << 20];
    push_store_file(&a, "huge-blob", &big);
    // Fast-forward: B has nothing of its own.
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    left_out_and_reported(&b, &stderr(&out), &["x;$(touch pwned)", "huge-blob"]);
    // Three-way: both sides moved on; the remote gained another stray file.
    b.release_ok(["update", "v1", "--name", "local"]);
    push_store_file(&a, "y;$(touch pwned2)", b"#!/bin/sh\n");
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    left_out_and_reported(
        &b,
        &stderr(&out),
        &["x;$(touch pwned)", "y;$(touch pwned2)"],
    );
    assert_eq!(
        json(&b.release_ok(["view", "v1", "--json"]))["name"],
        "local"
    );
    assert!(!b.path().join("pwned").exists() && !b.path().join("pwned2").exists());
    b.release_ok(["push"]);
    let tip = remote(&env).git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    assert!(
        !tip.contains("pwned") && !tip.contains("huge-blob"),
        "{tip}"
    );
    b.assert_fsck_clean();

    // A note (a name the store reads) above the size bound is refused unread.
    a.release_ok(["fetch"]);
    let v1 = a.rev("v1^{commit}");
    let mut note = json(&a.git(["notes", "--ref=releases", "show", &v1]));
    note["padding"] = Value::from("p".repeat(33 << 20));
    push_store_file(
        &a,
        &format!("{}/{}", &v1[..2], &v1[2..]),
        note.to_string().as_bytes(),
    );
    let before = notes(&b);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("it was not read"), "{err}");
    assert_eq!(notes(&b), before);
}

fn left_out_and_reported(b: &Repo, err: &str, names: &[&str]) {
    for name in names {
        assert!(
            err.contains(&format!("left out file {name:?}")),
            "{name}: {err}"
        );
    }
    assert!(err.contains("esc\\u{1b}]0;title\\u{7}name"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no raw escape reaches the terminal: {err:?}"
    );
    let tree = b.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    for name in ["pwned", "huge-blob", "evidence/zz", "esc"] {
        assert!(!tree.contains(name), "{name} left out: {tree}");
    }
    assert!(b.release_ok(["doctor"]).contains("consistent"));
}

/// Case 8 through a remote: b puts a second record of v1 on another commit with
/// plain `git notes` and pushes it with plain git. a's fetch does not take it (a
/// conflict on where v1 is released); b's doctor names the stray record, never the
/// genuine one (where the tag points); the command it names removes just that, and
/// both clones end with the one genuine record.
#[test]
fn a_second_record_pushed_from_another_clone_is_refused_and_doctor_names_the_stray() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let genuine = b.rev("v1^{commit}");
    let stray = b.rev("HEAD~1");
    let mut record = record_on(&b, &genuine, "v1").unwrap();
    record["name"] = Value::from("stray");
    record["commit"] = Value::from(stray.clone());
    let note = serde_json::json!({"schema": 1, "releases": {"v1": record}});
    b.write("stray.json", serde_json::to_string_pretty(&note).unwrap());
    b.git(["notes", "--ref=releases", "add", "-F", "stray.json", &stray]);
    b.git(["push", "-q", "origin", "refs/notes/releases"]);

    // a does not take the second record: a conflict, nothing of it merged.
    let err = a.release_err(1, ["fetch"]);
    assert!(
        err.contains(&format!(
            "release v1: released on commit {} here vs {} on origin",
            &genuine[..12],
            &stray[..12]
        )),
        "{err}"
    );
    assert!(record_on(&a, &stray, "v1").is_none());
    assert_eq!(
        json(&a.release_ok(["view", "v1", "--json"]))["name"],
        "base"
    );

    // b's doctor names the stray record (the tag points at the genuine one).
    let out = b.release(["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("release v1 is recorded on 2 commits")
            && text.contains(&format!("(tag v1 points at {})", &genuine[..12])),
        "{text}"
    );
    assert!(
        text.contains(&format!("git release delete v1 --note {}", &stray[..12])),
        "{text}"
    );
    assert!(
        !text.contains(&format!("--note {}", &genuine[..12])),
        "never the genuine one: {text}"
    );
    b.release_ok(["delete", "v1", "--note", &stray[..12], "-y"]);
    assert!(record_on(&b, &stray, "v1").is_none());
    assert_eq!(record_on(&b, &genuine, "v1").unwrap()["name"], "base");
    b.release_ok(["push"]);

    // The remote holds one record again; a's fetch is clean and keeps it.
    a.release_ok(["fetch"]);
    assert!(record_on(&a, &stray, "v1").is_none());
    assert!(record_on(&remote(&env), &stray, "v1").is_none());
    assert_eq!(
        json(&a.release_ok(["view", "v1", "--json"]))["name"],
        "base"
    );
    assert_eq!(
        merge_states(&a),
        "",
        "the conflict went with the stray record"
    );
    // (Two clones whose notes sit at different fanouts once wrote a commit on every
    // sync: team::a_note_edited_with_plain_git_never_makes_two_clones_rewrite….)
    a.release_ok(["sync"]);
    b.release_ok(["fetch"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    all_clean(&env, &[&a, &b]);
}

/// Case 10 through a remote: a's milestones.json broken by hand. Every command that
/// reads it names the file and the command that repairs it; one that does not read
/// it still works; nothing is published; after `doctor --repair` a sync brings b
/// the milestone as it was.
#[test]
fn a_corrupt_milestones_file_names_its_repair_and_is_never_published() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M1"]);
    a.release_ok(["update", "v1", "--milestone", "M1"]);
    edit_store(&a, "milestones.json", Some(b"{\"milestones\": [oops"));
    let broken = notes(&a);
    let remote_before = notes(&remote(&env));
    for args in [
        &["milestone", "list"][..],
        &["milestone", "view", "M1"],
        &["list"],
        &["view", "v1"],
        &["update", "v1", "--name", "x"],
        &["create", "v2", "--ref", "HEAD~1"],
        &["push"],
        &["sync"],
    ] {
        let err = a.release_err(1, args);
        assert!(
            err.contains("milestones.json") && err.contains("git release doctor --repair"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(notes(&a), broken, "nothing written");
    assert_eq!(notes(&remote(&env)), remote_before, "nothing published");
    assert!(!a.ref_exists("refs/tags/v2"));
    // Freeze periods live in a file of their own.
    a.release_ok(["freeze", "list"]);

    let out = a.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    a.release_ok(["doctor", "--repair"]);
    a.release_ok(["sync"]);
    b.release_ok(["fetch"]);
    assert_eq!(titles(&b), ["M1"]);
    let v1 = json(&b.release_ok(["view", "v1", "--json"]));
    assert_eq!(v1["milestones"][0]["title"], "M1");
    all_clean(&env, &[&a, &b]);
}
