//! Unresolved merges, recorded beside the notes ref as git records MERGE_HEAD:
//! `refs/notes/releases-merge/<remote>` is a commit whose parents are the remote's
//! notes commit that was merged and the merge base (when there is one), and whose
//! tree holds `conflicts.json`: the remote, the commits, and every conflict with
//! where it is and both values. Readable by plain git:
//! `git show refs/notes/releases-merge/origin:conflicts.json`.
//!
//! While any such ref exists, nothing is published (`push`, `sync` refuse); a
//! resolution rewrites or deletes it.

use git2::{ErrorCode, ObjectType, Oid, Repository};
use serde::{Deserialize, Serialize};

use super::conflict::StoreConflict;
use super::ref_write::{self, Expected, Outcome};
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::git::repo::Repo;

pub const MERGE_STATE_PREFIX: &str = "refs/notes/releases-merge/";
const CONFLICTS_FILE: &str = "conflicts.json";
const STATE_SCHEMA: u64 = 1;

/// The recorded state of one unresolved merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeState {
    pub schema: u64,
    /// The remote as the user named it (name or URL).
    pub remote: String,
    /// The remote's notes commit that was merged.
    pub theirs: String,
    /// The merge base; `null` when the histories shared nothing.
    pub base: Option<String>,
    /// The local merge commit that kept the local values.
    pub merged: String,
    pub conflicts: Vec<StoreConflict>,
}

/// A merge state as read, with the ref it came from and its value (for
/// compare-and-swap when it is rewritten).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub reference: String,
    pub commit: Oid,
    pub state: MergeState,
}

/// The ref recording unresolved merges from `slug` (see `share::remote::slug`).
pub fn state_ref(slug: &str) -> String {
    format!("{MERGE_STATE_PREFIX}{slug}")
}

/// The remote slug a merge-state ref is recorded under (the inverse of `state_ref`).
pub fn slug_of(reference: &str) -> String {
    reference
        .strip_prefix(MERGE_STATE_PREFIX)
        .unwrap_or(reference)
        .to_owned()
}

fn corrupt(reference: &str, reason: impl Into<String>) -> Error {
    Error::CorruptMergeState {
        reference: reference.to_owned(),
        reason: reason.into(),
    }
}

/// Reads the merge state in `reference`, if the ref exists.
pub fn read(repo: &Repository, reference: &str) -> Result<Option<Recorded>> {
    let found = match repo.find_reference(reference) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(Error::git(format!("cannot read {reference}"), e)),
    };
    let Some(target) = found.target() else {
        return Err(corrupt(reference, "it is a symbolic ref"));
    };
    let commit = repo
        .find_commit(target)
        .map_err(|_| corrupt(reference, format!("{target} is not a commit")))?;
    let tree = commit
        .tree()
        .map_err(|e| Error::git(format!("cannot read the tree of {reference}"), e))?;
    let entry = tree
        .get_name(CONFLICTS_FILE)
        .filter(|e| e.kind() == Some(ObjectType::Blob))
        .ok_or_else(|| corrupt(reference, format!("it holds no {CONFLICTS_FILE}")))?;
    let blob = repo
        .find_blob(entry.id())
        .map_err(|e| Error::git(format!("cannot read {reference}:{CONFLICTS_FILE}"), e))?;
    let state: MergeState = serde_json::from_slice(blob.content())
        .map_err(|e| corrupt(reference, format!("{CONFLICTS_FILE}: {e}")))?;
    if state.schema > STATE_SCHEMA {
        return Err(Error::SchemaTooNew {
            location: format!("{reference}:{CONFLICTS_FILE}"),
            found: state.schema,
            known: STATE_SCHEMA,
        });
    }
    for (what, id) in [
        ("theirs", Some(&state.theirs)),
        ("merged", Some(&state.merged)),
    ]
    .into_iter()
    .chain([("base", state.base.as_ref())])
    {
        if let Some(id) = id {
            if Oid::from_str(id).is_err() || id.len() != 40 {
                return Err(corrupt(
                    reference,
                    format!("\"{what}\" is not an object id: {id:?}"),
                ));
            }
        }
    }
    Ok(Some(Recorded {
        reference: reference.to_owned(),
        commit: target,
        state,
    }))
}

/// Every recorded unresolved merge, whatever the remote.
pub fn read_all(repo: &Repository) -> Result<Vec<Recorded>> {
    let mut names = Vec::new();
    let refs = repo
        .references_glob(&format!("{MERGE_STATE_PREFIX}*"))
        .map_err(|e| Error::git("cannot list the merge-state refs", e))?;
    for r in refs {
        let r = r.map_err(|e| Error::git("cannot list the merge-state refs", e))?;
        if let Ok(name) = r.name() {
            names.push(name.to_owned());
        }
    }
    let mut out = Vec::new();
    for name in names {
        if let Some(recorded) = read(repo, &name)? {
            out.push(recorded);
        }
    }
    Ok(out)
}

/// Records `state` in `reference`, which must still hold `expected` (`None`: absent).
/// An empty conflict list deletes the ref instead.
pub fn write(
    repo: &Repo,
    reference: &str,
    expected: Option<Oid>,
    state: &MergeState,
) -> Result<()> {
    if state.conflicts.is_empty() {
        return remove(repo, reference, expected);
    }
    // A ref setting git would refuse stops the write before anything is made.
    ref_write::Settings::read(repo)?;
    let git = repo.git();
    let who = Person::committer(repo)?.signature()?;
    let new = {
        let mut bytes = serde_json::to_vec_pretty(state).expect("merge states serialize");
        bytes.push(b'\n');
        let fail = |e| Error::git(format!("cannot write {reference}"), e);
        let blob = git.blob(&bytes).map_err(fail)?;
        let mut builder = git.treebuilder(None).map_err(fail)?;
        builder
            .insert(CONFLICTS_FILE, blob, git2::FileMode::Blob.into())
            .map_err(fail)?;
        let tree = git
            .find_tree(builder.write().map_err(fail)?)
            .map_err(fail)?;
        let mut parents = Vec::new();
        for id in [Some(&state.theirs), state.base.as_ref()]
            .into_iter()
            .flatten()
        {
            let oid = Oid::from_str(id).map_err(|e| Error::git("bad commit id", e))?;
            parents.push(git.find_commit(oid).map_err(fail)?);
        }
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let mut message = format!("unresolved merge of releases from {}\n\n", state.remote);
        for c in &state.conflicts {
            message.push_str(&format!("  {}\n", c.describe(&state.remote)));
        }
        git.commit(None, &who, &who, &message, &tree, &parent_refs)
            .map_err(fail)?
    };
    let reason = match ref_write::compare_and_swap(
        repo,
        reference,
        Expected::read_as(expected),
        new,
        &who,
        "git-release: unresolved merge",
    )? {
        Outcome::Updated => return Ok(()),
        Outcome::OutOfDate { .. } => "another git-release changed it meanwhile",
        Outcome::Locked => "another git-release is writing it",
    };
    Err(Error::Refused {
        action: format!("recording the merge state in {reference}"),
        reason: format!("{reason}; run the command again"),
    })
}

/// Deletes `reference` if it still holds `expected`.
pub fn remove(repo: &Repo, reference: &str, expected: Option<Oid>) -> Result<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let git = repo.git();
    let mut r = match git.find_reference(reference) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(()),
        Err(e) => return Err(Error::git(format!("cannot read {reference}"), e)),
    };
    if r.target() != Some(expected) {
        return Err(Error::Refused {
            action: format!("settling the merge recorded in {reference}"),
            reason: "another git-release changed it meanwhile; run the command again".into(),
        });
    }
    r.delete()
        .map_err(|e| Error::git(format!("cannot delete {reference}"), e))
}
