//! Package bytes kept in the repository travel only when asked (`fetch --packages`,
//! `push --packages`), so that an ordinary clone stays small. Their refs are
//! content-addressed (`refs/release-packages/<name>/<version>/<sha256>`, each the
//! same commit in every clone), so they never conflict: a push sends the refs the
//! store records that the remote lacks, a fetch brings those the remote has.
//!
//! A push also deletes, on the remote, the package refs that a record once used (some
//! notes commit of the store's history has it) and none uses now: the bytes of a
//! deleted package. A ref no record here ever named — one another clone has just
//! pushed, its notes still on the way — is left alone.

use std::collections::{BTreeMap, BTreeSet};

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::transport;
use crate::model::package::{Location, PACKAGES_DIR, PackageDoc};
use crate::package::refname::PACKAGES_REF_PREFIX;
use crate::package::{bytes::check_reference, registry};
use crate::store::{NOTES_REF, Snapshot};

/// The refs of package files the store records in the repository (checked to be in
/// the package namespace).
fn referenced(repo: &Repo) -> Result<BTreeSet<String>> {
    let snapshot = Snapshot::read(repo.git())?;
    let mut refs = BTreeSet::new();
    for doc in registry::all(&snapshot)? {
        for file in doc.files {
            if let Location::Repository { reference } = file.location {
                if check_reference(&reference).is_ok() {
                    refs.insert(reference);
                }
            }
        }
    }
    Ok(refs)
}

fn remote_refs(repo: &Repo, remote: &str, action: &str) -> Result<BTreeMap<String, Oid>> {
    transport::remote_refs(repo, remote, PACKAGES_REF_PREFIX)?.map_err(|message| Error::Refused {
        action: action.to_owned(),
        reason: format!("cannot ask {remote} for its refs:\n{message}"),
    })
}

/// Brings every package file the store records that the remote has and this clone
/// lacks. Returns the refs fetched.
pub fn fetch(repo: &Repo, remote: &str) -> Result<Vec<String>> {
    let action = format!("fetching packages from {remote}");
    let theirs = remote_refs(repo, remote, &action)?;
    let wanted: Vec<String> = referenced(repo)?
        .into_iter()
        .filter(|r| theirs.contains_key(r) && repo.git().refname_to_id(r).is_err())
        .collect();
    if wanted.is_empty() {
        return Ok(wanted);
    }
    let specs: Vec<String> = wanted.iter().map(|r| format!("+{r}:{r}")).collect();
    transport::fetch(repo, remote, &specs)?.map_err(|message| Error::Refused {
        action,
        reason: format!("git fetch failed:\n{message}"),
    })?;
    Ok(wanted)
}

/// Sends every package file the store records, that is here and that the remote
/// lacks. Returns the refs sent.
pub fn send(repo: &Repo, remote: &str) -> Result<Vec<String>> {
    let action = format!("pushing packages to {remote}");
    let theirs = remote_refs(repo, remote, &action)?;
    let mut specs = Vec::new();
    let mut sent = Vec::new();
    for reference in referenced(repo)? {
        let Ok(here) = repo.git().refname_to_id(&reference) else {
            continue;
        };
        if theirs.get(&reference) != Some(&here) {
            specs.push(format!("{reference}:{reference}"));
            sent.push(reference);
        }
    }
    push(repo, remote, &[], &specs)?;
    Ok(sent)
}

/// Deletes on the remote the package refs that a record of the store's history used
/// and no record uses now (each under a lease on the value it has there). Run after
/// the store itself was pushed. Returns the refs deleted.
pub fn prune(repo: &Repo, remote: &str) -> Result<Vec<String>> {
    let action = format!("deleting packages on {remote}");
    let theirs = remote_refs(repo, remote, &action)?;
    let now = referenced(repo)?;
    let unused: Vec<(&String, &Oid)> = theirs.iter().filter(|(r, _)| !now.contains(*r)).collect();
    if unused.is_empty() {
        return Ok(Vec::new());
    }
    let ever = ever_referenced(repo)?;
    let mut options = Vec::new();
    let mut specs = Vec::new();
    let mut deleted = Vec::new();
    for (reference, id) in unused {
        if ever.contains(reference) {
            options.push(format!("--force-with-lease={reference}:{id}"));
            specs.push(format!(":{reference}"));
            deleted.push(reference.clone());
        }
    }
    push(repo, remote, &options, &specs)?;
    Ok(deleted)
}

fn push(repo: &Repo, remote: &str, options: &[String], specs: &[String]) -> Result<()> {
    if specs.is_empty() {
        return Ok(());
    }
    let pushed = transport::push(repo, remote, options, specs)?;
    if !pushed.success {
        let refs = pushed
            .refs
            .iter()
            .filter(|r| r.rejected())
            .map(|r| format!("{} {}", r.remote_ref, r.summary))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::PushRefused {
            remote: remote.to_owned(),
            refs,
            message: pushed.message,
        });
    }
    Ok(())
}

/// Every package ref a record of any notes commit in the store's history named. Each
/// distinct `packages/` tree and document blob is read once.
fn ever_referenced(repo: &Repo) -> Result<BTreeSet<String>> {
    let git = repo.git();
    let mut found = BTreeSet::new();
    let Ok(head) = git.refname_to_id(NOTES_REF) else {
        return Ok(found);
    };
    let fail = |e| Error::git("cannot walk the history of the release store", e);
    let mut walk = git.revwalk().map_err(fail)?;
    walk.push(head).map_err(fail)?;
    let mut trees_seen = BTreeSet::new();
    let mut blobs_seen = BTreeSet::new();
    for commit in walk {
        let commit = git.find_commit(commit.map_err(fail)?).map_err(fail)?;
        let tree = commit.tree().map_err(fail)?;
        let Some(entry) = tree.get_name(PACKAGES_DIR) else {
            continue;
        };
        if !trees_seen.insert(entry.id()) {
            continue;
        }
        let Ok(packages) = git.find_tree(entry.id()) else {
            continue;
        };
        let mut blobs = Vec::new();
        packages
            .walk(git2::TreeWalkMode::PreOrder, |_, e| {
                if e.kind() == Some(git2::ObjectType::Blob) {
                    blobs.push(e.id());
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(fail)?;
        for blob in blobs {
            if !blobs_seen.insert(blob) {
                continue;
            }
            // History holds other clones' commits: a blob larger than any document of
            // the store is not read.
            let small = git
                .odb()
                .and_then(|odb| odb.read_header(blob))
                .is_ok_and(|(size, _)| size <= crate::store::MAX_DOCUMENT_BYTES);
            if !small {
                continue;
            }
            let Ok(blob) = git.find_blob(blob) else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<PackageDoc>(blob.content()) else {
                continue;
            };
            for file in doc.files {
                if let Location::Repository { reference } = file.location {
                    if check_reference(&reference).is_ok() {
                        found.insert(reference);
                    }
                }
            }
        }
    }
    Ok(found)
}
