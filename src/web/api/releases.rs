//! Releases and their evidence: `/projects/:id/releases[/:tag[/…]]`, one function per
//! route (asset links are in `links`).
//!
//! A tag is one URL-encoded path segment (`release%2F1.0`), as GitLab routes them.
//! `permalink/latest[/suffix]` redirects to the latest release's URL with the suffix
//! kept, as GitLab does.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::{Code, Maintainer, ProjectId, ReadAccess, Tag, WriteAccess};
use super::input::{self, FromQuery, GitlabBody, GitlabQuery, Query};
use super::links::LinkBody;
use super::paging::Paging;
use super::{ApiError, Ctx, json, redirect};
use crate::error::Error;
use crate::model::Found;
use crate::present::gitlab::EvidenceEntity;
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
pub fn latest_release(ctx: &Ctx) -> Result<Found, ApiError> {
    latest_by(ctx, OrderBy::ReleasedAt)
}

/// The first release in `order`, newest first (`permalink/latest?order_by=`).
fn latest_by(ctx: &Ctx, order: OrderBy) -> Result<Found, ApiError> {
    let mut releases = ctx.releases()?.as_ref().clone();
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

/// `GET /releases`: `order_by`, `sort`, `include_html_description`, pages.
pub struct ListQuery {
    paging: Paging,
    order: OrderBy,
    direction: Direction,
    html: bool,
}

impl FromQuery for ListQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ListQuery {
            paging: Paging::parse(query)?,
            order: order_by(query)?,
            direction: match query.choice("sort", &["desc", "asc"])? {
                "asc" => Direction::Asc,
                _ => Direction::Desc,
            },
            html: query.flag("include_html_description")?,
        })
    }
}

pub async fn list(
    access: ReadAccess,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ListQuery>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let mut context = ctx.entities()?;
            context.include_html = query.html;
            let mut releases = ctx.releases()?.as_ref().clone();
            ordering::sort(&mut releases, query.order, query.direction);
            let (page, headers) = query.paging.apply(releases, &ctx.base, &uri);
            let mut entities = Vec::with_capacity(page.len());
            for found in &page {
                ctx.check_cancelled()?;
                entities.push(context.release_view(found)?);
            }
            Ok((headers, json(StatusCode::OK, &entities)?).into_response())
        })
        .await
}

/// `include_html_description` of one release.
pub struct ShowQuery {
    html: bool,
}

impl FromQuery for ShowQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ShowQuery {
            html: query.flag("include_html_description")?,
        })
    }
}

pub async fn get(
    access: ReadAccess,
    id: ProjectId,
    Tag(tag): Tag,
    GitlabQuery(query): GitlabQuery<ShowQuery>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let mut context = ctx.entities()?;
            context.include_html = query.html;
            let found = lifecycle::find(&ctx.repo, &tag)?;
            json(StatusCode::OK, &context.release_view(&found)?)
        })
        .await
}

/// `permalink/latest[/suffix]`: a redirect to the same path on the latest release.
/// A redirect that names the latest tag: only for who may read the repository (GitLab
/// asks `download_code` here).
pub async fn latest(
    access: ReadAccess<Code>,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(order): GitlabQuery<LatestQuery>,
) -> Result<Response, ApiError> {
    // /api/v4/projects/:id/releases/permalink/latest<suffix>, all kept as sent.
    let path = uri.path();
    let marker = "/releases/permalink/latest";
    let at = path
        .find(marker)
        .ok_or_else(|| ApiError::not_found("Release"))?;
    let before = path[..at].to_owned();
    let suffix = path[at + marker.len()..].to_owned();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    access
        .0
        .project(id, move |ctx| {
            let found = latest_by(ctx, order.0)?;
            redirect(&format!(
                "{}{before}/releases/{}{suffix}{query}",
                ctx.base,
                escape_segment(&found.tag)
            ))
        })
        .await
}

/// `permalink/latest?order_by=`.
pub struct LatestQuery(OrderBy);

impl FromQuery for LatestQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        order_by(query).map(LatestQuery)
    }
}

#[derive(Deserialize)]
pub struct CreateBody {
    #[serde(default, deserialize_with = "input::text")]
    tag_name: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    tag_message: Option<String>,
    #[serde(rename = "ref", default, deserialize_with = "input::text")]
    reference: Option<String>,
    #[serde(default, deserialize_with = "input::texts")]
    milestones: Option<Vec<String>>,
    #[serde(default)]
    assets: Option<AssetsBody>,
    #[serde(default, deserialize_with = "input::text")]
    released_at: Option<String>,
}

#[derive(Deserialize)]
struct AssetsBody {
    #[serde(default)]
    links: Vec<LinkBody>,
}

pub async fn create(
    access: WriteAccess,
    id: ProjectId,
    GitlabBody(body): GitlabBody<CreateBody>,
) -> Result<Response, ApiError> {
    let tag = input::required("tag_name", body.tag_name)?;
    // Checked before any git work: a name git cannot store is the client's error.
    crate::model::TagName::parse_new(&tag)?;
    let released_at = input::time("released_at", body.released_at.as_deref())?;
    let links = body
        .assets
        .map(|a| a.links)
        .unwrap_or_default()
        .into_iter()
        .map(LinkBody::draft)
        .collect::<Result<Vec<_>, _>>()?;
    let reference = body.reference.filter(|r| !r.is_empty());
    let request = CreateRequest {
        tag,
        reference: reference.clone(),
        name: body.name,
        description: body.description,
        tag_message: body.tag_message,
        released_at,
        links,
        milestones: body.milestones.unwrap_or_default(),
        ..CreateRequest::default()
    };
    access
        .0
        .project(id, move |ctx| {
            // Who may release on a protected tag is checked before anything is made.
            ctx.authorize_tag(&request.tag)?;
            if let Some(reference) = &reference {
                // GitLab's `ref`: a branch, a tag or a commit id it has.
                crate::git::revision::served(&ctx.repo, reference, ctx.reachable()).map_err(
                    |e| match e {
                        Error::ArchiveRevision { rev, reason } => ApiError::message(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("cannot resolve ref {rev:?}: {reason}"),
                        ),
                        other => other.into(),
                    },
                )?;
            }
            // Resolved before writing, as the CLI does: a malformed project file fails
            // the request before the release exists.
            let context = ctx.entities()?;
            let request = CreateRequest {
                author: ctx.author(),
                ..request
            };
            let created = lifecycle::create(&ctx.repo, request).map_err(milestone_error)?;
            ctx.collect_due();
            json(StatusCode::CREATED, &context.release_view(&created.found)?)
        })
        .await
}

#[derive(Deserialize)]
pub struct UpdateBody {
    /// Accepted when it repeats the tag of the URL: the tag never changes.
    #[serde(default, deserialize_with = "input::text")]
    tag_name: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    description: Option<String>,
    #[serde(default, deserialize_with = "input::texts")]
    milestones: Option<Vec<String>>,
    #[serde(default, deserialize_with = "input::text")]
    released_at: Option<String>,
}

pub async fn update(
    access: WriteAccess,
    id: ProjectId,
    Tag(tag): Tag,
    GitlabBody(body): GitlabBody<UpdateBody>,
) -> Result<Response, ApiError> {
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
        .0
        .project(id, move |ctx| {
            ctx.authorize_tag(&tag)?;
            let context = ctx.entities()?;
            let updated = lifecycle::update(&ctx.repo, request).map_err(milestone_error)?;
            ctx.collect_due();
            // Read again: milestones may have been attached.
            let context = if updated.found.release.milestones.is_empty() {
                context
            } else {
                ctx.entities()?
            };
            json(StatusCode::OK, &context.release_view(&updated.found)?)
        })
        .await
}

/// Deleting a release needs a Maintainer (GitLab's API documents it so).
pub async fn delete(
    access: WriteAccess<Maintainer>,
    id: ProjectId,
    Tag(tag): Tag,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            ctx.authorize_tag(&tag)?;
            let context = ctx.entities()?;
            let deleted = lifecycle::delete(&ctx.repo, &tag, lifecycle::TagDeletion::Keep)?;
            json(StatusCode::OK, &context.release_view(&deleted.found)?)
        })
        .await
}

/// The newest evidence snapshot, byte for byte as `evidence show` prints it (and as
/// its SHA-256 was taken): what `permalink/latest/evidence` reads.
pub async fn evidence(
    access: ReadAccess<Code>,
    id: ProjectId,
    Tag(tag): Tag,
) -> Result<Response, ApiError> {
    access
        .0
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

pub async fn collect_evidence(
    access: WriteAccess,
    id: ProjectId,
    Tag(tag): Tag,
) -> Result<Response, ApiError> {
    access
        .0
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
                    filepath: ctx.entities()?.evidence_filepath(&tag, &e),
                    sha: e.sha,
                    collected_at: e.collected_at,
                },
            )
        })
        .await
}

/// `/downloads/<direct_asset_path>`: a redirect to the link's URL, or the package
/// file a link to this project's packages names.
pub async fn download(
    access: ReadAccess,
    id: ProjectId,
    Tag(tag): Tag,
    AssetPath(raw): AssetPath,
) -> Result<Response, ApiError> {
    // The path as sent, each segment decoded (`%2F` inside one stays a part of it).
    let path = raw
        .split('/')
        .map(crate::url::unescape)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::not_found("Link"))?;
    let path = format!("/{}", path.join("/"));
    access
        .0
        .project(id, move |ctx| {
            let found = lifecycle::find(&ctx.repo, &tag)?;
            download_response(ctx, &found, &path)
        })
        .await
}

/// `/downloads<path>` of a release: a redirect to the URL of the link whose direct
/// asset path it is; when that URL is one of this project's package URLs, the
/// package file itself, from the package store, checked against its SHA-256.
pub fn download_response(ctx: &Ctx, found: &Found, path: &str) -> Result<Response, ApiError> {
    let link = found
        .release
        .links
        .iter()
        .find(|l| l.direct_asset_path.as_deref() == Some(path))
        .ok_or_else(|| ApiError::not_found("Link"))?;
    let urls = super::packages::urls(ctx)?;
    let snapshot = crate::store::Snapshot::read(ctx.repo.git())?;
    match crate::package::resolve_link(&snapshot, &urls, link) {
        Ok(Some((package, file))) => {
            if link
                .sha256
                .as_deref()
                .is_some_and(|s| !s.eq_ignore_ascii_case(&file.file_sha256))
            {
                return Err(ApiError::internal(format!(
                    "link {:?} records SHA-256 {}, but its package file {}",
                    link.name,
                    link.sha256.as_deref().unwrap_or_default(),
                    file.file_sha256
                )));
            }
            super::packages::file_response(ctx, package, file)
        }
        Ok(None) => redirect(&link.url),
        Err(_) => Err(ApiError::not_found("Package")),
    }
}

/// The raw `*path` after `/downloads/`.
pub struct AssetPath(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AssetPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        super::access::raw_path_param(parts, "path")
            .map(|raw| AssetPath(raw.to_owned()))
            .ok_or_else(|| ApiError::not_found("Link"))
    }
}
