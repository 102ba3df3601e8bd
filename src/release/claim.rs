//! Pending claims: the records a creator writes before it creates their tags, and what
//! a record amounts to given where its tag points now (docs/storage.md: the tag's
//! creation is the commit point).
//!
//! A command that writes pending records (`create` of a new tag, `import`) first leaves
//! a marker in the repository — `<common git dir>/git-release/pending/<claim>.json`,
//! local, never shared — and removes it once its records are complete. A marker left
//! behind is an interrupted command: its claim's tags are believed only when their
//! reflog shows the claim made them (`git::tag::made_for_claim`), so a tag made later
//! by somebody else on the same commit never completes a killed create; and
//! `leftovers::sweep` settles what was complete and takes back what was not.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git2::Oid;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::{Key, Pending, Release, TagState};

/// How long a tag-creation claim protects an unfinished record from being replaced.
/// Tag creation follows the record write within milliseconds; the lease only has to
/// outlive a slow machine, and lets a killed creator's record be replaced later.
const PENDING_LEASE: Duration = Duration::from_secs(60);

/// What a record amounts to, given where its tag points now.
pub(crate) enum RecordState {
    Complete(TagState),
    /// Its tag is being created by a live process.
    InFlight(Pending),
    /// Written by a creator that never created the tag: treated as absent.
    Abandoned,
}

pub(crate) fn record_state(
    repo: &Repo,
    tag_name: &str,
    release: &Release,
    tag_now: Option<&TagTarget>,
) -> RecordState {
    if let Some(pending) = &release.pending {
        let live = claim_is_live(pending);
        return match tag_now {
            Some(t) if t.target == release.tag_target => {
                if live || tag_made_for(repo, tag_name, release.tag_target, pending) {
                    RecordState::Complete(TagState::Intact)
                } else {
                    RecordState::Abandoned
                }
            }
            _ if live => RecordState::InFlight(pending.clone()),
            _ => RecordState::Abandoned,
        };
    }
    RecordState::Complete(match tag_now {
        None => TagState::Missing,
        Some(t) if t.commit == release.commit => TagState::Intact,
        Some(t) => TagState::Moved { commit: t.commit },
    })
}

/// Whether the tag at the claimed target was made by the claim's command: always
/// believed when no marker of an interrupted command names the claim (the command
/// finished, or the record predates markers); else only with the reflog's word.
fn tag_made_for(repo: &Repo, tag_name: &str, target: Oid, claim: &Pending) -> bool {
    let Some(key) = claim.key else {
        return true;
    };
    if !marker_path(repo, key).exists() {
        return true;
    }
    tag::made_for_claim(repo, tag_name, target, &key.to_string())
}

fn wall_clock_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

pub(crate) fn new_claim() -> Pending {
    Pending {
        since: wall_clock_seconds(),
        pid: std::process::id(),
        host: host_name(),
        key: Some(Key::random()),
        extra: Map::new(),
    }
}

/// A claim is live while its lease runs, unless its process is known to be gone (same
/// host, and that pid no longer exists).
pub(crate) fn claim_is_live(claim: &Pending) -> bool {
    let age = wall_clock_seconds().saturating_sub(claim.since);
    if age < 0 || age as u64 >= PENDING_LEASE.as_secs() {
        return false;
    }
    let proc_fs = Path::new("/proc/self").exists();
    if proc_fs && !claim.host.is_empty() && claim.host == host_name() {
        return Path::new(&format!("/proc/{}", claim.pid)).exists();
    }
    true
}

/// The command that wrote a marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Operation {
    /// One release and its new tag: complete once the tag exists.
    Create,
    /// Many releases: complete only once all its records are (one commit); else
    /// taken back whole.
    Import,
}

/// One record a marked command writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MarkedRecord {
    pub tag: String,
    #[serde(with = "crate::model::oid")]
    pub commit: Oid,
    #[serde(with = "crate::model::oid")]
    pub target: Oid,
    /// The command creates the tag (else it existed).
    pub creates_tag: bool,
}

/// What an unfinished command left to find: its claim, its records, the milestones
/// it creates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Marker {
    pub operation: Operation,
    pub claim: Pending,
    pub records: Vec<MarkedRecord>,
    #[serde(default)]
    pub milestones: Vec<Key>,
}

fn marker_dir(repo: &Repo) -> PathBuf {
    repo.git().commondir().join("git-release").join("pending")
}

fn marker_path(repo: &Repo, key: Key) -> PathBuf {
    marker_dir(repo).join(format!("{key}.json"))
}

impl Marker {
    pub fn key(&self) -> Option<Key> {
        self.claim.key
    }

    /// Writes the marker (whole or not at all: a temporary file renamed).
    pub fn write(&self, repo: &Repo) -> Result<()> {
        let Some(key) = self.key() else {
            return Ok(());
        };
        let dir = marker_dir(repo);
        let fail = |source| Error::io(format!("cannot write {}", dir.display()), source);
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let path = marker_path(repo, key);
        let temporary = path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(self).expect("markers serialize");
        std::fs::write(&temporary, bytes).map_err(fail)?;
        std::fs::rename(&temporary, &path).map_err(fail)
    }

    /// Removes the marker: the command finished (or was taken back).
    pub fn remove(&self, repo: &Repo) {
        if let Some(key) = self.key() {
            let _ = std::fs::remove_file(marker_path(repo, key));
        }
    }
}

/// Every marker in the repository; unreadable ones are reported and left.
pub(crate) fn markers(repo: &Repo) -> Vec<std::result::Result<Marker, PathBuf>> {
    let Ok(entries) = std::fs::read_dir(marker_dir(repo)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            std::fs::read(&path)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .ok_or(path)
        })
        .collect()
}
