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

/// The most a link without a recorded size may bring, unless `release.downloadMaxSize`
/// says otherwise: large enough for any installer or image, small enough that a
/// hostile server cannot fill a disk.
pub const DEFAULT_MAX_SIZE: u64 = 4 << 30;
/// Seconds in which at least `DEFAULT_MIN_RATE` bytes a second must arrive
/// (`release.downloadTimeout`): a server that stalls fails after this long.
pub const DEFAULT_WINDOW_SECS: u64 = 30;
/// Bytes a second a body must average over each window (`release.downloadMinRate`):
/// a server that drips a byte a second fails.
pub const DEFAULT_MIN_RATE: u64 = 1024;

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

/// The bounds of a download, whoever runs the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes a link without a recorded size may bring; one with a recorded
    /// size (`link add --file`) may bring exactly that many.
    pub max_size: u64,
    /// In every window of this length, at least `min_rate × window` bytes (and at
    /// least one) must arrive, or the download fails.
    pub window: Duration,
    pub min_rate: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: DEFAULT_MAX_SIZE,
            window: Duration::from_secs(DEFAULT_WINDOW_SECS),
            min_rate: DEFAULT_MIN_RATE,
        }
    }
}

impl Limits {
    /// The defaults, changed by git config `release.downloadMaxSize` (git's integers:
    /// `500m`, `8g`), `release.downloadTimeout` (seconds) and `release.downloadMinRate`
    /// (bytes a second; `0` checks only that bytes keep coming).
    pub fn configured(repo: &crate::git::Repo) -> Result<Limits> {
        let read = |key: &str, zero_ok: bool| -> Result<Option<u64>> {
            let Some((text, scope)) = crate::git::project::git_config_entry(repo, key) else {
                return Ok(None);
            };
            match crate::archive::parse_git_int(&text) {
                Some(n) if n > 0 || zero_ok => Ok(Some(n)),
                _ => Err(Error::invalid(
                    "download setting",
                    text,
                    format!("from git config {key} ({scope}): expected a positive integer"),
                )),
            }
        };
        let defaults = Limits::default();
        Ok(Limits {
            max_size: read("release.downloadMaxSize", false)?.unwrap_or(defaults.max_size),
            window: read("release.downloadTimeout", false)?
                .map_or(defaults.window, Duration::from_secs),
            min_rate: read("release.downloadMinRate", true)?.unwrap_or(defaults.min_rate),
        })
    }

    /// The most bytes `link` may bring, and why.
    fn size_bound(&self, link: &Link) -> (u64, Bound) {
        match link.size {
            Some(size) => (size, Bound::Recorded),
            None => (self.max_size, Bound::Configured),
        }
    }
}

/// Where a size bound comes from, for the message that reports it.
#[derive(Clone, Copy)]
enum Bound {
    Recorded,
    Configured,
}

impl Bound {
    fn exceeded(self, limit: u64) -> String {
        match self {
            Bound::Recorded => format!(
                "the server sent more than the {limit} bytes recorded for the link \
                 (`link add --file`); the download was stopped"
            ),
            Bound::Configured => format!(
                "the server sent more than {limit} bytes, the most a link without a \
                 recorded size may bring (git config release.downloadMaxSize raises it)"
            ),
        }
    }
}

pub struct Downloader {
    agent: ureq::Agent,
    limits: Limits,
    /// Links to this project's package URLs are read from the package store.
    packages: Option<LocalPackages>,
}

/// Where this project's packages are read from.
struct LocalPackages {
    git_dir: PathBuf,
    urls: crate::package::PackageUrls,
    /// Where a package file not fetched here is fetched from.
    remote: Option<String>,
}

/// Saves a package file to `destination` (through a temporary file beside it, renamed
/// into place once its SHA-256 matched the record; over an existing file only with
/// `force`). A file kept in the repository and not fetched here is fetched from
/// `remote` first, that one ref alone.
pub fn save_package(
    repo: &crate::git::Repo,
    package: &crate::model::package::PackageDoc,
    file: &crate::model::package::PackageFile,
    destination: &Path,
    force: bool,
    remote: Option<&str>,
    progress: &mut dyn Progress,
) -> Result<Downloaded> {
    if !force && destination.symlink_metadata().is_ok() {
        return Err(Error::FileExists {
            path: destination.to_path_buf(),
        });
    }
    let reader = open_package(repo, package, file, remote)?;
    let write_error = |source| Error::WriteFile {
        path: destination.to_path_buf(),
        source,
    };
    let mut temp = PartFile::beside(destination).map_err(write_error)?;
    progress.start(&file.file_name, Some(file.size));
    let mut counted = Counted {
        inner: reader,
        progress: &mut *progress,
    };
    let copied = crate::package::copy_checked(&mut counted, temp.file_mut(), package, file);
    progress.finish();
    let size = copied?;
    temp.file_mut().sync_all().map_err(write_error)?;
    Fetched {
        temp,
        done: Downloaded {
            path: destination.to_path_buf(),
            size,
            sha256: file.file_sha256.clone(),
            verified: true,
        },
    }
    .persist(force)
}

/// The bytes of a package file, fetched from `remote` first when they are kept in the
/// repository and not here.
pub fn open_package(
    repo: &crate::git::Repo,
    package: &crate::model::package::PackageDoc,
    file: &crate::model::package::PackageFile,
    remote: Option<&str>,
) -> Result<Box<dyn Read + Send>> {
    match crate::package::open(repo, package, file) {
        Err(Error::PackageNotFetched { .. }) if remote.is_some() => {
            crate::package::remote::fetch_file(repo, remote.unwrap_or_default(), file)?;
            crate::package::open(repo, package, file)
        }
        other => other,
    }
}

/// Counts what passes on to a progress bar.
struct Counted<'p, R> {
    inner: R,
    progress: &'p mut dyn Progress,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

impl Downloader {
    pub fn new(limits: Limits) -> Self {
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
            limits,
            packages: None,
        }
    }

    /// Also resolves links to this project's package URLs (`package::url`) from the
    /// package store, offline; a package file kept in the repository but not fetched
    /// here is fetched from `remote` (that one ref only).
    pub fn with_packages(
        mut self,
        repo: &crate::git::Repo,
        remote: Option<String>,
    ) -> Result<Self> {
        let project = crate::git::project::Project::resolve(repo)?;
        self.packages = Some(LocalPackages {
            git_dir: repo.git_dir().to_path_buf(),
            urls: crate::package::PackageUrls::for_project(&project),
            remote,
        });
        Ok(self)
    }

    /// The package file behind `planned.link` into a temporary file, checked against
    /// its record (and the link's own SHA-256, if it has one); `None` when the link is
    /// not to one of this project's packages.
    fn fetch_package(
        &self,
        planned: &Planned,
        progress: &mut dyn Progress,
    ) -> Result<Option<Fetched>> {
        let Some(local) = &self.packages else {
            return Ok(None);
        };
        let link = &planned.link;
        if local.urls.parse(&link.url).is_none() {
            return Ok(None);
        }
        let repo = crate::git::Repo::discover(&local.git_dir)?;
        let snapshot = crate::store::Snapshot::read(repo.git())?;
        let Some((package, file)) = crate::package::resolve_link(&snapshot, &local.urls, link)?
        else {
            return Ok(None);
        };
        let reader = open_package(&repo, &package, &file, local.remote.as_deref())?;
        let destination = &planned.destination;
        let write_error = |source| Error::WriteFile {
            path: destination.clone(),
            source,
        };
        let mut temp = PartFile::beside(destination).map_err(write_error)?;
        progress.start(&link.name, Some(file.size));
        let mut counted = Counted {
            inner: reader,
            progress: &mut *progress,
        };
        let copied = crate::package::copy_checked(&mut counted, temp.file_mut(), &package, &file);
        progress.finish();
        let size = copied?;
        if let Some(expected) = &link.sha256 {
            if !expected.eq_ignore_ascii_case(&file.file_sha256) {
                return Err(Error::DigestMismatch {
                    link: link.name.clone(),
                    url: link.url.clone(),
                    expected: expected.clone(),
                    actual: file.file_sha256.clone(),
                });
            }
        }
        temp.file_mut().sync_all().map_err(write_error)?;
        Ok(Some(Fetched {
            temp,
            done: Downloaded {
                path: destination.clone(),
                size,
                sha256: file.file_sha256.clone(),
                verified: true,
            },
        }))
    }

    /// Fetches `planned.link.url` into a temporary file beside `planned.destination`
    /// and checks its digest. Nothing is visible at the destination until `persist`, so
    /// a command downloading several assets can write all of them or none; on any
    /// failure, including a digest mismatch, no file is left behind.
    pub fn fetch(&self, planned: &Planned, progress: &mut dyn Progress) -> Result<Fetched> {
        if let Some(fetched) = self.fetch_package(planned, progress)? {
            return Ok(fetched);
        }
        let link = &planned.link;
        let (limit, bound) = self.limits.size_bound(link);
        let (reader, total) = self.open(link)?;
        if let Some(total) = total.filter(|&t| t > limit) {
            return Err(download_failed(
                link,
                format!(
                    "the server announces {total} bytes: {}",
                    bound.exceeded(limit)
                ),
            ));
        }
        let destination = &planned.destination;
        let write_error = |source| Error::WriteFile {
            path: destination.clone(),
            source,
        };
        let mut temp = PartFile::beside(destination).map_err(write_error)?;
        progress.start(&link.name, total);
        let copied = copy_hashing(reader, temp.file_mut(), progress, &self.limits, limit);
        progress.finish();
        let (sha256, size) = match copied {
            Ok(done) => done,
            Err(Copy::Read(e)) => {
                return Err(download_failed(
                    link,
                    format!("reading the response failed: {e}"),
                ));
            }
            Err(Copy::TooLarge) => return Err(download_failed(link, bound.exceeded(limit))),
            Err(Copy::TooSlow { bytes }) => {
                return Err(download_failed(
                    link,
                    format!(
                        "the server sent {bytes} bytes in {} s, below the minimum of {} \
                         bytes a second (git config release.downloadTimeout and \
                         release.downloadMinRate set the bounds)",
                        self.limits.window.as_secs(),
                        self.limits.min_rate
                    ),
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
        temp.file_mut().sync_all().map_err(write_error)?;
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

/// A download's temporary file, `.git-release-*.part` in the destination's directory
/// (so the finished download is renamed into place, never half-written under its real
/// name). Removed when dropped, and by `interrupt::remove_parts` when the process is
/// told to stop (SIGINT, SIGTERM, SIGHUP) in the middle.
pub struct PartFile {
    temp: Option<tempfile::NamedTempFile>,
}

impl PartFile {
    fn beside(destination: &Path) -> std::io::Result<PartFile> {
        let dir = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        interrupt::watch();
        let mut builder = tempfile::Builder::new();
        builder.prefix(".git-release-").suffix(".part");
        // tempfile creates files 0600; a downloaded asset gets the umask's usual mode.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        // Made and registered as one step: a signal that comes in between finds the
        // file registered (the watcher waits for the registry), never left behind.
        let temp = interrupt::create(|| builder.tempfile_in(&dir))?;
        Ok(PartFile { temp: Some(temp) })
    }

    fn file_mut(&mut self) -> &mut std::fs::File {
        self.temp
            .as_mut()
            .expect("present until into_temp")
            .as_file_mut()
    }

    /// The temporary file, no longer removed on a signal (it is about to be renamed).
    fn into_temp(mut self) -> tempfile::NamedTempFile {
        let temp = self.temp.take().expect("present until into_temp");
        interrupt::forget(temp.path());
        temp
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            interrupt::forget(temp.path());
            // NamedTempFile removes the file when dropped.
            drop(temp);
        }
    }
}

/// Partial downloads removed when the process is told to stop: SIGINT, SIGTERM and
/// SIGHUP are blocked in the downloading thread and taken by a thread of their own
/// (`sigwait`), which removes every `.part` file still registered, then lets the
/// signal end the process as it would have (same exit status).
mod interrupt {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once};

    static PARTS: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    static WATCH: Once = Once::new();
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    fn signal_set() -> libc::sigset_t {
        // SAFETY: sigemptyset/sigaddset only write the set they are given.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in SIGNALS {
                libc::sigaddset(&mut set, signal);
            }
            set
        }
    }

    /// Starts the watching thread once. Called from the thread that downloads, before
    /// any `.part` file exists; threads it starts later inherit the blocked signals.
    pub fn watch() {
        WATCH.call_once(|| {
            let set = signal_set();
            // SAFETY: blocks the signals in this thread only; the set is valid.
            let blocked =
                unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
            if blocked != 0 {
                return;
            }
            std::thread::spawn(move || {
                let mut signal: libc::c_int = 0;
                // SAFETY: waits for one of the blocked signals; writes `signal`.
                if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                    return;
                }
                remove_parts();
                // SAFETY: restores the default action and delivers the signal again,
                // unblocked in this thread, so the process ends as the signal says.
                unsafe {
                    libc::signal(signal, libc::SIG_DFL);
                    let mut one: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut one);
                    libc::sigaddset(&mut one, signal);
                    libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
                    libc::raise(signal);
                }
                // Not reached for the default actions of these signals.
                std::process::exit(128 + signal);
            });
        });
    }

    /// Makes a temporary file with `make` while holding the registry, and registers
    /// it: `remove_parts`, run by the watcher on a signal, waits for the registry, so
    /// a file is never made without being registered in between.
    pub fn create(
        make: impl FnOnce() -> std::io::Result<tempfile::NamedTempFile>,
    ) -> std::io::Result<tempfile::NamedTempFile> {
        let mut parts = match PARTS.lock() {
            Ok(parts) => parts,
            Err(poisoned) => poisoned.into_inner(),
        };
        let temp = make()?;
        parts.insert(temp.path().to_path_buf());
        Ok(temp)
    }

    pub fn forget(path: &Path) {
        if let Ok(mut parts) = PARTS.lock() {
            parts.remove(path);
        }
    }

    pub fn remove_parts() {
        let parts = match PARTS.lock() {
            Ok(parts) => parts,
            Err(poisoned) => poisoned.into_inner(),
        };
        for path in parts.iter() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Why a copy stopped.
enum Copy {
    Read(std::io::Error),
    Write(std::io::Error),
    /// The body passed the size bound.
    TooLarge,
    /// A window went by with fewer bytes than the minimum rate asks for.
    TooSlow {
        bytes: u64,
    },
}

/// Copies the body to `file`, hashing as it goes: (SHA-256 hex, size). The body is
/// read on a thread of its own, so that a server which stops sending (or drips a
/// byte at a time) is noticed at the end of a window rather than waited on forever;
/// a body past `limit` bytes is stopped at once.
fn copy_hashing(
    reader: Box<dyn Read + Send + Sync + 'static>,
    file: &mut std::fs::File,
    progress: &mut dyn Progress,
    limits: &Limits,
    limit: u64,
) -> std::result::Result<(String, u64), Copy> {
    use std::sync::mpsc::{RecvTimeoutError, sync_channel};
    use std::time::Instant;

    let (chunks, received) = sync_channel::<std::io::Result<Vec<u8>>>(4);
    // The reader thread ends when the body does, on an error, or when this side stops
    // listening; a stalled read ends with the process (the CLI exits after a failure).
    std::thread::spawn(move || {
        let mut reader = reader;
        loop {
            let mut buffer = vec![0u8; 64 * 1024];
            let sent = match reader.read(&mut buffer) {
                Ok(n) => {
                    buffer.truncate(n);
                    let end = n == 0;
                    chunks.send(Ok(buffer)).is_err() || end
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = chunks.send(Err(e));
                    true
                }
            };
            if sent {
                return;
            }
        }
    });
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let least = (limits.min_rate.saturating_mul(limits.window.as_secs())).max(1);
    let mut window_start = Instant::now();
    let mut window_bytes = 0u64;
    loop {
        let now = Instant::now();
        let deadline = window_start + limits.window;
        if now >= deadline {
            if window_bytes < least {
                return Err(Copy::TooSlow {
                    bytes: window_bytes,
                });
            }
            window_start = now;
            window_bytes = 0;
            continue;
        }
        let chunk = match received.recv_timeout(deadline - now) {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) => return Err(Copy::Read(e)),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Copy::Read(std::io::Error::other(
                    "the body ended unexpectedly",
                )));
            }
        };
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len() as u64;
        if size + n > limit {
            return Err(Copy::TooLarge);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).map_err(Copy::Write)?;
        size += n;
        window_bytes += n;
        progress.advance(n);
    }
    Ok((crate::digest::hex(&hasher.finalize()), size))
}

/// A complete, verified download waiting in its temporary file (removed if dropped).
pub struct Fetched {
    temp: PartFile,
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
        let temp = self.temp.into_temp();
        if force {
            temp.persist(destination)
                .map_err(|e| write_error(e.error))?;
        } else {
            temp.persist_noclobber(destination).map_err(|e| {
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

/// What `git release download` writes: which assets, where, and whether the source
/// archives too.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Direct asset paths (or permanent download URLs) of the assets.
    pub paths: &'a [String],
    /// Link-name globs; with neither paths nor names, every asset link.
    pub names: &'a [String],
    /// The four source archives too; alone (no paths, no names), only them.
    pub sources: bool,
    /// The directory to write into (made if missing).
    pub dir: &'a Path,
    /// The one file to write the one selected asset to, instead of `dir`.
    pub output: Option<&'a Path>,
    pub force: bool,
    /// The remote a package file kept in the repository but not fetched here is
    /// fetched from (that one ref only); `None`: such a file is not fetched.
    pub package_remote: Option<&'a str>,
}

impl Request<'_> {
    /// The asset links it selects: none when it asks for the source archives only. A
    /// release with no asset links is refused unless the archives were asked for.
    pub fn links<'f>(&self, found: &'f Found) -> Result<Vec<&'f Link>> {
        let only_sources = self.sources && self.paths.is_empty() && self.names.is_empty();
        let links = if only_sources {
            Vec::new()
        } else {
            resolve(found, self.paths, self.names)?
        };
        if links.is_empty() && !self.sources {
            return Err(Error::Refused {
                action: format!("downloading the assets of release {}", found.tag),
                reason: format!(
                    "it has no asset links (`git release link add {}` adds one)",
                    crate::text::shell_quote(&found.tag)
                ),
            });
        }
        Ok(links)
    }
}

/// What a download wrote.
#[derive(Debug)]
pub struct Done {
    /// The source archives, when asked for, with what making them warned about.
    pub sources: Vec<crate::archive::WrittenFile>,
    pub source_warnings: Vec<String>,
    /// Each asset link and the file it was written to.
    pub assets: Vec<(Link, Downloaded)>,
}

/// Downloads what `request` selects of `found`'s assets: every file is planned (names,
/// clashes, existing files) before anything is written; the source archives are made
/// first, then the assets are fetched (each checked against its recorded SHA-256) and
/// only when all arrived put in place.
pub fn download(
    repo: &crate::git::Repo,
    found: &Found,
    request: &Request<'_>,
    progress: &mut dyn Progress,
) -> Result<Done> {
    let links = request.links(found)?;
    let planned = plan(&links, request.dir, request.output, request.force)?;
    // The archives' names come from the project name: checked before any directory
    // is made.
    let project = if request.sources {
        Some(crate::git::project::Project::resolve(repo)?)
    } else {
        None
    };
    if request.output.is_none() || project.is_some() {
        std::fs::create_dir_all(request.dir).map_err(|source| Error::WriteFile {
            path: request.dir.to_path_buf(),
            source,
        })?;
    }
    let (sources, source_warnings) = match &project {
        Some(project) => write_sources(repo, project, &found.tag, request.dir, request.force)?,
        None => (Vec::new(), Vec::new()),
    };
    // A link to this project's package URL is read from the package store.
    let downloader = Downloader::new(Limits::configured(repo)?)
        .with_packages(repo, request.package_remote.map(str::to_owned))?;
    let mut fetched = Vec::with_capacity(planned.len());
    for item in &planned {
        fetched.push(downloader.fetch(item, progress)?);
    }
    let mut assets = Vec::with_capacity(fetched.len());
    for (item, fetched) in planned.into_iter().zip(fetched) {
        assets.push((item.link, fetched.persist(request.force)?));
    }
    Ok(Done {
        sources,
        source_warnings,
        assets,
    })
}

/// The four source archives of `tag` into `dir`, named and laid out as GitLab's.
fn write_sources(
    repo: &crate::git::Repo,
    project: &crate::git::project::Project,
    tag: &str,
    dir: &Path,
    force: bool,
) -> Result<(Vec<crate::archive::WrittenFile>, Vec<String>)> {
    use crate::archive;
    let prefix = format!("{}/", archive::base_name(&project.name, tag));
    let request = archive::Request {
        rev: tag,
        prefix: &prefix,
        mode: archive::Mode::Canonical,
        tar_digest: false,
        digests: true,
        path: None,
    };
    let targets = archive::Format::ALL
        .iter()
        .map(|&format| Ok((format, archive::path_in(dir, &project.name, tag, format)?)))
        .collect::<Result<Vec<(archive::Format, PathBuf)>>>()?;
    let (report, files) = archive::write_files(repo, &request, &targets, force, &archive::Silent)?;
    Ok((files, report.warnings))
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
