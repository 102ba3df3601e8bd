//! Pending claims: the record a creator writes before it creates the tag, and what a
//! record amounts to given where its tag points now (docs/storage.md: the tag's
//! creation is the commit point).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Map;

use crate::git::tag::TagTarget;
use crate::model::{Pending, Release, TagState};

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

pub(crate) fn record_state(release: &Release, tag_now: Option<&TagTarget>) -> RecordState {
    if let Some(pending) = &release.pending {
        return match tag_now {
            Some(t) if t.target == release.tag_target => RecordState::Complete(TagState::Intact),
            _ if claim_is_live(pending) => RecordState::InFlight(pending.clone()),
            _ => RecordState::Abandoned,
        };
    }
    RecordState::Complete(match tag_now {
        None => TagState::Missing,
        Some(t) if t.commit == release.commit => TagState::Intact,
        Some(t) => TagState::Moved { commit: t.commit },
    })
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
        extra: Map::new(),
    }
}

/// A claim is live while its lease runs, unless its process is known to be gone (same
/// host, and that pid no longer exists).
fn claim_is_live(claim: &Pending) -> bool {
    let age = wall_clock_seconds().saturating_sub(claim.since);
    if age < 0 || age as u64 >= PENDING_LEASE.as_secs() {
        return false;
    }
    let proc_fs = std::path::Path::new("/proc/self").exists();
    if proc_fs && !claim.host.is_empty() && claim.host == host_name() {
        return std::path::Path::new(&format!("/proc/{}", claim.pid)).exists();
    }
    true
}
