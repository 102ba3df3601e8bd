//! push / fetch / sync between real clones through a local bare remote: releases,
//! edits and display ids made in two clones end up merged, nothing lost.

use serde_json::{Value, json};

use crate::support::{Env, Repo, tag_names};

/// A bare remote with one commit, and two clones of it (`a`, `b`).
fn two_clones(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let seed = env.repo("seed");
    seed.commit("one", &[("f", "1")]);
    seed.commit("two", &[("f", "2")]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    for name in ["a", "b"] {
        env.at(env.path()).git(["clone", "-q", "remote.git", name]);
    }
    (env.at(env.path().join("a")), env.at(env.path().join("b")))
}

fn view(repo: &Repo, tag: &str) -> Value {
    serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap()
}

fn tags(repo: &Repo) -> Vec<String> {
    tag_names(&repo.release_ok(["list", "--json", "--order-by", "semver", "--sort", "asc"]))
}

#[test]
fn push_then_fetch_brings_releases_and_tags_to_another_clone() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    let err = b.release_err(1, ["push"]);
    assert!(err.contains("no releases here yet"), "{err}");
    a.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD~1",
        "--notes",
        "first",
        "--tag-message",
        "v1",
    ]);
    let out = a.release(["push"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = env.at(env.path().join("remote.git"));
    assert_eq!(
        remote.rev("refs/notes/releases"),
        a.rev("refs/notes/releases")
    );
    assert_eq!(remote.rev("refs/tags/v1.0"), a.rev("refs/tags/v1.0"));

    let out = b.release(["fetch"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Fast-forwarded"));
    assert_eq!(view(&b, "v1.0")["description"], "first");
    assert_eq!(
        b.rev("refs/notes/remotes/origin/releases"),
        a.rev("refs/notes/releases")
    );
    // Fetching again changes nothing.
    let out = b.release(["fetch", "origin"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("up to date"));
}

#[test]
fn concurrent_work_in_two_clones_ends_as_the_union_after_sync() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    a.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD~1",
        "--name",
        "One",
        "--notes",
        "base notes",
    ]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);

    // Both sides work at once: new releases, and different fields of one release.
    a.release_ok(["create", "v2", "--ref", "HEAD", "--notes", "from a"]);
    a.release_ok(["update", "v1", "--name", "One (renamed in a)"]);
    b.release_ok(["create", "v3", "--ref", "HEAD", "--notes", "from b"]);
    b.release_ok(["update", "v1", "--notes", "notes edited in b"]);
    a.release_ok(["sync"]);
    let out = b.release(["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.release_ok(["fetch"]);

    for repo in [&a, &b] {
        assert_eq!(tags(repo), ["v1", "v2", "v3"]);
        let v1 = view(repo, "v1");
        assert_eq!(v1["name"], "One (renamed in a)");
        assert_eq!(v1["description"], "notes edited in b");
        repo.assert_fsck_clean();
    }
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
    // The merge is a commit with both parents: nothing from either side is lost.
    let parents = b.git(["log", "-1", "--format=%P", "refs/notes/releases"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
    // The two releases on HEAD (made in different clones) share one note.
    let note: Value =
        serde_json::from_str(&b.git(["notes", "--ref=releases", "show", "HEAD"])).unwrap();
    assert_eq!(note["releases"].as_object().unwrap().len(), 2);
}

#[test]
fn push_after_the_remote_moved_merges_first() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    b.release_ok(["create", "v2", "--ref", "HEAD~1"]);
    let out = b.release(["push"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = env.at(env.path().join("remote.git"));
    let on_remote: Value =
        serde_json::from_str(&remote.git(["notes", "--ref=releases", "show", "v1^{commit}"]))
            .unwrap();
    assert!(on_remote["releases"]["v1"].is_object());
    a.release_ok(["fetch"]);
    assert_eq!(tags(&a), ["v1", "v2"]);
    assert!(remote.ref_exists("refs/tags/v2"));
}

#[test]
fn display_ids_handed_out_in_both_clones_are_renumbered_not_lost() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    // Each clone records a different link under the same display id 1.
    let add_link = |repo: &Repo, key: &str, name: &str| {
        let mut note: Value =
            serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", "HEAD"])).unwrap();
        note["releases"]["v1"]["links"] = json!([{
            "key": key, "id": 1, "name": name, "url": format!("https://example.com/{name}"),
            "link_type": "other", "created_at": "2024-01-01T00:00:00.000Z"
        }]);
        repo.git([
            "notes",
            "--ref=releases",
            "add",
            "-f",
            "-m",
            &note.to_string(),
            "HEAD",
        ]);
    };
    add_link(&a, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "from-a");
    add_link(&b, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "from-b");
    // A note written by hand leaves the link counter behind: a store push refuses to
    // publish until doctor brings it up to the id in use.
    for repo in [&a, &b] {
        repo.release_ok(["doctor", "--repair"]);
    }
    a.release_ok(["push"]);
    let out = b.release(["fetch"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("renumbered link \"from-a\": id 1 → 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links = view(&b, "v1")["assets"]["links"].clone();
    let mut ids: Vec<(u64, String)> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_u64().unwrap(),
                l["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(ids, [(1, "from-b".to_owned()), (2, "from-a".to_owned())]);
    let project: Value =
        serde_json::from_str(&b.git(["show", "refs/notes/releases:project.json"])).unwrap();
    assert_eq!(project["last_ids"]["link"], 2);
}

#[test]
fn a_remote_without_releases_and_a_bad_remote_are_reported() {
    let env = Env::new();
    let (a, _b) = two_clones(&env);
    let out = a.release(["fetch"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no releases yet"));
    let err = a.release_err(1, ["fetch", "nowhere"]);
    assert!(
        err.contains("cannot ask nowhere")
            && err.contains("does not appear to be a git repository"),
        "{err}"
    );
    let err = a.release_err(1, ["fetch", "--", "--upload-pack=touch /tmp/x"]);
    assert!(err.contains("cannot be empty or start with '-'"), "{err}");
}

#[test]
fn milestones_and_freezes_made_in_two_clones_are_all_kept_with_distinct_ids() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    a.release_ok(["milestone", "create", "Alpha"]);
    a.release_ok([
        "freeze",
        "add",
        "--start",
        "0 22 * * 5",
        "--end",
        "0 6 * * 1",
    ]);
    b.release_ok(["milestone", "create", "Beta"]);
    b.release_ok([
        "freeze",
        "add",
        "--start",
        "0 0 24 12 *",
        "--end",
        "0 0 27 12 *",
        "--timezone",
        "Europe/Berlin",
    ]);
    a.release_ok(["push"]);
    let out = b.release(["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.release_ok(["fetch"]);
    for repo in [&a, &b] {
        let milestones: Value =
            serde_json::from_str(&repo.release_ok(["milestone", "list", "--json"])).unwrap();
        let mut got: Vec<(u64, String)> = milestones
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["id"].as_u64().unwrap(),
                    m["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_ne!(got[0].0, got[1].0, "ids are distinct: {got:?}");
        let freezes: Value =
            serde_json::from_str(&repo.release_ok(["freeze", "list", "--json"])).unwrap();
        let ids: Vec<u64> = freezes
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
    }
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
}
