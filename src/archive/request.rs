//! What the archive writers are asked for and what they report: the types of
//! `archive::write_archives`, apart from the module root so that the pipeline that
//! fills them does not depend on the root that calls it.

use std::io::Write;

use super::{Format, Mode};

/// What to archive and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// A tag name (looked up under refs/tags first) or any commit-ish.
    pub rev: &'a str,
    /// Prepended to every path; with a trailing `/` it is also a directory entry.
    pub prefix: &'a str,
    pub mode: Mode,
    /// Also compute the SHA-256 of the uncompressed tar, whatever formats are written.
    pub tar_digest: bool,
    /// Compute each output's SHA-256 (`Written::sha256`, left empty when not asked:
    /// hashing is a tenth of a tar's CPU, wasted when nobody reads the digest).
    pub digests: bool,
    /// Only this directory or file of the tree (with the directories leading to it),
    /// as `git archive <commit> -- <path>`; `None`: the whole tree.
    pub path: Option<&'a str>,
}

/// Where one format's bytes go.
pub struct Output<'a> {
    pub format: Format,
    pub sink: Box<dyn Write + Send + 'a>,
}

/// One format's bytes as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub format: Format,
    /// Lowercase hex SHA-256 of the bytes written (empty unless `Request::digests`).
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// The archived commit (a tag is peeled).
    pub commit: String,
    /// The archive time: the commit's committer time.
    pub time: i64,
    pub outputs: Vec<Written>,
    /// SHA-256 and size of the uncompressed tar, when asked for.
    pub tar: Option<Written>,
    /// Things the user should know (an LFS object that was not present, …).
    pub warnings: Vec<String>,
    /// export-subst files whose placeholders depend on refs (`%d`, `%D`,
    /// `%(describe…)`): the archive changes when refs change, so a digest recorded
    /// earlier cannot prove or disprove anything about it.
    pub ref_dependent: Vec<String>,
    /// Files whose Git LFS object is not in this clone (the pointer was archived
    /// instead): the archive differs from one made where the object is present.
    pub lfs_missing: Vec<String>,
}

/// Told how far the archive has got; called on the caller's thread.
pub trait Progress {
    /// The number of entries the archive will have, once the tree has been walked.
    fn start(&self, _entries: u64) {}
    /// Entries and content bytes read so far.
    fn update(&self, _entries: u64, _bytes: u64) {}
}

/// Progress that reports nothing.
pub struct Silent;

impl Progress for Silent {}
