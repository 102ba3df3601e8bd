//! Revisions as GitLab's API takes them (`sha`, `ref`): a tag name, a branch name or a
//! commit id, and nothing else git would understand — no reflog (`HEAD@{1}`), no
//! stash, no notes ref, no `:/` message search, no `~`/`^` arithmetic.
//!
//! A clone holds commits GitLab's server never has (a stash, unpushed work, a reflog
//! entry), so a commit id is served only when the commit is reachable from a branch or
//! a tag. Which commits are is worked out once per state of the branches and tags (a
//! walk of the history, using the commit-graph file when git wrote one) and kept.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use git2::{ErrorCode, ObjectType, Oid};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::git::Repo;

/// The commit `rev` names, taken as GitLab takes a revision: the tag `rev`, else the
/// branch `rev` (or the full `refs/tags/…` / `refs/heads/…` name), else a commit id
/// (4 to 40 hex digits) of a commit reachable from a branch or tag.
pub fn served(repo: &Repo, rev: &str, reachable: &Reachable) -> Result<Oid> {
    let unknown = || Error::ArchiveRevision {
        rev: rev.to_owned(),
        reason: "no such branch, tag or commit".into(),
    };
    if rev.is_empty() || rev.len() > 1024 {
        return Err(unknown());
    }
    let git = repo.git();
    let by_ref = |name: &str| -> Result<Option<Oid>> {
        // A name git could not store (too long for a file name, control characters)
        // is not looked up: git2 fails on it with more than "not found".
        let short = name
            .strip_prefix("refs/tags/")
            .or_else(|| name.strip_prefix("refs/heads/"))
            .unwrap_or(name);
        if !git2::Reference::is_valid_name(name) || crate::model::TagName::parse(short).is_err() {
            return Ok(None);
        }
        match git.find_reference(name) {
            Ok(reference) => {
                let object = reference
                    .peel(ObjectType::Any)
                    .map_err(|e| Error::git(format!("cannot read what {name} points at"), e))?;
                match object.peel_to_commit() {
                    Ok(commit) => Ok(Some(commit.id())),
                    // A tag of a tree or a blob names no commit to archive.
                    Err(_) => Err(unknown()),
                }
            }
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {name}"), e)),
        }
    };
    let names: Vec<String> = if rev.starts_with("refs/heads/") || rev.starts_with("refs/tags/") {
        vec![rev.to_owned()]
    } else {
        vec![format!("refs/tags/{rev}"), format!("refs/heads/{rev}")]
    };
    for name in &names {
        if let Some(commit) = by_ref(name)? {
            return Ok(commit);
        }
    }
    let Some(commit) = commit_id(repo, rev)? else {
        return Err(unknown());
    };
    if reachable.contains(repo, commit)? {
        Ok(commit)
    } else {
        Err(unknown())
    }
}

/// The commit an id or unique id prefix names, if it is one.
fn commit_id(repo: &Repo, rev: &str) -> Result<Option<Oid>> {
    if !(4..=40).contains(&rev.len()) || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let git = repo.git();
    let prefix = Oid::from_str(rev).map_err(|e| Error::git("cannot read a commit id", e))?;
    let odb = git
        .odb()
        .map_err(|e| Error::git("cannot open the object database", e))?;
    let oid = match odb.exists_prefix(prefix, rev.len()) {
        Ok(oid) => oid,
        // Unknown, or more than one object starts so: names no one commit.
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Ambiguous) => {
            return Ok(None);
        }
        Err(e) => return Err(Error::git("cannot look up a commit id", e)),
    };
    Ok(git.find_commit(oid).ok().map(|c| c.id()))
}

/// The commits reachable from the branches and tags, kept while they do not move.
#[derive(Default)]
pub struct Reachable {
    last: Mutex<Option<Known>>,
}

/// The fingerprint of the branches and tags, and the commits they reach.
type Known = ([u8; 32], Arc<HashSet<Oid>>);

impl Reachable {
    /// Whether `commit` is in the history of a branch or a tag.
    pub fn contains(&self, repo: &Repo, commit: Oid) -> Result<bool> {
        Ok(self.set(repo)?.contains(&commit))
    }

    /// The reachable commits (computed when the branches or tags changed).
    pub fn set(&self, repo: &Repo) -> Result<Arc<HashSet<Oid>>> {
        let (fingerprint, tips) = tips(repo)?;
        {
            let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((known, set)) = last.as_ref()
                && *known == fingerprint
            {
                return Ok(Arc::clone(set));
            }
        }
        let set = Arc::new(walk(repo, &tips)?);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((fingerprint, Arc::clone(&set)));
        Ok(set)
    }
}

/// Every branch and tag, hashed (name and target), with the objects they point at.
fn tips(repo: &Repo) -> Result<([u8; 32], Vec<Oid>)> {
    let git = repo.git();
    let mut hash = Sha256::new();
    let mut tips = Vec::new();
    for glob in ["refs/heads/*", "refs/tags/*"] {
        let references = git
            .references_glob(glob)
            .map_err(|e| Error::git("cannot list the branches and tags", e))?;
        for reference in references {
            let reference = reference.map_err(|e| Error::git("cannot read a ref", e))?;
            hash.update(reference.name_bytes());
            hash.update([0]);
            if let Some(target) = reference.target() {
                hash.update(target.as_bytes());
                tips.push(target);
            }
            hash.update([0]);
        }
    }
    Ok((hash.finalize().into(), tips))
}

/// Every commit in the history of `tips` (tags peeled; tags of trees or blobs skipped).
fn walk(repo: &Repo, tips: &[Oid]) -> Result<HashSet<Oid>> {
    let git = repo.git();
    let mut walk = git
        .revwalk()
        .map_err(|e| Error::git("cannot walk the history", e))?;
    for &tip in tips {
        let Ok(object) = git.find_object(tip, None) else {
            continue;
        };
        if let Ok(commit) = object.peel_to_commit() {
            walk.push(commit.id())
                .map_err(|e| Error::git("cannot walk the history", e))?;
        }
    }
    let mut set = HashSet::new();
    for oid in walk {
        set.insert(oid.map_err(|e| Error::git("cannot walk the history", e))?);
    }
    Ok(set)
}
