//! A release as the store holds it, with where its tag stands now.

use git2::Oid;

use crate::model::{Release, TagName};

/// Where a release's tag stands compared with what the record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagState {
    /// The tag peels to the commit the release was made on.
    Intact,
    /// The tag was moved to another commit after the release was made.
    Moved { commit: Oid },
    /// The tag no longer exists (GitLab deletes a release with its tag).
    Missing,
}

/// A release as found in the store, with the state of its tag.
#[derive(Debug, Clone)]
pub struct Found {
    pub tag: TagName,
    pub release: Release,
    pub tag_state: TagState,
    /// What `refs/tags/<tag>` points at now (tag object or commit), as read when the
    /// release was found; `None` when the tag is gone. Audits compare it with the
    /// record's `tag_target` without reading the ref again.
    pub tag_target: Option<Oid>,
}
