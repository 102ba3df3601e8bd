//! Installing the pre-push hook: where git looks for hooks (`core.hooksPath`, the
//! common directory of linked worktrees), and never clobbering a hook the user had —
//! it is moved aside and chained, so both run with the same input.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::repo::Repo;

pub const HOOK: &str = "pre-push";
/// A user's own pre-push hook, moved aside; ours runs it after its checks.
pub const CHAINED: &str = "pre-push.git-release-chained";
/// A user's hook replaced with `--force`: kept, not run; `uninstall` restores it.
pub const BACKUP: &str = "pre-push.git-release-backup";
/// Recognizes our hook (so install is idempotent and uninstall never removes another's).
const MARKER: &str = "# git-release pre-push hook";

/// The hook script. It reads git's input once and hands it to both our check and the
/// chained hook; `git release` is found on PATH (git puts its exec-path first).
fn script() -> String {
    format!(
        r#"#!/bin/sh
{MARKER} (installed by `git release hook install`; remove with `git release hook uninstall`).
# Refuses to push tags during a deploy freeze or when a release's tag moved.
# Skip it once with `git push --no-verify`; let tags through a freeze with {allow}=1.
if ! command -v git-release >/dev/null 2>&1; then
    echo "pre-push: git-release is not on PATH; install it, or skip this check with git push --no-verify" >&2
    exit 1
fi
input=$(cat)
feed() {{ if [ -n "$input" ]; then printf '%s\n' "$input"; fi; }}
feed | git release hook pre-push "$@" || exit $?
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
    feed | "$chained" "$@" || exit $?
fi
exit 0
"#,
        allow = crate::audit::prepush::ALLOW_FREEZE_VARIABLE,
    )
}

/// Where git runs hooks from for this repository.
#[derive(Debug, Clone)]
pub struct HooksDir {
    pub path: PathBuf,
    /// `core.hooksPath` as configured, when set.
    pub configured: Option<String>,
    /// The directory lies inside the work tree (e.g. husky's `.husky/_`).
    pub in_work_tree: Option<PathBuf>,
    /// Files under it are tracked: the hooks directory is committed.
    pub committed: bool,
}

/// Resolves the hooks directory as git does: `core.hooksPath` (`~/` expanded; relative
/// to the work tree root, or the git directory of a bare repository), else `hooks` in
/// the common git directory (shared by all linked worktrees).
pub fn hooks_dir(repo: &Repo) -> Result<HooksDir> {
    let git = repo.git();
    let configured = repo.config_string("core.hooksPath");
    let path = match &configured {
        Some(raw) => {
            let expanded = match raw.strip_prefix("~/") {
                Some(rest) => match std::env::var_os("HOME") {
                    Some(home) => Path::new(&home).join(rest),
                    None => PathBuf::from(raw),
                },
                None => PathBuf::from(raw),
            };
            if expanded.is_absolute() {
                expanded
            } else {
                repo.work_dir().unwrap_or(repo.git_dir()).join(expanded)
            }
        }
        None => git.commondir().join("hooks"),
    };
    let mut dir = HooksDir {
        path,
        configured,
        in_work_tree: None,
        committed: false,
    };
    if let Some(work) = repo.work_dir() {
        let canonical = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let (work, hooks) = (canonical(work), canonical(&dir.path));
        if let Ok(relative) = hooks.strip_prefix(&work) {
            if !relative.as_os_str().is_empty() {
                dir.committed = is_tracked_dir(repo, relative);
                dir.in_work_tree = Some(relative.to_path_buf());
            }
        }
    }
    Ok(dir)
}

fn is_tracked_dir(repo: &Repo, relative: &Path) -> bool {
    let Ok(index) = repo.git().index() else {
        return false;
    };
    let mut prefix = relative.to_string_lossy().replace('\\', "/");
    prefix.push('/');
    index
        .iter()
        .any(|entry| entry.path.starts_with(prefix.as_bytes()))
}

fn is_ours(path: &Path) -> bool {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).contains(MARKER))
        .unwrap_or(false)
}

fn exists(path: &Path) -> bool {
    // A dangling symlink is still a hook the user put there.
    fs::symlink_metadata(path).is_ok()
}

#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    /// No pre-push hook was there.
    New,
    /// Ours was there and is now the current version.
    Updated,
    /// Ours was there, unchanged.
    Unchanged,
    /// The user's hook was moved to `CHAINED` and runs after ours.
    Chained,
    /// `--force`: the user's hook was moved to `BACKUP` and no longer runs.
    Replaced,
}

#[derive(Debug)]
pub struct Install {
    pub dir: HooksDir,
    pub hook: PathBuf,
    pub outcome: Installed,
}

/// Installs the hook. An existing hook of the user's is chained (moved to `CHAINED`,
/// run after ours); with `force` it is moved to `BACKUP` and not run. When a chained
/// hook is already there beside a foreign `pre-push`, nothing is changed.
pub fn install(repo: &Repo, force: bool) -> Result<Install> {
    let dir = hooks_dir(repo)?;
    let hook = dir.path.join(HOOK);
    let chained = dir.path.join(CHAINED);
    let backup = dir.path.join(BACKUP);
    let outcome = if !exists(&hook) {
        Installed::New
    } else if is_ours(&hook) {
        if fs::read(&hook).ok().as_deref() == Some(script().as_bytes()) {
            return Ok(Install {
                dir,
                hook,
                outcome: Installed::Unchanged,
            });
        }
        Installed::Updated
    } else {
        let aside = if force { &backup } else { &chained };
        if exists(aside) {
            return Err(Error::Refused {
                action: format!("installing the pre-push hook in {}", dir.path.display()),
                reason: format!(
                    "{} is not git-release's, and {} already exists; moving the hook there would lose one of them \
                     (inspect both, remove or merge one, then run `git release hook install` again)",
                    hook.display(),
                    aside.display()
                ),
            });
        }
        if force {
            Installed::Replaced
        } else {
            Installed::Chained
        }
    };
    fs::create_dir_all(&dir.path).map_err(|source| Error::WriteFile {
        path: dir.path.clone(),
        source,
    })?;
    // Written beside the target and renamed over it: never a half-written hook.
    let mut temp = tempfile::Builder::new()
        .prefix(".pre-push.git-release")
        .tempfile_in(&dir.path)
        .map_err(|source| Error::WriteFile {
            path: dir.path.clone(),
            source,
        })?;
    let write_error = |source| Error::WriteFile {
        path: hook.clone(),
        source,
    };
    temp.write_all(script().as_bytes()).map_err(write_error)?;
    set_executable(temp.path()).map_err(write_error)?;
    let moved_to = match outcome {
        Installed::Chained => Some(&chained),
        Installed::Replaced => Some(&backup),
        _ => None,
    };
    if let Some(aside) = moved_to {
        fs::rename(&hook, aside).map_err(|source| Error::WriteFile {
            path: aside.clone(),
            source,
        })?;
    }
    if let Err(e) = temp.persist(&hook) {
        if let Some(aside) = moved_to {
            let _ = fs::rename(aside, &hook);
        }
        return Err(Error::WriteFile {
            path: hook,
            source: e.error,
        });
    }
    Ok(Install { dir, hook, outcome })
}

/// rwxr-xr-x: git runs it; nobody else may rewrite what runs on every push.
#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Whether a (chained) hook file can be rewritten by anyone: worth a warning, since it
/// runs on every push.
#[cfg(unix)]
pub fn world_writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o002 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
pub fn world_writable(_path: &Path) -> bool {
    false
}

#[derive(Debug, PartialEq, Eq)]
pub enum Uninstalled {
    /// Ours was removed; the user's hook (if one was set aside) is back in place.
    Removed { restored: Option<PathBuf> },
    /// There was no hook of ours.
    NotInstalled,
}

#[derive(Debug)]
pub struct Uninstall {
    pub dir: HooksDir,
    pub hook: PathBuf,
    pub outcome: Uninstalled,
}

/// Removes our hook and puts back the one it chained (or replaced with `--force`).
/// A `pre-push` that is not ours is left alone.
pub fn uninstall(repo: &Repo) -> Result<Uninstall> {
    let dir = hooks_dir(repo)?;
    let hook = dir.path.join(HOOK);
    if !exists(&hook) || !is_ours(&hook) {
        return Ok(Uninstall {
            dir,
            hook,
            outcome: Uninstalled::NotInstalled,
        });
    }
    fs::remove_file(&hook).map_err(|source| Error::WriteFile {
        path: hook.clone(),
        source,
    })?;
    let mut restored = None;
    for aside in [dir.path.join(CHAINED), dir.path.join(BACKUP)] {
        if exists(&aside) {
            fs::rename(&aside, &hook).map_err(|source| Error::WriteFile {
                path: aside.clone(),
                source,
            })?;
            restored = Some(aside);
            break;
        }
    }
    Ok(Uninstall {
        dir,
        hook,
        outcome: Uninstalled::Removed { restored },
    })
}
