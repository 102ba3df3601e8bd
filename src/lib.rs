//! git-release: GitLab-style releases for any git repository, with no server.
//!
//! Release records live in the repository under `refs/notes/releases` (see the
//! `store` module for the on-disk contract). The binary in `main.rs` only parses
//! arguments and prints; everything it does goes through this library.

pub mod archive;
pub mod error;
pub mod identity;
pub mod project;
pub mod remote;
pub mod repo;

pub use error::{Error, Result};
pub use repo::Repo;
pub mod audit;
pub mod config;
pub mod digest;
pub mod download;
pub mod evidence;
pub mod freeze;
pub mod gitlab;
pub mod hook;
pub mod lifecycle;
pub mod links;
pub mod markdown;
pub mod merge;
pub mod milestone;
pub mod model;
pub mod notes;
pub mod ordering;
pub mod prepush;
pub mod store;
pub mod tag;
pub mod time;
pub mod transfer;
pub mod web;
