//! The project's identity: its name (used in archive names and URLs) and web URL.
//! First found wins (docs/configuration.md, "Project identity"): git config, `.git-release.toml`, the
//! `origin` remote, the directory name.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::git::repo::Repo;

pub const PROJECT_FILE: &str = ".git-release.toml";

/// GitLab's numeric project id when nothing sets `release.projectId`.
pub const DEFAULT_PROJECT_ID: u64 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// GitLab's numeric project id (`release.projectId`, `[project] id`; default 1):
    /// every `project_id` and project `id` in JSON and evidence is this one value.
    pub id: u64,
    pub name: String,
    /// `[project] description` (or `release.description`); `None` when not set.
    pub description: Option<String>,
    /// `https://host/group/project`, without a trailing slash; `None` when unknown.
    pub web_url: Option<String>,
}

/// The committed `.git-release.toml`. Unknown keys are allowed so that newer files
/// still work with older binaries.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectFile {
    #[serde(default)]
    pub project: ProjectSection,
    #[serde(default)]
    pub archive: ArchiveSection,
    #[serde(default)]
    pub hook: HookSection,
    #[serde(default)]
    pub evidence: EvidenceSection,
    #[serde(default)]
    pub group: GroupSection,
    /// Where the file was read from (a path, or `HEAD:.git-release.toml`); `None` when
    /// there is no file.
    #[serde(skip)]
    pub location: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProjectSection {
    pub id: Option<u64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub web_url: Option<String>,
}

/// `[group] path = "platform/tools"`, `repository = ".group.git"`: the group the
/// project belongs to, and the name of the group's repository beside the project's
/// directory. Committed, so untrusted: `repository` is one plain name, never a path
/// (`plan::group` checks it).
#[derive(Debug, Default, Deserialize)]
pub struct GroupSection {
    pub path: Option<String>,
    pub repository: Option<String>,
}

/// `[archive] formats = ["zip", "tar.gz"]`: the default source archive formats.
#[derive(Debug, Default, Deserialize)]
pub struct ArchiveSection {
    pub formats: Option<Vec<String>>,
}

/// `[hook] freeze = "refuse" | "warn"`, `verify = true | false`: the pre-push policy.
#[derive(Debug, Default, Deserialize)]
pub struct HookSection {
    pub freeze: Option<String>,
    pub verify: Option<bool>,
}

/// `[evidence] archives = true`: every snapshot also records the source archives'
/// digests (each snapshot then makes the four archives: seconds on a large tree).
#[derive(Debug, Default, Deserialize)]
pub struct EvidenceSection {
    pub archives: Option<bool>,
}

/// Where a setting's value came from (`git release config --list` shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A git configuration key, with the scope it was found in (local, global, …).
    GitConfig { key: String, scope: &'static str },
    /// `.git-release.toml` (the location it was read from) and the key in it.
    ProjectFile { location: String, key: String },
    /// Derived from the `origin` remote's URL.
    Origin { url: String },
    /// The work tree's (or bare repository's) directory name.
    Directory,
    /// Nothing set: the built-in default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::GitConfig { key, scope } => write!(f, "git config {key} ({scope})"),
            Source::ProjectFile { location, key } => write!(f, "{location} ({key})"),
            Source::Origin { url } => write!(f, "origin remote ({url})"),
            Source::Directory => f.write_str("directory name"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// The project's name and web URL with their sources.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: Sourced<u64>,
    pub name: Sourced<String>,
    pub description: Sourced<Option<String>>,
    pub web_url: Sourced<Option<String>>,
}

/// A git configuration string (empty counts as unset) with the scope it came from.
pub(crate) fn git_config_entry(repo: &Repo, key: &str) -> Option<(String, &'static str)> {
    let entry = repo.config().ok()?.entry(key)?;
    let value = entry.value.clone().filter(|v| !v.is_empty())?;
    Some((value, entry.scope.as_str()))
}

/// The `origin` remote's URL as git uses it: `url.<base>.insteadOf` applied (the longest
/// matching prefix wins, as in git's remote.c).
fn origin_url(repo: &Repo) -> Option<String> {
    let config = repo.config().ok()?;
    let url = config.string("remote.origin.url")?;
    let mut best: Option<(usize, String)> = None;
    for entry in config.entries() {
        let Some(base) = entry
            .key
            .strip_prefix("url.")
            .and_then(|rest| rest.strip_suffix(".insteadof"))
        else {
            continue;
        };
        let Some(prefix) = entry.value.as_deref() else {
            continue;
        };
        if url.starts_with(prefix) && best.as_ref().is_none_or(|(len, _)| prefix.len() > *len) {
            best = Some((prefix.len(), format!("{base}{}", &url[prefix.len()..])));
        }
    }
    Some(best.map_or(url, |(_, rewritten)| rewritten))
}

fn from_git(repo: &Repo, key: &str) -> Option<Sourced<String>> {
    git_config_entry(repo, key).map(|(value, scope)| Sourced {
        value,
        source: Source::GitConfig {
            key: key.to_owned(),
            scope,
        },
    })
}

/// A yes/no setting: git config `git_key` (git's spellings), else `from_file` (the
/// project file's `file_key`), else `default`. A value git cannot read as a boolean is
/// an error naming where it was found.
pub fn bool_setting(
    repo: &Repo,
    what: &'static str,
    git_key: &str,
    file: &ProjectFile,
    file_key: &str,
    from_file: Option<bool>,
    default: bool,
) -> Result<Sourced<bool>> {
    if let Some(entry) = repo.config()?.entry(git_key) {
        let text = entry.value.as_deref();
        let value = crate::git::config::parse_bool(text).ok_or_else(|| {
            Error::invalid(
                what,
                text.unwrap_or_default(),
                format!("from git config {git_key}: expected true or false"),
            )
        })?;
        return Ok(Sourced {
            value,
            source: Source::GitConfig {
                key: git_key.to_owned(),
                scope: entry.scope.as_str(),
            },
        });
    }
    Ok(match from_file {
        Some(value) => Sourced {
            value,
            source: file.source(file_key),
        },
        None => Sourced {
            value: default,
            source: Source::Default,
        },
    })
}

/// Whether snapshots record archive digests without being asked (`evidence.archives`,
/// git config `release.evidenceArchives`); off by default.
pub fn evidence_archives(repo: &Repo, file: &ProjectFile) -> Result<Sourced<bool>> {
    bool_setting(
        repo,
        "evidence archives setting",
        EVIDENCE_ARCHIVES_KEY,
        file,
        "evidence.archives",
        file.evidence.archives,
        false,
    )
}

/// The git configuration key of `evidence.archives`.
pub const EVIDENCE_ARCHIVES_KEY: &str = "release.evidenceArchives";

impl ProjectFile {
    pub(crate) fn source(&self, key: &str) -> Source {
        Source::ProjectFile {
            location: self.location.clone().unwrap_or_else(|| PROJECT_FILE.into()),
            key: key.to_owned(),
        }
    }
}

impl Identity {
    /// First found wins (docs/configuration.md, "Project identity").
    pub fn resolve(repo: &Repo, file: &ProjectFile) -> Result<Self> {
        let origin = std::cell::OnceCell::new();
        let origin = || origin.get_or_init(|| origin_url(repo)).as_deref();
        let from_file = |value: &Option<String>, key: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .map(|value| Sourced {
                    value,
                    source: file.source(key),
                })
        };
        let from_origin = |derive: fn(&str) -> Option<String>| {
            let url = origin()?;
            derive(url).map(|value| Sourced {
                value,
                source: Source::Origin {
                    url: url.to_owned(),
                },
            })
        };
        let name = from_git(repo, "release.project")
            .or_else(|| from_file(&file.project.name, "project.name"))
            .or_else(|| from_origin(name_from_url))
            .unwrap_or_else(|| Sourced {
                value: directory_name(repo),
                source: Source::Directory,
            });
        // The name becomes the archives' file names and the directory their entries are
        // under: one file name, whoever wrote it (a cloned repository's
        // `.git-release.toml`, a remote's URL).
        crate::model::paths::check_file_name(&name.value).map_err(|reason| {
            Error::invalid(
                "project name",
                name.value.clone(),
                format!(
                    "from {}: {reason}; it names the source archives, so it must be one \
                     plain file name (set another with `git config release.project NAME`)",
                    name.source
                ),
            )
        })?;
        let web_url = from_git(repo, "release.webUrl")
            .or_else(|| from_file(&file.project.web_url, "project.web_url"))
            .or_else(|| from_origin(web_url_from_remote))
            .map_or(
                Sourced {
                    value: None,
                    source: Source::Default,
                },
                |s| Sourced {
                    value: Some(s.value.trim_end_matches('/').to_owned()),
                    source: s.source,
                },
            );
        let id = match from_git(repo, "release.projectId") {
            Some(raw) => Sourced {
                value: parse_project_id(&raw.value, &raw.source)?,
                source: raw.source,
            },
            None => match file.project.id {
                Some(0) => {
                    return Err(Error::invalid(
                        "project id",
                        "0",
                        format!(
                            "from {}: expected a positive integer",
                            file.source("project.id")
                        ),
                    ));
                }
                Some(value) => Sourced {
                    value,
                    source: file.source("project.id"),
                },
                None => Sourced {
                    value: DEFAULT_PROJECT_ID,
                    source: Source::Default,
                },
            },
        };
        let description = from_git(repo, "release.description")
            .or_else(|| from_file(&file.project.description, "project.description"))
            .map_or(
                Sourced {
                    value: None,
                    source: Source::Default,
                },
                |s| Sourced {
                    value: Some(s.value),
                    source: s.source,
                },
            );
        Ok(Identity {
            id,
            name,
            description,
            web_url,
        })
    }
}

fn parse_project_id(text: &str, source: &Source) -> Result<u64> {
    match text.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(Error::invalid(
            "project id",
            text,
            format!("from {source}: expected a positive integer"),
        )),
    }
}

impl Project {
    pub fn resolve(repo: &Repo) -> Result<Self> {
        let identity = Identity::resolve(repo, &ProjectFile::load(repo)?)?;
        Ok(Project {
            id: identity.id.value,
            name: identity.name.value,
            description: identity.description.value,
            web_url: identity.web_url.value,
        })
    }

    /// When the project began, as GitLab's `project.created_at` says it: here the
    /// commit time of the first commit (the root of HEAD's first-parent history, else
    /// of `fallback`'s). `None` in a repository without commits.
    pub fn created_at(
        repo: &Repo,
        fallback: Option<git2::Oid>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let git = repo.git();
        let start = git
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .map(|c| c.id())
            .or(fallback)?;
        let root = first_parent_root(repo, start)?;
        let commit = git.find_commit(root).ok()?;
        chrono::DateTime::from_timestamp(commit.time().seconds(), 0)
    }

    /// The path part of the web URL (`/group/project`), as GitLab's `*_path` fields use.
    pub fn web_path(&self) -> Option<String> {
        let url = self.web_url.as_deref()?;
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        Some(path.trim_end_matches('/').to_owned())
    }
}

impl ProjectFile {
    /// Reads `.git-release.toml` from the work tree, or from HEAD's tree in a bare
    /// repository. A missing file is an empty configuration; a malformed one an error.
    pub fn load(repo: &Repo) -> Result<Self> {
        let (text, location) = match repo.work_dir() {
            Some(dir) => {
                let path = dir.join(PROJECT_FILE);
                match std::fs::read(&path) {
                    Ok(bytes) => (bytes, path.display().to_string()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(Self::default());
                    }
                    Err(source) => return Err(Error::ReadFile { path, source }),
                }
            }
            None => match head_file(repo.git(), PROJECT_FILE) {
                Some(bytes) => (bytes, format!("HEAD:{PROJECT_FILE}")),
                None => return Ok(Self::default()),
            },
        };
        let text = String::from_utf8(text)
            .map_err(|_| Error::corrupt(location.clone(), "the file is not UTF-8 text"))?;
        let mut file: ProjectFile = toml::from_str(&text)
            .map_err(|e| Error::corrupt_by(location.clone(), "not valid TOML", e))?;
        // Shown as a source in `config --list`: the name, not the absolute path.
        file.location = Some(match repo.work_dir() {
            Some(_) => PROJECT_FILE.to_owned(),
            None => format!("HEAD:{PROJECT_FILE}"),
        });
        Ok(file)
    }
}

fn head_file(repo: &git2::Repository, path: &str) -> Option<Vec<u8>> {
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(blob.content().to_vec())
}

fn directory_name(repo: &Repo) -> String {
    let dir = match repo.work_dir() {
        Some(dir) => dir.to_path_buf(),
        None => repo.git_dir().to_path_buf(),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    name.strip_suffix(".git").map(str::to_owned).unwrap_or(name)
}

/// `git@host:group/proj.git`, `https://host/group/proj.git`, `/srv/proj.git`,
/// `/tmp/proj.bundle` → `proj`.
fn name_from_url(url: &str) -> Option<String> {
    // `git clone --bare .` records the source as `/path/proj/.`: skip `.` and empty
    // components as git does when it names a clone; `..` names no project.
    let last = url
        .rsplit(['/', ':'])
        .find(|part| !part.is_empty() && *part != "." && *part != ".git")?;
    if last == ".." {
        return None;
    }
    // As `git clone` names its directory: `.git` off a repository, `.bundle` off a
    // bundle file.
    let name = last
        .strip_suffix(".git")
        .or_else(|| last.strip_suffix(".bundle"))
        .unwrap_or(last);
    (!name.is_empty()).then(|| name.to_owned())
}

/// Derives `https://host/group/proj` from a remote URL on a known hosted form:
/// scp-like `git@host:group/proj.git`, `ssh://git@host[:port]/group/proj.git`,
/// `https://host/group/proj.git`. Local paths and `file://` give `None`.
fn web_url_from_remote(url: &str) -> Option<String> {
    let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(
            scheme,
            "http" | "https" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = if scheme == "http" || scheme == "https" {
            host
        } else {
            host.split(':').next()?
        };
        (host.to_owned(), path)
    } else {
        // scp-like syntax: [user@]host:path, where host has no slash before the colon.
        let (authority, path) = url.split_once(':')?;
        if authority.contains('/') || authority.is_empty() {
            return None;
        }
        (authority.rsplit('@').next()?.to_owned(), path)
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(format!("https://{host}/{path}"))
}

/// Where `Project::created_at` remembers the last root it found: `<tip> <root>`.
const ROOT_CACHE: &str = "git-release/first-parent-root";

/// The root of `start`'s first-parent history. Every evidence snapshot needs it, and
/// walking the whole history each time was most of a `create` in a long-lived
/// repository (50,000 commits: a second). A commit's first-parent root never changes,
/// so the last answer is kept in the git directory and the walk stops at the commit it
/// was found from: a release made a few commits later walks those few. The file is
/// only a cache: missing, unreadable or naming commits that are gone, it is ignored and
/// rewritten; a repository whose history can be rewritten under a commit (shallow,
/// grafts) does not use it.
fn first_parent_root(repo: &Repo, start: git2::Oid) -> Option<git2::Oid> {
    let git = repo.git();
    let cacheable = !git.is_shallow() && !git.commondir().join("info/grafts").exists();
    let cache = git.commondir().join(ROOT_CACHE);
    let cached = cacheable
        .then(|| std::fs::read_to_string(&cache).ok())
        .flatten()
        .and_then(|text| {
            let (tip, root) = text.trim().split_once(' ')?;
            Some((
                git2::Oid::from_str(tip).ok()?,
                git2::Oid::from_str(root).ok()?,
            ))
        })
        .filter(|(_, root)| git.find_commit(*root).is_ok());
    let mut commit = git.find_commit(start).ok()?;
    let root = loop {
        if let Some((tip, root)) = cached {
            if commit.id() == tip {
                if tip == start {
                    return Some(root);
                }
                break root;
            }
        }
        match commit.parent(0) {
            Ok(parent) => commit = parent,
            // No parent, or one missing from this clone: the history ends here, as a
            // walk ends.
            Err(_) => break commit.id(),
        }
    };
    if cacheable {
        // Best effort: a read-only repository just walks again next time.
        let _ = write_root_cache(&cache, start, root);
    }
    Some(root)
}

fn write_root_cache(path: &Path, tip: git2::Oid, root: git2::Oid) -> std::io::Result<()> {
    let dir = path.parent().expect("the cache path has a directory");
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, format!("{tip} {root}\n").as_bytes())?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_project_after_the_last_real_path_component() {
        let cases = [
            ("git@gitlab.com:group/proj.git", Some("proj")),
            ("https://host/g/proj/", Some("proj")),
            ("/srv/git/proj/.", Some("proj")),
            ("/srv/git/proj/.git", Some("proj")),
            ("/srv/git/proj.git/", Some("proj")),
            ("../..", None),
        ];
        for (url, want) in cases {
            assert_eq!(name_from_url(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn derives_web_url_from_hosted_remotes_only() {
        let cases = [
            (
                "git@gitlab.com:group/proj.git",
                Some("https://gitlab.com/group/proj"),
            ),
            (
                "ssh://git@example.org:2222/a/b/c.git",
                Some("https://example.org/a/b/c"),
            ),
            ("https://user@host.io/g/p.git", Some("https://host.io/g/p")),
            ("/srv/git/proj.git", None),
            ("file:///srv/git/proj.git", None),
            ("../relative/proj", None),
        ];
        for (url, want) in cases {
            assert_eq!(web_url_from_remote(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn names_projects_after_the_last_url_component() {
        assert_eq!(name_from_url("git@h:g/proj.git").as_deref(), Some("proj"));
        assert_eq!(name_from_url("/srv/proj/").as_deref(), Some("proj"));
    }
}
