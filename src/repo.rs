//! The only place that opens the repository. `Repo` is a thin newtype over
//! `git2::Repository` that collects the few repository-wide facts the tool needs
//! (identity of the person, the project's name and web URL) so that git2's API does not
//! leak into every module.

use std::path::Path;

use crate::error::{Error, Result};
use crate::identity::Person;
use crate::project::Project;

pub struct Repo {
    inner: git2::Repository,
}

impl Repo {
    /// Opens the repository as git does: `GIT_DIR`/`GIT_WORK_TREE` when set, else by
    /// searching upwards from the current directory (work tree, subdirectory, bare
    /// repository or linked worktree alike).
    pub fn open_from_env() -> Result<Self> {
        let inner = git2::Repository::open_from_env().map_err(|source| Error::NotARepository {
            path: std::env::current_dir().unwrap_or_default(),
            source,
        })?;
        Ok(Self::from_git2(inner))
    }

    /// Opens the repository that contains `path` (used by tests and `-C`).
    pub fn discover(path: &Path) -> Result<Self> {
        let inner = git2::Repository::discover(path).map_err(|source| Error::NotARepository {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::from_git2(inner))
    }

    pub fn from_git2(inner: git2::Repository) -> Self {
        Self { inner }
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

    pub fn config_string(&self, key: &str) -> Option<String> {
        let config = self.inner.config().ok()?;
        config.get_string(key).ok().filter(|v| !v.is_empty())
    }

    pub fn config_bool(&self, key: &str) -> Option<bool> {
        let config = self.inner.config().ok()?;
        config.get_bool(key).ok()
    }

    /// The person making a change (the "committer" in git's terms), resolved as git does.
    pub fn committer(&self) -> Result<Person> {
        Person::committer(self)
    }

    /// The release author, resolved as git resolves a commit author.
    pub fn author(&self) -> Result<Person> {
        Person::author(self)
    }

    pub fn project(&self) -> Result<Project> {
        Project::resolve(self)
    }
}
