//! Deterministic crash points: `GIT_RELEASE_FAILPOINT=<step>` kills the process with
//! SIGKILL when it reaches the step of that name — as `kill -9` at that moment would,
//! with no cleanup and no destructors — so that a crash found at random replays
//! exactly, in tests and by hand. `<step>:<n>` kills it the n-th time the step is
//! reached (a step inside a loop). Unset, a step costs one environment lookup, made
//! once per process.
//!
//! The steps are the moments between two writes that must not be seen apart (see
//! `STEPS`); each is named `<command>:<what is done>`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const VARIABLE: &str = "GIT_RELEASE_FAILPOINT";

/// Every step, for tests that pick one.
pub const STEPS: &[&str] = &[
    CREATE_RECORD_WRITTEN,
    CREATE_TAG_CREATED,
    IMPORT_RECORDS_WRITTEN,
    IMPORT_TAG_CREATED,
    STORE_OBJECTS_WRITTEN,
    FETCH_REFS_FETCHED,
    PUSH_SENT,
];

/// `create`: the pending record is written, the tag not yet made.
pub const CREATE_RECORD_WRITTEN: &str = "create:record-written";
/// `create`: the tag is made (the commit point), its record still marked pending.
pub const CREATE_TAG_CREATED: &str = "create:tag-created";
/// `import`: every record is written pending, no tag made yet.
pub const IMPORT_RECORDS_WRITTEN: &str = "import:records-written";
/// `import`: one more of its tags is made (`:<n>` for the n-th).
pub const IMPORT_TAG_CREATED: &str = "import:tag-created";
/// Any store write: its objects are written, the notes ref not moved yet.
pub const STORE_OBJECTS_WRITTEN: &str = "store:objects-written";
/// `fetch`: the remote's refs are fetched, nothing merged yet.
pub const FETCH_REFS_FETCHED: &str = "fetch:refs-fetched";
/// `push`: the push is sent and accepted, the remote-tracking refs not updated yet.
pub const PUSH_SENT: &str = "push:sent";

/// The step asked for, and the time it is to be reached: `(name, n)`.
fn wanted() -> Option<&'static (String, usize)> {
    static WANTED: OnceLock<Option<(String, usize)>> = OnceLock::new();
    WANTED
        .get_or_init(|| {
            let value = std::env::var(VARIABLE).ok()?;
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            match value.rsplit_once(':') {
                Some((name, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => {
                    Some((name.to_owned(), n.parse().ok()?))
                }
                _ => Some((value.to_owned(), 1)),
            }
        })
        .as_ref()
}

/// Marks reaching `step`: the process dies here when it is the one asked for.
pub fn reach(step: &str) {
    static REACHED: AtomicUsize = AtomicUsize::new(0);
    let Some((name, n)) = wanted() else {
        return;
    };
    if name != step {
        return;
    }
    if REACHED.fetch_add(1, Ordering::SeqCst) + 1 == *n {
        eprintln!("git-release: {VARIABLE}={step}: killed here");
        // SAFETY: raising a signal has no preconditions; SIGKILL ends the process.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
