//! The web paths that release JSON links to, under the project's path
//! (`/<group>/<proj>/-/…`), so that every URL a client is given can be followed:
//!
//! - `-/archive/<tag>/<project>-<tag>.<format>`: the bytes of `git release archive`;
//! - `-/releases/<tag>/downloads/<direct_asset_path>` and
//!   `-/releases/permalink/latest/downloads/…`: 302 to the link's URL (a link to one
//!   of this project's packages: its bytes, from the package store);
//! - `-/tags/<tag>`: the tag as JSON;
//! - the release pages, rendered by the same module as `git release site`
//!   (`web::site::Pages`, with GitLab's paths): `-/releases[?page=N]`,
//!   `-/releases/<tag>` (HTML; JSON for a client that asks only for JSON),
//!   `-/releases.atom`, `-/releases.json`, `-/releases.css`, `-/badges/release.svg`.
//!
//! Tags keep their slashes here, as GitLab's web routes do.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::access::ReadAccess;
use super::input::Query;
use super::paging::Paging;
use super::repository::{archive_response, tag_response};
use super::{ApiError, Ctx, cache, json, redirect};
use crate::archive::{self, Format};
use crate::model::Found;
use crate::release as lifecycle;
use crate::url::unescape;
use crate::web::site::{Pages, Routes, Templates};

fn not_found() -> ApiError {
    ApiError::message(StatusCode::NOT_FOUND, "404 Not Found")
}

pub async fn dispatch(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    access: ReadAccess,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(not_found());
    }
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
    let wants_json = prefers_json(&headers);
    let query = uri.query().map(str::to_owned);
    let segments_for_lookup = segments.clone();
    let sources = access.shared().options.templates.clone();
    let work = move |ctx: &Ctx| {
        let request = PageRequest {
            query: query.as_deref(),
            wants_json,
            sources: &sources,
        };
        page(ctx, &segments, &request)
    };
    // Under `--root`, the project whose path the page's path starts with; a group's
    // web URL (`/groups/<path>`, as group JSON gives it) leads to the group's JSON.
    let wanted = segments_for_lookup.clone();
    let base = access.base().to_owned();
    let found = access
        .run_root(move |root, _| {
            let Some(root) = root else {
                return Ok(None);
            };
            if let Some(project) = root.project_at(&wanted)? {
                return Ok(Some(Ok(project)));
            }
            match wanted.split_first() {
                Some((first, path)) if first == "groups" && !path.is_empty() => {
                    let registry = root.registry()?;
                    let group = registry
                        .group_by_path(&path.join("/"))
                        .ok_or_else(not_found)?;
                    Ok(Some(Err(redirect(&format!(
                        "{base}/api/v4/groups/{}",
                        group.id
                    ))?)))
                }
                _ => Err(not_found()),
            }
        })
        .await?;
    match found {
        Some(Ok(project)) => access.0.run_on(project, work).await,
        Some(Err(response)) => Ok(response),
        None => access.0.run(work).await,
    }
}

/// What a page request asks beyond its path.
struct PageRequest<'a> {
    query: Option<&'a str>,
    /// The client accepts JSON and not HTML (a script following `_links.self`).
    wants_json: bool,
    sources: &'a crate::web::site::Sources,
}

/// Whether the `Accept` header asks for JSON rather than a page: it names
/// `application/json` and neither `text/html` nor `*/*` (browsers send both).
fn prefers_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|part| {
            part.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect::<Vec<_>>();
    accept.iter().any(|t| t == "application/json")
        && !accept.iter().any(|t| t == "text/html" || t == "*/*")
}

fn page(ctx: &Ctx, segments: &[String], request: &PageRequest<'_>) -> Result<Response, ApiError> {
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
    // Whoever may not read the repository (a Guest of a private project) may follow
    // what their redacted JSON links to, and nothing that names tags or commits.
    if !ctx.can_read_code() && !open_to_guests(&rest, request) {
        return Err(ApiError::forbidden());
    }
    match rest.as_slice() {
        // The project's page: its releases for a browser, the API's project for a script.
        [] if request.wants_json => {
            redirect(&format!("{}/api/v4/projects/{}", ctx.base, ctx.project_id))
        }
        [] => redirect(&format!("{}/{project_path}/-/releases", ctx.base)),
        ["-", "commit", sha] => commit_page(ctx, sha),
        ["-", "milestones", iid] => {
            let milestone = crate::plan::milestone::list(&ctx.repo)?
                .into_iter()
                .find(|m| iid.parse() == Ok(m.iid))
                .ok_or_else(|| ApiError::not_found("Milestone"))?;
            redirect(&format!(
                "{}/api/v4/projects/{}/milestones/{}",
                ctx.base, ctx.project_id, milestone.id
            ))
        }
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
            archive_response(ctx, &tag, format, None)
        }
        ["-", "releases"] => {
            let number = Paging::parse(&Query::parse(request.query)?)?.page;
            cached(
                ctx,
                request,
                &[b"index", &number.to_le_bytes()],
                |site| match site.pages.render_index(number, &site.routes)? {
                    Some(html) => Ok((HTML, html)),
                    None => Err(not_found()),
                },
            )
        }
        ["-", "releases.atom"] => cached(ctx, request, &[b"feed"], |site| {
            Ok((ATOM, site.pages.render_feed(&site.routes)?))
        }),
        ["-", "releases.json"] => cached(ctx, request, &[b"json"], |site| {
            Ok((JSON, site.pages.render_json()?))
        }),
        ["-", "releases.css"] => cached(ctx, request, &[b"css"], |site| {
            Ok((CSS, site.pages.stylesheet().to_owned()))
        }),
        ["-", "badges", "release.svg"] => cached(ctx, request, &[b"badge"], |site| {
            Ok((SVG, site.pages.render_badge()?))
        }),
        ["-", "releases", rest @ ..] if !rest.is_empty() => release_page(ctx, rest, request),
        ["-", "tags", tag @ ..] if !tag.is_empty() => tag_response(ctx, &tag.join("/")),
        // A package's `_links.web_path`: its JSON, as the milestones' pages.
        ["-", "packages", id] if id.bytes().all(|b| b.is_ascii_digit()) => redirect(&format!(
            "{}/api/v4/projects/{}/packages/{id}",
            ctx.base, ctx.project_id
        )),
        // Where GitLab's pages link one upload (and release links made by tools such as
        // semantic-release point): the bytes, checked as the generic API sends them.
        ["-", "package_files", id, "download"] => {
            let id: u64 = id
                .parse()
                .map_err(|_| ApiError::not_found("Package file"))?;
            let snapshot = crate::store::Snapshot::read(ctx.repo.git())?;
            let (package, file) = crate::package::file_by_id(&snapshot, id)
                .map_err(super::packages::registry_error)?;
            super::packages::file_response(ctx, package, file)
        }
        _ => Err(not_found()),
    }
}

/// The paths a reader without repository access may follow: the project's redirects,
/// milestones, the stylesheet, a release's downloads (redirects to the links' own
/// URLs) and a release's redacted JSON.
fn open_to_guests(rest: &[&str], request: &PageRequest<'_>) -> bool {
    match rest {
        [] | ["-", "milestones", _] | ["-", "releases.css"] => true,
        ["-", "releases", tag @ ..] if !tag.is_empty() => {
            request.wants_json || tag.contains(&"downloads")
        }
        _ => false,
    }
}

/// `-/releases/<tag>[/downloads/<path>]`; the tag may hold slashes, so each place a
/// `downloads` segment could split it is tried, the longest tag with a release first.
fn release_page(ctx: &Ctx, rest: &[&str], request: &PageRequest<'_>) -> Result<Response, ApiError> {
    let find = |tag: &[&str]| -> Result<Option<Found>, ApiError> {
        if tag == ["permalink", "latest"] {
            return super::releases::latest_release(ctx).map(Some);
        }
        // A name that cannot be a tag names no release.
        let Ok(tag) = crate::model::TagName::parse(&tag.join("/")) else {
            return Ok(None);
        };
        match lifecycle::find(&ctx.repo, &tag) {
            Ok(found) => Ok(Some(found)),
            Err(crate::Error::ReleaseNotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    // `-/releases/<tag>/evidences/<sha>.json`: the evidence file `evidences[].filepath`
    // names, byte for byte as stored (its SHA-256 is the sha).
    if let [tag @ .., "evidences", file] = rest {
        let sha = file
            .strip_suffix(".json")
            .filter(|sha| sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()));
        if let (false, Some(sha)) = (tag.is_empty(), sha) {
            if let Some(found) = find(tag)? {
                let (_, bytes) = crate::audit::evidence::show(&ctx.repo, &found.tag, Some(sha))?;
                return Ok(body(JSON, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    for split in (1..rest.len()).rev() {
        if rest[split] != "downloads" || split + 1 >= rest.len() {
            continue;
        }
        if let Some(found) = find(&rest[..split])? {
            let path = format!("/{}", rest[split + 1..].join("/"));
            return super::releases::download_response(ctx, &found, &path);
        }
    }
    let found = find(rest)?.ok_or_else(|| ApiError::not_found("Release"))?;
    if request.wants_json {
        return json(StatusCode::OK, &ctx.entities()?.release_view(&found)?);
    }
    cached(ctx, request, &[b"release", found.tag.as_bytes()], |site| {
        Ok((HTML, site.pages.render_release(&found.tag, &site.routes)?))
    })
}

/// A page from the server's page cache, or rendered by `render` (and kept). The key
/// is everything the page is made from: the release list (notes ref and tags), the
/// templates, the project's identity, the base URL and `what` page; an entry also
/// ends when an upcoming release comes out or the day ends (what the pages say of
/// upcoming releases and milestones changes then).
fn cached(
    ctx: &Ctx,
    request: &PageRequest<'_>,
    what: &[&[u8]],
    render: impl FnOnce(&SitePages<'_>) -> Result<(&'static str, String), ApiError>,
) -> Result<Response, ApiError> {
    let now = crate::time::Timestamp::now()?;
    let releases = cache::fingerprint(&ctx.repo)?;
    let templates = crate::web::site::templates::fingerprint(&ctx.repo, request.sources)?;
    let project = format!("{:?}", ctx.project()?);
    let mut parts: Vec<&[u8]> = vec![
        &releases,
        &templates,
        project.as_bytes(),
        ctx.base.as_bytes(),
    ];
    parts.extend_from_slice(what);
    let key = cache::page_key(&parts);
    let pages = &ctx.shared().pages;
    if let Some(page) = pages.get(&key, now) {
        return Ok(body(page.content_type, page.body));
    }
    let site = SitePages::open(ctx, request)?;
    let (content_type, text) = render(&site)?;
    let until = valid_until(site.pages.releases(), now);
    let bytes = axum::body::Bytes::from(text);
    pages.put(
        key,
        cache::CachedPage {
            content_type,
            body: bytes.clone(),
            until,
        },
    );
    Ok(body(content_type, bytes))
}

/// Until when pages rendered `now` stand: the next release date still to come, or the
/// end of the day (UTC), whichever is first.
fn valid_until(releases: &[Found], now: crate::time::Timestamp) -> Option<crate::time::Timestamp> {
    let midnight = now
        .datetime()
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| crate::time::Timestamp::from_datetime(d.and_utc()));
    releases
        .iter()
        .map(|f| f.release.released_at)
        .filter(|&at| at > now)
        .chain(midnight)
        .min()
}

/// `-/commit/<sha>` (the release's and the tag's `commit_path`): the commit as the
/// API's commit entity. Only a full object id names a commit here.
fn commit_page(ctx: &Ctx, sha: &str) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("Commit");
    if !(sha.len() == 40 || sha.len() == 64) {
        return Err(not_found());
    }
    let oid = git2::Oid::from_str(sha).map_err(|_| not_found())?;
    let commit = ctx.entities()?.commit(oid)?.ok_or_else(not_found)?;
    json(StatusCode::OK, &commit)
}

const HTML: &str = "text/html; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";
const JSON: &str = "application/json";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// The release pages of this request, with GitLab's paths under the server's base.
struct SitePages<'c> {
    pages: Pages<'c>,
    routes: Routes,
}

impl<'c> SitePages<'c> {
    fn open(ctx: &'c Ctx, request: &PageRequest<'_>) -> Result<Self, ApiError> {
        let templates = Templates::load(&ctx.repo, request.sources)?;
        // The pages link to the project as served here, as the API's JSON does.
        let pages = Pages::served(
            &ctx.repo,
            templates,
            ctx.web_url()?,
            ctx.releases()?.as_ref().clone(),
        )?;
        let routes = Routes::GitLab {
            prefix: format!("/{}", ctx.project_path()?),
            base_url: Some(ctx.base.clone()),
        };
        Ok(SitePages { pages, routes })
    }
}

fn body(content_type: &'static str, bytes: impl Into<axum::body::Bytes>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes.into(),
    )
        .into_response()
}
