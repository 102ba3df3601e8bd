//! A release's asset links: `/projects/:id/releases/:tag/assets/links[/:link_id]`.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::{ProjectId, ReadAccess, Tag, WriteAccess};
use super::input::{self, GitlabBody, GitlabQuery};
use super::paging::Paging;
use super::{ApiError, Ctx, json};
use crate::model::{Link, LinkDraft, LinkType};
use crate::release::links::{self, LinkChanges};
use crate::release::{self as lifecycle};

/// A link as the Links API and `assets[links]` take it; `filepath` is the older name
/// of `direct_asset_path`, which wins when both are given.
#[derive(Deserialize, Default)]
pub struct LinkBody {
    #[serde(default, deserialize_with = "input::text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    url: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    direct_asset_path: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    filepath: Option<String>,
    #[serde(default, deserialize_with = "input::text")]
    link_type: Option<String>,
}

impl LinkBody {
    fn link_type(&self) -> Result<Option<LinkType>, ApiError> {
        self.link_type
            .as_deref()
            .map(|t| t.parse::<LinkType>().map_err(ApiError::from))
            .transpose()
    }

    pub fn draft(self) -> Result<LinkDraft, ApiError> {
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

pub async fn list(
    access: ReadAccess,
    id: ProjectId,
    Tag(tag): Tag,
    uri: Uri,
    GitlabQuery(paging): GitlabQuery<Paging>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let context = ctx.entities()?;
            let found = lifecycle::find(&ctx.repo, &tag)?;
            let (page, headers) = paging.apply(context.links(&found), &ctx.base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}

pub async fn create(
    access: WriteAccess,
    id: ProjectId,
    Tag(tag): Tag,
    GitlabBody(body): GitlabBody<LinkBody>,
) -> Result<Response, ApiError> {
    let draft = body.draft()?;
    access
        .0
        .project(id, move |ctx| {
            ctx.authorize_tag(&tag)?;
            let context = ctx.entities()?;
            let (_, link) = links::add(&ctx.repo, &tag, draft)?;
            ctx.collect_due();
            json(StatusCode::CREATED, &context.link(&tag, &link))
        })
        .await
}

/// The path's `:link_id`: a number, else no such link.
pub struct LinkId(u64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LinkId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        super::access::path_param(parts, "link_id")
            .and_then(|value| value.parse().ok())
            .map(LinkId)
            .ok_or_else(|| ApiError::not_found("Link"))
    }
}

/// The link of `tag` with id `link_id` (by id only: a link whose *name* is these
/// digits is not this link).
fn link_by_id(ctx: &Ctx, tag: &str, link_id: u64) -> Result<Link, ApiError> {
    lifecycle::find(&ctx.repo, tag)?
        .release
        .links
        .into_iter()
        .find(|l| l.id == link_id)
        .ok_or_else(|| ApiError::not_found("Link"))
}

pub async fn get(
    access: ReadAccess,
    id: ProjectId,
    Tag(tag): Tag,
    LinkId(link_id): LinkId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let context = ctx.entities()?;
            let link = link_by_id(ctx, &tag, link_id)?;
            json(StatusCode::OK, &context.link(&tag, &link))
        })
        .await
}

pub async fn update(
    access: WriteAccess,
    id: ProjectId,
    Tag(tag): Tag,
    LinkId(link_id): LinkId,
    GitlabBody(body): GitlabBody<LinkBody>,
) -> Result<Response, ApiError> {
    let changes = body.changes()?;
    if changes.is_empty() {
        return Err(ApiError::param(
            "name, url, filepath, direct_asset_path, link_type are missing, at least one parameter must be provided",
        ));
    }
    access
        .0
        .project(id, move |ctx| {
            ctx.authorize_tag(&tag)?;
            let context = ctx.entities()?;
            link_by_id(ctx, &tag, link_id)?;
            let (_, link) = links::update(&ctx.repo, &tag, &link_id.to_string(), &changes)?;
            json(StatusCode::OK, &context.link(&tag, &link))
        })
        .await
}

pub async fn delete(
    access: WriteAccess,
    id: ProjectId,
    Tag(tag): Tag,
    LinkId(link_id): LinkId,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            ctx.authorize_tag(&tag)?;
            let context = ctx.entities()?;
            link_by_id(ctx, &tag, link_id)?;
            let (_, link) = links::delete(&ctx.repo, &tag, &link_id.to_string())?;
            json(StatusCode::OK, &context.link(&tag, &link))
        })
        .await
}
