//! Release packages: GitLab's generic package registry without a server. The store
//! records each package (name and version) and its files — name, size, SHA-256 (and
//! the SHA-1 and MD5 GitLab reports), where the bytes are — in `packages/…` of the
//! notes tree (`registry`); the bytes themselves are in the repository under refs of
//! their own (`repository`, `refname`), or in S3-compatible storage (`s3`), as
//! `release.packageStore` says (`config`). Nothing here speaks HTTP: `serve` puts
//! GitLab's API over these functions.
//!
//! Uploads stream (a 1 GiB file never sits in memory), downloads stream and are
//! checked against the recorded SHA-256, and a link whose URL is this project's
//! package URL (`url`) resolves to these files offline.

pub mod bytes;
pub mod config;
pub mod digests;
pub mod migrate;
pub mod refname;
pub mod registry;
pub mod remote;
pub mod repository;
pub mod s3;
pub mod url;

use std::io::{Read, Write};

pub use bytes::Opened;
pub use url::{PackageRef, PackageUrls};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::package::{
    Location, PackageDoc, PackageFile, PackageFileName, PackageName, PackageStatus, PackageVersion,
};
use crate::model::{Key, Link};
use crate::store::{Snapshot, Store};
use crate::time::Timestamp;
use digests::Hashing;

/// A file uploaded and recorded: its package as written, and the file.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub package: PackageDoc,
    pub file: PackageFile,
}

/// Where a file goes and what it is called.
pub struct Upload<'a> {
    pub name: &'a PackageName,
    pub version: &'a PackageVersion,
    pub file_name: &'a PackageFileName,
    /// The package's status after the upload (`?status=` of GitLab's API); `None`
    /// leaves it as it is (`default` for a new package).
    pub status: Option<PackageStatus>,
}

/// Stores the bytes `source` brings (at most `limit`) where `release.packageStore`
/// says, then records the file in its package, in one commit of the store. A file
/// name a release links to is never replaced (`Error::PackageDuplicate`); a refused
/// or failed upload records nothing and leaves no bytes behind that nothing refers to.
pub fn upload(
    repo: &Repo,
    urls: &PackageUrls,
    upload: &Upload<'_>,
    source: &mut dyn Read,
    limit: Option<u64>,
) -> Result<Uploaded> {
    let stored = store_bytes(repo, upload, source, limit)?;
    let key = stored.1;
    let stored = stored.0;
    let message = format!(
        "package upload {} {} {}",
        upload.name, upload.version, upload.file_name
    );
    let now = Timestamp::now()?;
    let written = Store::new(repo).update(&message, |tx| {
        registry::record(
            tx,
            urls,
            &registry::NewFile {
                name: upload.name,
                version: upload.version,
                file_name: upload.file_name,
                key,
                stored: &stored,
                created_at: now,
                status: upload.status,
            },
        )
    });
    match written {
        Ok(written) => Ok(Uploaded {
            package: written.value.0,
            file: written.value.1,
        }),
        Err(error) => {
            discard(repo, &stored.location);
            Err(error)
        }
    }
}

/// The first half of an upload: the bytes stored, not yet recorded (a command that
/// records them with other changes, such as a release's links, does the second half
/// in its own store transaction with `registry::record`). Returns them with the key
/// the new file is to have.
pub fn store_bytes(
    repo: &Repo,
    upload: &Upload<'_>,
    source: &mut dyn Read,
    limit: Option<u64>,
) -> Result<(bytes::Stored, Key)> {
    let target = config::target(repo)?;
    let key = Key::random();
    let stored = bytes::put(
        repo,
        &target,
        upload.name,
        upload.version,
        upload.file_name,
        key,
        source,
        limit,
    )?;
    Ok((stored, key))
}

/// Removes bytes stored for a record that was not made, unless a record uses them
/// (the same content uploaded before keeps the same ref).
pub fn discard(repo: &Repo, location: &Location) {
    let in_use = Snapshot::read(repo.git())
        .and_then(|s| registry::location_in_use(&s, location))
        .unwrap_or(true);
    if !in_use {
        let _ = bytes::remove(repo, location);
    }
}

/// Every package of the repository, or those named `name`.
pub fn list(repo: &Repo, name: Option<&PackageName>) -> Result<Vec<PackageDoc>> {
    let snapshot = Snapshot::read(repo.git())?;
    let mut all = registry::all(&snapshot)?;
    if let Some(name) = name {
        all.retain(|p| p.name == name.as_str());
    }
    Ok(all)
}

/// One package.
pub fn find(repo: &Repo, name: &PackageName, version: &PackageVersion) -> Result<PackageDoc> {
    registry::get(&Snapshot::read(repo.git())?, name, version)?.ok_or_else(|| {
        Error::PackageNotFound {
            name: name.to_string(),
            version: version.to_string(),
        }
    })
}

/// The file `file_name` of `package` as it is downloaded: the newest upload of that
/// name.
pub fn file_named<'p>(package: &'p PackageDoc, file_name: &str) -> Result<&'p PackageFile> {
    package
        .newest(file_name)
        .ok_or_else(|| Error::PackageFileNotFound {
            name: package.name.clone(),
            version: package.version.clone(),
            file: file_name.to_owned(),
        })
}

/// The bytes of `file`, as a stream; an error when they are not here (not fetched)
/// or gone.
pub fn open(repo: &Repo, package: &PackageDoc, file: &PackageFile) -> Result<Box<dyn Read + Send>> {
    match bytes::open(repo, &file.location)? {
        Opened::Here(reader) => Ok(reader),
        Opened::NotFetched => Err(Error::PackageNotFetched {
            name: package.name.clone(),
            version: package.version.clone(),
            file: file.file_name.clone(),
            location: file.location.to_string(),
        }),
        Opened::Missing(reason) => Err(Error::PackageMissing {
            name: package.name.clone(),
            version: package.version.clone(),
            file: file.file_name.clone(),
            reason,
        }),
    }
}

/// Copies `reader` (the bytes of `file`) into `sink`, checking them against the
/// recorded size and SHA-256 as they pass: a stream that brings more than recorded
/// stops there; one whose digest differs is an error once it ends (what was written
/// to `sink` must then be thrown away by the caller). Returns the bytes copied.
pub fn copy_checked(
    reader: &mut dyn Read,
    sink: &mut dyn Write,
    package: &PackageDoc,
    file: &PackageFile,
) -> Result<u64> {
    let mut hashing = Hashing::new(reader, Some(file.size));
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = match hashing.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if digests::is_too_large(&e).is_some() => {
                return Err(mismatch(package, file, "more bytes than recorded".into()));
            }
            Err(e) => {
                return Err(Error::PackageMissing {
                    name: package.name.clone(),
                    version: package.version.clone(),
                    file: file.file_name.clone(),
                    reason: e.to_string(),
                });
            }
        };
        sink.write_all(&buffer[..n])
            .map_err(|e| Error::io("cannot write the package file", e))?;
    }
    let digests = hashing.finish();
    if digests.sha256 != file.file_sha256 || digests.size != file.size {
        return Err(mismatch(package, file, digests.sha256));
    }
    Ok(digests.size)
}

fn mismatch(package: &PackageDoc, file: &PackageFile, actual: String) -> Error {
    Error::PackageDigestMismatch {
        name: package.name.clone(),
        version: package.version.clone(),
        file: file.file_name.clone(),
        expected: file.file_sha256.clone(),
        actual,
    }
}

/// How a package file stands here, for `verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// Here, and its bytes hash to the recorded SHA-256.
    Matches,
    /// Its ref was not fetched into this clone (a notice, not a failure).
    NotFetched,
    /// Where it should be there is nothing, or its objects are gone.
    Missing(String),
    /// Here, with other bytes.
    Different(String),
    /// The storage could not be asked (S3 unreachable, no credentials).
    Unchecked(String),
}

/// Reads `file` whole (streamed) and compares it with its record.
pub fn check(repo: &Repo, package: &PackageDoc, file: &PackageFile) -> FileState {
    let mut reader = match bytes::open(repo, &file.location) {
        Ok(Opened::Here(reader)) => reader,
        Ok(Opened::NotFetched) => return FileState::NotFetched,
        Ok(Opened::Missing(reason)) => return FileState::Missing(reason),
        Err(Error::Corrupt { reason, .. }) => return FileState::Missing(reason),
        Err(error) => return FileState::Unchecked(error.to_string()),
    };
    match copy_checked(&mut reader, &mut std::io::sink(), package, file) {
        Ok(_) => FileState::Matches,
        Err(Error::PackageDigestMismatch { actual, .. }) => FileState::Different(actual),
        Err(Error::PackageMissing { reason, .. }) => FileState::Missing(reason),
        Err(error) => FileState::Unchecked(error.to_string()),
    }
}

/// Deletes the package `name` `version` (with `file_name`, only the uploads of that
/// file name; the package goes with its last file), then the bytes no record uses
/// any more. Returns the package as it was and the files removed.
pub fn delete(
    repo: &Repo,
    name: &PackageName,
    version: &PackageVersion,
    file_name: Option<&PackageFileName>,
) -> Result<(PackageDoc, Vec<PackageFile>)> {
    let package = find(repo, name, version)?;
    if let Some(file) = file_name {
        file_named(&package, file.as_str())?;
    }
    let message = match file_name {
        Some(file) => format!("package delete {name} {version} {file}"),
        None => format!("package delete {name} {version}"),
    };
    let written = Store::new(repo).update(&message, |tx| {
        registry::remove_files(tx, name, version, &|f| {
            file_name.is_none_or(|n| f.file_name == n.as_str())
        })
    })?;
    forget_bytes(repo, &written.value);
    Ok((package, written.value))
}

/// Deletes the package with GitLab id `id` (the API's `DELETE /packages/:id`).
pub fn delete_by_id(repo: &Repo, id: u64) -> Result<PackageDoc> {
    let snapshot = Snapshot::read(repo.git())?;
    let package = registry::by_id(&snapshot, id)?.ok_or(Error::PackageNotFound {
        name: format!("#{id}"),
        version: String::new(),
    })?;
    let name = PackageName::parse(&package.name)?;
    let version = PackageVersion::parse(&package.version)?;
    delete(repo, &name, &version, None).map(|(p, _)| p)
}

/// Deletes one upload by its GitLab file id (the API's
/// `DELETE /packages/:id/package_files/:file_id`).
pub fn delete_file_by_id(repo: &Repo, package_id: u64, file_id: u64) -> Result<PackageFile> {
    let snapshot = Snapshot::read(repo.git())?;
    let package = registry::by_id(&snapshot, package_id)?.ok_or(Error::PackageNotFound {
        name: format!("#{package_id}"),
        version: String::new(),
    })?;
    let Some(file) = package.file_by_id(file_id).cloned() else {
        return Err(Error::PackageFileNotFound {
            name: package.name.clone(),
            version: package.version.clone(),
            file: format!("#{file_id}"),
        });
    };
    let name = PackageName::parse(&package.name)?;
    let version = PackageVersion::parse(&package.version)?;
    let message = format!(
        "package delete {name} {version} {} (#{file_id})",
        file.file_name
    );
    let written = Store::new(repo).update(&message, |tx| {
        registry::remove_files(tx, &name, &version, &|f| f.key == file.key)
    })?;
    forget_bytes(repo, &written.value);
    Ok(file)
}

/// Removes the bytes of `removed` files that no record uses any more. A failure
/// leaves them behind, unreferenced (the records are gone either way).
fn forget_bytes(repo: &Repo, removed: &[PackageFile]) {
    let Ok(snapshot) = Snapshot::read(repo.git()) else {
        return;
    };
    let Ok(all) = registry::all(&snapshot) else {
        return;
    };
    for file in removed {
        let used = all
            .iter()
            .flat_map(|p| &p.files)
            .any(|f| f.location == file.location);
        if !used {
            let _ = bytes::remove(repo, &file.location);
        }
    }
}

/// The package file a link resolves to, when its URL is this project's package URL:
/// the package, and the file downloaded under that name. `Ok(None)` for any other
/// link; an error when the URL names a package or file that is not recorded.
/// (Under `…/-/package_files/<id>/download`, the upload with that id.)
pub fn resolve_link(
    snapshot: &Snapshot<'_>,
    urls: &PackageUrls,
    link: &Link,
) -> Result<Option<(PackageDoc, PackageFile)>> {
    match urls.parse(&link.url) {
        None => Ok(None),
        Some(PackageRef::Generic {
            name,
            version,
            file_name,
        }) => {
            let package = registry::get(snapshot, &name, &version)?.ok_or_else(|| {
                Error::PackageNotFound {
                    name: name.to_string(),
                    version: version.to_string(),
                }
            })?;
            let file = file_named(&package, file_name.as_str())?.clone();
            Ok(Some((package, file)))
        }
        Some(PackageRef::FileId(id)) => file_by_id(snapshot, id).map(Some),
    }
}

/// The upload with id `id` (GitLab's package file id), and its package.
pub fn file_by_id(snapshot: &Snapshot<'_>, id: u64) -> Result<(PackageDoc, PackageFile)> {
    for package in registry::all(snapshot)? {
        if let Some(file) = package.files.iter().find(|f| f.id == id).cloned() {
            return Ok((package, file));
        }
    }
    Err(Error::PackageFileIdNotFound { id })
}
