//! A root's groups as GitLab's groups API answers for them: `GET /groups`,
//! `/groups/:id`, `/groups/:id/subgroups`, `/groups/:id/descendant_groups`,
//! `/groups/:id/projects` and `/groups/:id/releases`. A plain `serve` has no groups:
//! its list is empty and every group is a 404.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
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
use super::served::{RootProjects, ServedProject};
use super::{ApiError, json};
use crate::group::{GroupEntry, Registry, metrics};
use crate::present::gitlab::ProjectEntity;
use crate::present::group::GroupEntity;
use crate::release::ordering::Direction;

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
pub fn group(
    root: Option<&RootProjects>,
    id: &str,
) -> Result<(Arc<Registry>, GroupEntry), ApiError> {
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
    let caller = access.caller().clone();
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
                                caller.clone(),
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
    let caller = access.caller().clone();
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
            let entries = registry
                .projects_in(&group.path, query.include_subgroups)
                .cloned();
            let (headers, entities) = query
                .list
                .page(root, &shared, &caller, entries, &base, &uri)?;
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}

/// `GET /groups/:id/releases`: `sort` (`desc` by default: newest `released_at` first,
/// GitLab's only order here), `simple`, pages.
pub struct ReleasesQuery {
    paging: Paging,
    direction: Direction,
    simple: bool,
}

impl FromQuery for ReleasesQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ReleasesQuery {
            paging: Paging::parse(query)?,
            direction: match query.choice("sort", &["desc", "asc"])? {
                "asc" => Direction::Asc,
                _ => Direction::Desc,
            },
            simple: query.flag("simple")?,
        })
    }
}

/// A release of a group's list, with `simple`: what identifies it and its dates.
#[derive(Serialize)]
struct SimpleRelease<'a> {
    name: &'a str,
    tag_name: &'a str,
    description: &'a str,
    created_at: crate::time::Timestamp,
    released_at: crate::time::Timestamp,
    upcoming_release: bool,
    #[serde(rename = "_links")]
    links: &'a crate::present::gitlab::ReleaseLinks,
}

/// The releases of every project of the group and of its subgroups (as GitLab's group
/// releases include them), from each project's release cache: only the page's
/// releases are rendered, each with its own project's context.
pub async fn releases(
    access: ReadAccess,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ReleasesQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    let shared = Arc::clone(access.shared());
    let caller = access.caller().clone();
    access
        .run_root(move |root, cancelled| {
            let (registry, group) = group(root, &id)?;
            let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
            let projects: Vec<Arc<ServedProject>> = registry
                .projects_in(&group.path, true)
                .map(|entry| root.served(entry))
                .collect();
            let Some(lists) = root.release_lists(&projects, &cancelled)? else {
                return Err(ApiError::message(
                    StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                    "499 Client Closed Request",
                ));
            };
            let order = root.group_order(&group.path, &projects, &lists);
            let positions: Vec<(usize, usize)> = match query.direction {
                Direction::Desc => order.as_ref().clone(),
                Direction::Asc => order.iter().rev().copied().collect(),
            };
            let (page, headers) = query.paging.apply(positions, &base, &uri);
            // Each project on the page is opened once, its entity context made once.
            let mut contexts: HashMap<usize, super::Ctx> = HashMap::new();
            for &(p, _) in &page {
                if let Entry::Vacant(slot) = contexts.entry(p) {
                    slot.insert(super::Ctx::open_blocking(
                        Arc::clone(&projects[p]),
                        base.clone(),
                        Arc::clone(&shared),
                        caller.clone(),
                    )?);
                }
            }
            let mut entity_contexts = HashMap::new();
            for (p, ctx) in &contexts {
                entity_contexts.insert(*p, ctx.entities()?);
            }
            let mut entities = Vec::with_capacity(page.len());
            for (p, r) in page {
                let entity = entity_contexts[&p].release(&lists[p][r])?;
                let value = if query.simple {
                    serde_json::to_value(SimpleRelease {
                        name: &entity.name,
                        tag_name: &entity.tag_name,
                        description: &entity.description,
                        created_at: entity.created_at,
                        released_at: entity.released_at,
                        upcoming_release: entity.upcoming_release,
                        links: &entity.links,
                    })
                } else {
                    serde_json::to_value(&entity)
                }
                .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
                entities.push(value);
            }
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}

/// A group's release metrics (**ours**: GitLab shows them in its UI, from GraphQL's
/// `releaseStats`): `{"full_path", "releases_count", "releases_percentage"}`, from the
/// projects' release caches.
pub async fn release_stats(access: ReadAccess, GroupId(id): GroupId) -> Result<Response, ApiError> {
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
            let metrics = metrics::of_group(&registry, &group.path, &mut Cached(root))?;
            json(StatusCode::OK, &metrics)
        })
        .await
}

/// Release counts from the server's caches.
struct Cached<'r>(&'r RootProjects);

impl metrics::ReleaseCounts for Cached<'_> {
    fn releases(&mut self, project: &crate::group::ProjectEntry) -> crate::error::Result<usize> {
        let served = self.0.served(project);
        let open = || crate::git::Repo::open_exact(&served.open_path);
        Ok(served.releases(open)?.len())
    }
}
