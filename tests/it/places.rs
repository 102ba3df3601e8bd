//! Where git-release runs: subdirectories, -C, bare repositories, linked worktrees,
//! GIT_DIR, and repositories libgit2 may not read (SHA-256).

use serde_json::Value;

use crate::support::{Env, tag_names};

#[test]
fn runs_from_a_subdirectory_and_with_dash_c() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("c", &[("deep/er/file.txt", "x")]);
    let sub = env.at(repo.path().join("deep/er"));
    sub.release_ok(["create", "v1", "--ref", "HEAD"]);
    assert!(repo.ref_exists("refs/tags/v1"));
    let elsewhere = env.at(env.path());
    assert_eq!(
        tag_names(&elsewhere.release_ok(["-C", "proj", "list", "--json"])),
        ["v1"]
    );
    // Global options are accepted anywhere on the line, -C more than once as git does.
    assert_eq!(
        tag_names(&elsewhere.release_ok(["list", "-C", "proj", "-C", "deep", "--json"])),
        ["v1"]
    );
    let err = elsewhere.release_err(1, ["list"]);
    assert!(err.contains("not a git repository"), "{err}");
}

#[test]
fn works_in_a_bare_repository_and_a_linked_worktree() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);

    repo.git(["clone", "-q", "--bare", ".", "../bare.git"]);
    let bare = env.at(env.path().join("bare.git"));
    bare.git([
        "fetch",
        "-q",
        "../proj",
        "refs/notes/releases:refs/notes/releases",
    ]);
    assert_eq!(tag_names(&bare.release_ok(["list", "--json"])), ["v1"]);
    bare.release_ok(["create", "v2", "--ref", "HEAD"]);
    let v: Value = serde_json::from_str(&bare.release_ok(["view", "v2", "--json"])).unwrap();
    // No web URL is known for a local origin, so there are no URLs to make.
    assert!(v["assets"]["sources"][0]["url"].is_null());
    // `clone --bare .` recorded the origin as `…/proj/.`: the project is `proj`.
    assert_eq!(bare.release_ok(["config", "project.name"]), "proj\n");
    // Without an origin, a bare repository is named after its git directory.
    bare.git(["remote", "remove", "origin"]);
    assert_eq!(bare.release_ok(["config", "project.name"]), "bare\n");
    let out = bare.release_ok(["archive", "v2", "--format", "tar", "--output-dir", "dist"]);
    assert!(bare.path().join("dist/bare-v2.tar").is_file(), "{out}");
    bare.assert_fsck_clean();

    repo.git(["worktree", "add", "-q", "../wt", "-b", "side"]);
    let wt = env.at(env.path().join("wt"));
    wt.commit("side work", &[("s", "s")]);
    wt.release_ok(["create", "v-side", "--ref", "HEAD"]);
    assert_eq!(repo.rev("v-side"), wt.rev("HEAD"));
    assert_eq!(
        tag_names(&repo.release_ok(["list", "--json", "--order-by", "semver"])).len(),
        2
    );
}

#[test]
fn honours_git_dir() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    let git_dir = repo.path().join(".git");
    env.set("GIT_DIR", git_dir.to_str().unwrap());
    let outside = env.at(env.path());
    outside.release_ok(["create", "v1", "--ref", "HEAD"]);
    assert!(repo.ref_exists("refs/tags/v1"));
}

#[test]
fn a_sha256_repository_gets_a_clear_answer_not_a_crash() {
    let env = Env::new();
    let dir = env.path().join("sha256");
    std::fs::create_dir_all(&dir).unwrap();
    let repo = env.at(&dir);
    repo.git(["init", "-q", "--object-format=sha256"]);
    repo.commit("c", &[("a", "a")]);
    let out = repo.release(["create", "v1", "--ref", "HEAD"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SHA-256 repository") && stderr.contains("does not support"),
        "{stderr}"
    );
    assert!(!repo.ref_exists("refs/tags/v1"));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_like_git() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    for args in [
        &["list", "--json"][..],
        &["view", "v1"],
        &["completions", "bash"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
        env.apply(&mut cmd);
        let out = cmd
            .current_dir(repo.path())
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && stderr.is_empty(),
            "{args:?}: {stderr}"
        );
        assert!(
            !out.status.success(),
            "{args:?}: the write into the closed pipe ends the process"
        );
    }
}
