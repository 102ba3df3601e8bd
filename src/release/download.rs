//! Downloading release assets: permanent paths and name patterns are resolved to links
//! (as GitLab's `/-/releases/<tag>/downloads/<path>` redirect and `permalink/latest`
//! do), each asset is fetched over http(s) with redirects followed, written to a
//! temporary file beside its destination and renamed into place only once complete
//! and, when the link records a SHA-256, verified.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Found;
use crate::model::Link;
use crate::url::escape_path;

/// How many redirects a download follows (as curl's default of browsers' ~20; GitLab's
/// permanent URL is one, a CDN adds one or two).
const MAX_REDIRECTS: u32 = 10;

/// What to download: links chosen by direct asset path (`/bin/app`, or a permanent
/// URL or path containing `releases/<tag>/downloads/…` or
/// `releases/permalink/latest/downloads/…`) and by name pattern (`*.deb`). Nothing
/// asked for means every link of the release, newest first.
pub fn resolve<'a>(found: &'a Found, paths: &[String], names: &[String]) -> Result<Vec<&'a Link>> {
    let links = Link::newest_first(&found.release.links);
    let mut chosen: Vec<&Link> = Vec::new();
    let mut choose = |link: &'a Link| {
        if !chosen.iter().any(|c| c.key == link.key) {
            chosen.push(link);
        }
    };
    for arg in paths {
        let path = requested_path(&found.tag, arg)?;
        let link = links
            .iter()
            .find(|l| l.direct_asset_path.as_deref() == Some(path.as_str()))
            .ok_or_else(|| Error::AssetNotFound {
                tag: found.tag.clone(),
                asset: arg.clone(),
                known: links
                    .iter()
                    .filter_map(|l| l.direct_asset_path.clone())
                    .collect(),
            })?;
        choose(link);
    }
    for pattern in names {
        let glob = glob::Pattern::new(pattern)
            .map_err(|e| Error::invalid("--name pattern", pattern.as_str(), e.msg))?;
        let mut matched = false;
        for link in links.iter().filter(|l| glob.matches(&l.name)) {
            matched = true;
            choose(link);
        }
        if !matched {
            return Err(Error::AssetNotFound {
                tag: found.tag.clone(),
                asset: pattern.clone(),
                known: links.iter().map(|l| format!("{:?}", l.name)).collect(),
            });
        }
    }
    if paths.is_empty() && names.is_empty() {
        chosen = links;
    }
    Ok(chosen)
}

/// The direct asset path an argument names. A full permanent URL or path is accepted
/// when it names this release (or `permalink/latest`); a bare `bin/app` gets its `/`.
fn requested_path(tag: &str, arg: &str) -> Result<String> {
    let text = arg.split(['?', '#']).next().unwrap_or_default();
    let prefixes = [
        "permalink/latest/downloads/".to_owned(),
        format!("{tag}/downloads/"),
        format!("{}/downloads/", escape_path(tag)),
        // GitLab's own links write a tag's '/' as %2F.
        format!("{}/downloads/", escape_path(tag).replace('/', "%2F")),
    ];
    let mut names_a_release = false;
    for (at, _) in text.match_indices("releases/") {
        let rest = &text[at + "releases/".len()..];
        if let Some(prefix) = prefixes.iter().find(|p| rest.starts_with(p.as_str())) {
            return Ok(format!("/{}", &rest[prefix.len()..]));
        }
        names_a_release |= rest.contains("/downloads/");
    }
    if names_a_release {
        return Err(Error::invalid(
            "asset path",
            arg,
            format!(
                "it is the permanent URL of another release than {tag}; \
                 give that release's tag (or `latest`) as the first argument"
            ),
        ));
    }
    if text.contains("://") {
        return Err(Error::invalid(
            "asset path",
            arg,
            "a URL must be a permanent download URL (…/-/releases/<tag>/downloads/<path>)",
        ));
    }
    Ok(if text.starts_with('/') {
        text.to_owned()
    } else {
        format!("/{text}")
    })
}

/// The name an asset is saved under in the target directory: the last segment of its
/// direct asset path, else of its link name (as glab saves by name). Names that try to
/// leave the directory (absolute, `..`) or that are empty are refused, whatever a
/// record fetched from someone else's clone says.
pub fn file_name(link: &Link) -> Result<String> {
    let source = link.direct_asset_path.as_deref().unwrap_or(&link.name);
    let refuse = |reason: &str| Error::Refused {
        action: format!("saving link {:?}", link.name),
        reason: format!("{reason}; pass -o FILE to choose the file name"),
    };
    let segments: Vec<&str> = source.split(['/', '\\']).collect();
    // A direct asset path always starts with '/' (it is a URL path); a name must not.
    let absolute = source.starts_with(['/', '\\']) && link.direct_asset_path.is_none()
        || source
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && source.as_bytes().get(1) == Some(&b':');
    if absolute || segments.contains(&"..") {
        return Err(refuse(&format!(
            "{source:?} would be written outside the target directory"
        )));
    }
    let last = segments.last().copied().unwrap_or_default();
    if last.is_empty() || last == "." || last.trim().is_empty() {
        return Err(refuse(&format!("{source:?} does not end in a file name")));
    }
    crate::model::paths::check_file_name(last)
        .map_err(|reason| refuse(&format!("{source:?} is not a safe file name: {reason}")))?;
    Ok(last.to_owned())
}

/// One asset and where it goes.
#[derive(Debug, Clone)]
pub struct Planned {
    pub link: Link,
    pub destination: PathBuf,
}

/// Where each asset is written: `output` when one asset is asked for with `-o`, else
/// `dir/<file name>`. Checked before anything is downloaded: unique destinations, and
/// no existing file unless `force`.
pub fn plan(
    links: &[&Link],
    dir: &Path,
    output: Option<&Path>,
    force: bool,
) -> Result<Vec<Planned>> {
    if let Some(output) = output {
        if links.len() != 1 {
            return Err(Error::invalid(
                "-o",
                output.display().to_string(),
                format!(
                    "it names one file, but {} assets were selected; use -D DIR instead",
                    links.len()
                ),
            ));
        }
    }
    let mut planned: Vec<Planned> = Vec::with_capacity(links.len());
    for link in links {
        let destination = match output {
            Some(path) => path.to_path_buf(),
            None => crate::model::paths::confine(dir, &file_name(link)?).map_err(|reason| {
                Error::Refused {
                    action: format!("saving link {:?}", link.name),
                    reason,
                }
            })?,
        };
        if let Some(other) = planned.iter().find(|p| p.destination == destination) {
            return Err(Error::Refused {
                action: format!("downloading link {:?}", link.name),
                reason: format!(
                    "link {:?} is saved as {} too; download them one at a time with -o",
                    other.link.name,
                    destination.display()
                ),
            });
        }
        if destination.is_dir() {
            return Err(Error::Refused {
                action: format!("downloading link {:?}", link.name),
                reason: format!("{} is a directory", destination.display()),
            });
        }
        if !force && destination.symlink_metadata().is_ok() {
            return Err(Error::FileExists { path: destination });
        }
        planned.push(Planned {
            link: (*link).clone(),
            destination,
        });
    }
    Ok(planned)
}

/// Told how a download goes, to draw a progress bar (or nothing).
pub trait Progress {
    fn start(&mut self, name: &str, total: Option<u64>);
    fn advance(&mut self, bytes: u64);
    fn finish(&mut self);
}

/// Draws nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: &str, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// A finished download.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// The link records a SHA-256 and the download matched it.
    pub verified: bool,
}

pub struct Downloader {
    agent: ureq::Agent,
}

impl Default for Downloader {
    fn default() -> Self {
        Self::new()
    }
}

impl Downloader {
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(MAX_REDIRECTS)
            // Statuses are turned into our own error naming the link and URL.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .user_agent(concat!("git-release/", env!("CARGO_PKG_VERSION")))
            .build();
        Downloader {
            agent: config.into(),
        }
    }

    /// Fetches `planned.link.url` into a temporary file beside `planned.destination`
    /// and checks its digest. Nothing is visible at the destination until `persist`, so
    /// a command downloading several assets can write all of them or none; on any
    /// failure, including a digest mismatch, no file is left behind.
    pub fn fetch(&self, planned: &Planned, progress: &mut dyn Progress) -> Result<Fetched> {
        let link = &planned.link;
        let (mut reader, total) = self.open(link)?;
        let destination = &planned.destination;
        let write_error = |source| Error::WriteFile {
            path: destination.clone(),
            source,
        };
        let mut temp = temp_beside(destination).map_err(write_error)?;
        progress.start(&link.name, total);
        let copied = copy_hashing(&mut reader, temp.as_file_mut(), progress);
        progress.finish();
        let (sha256, size) = match copied {
            Ok(done) => done,
            Err(Copy::Read(e)) => {
                return Err(download_failed(
                    link,
                    format!("reading the response failed: {e}"),
                ));
            }
            Err(Copy::Write(e)) => return Err(write_error(e)),
        };
        if let Some(expected) = &link.sha256 {
            if !expected.eq_ignore_ascii_case(&sha256) {
                // `temp` is removed when dropped.
                return Err(Error::DigestMismatch {
                    link: link.name.clone(),
                    url: link.url.clone(),
                    expected: expected.clone(),
                    actual: sha256,
                });
            }
        }
        temp.as_file().sync_all().map_err(write_error)?;
        Ok(Fetched {
            temp,
            done: Downloaded {
                path: destination.clone(),
                size,
                verified: link.sha256.is_some(),
                sha256,
            },
        })
    }

    /// Starts the request: the body and its announced length. Only http(s) is fetched.
    fn open(&self, link: &Link) -> Result<(Box<dyn Read + Send + Sync + 'static>, Option<u64>)> {
        let scheme = link.url.split(':').next().unwrap_or_default();
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(download_failed(
                link,
                format!(
                    "{scheme}:// downloads are not supported (only http and https); \
                     `--url-only` prints the URL for another tool"
                ),
            ));
        }
        let response = self
            .agent
            .get(&link.url)
            .call()
            .map_err(|e| download_failed(link, describe(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(download_failed(
                link,
                format!(
                    "the server answered {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default()
                ),
            ));
        }
        let total = response.body().content_length();
        Ok((Box::new(response.into_body().into_reader()), total))
    }
}

fn download_failed(link: &Link, reason: String) -> Error {
    Error::Download {
        link: link.name.clone(),
        url: link.url.clone(),
        reason,
    }
}

/// A temporary file in the destination's directory, so that the finished download is
/// renamed into place (never half-written under its real name).
fn temp_beside(destination: &std::path::Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".git-release-").suffix(".part");
    // tempfile creates files 0600; a downloaded asset gets the umask's usual mode.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(&dir)
}

/// Which side of a copy failed.
enum Copy {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copies `reader` to `file`, hashing as it goes: (SHA-256 hex, size).
fn copy_hashing(
    reader: &mut dyn Read,
    file: &mut std::fs::File,
    progress: &mut dyn Progress,
) -> std::result::Result<(String, u64), Copy> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n]).map_err(Copy::Write)?;
        size += n as u64;
        progress.advance(n as u64);
    }
    Ok((crate::digest::hex(&hasher.finalize()), size))
}

/// A complete, verified download waiting in its temporary file (removed if dropped).
pub struct Fetched {
    temp: tempfile::NamedTempFile,
    done: Downloaded,
}

impl Fetched {
    /// Renames the download into place: over an existing file with `force`, else only
    /// if the destination still does not exist (a file that appeared meanwhile is kept).
    pub fn persist(self, force: bool) -> Result<Downloaded> {
        let destination = &self.done.path;
        let write_error = |source| Error::WriteFile {
            path: destination.clone(),
            source,
        };
        if force {
            self.temp
                .persist(destination)
                .map_err(|e| write_error(e.error))?;
        } else {
            self.temp.persist_noclobber(destination).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    Error::FileExists {
                        path: destination.clone(),
                    }
                } else {
                    write_error(e.error)
                }
            })?;
        }
        Ok(self.done)
    }
}

/// ureq's errors, worded for someone who did not write the request.
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::TooManyRedirects => {
            format!("more than {MAX_REDIRECTS} redirects (a redirect loop?)")
        }
        ureq::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Key, LinkDraft};
    use crate::time::Timestamp;

    fn link(name: &str, path: Option<&str>) -> Link {
        LinkDraft {
            name: name.into(),
            url: "https://example.com/x".into(),
            direct_asset_path: path.map(Into::into),
            ..LinkDraft::default()
        }
        .into_link(
            Key::random(),
            1,
            Timestamp::parse("2024-01-01T00:00:00Z").unwrap(),
        )
    }

    #[test]
    fn permanent_urls_and_bare_paths_name_the_same_asset() {
        for arg in [
            "/bin/app",
            "bin/app",
            "/-/releases/v1.0/downloads/bin/app",
            "https://gitlab.example.com/g/p/-/releases/v1.0/downloads/bin/app?x=1",
            "/g/p/-/releases/permalink/latest/downloads/bin/app",
            "releases/permalink/latest/downloads/bin/app",
        ] {
            assert_eq!(requested_path("v1.0", arg).unwrap(), "/bin/app", "{arg}");
        }
        assert_eq!(
            requested_path("rel/1", "/-/releases/rel%2F1/downloads/a").unwrap(),
            "/a"
        );
        assert!(requested_path("v1.0", "/-/releases/v2.0/downloads/bin/app").is_err());
        assert!(requested_path("v1.0", "https://example.com/bin/app").is_err());
    }

    #[test]
    fn file_names_never_leave_the_target_directory() {
        assert_eq!(file_name(&link("App", Some("/bin/app"))).unwrap(), "app");
        assert_eq!(
            file_name(&link("linux amd64", None)).unwrap(),
            "linux amd64"
        );
        assert_eq!(
            file_name(&link("docs/README.md", None)).unwrap(),
            "README.md"
        );
        for hostile in [
            "../../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "..",
            ".",
            "dir/",
            "..\\x",
            "C:\\x",
            "a\nb",
            "bidi \u{202e}gnp.exe",
            ".git",
        ] {
            assert!(file_name(&link(hostile, None)).is_err(), "{hostile:?}");
        }
    }
}
