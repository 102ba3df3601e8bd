//! Group milestones: milestones of a group (GitLab's), kept in a git repository of the
//! group — `<group>/.group.git` under a `serve --root` — exactly as a project keeps
//! its own (`milestones.json` in the repository's notes store), so that every
//! operation of `plan::milestone` works on it unchanged, and `push`/`fetch` share it.
//! Here: where a project's group repository is, what it holds, and which milestones a
//! release of the project may name (its own group's, never an ancestor group's, as
//! GitLab refuses them). See docs/groups.md.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::local_config;
use crate::git::project::ProjectFile;
use crate::git::repo::Repo;
use crate::model::{GroupMilestoneRef, Key, Milestone, MilestoneFile};
use crate::release::group_place::check_group_path;
use crate::store::Snapshot;

/// The name of a group's repository in the group's directory.
pub const GROUP_REPOSITORY: &str = ".group.git";
/// Where the project's group repository is (git config: trusted, any path; a relative
/// one is taken from the project's directory).
pub const GROUP_REPOSITORY_KEY: &str = "release.groupRepository";
/// The full path of the project's group (`platform/tools`).
pub const GROUP_PATH_KEY: &str = "release.group";
/// What a group repository says of its group (recorded when `serve` creates it).
pub const GROUP_ID_IN_REPOSITORY: &str = "release.groupId";
pub const GROUP_PATH_IN_REPOSITORY: &str = "release.groupPath";
/// The files `serve --root` keeps its ids in (see `group::ids`).
const GROUP_FILE: &str = ".git-release-group";
const ROOT_FILE: &str = ".git-release-root";
/// How far up an ancestor group's repository is looked for.
const MAX_ANCESTORS: usize = 32;

/// A group's repository, which may not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRepository {
    /// The repository's directory (bare).
    pub dir: PathBuf,
    /// The group's full path, when known.
    pub path: Option<String>,
    /// The group's id, when known.
    pub id: Option<u64>,
    /// The repositories of the groups above it, nearest first (known in a root's
    /// layout only): their milestones are refused on the project's releases.
    pub ancestors: Vec<PathBuf>,
    /// Whether the place comes from the user's git config (which may create it).
    pub configured: bool,
    /// Whether the place comes from the committed `[group] repository`.
    pub named: bool,
    /// Whether the place is the one its root configures for its groups
    /// (`registry.groupRepositories`: `<place>/<group>.git`), which may be created.
    pub in_root_place: bool,
    /// The group's directory in its root, where its `.git-release-group` is (by
    /// default the repository's parent: `<group>/.group.git`).
    pub group_dir: Option<PathBuf>,
}

impl GroupRepository {
    /// The group repository at `dir`, for a group at `path` with `id` (a root's
    /// registry knows them).
    pub fn at(dir: PathBuf, path: Option<String>, id: Option<u64>) -> Self {
        let mut group = GroupRepository {
            dir,
            path,
            id,
            ancestors: Vec::new(),
            configured: false,
            named: false,
            in_root_place: false,
            group_dir: None,
        };
        group.ancestors = ancestors_in_root(&group.dir);
        group
    }

    /// The repository of the group at `path` (a directory of the root `root`) where
    /// the root keeps its groups' repositories in `place`: `<place>/<path>.git`, the
    /// groups above it at `<place>/<ancestor>.git`.
    fn in_place(root: &Path, place: &Path, path: &str) -> Result<Self> {
        let dir = crate::release::group_place::repository(place, path)?;
        let mut ancestors = Vec::new();
        let mut at = path.rsplit_once('/').map(|(parent, _)| parent);
        while let Some(ancestor) = at {
            ancestors.push(crate::release::group_place::repository(place, ancestor)?);
            at = ancestor.rsplit_once('/').map(|(parent, _)| parent);
        }
        Ok(GroupRepository {
            dir,
            path: Some(path.to_owned()),
            id: None,
            ancestors,
            configured: false,
            named: false,
            in_root_place: true,
            group_dir: Some(root.join(path)),
        })
    }

    /// The group's name for messages.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("group {path:?} ({})", self.dir.display()),
            None => format!("the group repository {}", self.dir.display()),
        }
    }

    /// Opens the repository; `None` when it does not exist (not created yet, or a
    /// clone without it).
    pub fn open(&self) -> Result<Option<Repo>> {
        if !self.dir.join("HEAD").is_file() {
            return Ok(None);
        }
        Repo::open_exact(&self.dir).map(Some)
    }

    /// Opens the repository, creating it (bare, recording the group's path and id in
    /// its config) on the group's first write.
    pub fn open_or_create(&self) -> Result<Repo> {
        if let Some(repo) = self.open()? {
            return Ok(repo);
        }
        Repo::init_bare(&self.dir)?;
        let config = self.dir.join("config");
        let id = self.id.map(|id| id.to_string());
        let mut entries: Vec<(&str, &str)> = Vec::new();
        if let Some(path) = &self.path {
            entries.push((GROUP_PATH_IN_REPOSITORY, path));
        }
        if let Some(id) = &id {
            entries.push((GROUP_ID_IN_REPOSITORY, id));
        }
        if !entries.is_empty() {
            local_config::set(&config, &entries)?;
        }
        Repo::open_exact(&self.dir)
    }

    /// Opens the repository for a write from the command line, creating it only where
    /// a root lays its groups out (the group's directory has its `.git-release-group`)
    /// or where git config `release.groupRepository` says: never at a place a cloned
    /// file chose.
    pub fn open_or_create_here(&self) -> Result<Repo> {
        if let Some(repo) = self.open()? {
            return Ok(repo);
        }
        let in_root = self.dir.file_name().and_then(|n| n.to_str()) == Some(GROUP_REPOSITORY)
            && self
                .dir
                .parent()
                .is_some_and(|d| d.join(GROUP_FILE).is_file());
        if in_root || self.configured || self.in_root_place {
            return self.open_or_create();
        }
        Err(Error::NoGroupRepository {
            what: "the project".into(),
            reason: format!(
                "{} does not exist (create it with `git init --bare {}`, clone the group's \
                 repository there, or set git config {GROUP_REPOSITORY_KEY})",
                self.describe(),
                self.dir.display()
            ),
        })
    }

    /// The group's milestones; `None` when the repository is not here.
    pub fn milestones(&self) -> Result<Option<MilestoneFile>> {
        match self.open()? {
            Some(repo) => Ok(Some(Snapshot::read(repo.git())?.milestones()?)),
            None => Ok(None),
        }
    }

    /// Fills in the group's path and id from what its repository (or, in a root's
    /// layout, its directory) records, where not known yet.
    fn learn_identity(&mut self) {
        let config = self.dir.join("config");
        let group_file = self
            .group_dir
            .as_deref()
            .or_else(|| self.dir.parent())
            .map(|d| d.join(GROUP_FILE));
        if self.path.is_none() {
            self.path = local_config::get(&config, GROUP_PATH_IN_REPOSITORY)
                .ok()
                .flatten()
                .or_else(|| {
                    group_file
                        .as_ref()
                        .and_then(|f| local_config::get(f, "group.path").ok().flatten())
                });
        }
        if self.id.is_none() {
            self.id = local_config::get_id(&config, GROUP_ID_IN_REPOSITORY)
                .ok()
                .flatten()
                .or_else(|| {
                    group_file
                        .as_ref()
                        .and_then(|f| local_config::get_id(f, "group.id").ok().flatten())
                });
        }
    }
}

/// In a root's layout (a `.git-release-root` above), the repositories of the groups
/// above the group whose repository is `dir` (`<group>/.group.git`), nearest first.
fn ancestors_in_root(dir: &Path) -> Vec<PathBuf> {
    if dir.file_name().and_then(|n| n.to_str()) != Some(GROUP_REPOSITORY) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut at = dir.parent().and_then(Path::parent);
    for _ in 0..MAX_ANCESTORS {
        let Some(group_dir) = at else {
            return Vec::new();
        };
        if group_dir.join(ROOT_FILE).is_file() {
            return found;
        }
        found.push(group_dir.join(GROUP_REPOSITORY));
        at = group_dir.parent();
    }
    Vec::new()
}

/// Where the project's group repository is, first found wins: git config
/// `release.groupRepository` (any path: the user's own configuration); the place its
/// root keeps its groups' repositories in, where the root configures one
/// (`registry.groupRepositories` in `.git-release-root`: `<place>/<group>.git`); the committed
/// `.git-release.toml`'s `[group] repository`, one plain name beside the project's
/// directory (never a path: a cloned file must not point anywhere else on disk); else
/// `.group.git` beside the project's directory, as a root lays groups out. `None` for
/// a project at the top of a root, which is in no group.
pub fn locate(repo: &Repo) -> Result<Option<GroupRepository>> {
    let file = ProjectFile::load(repo)?;
    locate_with(repo, &file)
}

pub fn locate_with(repo: &Repo, file: &ProjectFile) -> Result<Option<GroupRepository>> {
    let project_dir = repo.reopen_path().to_path_buf();
    let project_dir = std::fs::canonicalize(&project_dir).unwrap_or(project_dir);
    let parent = project_dir.parent().map(Path::to_path_buf);
    let configured_path = match crate::git::project::git_config_entry(repo, GROUP_PATH_KEY) {
        Some((path, _)) => Some(path),
        None => file.group.path.clone().filter(|p| !p.is_empty()),
    };
    if let Some(path) = &configured_path {
        check_group_path(path).map_err(|reason| {
            Error::invalid(
                "group path",
                path.clone(),
                format!("from {GROUP_PATH_KEY} or [group] path: {reason}"),
            )
        })?;
    }
    let configured = repo.config_path(GROUP_REPOSITORY_KEY);
    if configured.is_none() {
        if let Some(mut group) = in_root_place(&project_dir)? {
            if let Some(path) = configured_path {
                group.path = Some(path);
            }
            group.learn_identity();
            return Ok(Some(group));
        }
    }
    let dir = if let Some(dir) = configured.clone() {
        if dir.is_absolute() {
            dir
        } else {
            project_dir.join(dir)
        }
    } else if let Some(name) = file.group.repository.as_deref().filter(|n| !n.is_empty()) {
        crate::model::paths::check_file_name(name).map_err(|reason| {
            Error::invalid(
                "group repository",
                name,
                format!(
                    "from {}: {reason}; a committed file names the group repository beside \
                     the project's directory, never a path (set another place with \
                     `git config {GROUP_REPOSITORY_KEY} PATH`)",
                    file.source("group.repository")
                ),
            )
        })?;
        match &parent {
            Some(parent) => parent.join(name),
            None => return Ok(None),
        }
    } else {
        match &parent {
            // The top of a root is no group.
            Some(parent) if parent.join(ROOT_FILE).is_file() => return Ok(None),
            Some(parent) => parent.join(GROUP_REPOSITORY),
            None => return Ok(None),
        }
    };
    let mut group = GroupRepository::at(dir, configured_path, None);
    group.configured = configured.is_some();
    group.named = !group.configured
        && file
            .group
            .repository
            .as_deref()
            .is_some_and(|n| !n.is_empty());
    group.learn_identity();
    Ok(Some(group))
}

/// The group repository of the project at `project_dir` (canonical) where its root
/// configures a place for its groups' repositories; `None` outside a root, in a root
/// of the default layout, at the top of a root (no group), or in a directory the scan
/// skips (a name starting with `.`: no project of the root).
fn in_root_place(project_dir: &Path) -> Result<Option<GroupRepository>> {
    let Some(group_dir) = project_dir.parent() else {
        return Ok(None);
    };
    let Some(root) = crate::release::group_place::find_root(group_dir) else {
        return Ok(None);
    };
    if root == group_dir {
        return Ok(None);
    }
    let Some(place) = crate::release::group_place::of_root(&root)? else {
        return Ok(None);
    };
    let Ok(inside) = group_dir.strip_prefix(&root) else {
        return Ok(None);
    };
    let names: Option<Vec<&str>> = inside.iter().map(|n| n.to_str()).collect();
    let Some(names) = names else {
        return Ok(None);
    };
    // A name the scan skips: no project of the root, nor a group.
    Ok(GroupRepository::in_place(&root, &place, &names.join("/")).ok())
}

/// The project's group milestones as of one read: the group repository and what it
/// holds (`None` when it is not here).
#[derive(Debug, Clone)]
pub struct GroupMilestones {
    pub group: GroupRepository,
    pub file: Option<MilestoneFile>,
}

impl GroupMilestones {
    /// The project's group and its milestones; `None` when the project is in no group.
    pub fn load(repo: &Repo) -> Result<Option<GroupMilestones>> {
        let Some(group) = locate(repo)? else {
            return Ok(None);
        };
        let file = group.milestones()?;
        Ok(Some(GroupMilestones { group, file }))
    }

    /// Whether the group's repository is here.
    pub fn at_hand(&self) -> bool {
        self.file.is_some()
    }

    pub fn by_key(&self, key: Key) -> Option<&Milestone> {
        self.file.as_ref()?.by_key(key)
    }

    /// What a release keeps of `milestone`.
    pub fn reference(&self, milestone: &Milestone) -> GroupMilestoneRef {
        GroupMilestoneRef {
            key: milestone.key,
            group: self.group.path.clone(),
            group_id: self.group.id,
            id: milestone.id,
            iid: milestone.iid,
            title: milestone.title.clone(),
            state: milestone.state,
            due_date: milestone.due_date,
            start_date: milestone.start_date,
            created_at: milestone.created_at,
            updated_at: milestone.updated_at,
            extra: Default::default(),
        }
    }

    /// `refs` with what they keep brought up to date from the group's repository
    /// (a renamed or closed milestone); unchanged when it is not here, or for a
    /// milestone deleted there.
    pub fn refresh(&self, refs: &[GroupMilestoneRef]) -> Vec<GroupMilestoneRef> {
        refs.iter()
            .map(|r| match self.by_key(r.key) {
                Some(m) => {
                    let mut fresh = self.reference(m);
                    fresh.extra = r.extra.clone();
                    fresh
                }
                None => r.clone(),
            })
            .collect()
    }
}

/// The releases of the project at `repo` that name the group milestone `key`, newest
/// first.
pub fn releases_naming(repo: &Repo, key: Key) -> Result<Vec<crate::model::Found>> {
    use crate::release::ordering::{Direction, OrderBy, sort};
    let mut releases: Vec<_> = crate::release::list(repo)?
        .releases
        .into_iter()
        .filter(|f| f.release.group_milestones.iter().any(|r| r.key == key))
        .collect();
    sort(&mut releases, OrderBy::ReleasedAt, Direction::Desc);
    Ok(releases)
}

/// What the project's releases name of its group's milestones, checked against the
/// group's repository (`doctor`): every (tag, title) whose milestone the repository
/// no longer has, or, when it is not here, why they could not be checked.
#[derive(Debug, Default)]
pub struct GroupCheck {
    pub missing: Vec<(String, String)>,
    /// The group, for messages.
    pub group: String,
    /// Set when the releases name group milestones that could not be checked.
    pub unchecked: Option<String>,
}

pub fn check_group_milestones(repo: &Repo) -> Result<GroupCheck> {
    let releases = crate::release::list(repo)?.releases;
    let naming: Vec<_> = releases
        .iter()
        .filter(|f| !f.release.group_milestones.is_empty())
        .collect();
    let mut check = GroupCheck::default();
    if naming.is_empty() {
        return Ok(check);
    }
    let count: usize = naming
        .iter()
        .map(|f| f.release.group_milestones.len())
        .sum();
    let group = match GroupMilestones::load(repo) {
        Ok(Some(group)) if group.at_hand() => group,
        Ok(Some(group)) => {
            check.unchecked = Some(format!(
                "{count} group milestone reference(s) not checked: {} is not here",
                group.group.describe()
            ));
            return Ok(check);
        }
        Ok(None) => {
            check.unchecked = Some(format!(
                "{count} group milestone reference(s) not checked: the project is in no group here"
            ));
            return Ok(check);
        }
        Err(e) => {
            check.unchecked = Some(format!(
                "{count} group milestone reference(s) not checked: {e}"
            ));
            return Ok(check);
        }
    };
    check.group = group.group.describe();
    for found in naming {
        for kept in &found.release.group_milestones {
            if group.by_key(kept.key).is_none() {
                check
                    .missing
                    .push((found.tag.to_string(), kept.title.clone()));
            }
        }
    }
    Ok(check)
}

/// The milestones `titles` name for a release of the project: each a milestone of the
/// project (`project`), else of its group. A title only an ancestor group has is
/// refused as GitLab refuses it; one nobody has is not found.
pub fn resolve_release_milestones(
    repo: &Repo,
    project: &MilestoneFile,
    titles: &[String],
) -> Result<(Vec<Key>, Vec<GroupMilestoneRef>)> {
    let mut keys = Vec::new();
    let mut group_refs: Vec<GroupMilestoneRef> = Vec::new();
    let mut group: Option<Option<GroupMilestones>> = None;
    for title in titles {
        if let Some(m) = project.find(title) {
            if !keys.contains(&m.key) {
                keys.push(m.key);
            }
            continue;
        }
        let group = match &group {
            Some(loaded) => loaded,
            None => group.insert(GroupMilestones::load(repo)?),
        };
        let Some(group) = group else {
            return Err(Error::MilestoneNotFound {
                title: title.clone(),
            });
        };
        if let Some(m) = group.file.as_ref().and_then(|f| f.find(title)) {
            if !group_refs.iter().any(|r| r.key == m.key) {
                group_refs.push(group.reference(m));
            }
            continue;
        }
        for ancestor in &group.group.ancestors {
            let ancestor = GroupRepository::at(ancestor.clone(), None, None);
            if ancestor
                .milestones()?
                .is_some_and(|f| f.find(title).is_some())
            {
                let mut ancestor = ancestor;
                ancestor.learn_identity();
                return Err(Error::AncestorGroupMilestone {
                    title: title.clone(),
                    group: ancestor
                        .path
                        .unwrap_or_else(|| ancestor.dir.display().to_string()),
                });
            }
        }
        // A group repository the project's configuration names must be here; the
        // root's layout is only a guess (a clone has no group beside it).
        if !group.at_hand() && (group.group.configured || group.group.named) {
            return Err(Error::NoGroupRepository {
                what: format!("milestone {title:?}"),
                reason: format!(
                    "it is not a milestone of the project, and {} is not here",
                    group.group.describe()
                ),
            });
        }
        return Err(Error::MilestoneNotFound {
            title: title.clone(),
        });
    }
    Ok((keys, group_refs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_group_path_is_names_only() {
        assert!(check_group_path("platform/tools").is_ok());
        for bad in ["", "a//b", "../x", "a/../b", "/abs", ".hidden", "a/.b"] {
            assert!(check_group_path(bad).is_err(), "{bad:?} accepted");
        }
    }
}
