//! The one compare-and-swap loop every write of a ref goes through (releases, merges,
//! `doctor --repair`): an attempt reads the ref, builds the new commit and says what
//! it expects the ref to hold; the ref moves only if it still holds that. When
//! another writer moved the ref or holds its lock, the attempt runs again on what is
//! there now, with jittered backoff, within a time budget (docs/storage.md,
//! "Writing: compare-and-swap, retried within a budget").

use std::time::{Duration, Instant};

use git2::{Oid, Signature};

use super::ref_write::{self, Expected, Outcome};
use crate::error::{Error, Obstacle, Result};
use crate::git::Repo;

/// How long a writer keeps retrying lost races and held locks before giving up.
/// `GIT_RELEASE_WRITE_TIMEOUT` (whole seconds) changes it, e.g. for a CI job that
/// would rather fail fast.
const WRITE_BUDGET: Duration = Duration::from_secs(30);
pub const WRITE_TIMEOUT_VARIABLE: &str = "GIT_RELEASE_WRITE_TIMEOUT";

/// The write budget; a value that is not whole seconds is refused before anything is
/// written, rather than silently replaced by the default.
fn write_budget() -> Result<Duration> {
    let Some(value) = std::env::var_os(WRITE_TIMEOUT_VARIABLE) else {
        return Ok(WRITE_BUDGET);
    };
    let text = value.to_string_lossy();
    text.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| Error::InvalidInput {
            what: "GIT_RELEASE_WRITE_TIMEOUT",
            value: text.into_owned(),
            reason: "expected whole seconds to keep retrying a write, e.g. 30".into(),
        })
}

/// What one attempt of a write decided.
pub enum Attempt<R> {
    /// Nothing to move: the write is over, with this value.
    Done(R),
    /// Move the ref to `new` if it still holds what the attempt read (`expected`);
    /// the write is then over, with `value`.
    Move {
        expected: Expected,
        new: Oid,
        /// Who the reflog names.
        who: Signature<'static>,
        /// The reflog message.
        log: String,
        value: R,
    },
}

/// Runs `attempt` until the ref it names moves (or nothing is to move), re-running it
/// when another writer got there first or holds the lock, until the write budget is
/// spent. Errors from `attempt` end the write with nothing moved.
pub fn retry<R>(
    repo: &Repo,
    reference: &str,
    attempt: impl FnMut() -> Result<Attempt<R>>,
) -> Result<R> {
    retry_within(repo, reference, write_budget()?, attempt)
}

fn retry_within<R>(
    repo: &Repo,
    reference: &str,
    budget: Duration,
    mut attempt: impl FnMut() -> Result<Attempt<R>>,
) -> Result<R> {
    // A ref setting git would refuse stops the write before an attempt makes anything.
    ref_write::Settings::read(repo)?;
    let started = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let (expected, new, who, log, value) = match attempt()? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Move {
                expected,
                new,
                who,
                log,
                value,
            } => (expected, new, who, log, value),
        };
        let obstacle =
            match ref_write::compare_and_swap(repo, reference, expected, new, &who, &log)? {
                Outcome::Updated => return Ok(value),
                Outcome::OutOfDate { .. } => Obstacle::Moved,
                Outcome::Locked => Obstacle::Locked,
            };
        if started.elapsed() >= budget {
            // A lock held the whole time is named, whatever the budget was: a dead
            // writer's lock younger than STALE_LOCK_AGE looks just like a live one.
            let lock = matches!(obstacle, Obstacle::Locked)
                .then(|| repo.git().commondir().join(format!("{reference}.lock")));
            return Err(Error::Contention {
                lock,
                reference: reference.to_owned(),
                obstacle,
                attempts,
                seconds: started.elapsed().as_secs(),
            });
        }
        backoff(attempts);
    }
}

/// Jittered exponential backoff: spreads writers out so that one of them wins each
/// round instead of all retrying in lockstep.
fn backoff(attempt: u32) {
    let ceiling_ms = 2u64.saturating_pow(attempt.min(7)).min(100);
    let jitter = rand::random_range(0..=ceiling_ms.max(1));
    std::thread::sleep(Duration::from_millis(jitter));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ref_write::tests::{commit, init};
    use git2::Repository;

    fn who() -> Signature<'static> {
        Signature::now("t", "t@example.com").unwrap()
    }

    /// The writer's own handle on the repository `repo` (the test keeps its own).
    fn writer(repo: &Repository) -> Repo {
        Repo::from_git2(Repository::open(repo.path()).unwrap())
    }

    const REF: &str = "refs/notes/releases";

    /// An attempt that lost to another writer runs again on what is there now.
    #[test]
    fn an_attempt_that_lost_a_race_runs_again_on_the_new_value() {
        let (_dir, repo) = init();
        let (a, b, c) = (commit(&repo, "a"), commit(&repo, "b"), commit(&repo, "c"));
        repo.reference(REF, a, true, "test").unwrap();
        let mut seen = Vec::new();
        let value = retry(&writer(&repo), REF, || {
            let read = repo.refname_to_id(REF).ok();
            seen.push(read);
            if seen.len() == 1 {
                // Another writer moves the ref between this read and the swap.
                repo.reference(REF, b, true, "other writer").unwrap();
            }
            Ok(Attempt::Move {
                expected: Expected::read_as(read),
                new: c,
                who: who(),
                log: "test".into(),
                value: seen.len(),
            })
        })
        .unwrap();
        assert_eq!(value, 2);
        assert_eq!(seen, [Some(a), Some(b)]);
        assert_eq!(repo.refname_to_id(REF).unwrap(), c);
    }

    #[test]
    fn nothing_to_move_ends_the_write_without_touching_the_ref() {
        let (_dir, repo) = init();
        let value = retry(&writer(&repo), REF, || Ok(Attempt::Done("same"))).unwrap();
        assert_eq!(value, "same");
        assert!(repo.find_reference(REF).is_err());
    }

    /// A live lock held for the whole budget: the error says it was the lock, and the
    /// ref is as it was.
    #[test]
    fn a_lock_held_past_the_budget_is_contention_on_the_lock() {
        let (_dir, repo) = init();
        let a = commit(&repo, "a");
        repo.reference(REF, a, true, "test").unwrap();
        std::fs::write(repo.path().join(format!("{REF}.lock")), "").unwrap();
        let err = retry_within(&writer(&repo), REF, Duration::from_millis(50), || {
            Ok(Attempt::Move {
                expected: Expected::MustExistAndMatch(a),
                new: commit(&repo, "b"),
                who: who(),
                log: "test".into(),
                value: (),
            })
        })
        .unwrap_err();
        match err {
            Error::Contention {
                obstacle, attempts, ..
            } => {
                assert_eq!(obstacle, Obstacle::Locked);
                assert!(attempts >= 1);
            }
            other => panic!("{other}"),
        }
        assert_eq!(repo.refname_to_id(REF).unwrap(), a);
    }

    /// A ref that keeps moving: the error says so (not "locked").
    #[test]
    fn a_ref_that_keeps_moving_is_contention_on_the_value() {
        let (_dir, repo) = init();
        let a = commit(&repo, "a");
        repo.reference(REF, a, true, "test").unwrap();
        let err = retry_within(&writer(&repo), REF, Duration::ZERO, || {
            Ok(Attempt::Move {
                expected: Expected::MustNotExist,
                new: a,
                who: who(),
                log: "test".into(),
                value: (),
            })
        })
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Contention {
                    obstacle: Obstacle::Moved,
                    attempts: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("other writers kept changing it"));
    }

    /// An error in an attempt ends the write; nothing moves.
    #[test]
    fn an_error_in_an_attempt_moves_nothing() {
        let (_dir, repo) = init();
        let err = retry::<()>(&writer(&repo), REF, || Err(Error::NoReleases)).unwrap_err();
        assert!(matches!(err, Error::NoReleases), "{err}");
        assert!(repo.find_reference(REF).is_err());
    }
}
