//! What people read, pinned whole: the human output of the commands they run most.
//! A change here is a readable diff in `tests/it/snapshots/` (review it, then accept it
//! with `INSTA_UPDATE=always cargo test --test it snapshots`).
//!
//! Everything that could vary is fixed: identities and commit dates (support.rs),
//! "now" (`GIT_RELEASE_NOW`), the project name and web URL.

use crate::support::{Env, Repo};

const NOW: &str = "2024-06-01T12:00:00Z";

/// A repository with three commits and releases of each kind: a normal one with links
/// and a milestone, a historical one, an upcoming one; a milestone with issues and a
/// weekly freeze.
fn project(env: &Env) -> Repo<'_> {
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.git([
        "config",
        "release.webUrl",
        "https://gitlab.example.com/group/proj",
    ]);
    repo.commit("feat: first", &[("a.txt", "alpha\n")]);
    repo.release_ok([
        "create",
        "v0.9.0",
        "--ref",
        "HEAD",
        "--released-at",
        "2023-01-15T09:00:00Z",
        "--notes",
        "An old release, recorded after the fact.",
    ]);
    repo.commit("fix: second", &[("b.txt", "beta\n")]);
    repo.release_ok(["milestone", "create", "1.0", "--due-date", "2024-07-01"]);
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "Ship it",
        "--url",
        "https://gitlab.example.com/group/proj/-/issues/1",
    ]);
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "Write docs",
        "--state",
        "closed",
    ]);
    repo.release_ok([
        "create",
        "v1.0.0",
        "--ref",
        "HEAD",
        "--name",
        "First stable",
        "--milestone",
        "1.0",
        "--tag-message",
        "Release 1.0.0",
        "--notes",
        "## Highlights\n\n- fast\n- small\n",
        "--link",
        "name=linux amd64,url=https://example.com/app,direct_asset_path=/bin/app,link_type=package",
    ]);
    repo.commit("feat: third", &[("c.txt", "gamma\n")]);
    repo.release_ok([
        "create",
        "v2.0.0",
        "--ref",
        "HEAD",
        "--released-at",
        "2030-01-01T00:00:00Z",
    ]);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * 5",
        "--end",
        "0 7 * * 1",
        "--timezone",
        "Europe/Berlin",
    ]);
    repo
}

/// Replaces every 64-hex-digit run with `[sha256]`.
fn redact_sha256(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "[sha256]" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

#[test]
fn human_output_of_list_view_milestone_freeze_evidence_and_verify() {
    let env = Env::new();
    let repo = project(&env);
    insta::assert_snapshot!("list", repo.release_ok(["list"]));
    insta::assert_snapshot!("view", repo.release_ok(["view", "v1.0.0"]));
    insta::assert_snapshot!("view_upcoming", repo.release_ok(["view", "latest"]));
    insta::assert_snapshot!(
        "milestone_view",
        repo.release_ok(["milestone", "view", "1.0"])
    );
    insta::assert_snapshot!(
        "freeze_status_open",
        repo.release_ok(["freeze", "status", "--at", "2024-06-04T12:00:00Z"])
    );
    insta::assert_snapshot!(
        "freeze_status_frozen",
        repo.release_ok(["freeze", "status", "--at", "2024-06-01T00:00:00Z"])
    );
    // A snapshot's SHA-256 covers the random keys of the record: not stable.
    let evidence = redact_sha256(&repo.release_ok(["evidence", "list", "v1.0.0"]));
    insta::assert_snapshot!("evidence_list", evidence);
    insta::assert_snapshot!("verify", repo.release_ok(["verify", "--all"]));
}

#[test]
fn human_output_of_verify_names_a_moved_tag() {
    let env = Env::new();
    let repo = project(&env);
    repo.git(["tag", "-f", "v0.9.0", "HEAD"]);
    let out = repo.release(["verify", "--all"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("verify_moved", String::from_utf8(out.stdout).unwrap());
}
