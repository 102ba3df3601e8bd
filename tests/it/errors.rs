//! How failures reach people and programs: the error, the errors beneath it as
//! "Caused by:" lines, the hint (the command line's, never the API's), and the exit
//! statuses scripts rely on.

use crate::support::{Env, Repo, edit_store, serve};

fn repo(env: &Env) -> Repo<'_> {
    let repo = env.repo("work");
    repo.commit("one", &[("f", "1")]);
    repo.git(["tag", "v1"]);
    repo.release_ok(["create", "v1"]);
    repo
}

/// The parser's own words about a corrupt store file are kept as the error's cause and
/// printed under it, then the hint: error, Caused by, hint, in that order.
#[test]
fn a_parse_error_is_printed_as_the_cause_under_the_error_and_before_the_hint() {
    let env = Env::new();
    let repo = repo(&env);
    edit_store(&repo, "milestones.json", Some(b"{\"milestones\": [oops"));
    let err = repo.release_err(1, ["milestone", "list"]);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "error: corrupt release data in refs/notes/releases:milestones.json: cannot decode it",
        "{err}"
    );
    assert!(
        lines[1].starts_with("Caused by: expected value at line 1 column"),
        "{err}"
    );
    assert!(
        lines[2].starts_with("hint: `git release doctor --repair` takes back"),
        "{err}"
    );
    assert_eq!(lines.len(), 3, "{err}");
}

/// A cause the message already names inline is not repeated on a line of its own.
#[test]
fn a_cause_already_in_the_message_is_not_repeated() {
    let env = Env::new();
    let repo = repo(&env);
    let missing = env.path().join("no-such-notes.md");
    let err = repo.release_err(
        1,
        ["update", "v1", "--notes-file", missing.to_str().unwrap()],
    );
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(!err.contains("Caused by:"), "{err}");
}

/// `serve` answers with GitLab's messages: no hint, no command-line flag, no cause.
#[test]
fn api_errors_carry_no_command_line_hints() {
    let env = Env::new();
    let repo = repo(&env);
    let server = serve::start(&repo, &[]);
    for (path, status) in [
        ("/api/v4/projects/1/releases/nope", 404),
        ("/api/v4/projects/1/releases/v1/assets/links/99", 404),
        ("/api/v4/projects/1/repository/archive.zip?sha=nope", 404),
    ] {
        let reply = server.get(path);
        let body = reply.error_text();
        assert_eq!(reply.status, status, "{path}: {body}");
        assert!(
            !body.contains("hint") && !body.contains("--") && !body.contains("git release"),
            "{path}: {body}"
        );
    }
}

/// The named exit statuses: 0 done, 1 failure, 2 usage; `config KEY` 1 when unset (as
/// `git config --get`); `freeze check` 1 frozen, 0 open, 2 when it cannot tell.
#[test]
fn exit_statuses_are_the_documented_ones() {
    let env = Env::new();
    let repo = repo(&env);
    let code = |args: &[&str]| repo.release(args).status.code();
    assert_eq!(code(&["view", "v1"]), Some(0));
    assert_eq!(code(&["view", "v9"]), Some(1));
    assert_eq!(code(&["view", "--no-such-flag"]), Some(2));
    assert_eq!(code(&["config", "project.description"]), Some(1));
    let (open, closed) = ("2024-03-01T08:00:00Z", "2024-03-01T23:30:00Z");
    assert_eq!(code(&["freeze", "check", "--at", open]), Some(0));
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * *",
        "--end",
        "0 7 * * *",
    ]);
    assert_eq!(code(&["freeze", "check", "--at", open]), Some(0));
    assert_eq!(code(&["freeze", "check", "--at", closed]), Some(1));
    edit_store(&repo, "freezes.json", Some(b"{oops"));
    assert_eq!(code(&["freeze", "check", "--at", closed]), Some(2));
}
