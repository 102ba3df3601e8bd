//! `package migrate`: every package file kept in the repository copied to the
//! S3-compatible store `release.packageStore` names, checked there, and its record
//! pointed at the copy — in one commit of the store, after every copy is made, so an
//! interrupted migration changes no record. The refs no record uses any more are then
//! deleted here (other clones keep theirs until `push --packages` or their own
//! migration).

use super::bytes::{self, Opened};
use super::config::{self, Target};
use super::registry;
use super::s3::S3;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::package::{self, Location, PackageFile};
use crate::store::{Snapshot, Store};

/// One file moved.
#[derive(Debug, Clone)]
pub struct Moved {
    pub key: crate::model::Key,
    pub name: String,
    pub version: String,
    pub file_name: String,
    pub size: u64,
    pub from: Location,
    pub to: Location,
}

/// Copies every repository-kept file to the configured S3 store and records the new
/// locations. `progress` is told each file before it is copied.
pub fn migrate(repo: &Repo, progress: &mut dyn FnMut(&str, &PackageFile)) -> Result<Vec<Moved>> {
    let Target::S3(settings) = config::target(repo)? else {
        return Err(Error::Refused {
            action: "migrating packages".into(),
            reason: "release.packageStore does not name S3-compatible storage; set it \
                     first (`git config release.packageStore s3://bucket/prefix`)"
                .into(),
        });
    };
    let store = S3::connect(&settings)?;
    let snapshot = Snapshot::read(repo.git())?;
    let mut moved = Vec::new();
    for doc in registry::all(&snapshot)? {
        for file in &doc.files {
            if !matches!(file.location, Location::Repository { .. }) {
                continue;
            }
            progress(&format!("{} {}", doc.name, doc.version), file);
            let mut reader = match bytes::open(repo, &file.location)? {
                Opened::Here(reader) => reader,
                Opened::NotFetched => {
                    return Err(Error::PackageNotFetched {
                        name: doc.name.clone(),
                        version: doc.version.clone(),
                        file: file.file_name.clone(),
                        location: file.location.to_string(),
                    });
                }
                Opened::Missing(reason) => {
                    return Err(Error::PackageMissing {
                        name: doc.name.clone(),
                        version: doc.version.clone(),
                        file: file.file_name.clone(),
                        reason,
                    });
                }
            };
            let object = format!(
                "{}/{}/{}/{}",
                doc.name, doc.version, file.key, file.file_name
            );
            let key = if settings.prefix.is_empty() {
                object
            } else {
                format!("{}/{object}", settings.prefix)
            };
            let (url, digests) = store.write(&key, &mut reader, Some(file.size))?;
            if digests.sha256 != file.file_sha256 {
                let _ = store.remove(&key);
                return Err(Error::PackageDigestMismatch {
                    name: doc.name.clone(),
                    version: doc.version.clone(),
                    file: file.file_name.clone(),
                    expected: file.file_sha256.clone(),
                    actual: digests.sha256,
                });
            }
            moved.push(Moved {
                key: file.key,
                name: doc.name.clone(),
                version: doc.version.clone(),
                file_name: file.file_name.clone(),
                size: file.size,
                from: file.location.clone(),
                to: Location::S3 { url },
            });
        }
    }
    if moved.is_empty() {
        return Ok(moved);
    }
    let message = format!(
        "package migrate to s3://{}/{}",
        settings.bucket, settings.prefix
    );
    Store::new(repo).update(&message, |tx| {
        let mut docs = std::collections::BTreeMap::new();
        for m in &moved {
            let path = package::doc_path(&m.name, &m.version);
            if !docs.contains_key(&path) {
                let Some(doc) = tx.json_file::<package::PackageDoc>(&path)? else {
                    continue;
                };
                docs.insert(path.clone(), doc);
            }
            let doc = docs.get_mut(&path).expect("inserted above");
            for f in doc.files.iter_mut() {
                if f.key == m.key && f.location == m.from {
                    f.location = m.to.clone();
                }
            }
        }
        for (path, doc) in &docs {
            tx.put_json_file(path, doc)?;
        }
        Ok(())
    })?;
    let snapshot = Snapshot::read(repo.git())?;
    for m in &moved {
        if !registry::location_in_use(&snapshot, &m.from)? {
            bytes::remove(repo, &m.from)?;
        }
    }
    Ok(moved)
}
