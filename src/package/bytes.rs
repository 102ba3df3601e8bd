//! The bytes of package files, wherever they are: one way in (`put`, to the configured
//! target), one way out (`open`, by the location a record names), one way to remove.
//! A record made before the store moved to S3 is still read from the repository.

use std::io::Read;

use super::config::{self, Target};
use super::digests::Digests;
use super::repository;
use super::s3::{self, S3};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::Key;
use crate::model::package::{Location, PackageFileName, PackageName, PackageVersion};

/// Bytes put somewhere, and what they came to.
#[derive(Debug, Clone)]
pub struct Stored {
    pub location: Location,
    pub digests: Digests,
}

/// Stores what `source` brings (at most `limit` bytes) in `target`. `key` is the new
/// file's key (S3 objects are named by it).
#[allow(clippy::too_many_arguments)]
pub fn put(
    repo: &Repo,
    target: &Target,
    name: &PackageName,
    version: &PackageVersion,
    file_name: &PackageFileName,
    key: Key,
    source: &mut dyn Read,
    limit: Option<u64>,
) -> Result<Stored> {
    match target {
        Target::Repository => {
            let written = repository::write(repo, name, version, source, limit)?;
            Ok(Stored {
                location: Location::Repository {
                    reference: written.reference,
                },
                digests: written.digests,
            })
        }
        Target::S3(settings) => {
            let store = S3::connect(settings)?;
            let object = format!("{name}/{version}/{key}/{file_name}");
            let key = if settings.prefix.is_empty() {
                object
            } else {
                format!("{}/{object}", settings.prefix)
            };
            let (url, digests) = store.write(&key, source, limit)?;
            Ok(Stored {
                location: Location::S3 { url },
                digests,
            })
        }
    }
}

/// What there is at a location.
pub enum Opened {
    /// The bytes, as a stream.
    Here(Box<dyn Read + Send>),
    /// In the repository's namespace but not in this clone: not fetched here (`fetch
    /// --packages` brings it).
    NotFetched,
    /// Where the bytes should be, there is nothing: they are gone.
    Missing(String),
}

fn s3_for(repo: &Repo, url: &str) -> Result<(S3, String)> {
    let (bucket, key) = s3::parse_url(url)?;
    let store = S3::connect(&config::s3_settings(repo, &bucket, "")?)?;
    Ok((store, key))
}

/// Opens the bytes at `location`.
pub fn open(repo: &Repo, location: &Location) -> Result<Opened> {
    match location {
        Location::Repository { reference } => {
            check_reference(reference)?;
            Ok(match repository::open(repo.git_dir(), reference)? {
                Some(reader) => Opened::Here(Box::new(reader)),
                None => Opened::NotFetched,
            })
        }
        Location::S3 { url } => {
            let (store, key) = s3_for(repo, url)?;
            Ok(match store.open(&key)? {
                Some(reader) => Opened::Here(Box::new(reader)),
                None => Opened::Missing(format!("{url} does not exist")),
            })
        }
    }
}

/// Removes the bytes at `location` (nothing there is no error).
pub fn remove(repo: &Repo, location: &Location) -> Result<()> {
    match location {
        Location::Repository { reference } => {
            check_reference(reference)?;
            repository::remove(repo.git(), reference)
        }
        Location::S3 { url } => {
            let (store, key) = s3_for(repo, url)?;
            store.remove(&key)
        }
    }
}

/// A record's ref must be one of the package namespace: a record fetched from
/// somebody else's clone must not make us read, fetch or delete any other ref.
pub fn check_reference(reference: &str) -> Result<()> {
    let ok = reference.starts_with(super::refname::PACKAGES_REF_PREFIX)
        && git2::Reference::is_valid_name(reference)
        && reference
            .rsplit('/')
            .next()
            .is_some_and(crate::model::package::is_sha256);
    if ok {
        Ok(())
    } else {
        Err(Error::corrupt(
            reference,
            format!(
                "a package file's bytes must be under {}<name>/<version>/<sha256>",
                super::refname::PACKAGES_REF_PREFIX
            ),
        ))
    }
}
