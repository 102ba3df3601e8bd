//! Where the protected-tag rules are read from, and the allowed-signers files they
//! name.
//!
//! `.git-release.toml` travels with the project, so anyone who can commit can change
//! it, and the work tree holds whatever the last checkout or edit left there. The rules
//! are therefore read from a commit, never from the work tree: by default from the
//! remote's default branch as last fetched (what the project agreed on), else HEAD's
//! commit in a repository with no such branch (the upstream itself, a served bare
//! repository). A trust anchor outside the project's history can replace that: a file
//! outside the repository (`release.protectedTagsFile`) or a commit pinned by id
//! (`release.protectedTagsFrom`) — git config is the user's, not the clone's. The
//! allowed-signers file a rule names is read from the same place as the rule.

use std::path::{Path, PathBuf};

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::project::PROJECT_FILE;
use crate::git::repo::Repo;
use crate::model::paths::{FileMode, verify_path};
use crate::model::{ProtectedTag, ProtectedTags};

/// git config: a rules file outside the repository (a trust anchor).
pub const FILE_KEY: &str = "release.protectedTagsFile";

/// The most a rules or allowed-signers file may hold: both come with anyone's clone,
/// and a real one is a few kilobytes; a larger one is refused unread.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// git config: the commit whose `.git-release.toml` holds the rules (a trust anchor).
pub const COMMIT_KEY: &str = "release.protectedTagsFrom";

/// Which rules the caller asks for.
#[derive(Debug, Clone)]
pub enum RulesChoice {
    /// As configured (`release.protectedTagsFile`, `release.protectedTagsFrom`), else
    /// the default branch of `remote` as last fetched, else HEAD's commit.
    Configured { remote: String },
    /// The `.git-release.toml` of this commit (any revision; resolved to its commit).
    Commit(String),
    /// This file, outside the repository.
    File(PathBuf),
}

/// Where the rules in force were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesSource {
    File {
        path: PathBuf,
        /// The git setting that named it, if one did.
        setting: Option<&'static str>,
    },
    /// A pinned commit.
    Commit {
        rev: String,
        commit: Oid,
        setting: Option<&'static str>,
    },
    /// The remote's default branch as last fetched (`refs/remotes/origin/main`).
    RemoteBranch { refname: String, commit: Oid },
    /// HEAD's commit: there is no remote-tracking default branch.
    Head { commit: Oid },
    /// A repository without commits: no rules.
    Nowhere,
}

impl RulesSource {
    /// `origin/main:.git-release.toml`, `/etc/rules.toml`, …
    pub fn describe(&self) -> String {
        match self {
            RulesSource::File { path, .. } => path.display().to_string(),
            RulesSource::Commit { rev, commit, .. } => {
                let short = &commit.to_string()[..12];
                if rev.starts_with(short) {
                    format!("{short}:{PROJECT_FILE}")
                } else {
                    format!("{rev} ({short}):{PROJECT_FILE}")
                }
            }
            RulesSource::RemoteBranch { refname, .. } => {
                let short = refname.strip_prefix("refs/remotes/").unwrap_or(refname);
                format!("{short}:{PROJECT_FILE}")
            }
            RulesSource::Head { .. } => format!("HEAD:{PROJECT_FILE}"),
            RulesSource::Nowhere => "(no commits)".into(),
        }
    }

    /// Why this source: the setting that pinned it, or the default's reason.
    pub fn reason(&self) -> String {
        match self {
            RulesSource::File {
                setting: Some(key), ..
            }
            | RulesSource::Commit {
                setting: Some(key), ..
            } => format!("pinned by git config {key}"),
            RulesSource::File { .. } | RulesSource::Commit { .. } => {
                "pinned on the command line".into()
            }
            RulesSource::RemoteBranch { .. } => {
                "the remote's default branch as last fetched".into()
            }
            RulesSource::Head { .. } => "no remote-tracking default branch: HEAD's commit".into(),
            RulesSource::Nowhere => "nothing committed yet".into(),
        }
    }

    fn commit(&self) -> Option<Oid> {
        match self {
            RulesSource::Commit { commit, .. }
            | RulesSource::RemoteBranch { commit, .. }
            | RulesSource::Head { commit } => Some(*commit),
            RulesSource::File { .. } | RulesSource::Nowhere => None,
        }
    }
}

/// The protected-tag rules in force, and where they came from.
#[derive(Debug, Clone)]
pub struct Rules {
    pub tags: ProtectedTags,
    pub source: RulesSource,
}

impl Rules {
    pub fn load(repo: &Repo, choice: &RulesChoice) -> Result<Rules> {
        let source = resolve(repo, choice)?;
        let location = source.describe();
        let text = match &source {
            RulesSource::File { path, .. } => {
                Some(read_bounded(path).map_err(|source| Error::ReadFile {
                    path: path.clone(),
                    source,
                })?)
            }
            RulesSource::Nowhere => None,
            tree => read_blob(repo, tree.commit().expect("a commit source"), PROJECT_FILE)?,
        };
        let tags = match text {
            None => ProtectedTags {
                rules: Vec::new(),
                location,
            },
            Some(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| Error::InvalidFile {
                    location: location.clone(),
                    line: None,
                    reason: "the file is not UTF-8 text".into(),
                })?;
                ProtectedTags::parse(&text, &location)?
            }
        };
        Ok(Rules { tags, source })
    }

    /// The rules of the work tree's `.git-release.toml` (what is being edited, which
    /// applies once it reaches the source above): `None` without a work tree or file.
    pub fn work_tree(repo: &Repo) -> Result<Option<ProtectedTags>> {
        let Some(dir) = repo.work_dir() else {
            return Ok(None);
        };
        let path = dir.join(PROJECT_FILE);
        let bytes = match read_bounded(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::ReadFile { path, source }),
        };
        let text = String::from_utf8(bytes).map_err(|_| Error::InvalidFile {
            location: PROJECT_FILE.into(),
            line: None,
            reason: "the file is not UTF-8 text".into(),
        })?;
        ProtectedTags::parse(&text, PROJECT_FILE).map(Some)
    }

    /// The bytes of the allowed-signers file `rule` names, read from where the rule
    /// was, and a name for it in messages. `None` when the rule names none.
    pub fn allowed_signers(
        &self,
        repo: &Repo,
        rule: &ProtectedTag,
    ) -> Result<Option<(Vec<u8>, String)>> {
        let Some(name) = &rule.allowed_signers else {
            return Ok(None);
        };
        let bad = |reason: String| Error::InvalidFile {
            location: self.tags.location.clone(),
            line: Some(rule.line),
            reason: format!("allowed_signers {name:?}: {reason}"),
        };
        match &self.source {
            RulesSource::File { path, .. } => {
                // A file outside the repository is the user's own: its paths are
                // relative to where it is, or absolute.
                let base = path.parent().unwrap_or(Path::new("."));
                let file = base.join(name);
                let bytes = read_bounded(&file)
                    .map_err(|e| bad(format!("cannot read {}: {e}", file.display())))?;
                Ok(Some((bytes, file.display().to_string())))
            }
            RulesSource::Nowhere => Err(bad("there is no commit to read it from".into())),
            tree => {
                // A committed rule names a committed file: a path in the same tree,
                // never one on this machine.
                let relative = name.strip_prefix("./").unwrap_or(name);
                if relative.starts_with('/') || !verify_path(relative.as_bytes(), FileMode::File) {
                    return Err(bad(
                        "a committed rule names a file of the repository by its path from the top (no /, .. or .git)"
                            .into(),
                    ));
                }
                let commit = tree.commit().expect("a commit source");
                let place = match tree {
                    RulesSource::RemoteBranch { refname, .. } => refname
                        .strip_prefix("refs/remotes/")
                        .unwrap_or(refname)
                        .to_owned(),
                    RulesSource::Head { .. } => "HEAD".into(),
                    _ => commit.to_string()[..12].to_owned(),
                };
                match read_blob(repo, commit, relative)? {
                    Some(bytes) => Ok(Some((bytes, format!("{place}:{relative}")))),
                    None => Err(bad(format!("{place} has no file {relative}"))),
                }
            }
        }
    }
}

fn resolve(repo: &Repo, choice: &RulesChoice) -> Result<RulesSource> {
    let pinned_commit = |rev: &str, setting: Option<&'static str>| -> Result<RulesSource> {
        let commit = repo
            .git()
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| Error::InvalidInput {
                what: "protected-tags commit",
                value: rev.to_owned(),
                reason: format!(
                    "{}{}",
                    e.message(),
                    setting
                        .map(|k| format!(" (from git config {k})"))
                        .unwrap_or_default()
                ),
            })?;
        Ok(RulesSource::Commit {
            rev: rev.to_owned(),
            commit: commit.id(),
            setting,
        })
    };
    match choice {
        RulesChoice::File(path) => Ok(RulesSource::File {
            path: path.clone(),
            setting: None,
        }),
        RulesChoice::Commit(rev) => pinned_commit(rev, None),
        RulesChoice::Configured { remote } => {
            if let Some(path) = repo.config_path(FILE_KEY) {
                return Ok(RulesSource::File {
                    path,
                    setting: Some(FILE_KEY),
                });
            }
            if let Some(rev) = repo.config_string(COMMIT_KEY) {
                return pinned_commit(&rev, Some(COMMIT_KEY));
            }
            if let Some((refname, commit)) = remote_default_branch(repo, remote) {
                return Ok(RulesSource::RemoteBranch { refname, commit });
            }
            Ok(
                match repo.git().head().ok().and_then(|h| h.peel_to_commit().ok()) {
                    Some(commit) => RulesSource::Head {
                        commit: commit.id(),
                    },
                    None => RulesSource::Nowhere,
                },
            )
        }
    }
}

/// `refs/remotes/<remote>/HEAD`'s branch (what `git clone` and `git remote set-head`
/// record), else the remote-tracking branch named like `init.defaultBranch`, `main`
/// or `master`.
fn remote_default_branch(repo: &Repo, remote: &str) -> Option<(String, Oid)> {
    // A URL (a push to an unnamed remote) has no remote-tracking branches.
    if remote.is_empty() || remote.contains('/') || remote.contains(':') {
        return None;
    }
    let git = repo.git();
    let head = format!("refs/remotes/{remote}/HEAD");
    let mut candidates = Vec::new();
    if let Ok(reference) = git.find_reference(&head) {
        if let Ok(Some(target)) = reference.symbolic_target() {
            candidates.push(target.to_owned());
        }
    }
    let configured = repo.config_string("init.defaultBranch");
    for branch in configured
        .iter()
        .map(String::as_str)
        .chain(["main", "master"])
    {
        candidates.push(format!("refs/remotes/{remote}/{branch}"));
    }
    candidates.into_iter().find_map(|refname| {
        let commit = git
            .find_reference(&refname)
            .ok()?
            .peel_to_commit()
            .ok()?
            .id();
        Some((refname, commit))
    })
}

/// The bytes of `path` in `commit`'s tree; `None` when there is no such file.
fn read_blob(repo: &Repo, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
    let git = repo.git();
    let tree = git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| Error::git(format!("cannot read the tree of commit {commit}"), e))?;
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    let cannot = |e| Error::git(format!("cannot read {path} of commit {commit}"), e);
    let (size, _) = git
        .odb()
        .and_then(|odb| odb.read_header(entry.id()))
        .map_err(cannot)?;
    if size as u64 > MAX_FILE_BYTES {
        return Err(too_large(&format!("{path} of commit {commit}")));
    }
    let blob = git.find_blob(entry.id()).map_err(cannot)?;
    Ok(Some(blob.content().to_vec()))
}

fn too_large(location: &str) -> Error {
    Error::InvalidFile {
        location: location.to_owned(),
        line: None,
        reason: format!(
            "it is larger than {MAX_FILE_BYTES} bytes, which no rules file needs: not read"
        ),
    }
}

/// A file of at most [`MAX_FILE_BYTES`] (read no further than that).
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is larger than {MAX_FILE_BYTES} bytes, which no rules file needs: not read"
            ),
        ));
    }
    Ok(bytes)
}
