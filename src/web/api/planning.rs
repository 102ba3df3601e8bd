//! Milestones (`/projects/:id/milestones`) and deploy freezes
//! (`/projects/:id/freeze_periods`), addressed by their numeric `id` as in GitLab.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::{Freezes, Maintainer, ProjectId, ReadAccess, Reporter, WriteAccess};
use super::input::{self, FromQuery, GitlabBody, GitlabQuery, Query};
use super::paging::Paging;
use super::{ApiError, Ctx, json};
use crate::model::freeze::DEFAULT_ZONE;
use crate::model::{Milestone, MilestoneState};
use crate::plan::freeze::{self, Change, Spec};
use crate::plan::milestone::{self, MilestoneChange, NewMilestone};
use crate::present::gitlab::{FreezePeriodEntity, MilestoneEntity};
use crate::release::group::GroupRepository;

fn milestone_entity(ctx: &Ctx, milestone: &Milestone) -> Result<MilestoneEntity, ApiError> {
    let mut project = ctx.project()?.clone();
    project.web_url = Some(ctx.web_url()?);
    Ok(MilestoneEntity::new(
        milestone,
        &project,
        crate::time::Timestamp::now()?,
    ))
}

/// A numeric path parameter (`:milestone_id`, `:freeze_id`); anything else names
/// nothing: 404 with GitLab's wording for `what`.
fn numeric(parts: &Parts, name: &str, what: &str) -> Result<u64, ApiError> {
    super::access::path_param(parts, name)
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| ApiError::not_found(what))
}

pub struct MilestoneId(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for MilestoneId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        numeric(parts, "milestone_id", "Milestone").map(MilestoneId)
    }
}

pub struct FreezeId(u64);

impl<S: Send + Sync> FromRequestParts<S> for FreezeId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        numeric(parts, "freeze_id", "Freeze Period").map(FreezeId)
    }
}

fn milestone_by_id(ctx: &Ctx, id: u64) -> Result<Milestone, ApiError> {
    milestone::list(&ctx.repo)?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found("Milestone"))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /milestones`: `state`, `title`, `search`, pages.
pub struct MilestoneQuery {
    paging: Paging,
    state: Option<MilestoneState>,
    title: Option<String>,
    search: Option<String>,
    /// `include_ancestors` (formerly `include_parent_milestones`): also the milestones
    /// of the groups above (a project's: its group's and theirs).
    pub include_ancestors: bool,
    /// `include_descendants` (a group's list): also its subgroups' milestones.
    pub include_descendants: bool,
}

impl FromQuery for MilestoneQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(MilestoneQuery {
            paging: Paging::parse(query)?,
            state: match query.choice("state", &["all", "active", "closed"])? {
                "active" => Some(MilestoneState::Active),
                "closed" => Some(MilestoneState::Closed),
                _ => None,
            },
            title: query.get("title").map(str::to_owned),
            search: query.get("search").map(str::to_lowercase),
            include_ancestors: query.flag("include_ancestors")?
                || query.flag("include_parent_milestones")?,
            include_descendants: query.flag("include_descendants")?,
        })
    }
}

impl MilestoneQuery {
    /// The milestones the query selects (before paging).
    pub fn select(&self, milestones: Vec<Milestone>) -> Vec<Milestone> {
        milestones.into_iter().filter(|m| self.keeps(m)).collect()
    }

    /// Whether the query's filters keep `m`.
    pub fn keeps(&self, m: &Milestone) -> bool {
        self.state.is_none_or(|s| m.state == s)
            && self.title.as_ref().is_none_or(|t| m.title == *t)
            && self.search.as_ref().is_none_or(|s| {
                m.title.to_lowercase().contains(s)
                    || m.description
                        .as_ref()
                        .is_some_and(|d| d.to_lowercase().contains(s))
            })
    }

    pub fn paging(&self) -> &Paging {
        &self.paging
    }
}

/// The milestones of `groups` that `query` keeps, in that order, as entities (a
/// group whose repository is not here has none).
pub fn group_milestone_entities(
    groups: &[GroupRepository],
    query: &MilestoneQuery,
    base: &str,
) -> Result<Vec<MilestoneEntity>, ApiError> {
    let now = crate::time::Timestamp::now()?;
    let mut entities = Vec::new();
    for group in groups {
        let Some(file) = group.milestones()? else {
            continue;
        };
        for m in file.milestones.iter().filter(|m| query.keeps(m)) {
            entities.push(MilestoneEntity::of_group(m, group, Some(base), now));
        }
    }
    Ok(entities)
}

/// The repositories of the project's group and of the groups above it, nearest first
/// (GitLab's `include_ancestors`): under `--root` as the root's registry knows them,
/// else where the project's own commands find its group.
fn project_groups(ctx: &Ctx) -> Result<Vec<GroupRepository>, ApiError> {
    if let Some(root) = ctx.shared().served().as_root() {
        let registry = root.last_scan();
        let path = ctx.project_path()?;
        let Some(group) = path
            .rsplit_once('/')
            .and_then(|(group, _)| registry.group_by_path(group))
        else {
            return Ok(Vec::new());
        };
        let mut groups = vec![group];
        groups.extend(registry.ancestors(&group.path));
        return Ok(groups
            .into_iter()
            .map(|g| GroupRepository::at(g.repository.clone(), Some(g.path.clone()), Some(g.id)))
            .collect());
    }
    let Some(group) = crate::release::group::locate(&ctx.repo)? else {
        return Ok(Vec::new());
    };
    let ancestors = group
        .ancestors
        .iter()
        .map(|dir| GroupRepository::at(dir.clone(), None, None));
    Ok(std::iter::once(group.clone()).chain(ancestors).collect())
}

pub async fn list_milestones(
    access: ReadAccess,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<MilestoneQuery>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let mut entities = query
                .select(milestone::list(&ctx.repo)?)
                .iter()
                .map(|m| milestone_entity(ctx, m))
                .collect::<Result<Vec<_>, _>>()?;
            if query.include_ancestors {
                let groups = project_groups(ctx)?;
                entities.extend(group_milestone_entities(&groups, &query, &ctx.base)?);
            }
            let (page, headers) = query.paging.apply(entities, &ctx.base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}

pub async fn get_milestone(
    access: ReadAccess,
    id: ProjectId,
    MilestoneId(milestone_id): MilestoneId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let milestone = milestone_by_id(ctx, milestone_id)?;
            json(StatusCode::OK, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

#[derive(Deserialize)]
pub struct MilestoneBody {
    #[serde(default, deserialize_with = "input::text")]
    title: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    due_date: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    start_date: Option<String>,
    /// Update only: `close` or `activate`.
    #[serde(default, deserialize_with = "input::text")]
    state_event: Option<String>,
}

impl MilestoneBody {
    /// A create's request. GitLab's create has no `state_event`; like any field it does
    /// not know, it is ignored.
    pub fn new_milestone(self) -> Result<NewMilestone, ApiError> {
        Ok(NewMilestone {
            title: input::required("title", self.title)?,
            description: self.description,
            due_date: self.due_date.filter(|d| !d.is_empty()),
            start_date: self.start_date.filter(|d| !d.is_empty()),
        })
    }

    /// An update's change; at least one field, as GitLab requires.
    pub fn change(self) -> Result<MilestoneChange, ApiError> {
        let state_change = match self.state_event.as_deref() {
            None => None,
            Some("close") => Some(MilestoneState::Closed),
            Some("activate") => Some(MilestoneState::Active),
            Some(_) => return Err(ApiError::param("state_event does not have a valid value")),
        };
        // An empty date clears it, as GitLab's forms do.
        let date = |d: Option<String>| d.map(|d| Some(d).filter(|d| !d.is_empty()));
        let change = MilestoneChange {
            title: self.title,
            description: self.description.map(Some),
            due_date: date(self.due_date),
            start_date: date(self.start_date),
            state: state_change,
        };
        if change.is_empty() {
            return Err(ApiError::param(
                "title, description, due_date, start_date, state_event are missing, at least one parameter must be provided",
            ));
        }
        Ok(change)
    }
}

pub async fn create_milestone(
    access: WriteAccess<Reporter>,
    id: ProjectId,
    GitlabBody(body): GitlabBody<MilestoneBody>,
) -> Result<Response, ApiError> {
    let request = body.new_milestone()?;
    access
        .0
        .project(id, move |ctx| {
            let milestone = milestone::create(&ctx.repo, request)?;
            json(StatusCode::CREATED, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

pub async fn update_milestone(
    access: WriteAccess<Reporter>,
    id: ProjectId,
    MilestoneId(milestone_id): MilestoneId,
    GitlabBody(body): GitlabBody<MilestoneBody>,
) -> Result<Response, ApiError> {
    let change = body.change()?;
    access
        .0
        .project(id, move |ctx| {
            let current = milestone_by_id(ctx, milestone_id)?;
            let milestone = milestone::update(&ctx.repo, &current.title, change)?;
            json(StatusCode::OK, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

pub async fn delete_milestone(
    access: WriteAccess<Reporter>,
    id: ProjectId,
    MilestoneId(milestone_id): MilestoneId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let current = milestone_by_id(ctx, milestone_id)?;
            milestone::delete(&ctx.repo, &current.title)?;
            Ok(no_content())
        })
        .await
}

pub async fn list_freezes(
    access: ReadAccess<Freezes>,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(paging): GitlabQuery<Paging>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let periods: Vec<FreezePeriodEntity> = freeze::list(&ctx.repo)?
                .iter()
                .map(FreezePeriodEntity::from)
                .collect();
            let (page, headers) = paging.apply(periods, &ctx.base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}

pub async fn get_freeze(
    access: ReadAccess<Freezes>,
    id: ProjectId,
    FreezeId(period_id): FreezeId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let period = freeze::list(&ctx.repo)?
                .into_iter()
                .find(|p| p.id == period_id)
                .ok_or_else(|| ApiError::not_found("Freeze Period"))?;
            json(StatusCode::OK, &FreezePeriodEntity::from(&period))
        })
        .await
}

/// GitLab's cron fields; `from`/`until` are ours (a one-off window, as
/// `freeze add --from --until`).
#[derive(Deserialize)]
pub struct FreezeBody {
    #[serde(default, deserialize_with = "input::text")]
    freeze_start: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    freeze_end: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    cron_timezone: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    from: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    until: Option<String>,
}

pub async fn create_freeze(
    access: WriteAccess<Maintainer>,
    id: ProjectId,
    GitlabBody(body): GitlabBody<FreezeBody>,
) -> Result<Response, ApiError> {
    let spec = match (&body.from, &body.until) {
        (Some(_), _) | (_, Some(_)) if body.freeze_start.is_none() && body.freeze_end.is_none() => {
            Spec::Once {
                from: input::time("from", body.from.as_deref())?
                    .ok_or_else(|| ApiError::param("from is missing"))?,
                until: input::time("until", body.until.as_deref())?
                    .ok_or_else(|| ApiError::param("until is missing"))?,
            }
        }
        _ => Spec::Cron {
            start: input::required("freeze_start", body.freeze_start)?,
            end: input::required("freeze_end", body.freeze_end)?,
            zone: body
                .cron_timezone
                .filter(|z| !z.is_empty())
                .unwrap_or_else(|| DEFAULT_ZONE.to_owned()),
        },
    };
    access
        .0
        .project(id, move |ctx| {
            let period = freeze::add(&ctx.repo, spec)?;
            json(StatusCode::CREATED, &FreezePeriodEntity::from(&period))
        })
        .await
}

pub async fn update_freeze(
    access: WriteAccess<Maintainer>,
    id: ProjectId,
    FreezeId(period_id): FreezeId,
    GitlabBody(body): GitlabBody<FreezeBody>,
) -> Result<Response, ApiError> {
    let change = Change {
        start: body.freeze_start,
        end: body.freeze_end,
        zone: body.cron_timezone,
        from: input::time("from", body.from.as_deref())?,
        until: input::time("until", body.until.as_deref())?,
    };
    access
        .0
        .project(id, move |ctx| {
            let period = freeze::update(&ctx.repo, period_id, change)?;
            json(StatusCode::OK, &FreezePeriodEntity::from(&period))
        })
        .await
}

pub async fn delete_freeze(
    access: WriteAccess<Maintainer>,
    id: ProjectId,
    FreezeId(period_id): FreezeId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            freeze::delete(&ctx.repo, period_id)?;
            Ok(no_content())
        })
        .await
}
