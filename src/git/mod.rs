//! The git adapter: the only layer that opens the repository and talks to git2 —
//! the repository handle, tags, the identity of the person, the project's identity.

pub mod config;
pub mod identity;
pub mod local_config;
pub mod project;
pub mod repo;
pub mod revision;
pub mod sign;
pub mod tag;
pub mod transport;

pub use repo::Repo;
