//! The only place that opens the repository. `Repo` is a thin newtype over
//! `git2::Repository`, a git-only adapter: what the configuration layer derives from
//! it (the person, the project's identity) is resolved by `Person` and `Project`, and
//! held by the caller.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::config::GitConfig;

pub struct Repo {
    inner: git2::Repository,
    /// The configuration as git resolves it, read once (git reads it once per process).
    config: std::cell::OnceCell<GitConfig>,
}

impl Repo {
    /// Opens the repository as git does: `GIT_DIR`/`GIT_WORK_TREE` when set, else by
    /// searching upwards from the current directory (work tree, subdirectory, bare
    /// repository or linked worktree alike).
    pub fn open_from_env() -> Result<Self> {
        let path = std::env::current_dir().unwrap_or_default();
        let inner = git2::Repository::open_from_env().map_err(|source| open_error(path, source))?;
        let repo = Self::from_git2(bare_as_git_guesses(inner)?);
        // A configuration git would refuse to run with (a bogus `GIT_CONFIG_PARAMETERS`,
        // a bad file) is refused here, before any work, as git refuses it.
        repo.config()?;
        Ok(repo)
    }

    /// Opens the repository that contains `path` (used by tests and `-C`).
    pub fn discover(path: &Path) -> Result<Self> {
        let inner = git2::Repository::discover(path)
            .map_err(|source| open_error(path.to_path_buf(), source))?;
        let repo = Self::from_git2(bare_as_git_guesses(inner)?);
        repo.config()?;
        Ok(repo)
    }

    /// Opens the repository at `path` exactly (a work tree, its `.git`, or a bare
    /// repository), as `git -C path` would with discovery stopped there: no search
    /// upwards and no `GIT_DIR` from the environment. A server keeps many repositories
    /// open at once and must open each one where it was found, whatever it lacks that
    /// discovery looks for (a bare mirror without a `config` file, for one).
    pub fn open_exact(path: &Path) -> Result<Self> {
        let inner = git2::Repository::open_ext(
            path,
            git2::RepositoryOpenFlags::NO_SEARCH,
            std::iter::empty::<&std::ffi::OsStr>(),
        )
        .map_err(|source| open_error(path.to_path_buf(), source))?;
        let repo = Self::from_git2(bare_as_git_guesses(inner)?);
        repo.config()?;
        Ok(repo)
    }

    /// Creates a bare repository at `path` (and the directories to it), as
    /// `git init --bare` does, and opens it.
    pub fn init_bare(path: &Path) -> Result<Self> {
        let inner = git2::Repository::init_opts(
            path,
            git2::RepositoryInitOptions::new()
                .bare(true)
                .mkpath(true)
                .no_reinit(false),
        )
        .map_err(|source| {
            Error::git(
                format!("cannot create the repository {}", path.display()),
                source,
            )
        })?;
        Self::open_exact(inner.path())
    }

    /// The directory to open this repository again from (another thread, a later
    /// request): the work tree, or the git directory of a bare repository.
    pub fn reopen_path(&self) -> &Path {
        self.work_dir().unwrap_or_else(|| self.git_dir())
    }

    pub fn from_git2(inner: git2::Repository) -> Self {
        // libgit2 re-hashes every object it reads to verify it (SHA-1DC), which costs
        // more than inflating it; git itself leaves that to fsck. Reading thousands of
        // release notes is a fifth faster without it. (Process-wide and idempotent.)
        git2::opts::strict_hash_verification(false);
        Self {
            inner,
            config: std::cell::OnceCell::new(),
        }
    }

    pub fn git(&self) -> &git2::Repository {
        &self.inner
    }

    /// The directory git keeps its data in (`.git`, or the bare repository itself).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    pub fn work_dir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The configuration `git config` reads in this environment: every setting the tool
    /// reads goes through it (libgit2's own view misses `git -c` and more).
    pub fn config(&self) -> Result<&GitConfig> {
        if let Some(config) = self.config.get() {
            return Ok(config);
        }
        let config = GitConfig::load(&self.inner)?;
        Ok(self.config.get_or_init(|| config))
    }

    /// Forgets the configuration read so far, after this process changed it.
    pub fn reload_config(&mut self) {
        self.config = std::cell::OnceCell::new();
    }

    /// A string setting (empty counts as unset); an unreadable configuration reads as
    /// unset here, and is reported by the first strict read.
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.config().ok()?.string(key)
    }

    /// Whether the reference exists.
    pub fn has_ref(&self, name: &str) -> bool {
        self.inner.find_reference(name).is_ok()
    }

    /// The configured remotes' names.
    pub fn remote_names(&self) -> Vec<String> {
        self.inner
            .remotes()
            .map(|names| {
                names
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The branch HEAD names (`main`), also when it has no commit yet; `None` when HEAD
    /// is detached.
    pub fn head_branch(&self) -> Option<String> {
        let head = self.inner.find_reference("HEAD").ok()?;
        let target = head.symbolic_target().ok()??;
        target.strip_prefix("refs/heads/").map(str::to_owned)
    }

    /// A boolean setting; a value git would refuse is an error naming the setting.
    pub fn config_bool_strict(&self, key: &str) -> Result<Option<bool>> {
        self.config()?.bool(key)
    }

    /// A path setting, `~/` expanded as git does.
    pub fn config_path(&self, key: &str) -> Option<PathBuf> {
        self.config().ok()?.path(key)
    }
}

/// Process-wide libgit2 settings for a command-line run; call before any thread starts.
///
/// libgit2 caches parsed trees only up to 4 KiB, and the notes tree's root and its
/// `index/` directory (256 fanout entries each) are twice that: every lookup of them
/// (a create makes a dozen) parsed them again, a fifth of a create's instructions at
/// 10,000 releases. A megabyte covers every tree the store has.
///
/// libgit2 refuses to open a repository whose format names an extension it does not
/// know, and partial clones made by older gits name `partialClone` (newer ones
/// only mark the remote `promisor`). Such a repository reads like any other here: its
/// missing blobs are fetched through git's own reader (archive/objects.rs).
pub fn configure_libgit2() {
    // SAFETY: git2 requires that no other thread uses libgit2 meanwhile; the caller
    // runs this before starting any thread.
    unsafe {
        let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 1 << 20);
        let _ = git2::opts::set_extensions(&["partialclone"]);
        // libgit2 maps pack files in 1 GiB windows and keeps up to 8 GiB mapped: every
        // page of a pack it reads stays in the resident set, so reading big objects of
        // a big pack grew without bound. Small windows under a cap keep it flat, as
        // archive/objects.rs found for archives. (Package files are read through git,
        // which streams them: package/repository.rs.)
        let _ = git2::opts::set_mwindow_size(16 << 20);
        let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
    }
}

/// libgit2 (as built here) reads SHA-1 repositories only; it refuses SHA-256 ones with
/// an "unsupported extension" error, which deserves a plain sentence.
/// A git directory whose `config` does not set `core.bare` (a bare mirror copied
/// without its `config`, a root of repositories made by a script) says nothing of
/// whether it is bare: libgit2 then takes the
/// directory above it for a work tree, where git guesses a bare repository for any git
/// directory not named `.git`. Reopened as bare, so that nothing of that directory
/// (its `.git-release.toml`, its files) is read as the project's.
fn bare_as_git_guesses(inner: git2::Repository) -> Result<git2::Repository> {
    let git_dir = inner.path().to_path_buf();
    let guessed_work_tree = inner.workdir().is_some()
        && std::env::var_os("GIT_WORK_TREE").is_none()
        && git_dir.file_name().is_some_and(|name| name != ".git")
        && !git_dir.join("commondir").exists()
        && crate::git::local_config::get(&git_dir.join("config"), "core.bare")
            .ok()
            .flatten()
            .is_none();
    if !guessed_work_tree {
        return Ok(inner);
    }
    git2::Repository::open_ext(
        &git_dir,
        git2::RepositoryOpenFlags::NO_SEARCH | git2::RepositoryOpenFlags::BARE,
        std::iter::empty::<&std::ffi::OsStr>(),
    )
    .map_err(|source| open_error(git_dir, source))
}

fn open_error(path: PathBuf, source: git2::Error) -> Error {
    if source.message().contains("object format") || source.message().contains("objectformat") {
        Error::Sha256Unsupported { path }
    } else {
        Error::NotARepository { path, source }
    }
}
