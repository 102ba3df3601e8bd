//! The release list, kept between requests while nothing it is made from has changed.
//!
//! `release::list` reads every note; a list request on a store of thousands of
//! releases would spend its time there. What the list is made of is the notes ref's
//! commit (its whole tree) and where each tag points (the objects behind both never
//! change), so a fingerprint of those two names the list exactly. The fingerprint is
//! taken before the list is read: a write that lands in between makes the stored
//! fingerprint stale, which costs one more read on the next request, never a stale
//! answer.

use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::Found;
use crate::release as lifecycle;
use crate::store::NOTES_REF;

/// The last list read, with the fingerprint it was read under.
#[derive(Default)]
pub struct ReleaseCache {
    last: Mutex<Option<(Fingerprint, Arc<Vec<Found>>)>>,
}

type Fingerprint = [u8; 32];

impl ReleaseCache {
    /// The releases `release::list` finds (records that cannot be read are left out,
    /// as that list leaves them out), from the cache when nothing changed.
    pub fn releases(&self, repo: &Repo) -> Result<Arc<Vec<Found>>> {
        let fingerprint = fingerprint(repo)?;
        if let Some((known, releases)) = self.lock().as_ref()
            && *known == fingerprint
        {
            return Ok(Arc::clone(releases));
        }
        let releases = Arc::new(lifecycle::list(repo)?.releases);
        *self.lock() = Some((fingerprint, Arc::clone(&releases)));
        Ok(releases)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Fingerprint, Arc<Vec<Found>>)>> {
        // A panic while holding the lock leaves at worst an outdated entry, which the
        // fingerprint check refuses anyway.
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The notes ref's target and every tag's name and target, hashed.
fn fingerprint(repo: &Repo) -> Result<Fingerprint> {
    let git = repo.git();
    let mut hash = Sha256::new();
    match git.refname_to_id(NOTES_REF) {
        Ok(oid) => hash.update(oid.as_bytes()),
        Err(e) if e.code() == git2::ErrorCode::NotFound => hash.update(b"no notes"),
        Err(e) => return Err(Error::git(format!("cannot read {NOTES_REF}"), e)),
    }
    let tags = git
        .references_glob("refs/tags/*")
        .map_err(|e| Error::git("cannot list the tags", e))?;
    for reference in tags {
        let reference = reference.map_err(|e| Error::git("cannot read a tag", e))?;
        hash.update(reference.name_bytes());
        hash.update([0]);
        match reference.target() {
            Some(oid) => hash.update(oid.as_bytes()),
            // A symbolic tag: what it names stands in for where it points.
            None => hash.update(reference.symbolic_target_bytes().unwrap_or_default()),
        }
        hash.update([0]);
    }
    Ok(hash.finalize().into())
}
