//! `verify`'s check of a release's packages: every link whose URL is one of this
//! project's package URLs is resolved to its package file, whose bytes are read whole
//! (streamed) and compared with the record.

use super::checks::Problem;
use crate::git::repo::Repo;
use crate::model::Found;
use crate::package::{self, FileState, PackageUrls};
use crate::store::Snapshot;

/// What the check of one release's packages found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Failures: files missing or different.
    pub problems: Vec<Problem>,
    /// Files not fetched into this clone.
    pub notices: Vec<String>,
    /// Files whose storage could not be asked (S3 unreachable, no credentials).
    pub unchecked: Vec<String>,
}

/// Every link of the release to one of this project's packages, read whole and
/// compared with its record (and with the SHA-256 the link records, if any). A file
/// not fetched into this clone is a notice, never a failure: an ordinary clone has no
/// package bytes, and the pre-push hook must not stop it.
pub fn check_packages(
    repo: &Repo,
    snapshot: &Snapshot<'_>,
    urls: &PackageUrls,
    found: &Found,
) -> Findings {
    let mut findings = Findings::default();
    let tag = &found.tag;
    for link in &found.release.links {
        let missing = |reason: String| Problem::PackageMissing {
            tag: tag.to_string(),
            link: link.name.clone(),
            reason,
        };
        let (package, file) = match package::resolve_link(snapshot, urls, link) {
            Ok(Some(resolved)) => resolved,
            Ok(None) => continue,
            Err(error) => {
                findings.problems.push(missing(error.to_string()));
                continue;
            }
        };
        if let Some(expected) = &link.sha256 {
            if !expected.eq_ignore_ascii_case(&file.file_sha256) {
                findings.problems.push(Problem::PackageDifferent {
                    tag: tag.to_string(),
                    link: link.name.clone(),
                    expected: expected.clone(),
                    actual: format!("{} (the package record's)", file.file_sha256),
                });
                continue;
            }
        }
        match package::check(repo, &package, &file) {
            FileState::Matches => {}
            FileState::NotFetched => findings.notices.push(format!(
                "package file {:?} of {} {} (link {:?}) is not fetched here \
                 (`git release fetch --packages` brings it)",
                file.file_name, package.name, package.version, link.name
            )),
            FileState::Missing(reason) => findings.problems.push(missing(reason)),
            FileState::Different(actual) => findings.problems.push(Problem::PackageDifferent {
                tag: tag.to_string(),
                link: link.name.clone(),
                expected: file.file_sha256.clone(),
                actual,
            }),
            FileState::Unchecked(reason) => findings.unchecked.push(format!(
                "package file {:?} of {} {}: {reason}",
                file.file_name, package.name, package.version
            )),
        }
    }
    findings
}
