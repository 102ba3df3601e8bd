//! Generic packages (GitLab's generic package registry) as the store records them: one
//! document per package (name and version) at `packages/<aa>/<sha256>.json` in the
//! notes tree, listing its files with their size, digests and where their bytes are
//! (in this repository under `refs/release-packages/…`, or in S3-compatible storage).
//! The bytes themselves never enter the notes.
//!
//! Names, versions and file names are checked as GitLab checks them today
//! (`Gitlab::Regex.generic_package_name_regex` and friends).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::model::Key;
use crate::time::Timestamp;

/// Where package documents live in the notes tree.
pub const PACKAGES_DIR: &str = "packages";

/// GitLab's columns for names, versions and file names hold 255 characters.
pub const MAX_LENGTH: usize = 255;

/// The package type GitLab reports for these packages.
pub const PACKAGE_TYPE: &str = "generic";

/// `A-Z a-z 0-9 . _ - +`: GitLab's `maven_file_name_regex`, which its generic package
/// names and file names use.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')
}

fn check_common(what: &'static str, text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid(what, text, "it is empty"));
    }
    if text.chars().count() > MAX_LENGTH {
        return Err(Error::invalid(
            what,
            format!("{}…", text.chars().take(40).collect::<String>()),
            format!("it is longer than {MAX_LENGTH} characters"),
        ));
    }
    Ok(())
}

/// A package name or file name: `\A[A-Za-z0-9\.\_\-\+]+\z`, and not `.` or `..` (GitLab
/// checks both for path traversal too).
fn check_name(what: &'static str, text: &str) -> Result<()> {
    check_common(what, text)?;
    if let Some(c) = text.chars().find(|c| !is_name_char(*c)) {
        return Err(Error::invalid(
            what,
            text,
            format!(
                "{} is not allowed: only letters, digits, '.', '_', '-' and '+' are",
                crate::text::escape_char(c)
            ),
        ));
    }
    if text == "." || text == ".." {
        return Err(Error::invalid(what, text, "it names a directory"));
    }
    Ok(())
}

macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(text: &str) -> Result<Self> {
                let check: fn(&'static str, &str) -> Result<()> = $check;
                check($what, text)?;
                Ok($name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(text: &str) -> Result<Self> {
                $name::parse(text)
            }
        }
    };
}

checked_text!(
    /// A generic package's name (`myawesomerelease`).
    PackageName,
    "package name",
    check_name
);
checked_text!(
    /// A package file's name (`app-linux-amd64.tar.gz`).
    PackageFileName,
    "package file name",
    check_name
);
checked_text!(
    /// A package version: GitLab's `maven_version_regex`, `\A(?!.*\.\.)[\w+.-]+\z` (the
    /// seed's `X.Y.Z` is one form of it).
    PackageVersion,
    "package version",
    |what, text| {
        check_common(what, text)?;
        if let Some(c) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '.' | '-')))
        {
            return Err(Error::invalid(
                what,
                text,
                format!(
                    "{} is not allowed: only letters, digits, '_', '+', '.' and '-' are",
                    crate::text::escape_char(c)
                ),
            ));
        }
        if text.contains("..") {
            return Err(Error::invalid(what, text, "it contains \"..\""));
        }
        Ok(())
    }
);

/// One package: a name and a version, and the files uploaded to it. A file name may be
/// uploaded again (GitLab keeps every upload; the newest is the one downloaded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageDoc {
    #[serde(default = "first_schema")]
    pub schema: u64,
    pub name: String,
    pub version: String,
    /// GitLab's numeric package id, unique in the repository.
    pub id: u64,
    /// `hidden` when an upload said `?status=hidden`; absent (`default`) otherwise.
    #[serde(default, skip_serializing_if = "PackageStatus::is_default")]
    pub status: PackageStatus,
    /// Oldest first. Merged between clones by key, like links.
    #[serde(default)]
    pub files: Vec<PackageFile>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn first_schema() -> u64 {
    1
}

/// A package's status as GitLab's generic upload sets it (`?status=default|hidden`):
/// a hidden package is left out of the package lists unless asked for by status, and
/// is downloaded as any other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageStatus {
    #[default]
    Default,
    Hidden,
}

impl PackageStatus {
    pub fn is_default(&self) -> bool {
        *self == PackageStatus::Default
    }

    /// As GitLab names it.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Default => "default",
            PackageStatus::Hidden => "hidden",
        }
    }

    /// `default` or `hidden`, the values an upload takes.
    pub fn parse(text: &str) -> Option<PackageStatus> {
        match text {
            "default" => Some(PackageStatus::Default),
            "hidden" => Some(PackageStatus::Hidden),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageFile {
    pub key: Key,
    /// GitLab's numeric package file id, unique in the repository.
    pub id: u64,
    pub file_name: String,
    pub size: u64,
    /// Lowercase hex, of the exact bytes.
    pub file_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_md5: Option<String>,
    pub created_at: Timestamp,
    pub location: Location,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where a package file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "store", rename_all = "lowercase")]
pub enum Location {
    /// In this repository: a commit under `refs/release-packages/` whose tree holds
    /// the bytes in chunks (`package::repository`).
    Repository {
        #[serde(rename = "ref")]
        reference: String,
    },
    /// In S3-compatible storage: `s3://bucket/key`.
    S3 { url: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Repository { reference } => write!(f, "{reference}"),
            Location::S3 { url } => write!(f, "{url}"),
        }
    }
}

impl PackageDoc {
    /// The package's creation time, as GitLab shows it: when its first file came.
    pub fn created_at(&self) -> Option<Timestamp> {
        self.files.iter().map(|f| f.created_at).min()
    }

    /// The file downloaded under `file_name`: the newest upload of that name (GitLab
    /// serves the most recent of duplicates).
    pub fn newest(&self, file_name: &str) -> Option<&PackageFile> {
        self.files
            .iter()
            .filter(|f| f.file_name == file_name)
            .max_by_key(|f| (f.created_at, f.id))
    }

    pub fn file_by_id(&self, id: u64) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.id == id)
    }
}

/// `packages/<aa>/<sha256 of "name/version">.json`: fixed-width and fanned out, as the
/// store's other files (neither a name nor a version holds a `/`).
pub fn doc_path(name: &str, version: &str) -> String {
    let digest = sha256_hex(format!("{name}/{version}").as_bytes());
    format!("{PACKAGES_DIR}/{}/{digest}.json", &digest[..2])
}

/// Whether `text` is a lowercase hex SHA-256.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_follow_gitlab() {
        for ok in ["myawesomerelease", "a.b_c-d+e", "x.lock", ".env", "A1"] {
            PackageName::parse(ok).unwrap();
            PackageFileName::parse(ok).unwrap();
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", "a%2Fb", "a\nb", "a:b"] {
            assert!(PackageName::parse(bad).is_err(), "{bad:?}");
            assert!(PackageFileName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PackageName::parse(&"a".repeat(255)).is_ok());
        assert!(PackageName::parse(&"a".repeat(256)).is_err());
        for ok in ["1.2.3", "1.0-SNAPSHOT", "v1_2+build.7", "1.", ".1", "main"] {
            PackageVersion::parse(ok).unwrap();
        }
        for bad in ["", "1..2", "..", "1/2", "1 2", "1.2.3~rc1", "1:2"] {
            assert!(PackageVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn documents_are_fanned_out_by_name_and_version() {
        let path = doc_path("app", "1.0.0");
        let digest = sha256_hex(b"app/1.0.0");
        assert_eq!(path, format!("packages/{}/{digest}.json", &digest[..2]));
        assert_ne!(doc_path("app", "1.0.0"), doc_path("app.1", "0.0"));
    }
}
