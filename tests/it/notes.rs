//! `--generate-notes`: notes from the commits since the previous release, on a history
//! with branches and merges built with real git.

use serde_json::Value;

use crate::support::{AUTHOR_NAME, Env, Repo};

fn commit_as(repo: &Repo, author: &str, message: &str) {
    repo.git([
        "commit",
        "-q",
        "--allow-empty",
        "--author",
        author,
        "-m",
        message,
    ]);
}

fn description(repo: &Repo, tag: &str) -> String {
    let entity: Value = serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap();
    entity["description"].as_str().unwrap().to_owned()
}

/// main: init ─ v1.0 ─ fix ─ merge(feature) ─ docs
///                 └ feat (Bea) ─ side release ┘
fn branched(env: &Env) -> Repo<'_> {
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = env.repo("proj");
    repo.commit("init", &[("a.txt", "a\n")]);
    repo.commit("feat: first feature", &[("b.txt", "b\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.git(["checkout", "-q", "-b", "feature"]);
    commit_as(
        &repo,
        "Bea Branch <bea@example.com>",
        "feat(api): side feature",
    );
    repo.release_ok(["create", "side-1", "--ref", "HEAD"]);
    commit_as(
        &repo,
        "Bea Branch <bea@example.com>",
        "fix!: breaking fix on the branch",
    );
    repo.git(["checkout", "-q", "main"]);
    repo.commit("fix(core): crash on empty input", &[("c.txt", "c\n")]);
    repo.git([
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'feature'",
        "feature",
    ]);
    repo.commit("docs: readme", &[("README", "r\n")]);
    repo
}

#[test]
fn generated_notes_cover_commits_since_the_previous_first_parent_release() {
    let env = Env::new();
    let repo = branched(&env);
    let out = repo.release([
        "create",
        "v1.1",
        "--ref",
        "HEAD",
        "--generate-notes",
        "--notes",
        "Intro text.",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // side-1 is not on main's first-parent history, so v1.0 is the previous release.
    assert!(
        stderr.contains("generated notes from v1.0..v1.1 (4 commits)"),
        "{stderr}"
    );

    let text = description(&repo, "v1.1");
    let short = |rev: &str| repo.rev(rev)[..8].to_owned();
    // Newest first in topological order (the dates are equal in this hermetic setup).
    let expected = format!(
        "Intro text.\n\n\
         ### Features\n\n\
         - **api:** side feature ({})\n\n\
         ### Fixes\n\n\
         - **core:** crash on empty input ({})\n\
         - **BREAKING** breaking fix on the branch ({})\n\n\
         ### Other\n\n\
         - docs: readme ({})\n\n\
         ### Contributors\n\n\
         - {AUTHOR_NAME}\n\
         - Bea Branch\n\n\
         **Changes**: `v1.0..v1.1` (4 commits)\n",
        short("feature~1"),
        short("main^^1"),
        short("feature"),
        short("main"),
    );
    assert_eq!(text, expected);
    assert!(
        !text.contains("Merge branch"),
        "merge commits are not listed"
    );
}

#[test]
fn notes_start_tag_overrides_and_update_regenerates() {
    let env = Env::new();
    let repo = branched(&env);
    repo.release_ok(["create", "v1.1", "--ref", "HEAD", "--notes", "hand written"]);
    let out = repo.release([
        "update",
        "v1.1",
        "--generate-notes",
        "--notes-start-tag",
        "side-1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("generated notes from side-1..v1.1 (3 commits)"),
        "{stderr}"
    );
    let text = description(&repo, "v1.1");
    assert!(
        text.starts_with("### Fixes\n"),
        "replaces the description: {text}"
    );
    assert!(!text.contains("side feature"), "{text}");
    assert!(text.contains("breaking fix on the branch"), "{text}");
    assert!(
        text.ends_with("**Changes**: `side-1..v1.1` (3 commits)\n"),
        "{text}"
    );

    // Without --notes-start-tag, the release's own tag is skipped: v1.0 again.
    let out = repo.release(["update", "v1.1", "--generate-notes"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("v1.0..v1.1 (4 commits)"));

    let before = repo.rev("refs/notes/releases");
    let err = repo.release_err(
        1,
        [
            "update",
            "v1.1",
            "--generate-notes",
            "--notes-start-tag",
            "nope",
        ],
    );
    assert!(err.contains("tag \"nope\" does not exist"), "{err}");
    assert_eq!(repo.rev("refs/notes/releases"), before);
    repo.release_err(
        2,
        ["create", "v9", "--ref", "HEAD", "--notes-start-tag", "v1.0"],
    );
}

#[test]
fn first_release_notes_cover_all_history() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = env.repo("proj");
    repo.commit("init", &[("a.txt", "a\n")]);
    repo.commit("feat: thing", &[("b.txt", "b\n")]);
    let out = repo.release(["create", "v0.1", "--ref", "HEAD", "--generate-notes"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("every commit up to v0.1 (2 commits; no earlier release)"),
        "{stderr}"
    );
    let text = description(&repo, "v0.1");
    assert!(text.starts_with("### Features\n\n- thing ("), "{text}");
    assert!(text.contains("### Other\n\n- init ("), "{text}");

    // A second release on the same commit: nothing new since v0.1.
    repo.release_ok(["create", "v0.1-again", "--ref", "HEAD", "--generate-notes"]);
    let text = description(&repo, "v0.1-again");
    assert!(text.starts_with("No changes since v0.1.\n"), "{text}");
}
