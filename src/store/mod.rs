//! The release store in `refs/notes/releases` (docs/storage.md).
//!
//! - The release for tag `T` lives in the note on `T`'s peeled commit, in a JSON
//!   document holding every release on that commit (`document`).
//! - Project-wide data are non-note entries at the root of the notes tree, under
//!   non-hex names: `project.json`, and `index/<aa>/<sha256(tag)>` mapping each tag to
//!   the commit its release sits on (so a release is found after its tag moved, and a
//!   duplicate is refused).
//! - Every change is one commit on the ref, moved with compare-and-swap: an operation
//!   is a closure over a `Transaction` on a fresh snapshot, re-run when another writer
//!   got there first or holds the lock, within a time budget.

mod bookkeeping;
mod conflict;
mod deleted_tags;
mod docs;
mod document;
pub mod fanout;
mod flat;
mod health;
mod invariants;
pub mod layout;
pub(crate) mod merge;
pub mod merge_state;
#[cfg(test)]
mod merge_tests;
mod notes_ref;
mod pack_write;
mod project_data;
pub(crate) mod ref_write;
mod renumber;
mod repair;
pub(crate) mod retry;
pub mod three_way;
mod tree_edit;
#[cfg(test)]
mod write_tests;

use std::collections::BTreeMap;

use git2::{ErrorCode, Oid, Repository, Tree};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use conflict::{ConflictKind, Document, StoreConflict};
pub use deleted_tags::{DELETED_TAGS_DIR, DeletedTag};
pub use docs::MAX_DOCUMENT_BYTES;
pub use document::{NoteContent, NoteDoc, SCHEMA};
pub use health::{Inconsistency, check_store};
pub use merge::{MergeKind, MergeOutcome, merge_base};
pub use notes_ref::NOTES_REF;
pub use project_data::{PROJECT_PATH, PendingEvidence, ProjectData};
pub use repair::Repaired;

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::git::repo::Repo;
use crate::model::id_kind::MAX_ID;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::{IdKind, MilestoneFile};
use ref_write::Expected;
use retry::Attempt;
pub use retry::WRITE_TIMEOUT_VARIABLE;
use tree_edit::TreeEdits;

/// One read of the store: the notes commit and its tree, or nothing yet.
pub struct Snapshot<'r> {
    repo: &'r Repository,
    commit: Option<Oid>,
    tree: Option<Tree<'r>>,
}

/// Where the release of a tag is recorded, according to the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub tag: String,
    #[serde(with = "crate::model::oid")]
    pub commit: Oid,
}

impl<'r> Snapshot<'r> {
    pub fn read(repo: &'r Repository) -> Result<Self> {
        let reference = match repo.find_reference(NOTES_REF) {
            Ok(r) => r,
            Err(e) if e.code() == ErrorCode::NotFound => {
                return Ok(Snapshot {
                    repo,
                    commit: None,
                    tree: None,
                });
            }
            Err(e) => return Err(Error::git(format!("cannot read {NOTES_REF}"), e)),
        };
        let commit = reference
            .peel_to_commit()
            .map_err(|e| Error::corrupt_by(NOTES_REF, "does not point at a commit", e))?;
        let tree = commit
            .tree()
            .map_err(|e| Error::git(format!("cannot read the tree of {NOTES_REF}"), e))?;
        Ok(Snapshot {
            repo,
            commit: Some(commit.id()),
            tree: Some(tree),
        })
    }

    /// The store as of notes commit `commit` (e.g. a remote's, fetched).
    pub fn at(repo: &'r Repository, commit: Oid) -> Result<Self> {
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| Error::git(format!("cannot read notes commit {commit}"), e))?;
        Ok(Snapshot {
            repo,
            commit: Some(commit),
            tree: Some(tree),
        })
    }

    pub fn commit(&self) -> Option<Oid> {
        self.commit
    }

    /// The `tag_target` recorded for `tag`, found through the index.
    pub fn recorded_tag_target(&self, tag: &str) -> Result<Option<Oid>> {
        let Some(entry) = self.index_entry(tag)? else {
            return Ok(None);
        };
        let commit = entry.commit.to_string();
        match self.note(&commit)? {
            Some((NoteContent::Ours(doc), _)) => Ok(doc
                .get_value(tag)
                .and_then(|v| {
                    v.get("tag_target")
                        .and_then(|t| t.as_str())
                        .map(str::to_owned)
                })
                .and_then(|t| Oid::from_str(&t).ok())),
            _ => Ok(None),
        }
    }

    /// The note on `commit` (hex id), if any. Duplicates at two fanout levels (which
    /// git concatenates) are read from the first that holds our JSON.
    pub fn note(&self, commit: &str) -> Result<Option<(NoteContent, Vec<u8>)>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        let mut first = None;
        for (_, blob) in fanout::locate_note(self.repo, tree, commit)? {
            let bytes = self.blob(blob, &format!("the note on commit {commit}"))?;
            let content = NoteDoc::parse(&bytes, &note_location(commit))?;
            if matches!(content, NoteContent::Ours(_)) {
                return Ok(Some((content, bytes)));
            }
            first.get_or_insert((content, bytes));
        }
        Ok(first)
    }

    /// The notes and fanout directories at the root (`fanout::for_each_note_in` reads
    /// each), for reading the notes in parts.
    pub fn note_entries(&self) -> Vec<fanout::RootEntry> {
        self.tree
            .as_ref()
            .map(fanout::root_entries)
            .unwrap_or_default()
    }

    /// Calls `f(commit_hex, blob_id)` for every note, at any fanout.
    pub fn for_each_note(&self, f: &mut dyn FnMut(String, Oid)) -> Result<()> {
        match &self.tree {
            Some(tree) => fanout::for_each_note(self.repo, tree, f),
            None => Ok(()),
        }
    }

    pub fn blob(&self, id: Oid, what: &str) -> Result<Vec<u8>> {
        let blob = self
            .repo
            .find_blob(id)
            .map_err(|e| Error::git(format!("cannot read {what} (blob {id})"), e))?;
        Ok(blob.content().to_vec())
    }

    /// A non-note file of the store (`project.json`, `index/…`).
    pub fn file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        match tree.get_path(std::path::Path::new(path)) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => {
                Ok(Some(self.blob(entry.id(), path)?))
            }
            Ok(_) => Err(Error::corrupt(
                format!("{NOTES_REF}:{path}"),
                "expected a file, found a directory",
            )),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {NOTES_REF}:{path}"), e)),
        }
    }

    /// A JSON file of the store, decoded (a newer schema refused); `None` when absent.
    pub fn json_file<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let Some(bytes) = self.file(path)? else {
            return Ok(None);
        };
        decode_json(&bytes, path).map(Some)
    }

    /// `project.json`, or the defaults when there is none yet.
    pub fn project_data(&self) -> Result<ProjectData> {
        match self.file(PROJECT_PATH)? {
            Some(bytes) => ProjectData::parse(&bytes),
            None => Ok(ProjectData::default()),
        }
    }

    /// `milestones.json`, or no milestones when there is none yet.
    pub fn milestones(&self) -> Result<MilestoneFile> {
        let Some(bytes) = self.file(MILESTONES_PATH)? else {
            return Ok(MilestoneFile::default());
        };
        let location = format!("{NOTES_REF}:{MILESTONES_PATH}");
        document::check_schema(&bytes, &location)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::corrupt_by(location, "cannot decode it", e))
    }

    /// The blob id of a non-note file, without reading it; `None` when absent.
    pub fn file_id(&self, path: &str) -> Result<Option<Oid>> {
        let Some(tree) = &self.tree else {
            return Ok(None);
        };
        match tree.get_path(std::path::Path::new(path)) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Err(Error::corrupt(
                format!("{NOTES_REF}:{path}"),
                "expected a file, found a directory",
            )),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {NOTES_REF}:{path}"), e)),
        }
    }

    pub fn repository(&self) -> &'r Repository {
        self.repo
    }

    /// Every file under the directory `dir` of the notes tree (`packages`), with its
    /// blob, depth first; none when there is no such directory.
    pub fn files_under(&self, dir: &str) -> Result<Vec<(String, Oid)>> {
        let Some(tree) = &self.tree else {
            return Ok(Vec::new());
        };
        let entry = match tree.get_path(std::path::Path::new(dir)) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Tree) => entry,
            Ok(_) => return Ok(Vec::new()),
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::git(format!("cannot read {NOTES_REF}:{dir}"), e)),
        };
        let mut found = Vec::new();
        let mut pending = vec![(dir.to_owned(), entry.id())];
        while let Some((path, id)) = pending.pop() {
            let subtree = self
                .repo
                .find_tree(id)
                .map_err(|e| Error::git(format!("cannot read {NOTES_REF}:{path}"), e))?;
            for child in subtree.iter() {
                let Ok(name) = child.name() else { continue };
                let child_path = format!("{path}/{name}");
                match child.kind() {
                    Some(git2::ObjectType::Tree) => pending.push((child_path, child.id())),
                    Some(git2::ObjectType::Blob) => found.push((child_path, child.id())),
                    _ => {}
                }
            }
        }
        found.sort();
        Ok(found)
    }

    pub fn index_entry(&self, tag: &str) -> Result<Option<IndexEntry>> {
        let path = index_path(tag);
        let Some(bytes) = self.file(&path)? else {
            return Ok(None);
        };
        let entry: IndexEntry = serde_json::from_slice(&bytes)
            .map_err(|e| Error::corrupt_by(format!("{NOTES_REF}:{path}"), "cannot decode it", e))?;
        if entry.tag != tag {
            return Err(Error::corrupt(
                format!("{NOTES_REF}:{path}"),
                format!("index entry names tag {:?}, expected {tag:?}", entry.tag),
            ));
        }
        Ok(Some(entry))
    }
}

/// A JSON file of the store at `path`, decoded; one of a newer schema is refused: it
/// would be rewritten without what this version does not know.
fn decode_json<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T> {
    document::check_schema(bytes, &format!("{NOTES_REF}:{path}"))?;
    serde_json::from_slice(bytes)
        .map_err(|e| Error::corrupt_by(format!("{NOTES_REF}:{path}"), "cannot decode it", e))
}

pub fn note_location(commit: &str) -> String {
    format!("the note on commit {}", &commit[..commit.len().min(12)])
}

/// `index/<aa>/<sha256 of the tag name>`: tag names may hold `/` and any UTF-8, so
/// they are hashed into a fixed-width, fanned-out name.
pub fn index_path(tag: &str) -> String {
    let digest = sha256_hex(tag.as_bytes());
    format!("index/{}/{}", &digest[..2], digest)
}

/// Staged changes on top of one snapshot.
pub struct Transaction<'s, 'r> {
    snapshot: &'s Snapshot<'r>,
    /// Note documents loaded for writing, by commit, with the bytes they were read
    /// from (so an unchanged document is not rewritten).
    docs: BTreeMap<String, (NoteDoc, Option<Vec<u8>>)>,
    files: BTreeMap<String, Option<Vec<u8>>>,
    /// Files whose blob is already in the object database (large artifacts, written
    /// by streaming rather than held in memory).
    blobs: BTreeMap<String, Oid>,
}

impl<'s, 'r> Transaction<'s, 'r> {
    fn new(snapshot: &'s Snapshot<'r>) -> Self {
        Transaction {
            snapshot,
            docs: BTreeMap::new(),
            files: BTreeMap::new(),
            blobs: BTreeMap::new(),
        }
    }

    pub fn snapshot(&self) -> &Snapshot<'r> {
        self.snapshot
    }

    /// The document on `commit` for editing; an empty one when there is no note yet.
    /// A note git-release did not write is never overwritten.
    pub fn doc(&mut self, commit: &str) -> Result<&mut NoteDoc> {
        if !self.docs.contains_key(commit) {
            let loaded = match self.snapshot.note(commit)? {
                None => (NoteDoc::default(), None),
                Some((NoteContent::Ours(doc), bytes)) => (doc, Some(bytes)),
                Some((NoteContent::Foreign, _)) => {
                    return Err(Error::Refused {
                        action: format!("writing a release on commit {commit}"),
                        reason: format!(
                            "that commit already has a note in {NOTES_REF} that git-release did not write \
                             (see `git notes --ref=releases show {commit}`)"
                        ),
                    });
                }
            };
            self.docs.insert(commit.to_owned(), loaded);
        }
        Ok(&mut self.docs.get_mut(commit).expect("inserted above").0)
    }

    pub fn file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.files.get(path) {
            Some(staged) => Ok(staged.clone()),
            None => self.snapshot.file(path),
        }
    }

    pub fn put_file(&mut self, path: &str, bytes: Vec<u8>) {
        self.files.insert(path.to_owned(), Some(bytes));
    }

    /// Stages `path` as an existing blob of the object database.
    pub fn put_blob(&mut self, path: &str, blob: Oid) {
        self.files.remove(path);
        self.blobs.insert(path.to_owned(), blob);
    }

    pub fn remove_file(&mut self, path: &str) {
        self.files.insert(path.to_owned(), None);
    }

    /// A JSON file of the store (`milestones.json`, …), decoded; `None` when absent.
    /// One of a newer schema is refused: it would be rewritten without what this
    /// version does not know.
    pub fn json_file<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let Some(bytes) = self.file(path)? else {
            return Ok(None);
        };
        decode_json(&bytes, path).map(Some)
    }

    /// `project.json` as this transaction would write it.
    pub fn project_data(&self) -> Result<ProjectData> {
        match self.file(PROJECT_PATH)? {
            Some(bytes) => ProjectData::parse(&bytes),
            None => Ok(ProjectData::default()),
        }
    }

    /// `milestones.json` as this transaction would write it.
    pub fn milestones(&self) -> Result<MilestoneFile> {
        Ok(self.json_file(MILESTONES_PATH)?.unwrap_or_default())
    }

    /// Stages a JSON file, pretty-printed with a trailing newline like the notes.
    pub fn put_json_file(&mut self, path: &str, value: &impl Serialize) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::json(path, e))?;
        bytes.push(b'\n');
        self.put_file(path, bytes);
        Ok(())
    }

    /// The next id of `kind`, never reused: the counter in `project.json` is raised
    /// past `at_least_above`, the highest id in use.
    pub fn allocate_id(&mut self, kind: IdKind, at_least_above: u64) -> Result<u64> {
        let mut data = self.project_data()?;
        let id = data.next_id(kind, at_least_above).ok_or_else(|| {
            Error::corrupt(
                format!("{NOTES_REF}:{PROJECT_PATH}"),
                format!(
                    "the {kind} id counter is at its end (ids go up to {MAX_ID}); \
                     `git release doctor --repair` sets it back to the highest id in use"
                ),
            )
        })?;
        self.put_json_file(PROJECT_PATH, &data)?;
        Ok(id)
    }

    /// Hands out `wanted` as the id of `kind` when it was never handed out here (above
    /// the counter and `at_least_above`), else the next id: an import keeps the ids
    /// of the data it brings whenever that cannot clash.
    pub fn claim_id(&mut self, kind: IdKind, wanted: u64, at_least_above: u64) -> Result<u64> {
        if wanted > MAX_ID {
            return Err(Error::invalid(
                "id",
                wanted.to_string(),
                format!("{kind} ids go up to {MAX_ID} (2^53 − 1)"),
            ));
        }
        let data = self.project_data()?;
        let last = data.last_ids.get(kind.counter()).copied().unwrap_or(0);
        if wanted > last.max(at_least_above) {
            return self.allocate_id(kind, wanted - 1);
        }
        self.allocate_id(kind, at_least_above)
    }

    pub fn index_entry(&self, tag: &str) -> Result<Option<IndexEntry>> {
        match self.files.get(&index_path(tag)) {
            Some(None) => Ok(None),
            Some(Some(bytes)) => Ok(serde_json::from_slice(bytes).ok()),
            None => self.snapshot.index_entry(tag),
        }
    }

    pub fn set_index(&mut self, tag: &str, commit: Oid) {
        let entry = IndexEntry {
            tag: tag.to_owned(),
            commit,
        };
        let mut bytes = serde_json::to_vec(&entry).expect("index entries serialize");
        bytes.push(b'\n');
        self.put_file(&index_path(tag), bytes);
    }

    pub fn remove_index(&mut self, tag: &str) {
        self.remove_file(&index_path(tag));
    }

    /// Builds the new notes tree; `None` when nothing changed.
    fn build_tree(&self) -> Result<Option<Oid>> {
        let repo = self.snapshot.repo;
        let mut edits = TreeEdits::default();
        for (commit, (doc, original)) in &self.docs {
            let bytes = doc.to_bytes();
            if doc.is_empty() && original.is_none() || original.as_deref() == Some(&bytes[..]) {
                continue;
            }
            if let Some(tree) = &self.snapshot.tree {
                for (path, _) in fanout::locate_note(repo, tree, commit)? {
                    edits.remove(&path);
                }
            }
            if !doc.is_empty() {
                let blob = repo.blob(&bytes).map_err(|e| {
                    Error::git(format!("cannot write the note on commit {commit}"), e)
                })?;
                edits.put(&fanout::note_path(commit), blob);
            }
        }
        for (path, content) in &self.files {
            match content {
                Some(bytes) => {
                    let blob = repo
                        .blob(bytes)
                        .map_err(|e| Error::git(format!("cannot write {path}"), e))?;
                    edits.put(path, blob);
                }
                None => edits.remove(path),
            }
        }
        for (path, blob) in &self.blobs {
            edits.put(path, *blob);
        }
        if edits.is_empty() {
            return Ok(None);
        }
        let tree = edits.apply(repo, self.snapshot.tree.as_ref())?;
        Ok((Some(tree) != self.snapshot.tree.as_ref().map(Tree::id)).then_some(tree))
    }
}

/// Writes to the store. Holds the identity that signs the notes commits.
pub struct Store<'r> {
    repo: &'r Repo,
}

/// What a finished write did.
pub struct Written<R> {
    pub value: R,
    /// The new notes commit, `None` when the operation changed nothing.
    pub commit: Option<Oid>,
}

impl<'r> Store<'r> {
    pub fn new(repo: &'r Repo) -> Self {
        Store { repo }
    }

    pub fn snapshot(&self) -> Result<Snapshot<'r>> {
        Snapshot::read(self.repo.git())
    }

    /// Runs `op` on a fresh snapshot and commits what it staged as one commit with
    /// `message`, moving the ref only if nobody else moved it since the snapshot; on a
    /// lost race or a held lock, re-reads and re-runs `op`. An error from `op` aborts
    /// with nothing written.
    pub fn update<R>(
        &self,
        message: &str,
        op: impl FnMut(&mut Transaction<'_, '_>) -> Result<R>,
    ) -> Result<Written<R>> {
        self.update_then(message, op, |_, tree| Ok(tree))
    }

    /// As `update`, with `finish` turning the tree `op` staged into the one committed
    /// (given the snapshot it was staged on): a pass over the whole result, in the
    /// same commit. It runs again on every retry.
    pub fn update_then<R>(
        &self,
        message: &str,
        mut op: impl FnMut(&mut Transaction<'_, '_>) -> Result<R>,
        mut finish: impl FnMut(&Snapshot<'_>, Oid) -> Result<Oid>,
    ) -> Result<Written<R>> {
        let mut signer: Option<git2::Signature<'static>> = None;
        // New objects go to memory on a second handle and reach the disk as one pack
        // just before the ref moves (pack_write.rs); without one, they are written loose.
        let writer = pack_write::writer_for(self.repo.git());
        let writer_odb = writer.as_ref().and_then(|w| w.odb().ok());
        let mempack = writer_odb.as_ref().and_then(|odb| {
            odb.add_new_mempack_backend(pack_write::MEMPACK_PRIORITY)
                .ok()
        });
        let git = match (&writer, &mempack) {
            (Some(writer), Some(_)) => writer,
            _ => self.repo.git(),
        };
        retry::retry(self.repo, NOTES_REF, || {
            let snapshot = Snapshot::read(git)?;
            // A store of a newer schema is never written by this version.
            snapshot.project_data()?;
            let mut tx = Transaction::new(&snapshot);
            let value = op(&mut tx)?;
            let Some(tree) = tx.build_tree()? else {
                return Ok(Attempt::Done(Written {
                    value,
                    commit: None,
                }));
            };
            let tree = finish(&snapshot, tree)?;
            if signer.is_none() {
                signer = Some(Person::committer(self.repo)?.signature()?);
            }
            let who = signer.clone().expect("set above");
            let commit = write_commit(git, &snapshot, tree, message, &who)?;
            if let (Some(writer), Some(mempack)) = (&writer, &mempack) {
                let old_tree = snapshot.tree.as_ref().map(Tree::id);
                pack_write::flush(self.repo.git(), writer, mempack, old_tree, tree, commit)?;
            }
            crate::failpoint::reach(crate::failpoint::STORE_OBJECTS_WRITTEN);
            Ok(Attempt::Move {
                expected: Expected::read_as(snapshot.commit),
                new: commit,
                who,
                log: format!("git-release: {message}"),
                value: Written {
                    value,
                    commit: Some(commit),
                },
            })
        })
    }
}

fn write_commit(
    repo: &Repository,
    snapshot: &Snapshot<'_>,
    tree: Oid,
    message: &str,
    signer: &git2::Signature<'_>,
) -> Result<Oid> {
    let fail = |e| Error::git(format!("cannot write a commit on {NOTES_REF}"), e);
    let tree = repo.find_tree(tree).map_err(fail)?;
    let parent = match snapshot.commit {
        Some(id) => Some(repo.find_commit(id).map_err(fail)?),
        None => None,
    };
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(
        None,
        signer,
        signer,
        &format!("{message}\n"),
        &tree,
        &parents,
    )
    .map_err(fail)
}
