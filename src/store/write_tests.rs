//! The store's write path as a library: `Store::update` on a real repository, what it
//! wrote read back through `Snapshot` and through plain git (`git notes show`,
//! `git fsck --strict`), as jj tests its merge in `lib/tests/test_merge_trees.rs`.

use std::process::Command;

use serde_json::{Value, json};

use super::*;
use crate::store::ref_write::tests::commit;

/// A repository with an identity to sign the notes commits, and a commit to hang
/// notes on.
struct Fixture {
    dir: tempfile::TempDir,
    repo: Repo,
    target: Oid,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let git = Repository::init(dir.path().join("repo")).unwrap();
    let mut config = git.config().unwrap();
    config.set_str("user.name", "Store Test").unwrap();
    config.set_str("user.email", "store@example.com").unwrap();
    let target = commit(&git, "the tagged commit");
    Fixture {
        dir,
        repo: Repo::from_git2(git),
        target,
    }
}

impl Fixture {
    fn store(&self) -> Store<'_> {
        Store::new(&self.repo)
    }

    fn head(&self) -> Option<Oid> {
        self.repo.git().refname_to_id(NOTES_REF).ok()
    }

    /// Plain git in the repository, with no system or global configuration.
    #[track_caller]
    fn git(&self, args: &[&str]) -> std::process::Output {
        Command::new("git")
            .args(args)
            .current_dir(self.repo.git().path())
            .env("HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .output()
            .unwrap()
    }

    #[track_caller]
    fn git_ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The note git shows on the target commit.
    fn git_note(&self) -> Option<String> {
        let out = self.git(&["notes", "--ref=releases", "show", &self.target.to_string()]);
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }

    /// The record of `tag` in the note on the target, as the store reads it.
    fn record(&self, tag: &str) -> Option<Value> {
        let snapshot = self.store().snapshot().unwrap();
        match snapshot.note(&self.target.to_string()).unwrap()? {
            (NoteContent::Ours(doc), _) => doc.get_value(tag),
            (NoteContent::Foreign, _) => panic!("a foreign note"),
        }
    }

    fn create(&self, tag: &str) -> Written<u64> {
        create(&self.repo, self.target, tag)
    }
}

/// Writes the release `tag` on `target` with a fresh release id; returns the id.
fn create(repo: &Repo, target: Oid, tag: &str) -> Written<u64> {
    Store::new(repo)
        .update(&format!("create {tag}"), |tx| {
            let id = tx.allocate_id(IdKind::Release, 0)?;
            tx.doc(&target.to_string())?
                .set_value(tag, record(id, tag, target));
            tx.set_index(tag, target);
            Ok(id)
        })
        .unwrap()
}

fn record(id: u64, tag: &str, target: Oid) -> Value {
    json!({
        "id": id,
        "name": format!("Release {tag}"),
        "description": null,
        "created_at": "2024-01-01T00:00:00.000Z",
        "released_at": "2024-01-01T00:00:00.000Z",
        "author": {"name": "A", "email": "a@example.com"},
        "commit": target.to_string(),
        "tag_target": target.to_string(),
    })
}

fn parents(repo: &Repository, commit: Oid) -> Vec<Oid> {
    repo.find_commit(commit).unwrap().parent_ids().collect()
}

/// The first write makes the ref: one root commit holding the note (where git finds
/// it), the index entry and the id counter, signed by the configured identity.
#[test]
fn a_first_write_makes_one_commit_git_reads() {
    let f = fixture();
    let written = f.create("v1");
    assert_eq!(written.value, 1);
    let commit = written.commit.expect("something was written");
    assert_eq!(f.head(), Some(commit));
    assert_eq!(parents(f.repo.git(), commit), []);
    let c = f.repo.git().find_commit(commit).unwrap();
    assert_eq!(c.message().unwrap(), "create v1\n");
    assert_eq!(c.committer().email().unwrap(), "store@example.com");

    let note = f.git_note().expect("git finds the note");
    let doc: Value = serde_json::from_str(&note).unwrap();
    assert_eq!(
        doc,
        json!({"schema": SCHEMA, "releases": {"v1": record(1, "v1", f.target)}})
    );
    let snapshot = f.store().snapshot().unwrap();
    assert_eq!(snapshot.commit(), Some(commit));
    let entry = snapshot.index_entry("v1").unwrap().unwrap();
    assert_eq!((entry.tag.as_str(), entry.commit), ("v1", f.target));
    assert_eq!(snapshot.project_data().unwrap().last_ids["release"], 1);
    f.git_ok(&["fsck", "--strict", "--no-dangling"]);
}

/// Each write is one commit on top of the last; an id handed out is never handed out
/// again, not even after its release is gone.
#[test]
fn writes_stack_and_ids_are_never_reused() {
    let f = fixture();
    let first = f.create("v1").commit.unwrap();
    let target = f.target.to_string();
    let removed = f
        .store()
        .update("delete v1", |tx| {
            let removed = tx.doc(&target)?.remove("v1");
            tx.remove_index("v1");
            Ok(removed)
        })
        .unwrap();
    assert!(removed.value);
    let second = removed.commit.unwrap();
    assert_eq!(parents(f.repo.git(), second), [first]);
    // The emptied note is gone, as git sees it, and so is the index entry.
    assert_eq!(f.git_note(), None);
    assert!(
        f.store()
            .snapshot()
            .unwrap()
            .index_entry("v1")
            .unwrap()
            .is_none()
    );

    let again = f.create("v1");
    assert_eq!(again.value, 2, "id 1 was handed out before");
    assert_eq!(parents(f.repo.git(), again.commit.unwrap()), [second]);
    assert_eq!(f.record("v1").unwrap()["id"], 2);
}

/// Staging what is already there, or nothing, writes no commit and leaves the ref.
#[test]
fn a_write_that_changes_nothing_commits_nothing() {
    let f = fixture();
    let first = f.create("v1").commit.unwrap();
    let target = f.target.to_string();
    let same = f
        .store()
        .update("same again", |tx| {
            let value = tx.doc(&target)?.get_value("v1").unwrap();
            tx.doc(&target)?.set_value("v1", value);
            tx.set_index("v1", f.target);
            // A note loaded for a commit with none, and left empty, is not written.
            tx.doc(&"ab".repeat(20))?;
            Ok(())
        })
        .unwrap();
    assert_eq!(same.commit, None);
    assert_eq!(f.head(), Some(first));
}

/// An error from the operation ends the write with nothing written, whatever it had
/// staged: no ref on a first write, the old one after.
#[test]
fn an_error_in_the_operation_writes_nothing() {
    let f = fixture();
    let target = f.target.to_string();
    let fail = |tx: &mut Transaction<'_, '_>| -> Result<()> {
        tx.doc(&target)?.set_value("v9", record(9, "v9", f.target));
        tx.put_file("milestones.json", b"{}\n".to_vec());
        Err(Error::Refused {
            action: "the operation".into(),
            reason: "it failed".into(),
        })
    };
    let err = f.store().update("fails", fail).map(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), "the operation refused: it failed");
    assert_eq!(f.head(), None);

    let first = f.create("v1").commit.unwrap();
    let err = f.store().update("fails", fail).map(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), "the operation refused: it failed");
    assert_eq!(f.head(), Some(first));
    assert_eq!(f.record("v9"), None);
}

/// A note somebody wrote with plain `git notes` is never overwritten: the write is
/// refused, naming the commit, and the note is as it was.
#[test]
fn a_note_git_release_did_not_write_is_never_overwritten() {
    let f = fixture();
    let target = f.target.to_string();
    f.git_ok(&[
        "notes",
        "--ref=releases",
        "add",
        "-m",
        "reviewed by Ann",
        &target,
    ]);
    let before = f.head();
    let err = f.create_err("v1");
    assert!(
        matches!(&err, Error::Refused { action, .. } if action.contains(&target)),
        "{err}"
    );
    assert_eq!(f.head(), before);
    assert_eq!(f.git_note().as_deref(), Some("reviewed by Ann\n"));
}

impl Fixture {
    fn create_err(&self, tag: &str) -> Error {
        let target = self.target.to_string();
        self.store()
            .update("create", |tx| {
                tx.doc(&target)?.set_value(tag, json!({}));
                Ok(())
            })
            .map(|_| ())
            .unwrap_err()
    }
}

/// A note git wrote unfanned (`git notes` writes `<40 hex>` at the root while the
/// tree is small) is rewritten in place: after the write, git shows only the new
/// document, never the old one concatenated to it.
#[test]
fn a_note_git_wrote_at_another_fanout_is_replaced_not_duplicated() {
    let f = fixture();
    let target = f.target.to_string();
    let old = json!({"schema": 1, "releases": {"v0": record(7, "v0", f.target)}});
    f.git_ok(&[
        "notes",
        "--ref=releases",
        "add",
        "-m",
        &serde_json::to_string(&old).unwrap(),
        &target,
    ]);
    let listing = f.git_ok(&["ls-tree", "-r", "--name-only", NOTES_REF]);
    assert_eq!(listing.trim(), target, "git wrote it unfanned");

    f.create("v1");
    let doc: Value = serde_json::from_str(&f.git_note().unwrap()).unwrap();
    assert_eq!(
        doc["releases"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["v0", "v1"]
    );
    let listing = f.git_ok(&["ls-tree", "-r", "--name-only", NOTES_REF]);
    assert!(
        !listing.lines().any(|l| l == target) && listing.contains(&fanout::note_path(&target)),
        "{listing}"
    );
    f.git_ok(&["fsck", "--strict", "--no-dangling"]);
}

/// Another writer moves the ref between the operation's read and its swap: the
/// operation runs again on the new store, and the commit goes on top of the other
/// writer's, keeping both changes.
#[test]
fn a_lost_race_runs_the_operation_again_on_top_of_the_winner() {
    let f = fixture();
    f.create("v1");
    let other = Repo::from_git2(Repository::open(f.repo.git().path()).unwrap());
    let target = f.target.to_string();
    let mut runs = 0;
    let mut winner = None;
    let written = f
        .store()
        .update("create v2", |tx| {
            runs += 1;
            if runs == 1 {
                // Another writer (another handle, as another process has) gets there first.
                winner = create(&other, f.target, "v3").commit;
            }
            let id = tx.allocate_id(IdKind::Release, 0)?;
            tx.doc(&target)?.set_value("v2", record(id, "v2", f.target));
            Ok(id)
        })
        .unwrap();
    assert_eq!(runs, 2);
    assert_eq!(written.value, 3, "the winner took id 2");
    let commit = written.commit.unwrap();
    assert_eq!(parents(f.repo.git(), commit), [winner.unwrap()]);
    for tag in ["v1", "v2", "v3"] {
        assert!(f.record(tag).is_some(), "{tag} is kept");
    }
}

/// A store written by a newer version is not written by this one: the write is
/// refused with the schema named, and the ref stays.
#[test]
fn a_store_of_a_newer_schema_is_never_written() {
    let f = fixture();
    f.create("v1");
    let newer = f
        .store()
        .update("from the future", |tx| {
            tx.put_file(PROJECT_PATH, br#"{"schema": 99}"#.to_vec());
            Ok(())
        })
        .unwrap()
        .commit;
    assert_eq!(f.head(), newer);
    let err = f.create_err("v2");
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
    assert_eq!(f.head(), newer);
}

/// `Snapshot::at` reads the store as it was at any of its commits.
#[test]
fn a_snapshot_at_an_old_commit_reads_the_store_as_it_was() {
    let f = fixture();
    let first = f.create("v1").commit.unwrap();
    f.create("v2");
    let old = Snapshot::at(f.repo.git(), first).unwrap();
    assert!(old.index_entry("v1").unwrap().is_some());
    assert!(old.index_entry("v2").unwrap().is_none());
}
