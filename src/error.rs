//! The one error type of the library. Every variant names the thing that failed (tag,
//! ref, file, commit) and why; `hint()` says what the user can do about it.

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
    Corrupt { location: String, reason: String },

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

    #[error("{0}")]
    Other(String),
}

impl Error {
    /// A sentence telling the user how to get past this error, where one exists.
    pub fn hint(&self) -> Option<String> {
        // Commands in hints are pasted into a shell: every name in them is quoted.
        let q = crate::text::shell_quote;
        match self {
            Error::NotARepository { .. } => {
                Some("run git release inside a git repository, or pass -C <path>".into())
            }
            Error::RefNotSpecified { .. } => {
                Some("use --ref to say where to create the tag (a branch, tag or commit)".into())
            }
            Error::UnknownTag { tag } => Some(format!(
                "create the tag with `git tag {}`, or pass --ref to create it with the release",
                q(tag)
            )),
            Error::ReleaseExists { tag } => Some(format!(
                "use `git release update {0}` to change it, or `git release delete {0}` first",
                q(tag)
            )),
            Error::ReleaseBeingCreated { .. } => Some(
                "wait for the other process; if it was killed, its claim expires within a minute"
                    .into(),
            ),
            Error::ReleaseNotFound { .. } | Error::NoReleases => {
                Some("`git release list` shows the releases that exist".into())
            }
            Error::PackageNotFound { .. } | Error::PackageFileNotFound { .. } => {
                Some("`git release package list` shows the packages that exist".into())
            }
            Error::PackageNotFetched { .. } => Some(
                "`git release fetch --packages` brings every package of the remote".into(),
            ),
            Error::PackageDuplicate { name, version, .. } => Some(format!(
                "upload it as a new version, or delete the old one first with \
                 `git release package delete {} {}`",
                q(name),
                q(version)
            )),
            Error::MilestoneNotFound { .. } => {
                Some("`git release milestone list` shows the milestones that exist".into())
            }
            Error::MilestoneExists { title } => Some(format!(
                "milestone titles are unique: pick another title or use `git release milestone update {}`",
                q(title)
            )),
            Error::NoCommits { .. } => Some(
                "make a first commit (`git commit`), then create the release on it".into(),
            ),
            Error::IssueNotFound { milestone, .. } => Some(format!(
                "`git release milestone view {}` lists its issues with their ids",
                q(milestone)
            )),
            Error::IssueExists { milestone, id, .. } => Some(format!(
                "change that one with `git release milestone issue update {} {id}`",
                q(milestone)
            )),
            Error::FreezeNotFound { .. } => {
                Some("`git release freeze list` shows the freeze periods and their ids".into())
            }
            Error::InvalidCron { .. } => Some(
                "use 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 23 * * fri\""
                    .into(),
            ),
            Error::UnknownTimeZone { .. } => Some(
                "use an IANA time zone name such as UTC, Europe/Berlin or America/New_York".into(),
            ),
            Error::SchemaTooNew { location, .. } if location.contains(" fetched from ") => Some(
                "upgrade git-release to take in that remote's releases; nothing was changed here"
                    .into(),
            ),
            Error::SchemaTooNew { .. } => Some(
                "upgrade git-release: this version never rewrites what it cannot read".into(),
            ),
            Error::Corrupt { location, .. } if location.contains(" fetched from ") => Some(
                "the remote's release store is damaged; nothing was changed here (`git release doctor` in a clone that pushed it says how to repair it)"
                    .into(),
            ),
            Error::Corrupt { location, .. } if location.starts_with("refs/notes/releases") || location.starts_with("the note on commit") || location.starts_with("release ") => Some(
                "`git release doctor` says what is wrong and which command repairs it".into(),
            ),
            Error::FileExists { .. } => Some("pass --force to overwrite it".into()),
            Error::LinkNotFound { tag, .. } => Some(format!(
                "`git release link list {}` shows the links with their ids and names",
                q(tag)
            )),
            Error::AssetNotFound { known, .. } if known.is_empty() => {
                Some("this release has no asset links".into())
            }
            Error::AssetNotFound { known, .. } => Some(format!("known: {}", known.join(", "))),
            Error::DuplicateLink { .. } => {
                Some("names, URLs and direct asset paths must be unique within a release".into())
            }
            Error::DigestMismatch { .. } => Some(
                "the asset changed since its digest was recorded; if that is expected, record the new one with `git release link update --sha256`".into(),
            ),
            Error::ArchiveRevision { .. } => {
                Some("`git tag --list` shows the tags that exist".into())
            }
            Error::MissingObject { .. } => Some(
                "the repository lacks objects: fetch them again, and check it with `git fsck`"
                    .into(),
            ),
            Error::EvidenceNotDue { .. } => Some(
                "`git release evidence collect --due` (run by every write command) collects it when released_at has passed"
                    .into(),
            ),
            Error::EvidenceNotFound { tag, .. } => Some(format!(
                "`git release evidence list {0}` shows its snapshots; `git release evidence collect {0}` takes one",
                q(tag)
            )),
            Error::Contention {
                lock: Some(lock), ..
            } => Some(format!(
                "if no git or git-release process is running in this repository, {} was left \
                 by one that died: remove it and try again; nothing was changed \
                 (GIT_RELEASE_WRITE_TIMEOUT sets how many seconds to keep trying)",
                lock.display()
            )),
            Error::Contention { .. } => Some(
                "try again; nothing was changed (GIT_RELEASE_WRITE_TIMEOUT sets how many seconds to keep trying)"
                    .into(),
            ),
            Error::StaleLock { path } => Some(format!(
                "if no git or git-release process is running in this repository, remove {} and try again",
                path.display()
            )),
            Error::CorruptMergeState { reference, .. } => Some(format!(
                "to abandon the recorded merge and keep the local values, delete it with \
                 `git update-ref -d {}`, then fetch again",
                q(reference)
            )),
            Error::UnresolvedMerge { .. } => Some(
                "settle them first: `git release fetch --theirs` takes the remote's values, \
                 `git release fetch --ours` keeps yours, `git release resolve <tag> --ours|--theirs` \
                 settles one release; `git release status` lists them"
                    .into(),
            ),
            Error::TagsMoved { example, .. } => Some(format!(
                "`git release retag {0} --restore` moves the tag back to its release, \
                 `git release retag {0} --follow` moves the release to the tag",
                q(example)
            )),
            Error::PushRefused { message, .. } if message.contains("cannot lock ref") => Some(
                "a git process on the remote holds the ref's lock, or one died there and left \
                 its .lock file: once none runs, remove the file there and push again"
                    .into(),
            ),
            Error::AtomicPushUnsupported { remote, .. } => Some(format!(
                "`git release push --no-atomic {}` pushes the tags first and the notes \
                 after; should the notes be refused, the tags stay on {remote} without their \
                 releases (plain tags) until the next push",
                q(remote)
            )),
            Error::NoConflict { .. } => {
                Some("`git release status` lists the unresolved conflicts".into())
            }
            Error::TagExists { tag, .. } => Some(format!(
                "the release can use the existing tag: run without --ref, or delete it with `git tag -d {}`",
                q(tag)
            )),
            Error::Template { .. } => Some(
                "fix the template, or remove it to use the built-in one".into(),
            ),
            Error::EvidenceUnsigned { tag, .. } => Some(format!(
                "`git release evidence collect {} --sign` takes a signed snapshot",
                q(tag)
            )),
            Error::SigningProgram { setting, .. } => Some(format!(
                "install it, or set {setting} to the program to run (as git does)"
            )),
            Error::EvidenceSigning { .. } => Some(
                "nothing was created; pass --no-sign to leave the evidence unsigned, or fix the key \
                 (user.signingKey, gpg.format; `git tag -s` tries it)"
                    .into(),
            ),
            Error::Signing { .. } => Some(
                "nothing was created; check the key with `git tag -s` (set user.signingKey, gpg.format)"
                    .into(),
            ),
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
