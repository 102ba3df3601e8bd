//! Where new package bytes go and how large one may be, from git config:
//!
//! - `release.packageStore`: `repository` (the default) or `s3://bucket/prefix`;
//! - `release.packageStoreEndpoint`, `release.packageStoreRegion`,
//!   `release.packageStorePathStyle`: how to reach an S3-compatible service (else the
//!   standard AWS environment);
//! - `release.packageMaxSize`: the largest file an upload takes (git's integers:
//!   `500m`, `5g`; GitLab's default limit for generic packages is 5 GiB).

use super::s3;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::project::git_config_entry;

/// GitLab's default `generic_packages_max_file_size`.
pub const DEFAULT_MAX_SIZE: u64 = 5 << 30;

/// Where uploads go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Repository,
    S3(s3::Settings),
}

fn from(key: &str, scope: &str) -> String {
    format!("from git config {key} ({scope})")
}

/// How S3-compatible storage is reached (endpoint, region, style) for `bucket`.
pub fn s3_settings(repo: &Repo, bucket: &str, prefix: &str) -> Result<s3::Settings> {
    let text = |key: &str| git_config_entry(repo, key).map(|(v, _)| v);
    let path_style = repo
        .config_bool_strict("release.packageStorePathStyle")
        .map_err(|e| Error::invalid("release.packageStorePathStyle", "", e.to_string()))?;
    Ok(s3::Settings {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint: text("release.packageStoreEndpoint"),
        region: text("release.packageStoreRegion"),
        path_style,
    })
}

/// `release.packageStore`, checked.
pub fn target(repo: &Repo) -> Result<Target> {
    let key = "release.packageStore";
    let Some((value, scope)) = git_config_entry(repo, key) else {
        return Ok(Target::Repository);
    };
    let value = value.trim();
    if value.eq_ignore_ascii_case("repository") {
        return Ok(Target::Repository);
    }
    if value.starts_with("s3://") {
        let (bucket, prefix) = s3::parse_url(value).map_err(|e| match e {
            Error::InvalidInput {
                what,
                value,
                reason,
            } => Error::InvalidInput {
                what,
                value,
                reason: format!("{}: {reason}", from(key, scope)),
            },
            other => other,
        })?;
        return Ok(Target::S3(s3_settings(repo, &bucket, &prefix)?));
    }
    Err(Error::invalid(
        "package store",
        value,
        format!(
            "{}: expected `repository` or `s3://bucket/prefix`",
            from(key, scope)
        ),
    ))
}

/// `release.packageMaxSize`, else GitLab's default.
pub fn max_size(repo: &Repo) -> Result<u64> {
    let key = "release.packageMaxSize";
    let Some((text, scope)) = git_config_entry(repo, key) else {
        return Ok(DEFAULT_MAX_SIZE);
    };
    match crate::archive::parse_git_int(&text) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(Error::invalid(
            "package size limit",
            text,
            format!(
                "{}: expected a positive integer (`500m`, `5g`)",
                from(key, scope)
            ),
        )),
    }
}
