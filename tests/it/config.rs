//! `git release config`: effective values with their sources, and `--setup-remote`.

use serde_json::Value;

use crate::support::Env;

fn entries(repo: &crate::support::Repo) -> Value {
    serde_json::from_str(&repo.release_ok(["config", "--list", "--json"])).unwrap()
}

fn entry<'v>(all: &'v Value, key: &str) -> &'v Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {all}"))
}

#[test]
fn config_list_shows_each_value_and_where_it_came_from() {
    let env = Env::new();
    let repo = env.repo("work");
    repo.commit("one", &[("f", "1")]);
    let all = entries(&repo);
    assert_eq!(entry(&all, "project.name")["value"], "work");
    assert_eq!(entry(&all, "project.name")["source"], "directory name");
    assert_eq!(entry(&all, "project.web_url")["value"], Value::Null);
    // The real default: what `git release archive` makes without --format.
    assert_eq!(entry(&all, "archive.formats")["value"], "tar.gz");
    assert_eq!(entry(&all, "archive.formats")["source"], "default");
    assert_eq!(entry(&all, "project.id")["value"], "1");
    assert_eq!(entry(&all, "project.description")["value"], Value::Null);
    assert_eq!(entry(&all, "hook.freeze")["value"], "refuse");
    assert_eq!(entry(&all, "hook.verify")["value"], "true");
    assert_eq!(entry(&all, "hook.verify")["source"], "default");

    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:group/proj.git",
    ]);
    let all = entries(&repo);
    assert_eq!(entry(&all, "project.name")["value"], "proj");
    assert_eq!(
        entry(&all, "project.web_url")["value"],
        "https://gitlab.example.com/group/proj"
    );
    assert_eq!(
        entry(&all, "project.web_url")["source"],
        "origin remote (git@gitlab.example.com:group/proj.git)"
    );

    repo.write(
        ".git-release.toml",
        "[project]\nname = \"fromfile\"\n[archive]\nformats = [\"tgz\", \"zip\"]\n[hook]\nfreeze = \"warn\"\nverify = false\n",
    );
    repo.git(["config", "release.hookVerify", "yes"]);
    let all = entries(&repo);
    assert_eq!(entry(&all, "project.name")["value"], "fromfile");
    assert_eq!(
        entry(&all, "project.name")["source"],
        ".git-release.toml (project.name)"
    );
    assert_eq!(entry(&all, "archive.formats")["value"], "tar.gz,zip");
    assert_eq!(entry(&all, "hook.freeze")["value"], "warn");
    assert_eq!(entry(&all, "hook.verify")["value"], "true");
    assert_eq!(
        entry(&all, "hook.verify")["source"],
        "git config release.hookVerify (local)"
    );

    repo.git(["config", "--global", "release.project", "mine"]);
    assert_eq!(repo.release_ok(["config", "project.name"]), "mine\n");
    let human = repo.release_ok(["config"]);
    assert!(
        human.contains("git config release.project (global)"),
        "{human}"
    );
    // The project name is what archive names and URLs use.
    let view = repo.release_ok(["config", "project.web_url"]);
    assert_eq!(view, "https://gitlab.example.com/group/proj\n");
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.release_ok(["archive", "v1.0", "--format", "zip", "--output-dir", "dist"]);
    assert!(repo.path().join("dist/mine-v1.0.zip").is_file());
    let entity: Value = serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_eq!(
        entity["assets"]["sources"][0]["url"],
        "https://gitlab.example.com/group/proj/-/archive/v1.0/mine-v1.0.zip"
    );

    repo.git(["config", "release.hookFreeze", "sometimes"]);
    let err = repo.release_err(1, ["config", "--list"]);
    assert!(
        err.contains("\"sometimes\"") && err.contains("git config release.hookFreeze"),
        "{err}"
    );
    let err = repo.release_err(1, ["config", "no.such"]);
    assert!(err.contains("known settings"), "{err}");
}

#[test]
fn setup_remote_adds_the_refspec_once_and_git_fetch_then_brings_releases() {
    let env = Env::new();
    let seed = env.repo("seed");
    seed.commit("one", &[("f", "1")]);
    seed.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    seed.git(["push", "-q", "../remote.git", "refs/notes/releases"]);
    env.at(env.path()).git(["clone", "-q", "remote.git", "a"]);
    let a = env.at(env.path().join("a"));

    let out = a.release(["config", "--setup-remote"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("+refs/notes/releases:refs/notes/remotes/origin/releases"),
        "{err}"
    );
    let out = a.release(["config", "--setup-remote", "origin"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already set up"));
    assert_eq!(
        a.git(["config", "--get-all", "remote.origin.fetch"]),
        "+refs/heads/*:refs/remotes/origin/*\n+refs/notes/releases:refs/notes/remotes/origin/releases\n"
    );
    // notes.displayRef is not set: plain `git log` must stay readable.
    assert!(
        !a.git_output(["config", "--get-all", "notes.displayRef"])
            .status
            .success()
    );

    a.git(["fetch", "-q"]);
    assert_eq!(
        a.rev("refs/notes/remotes/origin/releases"),
        seed.rev("refs/notes/releases")
    );
    assert!(!a.ref_exists("refs/notes/releases"));

    a.git([
        "config",
        "--add",
        "remote.origin.fetch",
        "+refs/notes/*:refs/notes/*",
    ]);
    let out = a.release(["config", "--setup-remote"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: remote.origin.fetch has \"+refs/notes/*:refs/notes/*\""),
        "{err}"
    );
    let err = a.release_err(1, ["config", "--setup-remote", "nowhere"]);
    assert!(err.contains("no such remote"), "{err}");
}

#[test]
fn the_origin_url_is_read_as_git_rewrites_it_with_instead_of() {
    let env = Env::new();
    let repo = env.repo("work");
    repo.commit("one", &[("f", "1")]);
    repo.git(["remote", "add", "origin", "gl:group/proj.git"]);
    repo.git(["config", "url.git@gitlab.example.com:.insteadOf", "gl:"]);
    let all = entries(&repo);
    assert_eq!(entry(&all, "project.name")["value"], "proj");
    assert_eq!(
        entry(&all, "project.web_url")["value"],
        "https://gitlab.example.com/group/proj"
    );
    repo.git(["config", "--unset", "url.git@gitlab.example.com:.insteadOf"]);
    // Without the rewrite `gl:` is taken for a host name.
    assert_eq!(
        entry(&entries(&repo), "project.web_url")["value"],
        "https://gl/group/proj"
    );
}

/// The signing policy (git config only) is listed with its source, and a value that
/// is no boolean is refused naming the key.
#[test]
fn config_lists_the_signing_settings() {
    let env = Env::new();
    let repo = env.repo("work");
    repo.commit("one", &[("f", "1")]);
    let all = entries(&repo);
    for key in ["evidence.sign", "hook.require_signed_tags"] {
        assert_eq!(entry(&all, key)["value"], "false", "{key}");
        assert_eq!(entry(&all, key)["source"], "default", "{key}");
    }
    repo.git(["config", "release.signEvidence", "true"]);
    repo.git(["config", "--global", "release.requireSignedTags", "yes"]);
    let all = entries(&repo);
    assert_eq!(entry(&all, "evidence.sign")["value"], "true");
    assert_eq!(
        entry(&all, "evidence.sign")["source"],
        "git config release.signEvidence (local)"
    );
    assert_eq!(entry(&all, "hook.require_signed_tags")["value"], "true");
    assert_eq!(
        entry(&all, "hook.require_signed_tags")["source"],
        "git config release.requireSignedTags (global)"
    );
    assert_eq!(repo.release_ok(["config", "evidence.sign"]), "true\n");
    repo.git(["config", "release.signEvidence", "maybe"]);
    let err = repo.release_err(1, ["config", "--list"]);
    assert!(
        err.contains("\"maybe\"") && err.contains("release.signEvidence"),
        "{err}"
    );
}
