//! The sharp edges a newcomer hits (issue "Works as git works"): each test here failed
//! before its fix.

use serde_json::Value;
use unicode_width::UnicodeWidthStr;

use crate::support::{Env, Repo};

fn repo(env: &Env) -> Repo<'_> {
    let repo = env.repo("proj");
    repo.commit("one", &[("f", "1")]);
    repo
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_freeze_that_would_never_end_is_refused() {
    let env = Env::new();
    let repo = repo(&env);
    for (start, end) in [
        ("0 23 * * fri", "0 23 * * fri"),
        ("0 23 * * 5", "0 23 * * fri"),
        // A start every minute reopens each freeze the moment it closes.
        ("* * * * *", "0 7 * * *"),
    ] {
        let err = repo.release_err(1, ["freeze", "add", "--start", start, "--end", end]);
        assert!(err.contains("never end"), "{start} / {end}: {err}");
    }
    assert!(!repo.ref_exists("refs/notes/releases"), "nothing written");
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * fri",
        "--end",
        "0 7 * * mon",
    ]);
    let err = repo.release_err(1, ["freeze", "update", "1", "--end", "0 23 * * fri"]);
    assert!(err.contains("never end"), "{err}");
}

#[test]
fn archive_urls_escape_the_file_part() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git([
        "remote",
        "add",
        "origin",
        "https://gitlab.example.com/group/proj.git",
    ]);
    repo.release_ok(["create", "v1#x", "--ref", "HEAD"]);
    let v: Value = serde_json::from_str(&repo.release_ok(["view", "v1#x", "--json"])).unwrap();
    assert_eq!(
        v["assets"]["sources"][0]["url"],
        "https://gitlab.example.com/group/proj/-/archive/v1%23x/proj-v1%23x.zip"
    );
}

#[test]
fn bad_refs_are_explained_in_the_users_terms() {
    let env = Env::new();
    let repo = repo(&env);
    for (reference, says) in [
        ("HEAD^{tree}", "is a tree"),
        ("HEAD:f", "is a blob"),
        ("HEAD~5", "goes past"),
        ("HEAD^2", "goes past"),
        ("HEAD:nope", "has no path \"nope\""),
        ("nope", "no branch, tag or commit is called \"nope\""),
    ] {
        let err = repo.release_err(1, ["create", "v9", "--ref", reference]);
        assert!(err.contains(says), "{reference}: {err}");
        assert!(
            !err.contains("git_object_t") && !err.contains("does not exist"),
            "{reference}: {err}"
        );
    }
    assert!(!repo.ref_exists("refs/tags/v9"));
}

#[test]
fn man_output_dir_says_what_to_put_on_manpath() {
    let env = Env::new();
    let repo = repo(&env);
    let out = repo.release(["man", "--output-dir", "pages/man1"]);
    assert!(out.status.success());
    let expected = repo.path().join("pages");
    assert!(
        stderr(&out).contains(&format!("add {} to MANPATH", expected.display())),
        "{}",
        stderr(&out)
    );
    let out = repo.release(["man", "--output-dir", "loose"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("man1") && !err.contains("loose/.."), "{err}");
    assert!(repo.path().join("loose/git-release.1").is_file());
}

#[test]
fn paging_is_as_lenient_as_gitlabs() {
    let env = Env::new();
    let repo = repo(&env);
    for tag in ["a", "b", "c"] {
        repo.release_ok(["create", tag, "--ref", "HEAD"]);
    }
    let out = repo.release(["list", "--per-page", "101", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("100"), "{}", stderr(&out));
    assert_eq!(
        crate::support::tag_names(&String::from_utf8_lossy(&out.stdout)).len(),
        3
    );
    let page0 = repo.release_ok(["list", "--page", "0", "--per-page", "2", "--json"]);
    let page1 = repo.release_ok(["list", "--page", "1", "--per-page", "2", "--json"]);
    assert_eq!(page0, page1);
    let err = repo.release_err(2, ["list", "--page", "x"]);
    assert!(!err.contains("18446744073709551615"), "{err}");
}

#[test]
fn released_at_without_an_offset_is_utc_with_a_notice() {
    let env = Env::new();
    let repo = repo(&env);
    let out = repo.release([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2024-03-01T10:00:00",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("taken as UTC"), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["released_at"], "2024-03-01T10:00:00.000Z");
}

#[test]
fn a_fresh_clone_with_no_releases_points_at_fetch() {
    let env = Env::new();
    let origin = repo(&env);
    origin.release_ok(["create", "v1", "--ref", "HEAD"]);
    env.at(env.path()).git(["clone", "-q", "proj", "clone"]);
    let clone = env.at(env.path().join("clone"));
    let out = clone.release(["list"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("git release fetch origin"),
        "{}",
        stderr(&out)
    );
    clone.release_ok(["fetch"]);
    assert!(clone.release_ok(["list"]).contains("v1"));
    // A repository with no remote: nothing to suggest.
    let lonely = env.repo("lonely");
    lonely.commit("one", &[("f", "1")]);
    assert_eq!(stderr(&lonely.release(["list"])).trim(), "No releases.");
}

#[test]
fn a_bundle_origin_names_the_project_as_git_clone_names_its_directory() {
    let env = Env::new();
    let origin = repo(&env);
    origin.git(["bundle", "create", "../app.bundle", "--all"]);
    env.at(env.path())
        .git(["clone", "-q", "app.bundle", "cloned-dir"]);
    let clone = env.at(env.path().join("cloned-dir"));
    assert_eq!(clone.release_ok(["config", "project.name"]), "app\n");
}

#[test]
fn tables_align_by_display_width() {
    let env = Env::new();
    let repo = repo(&env);
    repo.release_ok(["create", "🚀", "--ref", "HEAD", "--name", "rocket"]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--name", "plain"]);
    let table = repo.release_ok(["list"]);
    let columns: Vec<usize> = table
        .lines()
        .skip(1)
        .map(|line| {
            let at = line.find(['r', 'p']).unwrap();
            line[..at].width()
        })
        .collect();
    assert_eq!(columns.len(), 2, "{table}");
    assert_eq!(columns[0], columns[1], "{table}");
}

#[test]
fn semver_order_compares_prefixed_versions_and_reverses_whole() {
    let env = Env::new();
    let repo = repo(&env);
    for tag in [
        "grep-cli-0.1.10",
        "nightly",
        "grep-cli-0.1.2",
        "v1.0.0",
        "alpha",
    ] {
        repo.release_ok(["create", tag, "--ref", "HEAD"]);
    }
    let asc = crate::support::tag_names(&repo.release_ok([
        "list",
        "--order-by",
        "semver",
        "--sort",
        "asc",
        "--json",
    ]));
    assert_eq!(
        asc,
        [
            "grep-cli-0.1.2",
            "grep-cli-0.1.10",
            "v1.0.0",
            "alpha",
            "nightly"
        ]
    );
    let mut desc =
        crate::support::tag_names(&repo.release_ok(["list", "--order-by", "semver", "--json"]));
    desc.reverse();
    assert_eq!(desc, asc);
}

#[test]
fn a_note_that_is_not_json_is_named_by_list_view_and_verify() {
    let env = Env::new();
    let repo = repo(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    repo.commit("two", &[("f", "2")]);
    repo.release_ok(["create", "v3", "--ref", "HEAD"]);
    let commit = repo.rev("v1^{commit}");
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-m",
        "plain text, not a record",
        &commit,
    ]);
    let out = repo.release(["list"]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&commit) && err.contains("not a git-release record"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("v3"));
    let err = repo.release_err(1, ["view", "v1"]);
    assert!(
        err.contains(&commit) && err.contains("not a git-release record"),
        "{err}"
    );
    let out = repo.release(["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(all.contains(&commit), "{all}");
}

#[test]
fn delete_with_tag_refuses_a_moved_tag_without_force() {
    let env = Env::new();
    let repo = repo(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let released = repo.rev("v1");
    repo.commit("two", &[("f", "2")]);
    repo.git(["tag", "-f", "v1"]);
    let moved = repo.rev("v1");
    assert_ne!(released, moved);
    let notes = repo.rev("refs/notes/releases");
    let err = repo.release_err(1, ["delete", "v1", "--with-tag", "-y"]);
    assert!(err.contains("moved") && err.contains("--force"), "{err}");
    assert_eq!(repo.rev("v1"), moved, "the tag is untouched");
    assert_eq!(repo.rev("refs/notes/releases"), notes, "nothing written");
    repo.release_ok(["delete", "v1", "--with-tag", "--force", "-y"]);
    assert!(!repo.ref_exists("refs/tags/v1"));
}

#[test]
fn a_held_lock_is_named_whatever_the_timeout_and_a_bad_timeout_is_refused() {
    let env = Env::new();
    let repo = repo(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let lock = repo.path().join(".git/refs/notes/releases.lock");
    std::fs::write(&lock, "").unwrap();
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "1");
    let err = repo.release_err(1, ["create", "v2", "--ref", "HEAD"]);
    assert!(err.contains(&lock.display().to_string()), "{err}");
    std::fs::remove_file(&lock).unwrap();
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "abc");
    let err = repo.release_err(1, ["create", "v2", "--ref", "HEAD"]);
    assert!(
        err.contains("GIT_RELEASE_WRITE_TIMEOUT") && err.contains("abc"),
        "{err}"
    );
    assert!(!repo.ref_exists("refs/tags/v2"));
}

#[test]
fn doctor_repair_never_drops_the_index_entry_of_a_release_it_cannot_read() {
    let env = Env::new();
    let repo = repo(&env);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let commit = repo.rev("v1^{commit}");
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-m",
        "not a record",
        &commit,
    ]);
    let before = repo.git(["ls-tree", "-r", "refs/notes/releases"]);
    assert!(before.contains("index/"), "{before}");
    let out = repo.release(["doctor", "--repair"]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(all.contains(&commit), "{all}");
    let after = repo.git(["ls-tree", "-r", "refs/notes/releases"]);
    let index = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .filter(|l| l.contains("index/"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        index(&after),
        index(&before),
        "the index entry of v1 is kept"
    );
}
