//! The pre-push hook, exercised through real `git push` to a local bare remote: git runs
//! the installed hook with the test's environment, and the hook runs `git release`
//! from PATH (the built binary's directory is put first).

use std::path::Path;

use crate::support::{Env, Repo};

const FREEZE_FROM: &str = "2024-01-01T00:00:00Z";
const FREEZE_UNTIL: &str = "2024-01-02T00:00:00Z";
const DURING_FREEZE: &str = "2024-01-01T12:00:00Z";

/// A bare remote with two commits and one clone `a` in which `git release` is on PATH.
fn clone_with_remote(env: &Env) -> Repo<'_> {
    let bin = Path::new(assert_cmd::cargo::cargo_bin!("git-release"))
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path));
    env.set(
        "PATH",
        std::env::join_paths(dirs).unwrap().to_str().unwrap(),
    );
    let seed = env.repo("seed");
    seed.commit("one", &[("f", "1")]);
    seed.commit("two", &[("f", "2")]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    env.at(env.path()).git(["clone", "-q", "remote.git", "a"]);
    env.at(env.path().join("a"))
}

fn remote(env: &Env) -> Repo<'_> {
    env.at(env.path().join("remote.git"))
}

fn push(repo: &Repo, args: &[&str]) -> (bool, String) {
    let mut all = vec!["push", "origin"];
    all.extend_from_slice(args);
    let out = repo.git_output(all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_hook(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn tags_are_refused_during_a_freeze_unless_overridden() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    a.release_ok(["create", "v1.0", "--ref", "HEAD", "--notes", "one"]);
    a.release_ok([
        "freeze",
        "add",
        "--from",
        FREEZE_FROM,
        "--until",
        FREEZE_UNTIL,
    ]);
    let out = a.release_ok(["hook", "install"]);
    assert!(out.is_empty());
    let hook = a.path().join(".git/hooks/pre-push");
    #[cfg(unix)]
    assert_eq!(mode(&hook), 0o755);

    env.set("GIT_RELEASE_NOW", DURING_FREEZE);
    let (ok, err) = push(&a, &["v1.0"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("pushing tag(s) v1.0 refused: a deploy freeze is in force (freeze period 1")
            && err.contains("until 2024-01-02T00:00:00.000Z"),
        "{err}"
    );
    assert!(err.contains("GIT_RELEASE_ALLOW_FREEZE=1"), "{err}");
    assert!(!remote(&env).ref_exists("refs/tags/v1.0"));

    // Branches are not frozen.
    a.commit("three", &[("f", "3")]);
    let (ok, err) = push(&a, &["main"]);
    assert!(ok, "{err}");

    // --no-verify skips hooks altogether.
    a.git(["tag", "plain"]);
    let (ok, err) = push(&a, &["--no-verify", "plain"]);
    assert!(ok, "{err}");
    assert!(remote(&env).ref_exists("refs/tags/plain"));

    env.set("GIT_RELEASE_ALLOW_FREEZE", "1");
    let (ok, err) = push(&a, &["v1.0"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("pushing tag(s) v1.0 anyway because GIT_RELEASE_ALLOW_FREEZE=1"),
        "{err}"
    );
    // The notes were not pushed with the tag, and the remote does not have them.
    assert!(
        err.contains("but not refs/notes/releases") && err.contains("git release push origin"),
        "{err}"
    );
    assert_eq!(remote(&env).rev("refs/tags/v1.0"), a.rev("refs/tags/v1.0"));
}

#[test]
fn a_release_tag_that_moved_is_refused_and_other_pushes_pass() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    a.release_ok(["create", "v1.0", "--ref", "HEAD~1", "--tag-message", "v1"]);
    a.release_ok(["hook", "install"]);
    let notes_before = a.rev("refs/notes/releases");
    // With the notes in the same push: no warning, and the push goes through.
    let (ok, err) = push(&a, &["refs/notes/releases", "v1.0"]);
    assert!(ok, "{err}");
    assert!(!err.contains("warning"), "{err}");

    a.git(["tag", "-f", "v1.0", "HEAD"]);
    let (ok, err) = push(&a, &["--force", "v1.0"]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("pushing tag v1.0 refused: tag v1.0 was moved"),
        "{err}"
    );
    // Pushing a commit under the tag's name by hand is checked too.
    let (ok, err) = push(&a, &["--force", "HEAD:refs/tags/v1.0"]);
    assert!(!ok, "{err}");
    // Deleting a tag, pushing a tag without a release and pushing branches are fine.
    let (ok, err) = push(&a, &[":refs/tags/v1.0"]);
    assert!(ok, "{err}");
    assert!(!remote(&env).ref_exists("refs/tags/v1.0"));
    a.git(["tag", "plain", "HEAD"]);
    let (ok, err) = push(&a, &["plain", "main"]);
    assert!(ok, "{err}");
    // Nothing the hook did wrote anything: the store is where it was, the work tree
    // clean, and the repository sound.
    assert_eq!(a.rev("refs/notes/releases"), notes_before);
    assert_eq!(a.git(["status", "--porcelain"]), "");
    a.assert_fsck_clean();
}

#[test]
fn a_release_whose_evidence_was_rewritten_is_refused() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    a.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    a.release_ok(["hook", "install"]);
    let (_, path) = crate::support::newest(&a, "v1.0");
    let forged = String::from_utf8(crate::support::store_file(&a, &path))
        .unwrap()
        .replace("\"tool_version\"", "\"tool_version\" ");
    crate::support::edit_store(&a, &path, Some(forged.as_bytes()));
    let before = a.rev("refs/notes/releases");
    let (ok, err) = push(&a, &["refs/notes/releases", "v1.0"]);
    assert!(!ok, "{err}");
    assert!(err.contains("of release v1.0 was rewritten"), "{err}");
    // The hook only reads.
    assert_eq!(a.rev("refs/notes/releases"), before);
}

#[test]
fn install_chains_an_existing_hook_and_uninstall_restores_it() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    let hooks = a.path().join(".git/hooks");
    let theirs =
        "#!/bin/sh\necho \"theirs $1\" >> \"$HOME/theirs.log\"\ncat >> \"$HOME/theirs.log\"\n";
    write_hook(&hooks.join("pre-push"), theirs);

    let out = a.release(["hook", "install"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("pre-push.git-release-chained"), "{err}");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push.git-release-chained")).unwrap(),
        theirs
    );
    let again = a.release(["hook", "install"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already installed"));

    // Both hooks see git's input: ours warns about the release tag pushed without its
    // notes, theirs logs the same line.
    a.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let (ok, err) = push(&a, &["v1.0"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("pushing release tag(s) v1.0 to origin"),
        "{err}"
    );
    let log = std::fs::read_to_string(env.path().join("theirs.log")).unwrap();
    let tag = a.rev("refs/tags/v1.0");
    assert_eq!(
        log,
        format!(
            "theirs origin\nrefs/tags/v1.0 {tag} refs/tags/v1.0 {}\n",
            "0".repeat(40)
        )
    );

    let out = a.release(["hook", "uninstall"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("restored yours"));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
    assert!(!hooks.join("pre-push.git-release-chained").exists());
    let out = a.release(["hook", "uninstall"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to do"));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        theirs
    );
}

#[test]
fn install_refuses_when_a_chained_hook_is_already_set_aside() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    let hooks = a.path().join(".git/hooks");
    write_hook(&hooks.join("pre-push"), "#!/bin/sh\nexit 0\n");
    write_hook(
        &hooks.join("pre-push.git-release-chained"),
        "#!/bin/sh\nexit 0\n",
    );
    let err = a.release_err(1, ["hook", "install"]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
    // --force sets the foreign hook aside as a backup instead of chaining it.
    std::fs::remove_file(hooks.join("pre-push.git-release-chained")).unwrap();
    let out = a.release(["hook", "install", "--force"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no longer runs"));
    assert!(hooks.join("pre-push.git-release-backup").exists());
    a.release_ok(["hook", "uninstall"]);
    assert!(!hooks.join("pre-push.git-release-backup").exists());
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn install_honours_core_hooks_path_and_linked_worktrees() {
    let env = Env::new();
    let a = clone_with_remote(&env);
    a.commit("hooks dir", &[(".githooks/README", "shared hooks\n")]);
    a.git(["config", "core.hooksPath", ".githooks"]);
    let out = a.release(["hook", "install"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("a directory committed in this repository")
            && err.contains(".githooks/pre-push"),
        "{err}"
    );
    let hook = a.path().join(".githooks/pre-push");
    assert!(hook.exists());
    assert!(!a.path().join(".git/hooks/pre-push").exists());

    // The hook in core.hooksPath runs on push.
    a.release_ok(["create", "v1.0", "--ref", "HEAD~1"]);
    a.git(["tag", "-f", "v1.0", "HEAD"]);
    let (ok, err) = push(&a, &["v1.0"]);
    assert!(!ok && err.contains("was moved"), "{err}");

    // A linked worktree shares the common hooks directory.
    a.git(["config", "--unset", "core.hooksPath"]);
    a.git(["worktree", "add", "-q", "../wt"]);
    let wt = env.at(env.path().join("wt"));
    wt.release_ok(["hook", "install"]);
    assert!(a.path().join(".git/hooks/pre-push").exists());
}
