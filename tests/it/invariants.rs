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
