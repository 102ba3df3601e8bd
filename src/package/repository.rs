//! Package bytes kept in the repository: each distinct content of a package file is a
//! commit under `refs/release-packages/<name>/<version>/<sha256>` whose tree holds the
//! bytes in numbered blobs of at most 16 MiB (`00000000`, `00000001`, …).
//!
//! Why chunks, rather than one blob: git streams a blob it stores whole, but one it
//! stored as a delta (as `git gc` may, between two versions of a binary) is rebuilt in
//! memory, and libgit2 inflates every object whole; a chunk never holds more than
//! 16 MiB, whatever the file's size and however git packs it. It also keeps every
//! object below the 100 MB some git hosts refuse. Chunks are read through
//! `git cat-file --batch` (see `ChunkReader` for why).
//!
//! The commit is made with a fixed identity and date, so the same bytes make the same
//! commit in every clone: the refs are content-addressed and never conflict when
//! clones push them.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout};

use git2::{ErrorCode, ObjectType, Oid, Repository};

use super::digests::{self, Digests, Hashing};
use super::refname;
use crate::error::{Error, Result};
use crate::git::{Repo, cat_file};
use crate::model::package::{PackageName, PackageVersion};

/// The most bytes one chunk blob holds.
pub const CHUNK_SIZE: usize = 16 << 20;

/// Bytes written into the repository.
#[derive(Debug, Clone)]
pub struct Written {
    pub reference: String,
    pub commit: Oid,
    pub digests: Digests,
}

/// Writes what `source` brings (at most `limit` bytes) as chunk blobs, their tree and
/// commit, and points the package file's ref at it. Nothing refers to the objects
/// until the ref is made, last: a failure leaves only unreferenced objects, which
/// `git gc` removes.
pub fn write(
    repo: &Repo,
    name: &PackageName,
    version: &PackageVersion,
    source: &mut dyn Read,
    limit: Option<u64>,
) -> Result<Written> {
    let git = repo.git();
    let fail = |what: &str, e: git2::Error| {
        Error::git(format!("cannot store the package file: {what}"), e)
    };
    let mut hashing = Hashing::new(source, limit);
    let mut buffer = vec![0u8; CHUNK_SIZE];
    let mut builder = git.treebuilder(None).map_err(|e| fail("tree", e))?;
    let mut index = 0usize;
    loop {
        let n = digests::read_full(&mut hashing, &mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        let blob = git.blob(&buffer[..n]).map_err(|e| fail("chunk blob", e))?;
        builder
            .insert(chunk_name(index), blob, 0o100644)
            .map_err(|e| fail("tree", e))?;
        index += 1;
        if n < CHUNK_SIZE {
            break;
        }
    }
    drop(buffer);
    let tree = builder.write().map_err(|e| fail("tree", e))?;
    let digests = hashing.finish();
    let commit = commit_for(git, tree, &digests)?;
    let reference = refname::file_ref(name, version, &digests.sha256);
    git.reference(&reference, commit, true, "git-release: package upload")
        .map_err(|e| fail(&reference, e))?;
    Ok(Written {
        reference,
        commit,
        digests,
    })
}

/// A read failure of the upload: too large, or the source itself failing.
pub(crate) fn read_error(e: io::Error) -> Error {
    match digests::is_too_large(&e) {
        Some(limit) => Error::PackageTooLarge { limit },
        None => Error::io("cannot read the package file being uploaded", e),
    }
}

fn chunk_name(index: usize) -> String {
    format!("{index:08}")
}

/// The commit holding `tree`, the same in every clone for the same bytes.
fn commit_for(git: &Repository, tree: Oid, digests: &Digests) -> Result<Oid> {
    let fail = |e| Error::git("cannot store the package file: commit", e);
    let who = git2::Signature::new(
        "git-release",
        "git-release@localhost",
        &git2::Time::new(0, 0),
    )
    .map_err(fail)?;
    let tree = git.find_tree(tree).map_err(fail)?;
    let message = format!(
        "package file {}\n\n{} bytes in chunks of at most {} bytes\n",
        digests.sha256, digests.size, CHUNK_SIZE
    );
    git.commit(None, &who, &who, &message, &tree, &[])
        .map_err(fail)
}

/// Whether the ref of a package file is here.
pub fn is_here(git: &Repository, reference: &str) -> bool {
    git.refname_to_id(reference).is_ok()
}

/// The bytes behind `reference`, as a reader that streams one chunk at a time; `None`
/// when the ref is not here (the package was not fetched). Objects that are missing
/// or a tree that is not a package file's are errors.
pub fn open(git_dir: &Path, reference: &str) -> Result<Option<ChunkReader>> {
    let git = Repository::open(git_dir)
        .map_err(|e| Error::git(format!("cannot open {}", git_dir.display()), e))?;
    let commit = match git.refname_to_id(reference) {
        Ok(id) => id,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(Error::git(format!("cannot read {reference}"), e)),
    };
    let corrupt = |reason: String| Error::corrupt(reference, reason);
    let tree = git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| {
            corrupt(format!(
                "its commit {commit} cannot be read: {}",
                e.message()
            ))
        })?;
    let mut chunks = Vec::with_capacity(tree.len());
    for (index, entry) in tree.iter().enumerate() {
        let name = entry.name().unwrap_or_default();
        if name != chunk_name(index) || entry.kind() != Some(ObjectType::Blob) {
            return Err(corrupt(format!(
                "its tree holds {name:?} where chunk {} was expected",
                chunk_name(index)
            )));
        }
        chunks.push(entry.id());
    }
    Ok(Some(ChunkReader {
        git: GitBlobs::start(git_dir)?,
        reference: reference.to_owned(),
        chunks,
        next: 0,
        left: 0,
        failed: false,
    }))
}

/// Reads a package file chunk by chunk, each streamed through `git cat-file --batch`.
///
/// Why git, not libgit2, for the reading: libgit2 inflates a whole object into memory
/// and keeps the pack windows it touched mapped (up to 64 MiB here), so a packed
/// download held a chunk twice plus those windows, about 130 MiB. git streams a blob
/// that is stored whole, packed or loose, through a small buffer, so this process only
/// ever holds what one `read` asks for. A chunk git stored as a delta is rebuilt in
/// git's memory, never more than one chunk (16 MiB) and its base.
pub struct ChunkReader {
    git: GitBlobs,
    reference: String,
    chunks: Vec<Oid>,
    next: usize,
    /// Bytes of the current chunk still to come from git.
    left: u64,
    /// Set by an error: git's output is then out of step, and nothing more is read.
    failed: bool,
}

impl ChunkReader {
    /// Asks git for the next chunk and reads its header; `false` after the last one.
    fn start_next_chunk(&mut self) -> io::Result<bool> {
        let Some(&id) = self.chunks.get(self.next) else {
            return Ok(false);
        };
        let index = self.next;
        self.next += 1;
        let size = self.git.request(id).map_err(|reason| {
            io::Error::other(format!(
                "chunk {index} ({id}) of {} is missing or unreadable: {reason}",
                self.reference
            ))
        })?;
        // A chunk is never larger than CHUNK_SIZE; a bigger blob (from somebody else's
        // clone) is refused before any of it is read.
        if size > CHUNK_SIZE as u64 {
            return Err(io::Error::other(format!(
                "chunk {index} ({id}) of {} holds {size} bytes, more than a chunk may \
                 ({CHUNK_SIZE})",
                self.reference
            )));
        }
        self.left = size;
        Ok(true)
    }

    fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.left == 0 {
            if !self.start_next_chunk()? {
                return Ok(0);
            }
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.git.stdout.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "git cat-file ended {} bytes before the end of chunk {} of {}",
                    self.left,
                    self.next - 1,
                    self.reference
                ),
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            self.git.end_of_object()?;
        }
        Ok(n)
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failed {
            return Err(io::Error::other(format!(
                "reading {} already failed",
                self.reference
            )));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let read = self.read_some(buf);
        self.failed = read.is_err();
        read
    }
}

/// One `git cat-file --batch`, asked for one blob at a time (asking for all at once
/// could fill both pipes and stall: the ids of a 100 GiB file fill more than a pipe).
struct GitBlobs {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl GitBlobs {
    fn start(git_dir: &Path) -> Result<GitBlobs> {
        // A stream read front to back needs only a small pack window at a time.
        let memory = cat_file::Memory {
            pack_window: "1m",
            pack_limit: "8m",
            delta_cache: "16m",
        };
        let batch = cat_file::start(git_dir, &memory, false)?;
        Ok(GitBlobs {
            child: batch.child,
            stdin: Some(batch.stdin),
            stdout: BufReader::with_capacity(64 << 10, batch.stdout),
        })
    }

    /// Asks for blob `id`; its size, once git has answered with its header.
    fn request(&mut self, id: Oid) -> std::result::Result<u64, String> {
        let stdin = self.stdin.as_mut().ok_or("git cat-file was closed")?;
        stdin
            .write_all(format!("{id}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("git cat-file: {e}"))?;
        let mut header = String::new();
        self.stdout
            .read_line(&mut header)
            .map_err(|e| format!("git cat-file: {e}"))?;
        let header = header.trim_end();
        if header.is_empty() {
            return Err("git cat-file stopped answering".into());
        }
        let asked = id.to_string();
        let mut fields = header.split(' ');
        match (fields.next(), fields.next(), fields.next()) {
            (Some(got), Some("blob"), Some(size)) if got == asked => size
                .parse()
                .map_err(|_| format!("git cat-file answered {header:?}")),
            (_, Some("missing"), _) => Err("missing".into()),
            _ => Err(format!("git cat-file answered {header:?}")),
        }
    }

    /// Reads the newline git writes after an object's bytes.
    fn end_of_object(&mut self) -> io::Result<()> {
        let mut newline = [0u8; 1];
        self.stdout.read_exact(&mut newline)?;
        if newline != *b"\n" {
            return Err(io::Error::other("git cat-file's answer is out of step"));
        }
        Ok(())
    }
}

impl Drop for GitBlobs {
    fn drop(&mut self) {
        // Closing its input ends git once it has answered; a reader dropped halfway
        // (a client that went away) must not leave git blocked writing to the pipe.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Deletes the ref of a package file (its objects go with the next `git gc`).
pub fn remove(git: &Repository, reference: &str) -> Result<()> {
    match git.find_reference(reference) {
        Ok(mut r) => r
            .delete()
            .map_err(|e| Error::git(format!("cannot delete {reference}"), e)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(()),
        Err(e) => Err(Error::git(format!("cannot read {reference}"), e)),
    }
}
