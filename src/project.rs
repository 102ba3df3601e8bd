//! The project's identity: its name (used in archive names and URLs) and web URL.
//! First found wins (DESIGN → Project identity): git config, `.git-release.toml`, the
//! `origin` remote, the directory name.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::repo::Repo;

pub const PROJECT_FILE: &str = ".git-release.toml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub name: String,
    /// `https://host/group/project`, without a trailing slash; `None` when unknown.
    pub web_url: Option<String>,
}

/// The committed `.git-release.toml`. Unknown keys are allowed so that newer files
/// still work with older binaries.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectFile {
    #[serde(default)]
    pub project: ProjectSection,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProjectSection {
    pub name: Option<String>,
    pub web_url: Option<String>,
}

impl Project {
    pub fn resolve(repo: &Repo) -> Result<Self> {
        let file = ProjectFile::load(repo)?;
        let origin = repo
            .git()
            .find_remote("origin")
            .ok()
            .and_then(|r| r.url().ok().map(str::to_owned));

        let name = repo
            .config_string("release.project")
            .or(file.project.name.clone().filter(|n| !n.is_empty()))
            .or_else(|| origin.as_deref().and_then(name_from_url))
            .unwrap_or_else(|| directory_name(repo));
        let web_url = repo
            .config_string("release.webUrl")
            .or(file.project.web_url.clone().filter(|u| !u.is_empty()))
            .or_else(|| origin.as_deref().and_then(web_url_from_remote))
            .map(|u| u.trim_end_matches('/').to_owned());
        Ok(Project { name, web_url })
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
        toml::from_str(&text)
            .map_err(|e| Error::corrupt(location, e.to_string().trim_end().to_owned()))
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

/// `git@host:group/proj.git`, `https://host/group/proj.git`, `/srv/proj.git` → `proj`.
fn name_from_url(url: &str) -> Option<String> {
    let trimmed = url.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
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

#[cfg(test)]
mod tests {
    use super::*;

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
