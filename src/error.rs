//! The one error type of the library. Every variant names the thing that failed (tag,
//! ref, file, commit) and why, and keeps the error that caused it as its `source`.
//! What a user can do about an error is the command line's to say (`src/cli/hint.rs`):
//! the library serves HTTP clients too, for whom command-line flags mean nothing.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kept a compare-and-swap writer from moving a ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obstacle {
    /// Other writers moved the ref between each read and write.
    Moved,
    /// Another writer kept holding the ref's lock.
    Locked,
}

impl std::fmt::Display for Obstacle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Obstacle::Moved => "other writers kept changing it",
            Obstacle::Locked => "another writer kept holding its lock",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository (or any parent up to the mount point): {}", path.display())]
    NotARepository { path: PathBuf, source: git2::Error },

    #[error("{} is a SHA-256 repository, which git-release does not support yet", path.display())]
    Sha256Unsupported { path: PathBuf },

    #[error("invalid tag name {name:?}: {reason}")]
    InvalidTagName { name: String, reason: String },

    #[error("tag {tag:?} does not exist and the ref is not specified")]
    RefNotSpecified { tag: String },

    #[error("cannot resolve ref {reference:?}: the repository has no commits yet")]
    NoCommits { reference: String },

    #[error("cannot use {reference:?} as the ref: {reason}")]
    UnknownRef { reference: String, reason: String },

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

    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{} already exists", path.display())]
    FileExists { path: PathBuf },

    #[error("corrupt release data in {location}: {reason}")]
    Corrupt {
        location: String,
        reason: String,
        /// The parser's or git's own error, when one said what is wrong.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A configuration file (protected tags, serve's tokens) that is not understood.
    #[error("{location}{}: {reason}", line.map(|n| format!(", line {n}")).unwrap_or_default())]
    InvalidFile {
        location: String,
        line: Option<usize>,
        reason: String,
    },

    #[error(
        "{location} uses schema version {found}, but this git-release knows only up to {known}"
    )]
    SchemaTooNew {
        location: String,
        found: u64,
        known: u64,
    },

    #[error("could not update {reference}: {obstacle} for {seconds}s ({attempts} attempts)")]
    Contention {
        reference: String,
        /// What stopped the last attempt.
        obstacle: Obstacle,
        /// The lock file, when a held lock stopped it.
        lock: Option<PathBuf>,
        attempts: u32,
        seconds: u64,
    },

    #[error("milestone {title:?} not found")]
    MilestoneNotFound { title: String },

    #[error("milestone {title:?} already exists")]
    MilestoneExists { title: String },

    /// GitLab refuses a milestone of an ancestor group on a release ("only milestones
    /// associated with the project's group may be specified").
    #[error(
        "milestone {title:?} belongs to group {group:?}, an ancestor of the project's group: \
         only milestones of the project's own group may be named"
    )]
    AncestorGroupMilestone { title: String, group: String },

    /// A group milestone was asked for where the group's repository cannot be found.
    #[error("no group repository for {what}: {reason}")]
    NoGroupRepository { what: String, reason: String },

    #[error("milestone {milestone:?} has no issue #{id}")]
    IssueNotFound { milestone: String, id: u64 },

    #[error("milestone {milestone:?} already has an issue titled {title:?} (#{id})")]
    IssueExists {
        milestone: String,
        title: String,
        id: u64,
    },

    #[error("freeze period {id} not found")]
    FreezeNotFound { id: u64 },

    #[error("invalid cron expression {expression:?} for {field}: {reason}")]
    InvalidCron {
        field: &'static str,
        expression: String,
        reason: String,
    },

    #[error("unknown time zone {zone:?}")]
    UnknownTimeZone { zone: String },

    #[error("{} exists: another process is writing, or one died while writing", path.display())]
    StaleLock { path: PathBuf },

    #[error("{action} refused: {reason}")]
    Refused { action: String, reason: String },

    #[error("{what}: {}", source.message())]
    Git { what: String, source: git2::Error },

    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },

    #[error("invalid link {link}: {reason}")]
    InvalidLink { link: String, reason: String },

    #[error("release {tag:?} already has a link with the {field} {value:?} (link {other:?})")]
    DuplicateLink {
        tag: String,
        field: &'static str,
        value: String,
        other: String,
    },

    #[error("release {tag:?} has no link {link:?}")]
    LinkNotFound { tag: String, link: String },

    #[error("release {tag:?} has no asset {asset:?}")]
    AssetNotFound {
        tag: String,
        asset: String,
        /// What the release does have, for the hint.
        known: Vec<String>,
    },

    // The URL is a record's (anyone's): shown escaped, so it cannot forge a line.
    #[error(
        "cannot download link {link:?} from {}: {reason}",
        crate::text::terminal(url)
    )]
    Download {
        link: String,
        url: String,
        reason: String,
    },

    #[error(
        "link {link:?} downloaded from {} has SHA-256 {actual}, but {expected} is recorded; nothing was written",
        crate::text::terminal(url)
    )]
    DigestMismatch {
        link: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("cannot archive {rev:?}: {reason}")]
    ArchiveRevision { rev: String, reason: String },

    #[error("cannot archive {path:?}: {reason}")]
    ArchiveTree { path: String, reason: String },

    #[error("path {path:?} did not match any files of the tree")]
    ArchivePath { path: String },

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

    #[error(
        "release {tag:?} is upcoming (released at {released_at}): its evidence is collected once it is released"
    )]
    EvidenceNotDue { tag: String, released_at: String },

    #[error(
        "release {tag:?} has no evidence yet: it is upcoming, and its snapshot is taken \
         automatically once its release date ({released_at}) has passed"
    )]
    EvidenceNotYet { tag: String, released_at: String },

    #[error("release {tag:?} has no evidence{}", sha.as_ref().map(|s| format!(" whose sha starts with {s}")).unwrap_or_default())]
    EvidenceNotFound { tag: String, sha: Option<String> },

    #[error("evidence {sha} of release {tag:?} is not signed")]
    EvidenceUnsigned { tag: String, sha: String },

    #[error("{command} failed: {reason}")]
    GitCommand { command: String, reason: String },

    #[error("template {file}{}: {reason}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Template {
        file: String,
        line: Option<usize>,
        reason: String,
    },

    #[error("the recorded merge state {reference} is unreadable: {reason}")]
    CorruptMergeState { reference: String, reason: String },

    #[error("{action} refused: {count} unresolved conflict(s) from merging releases:\n  {list}")]
    UnresolvedMerge {
        action: String,
        count: usize,
        list: String,
    },

    #[error("{action} refused: the release store breaks {count} of its rules:\n  {list}")]
    StoreBroken {
        action: String,
        count: usize,
        list: String,
    },

    #[error(
        "{action} refused: {count} release tag(s) moved since their release was made:\n  {list}"
    )]
    TagsMoved {
        action: String,
        count: usize,
        list: String,
        /// A tag to show in the hint.
        example: String,
    },

    #[error("{remote} refused the push{}:\n{message}", if refs.is_empty() { String::new() } else { format!(" ({refs})") })]
    PushRefused {
        remote: String,
        /// The refs refused, with git's reason.
        refs: String,
        /// git's own message (the remote's `remote:` lines included).
        message: String,
    },

    #[error("{remote} does not take atomic pushes:\n{message}")]
    AtomicPushUnsupported { remote: String, message: String },

    #[error("{subject:?} has no unresolved conflict{}", if known.is_empty() { String::new() } else { format!(" (unresolved: {})", known.join(", ")) })]
    NoConflict { subject: String, known: Vec<String> },

    #[error("cannot sign with {key}: {reason}")]
    Signing { key: String, reason: String },

    #[error("cannot sign the evidence with {key}: {reason}")]
    EvidenceSigning { key: String, reason: String },

    #[error("cannot run {program} (from {setting}): {source}")]
    SigningProgram {
        program: String,
        setting: &'static str,
        source: std::io::Error,
    },

    #[error("bad git configuration: {reason}")]
    Config { reason: String },

    #[error("package {name} {version} not found")]
    PackageNotFound { name: String, version: String },

    #[error("no package file has id {id}")]
    PackageFileIdNotFound { id: u64 },

    #[error("package {name} {version} has no file {file:?}")]
    PackageFileNotFound {
        name: String,
        version: String,
        file: String,
    },

    #[error(
        "the package file is larger than {limit} bytes, the most one may be \
         (git config release.packageMaxSize)"
    )]
    PackageTooLarge { limit: u64 },

    #[error(
        "Duplicate package is not allowed: {file:?} of package {name} {version} is linked \
         from release {tag}, and a released file is never replaced"
    )]
    PackageDuplicate {
        name: String,
        version: String,
        file: String,
        tag: String,
    },

    #[error("package file {file:?} of {name} {version} is not here: {location} was not fetched")]
    PackageNotFetched {
        name: String,
        version: String,
        file: String,
        location: String,
    },

    #[error("package file {file:?} of {name} {version} is missing: {reason}")]
    PackageMissing {
        name: String,
        version: String,
        file: String,
        reason: String,
    },

    #[error(
        "package file {file:?} of {name} {version} has SHA-256 {actual}, but {expected} is recorded"
    )]
    PackageDigestMismatch {
        name: String,
        version: String,
        file: String,
        expected: String,
        actual: String,
    },

    /// S3-compatible storage refused or failed a request.
    #[error("{what}")]
    PackageStorage {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("cannot encode {what} as JSON")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// What failed for one project of a root (`site --root`), naming it.
    #[error("{project}: {source}")]
    InProject {
        project: String,
        #[source]
        source: Box<Error>,
    },

    #[error("cannot write the Atom feed")]
    Feed {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error(
        "your identity is unknown: neither user.name and user.email nor GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL (or EMAIL) are set"
    )]
    UnknownIdentity,

    /// A thread of the tool's own stopped before its work was done (a bug, or the
    /// process is going down).
    #[error("{what} stopped unexpectedly")]
    Worker { what: &'static str },
}

impl Error {
    /// The texts of the errors beneath this one (its `source()` chain), leaving out
    /// each that the message, or a cause above it, already contains: many messages
    /// name their immediate cause inline ("cannot read x: No such file or directory").
    pub fn causes(&self) -> Vec<String> {
        let mut said = self.to_string();
        let mut causes = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !said.contains(&text) {
                said.push('\n');
                said.push_str(&text);
                causes.push(text);
            }
            next = cause.source();
        }
        causes
    }

    /// The message followed by its causes, on one line (for logs and reports that are
    /// not a terminal's error output).
    pub fn with_causes(&self) -> String {
        let mut text = self.to_string();
        for cause in self.causes() {
            text.push_str(": ");
            text.push_str(&cause);
        }
        text
    }

    pub(crate) fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            what: what.into(),
            source,
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
            source: None,
        }
    }

    /// Corrupt data that `source` (a parser, git) failed on.
    pub(crate) fn corrupt_by(
        location: impl Into<String>,
        reason: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Corrupt {
            location: location.into(),
            reason: reason.into(),
            source: Some(source.into()),
        }
    }
}
