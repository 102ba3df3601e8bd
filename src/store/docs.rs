//! The documents of a notes tree decoded into the model types, for the passes that
//! look at the whole store at once (a merge's result, `doctor`): release records by
//! commit and tag, `project.json`, `milestones.json`, `freezes.json`, the package
//! documents under `packages/`. The model types
//! keep the fields they do not know (`extra`), so a pass that rewrites a document
//! keeps a newer writer's data. Only the documents a pass changed are written back.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Oid, Repository};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::document::{NoteContent, NoteDoc, check_schema};
use super::flat::{Flat, INDEX_DIR};
use super::project_data::{PROJECT_PATH, ProjectData};
use super::{IndexEntry, NOTES_REF, note_location};
use crate::error::{Error, Result};
use crate::model::freeze::FREEZES_PATH;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::package::{PACKAGES_DIR, PackageDoc};
use crate::model::{FreezeFile, MilestoneFile, Release};

/// The largest document a merge or a check reads: a note holds every release on one
/// commit, each description up to a million characters. A bigger blob is refused
/// rather than read (a hostile remote's 150 MB blob would cost twice that to merge).
pub const MAX_DOCUMENT_BYTES: usize = 32 << 20;

/// The release records of one note, decoded.
#[derive(Debug, Clone)]
pub(crate) struct Note {
    /// The note as read (its top-level fields beside `releases` are kept).
    doc: NoteDoc,
    pub releases: BTreeMap<String, Release>,
}

/// A document of the store, as passes name what they changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Place {
    Note(String),
    Project,
    Milestones,
    Freezes,
    /// A package document, by its path.
    Package(String),
}

/// A document that could not be decoded, and why.
#[derive(Debug)]
pub(crate) struct Unreadable {
    /// Where it is: a note (`the note on commit …`) or a file path.
    pub location: String,
    pub place: Place,
    pub error: Error,
}

#[derive(Debug, Default)]
pub(crate) struct Docs {
    pub notes: BTreeMap<String, Note>,
    pub project: Option<ProjectData>,
    pub milestones: Option<MilestoneFile>,
    pub freezes: Option<FreezeFile>,
    /// Package documents by path (`packages/<aa>/<sha256>.json`).
    pub packages: BTreeMap<String, PackageDoc>,
    /// Documents a pass changed (written back by `store`).
    dirty: BTreeSet<Place>,
    /// Documents that are there but could not be decoded (left as they are).
    pub unreadable: Vec<Unreadable>,
    /// Commits whose note is not ours (not JSON of git-release): left as they are, and
    /// whatever release the index places there cannot be read.
    pub foreign: BTreeSet<String>,
}

impl Docs {
    /// Decodes every note and project file of `flat`. A document that cannot be
    /// decoded (bad JSON, a newer schema, a record missing a field) is listed in
    /// `unreadable` instead: a merge refuses to go on, a check reports it. Notes that
    /// are not ours (somebody's `git notes add`) are left out.
    pub fn load(repo: &Repository, flat: &Flat) -> Result<Docs> {
        let mut docs = Docs::default();
        for (hex, id) in &flat.notes {
            let location = note_location(hex);
            let place = Place::Note(hex.clone());
            let bytes = match read_bounded(repo, *id, &location) {
                Ok(bytes) => bytes,
                Err(error) => {
                    docs.unreadable.push(Unreadable {
                        location,
                        place,
                        error,
                    });
                    continue;
                }
            };
            match decode_note(&bytes, &location) {
                Ok(Some(note)) => {
                    docs.notes.insert(hex.clone(), note);
                }
                Ok(None) => {
                    docs.foreign.insert(hex.clone());
                }
                Err(error) => docs.unreadable.push(Unreadable {
                    location,
                    place,
                    error,
                }),
            }
        }
        docs.project = docs.load_file(repo, flat, PROJECT_PATH, Place::Project, |b| {
            ProjectData::parse(b)
        });
        docs.milestones = docs.load_file(repo, flat, MILESTONES_PATH, Place::Milestones, |b| {
            decode_file(b, MILESTONES_PATH)
        });
        docs.freezes = docs.load_file(repo, flat, FREEZES_PATH, Place::Freezes, |b| {
            decode_file(b, FREEZES_PATH)
        });
        let package_paths = flat
            .files
            .keys()
            .filter(|p| is_package_path(p))
            .cloned()
            .collect::<Vec<_>>();
        for path in package_paths {
            let place = Place::Package(path.clone());
            if let Some(doc) = docs.load_file(repo, flat, &path, place, |b| decode_file(b, &path)) {
                docs.packages.insert(path, doc);
            }
        }
        Ok(docs)
    }

    fn load_file<T>(
        &mut self,
        repo: &Repository,
        flat: &Flat,
        path: &str,
        place: Place,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Option<T> {
        let id = flat.files.get(path)?;
        let location = format!("{NOTES_REF}:{path}");
        match read_bounded(repo, *id, &location).and_then(|bytes| decode(&bytes)) {
            Ok(value) => Some(value),
            Err(error) => {
                self.unreadable.push(Unreadable {
                    location,
                    place,
                    error,
                });
                None
            }
        }
    }

    /// Fails with the first document that could not be decoded: a pass that would
    /// rewrite the store must not go on without it (it could not keep it intact).
    pub fn require_readable(&mut self) -> Result<()> {
        match self.unreadable.is_empty() {
            true => Ok(()),
            false => Err(self.unreadable.remove(0).error),
        }
    }

    pub fn mark(&mut self, place: Place) {
        self.dirty.insert(place);
    }

    /// Whether a pass changed a document since it was loaded.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Every (tag, commit hex) with a record.
    pub fn records(&self) -> impl Iterator<Item = (&str, &str, &Release)> {
        self.notes.iter().flat_map(|(hex, note)| {
            note.releases
                .iter()
                .map(move |(tag, r)| (tag.as_str(), hex.as_str(), r))
        })
    }

    pub fn release(&self, hex: &str, tag: &str) -> Option<&Release> {
        self.notes.get(hex)?.releases.get(tag)
    }

    pub fn remove_release(&mut self, hex: &str, tag: &str) -> Option<Release> {
        let removed = self.notes.get_mut(hex)?.releases.remove(tag)?;
        self.mark(Place::Note(hex.to_owned()));
        Some(removed)
    }

    /// `project.json`, created with the defaults when absent.
    pub fn project_mut(&mut self) -> &mut ProjectData {
        self.project.get_or_insert_with(ProjectData::default)
    }

    /// Writes the changed documents back into `flat` (an emptied note disappears),
    /// through `write_blob`.
    pub fn store(&self, flat: &mut Flat, write_blob: &dyn Fn(&[u8]) -> Result<Oid>) -> Result<()> {
        for place in &self.dirty {
            match place {
                Place::Note(hex) => {
                    let Some(note) = self.notes.get(hex) else {
                        continue;
                    };
                    if note.releases.is_empty() && note.doc.has_no_extra() {
                        flat.notes.remove(hex);
                    } else {
                        flat.notes
                            .insert(hex.clone(), write_blob(&note.to_bytes())?);
                    }
                }
                Place::Project => store_file(flat, PROJECT_PATH, &self.project, write_blob)?,
                Place::Milestones => {
                    store_file(flat, MILESTONES_PATH, &self.milestones, write_blob)?
                }
                Place::Freezes => store_file(flat, FREEZES_PATH, &self.freezes, write_blob)?,
                Place::Package(path) => {
                    store_file(flat, path, &self.packages.get(path), write_blob)?
                }
            }
        }
        Ok(())
    }
}

impl Note {
    /// The note's bytes with its records as they are now.
    fn to_bytes(&self) -> Vec<u8> {
        let mut doc = self.doc.clone();
        let stale: Vec<String> = doc
            .tags()
            .filter(|t| !self.releases.contains_key(*t))
            .map(str::to_owned)
            .collect();
        for tag in stale {
            doc.remove(&tag);
        }
        for (tag, release) in &self.releases {
            doc.set(tag, release);
        }
        doc.to_bytes()
    }
}

fn store_file<T: Serialize>(
    flat: &mut Flat,
    path: &str,
    value: &Option<T>,
    write_blob: &dyn Fn(&[u8]) -> Result<Oid>,
) -> Result<()> {
    match value {
        Some(value) => {
            flat.files
                .insert(path.to_owned(), write_blob(&json_bytes(value))?);
        }
        None => {
            flat.files.remove(path);
        }
    }
    Ok(())
}

/// Pretty-printed with a trailing newline, as every JSON file of the store.
pub(crate) fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("store documents serialize");
    bytes.push(b'\n');
    bytes
}

/// Whether `bytes` decode as the document at `place` (readable, of a known schema).
pub(crate) fn decode_check(place: &Place, bytes: &[u8]) -> Result<()> {
    match place {
        Place::Note(hex) => decode_note(bytes, &note_location(hex)).map(drop),
        Place::Project => ProjectData::parse(bytes).map(drop),
        Place::Milestones => decode_file::<MilestoneFile>(bytes, MILESTONES_PATH).map(drop),
        Place::Freezes => decode_file::<FreezeFile>(bytes, FREEZES_PATH).map(drop),
        Place::Package(path) => decode_file::<PackageDoc>(bytes, path).map(drop),
    }
}

/// Whether `path` is a package document of the layout (`packages/<aa>/<sha256>.json`).
pub(crate) fn is_package_path(path: &str) -> bool {
    path.starts_with(PACKAGES_DIR)
        && path[PACKAGES_DIR.len()..].starts_with('/')
        && super::layout::is_known_file(path)
}

/// A note's records, decoded; `None` for a note that is not ours.
fn decode_note(bytes: &[u8], location: &str) -> Result<Option<Note>> {
    let doc = match NoteDoc::parse(bytes, location)? {
        NoteContent::Ours(doc) => doc,
        NoteContent::Foreign => return Ok(None),
    };
    let mut releases = BTreeMap::new();
    for (tag, record) in doc.records(location) {
        releases.insert(tag.to_owned(), record?);
    }
    Ok(Some(Note { doc, releases }))
}

/// A project file (`milestones.json`, `freezes.json`): refused when its `schema` is
/// newer than this version knows, else decoded.
fn decode_file<T: DeserializeOwned>(bytes: &[u8], path: &str) -> Result<T> {
    let location = format!("{NOTES_REF}:{path}");
    check_schema(bytes, &location)?;
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt_by(location, "cannot decode it", e))
}

/// The blob `id`, refused without being read when it is larger than any document
/// the store writes.
pub(crate) fn read_bounded(repo: &Repository, id: Oid, location: &str) -> Result<Vec<u8>> {
    let odb = repo
        .odb()
        .map_err(|e| Error::git("cannot open the object database", e))?;
    let (size, _) = odb
        .read_header(id)
        .map_err(|e| Error::git(format!("cannot read {location} (blob {id})"), e))?;
    if size > MAX_DOCUMENT_BYTES {
        return Err(Error::corrupt(
            location,
            format!(
                "blob {id} holds {size} bytes, more than any document of the store \
                 ({MAX_DOCUMENT_BYTES} bytes at most); it was not read"
            ),
        ));
    }
    let blob = repo
        .find_blob(id)
        .map_err(|e| Error::git(format!("cannot read {location} (blob {id})"), e))?;
    Ok(blob.content().to_vec())
}

/// Writes `bytes` as a blob of the store.
pub(crate) fn write_blob(repo: &Repository, bytes: &[u8]) -> Result<Oid> {
    repo.blob(bytes)
        .map_err(|e| Error::git(format!("cannot write a blob of {NOTES_REF}"), e))
}

impl Docs {
    /// The index the notes imply: `index/…` for every record, at the commit it sits
    /// on; replaces whatever `flat` held under `index/`. Entries equal to `ours` keep
    /// their blob; the others are written.
    pub(crate) fn derive_index(
        &self,
        repo: &Repository,
        ours: &Flat,
        flat: &mut Flat,
    ) -> Result<()> {
        flat.files.retain(|p, _| !p.starts_with(INDEX_DIR));
        for (hex, note) in &self.notes {
            for tag in note.releases.keys() {
                let (path, bytes) = index_blob(tag, hex);
                let id = Oid::hash_object(ObjectType::Blob, &bytes)
                    .map_err(|e| Error::git("cannot hash an index entry", e))?;
                let id = if ours.files.get(&path) == Some(&id) {
                    id
                } else {
                    repo.blob(&bytes)
                        .map_err(|e| Error::git(format!("cannot write {path}"), e))?
                };
                flat.files.insert(path, id);
            }
        }
        Ok(())
    }
}

/// Path and bytes of the index entry of `tag`, as `Transaction::set_index` writes it.
pub(crate) fn index_blob(tag: &str, commit: &str) -> (String, Vec<u8>) {
    let entry = IndexEntry {
        tag: tag.to_owned(),
        commit: Oid::from_str(commit).unwrap_or(Oid::ZERO_SHA1),
    };
    let mut bytes = serde_json::to_vec(&entry).expect("index entries serialize");
    bytes.push(b'\n');
    (super::index_path(tag), bytes)
}
