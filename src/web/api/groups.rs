//! A root's groups as GitLab's groups API answers for them: `GET /groups`,
//! `/groups/:id`, `/groups/:id/subgroups`, `/groups/:id/descendant_groups` and
//! `/groups/:id/projects`. A plain `serve` has no groups: its list is empty and every
//! group is a 404.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::access::{ReadAccess, path_param};
use super::input::{FromQuery, GitlabQuery, Query};
use super::paging::Paging;
use super::project::ListQuery;
use super::served::RootProjects;
use super::{ApiError, json};
use crate::group::{GroupEntry, Registry};
use crate::present::gitlab::ProjectEntity;
use crate::present::group::GroupEntity;

/// The path's `:id`: a group id or its URL-encoded path (`group%2Fsub`).
pub struct GroupId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for GroupId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "id")
            .map(GroupId)
            .ok_or_else(|| ApiError::not_found("Group"))
    }
}

/// The registry of a `--root` server, and the group `id` names in it.
fn group(root: Option<&RootProjects>, id: &str) -> Result<(Arc<Registry>, GroupEntry), ApiError> {
    let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
    let registry = root.registry()?;
    let group = registry
        .group(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Group"))?;
    Ok((registry, group))
}

/// `GET /groups` (and a group's subgroups): `search`, `top_level_only`, `order_by`
/// (`name`, the default, `path`, `id`), `sort` (`asc` by default), pages.
pub struct GroupsQuery {
    paging: Paging,
    search: Option<String>,
    top_level_only: bool,
    order: GroupOrder,
    ascending: bool,
}

#[derive(Clone, Copy)]
enum GroupOrder {
    Name,
    Path,
    Id,
}

impl FromQuery for GroupsQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(GroupsQuery {
            paging: Paging::parse(query)?,
            search: query
                .get("search")
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            top_level_only: query.flag("top_level_only")?,
            order: match query.choice("order_by", &["name", "path", "id"])? {
                "path" => GroupOrder::Path,
                "id" => GroupOrder::Id,
                _ => GroupOrder::Name,
            },
            ascending: query.choice("sort", &["asc", "desc"])? == "asc",
        })
    }
}

impl GroupsQuery {
    fn page(
        &self,
        registry: &Registry,
        groups: Vec<&GroupEntry>,
        base: &str,
        uri: &Uri,
    ) -> Response {
        let mut groups: Vec<&GroupEntry> = groups
            .into_iter()
            .filter(|g| !self.top_level_only || g.parent.is_none())
            .filter(|g| {
                self.search.as_ref().is_none_or(|s| {
                    g.path.to_lowercase().contains(s) || g.slug().to_lowercase().contains(s)
                })
            })
            .collect();
        match self.order {
            GroupOrder::Name => groups.sort_by(|a, b| a.slug().cmp(b.slug()).then(a.id.cmp(&b.id))),
            GroupOrder::Path => groups.sort_by(|a, b| a.path.cmp(&b.path)),
            GroupOrder::Id => groups.sort_by_key(|g| g.id),
        }
        if !self.ascending {
            groups.reverse();
        }
        let entities: Vec<GroupEntity> = groups
            .into_iter()
            .map(|g| GroupEntity::new(registry, g, base))
            .collect();
        let (page, headers) = self.paging.apply(entities, base, uri);
        match json(StatusCode::OK, &page) {
            Ok(response) => (headers, response).into_response(),
            Err(e) => e.into_response(),
        }
    }
}

pub async fn list(
    access: ReadAccess,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<GroupsQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .run_root(move |root, _| {
            let Some(root) = root else {
                let (page, headers) = query.paging.apply(Vec::<GroupEntity>::new(), &base, &uri);
                return Ok((headers, json(StatusCode::OK, &page)?).into_response());
            };
            let registry = root.registry()?;
            let groups = registry.groups.iter().collect();
            Ok(query.page(&registry, groups, &base, &uri))
        })
        .await
}

/// The groups directly below the group.
pub async fn subgroups(
    access: ReadAccess,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<GroupsQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let groups = registry.subgroups(&group.path).collect();
            Ok(query.page(&registry, groups, &base, &uri))
        })
        .await
}

/// Every group below the group, at any depth.
pub async fn descendant_groups(
    access: ReadAccess,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<GroupsQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let groups = registry.descendants(&group.path).collect();
            Ok(query.page(&registry, groups, &base, &uri))
        })
        .await
}

/// `GET /groups/:id`: the group, with its projects (GitLab's `with_projects`, on by
/// default; at most 100, as GitLab lists them).
pub struct ShowQuery {
    with_projects: bool,
}

impl FromQuery for ShowQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ShowQuery {
            with_projects: match query.get("with_projects") {
                None | Some("") => true,
                Some(_) => query.flag("with_projects")?,
            },
        })
    }
}

#[derive(Serialize)]
struct GroupWithProjects {
    #[serde(flatten)]
    group: GroupEntity,
    #[serde(skip_serializing_if = "Option::is_none")]
    projects: Option<Vec<ProjectEntity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shared_projects: Option<Vec<ProjectEntity>>,
}

/// GitLab's bound on the projects `GET /groups/:id` lists.
const GROUP_PROJECTS_SHOWN: usize = 100;

pub async fn get(
    access: ReadAccess,
    GroupId(id): GroupId,
    GitlabQuery(query): GitlabQuery<ShowQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    let shared = Arc::clone(access.shared());
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let projects = match (query.with_projects, root) {
                (true, Some(root)) => Some(
                    registry
                        .projects_in(&group.path, false)
                        .take(GROUP_PROJECTS_SHOWN)
                        .map(|entry| {
                            let ctx = super::Ctx::open_blocking(
                                root.served(entry),
                                base.clone(),
                                Arc::clone(&shared),
                            )?;
                            super::project::entity(&ctx)
                        })
                        .collect::<Result<Vec<_>, ApiError>>()?,
                ),
                _ => None,
            };
            let shared_projects = projects.as_ref().map(|_| Vec::new());
            json(
                StatusCode::OK,
                &GroupWithProjects {
                    group: GroupEntity::new(&registry, &group, &base),
                    projects,
                    shared_projects,
                },
            )
        })
        .await
}

/// `GET /groups/:id/projects`: the group's projects, with `include_subgroups` those of
/// every group below it too; the project list's parameters.
pub struct ProjectsQuery {
    list: ListQuery,
    include_subgroups: bool,
}

impl FromQuery for ProjectsQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ProjectsQuery {
            list: ListQuery::from_query(query)?,
            include_subgroups: query.flag("include_subgroups")?,
        })
    }
}

pub async fn projects(
    access: ReadAccess,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ProjectsQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    let shared = Arc::clone(access.shared());
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
            let entries = registry
                .projects_in(&group.path, query.include_subgroups)
                .cloned();
            let (headers, entities) = query.list.page(root, &shared, entries, &base, &uri)?;
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}
