//! The release domain: the lifecycle of a release (create, find, list, update,
//! delete), its asset links, ordering, generated notes and downloads.

pub(crate) mod claim;
pub mod create;
#[cfg(test)]
pub(crate) mod create_tests;
pub mod delete;
pub mod download;
pub mod evidence;
pub mod group;
pub mod group_place;
pub mod leftovers;
pub mod links;
pub mod notes;
pub mod ordering;
pub mod packages;
pub mod query;
pub mod retag;
pub mod update;

pub use create::{CreateRequest, Created, NewTag, NotesRequest, create, has_release_tx};
pub use delete::{Deleted, TagDeletion, delete};
pub use query::{Listing, find, find_any, list};
pub use update::{UpdateRequest, Updated, modify_release, update};
