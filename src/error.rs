//! The one error type of the library. Every variant names the thing that failed (tag,
//! ref, file, commit) and why; `hint()` says what the user can do about it.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any parent up to the mount point): {path}")]
    NotARepository { path: PathBuf, source: git2::Error },

    #[error("invalid tag name {name:?}: {reason}")]
    InvalidTagName { name: String, reason: String },

    #[error("tag {tag:?} does not exist and the ref is not specified")]
    RefNotSpecified { tag: String },

    #[error("cannot resolve ref {reference:?}: {source}")]
    UnknownRef {
        reference: String,
        source: git2::Error,
    },

    #[error("tag {tag:?} does not exist")]
    UnknownTag { tag: String },

    #[error("release {tag:?} already exists")]
    ReleaseExists { tag: String },

    #[error("release {tag:?} is being created by another process (since {since})")]
    ReleaseBeingCreated { tag: String, since: String },

    #[error("release {tag:?} not found")]
    ReleaseNotFound { tag: String },

    #[error("there are no releases in this repository")]
    NoReleases,

    #[error("tag {tag:?} already exists (pointing at {target})")]
    TagExists { tag: String, target: String },

    #[error("invalid {what} {value:?}: {reason}")]
    InvalidInput {
        what: &'static str,
        value: String,
        reason: String,
    },

    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} already exists")]
    FileExists { path: PathBuf },

    #[error("corrupt release data in {location}: {reason}")]
    Corrupt { location: String, reason: String },

    #[error(
        "{location} uses schema version {found}, but this git-release knows only up to {known}"
    )]
    SchemaTooNew {
        location: String,
        found: u64,
        known: u64,
    },

    #[error(
        "could not update {reference}: other writers kept changing it for {seconds}s ({attempts} attempts)"
    )]
    Contention {
        reference: String,
        attempts: u32,
        seconds: u64,
    },

    #[error("{action} refused: {reason}")]
    Refused { action: String, reason: String },

    #[error("{what}: {source}")]
    Git { what: String, source: git2::Error },

    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },

    #[error("cannot archive {rev:?}: {reason}")]
    ArchiveRevision { rev: String, reason: String },

    #[error("cannot archive {path:?}: {reason}")]
    ArchiveTree { path: String, reason: String },

    #[error("object {oid} ({path}) is missing or unreadable: {source}")]
    MissingObject {
        path: String,
        oid: String,
        source: git2::Error,
    },

    #[error("cannot write the {format} archive: {source}")]
    ArchiveOutput {
        format: String,
        source: std::io::Error,
    },

    #[error("{command} failed: {reason}")]
    GitCommand { command: String, reason: String },

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// A sentence telling the user how to get past this error, where one exists.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NotARepository { .. } => {
                Some("run git release inside a git repository, or pass -C <path>".into())
            }
            Error::RefNotSpecified { .. } => {
                Some("use --ref to say where to create the tag (a branch, tag or commit)".into())
            }
            Error::UnknownTag { tag } => Some(format!(
                "create the tag with `git tag {tag}`, or pass --ref to create it with the release"
            )),
            Error::ReleaseExists { tag } => Some(format!(
                "use `git release update {tag}` to change it, or `git release delete {tag}` first"
            )),
            Error::ReleaseBeingCreated { .. } => Some(
                "wait for the other process; if it was killed, its claim expires within a minute"
                    .into(),
            ),
            Error::ReleaseNotFound { .. } | Error::NoReleases => {
                Some("`git release list` shows the releases that exist".into())
            }
            Error::SchemaTooNew { .. } => Some("upgrade git-release".into()),
            Error::FileExists { .. } => Some("pass --force to overwrite it".into()),
            Error::ArchiveRevision { .. } => {
                Some("`git tag --list` shows the tags that exist".into())
            }
            Error::MissingObject { .. } => Some(
                "the repository lacks objects: fetch them again, and check it with `git fsck`"
                    .into(),
            ),
            Error::Contention { .. } => Some("try again; nothing was changed".into()),
            Error::TagExists { tag, .. } => Some(format!(
                "the release can use the existing tag: run without --ref, or delete it with `git tag -d {tag}`"
            )),
            _ => None,
        }
    }

    pub(crate) fn git(what: impl Into<String>, source: git2::Error) -> Self {
        Error::Git {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn invalid(
        what: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            location: location.into(),
            reason: reason.into(),
        }
    }
}
