//! Milestones (`/projects/:id/milestones`) and deploy freezes
//! (`/projects/:id/freeze_periods`), addressed by their numeric `id` as in GitLab.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::input::{self, Body, Query};
use super::paging::Paging;
use super::{ApiError, Ctx, Shared, json};
use crate::model::freeze::DEFAULT_ZONE;
use crate::model::{Milestone, MilestoneState};
use crate::plan::freeze::{self, Change, Spec};
use crate::plan::milestone::{self, MilestoneChange, NewMilestone};
use crate::present::gitlab::{FreezePeriodEntity, MilestoneEntity};

fn milestone_entity(ctx: &Ctx, milestone: &Milestone) -> Result<MilestoneEntity, ApiError> {
    let mut project = ctx.project()?.clone();
    project.web_url = Some(ctx.web_url()?);
    Ok(MilestoneEntity::new(
        milestone,
        &project,
        crate::time::Timestamp::now()?,
    ))
}

fn milestone_by_id(ctx: &Ctx, id: &str) -> Result<Milestone, ApiError> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("Milestone"))?;
    milestone::list(&ctx.repo)?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found("Milestone"))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub async fn list_milestones(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_read(&headers, &uri)?;
    let query = Query::parse(uri.query())?;
    let paging = Paging::parse(&query)?;
    let wanted_state = match query.get("state") {
        None | Some("all") => None,
        Some("active") => Some(MilestoneState::Active),
        Some("closed") => Some(MilestoneState::Closed),
        Some(_) => return Err(ApiError::param("state does not have a valid value")),
    };
    let title = query.get("title").map(str::to_owned);
    let search = query.get("search").map(str::to_lowercase);
    access
        .project(id, move |ctx| {
            let milestones: Vec<Milestone> = milestone::list(&ctx.repo)?
                .into_iter()
                .filter(|m| wanted_state.is_none_or(|s| m.state == s))
                .filter(|m| title.as_ref().is_none_or(|t| m.title == *t))
                .filter(|m| {
                    search.as_ref().is_none_or(|s| {
                        m.title.to_lowercase().contains(s)
                            || m.description
                                .as_ref()
                                .is_some_and(|d| d.to_lowercase().contains(s))
                    })
                })
                .collect();
            let (page, headers) = paging.apply(milestones, &ctx.base, &uri);
            let entities = page
                .iter()
                .map(|m| milestone_entity(ctx, m))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}

pub async fn get_milestone(
    State(state): State<Arc<Shared>>,
    Path((id, milestone_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_read(&headers, &uri)?;
    access
        .project(id, move |ctx| {
            let milestone = milestone_by_id(ctx, &milestone_id)?;
            json(StatusCode::OK, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MilestoneBody {
    title: Option<String>,
    description: Option<String>,
    due_date: Option<String>,
    start_date: Option<String>,
    /// Update only: `close` or `activate`.
    state_event: Option<String>,
}

pub async fn create_milestone(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let body: MilestoneBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
    if body.state_event.is_some() {
        return Err(ApiError::param("state_event is not a create parameter"));
    }
    let request = NewMilestone {
        title: input::required("title", body.title)?,
        description: body.description,
        due_date: body.due_date.filter(|d| !d.is_empty()),
        start_date: body.start_date.filter(|d| !d.is_empty()),
    };
    access
        .project(id, move |ctx| {
            let milestone = milestone::create(&ctx.repo, request)?;
            json(StatusCode::CREATED, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

pub async fn update_milestone(
    State(state): State<Arc<Shared>>,
    Path((id, milestone_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let body: MilestoneBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
    let state_change = match body.state_event.as_deref() {
        None => None,
        Some("close") => Some(MilestoneState::Closed),
        Some("activate") => Some(MilestoneState::Active),
        Some(_) => return Err(ApiError::param("state_event does not have a valid value")),
    };
    // An empty date clears it, as GitLab's forms do.
    let date = |d: Option<String>| d.map(|d| Some(d).filter(|d| !d.is_empty()));
    let change = MilestoneChange {
        title: body.title,
        description: body.description.map(Some),
        due_date: date(body.due_date),
        start_date: date(body.start_date),
        state: state_change,
    };
    if change.is_empty() {
        return Err(ApiError::param(
            "title, description, due_date, start_date, state_event are missing, at least one parameter must be provided",
        ));
    }
    access
        .project(id, move |ctx| {
            let current = milestone_by_id(ctx, &milestone_id)?;
            let milestone = milestone::update(&ctx.repo, &current.title, change)?;
            json(StatusCode::OK, &milestone_entity(ctx, &milestone)?)
        })
        .await
}

pub async fn delete_milestone(
    State(state): State<Arc<Shared>>,
    Path((id, milestone_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    access
        .project(id, move |ctx| {
            let current = milestone_by_id(ctx, &milestone_id)?;
            milestone::delete(&ctx.repo, &current.title)?;
            Ok(no_content())
        })
        .await
}

fn freeze_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("Freeze Period"))
}

pub async fn list_freezes(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_read(&headers, &uri)?;
    let paging = Paging::parse(&Query::parse(uri.query())?)?;
    access
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
    State(state): State<Arc<Shared>>,
    Path((id, period_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_read(&headers, &uri)?;
    let period_id = freeze_id(&period_id)?;
    access
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
#[serde(deny_unknown_fields)]
struct FreezeBody {
    freeze_start: Option<String>,
    freeze_end: Option<String>,
    cron_timezone: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

pub async fn create_freeze(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let body: FreezeBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
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
        .project(id, move |ctx| {
            let period = freeze::add(&ctx.repo, spec)?;
            json(StatusCode::CREATED, &FreezePeriodEntity::from(&period))
        })
        .await
}

pub async fn update_freeze(
    State(state): State<Arc<Shared>>,
    Path((id, period_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let period_id = freeze_id(&period_id)?;
    let body: FreezeBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
    let change = Change {
        start: body.freeze_start,
        end: body.freeze_end,
        zone: body.cron_timezone,
        from: input::time("from", body.from.as_deref())?,
        until: input::time("until", body.until.as_deref())?,
    };
    access
        .project(id, move |ctx| {
            let period = freeze::update(&ctx.repo, period_id, change)?;
            json(StatusCode::OK, &FreezePeriodEntity::from(&period))
        })
        .await
}

pub async fn delete_freeze(
    State(state): State<Arc<Shared>>,
    Path((id, period_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let period_id = freeze_id(&period_id)?;
    access
        .project(id, move |ctx| {
            freeze::delete(&ctx.repo, period_id)?;
            Ok(no_content())
        })
        .await
}
