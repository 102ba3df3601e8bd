//! One git-config-format file read and written on its own: a repository's `config`
//! file (the settings a `--root` server records in each project, such as its id), or
//! the small files a group directory or the root keeps beside its repositories. git2
//! writes through a lock file and a rename, as `git config --file` does, so a reader
//! never sees half a file.

use std::path::Path;

use crate::error::{Error, Result};

fn open(path: &Path) -> Result<git2::Config> {
    git2::Config::open(path).map_err(|e| Error::git(format!("cannot read {}", path.display()), e))
}

/// The value of `key` in the file at `path` (only that file: no includes of other
/// scopes); `None` when the file or the key is missing.
pub fn get(path: &Path, key: &str) -> Result<Option<String>> {
    if !path.exists() {
        return Ok(None);
    }
    let config = open(path)?;
    match config.get_string(key) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(Error::git(
            format!("cannot read {key} in {}", path.display()),
            e,
        )),
    }
}

/// `key` as a positive integer; a value that is not one reads as missing (and is
/// replaced by whoever writes it next).
pub fn get_id(path: &Path, key: &str) -> Result<Option<u64>> {
    Ok(get(path, key)?.and_then(|v| v.trim().parse::<u64>().ok().filter(|id| *id > 0)))
}

/// Sets every `(key, value)` in the file at `path`, creating it if needed.
pub fn set(path: &Path, entries: &[(&str, &str)]) -> Result<()> {
    let mut config = open(path)?;
    for (key, value) in entries {
        config
            .set_str(key, value)
            .map_err(|e| Error::git(format!("cannot write {key} to {}", path.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_a_missing_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        assert_eq!(get(&path, "release.projectId").unwrap(), None);
        assert!(!path.exists(), "reading must not create the file");
        set(
            &path,
            &[("release.projectId", "7"), ("release.projectPath", "a/b")],
        )
        .unwrap();
        assert_eq!(get_id(&path, "release.projectId").unwrap(), Some(7));
        assert_eq!(
            get(&path, "release.projectPath").unwrap().as_deref(),
            Some("a/b")
        );
        set(&path, &[("release.projectId", "x")]).unwrap();
        assert_eq!(get_id(&path, "release.projectId").unwrap(), None);
    }
}
