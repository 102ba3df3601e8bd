//! The projects and groups under a root directory (`serve --root`, `stats --root`,
//! `site --root`): what one scan found (`scan`), with the ids `ids` gives them, and
//! the questions asked of it (a project by id or path, a group's projects, subgroups
//! and ancestors). A registry knows when it is out of date: a repository added,
//! removed or renamed changes the directory it is in, whose time it compares.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::Result;
use crate::group::ids::{self, GROUP_FILE, Holder, Recording};
use crate::group::scan::{self, GROUP_REPOSITORY};
use crate::release::group_place as place;

/// A root and where its groups keep their repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub dir: PathBuf,
    /// Where group repositories live instead of `<group>/.group.git`: group `a/b`'s is
    /// then `<dir>/a/b.git`.
    pub group_repositories: Option<PathBuf>,
}

impl Root {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root {
            dir: dir.into(),
            group_repositories: None,
        }
    }

    /// The root at `dir`, its groups' repositories where `group_repositories` (the
    /// command line's `--group-repositories`) or else its `.git-release-root`
    /// (`registry.groupRepositories`) says; refused where they would be taken for
    /// projects (see `group::place`). The place is remembered for this process, so
    /// that the project-side lookup of the root's projects agrees.
    pub fn open(dir: impl Into<PathBuf>, group_repositories: Option<&Path>) -> Result<Self> {
        let dir = dir.into();
        let place = place::resolve(&dir, group_repositories)?;
        place::remember(&dir, place.as_deref());
        Ok(Root {
            dir,
            group_repositories: place,
        })
    }

    /// The repository of the group at `path` (which may not exist yet).
    pub fn group_repository(&self, path: &str) -> Result<PathBuf> {
        match &self.group_repositories {
            Some(dir) => place::repository(dir, path),
            None => Ok(self.dir.join(path).join(GROUP_REPOSITORY)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectEntry {
    pub id: u64,
    /// `group/sub/proj`: its path under the root without `.git`.
    pub path: String,
    /// The work tree, or the bare repository.
    pub dir: PathBuf,
    pub git_dir: PathBuf,
    /// The group it is in (`None` at the root's top level).
    pub group: Option<String>,
}

impl ProjectEntry {
    /// The last part of its path (GitLab's `path`).
    pub fn slug(&self) -> &str {
        last_segment(&self.path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub id: u64,
    /// `group/sub`.
    pub path: String,
    pub dir: PathBuf,
    /// The group it is a subgroup of.
    pub parent: Option<String>,
    /// Where its milestones are kept (created on its first write).
    pub repository: PathBuf,
}

impl GroupEntry {
    pub fn slug(&self) -> &str {
        last_segment(&self.path)
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent_of(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(parent, _)| parent)
}

/// Everything under one root, as of one scan.
#[derive(Debug, Clone)]
pub struct Registry {
    pub root: Root,
    /// Sorted by path.
    pub projects: Vec<ProjectEntry>,
    /// Sorted by path; a group comes before its subgroups.
    pub groups: Vec<GroupEntry>,
    /// What the scan passed over or could not record, for the log.
    pub notices: Vec<String>,
    /// Every directory looked into, and its time then.
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

impl Registry {
    /// Scans `root`, giving ids (recorded with [`Recording::Record`]).
    pub fn scan(root: &Root, recording: Recording) -> Result<Registry> {
        let found = scan::scan(&root.dir)?;
        // A group is a directory with a project below it, or with a repository of its
        // own; the root itself is not one.
        let mut group_paths: Vec<String> = Vec::new();
        let add_with_parents = |path: &str, group_paths: &mut Vec<String>| {
            let mut at = Some(path);
            while let Some(p) = at {
                if !p.is_empty() && !group_paths.iter().any(|g| g == p) {
                    group_paths.push(p.to_owned());
                }
                at = parent_of(p);
            }
        };
        for repository in &found.repositories {
            if let Some(parent) = parent_of(&repository.path) {
                add_with_parents(parent, &mut group_paths);
            }
        }
        for directory in found.directories.iter().filter(|d| d.has_group_repository) {
            add_with_parents(&directory.path, &mut group_paths);
        }
        group_paths.sort();
        let group_dirs: Vec<PathBuf> = group_paths
            .iter()
            .map(|p| {
                found
                    .directories
                    .iter()
                    .find(|d| d.path == *p)
                    .map_or_else(|| root.dir.join(p), |d| d.dir.clone())
            })
            .collect();
        let project_holders: Vec<Holder<'_>> = found
            .repositories
            .iter()
            .map(|r| Holder {
                path: &r.path,
                file: r.git_dir.join("config"),
            })
            .collect();
        let group_holders: Vec<Holder<'_>> = group_paths
            .iter()
            .zip(&group_dirs)
            .map(|(path, dir)| Holder {
                path,
                file: dir.join(GROUP_FILE),
            })
            .collect();
        let assigned = ids::assign(&root.dir, &project_holders, &group_holders, recording)?;
        let projects = found
            .repositories
            .iter()
            .zip(&assigned.projects)
            .map(|(r, id)| ProjectEntry {
                id: *id,
                path: r.path.clone(),
                dir: r.dir.clone(),
                git_dir: r.git_dir.clone(),
                group: parent_of(&r.path).map(str::to_owned),
            })
            .collect();
        let groups = group_paths
            .iter()
            .zip(group_dirs)
            .zip(&assigned.groups)
            .map(|((path, dir), id)| {
                Ok(GroupEntry {
                    id: *id,
                    path: path.clone(),
                    dir,
                    parent: parent_of(path).map(str::to_owned),
                    repository: root.group_repository(path)?,
                })
            })
            .collect::<Result<_>>()?;
        let mut notices = found.skipped;
        notices.extend(assigned.notices);
        // Times taken after the ids were recorded: a group's id file written now does
        // not make the next look rescan.
        let stamps = found
            .directories
            .iter()
            .map(|d| (d.dir.clone(), modified(&d.dir)))
            .collect();
        Ok(Registry {
            root: root.clone(),
            projects,
            groups,
            notices,
            stamps,
        })
    }

    /// Whether a new scan would find the same: no directory looked into has changed.
    pub fn is_current(&self) -> bool {
        self.stamps.iter().all(|(dir, time)| modified(dir) == *time)
    }

    /// The project `key` names: its numeric id, or its path (`group/proj`; an exact
    /// match first, else one that differs only in ASCII case, as GitLab's routes).
    pub fn project(&self, key: &str) -> Option<&ProjectEntry> {
        if let Ok(id) = key.parse::<u64>() {
            if let Some(project) = self.projects.iter().find(|p| p.id == id) {
                return Some(project);
            }
        }
        self.projects.iter().find(|p| p.path == key).or_else(|| {
            self.projects
                .iter()
                .find(|p| p.path.eq_ignore_ascii_case(key))
        })
    }

    /// The group `key` names: its numeric id or its path.
    pub fn group(&self, key: &str) -> Option<&GroupEntry> {
        if let Ok(id) = key.parse::<u64>() {
            if let Some(group) = self.groups.iter().find(|g| g.id == id) {
                return Some(group);
            }
        }
        self.groups.iter().find(|g| g.path == key).or_else(|| {
            self.groups
                .iter()
                .find(|g| g.path.eq_ignore_ascii_case(key))
        })
    }

    pub fn group_by_path(&self, path: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|g| g.path == path)
    }

    /// The projects of `group`: those directly in it, or with `include_subgroups` also
    /// those of every subgroup below it.
    pub fn projects_in<'r>(
        &'r self,
        group: &str,
        include_subgroups: bool,
    ) -> impl Iterator<Item = &'r ProjectEntry> + 'r {
        let group = group.to_owned();
        self.projects.iter().filter(move |p| match &p.group {
            Some(g) if *g == group => true,
            Some(g) => include_subgroups && is_below(g, &group),
            None => false,
        })
    }

    /// The groups directly in `group`.
    pub fn subgroups<'r>(&'r self, group: &str) -> impl Iterator<Item = &'r GroupEntry> + 'r {
        let group = group.to_owned();
        self.groups
            .iter()
            .filter(move |g| g.parent.as_deref() == Some(group.as_str()))
    }

    /// Every group below `group`, at any depth.
    pub fn descendants<'r>(&'r self, group: &str) -> impl Iterator<Item = &'r GroupEntry> + 'r {
        let group = group.to_owned();
        self.groups
            .iter()
            .filter(move |g| is_below(&g.path, &group))
    }

    /// The groups `group` is in, its parent first.
    pub fn ancestors(&self, group: &str) -> Vec<&GroupEntry> {
        let mut out = Vec::new();
        let mut at = parent_of(group);
        while let Some(path) = at {
            if let Some(g) = self.group_by_path(path) {
                out.push(g);
            }
            at = parent_of(path);
        }
        out
    }

    /// The top-level groups.
    pub fn top_level(&self) -> impl Iterator<Item = &GroupEntry> {
        self.groups.iter().filter(|g| g.parent.is_none())
    }
}

/// Whether `path` lies below `ancestor` (`a/b/c` below `a`, not `ab`).
pub fn is_below(path: &str, ancestor: &str) -> bool {
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}

fn modified(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::scan::tests::bare;

    #[test]
    fn groups_are_the_directories_on_the_way_to_projects() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        bare(&r.join("top.git"));
        bare(&r.join("a/one.git"));
        bare(&r.join("a/b/two.git"));
        bare(&r.join("milestones-only/.group.git"));
        std::fs::create_dir_all(r.join("nothing/here")).unwrap();
        let registry = Registry::scan(&Root::new(r), Recording::Record).unwrap();
        let groups: Vec<&str> = registry.groups.iter().map(|g| g.path.as_str()).collect();
        assert_eq!(groups, ["a", "a/b", "milestones-only"]);
        let a = registry.group("a").unwrap();
        let in_a: Vec<&str> = registry
            .projects_in("a", false)
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(in_a, ["a/one"]);
        let all: Vec<&str> = registry
            .projects_in("a", true)
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(all, ["a/b/two", "a/one"]);
        assert_eq!(registry.group(&a.id.to_string()).unwrap().path, "a");
        assert_eq!(registry.ancestors("a/b").len(), 1);
        assert_eq!(registry.project("A/ONE").unwrap().path, "a/one");
        assert_eq!(registry.project("top").unwrap().group, None);
        assert_eq!(
            registry.group("a/b").unwrap().repository,
            r.join("a/b/.group.git")
        );
        assert!(registry.is_current());
        bare(&r.join("a/b/three.git"));
        assert!(!registry.is_current(), "a new repository is noticed");
        let again = Registry::scan(&Root::new(r), Recording::Record).unwrap();
        assert!(again.is_current());
        // Ids stay what they were.
        for project in &registry.projects {
            assert_eq!(again.project(&project.path).unwrap().id, project.id);
        }
    }
}
