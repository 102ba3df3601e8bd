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
use crate::git::ref_stamp::{RefStamp, ref_stamp};
use crate::model::Found;
use crate::release as lifecycle;
use crate::store::NOTES_REF;

/// The last list read, with the fingerprint it was read under (and the refs' stamp
/// on disk then, for [`ReleaseCache::releases_at`]).
#[derive(Default)]
pub struct ReleaseCache {
    last: Mutex<Option<(Fingerprint, Arc<Vec<Found>>)>>,
    stamped: Mutex<Option<(RefStamp, Arc<Vec<Found>>)>>,
}

pub type Fingerprint = [u8; 32];

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

    /// The releases of the repository at `git_dir`, without opening it while its refs'
    /// stamp on disk is the one the cached list was read under (`git::ref_stamp`):
    /// what a group's list asks of a thousand projects at once. `open` opens it when
    /// the stamp changed (or none can be taken). The stamp is taken before the list
    /// is read, so a write in between costs one more read, never a stale answer.
    pub fn releases_at(
        &self,
        git_dir: &std::path::Path,
        open: impl FnOnce() -> Result<Repo>,
    ) -> Result<Arc<Vec<Found>>> {
        let stamp = ref_stamp(git_dir);
        if let Some(stamp) = &stamp {
            let stamped = self.stamped.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((known, releases)) = stamped.as_ref()
                && known == stamp
            {
                return Ok(Arc::clone(releases));
            }
        }
        let releases = self.releases(&open()?)?;
        if let Some(stamp) = stamp {
            *self.stamped.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((stamp, Arc::clone(&releases)));
        }
        Ok(releases)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Fingerprint, Arc<Vec<Found>>)>> {
        // A panic while holding the lock leaves at worst an outdated entry, which the
        // fingerprint check refuses anyway.
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The notes ref's target and every tag's name and target, hashed.
pub fn fingerprint(repo: &Repo) -> Result<Fingerprint> {
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

/// Rendered pages (HTML, feed, badge…), by everything they were rendered from: the
/// release list's [`fingerprint`], the templates, the project's identity, the base
/// URL and the request. An entry also ends when the time it was rendered for does (an
/// upcoming release's date arrives, a day ends). At most [`PAGE_CACHE_BYTES`]; the
/// oldest go first.
#[derive(Default)]
pub struct PageCache {
    entries: Mutex<Pages>,
}

/// Rendered bytes kept, at most.
pub const PAGE_CACHE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Pages {
    by_key: std::collections::HashMap<PageKey, CachedPage>,
    order: std::collections::VecDeque<PageKey>,
    bytes: usize,
}

pub type PageKey = [u8; 32];

#[derive(Clone)]
pub struct CachedPage {
    pub content_type: &'static str,
    pub body: axum::body::Bytes,
    /// Until when it stands (`None`: until what it was made from changes).
    pub until: Option<crate::time::Timestamp>,
}

impl PageCache {
    pub fn get(&self, key: &PageKey, now: crate::time::Timestamp) -> Option<CachedPage> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .by_key
            .get(key)
            .filter(|page| page.until.is_none_or(|until| now < until))
            .cloned()
    }

    pub fn put(&self, key: PageKey, page: CachedPage) {
        if page.body.len() > PAGE_CACHE_BYTES / 4 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.bytes += page.body.len();
        if let Some(old) = entries.by_key.insert(key, page) {
            entries.bytes -= old.body.len();
        } else {
            entries.order.push_back(key);
        }
        while entries.bytes > PAGE_CACHE_BYTES {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.by_key.remove(&oldest) {
                entries.bytes -= gone.body.len();
            }
        }
    }
}

/// A [`PageKey`] made of `parts`, each length-prefixed so that no two lists of parts
/// make the same key.
pub fn page_key(parts: &[&[u8]]) -> PageKey {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().into()
}
