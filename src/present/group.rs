//! GitLab's group and namespace entities for the groups of a root (`serve --root`):
//! as GitLab answers `GET /groups[/:id]`, with what a directory of repositories knows
//! (no members, no settings of its own: those fields say GitLab's defaults for a
//! public group).

use serde::Serialize;

use crate::group::{GroupEntry, Registry};

/// GitLab's group entity.
#[derive(Debug, Serialize)]
pub struct GroupEntity {
    pub id: u64,
    pub web_url: String,
    pub name: String,
    pub path: String,
    pub description: String,
    pub visibility: &'static str,
    pub share_with_group_lock: bool,
    pub require_two_factor_authentication: bool,
    pub two_factor_grace_period: u32,
    pub project_creation_level: &'static str,
    pub auto_devops_enabled: Option<bool>,
    pub subgroup_creation_level: &'static str,
    pub emails_disabled: bool,
    pub emails_enabled: bool,
    pub mentions_disabled: Option<bool>,
    pub lfs_enabled: bool,
    pub default_branch_protection: u32,
    pub avatar_url: Option<String>,
    pub request_access_enabled: bool,
    pub full_name: String,
    pub full_path: String,
    pub parent_id: Option<u64>,
}

impl GroupEntity {
    /// `base` is the server's base URL (the group's page is `<base>/groups/<path>`).
    pub fn new(registry: &Registry, group: &GroupEntry, base: &str) -> Self {
        GroupEntity {
            id: group.id,
            web_url: format!("{base}/groups/{}", group.path),
            name: group.slug().to_owned(),
            path: group.slug().to_owned(),
            description: String::new(),
            visibility: "public",
            share_with_group_lock: false,
            require_two_factor_authentication: false,
            two_factor_grace_period: 48,
            project_creation_level: "developer",
            auto_devops_enabled: None,
            subgroup_creation_level: "maintainer",
            emails_disabled: false,
            emails_enabled: true,
            mentions_disabled: None,
            lfs_enabled: true,
            default_branch_protection: 2,
            avatar_url: None,
            request_access_enabled: false,
            full_name: group.path.replace('/', " / "),
            full_path: group.path.clone(),
            parent_id: parent_id(registry, group.parent.as_deref()),
        }
    }
}

fn parent_id(registry: &Registry, parent: Option<&str>) -> Option<u64> {
    parent.and_then(|p| registry.group_by_path(p)).map(|g| g.id)
}

/// GitLab's namespace of a project (`kind` is always `group` here: a project at the
/// root's top level has no namespace).
#[derive(Debug, Clone, Serialize)]
pub struct NamespaceEntity {
    pub id: u64,
    pub name: String,
    pub path: String,
    pub kind: &'static str,
    pub full_path: String,
    pub parent_id: Option<u64>,
    pub avatar_url: Option<String>,
    pub web_url: String,
}

impl NamespaceEntity {
    pub fn new(registry: &Registry, group: &GroupEntry, base: &str) -> Self {
        NamespaceEntity {
            id: group.id,
            name: group.slug().to_owned(),
            path: group.slug().to_owned(),
            kind: "group",
            full_path: group.path.clone(),
            parent_id: parent_id(registry, group.parent.as_deref()),
            avatar_url: None,
            web_url: format!("{base}/groups/{}", group.path),
        }
    }
}
