//! The git adapter: opening the repository ([`Repo`]), tags, the identity of the
//! person, signing as git signs, and the project's identity.
//!
//! It is not the only module that talks to git2. What is true today: [`Repo::git`]
//! hands out the `git2::Repository`, and the layers above use it directly where their
//! work is git objects and refs — `store/` (the notes tree, its commits and its ref,
//! moved with git's own lock protocol), `archive/` (the tree walk and blob reads),
//! `share/` (remote refs, and `git fetch`/`git push` run through the user's git),
//! `package/` (package files as chunk blobs, trees and commits under refs of their
//! own), `release/`, `audit/`, `plan/`, `present/` and `web/` (commits, tags and tree entries
//! they read), `model/` (object ids in its types), the error type (git2's errors as
//! causes), and in the binary `cli/` (an object id to print, the store's snapshot in
//! `doctor`). Routing every ref and remote call through this module is a later step;
//! until then, new code that resolves tags, reads identities or signs belongs here, and
//! code that needs the raw repository for its own objects takes it from [`Repo::git`].
//! (`tests/it/layers.rs` checks that this list names every layer that uses git2.)

pub mod cat_file;
pub mod config;
pub mod identity;
pub mod local_config;
pub mod project;
pub mod protection;
pub mod ref_stamp;
pub mod repo;
pub mod revision;
pub mod sign;
pub mod tag;
pub mod transport;

pub use repo::Repo;
