//! Sharing as a team does it: two or three real clones of one bare remote, with plain
//! git used beside git-release (`git tag -f`, `git push` of notes and tags, hooks on the
//! remote). Each test replays one case of issue #24 (and #26 item 4), asserting the
//! refs of every repository before and after.

use serde_json::Value;

use crate::support::clones;
use crate::support::{Env, Repo, release_on_path, tag_names};

fn two(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let mut v = clones(env, &["a", "b"]);
    let b = v.pop().unwrap();
    (v.pop().unwrap(), b)
}

fn remote(env: &Env) -> Repo<'_> {
    env.at(env.path().join("remote.git"))
}

fn view(repo: &Repo, tag: &str) -> Value {
    serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap()
}

fn tags(repo: &Repo) -> Vec<String> {
    tag_names(&repo.release_ok(["list", "--json", "--order-by", "semver", "--sort", "asc"]))
}

/// Every ref of a repository with its value, one per line.
fn refs(repo: &Repo) -> String {
    repo.git(["for-each-ref", "--format=%(refname) %(objectname)"])
}

fn output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn status_json(repo: &Repo) -> Value {
    serde_json::from_str(&repo.release_ok(["status", "--offline", "--json"])).unwrap()
}

/// The subjects of the problems `status` lists as blocking publication.
fn unresolved_subjects(repo: &Repo) -> Vec<String> {
    status_json(repo)["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_owned())
        .collect()
}

/// A commit on no branch, made in `repo`.
fn dangling_commit(repo: &Repo, message: &str) -> String {
    let tree = repo.rev("HEAD^{tree}");
    repo.git(["commit-tree", &tree, "-p", "HEAD", "-m", message])
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------
// #26 item 4: fetch takes only what it owns.

#[test]
fn fetch_takes_only_the_release_notes_and_the_tags_of_releases() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    // Foreign refs beside ours on the remote, pushed with plain git.
    let stray = dangling_commit(&a, "on no branch");
    let stray_tag = dangling_commit(&a, "tag spelt like a ref");
    a.git(["push", "-q", "origin", &format!("{stray}:refs/tags/main")]);
    a.git([
        "push",
        "-q",
        "origin",
        &format!("{stray_tag}:refs/tags/refs/heads/main"),
    ]);
    a.git(["tag", "plain", "HEAD~1"]);
    a.git(["push", "-q", "origin", "refs/tags/plain"]);
    let notes = a.rev("refs/notes/releases");
    for foreign in [
        "refs/notes/releases-junk",
        "refs/notes/releases-junk2",
        "refs/notes/releasesX/deep/ref",
    ] {
        a.git(["push", "-q", "origin", &format!("{notes}:{foreign}")]);
    }
    let main_before = b.rev("refs/heads/main");

    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(tags(&b), ["v1"]);
    let after = refs(&b);
    for absent in [
        "refs/tags/main",
        "refs/tags/refs/",
        "refs/tags/plain",
        "releases-junk",
        "releasesX",
    ] {
        assert!(!after.contains(absent), "{absent} was fetched:\n{after}");
    }
    assert_eq!(b.rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    assert_eq!(b.rev("refs/heads/main"), main_before);
    assert_eq!(b.rev("main"), main_before, "main is not shadowed by a tag");
    // Nor are their objects taken in.
    for object in [&stray, &stray_tag] {
        let out = b.git_output(["cat-file", "-e", object]);
        assert!(!out.status.success(), "{object} was fetched");
    }
    b.assert_fsck_clean();
}

/// A release whose tag is spelt like a branch or a ref on the remote is not adopted:
/// the record comes, the tag does not, and fetch says why.
#[test]
fn fetch_never_creates_a_tag_named_like_a_branch() {
    let env = Env::new();
    let (a, b) = two(&env);
    // `main` released on the remote (made there with plain git, then released).
    let stray = dangling_commit(&a, "a release called main");
    a.git(["tag", "main", &stray]);
    a.release_ok(["create", "main"]);
    a.release_ok(["push"]);
    let main_before = b.rev("refs/heads/main");
    let out = b.release(["fetch"]);
    let all = output(&out);
    assert!(!b.ref_exists("refs/tags/main"), "{all}");
    assert_eq!(b.rev("main"), main_before);
    assert!(all.contains("main") && all.contains("branch"), "{all}");
}

// ---------------------------------------------------------------------------------
// #24 case 2: fetch never moves or deletes a local tag.

/// a releases v7 and pushes; b has its own annotated v7 on another commit.
fn b_has_its_own_v7(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let (a, b) = two(env);
    a.release_ok(["create", "v7", "--ref", "HEAD", "--name", "a's v7"]);
    a.release_ok(["push"]);
    b.git(["tag", "-a", "-m", "mine", "v7", "HEAD~1"]);
    (a, b)
}

#[test]
fn fetch_keeps_a_local_tag_that_differs_and_records_a_tag_problem() {
    let env = Env::new();
    let (a, b) = b_has_its_own_v7(&env);
    let mine = b.rev("refs/tags/v7");
    let remote_before = refs(&remote(&env));

    let err = b.release_err(1, ["fetch"]);
    assert_eq!(b.rev("refs/tags/v7"), mine, "the local tag is never moved");
    assert!(err.contains("v7"), "{err}");
    assert!(
        !err.contains("Fast-forwarded releases") || err.contains("tag"),
        "{err}"
    );
    assert_eq!(unresolved_subjects(&b), ["v7"]);
    // Nothing is published while it stands, by git-release or by plain git with the hook.
    let err = b.release_err(1, ["push"]);
    assert!(err.contains("v7"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    release_on_path(&env);
    b.release_ok(["hook", "install"]);
    b.release_ok(["update", "v7", "--notes", "edited beside the foreign tag"]);
    let out = b.git_output(["push", "origin", "refs/notes/releases"]);
    assert!(!out.status.success(), "{}", output(&out));
    assert!(
        output(&out).contains("release v7: tag v7"),
        "{}",
        output(&out)
    );
    assert_eq!(refs(&remote(&env)), remote_before);

    // --theirs takes the remote's tag (an explicit choice may move it).
    let out = b.release(["fetch", "--theirs"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(b.rev("refs/tags/v7"), a.rev("refs/tags/v7"));
    assert_eq!(view(&b, "v7")["name"], "a's v7");
    assert!(unresolved_subjects(&b).is_empty());
    b.release_ok(["push"]);
    b.release_ok(["verify"]);
    b.assert_fsck_clean();
}

#[test]
fn a_local_tag_kept_ours_carries_the_release_and_replaces_the_remote_tag() {
    let env = Env::new();
    let (a, b) = b_has_its_own_v7(&env);
    let mine = b.rev("refs/tags/v7");
    b.release_err(1, ["fetch"]);
    let out = b.release(["resolve", "v7", "--ours"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(b.rev("refs/tags/v7"), mine);
    assert_eq!(view(&b, "v7")["commit"]["id"], b.rev("HEAD~1"));
    b.release_ok(["verify"]);
    let out = b.release(["push"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(remote(&env).rev("refs/tags/v7"), mine);

    // a made the release on its own tag: its fetch does not move it either.
    let a_tag = a.rev("refs/tags/v7");
    let err = a.release_err(1, ["fetch"]);
    assert!(err.contains("v7"), "{err}");
    assert_eq!(a.rev("refs/tags/v7"), a_tag);
    a.release_ok(["fetch", "--theirs"]);
    assert_eq!(a.rev("refs/tags/v7"), mine);
    a.release_ok(["verify"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
}

// ---------------------------------------------------------------------------------
// #24 case 3: tag conflicts are recorded whether or not the remote has releases.

#[test]
fn a_plain_remote_tag_conflicts_with_a_release_even_before_the_remote_has_releases() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.git(["tag", "v5", "HEAD"]);
    a.git(["push", "-q", "origin", "v5"]);
    assert!(!remote(&env).ref_exists("refs/notes/releases"));
    b.release_ok(["create", "v5", "--ref", "HEAD~1", "--name", "b's v5"]);
    let remote_before = refs(&remote(&env));

    let err = b.release_err(1, ["push"]);
    assert!(err.contains("release v5"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    let status = b.release_ok(["status", "--offline"]);
    assert!(!status.contains("No unresolved conflicts"), "{status}");
    assert_eq!(unresolved_subjects(&b), ["v5"]);

    // Each side can be chosen.
    let mine = b.rev("refs/tags/v5");
    b.release_ok(["resolve", "v5", "--ours"]);
    let out = b.release(["push"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(remote(&env).rev("refs/tags/v5"), mine);
    assert_eq!(
        remote(&env).rev("refs/notes/releases"),
        b.rev("refs/notes/releases")
    );
}

#[test]
fn a_plain_remote_tag_taken_theirs_before_the_remote_has_releases() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.git(["tag", "v5", "HEAD"]);
    a.git(["push", "-q", "origin", "v5"]);
    b.release_ok(["create", "v5", "--ref", "HEAD~1"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v5"), "{err}");
    b.release_ok(["fetch", "--theirs"]);
    assert_eq!(b.rev("refs/tags/v5"), a.rev("refs/tags/v5"));
    assert!(tags(&b).is_empty());
    assert!(unresolved_subjects(&b).is_empty());
}

// ---------------------------------------------------------------------------------
// #24 case 7: a release whose tag moved is never published; a command settles it.

/// v1 released and pushed from a, then moved there with plain git.
fn moved_v1(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let (a, b) = two(env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "one"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    a.git(["tag", "-f", "v1", "HEAD~1"]);
    (a, b)
}

#[test]
fn push_never_publishes_a_release_whose_tag_moved() {
    let env = Env::new();
    let (a, _b) = moved_v1(&env);
    a.release_ok(["update", "v1", "--notes", "edited after the move"]);
    let remote_before = refs(&remote(&env));
    let err = a.release_err(1, ["push"]);
    assert!(err.contains("v1") && err.contains("moved"), "{err}");
    assert!(err.contains("git release retag v1"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    let err = a.release_err(1, ["sync"]);
    assert!(err.contains("moved"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    assert_eq!(unresolved_subjects(&a), ["v1"]);
}

#[test]
fn retag_restore_moves_the_tag_back_to_the_release() {
    let env = Env::new();
    let (a, b) = moved_v1(&env);
    let recorded = remote(&env).rev("refs/tags/v1");
    a.release_ok(["retag", "v1", "--restore"]);
    assert_eq!(a.rev("refs/tags/v1"), recorded);
    a.release_ok(["verify"]);
    a.release_ok(["update", "v1", "--notes", "now it goes"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    assert_eq!(view(&b, "v1")["description"], "now it goes");
}

#[test]
fn retag_follow_moves_the_release_to_the_tag_and_push_carries_it_under_a_lease() {
    let env = Env::new();
    let (a, b) = moved_v1(&env);
    a.release_ok(["retag", "v1", "--follow"]);
    let v1 = view(&a, "v1");
    assert_eq!(v1["commit"]["id"], a.rev("HEAD~1"));
    assert_eq!(v1["name"], "one");
    a.release_ok(["verify"]);
    a.assert_fsck_clean();
    let out = a.release(["push"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(remote(&env).rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    // b had the old tag: its fetch keeps it and says so; --theirs follows.
    let b_tag = b.rev("refs/tags/v1");
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("v1"), "{err}");
    assert_eq!(b.rev("refs/tags/v1"), b_tag);
    b.release_ok(["resolve", "v1", "--theirs"]);
    assert_eq!(b.rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    b.release_ok(["verify"]);
}

#[test]
fn retag_refuses_what_it_cannot_do_and_changes_nothing() {
    let env = Env::new();
    let (a, _b) = moved_v1(&env);
    let before = refs(&a);
    // Not moved.
    a.release_ok(["create", "v2", "--ref", "HEAD"]);
    let before_v2 = refs(&a);
    let err = a.release_err(1, ["retag", "v2", "--restore"]);
    assert!(err.contains("v2"), "{err}");
    assert_eq!(refs(&a), before_v2);
    let err = a.release_err(1, ["retag", "nope", "--follow"]);
    assert!(err.contains("nope"), "{err}");
    a.release_err(2, ["retag", "v1"]);
    a.release_err(2, ["retag", "v1", "--restore", "--follow"]);
    let _ = before;
}

// ---------------------------------------------------------------------------------
// #24 case 15: a remote notes ref that is not a commit.

#[test]
fn a_remote_notes_ref_at_a_blob_is_named_by_status_and_fetch() {
    let env = Env::new();
    let (a, b) = two(&env);
    // An empty blob (git's standard input is empty here).
    let blob = a.git(["hash-object", "-w", "--stdin"]).trim().to_owned();
    a.git([
        "push",
        "-q",
        "origin",
        &format!("{blob}:refs/notes/releases"),
    ]);
    // As a plain `git fetch` with the documented refspec would bring it.
    b.git([
        "fetch",
        "-q",
        "origin",
        "+refs/notes/releases:refs/notes/remotes/origin/releases",
    ]);
    b.release_ok(["create", "v1", "--ref", "HEAD"]);
    let before = refs(&b);
    let out = b.release(["status"]);
    let all = output(&out);
    assert!(!all.contains("committish"), "{all}");
    assert!(
        all.contains("refs/notes/releases") && all.contains("blob"),
        "{all}"
    );
    let err = b.release_err(1, ["fetch"]);
    assert!(!err.contains("committish"), "{err}");
    assert!(
        err.contains("refs/notes/releases") && err.contains("blob"),
        "{err}"
    );
    assert_eq!(refs(&b), before);
}

// ---------------------------------------------------------------------------------
// #24 case 6: the pre-push hook refuses a notes push while something is unsettled.

#[test]
fn the_hook_refuses_a_plain_notes_push_while_a_conflict_is_unresolved() {
    let env = Env::new();
    release_on_path(&env);
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "base"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    a.release_ok(["update", "v1", "--name", "fromA"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "fromB"]);
    b.release_err(1, ["fetch"]);
    b.release_ok(["hook", "install"]);
    let remote_before = refs(&remote(&env));
    // The merge commit holding b's side of the conflict would fast-forward the remote.
    let out = b.git_output(["push", "origin", "refs/notes/releases"]);
    let all = output(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("refs/notes/releases refused") && all.contains("release v1 → name"),
        "{all}"
    );
    assert_eq!(refs(&remote(&env)), remote_before);
    // Other pushes pass; once settled, the notes go too.
    let out = b.git_output(["push", "origin", "HEAD:refs/heads/other"]);
    assert!(out.status.success(), "{}", output(&out));
    b.release_ok(["resolve", "v1", "--ours"]);
    let out = b.git_output(["push", "origin", "refs/notes/releases"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(
        remote(&env).rev("refs/notes/releases"),
        b.rev("refs/notes/releases")
    );
}

/// A plain `git notes merge -s union` keeps one side's `milestones.json`: the store
/// then lacks a milestone its history has. Neither `push` nor a plain `git push`
/// through the hook publishes that; `doctor --repair` mends it and both go ahead.
#[test]
fn a_store_broken_by_a_plain_merge_is_never_pushed_until_repaired() {
    let env = Env::new();
    release_on_path(&env);
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M3"]);
    a.release_ok(["push"]);
    b.release_ok(["milestone", "create", "M1"]);
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
    b.release_ok(["hook", "install"]);
    let remote_before = refs(&remote(&env));
    let err = b.release_err(1, ["push"]);
    assert!(
        err.contains("breaks 1 of its rules")
            && err.contains("milestone \"M3\" was dropped")
            && err.contains("git release doctor --repair"),
        "{err}"
    );
    let out = b.git_output(["push", "origin", "refs/notes/releases"]);
    let all = output(&out);
    assert!(!out.status.success(), "{all}");
    assert!(
        all.contains("refs/notes/releases refused") && all.contains("M3"),
        "{all}"
    );
    assert_eq!(refs(&remote(&env)), remote_before);
    b.release_ok(["doctor", "--repair"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    let titles = a.release_ok(["milestone", "list"]);
    assert!(titles.contains("M1") && titles.contains("M3"), "{titles}");
}

#[test]
fn the_hook_refuses_a_plain_notes_push_while_a_release_tag_moved() {
    let env = Env::new();
    release_on_path(&env);
    let (a, _b) = moved_v1(&env);
    a.release_ok(["hook", "install"]);
    a.release_ok(["update", "v1", "--notes", "edited after the move"]);
    let remote_before = refs(&remote(&env));
    let out = a.git_output(["push", "origin", "refs/notes/releases"]);
    let all = output(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("release v1: tag v1 moved"), "{all}");
    assert_eq!(refs(&remote(&env)), remote_before);
    a.release_ok(["retag", "v1", "--restore"]);
    let out = a.git_output(["push", "origin", "refs/notes/releases"]);
    assert!(out.status.success(), "{}", output(&out));
}

// ---------------------------------------------------------------------------------
// #24 case 12: errors from the remote are shown as git shows them.

fn remote_hook(env: &Env, name: &str, script: &str) {
    let path = env.path().join("remote.git/hooks").join(name);
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_push_refused_by_a_remote_hook_shows_its_message_and_runs_it_once() {
    let env = Env::new();
    let (a, _b) = two(&env);
    let runs = env.path().join("hook-runs");
    remote_hook(
        &env,
        "pre-receive",
        &format!(
            "#!/bin/sh\necho run >> '{}'\necho 'policy: release tags must be signed' >&2\nexit 1\n",
            runs.display()
        ),
    );
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    let remote_before = refs(&remote(&env));
    let err = a.release_err(1, ["push"]);
    assert!(err.contains("policy: release tags must be signed"), "{err}");
    assert!(err.contains("pre-receive hook declined"), "{err}");
    assert!(!err.contains("kept changing"), "{err}");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "run\n");
    assert_eq!(refs(&remote(&env)), remote_before);
}

#[test]
fn a_stale_lock_on_the_remote_is_named_as_git_names_it() {
    let env = Env::new();
    let (a, _b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    let lock = env.path().join("remote.git/refs/notes/releases.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let remote_before = refs(&remote(&env));
    let err = a.release_err(1, ["push"]);
    assert!(
        err.contains("cannot lock ref 'refs/notes/releases'"),
        "{err}"
    );
    assert!(err.contains("releases.lock"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    std::fs::remove_file(&lock).unwrap();
    a.release_ok(["push"]);
}

#[test]
fn a_remote_without_atomic_pushes_gets_a_clear_message_and_no_atomic_works() {
    let env = Env::new();
    let (a, b) = two(&env);
    remote(&env).git(["config", "receive.advertiseAtomic", "false"]);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    let remote_before = refs(&remote(&env));
    let err = a.release_err(1, ["push"]);
    assert!(err.contains("does not support --atomic push"), "{err}");
    assert!(err.contains("--no-atomic"), "{err}");
    assert_eq!(refs(&remote(&env)), remote_before);
    let out = a.release(["push", "--no-atomic"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(remote(&env).rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    assert_eq!(
        remote(&env).rev("refs/notes/releases"),
        a.rev("refs/notes/releases")
    );
    // The remote moving meanwhile is merged as with an atomic push.
    b.release_ok(["fetch"]);
    b.release_ok(["create", "v2", "--ref", "HEAD~1"]);
    a.release_ok(["create", "v3", "--ref", "HEAD~1"]);
    a.release_ok(["push", "--no-atomic"]);
    let out = b.release(["sync", "--no-atomic"]);
    assert!(out.status.success(), "{}", output(&out));
    a.release_ok(["fetch"]);
    assert_eq!(tags(&a), ["v1", "v2", "v3"]);
    assert_eq!(a.rev("refs/notes/releases"), b.rev("refs/notes/releases"));
}

// ---------------------------------------------------------------------------------
// #24 case 13: a tag deleted with its release stays deleted.

#[test]
fn a_tag_deleted_with_its_release_is_deleted_on_the_remote_and_stays_deleted() {
    let env = Env::new();
    release_on_path(&env);
    let mut v = clones(&env, &["a", "b", "c"]);
    let c = v.pop().unwrap();
    let b = v.pop().unwrap();
    let a = v.pop().unwrap();
    a.release_ok(["create", "v1", "--ref", "HEAD", "--tag-message", "one"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    c.release_ok(["fetch"]);
    let old_tag = a.rev("refs/tags/v1");
    assert_eq!(c.rev("refs/tags/v1"), old_tag);

    a.release_ok(["delete", "v1", "--with-tag", "-y"]);
    assert!(!a.ref_exists("refs/tags/v1"));
    let out = a.release(["push"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(
        !remote(&env).ref_exists("refs/tags/v1"),
        "the remote's tag is deleted with the release"
    );

    // c still has the tag: a fetch leaves it (never deletes a local tag) but nothing
    // c does with git-release puts it back, nor does a plain push with the hook.
    let out = c.release(["sync"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(tags(&c).is_empty());
    assert_eq!(c.rev("refs/tags/v1"), old_tag);
    assert!(!remote(&env).ref_exists("refs/tags/v1"));
    c.release_ok(["hook", "install"]);
    let out = c.git_output(["push", "origin", "refs/tags/v1"]);
    assert!(!out.status.success(), "{}", output(&out));
    assert!(output(&out).contains("deleted"), "{}", output(&out));
    assert!(!remote(&env).ref_exists("refs/tags/v1"));

    // Pushed back anyway (the hook skipped): a sync elsewhere does not bring it back
    // as a tag, and a push deletes it again, under a lease on that very tag.
    c.git(["push", "-q", "--no-verify", "origin", "refs/tags/v1"]);
    let out = b.release(["sync"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(tags(&b).is_empty());
    let out = a.release(["sync"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(!a.ref_exists("refs/tags/v1"), "sync does not recreate it");
    assert!(!remote(&env).ref_exists("refs/tags/v1"));

    // A tag of that name made anew there is not the one deleted: the lease keeps it.
    c.git(["tag", "-f", "v1", "HEAD~1"]);
    c.git(["push", "-q", "--no-verify", "origin", "refs/tags/v1"]);
    let renewed = remote(&env).rev("refs/tags/v1");
    a.release_ok(["sync"]);
    assert_eq!(remote(&env).rev("refs/tags/v1"), renewed);
    // A release made again of that name here, on another commit than that new tag:
    // its push is refused (a tag conflict), never overwriting the tag.
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    let out = a.release(["push"]);
    assert!(!out.status.success(), "{}", output(&out));
}

#[test]
fn a_release_made_again_after_a_deletion_with_its_tag_is_published() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD"]);
    a.release_ok(["push"]);
    a.release_ok(["delete", "v1", "--with-tag", "-y"]);
    a.release_ok(["push"]);
    assert!(!remote(&env).ref_exists("refs/tags/v1"));
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "again"]);
    a.release_ok(["push"]);
    assert_eq!(remote(&env).rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    b.release_ok(["fetch"]);
    assert_eq!(view(&b, "v1")["name"], "again");
    assert_eq!(b.rev("refs/tags/v1"), a.rev("refs/tags/v1"));
    // Deleted again without its tag: the tag stays, here and there.
    a.release_ok(["delete", "v1", "-y"]);
    a.release_ok(["push"]);
    assert_eq!(remote(&env).rev("refs/tags/v1"), a.rev("refs/tags/v1"));
}

// ---------------------------------------------------------------------------------
// #24 case 1: conflicts are recomputed against the remote on every fetch.

fn shared_v1<'e>(env: &'e Env) -> (Repo<'e>, Repo<'e>) {
    let (a, b) = two(env);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--name", "base"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    (a, b)
}

#[test]
fn a_conflict_the_remote_settled_since_disappears_and_theirs_brings_nothing_back() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "edited in a"]);
    a.release_ok(["push"]);
    b.release_ok(["delete", "v1", "-y"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("release v1"), "{err}");
    assert_eq!(unresolved_subjects(&b), ["v1"]);
    // a deletes it too: the two sides agree now.
    a.release_ok(["delete", "v1", "-y"]);
    a.release_ok(["push"]);
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(unresolved_subjects(&b).is_empty());
    assert!(!b.ref_exists("refs/notes/releases-merge/origin"));
    // --theirs has nothing to bring back, and neither has a push.
    let out = b.release(["fetch", "--theirs"]);
    assert!(out.status.success(), "{}", output(&out));
    b.release_ok(["push"]);
    for repo in [&a, &b] {
        repo.release_ok(["fetch"]);
        assert!(tags(repo).is_empty(), "{:?}", tags(repo));
    }
}

#[test]
fn theirs_takes_the_remote_value_as_it_is_now_not_as_it_was_recorded() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "fromA"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "fromB"]);
    b.release_err(1, ["fetch"]);
    // a comes round to b's value and publishes it.
    a.release_ok(["update", "v1", "--name", "fromB"]);
    a.release_ok(["push"]);
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(unresolved_subjects(&b).is_empty());
    let out = b.release(["fetch", "--theirs"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(view(&b, "v1")["name"], "fromB");
    b.release_ok(["push"]);
    assert_eq!(view(&a, "v1")["name"], "fromB");
    a.release_ok(["fetch"]);
    assert_eq!(view(&a, "v1")["name"], "fromB");
}

#[test]
fn a_conflict_the_remote_changed_again_is_recorded_with_its_new_value() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["update", "v1", "--name", "fromA"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--name", "fromB"]);
    b.release_err(1, ["fetch"]);
    a.release_ok(["update", "v1", "--name", "fromA again"]);
    a.release_ok(["push"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("\"fromA again\""), "{err}");
    let state: Value =
        serde_json::from_str(&b.git(["show", "refs/notes/releases-merge/origin:conflicts.json"]))
            .unwrap();
    assert_eq!(state["conflicts"].as_array().unwrap().len(), 1, "{state}");
    assert_eq!(state["conflicts"][0]["theirs"], "fromA again");
    b.release_ok(["fetch", "--theirs"]);
    assert_eq!(view(&b, "v1")["name"], "fromA again");
    // A conflict the remote did not touch again stays, and --ours keeps ours.
    a.release_ok(["update", "v1", "--notes", "a's notes"]);
    a.release_ok(["push"]);
    b.release_ok(["update", "v1", "--notes", "b's notes"]);
    b.release_err(1, ["fetch"]);
    a.release_ok(["update", "v1", "--name", "unrelated"]);
    a.release_ok(["push"]);
    let err = b.release_err(1, ["fetch"]);
    assert!(err.contains("description"), "{err}");
    b.release_ok(["fetch", "--ours"]);
    b.release_ok(["push"]);
    a.release_ok(["fetch"]);
    assert_eq!(view(&a, "v1")["description"], "b's notes");
    assert_eq!(view(&a, "v1")["name"], "unrelated");
}

// ---------------------------------------------------------------------------------
// #24 case 14: bookkeeping is never a conflict.

#[test]
fn evidence_bookkeeping_of_upcoming_releases_never_conflicts() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2999-01-01T00:00:00Z",
    ]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    // Each side schedules (and one unschedules) evidence of upcoming releases.
    b.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD~1",
        "--released-at",
        "2999-02-01T00:00:00Z",
    ]);
    // a's list empties (the field goes) while b's grows.
    a.release_ok(["delete", "v1", "-y"]);
    a.release_ok(["push"]);
    let out = b.release(["sync"]);
    let all = output(&out);
    assert!(out.status.success(), "{all}");
    assert!(!all.contains("pending_evidence"), "{all}");
    assert!(unresolved_subjects(&b).is_empty());
    let project: Value =
        serde_json::from_str(&b.git(["show", "refs/notes/releases:project.json"])).unwrap();
    let mut scheduled: Vec<&str> = project["pending_evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tag"].as_str().unwrap())
        .collect();
    scheduled.sort();
    assert_eq!(scheduled, ["v2"], "{project}");
    // And it still is once a third release is scheduled on the other side.
    a.release_ok(["fetch"]);
    a.release_ok([
        "create",
        "v3",
        "--ref",
        "HEAD~1",
        "--released-at",
        "2999-03-01T00:00:00Z",
    ]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    let project: Value =
        serde_json::from_str(&b.git(["show", "refs/notes/releases:project.json"])).unwrap();
    assert_eq!(
        project["pending_evidence"].as_array().unwrap().len(),
        2,
        "{project}"
    );
}

/// Found by the model's long run: a plain `git push` of the notes put a release on the
/// remote whose tag there was somebody else's plain tag. A push that agrees with the
/// remote's own record puts its tag back (under a lease), instead of retrying for ever.
#[test]
fn a_remote_tag_astray_from_its_own_release_is_put_back_by_a_push_that_agrees() {
    let env = Env::new();
    let (a, b) = two(&env);
    a.release_ok(["create", "v1", "--ref", "HEAD~1"]);
    a.git(["push", "-q", "origin", "refs/tags/v1"]);
    b.release_ok(["create", "v1", "--ref", "HEAD"]);
    b.git(["push", "-q", "origin", "refs/notes/releases"]);
    let astray = remote(&env).rev("refs/tags/v1");
    assert_eq!(astray, a.rev("refs/tags/v1"));
    let err = a.release_err(1, ["fetch"]);
    assert!(err.contains("release v1: released on commit"), "{err}");
    a.release_ok(["fetch", "--theirs"]);
    assert_eq!(a.rev("refs/tags/v1"), b.rev("refs/tags/v1"));
    let out = a.release(["push"]);
    assert!(out.status.success(), "{}", output(&out));
    assert_eq!(remote(&env).rev("refs/tags/v1"), b.rev("refs/tags/v1"));
    b.release_ok(["verify"]);
    a.release_ok(["verify"]);
}

/// Found by the model's long run: a milestone deleted here and made again under its
/// title, while the remote edited the first one. Taking the remote's value brought
/// the first back beside the second — two milestones of one title, which push then
/// refused. The one taken stands for both.
#[test]
fn a_milestone_taken_back_from_the_remote_never_duplicates_a_title_made_again_here() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    a.release_ok(["milestone", "create", "M", "--description", "first"]);
    a.release_ok(["push"]);
    b.release_ok(["fetch"]);
    b.release_ok(["milestone", "delete", "M", "-y"]);
    b.release_ok([
        "milestone",
        "create",
        "M",
        "--description",
        "made again in b",
    ]);
    a.release_ok(["milestone", "update", "M", "--description", "edited in a"]);
    a.release_ok(["push"]);
    b.release_err(1, ["fetch"]);
    let out = b.release(["sync", "--theirs"]);
    assert!(out.status.success(), "{}", output(&out));
    let list: Value = serde_json::from_str(&b.release_ok(["milestone", "list", "--json"])).unwrap();
    let titled_m: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["title"] == "M")
        .collect();
    assert_eq!(titled_m.len(), 1, "{list}");
    assert_eq!(titled_m[0]["description"], "edited in a");
    b.release_ok(["verify", "--all"]);
    a.release_ok(["fetch"]);
    let view: Value =
        serde_json::from_str(&a.release_ok(["milestone", "view", "M", "--json"])).unwrap();
    assert_eq!(view["description"], "edited in a");
    a.release_ok(["verify", "--all"]);
}

/// Found writing the replay of case 8 through a remote: plain `git notes` rewrites
/// the notes tree at its own fanout (`abcdef…` rather than `ab/cdef…`). A fetch
/// whose remote holds the same store at the other layout took it for a change and
/// made a commit, which the other clone's fetch then undid: two clones in sync
/// wrote a new notes commit on every sync, for ever. The same store is the same,
/// whatever its layout: the fetch fast-forwards, and a second sync writes nothing.
#[test]
fn a_note_edited_with_plain_git_never_makes_two_clones_rewrite_the_store_on_every_sync() {
    let env = Env::new();
    let (a, b) = shared_v1(&env);
    let v1 = b.rev("v1^{commit}");
    let mut note: Value =
        serde_json::from_str(&b.git(["notes", "--ref=releases", "show", &v1])).unwrap();
    note["releases"]["v1"]["name"] = Value::from("edited with plain git");
    b.write("note.json", serde_json::to_string_pretty(&note).unwrap());
    b.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-F",
        "note.json",
        &v1,
    ]);
    b.git(["push", "-q", "origin", "refs/notes/releases"]);
    // a wrote meanwhile (not to v1): its merge lays v1's note out its own way.
    a.release_ok(["milestone", "create", "M1"]);
    a.release_ok(["sync"]);
    let out = b.release(["fetch"]);
    assert!(out.status.success(), "{}", output(&out));
    assert!(output(&out).contains("Fast-forwarded"), "{}", output(&out));
    for repo in [&a, &b, &a, &b] {
        let out = repo.release(["sync"]);
        assert!(out.status.success(), "{}", output(&out));
        assert!(!output(&out).contains("Merged"), "{}", output(&out));
    }
    let tip = remote(&env).rev("refs/notes/releases");
    assert_eq!(a.rev("refs/notes/releases"), tip);
    assert_eq!(b.rev("refs/notes/releases"), tip);
    assert_eq!(view(&b, "v1")["name"], "edited with plain git");
    b.release_ok(["milestone", "view", "M1"]);
    b.release_ok(["verify"]);
    b.assert_fsck_clean();
}
