//! The release domain: the lifecycle of a release (create, find, list, update,
//! delete), its asset links, ordering, generated notes and downloads.

pub mod download;
pub mod lifecycle;
pub mod links;
pub mod notes;
pub mod ordering;
