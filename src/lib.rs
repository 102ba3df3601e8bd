//! git-release: GitLab-style releases for any git repository, with no server.
//!
//! Release records live in the repository under `refs/notes/releases` (see the
//! `store` module for the on-disk contract). The binary in `main.rs` only parses
//! arguments and prints; everything it does goes through this library.

pub mod archive;
pub mod error;
pub mod identity;
pub mod project;
pub mod repo;

pub use error::{Error, Result};
pub use repo::Repo;
