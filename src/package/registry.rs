//! The package documents of the store: reading them, and the changes an upload or a
//! delete stages in a store transaction (so that a release's links can be added in
//! the same commit as the files they point at).

use super::bytes::Stored;
use super::url::{PackageRef, PackageUrls};
use crate::error::{Error, Result};
use crate::model::package::{
    self, PACKAGES_DIR, PackageDoc, PackageFile, PackageFileName, PackageName, PackageStatus,
    PackageVersion,
};
use crate::model::{IdKind, Key};
use crate::store::{NoteContent, NoteDoc, Snapshot, Transaction, note_location};
use crate::time::Timestamp;

/// Every package of the store, by name then version.
pub fn all(snapshot: &Snapshot<'_>) -> Result<Vec<PackageDoc>> {
    let mut docs = Vec::new();
    for (path, _) in snapshot.files_under(PACKAGES_DIR)? {
        if let Some(doc) = read(snapshot, &path)? {
            docs.push(doc);
        }
    }
    docs.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(docs)
}

/// The document at `path`, checked to be the one its path names.
fn read(snapshot: &Snapshot<'_>, path: &str) -> Result<Option<PackageDoc>> {
    let Some(doc) = snapshot.json_file::<PackageDoc>(path)? else {
        return Ok(None);
    };
    if package::doc_path(&doc.name, &doc.version) != path {
        return Err(Error::corrupt(
            format!("{}:{path}", crate::store::NOTES_REF),
            format!(
                "it describes package {} {}, whose document is elsewhere",
                doc.name, doc.version
            ),
        ));
    }
    Ok(Some(doc))
}

pub fn get(
    snapshot: &Snapshot<'_>,
    name: &PackageName,
    version: &PackageVersion,
) -> Result<Option<PackageDoc>> {
    read(
        snapshot,
        &package::doc_path(name.as_str(), version.as_str()),
    )
}

/// The package with GitLab id `id`.
pub fn by_id(snapshot: &Snapshot<'_>, id: u64) -> Result<Option<PackageDoc>> {
    Ok(all(snapshot)?.into_iter().find(|p| p.id == id))
}

/// Whether a release links to the package file `name`/`version`/`file_name` (its
/// URL is this project's package URL for it): the tag of the first such release.
pub fn linked_from(
    snapshot: &Snapshot<'_>,
    urls: &PackageUrls,
    name: &PackageName,
    version: &PackageVersion,
    file_name: &PackageFileName,
) -> Result<Option<String>> {
    let mut notes = Vec::new();
    snapshot.for_each_note(&mut |hex, blob| notes.push((hex, blob)))?;
    for (hex, blob) in notes {
        let location = note_location(&hex);
        let bytes = snapshot.blob(blob, &location)?;
        let NoteContent::Ours(doc) = NoteDoc::parse(&bytes, &location)? else {
            continue;
        };
        for (tag, release) in doc.records(&location) {
            let Ok(release) = release else { continue };
            // A link to one upload by its id (`…/-/package_files/<id>/download`) keeps
            // naming that upload whatever is uploaded after it: it is not replaced.
            let names_it = release.links.iter().any(|link| {
                matches!(
                    urls.parse(&link.url),
                    Some(PackageRef::Generic { name: n, version: v, file_name: f })
                        if n == *name && v == *version && f == *file_name
                )
            });
            if names_it {
                return Ok(Some(tag.to_owned()));
            }
        }
    }
    Ok(None)
}

/// A file about to be recorded.
pub struct NewFile<'a> {
    pub name: &'a PackageName,
    pub version: &'a PackageVersion,
    pub file_name: &'a PackageFileName,
    pub key: Key,
    pub stored: &'a Stored,
    pub created_at: Timestamp,
    /// The package's status from now on; `None` keeps it.
    pub status: Option<PackageStatus>,
}

/// Records an uploaded file in its package (made when it is the first), unless a
/// release links to a file of that name there already: a released file is never
/// replaced (GitLab's "Duplicate package is not allowed"). Otherwise a file name
/// uploaded again is added beside the earlier ones, and is the one downloaded.
pub fn record(
    tx: &mut Transaction<'_, '_>,
    urls: &PackageUrls,
    new: &NewFile<'_>,
) -> Result<(PackageDoc, PackageFile)> {
    let path = package::doc_path(new.name.as_str(), new.version.as_str());
    let existing: Option<PackageDoc> = tx.json_file(&path)?;
    if existing
        .as_ref()
        .is_some_and(|doc| doc.newest(new.file_name.as_str()).is_some())
    {
        if let Some(tag) = linked_from(tx.snapshot(), urls, new.name, new.version, new.file_name)? {
            return Err(Error::PackageDuplicate {
                name: new.name.to_string(),
                version: new.version.to_string(),
                file: new.file_name.to_string(),
                tag,
            });
        }
    }
    let mut doc = match existing {
        Some(doc) => doc,
        None => PackageDoc {
            schema: 1,
            name: new.name.to_string(),
            version: new.version.to_string(),
            id: tx.allocate_id(IdKind::Package, 0)?,
            status: PackageStatus::Default,
            files: Vec::new(),
            extra: Default::default(),
        },
    };
    let highest = doc.files.iter().map(|f| f.id).max().unwrap_or(0);
    let digests = &new.stored.digests;
    let file = PackageFile {
        key: new.key,
        id: tx.allocate_id(IdKind::PackageFile, highest)?,
        file_name: new.file_name.to_string(),
        size: digests.size,
        file_sha256: digests.sha256.clone(),
        file_sha1: Some(digests.sha1.clone()),
        file_md5: Some(digests.md5.clone()),
        created_at: new.created_at,
        location: new.stored.location.clone(),
        extra: Default::default(),
    };
    doc.files.push(file.clone());
    if let Some(status) = new.status {
        doc.status = status;
    }
    tx.put_json_file(&path, &doc)?;
    Ok((doc, file))
}

/// Removes a whole package from the store; returns it as it was.
pub fn remove(
    tx: &mut Transaction<'_, '_>,
    name: &PackageName,
    version: &PackageVersion,
) -> Result<PackageDoc> {
    let path = package::doc_path(name.as_str(), version.as_str());
    let doc: PackageDoc = tx.json_file(&path)?.ok_or_else(|| Error::PackageNotFound {
        name: name.to_string(),
        version: version.to_string(),
    })?;
    tx.remove_file(&path);
    Ok(doc)
}

/// Removes the files of a package that `which` selects (the package goes with its
/// last file); returns them.
pub fn remove_files(
    tx: &mut Transaction<'_, '_>,
    name: &PackageName,
    version: &PackageVersion,
    which: &dyn Fn(&PackageFile) -> bool,
) -> Result<Vec<PackageFile>> {
    let path = package::doc_path(name.as_str(), version.as_str());
    let mut doc: PackageDoc = tx.json_file(&path)?.ok_or_else(|| Error::PackageNotFound {
        name: name.to_string(),
        version: version.to_string(),
    })?;
    let (removed, kept): (Vec<_>, Vec<_>) = doc.files.drain(..).partition(|f| which(f));
    doc.files = kept;
    if doc.files.is_empty() {
        tx.remove_file(&path);
    } else {
        tx.put_json_file(&path, &doc)?;
    }
    Ok(removed)
}

/// Whether any file recorded in `snapshot` keeps its bytes at `location`.
pub fn location_in_use(snapshot: &Snapshot<'_>, location: &package::Location) -> Result<bool> {
    Ok(all(snapshot)?
        .iter()
        .flat_map(|p| &p.files)
        .any(|f| f.location == *location))
}
