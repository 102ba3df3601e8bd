//! Package bytes kept in the repository: each distinct content of a package file is a
//! commit under `refs/release-packages/<name>/<version>/<sha256>` whose tree holds the
//! bytes in numbered blobs of at most 16 MiB (`00000000`, `00000001`, …).
//!
//! Why chunks, rather than one blob read through `git cat-file --batch`: libgit2
//! streams the writing of a blob but not the reading of a packed one (it inflates and
//! applies deltas in memory), so a 1 GiB blob would sit whole in memory on every
//! download; a chunk never holds more than 16 MiB, whatever the file's size and however
//! git packs it. It keeps every object below the 100 MB some git hosts refuse, and
//! needs no second process. The commit is made with a fixed identity and date, so the
//! same bytes make the same commit in every clone: the refs are content-addressed and
//! never conflict when clones push them.

use std::io::{self, Read};
use std::path::Path;

use git2::{ErrorCode, ObjectType, Oid, Repository};

use super::digests::{self, Digests, Hashing};
use super::refname;
use crate::error::{Error, Result};
use crate::git::Repo;
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

/// The bytes behind `reference`, as a reader that holds one chunk at a time; `None`
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
    drop(tree);
    Ok(Some(ChunkReader {
        git,
        reference: reference.to_owned(),
        chunks,
        next: 0,
        current: Vec::new(),
        position: 0,
    }))
}

/// Reads a package file chunk by chunk.
pub struct ChunkReader {
    git: Repository,
    reference: String,
    chunks: Vec<Oid>,
    next: usize,
    current: Vec<u8>,
    position: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            let Some(&id) = self.chunks.get(self.next) else {
                return Ok(0);
            };
            self.next += 1;
            // The old chunk goes before the next is loaded: one at a time in memory.
            self.current = Vec::new();
            let unreadable = |e: git2::Error| {
                io::Error::other(format!(
                    "chunk {} ({id}) of {} is missing or unreadable: {}",
                    self.next - 1,
                    self.reference,
                    e.message()
                ))
            };
            // A chunk is never larger than CHUNK_SIZE; a bigger blob (from somebody
            // else's clone) is refused before it is read into memory.
            let (size, _) = self
                .git
                .odb()
                .and_then(|odb| odb.read_header(id))
                .map_err(unreadable)?;
            if size > CHUNK_SIZE {
                return Err(io::Error::other(format!(
                    "chunk {} ({id}) of {} holds {size} bytes, more than a chunk may \
                     ({CHUNK_SIZE})",
                    self.next - 1,
                    self.reference
                )));
            }
            let blob = self.git.find_blob(id).map_err(unreadable)?;
            self.current = blob.content().to_vec();
            self.position = 0;
        }
        let n = buf.len().min(self.current.len() - self.position);
        buf[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
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
