//! Releases, their asset links and evidence: `/projects/:id/releases[/...]`.
//!
//! Tags are one URL-encoded path segment (`release%2F1.0`), as GitLab routes them, so
//! everything after `/releases/` is split on raw slashes and decoded segment by
//! segment. `permalink/latest[/suffix]` redirects to the latest release's URL with the
//! suffix kept, as GitLab does.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::input::{self, Body, Query};
use super::paging::Paging;
use super::{ApiError, Ctx, Shared, json, redirect};
use crate::error::Error;
use crate::model::Found;
use crate::model::{LinkDraft, LinkType};
use crate::present::gitlab::EvidenceEntity;
use crate::release::links::{self, LinkChanges};
use crate::release::ordering::{self, Direction, OrderBy};
use crate::release::{self as lifecycle, CreateRequest, UpdateRequest};
use crate::url::escape_segment;

/// Milestone titles given to a release that name no milestone: GitLab's 400.
fn milestone_error(error: Error) -> ApiError {
    match error {
        Error::MilestoneNotFound { title } => ApiError::message(
            StatusCode::BAD_REQUEST,
            format!("Milestone(s) not found: {title}"),
        ),
        other => other.into(),
    }
}

/// The latest release as `permalink/latest` finds it (upcoming ones included).
pub fn latest(ctx: &Ctx) -> Result<Found, ApiError> {
    latest_by(ctx, OrderBy::ReleasedAt)
}

/// The first release in `order`, newest first (`permalink/latest?order_by=`).
fn latest_by(ctx: &Ctx, order: OrderBy) -> Result<Found, ApiError> {
    let mut releases = ctx.releases()?;
    ordering::sort(&mut releases, order, Direction::Desc);
    releases
        .into_iter()
        .next()
        .ok_or(ApiError::not_found("Release"))
}

/// The list's `order_by`: `released_at` (the default), `created_at` or `semver`.
fn order_by(query: &Query) -> Result<OrderBy, ApiError> {
    Ok(
        match query.choice("order_by", &["released_at", "created_at", "semver"])? {
            "created_at" => OrderBy::CreatedAt,
            "semver" => OrderBy::Semver,
            _ => OrderBy::ReleasedAt,
        },
    )
}

pub async fn list(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let access = state.authorize_read(&headers, &uri)?;
    let query = Query::parse(uri.query())?;
    let paging = Paging::parse(&query)?;
    let order = order_by(&query)?;
    let direction = match query.choice("sort", &["desc", "asc"])? {
        "asc" => Direction::Asc,
        _ => Direction::Desc,
    };
    let html = query.flag("include_html_description")?;
    access
        .project(id, move |ctx| {
            let mut context = ctx.entities()?;
            context.include_html = html;
            let mut releases = ctx.releases()?;
            ordering::sort(&mut releases, order, direction);
            let (page, headers) = paging.apply(releases, &ctx.base, &uri);
            let entities = page
                .iter()
                .map(|f| context.release(f))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    tag_name: Option<String>,
    name: Option<String>,
    description: Option<String>,
    tag_message: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    milestones: Option<Vec<String>>,
    assets: Option<AssetsBody>,
    released_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetsBody {
    #[serde(default)]
    links: Vec<LinkBody>,
}

/// A link as the Links API and `assets:links` take it; `filepath` is the older name
/// of `direct_asset_path`, which wins when both are given.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    name: Option<String>,
    url: Option<String>,
    direct_asset_path: Option<String>,
    filepath: Option<String>,
    link_type: Option<String>,
}

impl LinkBody {
    fn link_type(&self) -> Result<Option<LinkType>, ApiError> {
        self.link_type
            .as_deref()
            .map(|t| t.parse::<LinkType>().map_err(ApiError::from))
            .transpose()
    }

    fn draft(self) -> Result<LinkDraft, ApiError> {
        let link_type = self.link_type()?.unwrap_or_default();
        Ok(LinkDraft {
            name: input::required("name", self.name)?,
            url: input::required("url", self.url)?,
            direct_asset_path: self.direct_asset_path.or(self.filepath),
            link_type,
            ..LinkDraft::default()
        })
    }

    fn changes(self) -> Result<LinkChanges, ApiError> {
        Ok(LinkChanges {
            link_type: self.link_type()?,
            name: self.name,
            url: self.url,
            direct_asset_path: self.direct_asset_path.or(self.filepath),
            ..LinkChanges::default()
        })
    }
}

pub async fn create(
    State(state): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = state.authorize_write(&headers, &uri)?;
    let body: CreateBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
    let tag = input::required("tag_name", body.tag_name)?;
    let released_at = input::time("released_at", body.released_at.as_deref())?;
    let links = body
        .assets
        .map(|a| a.links)
        .unwrap_or_default()
        .into_iter()
        .map(LinkBody::draft)
        .collect::<Result<Vec<_>, _>>()?;
    let request = CreateRequest {
        tag,
        reference: body.reference.filter(|r| !r.is_empty()),
        name: body.name,
        description: body.description,
        tag_message: body.tag_message,
        released_at,
        links,
        milestones: body.milestones.unwrap_or_default(),
        ..CreateRequest::default()
    };
    access
        .project(id, move |ctx| {
            // Resolved before writing, as the CLI does: a malformed project file fails
            // the request before the release exists.
            let context = ctx.entities()?;
            let created = lifecycle::create(&ctx.repo, request).map_err(milestone_error)?;
            ctx.collect_due();
            json(StatusCode::CREATED, &context.release(&created.found)?)
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    /// Accepted when it repeats the tag of the URL: the tag never changes.
    tag_name: Option<String>,
    name: Option<String>,
    description: Option<String>,
    milestones: Option<Vec<String>>,
    released_at: Option<String>,
}

/// Everything under `/releases/`: one release, its evidence, links and downloads.
pub async fn dispatch(
    State(state): State<Arc<Shared>>,
    Path((id, _)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // /api/v4/projects/:id/releases/<rest>: the id is one raw segment.
    let raw: Vec<&str> = uri.path().split('/').skip(6).collect();
    let segments = raw
        .iter()
        .map(|s| crate::url::unescape(s))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| ApiError::not_found("Release"))?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let writes = method != Method::GET && method != Method::HEAD;
    let access = if writes {
        state.authorize_write(&headers, &uri)?
    } else {
        state.authorize_read(&headers, &uri)?
    };
    if let ["permalink", "latest", ..] = segments.as_slice() {
        if writes {
            return Err(ApiError::not_found("Release"));
        }
        let raw_suffix: String = raw[2..].iter().map(|s| format!("/{s}")).collect();
        let raw_id = uri.path().split('/').nth(4).unwrap_or_default().to_owned();
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let order = order_by(&Query::parse(uri.query())?)?;
        return access
            .project(id, move |ctx| {
                let found = latest_by(ctx, order)?;
                redirect(&format!(
                    "{}/api/v4/projects/{raw_id}/releases/{}{raw_suffix}{query}",
                    ctx.base,
                    escape_segment(&found.tag)
                ))
            })
            .await;
    }
    let Some((tag, rest)) = segments.split_first() else {
        return Err(ApiError::not_found("Release"));
    };
    let tag = (*tag).to_owned();
    let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let verb = Verb::of(&method);
    match (verb, rest.as_slice()) {
        (Verb::Get, []) => {
            let html = Query::parse(uri.query())?.flag("include_html_description")?;
            access
                .project(id, move |ctx| {
                    let mut context = ctx.entities()?;
                    context.include_html = html;
                    json(
                        StatusCode::OK,
                        &context.release(&lifecycle::find(&ctx.repo, &tag)?)?,
                    )
                })
                .await
        }
        (Verb::Put, []) => {
            let body: UpdateBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
            if body.tag_name.as_ref().is_some_and(|t| *t != tag) {
                return Err(ApiError::param("tag_name cannot be changed"));
            }
            let request = UpdateRequest {
                tag: tag.clone(),
                name: body.name,
                description: body.description,
                released_at: input::time("released_at", body.released_at.as_deref())?,
                milestones: body.milestones,
                generate_notes: None,
            };
            if request.is_empty() {
                return Err(ApiError::param(
                    "name, description, milestones, released_at are missing, at least one parameter must be provided",
                ));
            }
            access
                .project(id, move |ctx| {
                    let context = ctx.entities()?;
                    let updated = lifecycle::update(&ctx.repo, request).map_err(milestone_error)?;
                    ctx.collect_due();
                    // Read again: milestones may have been attached.
                    let context = if updated.found.release.milestones.is_empty() {
                        context
                    } else {
                        ctx.entities()?
                    };
                    json(StatusCode::OK, &context.release(&updated.found)?)
                })
                .await
        }
        (Verb::Delete, []) => {
            input::fields(&headers, uri.query(), body)?;
            access
                .project(id, move |ctx| {
                    let context = ctx.entities()?;
                    let deleted = lifecycle::delete(&ctx.repo, &tag, false)?;
                    json(StatusCode::OK, &context.release(&deleted.found)?)
                })
                .await
        }
        // The newest evidence snapshot, byte for byte as `evidence show` prints it (and
        // as its SHA-256 was taken): what `permalink/latest/evidence` reads.
        (Verb::Get, ["evidence"]) => {
            access
                .project(id, move |ctx| {
                    let (_, bytes) = crate::audit::evidence::show(&ctx.repo, &tag, None)?;
                    Ok((
                        StatusCode::OK,
                        [(
                            axum::http::header::CONTENT_TYPE,
                            axum::http::HeaderValue::from_static("application/json"),
                        )],
                        bytes,
                    )
                        .into_response())
                })
                .await
        }
        (Verb::Post, ["evidence"]) => {
            input::fields(&headers, uri.query(), body)?;
            access
                .project(id, move |ctx| {
                    let collected = crate::audit::evidence::collect(
                        &ctx.repo,
                        &tag,
                        &[],
                        crate::audit::evidence::Archives::AsConfigured,
                        None,
                        None,
                    )?;
                    let e = collected.evidence;
                    json(
                        StatusCode::CREATED,
                        &EvidenceEntity {
                            sha: e.sha,
                            filepath: e.filepath,
                            collected_at: e.collected_at,
                        },
                    )
                })
                .await
        }
        (Verb::Get, ["assets", "links"]) => {
            let paging = Paging::parse(&Query::parse(uri.query())?)?;
            access
                .project(id, move |ctx| {
                    let context = ctx.entities()?;
                    let found = lifecycle::find(&ctx.repo, &tag)?;
                    let (page, headers) = paging.apply(context.links(&found), &ctx.base, &uri);
                    Ok((headers, json(StatusCode::OK, &page)?).into_response())
                })
                .await
        }
        (Verb::Post, ["assets", "links"]) => {
            let body: LinkBody = input::decode(input::fields(&headers, uri.query(), body)?)?;
            let draft = body.draft()?;
            access
                .project(id, move |ctx| {
                    let context = ctx.entities()?;
                    let (_, link) = links::add(&ctx.repo, &tag, draft)?;
                    ctx.collect_due();
                    json(StatusCode::CREATED, &context.link(&tag, &link))
                })
                .await
        }
        (verb, ["assets", "links", link_id]) => {
            let link_id: u64 = link_id.parse().map_err(|_| ApiError::not_found("Link"))?;
            let changes = match verb {
                Verb::Get | Verb::Delete => None,
                Verb::Put => {
                    let body: LinkBody =
                        input::decode(input::fields(&headers, uri.query(), body)?)?;
                    let changes = body.changes()?;
                    if changes.is_empty() {
                        return Err(ApiError::param(
                            "name, url, filepath, direct_asset_path, link_type are missing, at least one parameter must be provided",
                        ));
                    }
                    Some(changes)
                }
                _ => return Err(method_not_allowed()),
            };
            access
                .project(id, move |ctx| {
                    let context = ctx.entities()?;
                    let found = lifecycle::find(&ctx.repo, &tag)?;
                    // By id only: a link whose *name* is these digits is not this link.
                    if !found.release.links.iter().any(|l| l.id == link_id) {
                        return Err(ApiError::not_found("Link"));
                    }
                    let selector = link_id.to_string();
                    let link = match (verb, changes) {
                        (Verb::Put, Some(changes)) => {
                            links::update(&ctx.repo, &tag, &selector, &changes)?.1
                        }
                        (Verb::Delete, _) => links::delete(&ctx.repo, &tag, &selector)?.1,
                        _ => links::select(&found.release.links, &selector)
                            .cloned()
                            .ok_or_else(|| ApiError::not_found("Link"))?,
                    };
                    json(StatusCode::OK, &context.link(&tag, &link))
                })
                .await
        }
        (Verb::Get, ["downloads", path @ ..]) if !path.is_empty() => {
            let path = format!("/{}", path.join("/"));
            access
                .project(id, move |ctx| {
                    let found = lifecycle::find(&ctx.repo, &tag)?;
                    redirect(&download_target(&found, &path)?)
                })
                .await
        }
        _ => Err(ApiError::message(StatusCode::NOT_FOUND, "404 Not Found")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Put,
    Delete,
    Other,
}

impl Verb {
    fn of(method: &Method) -> Self {
        [
            (Method::GET, Verb::Get),
            (Method::HEAD, Verb::Get),
            (Method::POST, Verb::Post),
            (Method::PUT, Verb::Put),
            (Method::DELETE, Verb::Delete),
        ]
        .into_iter()
        .find(|(m, _)| m == method)
        .map_or(Verb::Other, |(_, verb)| verb)
    }
}

fn method_not_allowed() -> ApiError {
    ApiError::message(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed")
}

/// Where `/downloads<path>` of a release redirects: the URL of the link whose direct
/// asset path it is.
pub fn download_target(found: &Found, path: &str) -> Result<String, ApiError> {
    found
        .release
        .links
        .iter()
        .find(|l| l.direct_asset_path.as_deref() == Some(path))
        .map(|l| l.url.clone())
        .ok_or_else(|| ApiError::not_found("Link"))
}
