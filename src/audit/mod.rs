//! Audit: evidence snapshots, attestations, the offline verification of releases, and the
//! pre-push checks (with the hook that runs them).

pub mod attest;
pub mod checks;
pub mod evidence;
pub mod hook;
pub mod packages;
pub mod prepush;
pub mod protected;
pub mod verify;
#[cfg(test)]
mod verify_tests;
