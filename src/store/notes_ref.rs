//! The ref the store lives in, apart from the store's root module so that the
//! store's parts (which the root uses) can name it without using the root back.

/// Every release record, the project's data and the evidence: one notes ref.
pub const NOTES_REF: &str = "refs/notes/releases";
