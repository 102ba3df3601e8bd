//! git-release: GitLab-style releases for any git repository, with no server.
//!
//! Release records live in the repository under `refs/notes/releases` (see the
//! `store` module for the on-disk contract). The binary in `main.rs` only parses
//! arguments and prints; everything it does goes through this library.
//!
//! The modules are layered; each uses only the ones listed before it:
//!
//! | layer | modules |
//! |---|---|
//! | cross-cutting leaves | [`error`], [`time`], [`digest`], [`url`], [`text`], [`failpoint`] |
//! | plain data and validation | [`model`] |
//! | the git adapter | [`git`] (repository, tags, identities, project identity) |
//! | source archives | [`archive`] |
//! | the notes store | [`store`] |
//! | release packages | [`package`] (bytes in the repository or in S3, records in the store) |
//! | the domain | [`release`], [`plan`] |
//! | groups | [`group`] (the projects and groups under a root directory) |
//! | presentation | [`present`] (GitLab entities, Markdown → HTML) |
//! | sharing | [`share`] (remotes, export/import, settings) |
//! | audit | [`audit`] (evidence, verify, pre-push) |
//! | web | [`web`] (`serve`: GitLab's REST API v4; the release pages of `site` and `serve`) |

pub mod digest;
pub mod error;
pub mod failpoint;
pub mod text;
pub mod time;
pub mod url;

pub mod archive;
pub mod audit;
pub mod git;
pub mod group;
pub mod model;
pub mod package;
pub mod plan;
pub mod present;
pub mod release;
pub mod share;
pub mod store;
pub mod web;

pub use error::{Error, Result};
pub use git::Repo;
