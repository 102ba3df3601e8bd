//! `GET /version`, `GET /user`, `GET /projects[/:id]`.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::{ProjectId, ReadAccess};
use super::auth::Caller;
use super::input::{FromQuery, GitlabQuery, Query};
use super::paging::Paging;
use super::served::{RootProjects, Served};
use super::{ApiError, Ctx, Shared, json};
use crate::group::ProjectEntry;
use crate::present::gitlab::{ProjectEntity, UserEntity};
use crate::present::group::NamespaceEntity;

fn parent_group(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(group, _)| group)
}

pub async fn version(_: ReadAccess) -> Result<Response, ApiError> {
    json(
        StatusCode::OK,
        &json!({
            "version": super::GITLAB_VERSION,
            "revision": concat!("git-release-", env!("CARGO_PKG_VERSION")),
            "kas": {"enabled": false, "externalUrl": null, "version": null},
            "enterprise": false,
        }),
    )
}

/// The token's user: a `--tokens` user, or for a single-option token the git identity
/// of the repository (under `--root`, of its first project: the identity is git's, set
/// globally or per repository). GitLab answers 401 to a request without a valid token,
/// whatever the server's read policy.
pub async fn user(access: ReadAccess) -> Result<Response, ApiError> {
    let Caller::Member(member) = access.caller().clone() else {
        return Err(ApiError::unauthorized());
    };
    let project = match access.shared().served() {
        Served::One(project) => Arc::clone(project),
        Served::Root(_) => {
            let first = access
                .run_root(|root, _| match root {
                    Some(root) => Ok(root
                        .registry()?
                        .projects
                        .first()
                        .map(|entry| root.served(entry))),
                    None => Ok(None),
                })
                .await?;
            match (&member.user, first) {
                (Some(user), _) => {
                    let person = user.person();
                    let base = access.base().to_owned();
                    return json(StatusCode::OK, &UserEntity::new(&person, Some(&base)));
                }
                (None, Some(first)) => first,
                (None, None) => return Err(ApiError::not_found("User")),
            }
        }
    };
    access
        .0
        .run_on(project, move |ctx| {
            let person = match &member.user {
                Some(user) => user.person(),
                None => crate::model::Person::committer(&ctx.repo)?,
            };
            json(StatusCode::OK, &UserEntity::new(&person, Some(&ctx.base)))
        })
        .await
}

/// The project's entity as served here.
pub fn entity(ctx: &Ctx) -> Result<ProjectEntity, ApiError> {
    let mut project = ctx.project()?.clone();
    project.web_url = Some(ctx.web_url()?);
    let mut entity = ProjectEntity::new(&project, ctx.project_id, ctx.repo.head_branch());
    // Under `--root` the path is the one under the root, whatever the identity says.
    let path = ctx.project_path()?;
    entity.name_with_namespace = crate::present::gitlab::name_with_namespace(&path, &entity.name);
    entity.path = path.rsplit('/').next().unwrap_or_default().to_owned();
    if let Some(root) = ctx.shared().served().as_root() {
        let registry = root.last_scan();
        entity.namespace = parent_group(&path)
            .and_then(|group| registry.group_by_path(group))
            .map(|group| NamespaceEntity::new(&registry, group, &ctx.base));
    }
    entity.path_with_namespace = path;
    Ok(entity)
}

pub async fn get(access: ReadAccess, id: ProjectId) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| json(StatusCode::OK, &entity(ctx)?))
        .await
}

/// `GET /projects` (and a group's projects): `order_by` (`id`, `path`; `created_at`,
/// the default, is the order ids were given in), `sort` (`desc` by default), `search`
/// (in the path), pages.
pub struct ListQuery {
    pub paging: Paging,
    order: ProjectOrder,
    ascending: bool,
    search: Option<String>,
}

#[derive(Clone, Copy)]
enum ProjectOrder {
    Id,
    Path,
}

impl FromQuery for ListQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ListQuery {
            paging: Paging::parse(query)?,
            order: match query.choice("order_by", &["created_at", "id", "path"])? {
                "path" => ProjectOrder::Path,
                _ => ProjectOrder::Id,
            },
            ascending: query.choice("sort", &["desc", "asc"])? == "asc",
            search: query
                .get("search")
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
        })
    }
}

impl ListQuery {
    /// The page of `entries` this query asks for, as entities (only the page's
    /// repositories are opened), and its headers.
    pub fn page(
        &self,
        root: &RootProjects,
        shared: &Arc<Shared>,
        caller: &Caller,
        entries: impl Iterator<Item = ProjectEntry>,
        base: &str,
        uri: &Uri,
    ) -> Result<(HeaderMap, Vec<ProjectEntity>), ApiError> {
        let mut entries: Vec<ProjectEntry> = entries
            .filter(|p| {
                self.search
                    .as_ref()
                    .is_none_or(|s| p.path.to_lowercase().contains(s))
            })
            .collect();
        match self.order {
            ProjectOrder::Id => entries.sort_by_key(|p| p.id),
            ProjectOrder::Path => entries.sort_by(|a, b| a.path.cmp(&b.path)),
        }
        if !self.ascending {
            entries.reverse();
        }
        let (page, headers) = self.paging.apply(entries, base, uri);
        let entities = page
            .iter()
            .map(|entry| {
                let ctx = Ctx::open_blocking(
                    root.served(entry),
                    base.to_owned(),
                    Arc::clone(shared),
                    caller.clone(),
                )?;
                entity(&ctx)
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok((headers, entities))
    }
}

/// Every project served (a plain `serve`: the one there is), paginated as every list
/// is.
pub async fn list(
    access: ReadAccess,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    let shared = Arc::clone(access.shared());
    let caller = access.caller().clone();
    let paging = query.paging;
    let list_uri = uri.clone();
    let projects = access
        .run_root(move |root, _| match root {
            None => Ok(None),
            Some(root) => {
                let registry = root.registry()?;
                let entries = registry.projects.iter().cloned();
                query
                    .page(root, &shared, &caller, entries, &base, &list_uri)
                    .map(Some)
            }
        })
        .await?;
    match projects {
        Some((headers, entities)) => {
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        }
        None => {
            access
                .0
                .run(move |ctx| {
                    let (page, headers) = paging.apply(vec![entity(ctx)?], &ctx.base, &uri);
                    Ok((headers, json(StatusCode::OK, &page)?).into_response())
                })
                .await
        }
    }
}
