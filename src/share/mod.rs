//! Sharing: push/fetch/sync with a remote and the resolution of merge conflicts,
//! export/import of GitLab JSON, and the settings report with the remote setup.

pub mod config;
pub mod hint;
pub mod kept_tags;
pub mod packages;
pub mod recompute;
pub mod remote;
pub mod remote_tags;
pub mod resolve;
pub mod transfer;
