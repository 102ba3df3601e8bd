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
    /// Its git directory (where its refs are).
    pub git_dir: PathBuf,
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
    /// Its releases, from its cache while its refs are unchanged on disk.
    pub fn releases(
        &self,
        open: impl FnOnce() -> Result<crate::git::Repo>,
    ) -> Result<Arc<Vec<crate::model::Found>>> {
        self.releases.releases_at(&self.git_dir, open)
    }

    pub fn new(open_path: PathBuf, git_dir: PathBuf, id: u64, path: Option<String>) -> Self {
        ServedProject {
            open_path,
            git_dir,
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
            repo.git_dir().to_path_buf(),
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
    /// Each group's release order, by the group's path.
    orders: Mutex<HashMap<String, GroupOrder>>,
}

/// A group's releases in order, with the lists it was made from.
struct GroupOrder {
    ids: Vec<u64>,
    lists: Vec<Arc<Vec<crate::model::Found>>>,
    order: Arc<Vec<(usize, usize)>>,
}

fn project_open(project: &ServedProject) -> impl FnOnce() -> Result<crate::git::Repo> + '_ {
    move || crate::git::Repo::open_exact(&project.open_path)
}

impl RootProjects {
    /// Scans `root`, recording the ids it gives out (see `group::ids`).
    pub fn open(root: Root) -> Result<Self> {
        let registry = Registry::scan(&root, Recording::Record)?;
        Ok(RootProjects {
            root,
            registry: Mutex::new(Arc::new(registry)),
            projects: Mutex::default(),
            orders: Mutex::default(),
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

    /// Every project's release list from its cache (see `ReleaseCache::releases_at`),
    /// in the order given.
    pub fn release_lists(
        &self,
        projects: &[Arc<ServedProject>],
        cancelled: &std::sync::atomic::AtomicBool,
    ) -> Result<Option<Vec<Arc<Vec<crate::model::Found>>>>> {
        let mut lists = Vec::with_capacity(projects.len());
        for project in projects {
            if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            lists.push(project.releases(project_open(project))?);
        }
        Ok(Some(lists))
    }

    /// The order of a group's releases, newest first, as (project, release) positions
    /// in `lists`: kept while every list is the one it was made from, so that a warm
    /// page costs no sort of a hundred thousand releases.
    pub fn group_order(
        &self,
        group: &str,
        projects: &[Arc<ServedProject>],
        lists: &[Arc<Vec<crate::model::Found>>],
    ) -> Arc<Vec<(usize, usize)>> {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = orders.get(group)
            && known.ids.len() == projects.len()
            && known.ids.iter().zip(projects).all(|(id, p)| *id == p.id)
            && known
                .lists
                .iter()
                .zip(lists)
                .all(|(a, b)| Arc::ptr_eq(a, b))
        {
            return Arc::clone(&known.order);
        }
        let ids: Vec<u64> = projects.iter().map(|p| p.id).collect();
        let order = Arc::new(crate::group::releases::newest_first(lists, &ids));
        orders.insert(
            group.to_owned(),
            GroupOrder {
                ids,
                lists: lists.to_vec(),
                order: Arc::clone(&order),
            },
        );
        order
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
            entry.git_dir.clone(),
            entry.id,
            Some(entry.path.clone()),
        ));
        projects.insert(entry.id, Arc::clone(&served));
        served
    }
}
