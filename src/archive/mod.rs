//! Source archives byte-identical to `git archive` (zip, tar.gz, tar.bz2, tar), made by
//! one walk of the tree that reads each blob once and feeds every requested writer.
//!
//! Threads: the caller's thread walks the tree and reads blobs (git2 objects stay on
//! it); a tar thread builds the tar stream and hands it in chunks to one thread per
//! compressor; a zip thread writes the zip. Queued entries are bounded by bytes, so
//! memory stays flat whatever the size of the archive.

mod attributes;
mod bz2;
mod convert;
mod entry;
mod files;
mod lfs;
mod objects;
mod pipeline;
mod request;
mod settings;
mod subst;
mod tar;
mod walk;
mod zip;

use std::io::Write;

pub use files::{WrittenFile, base_name, file_name, path_in, write_checksums, write_files};
pub use request::{Output, Progress, Report, Request, Silent, Written};
pub use settings::Mode;
/// git's integers (`1k`, `0x10`, `2g`), as `git config --type=int` reads them.
pub(crate) use settings::parse_int as parse_git_int;

use crate::error::{Error, Result};
use crate::git::repo::Repo;

/// An archive format (the model's type; `Format` inside the archive writers).
pub use crate::model::ArchiveFormat as Format;

/// Checks that `path` names something the archive of `rev` would hold (git's "did not
/// match any files"), walking the trees only: a server checks it before it starts to
/// stream the archive.
pub fn check_path(repo: &Repo, rev: &str, path: &str) -> Result<()> {
    let commit = resolve(repo, rev)?;
    let tree = commit
        .tree()
        .map_err(|e| objects::read_error(b"", commit.tree_id(), e))?;
    let plan = walk::plan(repo.git(), &tree, &settings::Settings::canonical())?;
    walk::restrict(plan, path).map(drop)
}

/// The commit a tag name (or any commit-ish) names. Only a name that is not there is
/// "no such tag or commit"; a tag whose target cannot be read, an ambiguous name or a
/// repository error says so, with git's own message.
pub fn resolve<'r>(repo: &'r Repo, rev: &str) -> Result<git2::Commit<'r>> {
    let git = repo.git();
    let fail = |reason: String| Error::ArchiveRevision {
        rev: rev.to_owned(),
        reason,
    };
    let object = match git.find_reference(&format!("refs/tags/{rev}")) {
        Ok(reference) => reference.peel(git2::ObjectType::Any).map_err(|e| {
            fail(format!(
                "refs/tags/{rev} exists, but the object it points at cannot be read: {}",
                e.message()
            ))
        })?,
        Err(e) if is_absent(&e) => git.revparse_single(rev).map_err(|e| match e.code() {
            _ if is_absent(&e) => fail("no such tag or commit".into()),
            git2::ErrorCode::Ambiguous => fail(format!("ambiguous: {}", e.message())),
            _ => fail(format!("cannot look it up: {}", e.message())),
        })?,
        Err(e) => {
            return Err(fail(format!(
                "cannot read refs/tags/{rev}: {}",
                e.message()
            )));
        }
    };
    // An annotated tag named by revparse: what it finally points at.
    let object = if object.kind() == Some(git2::ObjectType::Tag) {
        object.peel(git2::ObjectType::Any).map_err(|e| {
            fail(format!(
                "the object tag {} points at cannot be read: {}",
                object.id(),
                e.message()
            ))
        })?
    } else {
        object
    };
    let kind = object.kind();
    object.peel_to_commit().map_err(|e| match kind {
        Some(git2::ObjectType::Commit) | None => fail(format!(
            "cannot read the commit it names ({}): {}",
            object.id(),
            e.message()
        )),
        Some(kind) => fail(format!("it names a {}, not a commit", kind.str())),
    })
}

/// A git2 error that means "there is no such name", as opposed to a failure to read.
fn is_absent(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec
    )
}

/// Streams each requested format into its sink. Returns each format's SHA-256.
pub fn write_archives(
    repo: &Repo,
    request: &Request<'_>,
    outputs: Vec<Output<'_>>,
    progress: &dyn Progress,
) -> Result<Report> {
    // Whoever chose the prefix (a command line, a fetched evidence record), every
    // entry stays inside the directory the archive is extracted in.
    crate::model::paths::check_prefix(request.prefix)
        .map_err(|reason| Error::invalid("archive prefix", request.prefix, reason))?;
    let commit = resolve(repo, request.rev)?;
    pipeline::run(repo, &commit, request, outputs, progress)
}

/// The SHA-256 of each format's bytes and of the uncompressed tar, without writing
/// anything: what evidence records and `verify --archives` compares.
pub fn digests(
    repo: &Repo,
    rev: &str,
    prefix: &str,
    mode: Mode,
    formats: &[Format],
) -> Result<Report> {
    let outputs = formats
        .iter()
        .map(|&format| Output {
            format,
            sink: Box::new(std::io::sink()) as Box<dyn Write + Send>,
        })
        .collect();
    let request = Request {
        rev,
        prefix,
        mode,
        tar_digest: true,
        digests: true,
        path: None,
    };
    write_archives(repo, &request, outputs, &Silent)
}
