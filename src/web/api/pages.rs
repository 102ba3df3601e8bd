//! The web paths that release JSON links to, under the project's path
//! (`/<group>/<proj>/-/…`), so that every URL a client is given can be followed:
//!
//! - `-/archive/<tag>/<project>-<tag>.<format>`: the bytes of `git release archive`;
//! - `-/releases/<tag>/downloads/<direct_asset_path>` and
//!   `-/releases/permalink/latest/downloads/…`: 302 to the link's URL;
//! - `-/releases/<tag>` and `-/tags/<tag>`: the release and tag as JSON (a repository
//!   has no HTML pages to show; `git release site` writes those).
//!
//! Tags keep their slashes here, as GitLab's web routes do.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

use super::repository::{archive_response, tag_response};
use super::{ApiError, Ctx, Shared, auth, json, redirect};
use crate::archive::{self, Format};
use crate::model::Found;
use crate::release as lifecycle;
use crate::url::unescape;

fn not_found() -> ApiError {
    ApiError::message(StatusCode::NOT_FOUND, "404 Not Found")
}

pub async fn dispatch(
    State(state): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(not_found());
    }
    auth::authorize_read(&state.options, &headers, uri.query())?;
    let segments = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(unescape)
        .collect::<Option<Vec<String>>>()
        .ok_or_else(not_found)?;
    // Nothing decoded may walk out of where it is looked up.
    if segments
        .iter()
        .any(|s| s == ".." || s == "." || s.contains('/'))
    {
        return Err(not_found());
    }
    state.run(&headers, move |ctx| page(ctx, &segments)).await
}

fn page(ctx: &Ctx, segments: &[String]) -> Result<Response, ApiError> {
    let project_path = ctx.project_path()?;
    let project: Vec<&str> = project_path.split('/').collect();
    let n = project.len();
    let matches_project = segments.len() >= n
        && segments[..n]
            .iter()
            .zip(&project)
            .all(|(a, b)| a.eq_ignore_ascii_case(b));
    if !matches_project {
        return Err(not_found());
    }
    let rest: Vec<&str> = segments[n..].iter().map(String::as_str).collect();
    match rest.as_slice() {
        [] => redirect(&format!("{}/api/v4/projects/{}", ctx.base, ctx.project_id)),
        ["-", "archive", tag @ .., file] if !tag.is_empty() => {
            let tag = tag.join("/");
            let name = ctx.project()?.name.clone();
            let base = archive::base_name(&name, &tag);
            let format = file
                .strip_prefix(base.as_str())
                .and_then(|ext| ext.strip_prefix('.'))
                .and_then(Format::parse_list)
                .and_then(|formats| match formats.as_slice() {
                    [format] => Some(*format),
                    _ => None,
                })
                .ok_or_else(not_found)?;
            archive_response(ctx, &tag, format)
        }
        ["-", "releases", rest @ ..] if !rest.is_empty() => release_page(ctx, rest),
        ["-", "tags", tag @ ..] if !tag.is_empty() => {
            tag_response(ctx, &ctx.project_id.to_string(), &tag.join("/"))
        }
        _ => Err(not_found()),
    }
}

/// `-/releases/<tag>[/downloads/<path>]`; the tag may hold slashes, so each place a
/// `downloads` segment could split it is tried, the longest tag with a release first.
fn release_page(ctx: &Ctx, rest: &[&str]) -> Result<Response, ApiError> {
    let find = |tag: &[&str]| -> Result<Option<Found>, ApiError> {
        if tag == ["permalink", "latest"] {
            return super::releases::latest(ctx).map(Some);
        }
        match lifecycle::find(&ctx.repo, &tag.join("/")) {
            Ok(found) => Ok(Some(found)),
            Err(crate::Error::ReleaseNotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    for split in (1..rest.len()).rev() {
        if rest[split] != "downloads" || split + 1 >= rest.len() {
            continue;
        }
        if let Some(found) = find(&rest[..split])? {
            let path = format!("/{}", rest[split + 1..].join("/"));
            return redirect(&super::releases::download_target(&found, &path)?);
        }
    }
    let found = find(rest)?.ok_or_else(|| ApiError::not_found("Release"))?;
    json(StatusCode::OK, &ctx.entities()?.release(&found)?)
}
