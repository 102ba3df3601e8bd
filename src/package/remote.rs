//! Bringing one package file's bytes from a remote, when a download needs them and
//! this clone never fetched them: exactly its ref, nothing else (`fetch --packages`
//! brings them all).

use super::bytes::check_reference;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::transport;
use crate::model::package::{Location, PackageFile};

/// Fetches the ref of `file` from `remote` when its bytes are kept in the repository
/// and are not here. Returns whether anything was fetched.
pub fn fetch_file(repo: &Repo, remote: &str, file: &PackageFile) -> Result<bool> {
    let Location::Repository { reference } = &file.location else {
        return Ok(false);
    };
    check_reference(reference)?;
    if super::repository::is_here(repo.git(), reference) {
        return Ok(false);
    }
    let spec = format!("+{reference}:{reference}");
    transport::fetch(repo, remote, &[spec])?.map_err(|message| Error::Refused {
        action: format!("fetching package file {:?} from {remote}", file.file_name),
        reason: format!("git fetch failed:\n{message}"),
    })?;
    Ok(true)
}
