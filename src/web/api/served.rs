//! What a server serves: the one repository `serve` was started in, or every
//! repository under `serve --root DIR` (`group::Registry`), each a project with its
//! own caches. The registry is scanned again when a directory it looked into has
//! changed, so a repository added (or moved, or removed) under the root is seen by the
//! next request, without a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::cache;
use crate::error::Result;
use crate::group::ids::Recording;
use crate::group::{ProjectEntry, Registry, Root};

/// One project as the server serves it: where to open it, its id, and what is kept
/// between its requests.
pub struct ServedProject {
    /// The work tree or the git directory, opened again by each request (git2 handles
    /// are not shared between threads).
    pub open_path: PathBuf,
    /// GitLab's numeric project id.
    pub id: u64,
    /// Its path under the root (`group/proj`); `None` for the one repository of a
    /// plain `serve`, whose path comes from its identity (`release.webUrl`, origin).
    pub path: Option<String>,
    /// The release list between requests.
    pub releases: cache::ReleaseCache,
    /// The commits a `sha` may name (those of branches and tags).
    pub reachable: crate::git::revision::Reachable,
}

impl ServedProject {
    pub fn new(open_path: PathBuf, id: u64, path: Option<String>) -> Self {
        ServedProject {
            open_path,
            id,
            path,
            releases: cache::ReleaseCache::default(),
            reachable: Default::default(),
        }
    }
}

pub enum Served {
    One(Arc<ServedProject>),
    Root(RootProjects),
}

impl Served {
    /// The repository `repo`, served alone, under the id `--json` and evidence show
    /// (`release.projectId`, `[project] id`).
    pub fn repository(repo: &crate::git::Repo) -> Result<Served> {
        let id = crate::git::project::Project::resolve(repo)?.id;
        Ok(Served::One(Arc::new(ServedProject::new(
            repo.reopen_path().to_path_buf(),
            id,
            None,
        ))))
    }

    /// Every repository under `root`.
    pub fn root(root: Root) -> Result<Served> {
        Ok(Served::Root(RootProjects::open(root)?))
    }

    /// The project `key` (an id or a path, decoded) names, if any.
    pub fn project(&self, key: &str) -> Result<Option<Arc<ServedProject>>> {
        match self {
            // Whether the key names it is checked once the repository is open (its
            // path comes from its identity).
            Served::One(project) => Ok(Some(Arc::clone(project))),
            Served::Root(root) => root.project(key),
        }
    }

    pub fn as_root(&self) -> Option<&RootProjects> {
        match self {
            Served::One(_) => None,
            Served::Root(root) => Some(root),
        }
    }
}

/// Every repository under a root, as of the last scan.
pub struct RootProjects {
    root: Root,
    registry: Mutex<Arc<Registry>>,
    /// Each project's caches, by id; a project moved keeps its id and gets fresh ones.
    projects: Mutex<HashMap<u64, Arc<ServedProject>>>,
}

impl RootProjects {
    /// Scans `root`, recording the ids it gives out (see `group::ids`).
    pub fn open(root: Root) -> Result<Self> {
        let registry = Registry::scan(&root, Recording::Record)?;
        Ok(RootProjects {
            root,
            registry: Mutex::new(Arc::new(registry)),
            projects: Mutex::default(),
        })
    }

    /// What the last scan found (notices included), without rescanning.
    pub fn last_scan(&self) -> Arc<Registry> {
        Arc::clone(&self.registry.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The registry as of now: scanned again when a directory has changed since.
    /// Blocking (file system work): called on a worker thread.
    pub fn registry(&self) -> Result<Arc<Registry>> {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if !registry.is_current() {
            let scanned = Registry::scan(&self.root, Recording::Record)?;
            for notice in &scanned.notices {
                if !registry.notices.contains(notice) {
                    eprintln!("note: {}", crate::text::terminal(notice));
                }
            }
            *registry = Arc::new(scanned);
        }
        Ok(Arc::clone(&registry))
    }

    /// The project `key` names (its id, or its path).
    pub fn project(&self, key: &str) -> Result<Option<Arc<ServedProject>>> {
        let registry = self.registry()?;
        Ok(registry.project(key).map(|entry| self.served(entry)))
    }

    /// The project a web path (`group/proj/-/releases`, as segments) is under: the
    /// longest project path its first segments spell (in any ASCII case).
    pub fn project_at(&self, segments: &[String]) -> Result<Option<Arc<ServedProject>>> {
        let registry = self.registry()?;
        let found = registry
            .projects
            .iter()
            .filter(|p| {
                let parts: Vec<&str> = p.path.split('/').collect();
                parts.len() <= segments.len()
                    && parts
                        .iter()
                        .zip(segments)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b))
            })
            .max_by_key(|p| p.path.len());
        Ok(found.map(|entry| self.served(entry)))
    }

    /// The server's state of a project of the registry.
    pub fn served(&self, entry: &ProjectEntry) -> Arc<ServedProject> {
        let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = projects.get(&entry.id)
            && known.open_path == entry.dir
            && known.path.as_deref() == Some(entry.path.as_str())
        {
            return Arc::clone(known);
        }
        let served = Arc::new(ServedProject::new(
            entry.dir.clone(),
            entry.id,
            Some(entry.path.clone()),
        ));
        projects.insert(entry.id, Arc::clone(&served));
        served
    }
}
