//! GitLab's generic package registry and Packages API over `package`:
//!
//! - `PUT /projects/:id/packages/generic/:name/:version/:file`: the body (streamed,
//!   never whole in memory) becomes a package file; `201`, and with
//!   `?select=package_file` the stored file's JSON. Larger than
//!   `release.packageMaxSize` → `413`; a name, version or file name GitLab refuses →
//!   `400`; a file name a release links to → `400 Duplicate package is not allowed`.
//! - `GET` the same path: the newest upload of that file name, streamed, with
//!   `X-Checksum-SHA256`; bytes that do not hash to the record abort the response.
//! - `GET /projects/:id/packages[/:package_id[/package_files]]`, `DELETE
//!   /projects/:id/packages/:package_id[/package_files/:file_id]`.
//! - `GET /groups/:id/packages` under `serve --root`: the group's projects' packages.
//!
//! The registry takes a token the way GitLab's does (`PackageRead`, `PackageWrite`,
//! `PackageDelete`): the API's headers, `DEPLOY-TOKEN`, and HTTP Basic; publishing
//! needs the Developer role, deleting the Maintainer role.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use super::access::{
    PackageDelete, PackageRead, PackageWrite, ProjectId, ReadAccess, WriteAccess, path_param,
};
use super::groups::GroupId;
use super::input::{FromQuery, GitlabQuery, Query};
use super::paging::Paging;
use super::repository::{CHUNK, CHUNKS_IN_FLIGHT, ChannelWriter, Chunks, content_disposition};
use super::{ApiError, Ctx, json};
use crate::error::Error;
use crate::model::package::{
    PackageDoc, PackageFile, PackageFileName, PackageName, PackageStatus, PackageVersion,
};
use crate::package::{self, PackageUrls, Upload};
use crate::present::package as entity;

/// This project's package URLs as this server serves them (and as its web URL names
/// them).
pub fn urls(ctx: &Ctx) -> Result<PackageUrls, ApiError> {
    Ok(PackageUrls::for_project(ctx.project()?).served_at(&ctx.base, &ctx.project_path()?))
}

/// `:package_name/:package_version/:file_name`, checked as Grape checks them.
pub struct GenericPath {
    name: PackageName,
    version: PackageVersion,
    file_name: PackageFileName,
}

impl<S: Send + Sync> FromRequestParts<S> for GenericPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let invalid = |field: &str| ApiError::param(format!("{field} is invalid"));
        let rest = path_param(parts, "rest").ok_or_else(|| invalid("package_name"))?;
        let segments: Vec<&str> = rest.split('/').collect();
        let [name, version, file_name] = segments.as_slice() else {
            return Err(invalid("file_name"));
        };
        Ok(GenericPath {
            name: PackageName::parse(name).map_err(|_| invalid("package_name"))?,
            version: PackageVersion::parse(version).map_err(|_| invalid("package_version"))?,
            file_name: PackageFileName::parse(file_name).map_err(|_| invalid("file_name"))?,
        })
    }
}

/// `?select=package_file` and `?status=default|hidden` of an upload.
pub struct UploadQuery {
    select_file: bool,
    status: Option<PackageStatus>,
}

impl FromQuery for UploadQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        let select_file = match query.get("select") {
            None | Some("") => false,
            Some("package_file") => true,
            Some(_) => return Err(ApiError::param("select does not have a valid value")),
        };
        let status = match query.get("status") {
            None | Some("") => None,
            Some(text) => Some(
                PackageStatus::parse(text)
                    .ok_or_else(|| ApiError::param("status does not have a valid value"))?,
            ),
        };
        Ok(UploadQuery {
            select_file,
            status,
        })
    }
}

fn too_large(limit: u64) -> ApiError {
    ApiError::message(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("413 Request Entity Too Large: a package file may hold at most {limit} bytes"),
    )
}

/// The errors of the registry, as GitLab answers them.
pub fn registry_error(error: Error) -> ApiError {
    match error {
        Error::PackageTooLarge { limit } => too_large(limit),
        Error::PackageDuplicate { .. } => {
            ApiError::message(StatusCode::BAD_REQUEST, "Duplicate package is not allowed")
        }
        Error::PackageNotFound { .. } => ApiError::not_found("Package"),
        Error::PackageFileNotFound { .. }
        | Error::PackageFileIdNotFound { .. }
        | Error::PackageNotFetched { .. } => ApiError::not_found("Package file"),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::TimedOut => {
            ApiError::message(
                StatusCode::REQUEST_TIMEOUT,
                "408 Request Timeout: the request body stopped arriving",
            )
        }
        Error::Io { .. } => ApiError::param("cannot read the request body"),
        other => other.into(),
    }
}

/// The request body, read on a blocking thread as it arrives: a task forwards its
/// chunks through a small channel (memory stays at a few chunks), and fails the read
/// when no chunk came within the body timeout.
struct BodyReader {
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl BodyReader {
    fn start(body: Body, timeout: std::time::Duration) -> Self {
        let (sender, chunks) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            loop {
                let chunk = match tokio::time::timeout(timeout, stream.next()).await {
                    Err(_) => Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body stopped arriving",
                    )),
                    Ok(None) => return,
                    Ok(Some(chunk)) => chunk.map_err(std::io::Error::other),
                };
                let failed = chunk.is_err();
                if sender.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        BodyReader {
            chunks,
            current: Bytes::new(),
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(chunk) => self.current = chunk?,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub async fn upload(
    access: WriteAccess<PackageWrite>,
    id: ProjectId,
    path: GenericPath,
    GitlabQuery(query): GitlabQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let declared = content_length(&headers);
    let timeout = access.0.shared().limits().body_timeout;
    access
        .0
        .project(id, move |ctx| {
            let limit = package::config::max_size(&ctx.repo)?;
            // A body announced too large is refused before a byte of it is read.
            if declared.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let urls = urls(ctx)?;
            let mut reader = BodyReader::start(body, timeout);
            let uploaded = package::upload(
                &ctx.repo,
                &urls,
                &Upload {
                    name: &path.name,
                    version: &path.version,
                    file_name: &path.file_name,
                    status: query.status,
                },
                &mut reader,
                Some(limit),
            )
            .map_err(registry_error)?;
            ctx.collect_due();
            if query.select_file {
                json(
                    StatusCode::CREATED,
                    &entity::uploaded_file(&uploaded.package, &uploaded.file),
                )
            } else {
                json(
                    StatusCode::CREATED,
                    &serde_json::json!({"message": "201 Created"}),
                )
            }
        })
        .await
}

pub async fn download(
    access: ReadAccess<PackageRead>,
    id: ProjectId,
    path: GenericPath,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let package =
                package::find(&ctx.repo, &path.name, &path.version).map_err(registry_error)?;
            let file = package::file_named(&package, path.file_name.as_str())
                .map_err(registry_error)?
                .clone();
            file_response(ctx, package, file)
        })
        .await
}

/// The bytes of `file`, streamed from a blocking thread of their own as they are read
/// and checked against the recorded SHA-256: bytes that do not match abort the
/// response (the client sees a broken download, never a wrong file taken for whole).
pub fn file_response(
    ctx: &Ctx,
    package: PackageDoc,
    file: PackageFile,
) -> Result<Response, ApiError> {
    let mut reader = package::open(&ctx.repo, &package, &file).map_err(registry_error)?;
    let disposition = HeaderValue::from_str(&content_disposition(&file.file_name))
        .map_err(|_| ApiError::internal("cannot name the package file"))?;
    let checksum = HeaderValue::from_str(&file.file_sha256)
        .map_err(|_| ApiError::internal("the recorded SHA-256 is not a header value"))?;
    let size = file.size;
    let (sender, receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::runtime::Handle::current().spawn_blocking(move || {
        let failed = sender.clone();
        let mut sink = std::io::BufWriter::with_capacity(CHUNK, ChannelWriter(sender));
        let copied =
            package::copy_checked(&mut reader, &mut sink, &package, &file).and_then(|_| {
                std::io::Write::flush(&mut sink)
                    .map_err(|e| Error::io("cannot send the package file", e))
            });
        if let Err(error) = copied {
            let _ = failed.blocking_send(Err(std::io::Error::other(error.to_string())));
        }
    });
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
            (
                header::HeaderName::from_static("x-checksum-sha256"),
                checksum,
            ),
        ],
        Body::from_stream(Chunks(receiver)),
    )
        .into_response())
}

/// `:package_id` (and `:file_id`): a number, else no such package.
pub struct PackageIds {
    package: u64,
    file: Option<u64>,
}

impl<S: Send + Sync> FromRequestParts<S> for PackageIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let number = |name: &str| path_param(parts, name).and_then(|v| v.parse::<u64>().ok());
        let package = number("package_id").ok_or_else(|| ApiError::not_found("Package"))?;
        let file = match path_param(parts, "file_id") {
            None => None,
            Some(_) => Some(number("file_id").ok_or_else(|| ApiError::not_found("Package file"))?),
        };
        Ok(PackageIds { package, file })
    }
}

/// How `GET /packages` filters and orders.
pub struct ListQuery {
    paging: Paging,
    name: Option<String>,
    /// `package_version`: that version only.
    version: Option<String>,
    /// `status`: the packages of that status; none given, those GitLab lists by
    /// default (not hidden). A status no package here can have lists nothing.
    status: Option<Option<PackageStatus>>,
    /// A package type other than generic lists nothing: there are no others here.
    other_type: bool,
    order_by: String,
    descending: bool,
    /// A group's list: only the group's own projects, not its subgroups'.
    exclude_subgroups: bool,
}

impl ListQuery {
    /// Whether the filters keep `package`.
    fn keeps(&self, package: &PackageDoc) -> bool {
        let named = self.name.as_ref().is_none_or(|name| {
            package
                .name
                .to_ascii_lowercase()
                .contains(&name.to_ascii_lowercase())
        });
        let versioned = self
            .version
            .as_ref()
            .is_none_or(|version| package.version == *version);
        let status = match self.status {
            None => package.status == PackageStatus::Default,
            Some(None) => false,
            Some(Some(status)) => package.status == status,
        };
        !self.other_type && named && versioned && status
    }
}

/// A package with its project's id and path.
type Row<'p> = ((u64, &'p str), PackageDoc);

impl ListQuery {
    /// The rows the filters keep, in the order asked for (ties: by project, then id).
    fn select<'p>(&self, rows: Vec<Row<'p>>) -> Vec<Row<'p>> {
        let mut rows: Vec<Row<'p>> = rows.into_iter().filter(|(_, p)| self.keeps(p)).collect();
        match self.order_by.as_str() {
            "name" => {
                rows.sort_by(|((a, _), p), ((b, _), q)| (&p.name, a, p.id).cmp(&(&q.name, b, q.id)))
            }
            "version" => rows.sort_by(|((a, _), p), ((b, _), q)| {
                (&p.version, a, p.id).cmp(&(&q.version, b, q.id))
            }),
            "project_path" => rows.sort_by(|((_, a), p), ((_, b), q)| (a, p.id).cmp(&(b, q.id))),
            _ => rows.sort_by_key(|((project, _), p)| (p.created_at(), *project, p.id)),
        }
        if self.descending {
            rows.reverse();
        }
        rows
    }
}

impl FromQuery for ListQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        let order_by = match query.get("order_by") {
            None | Some("") => "created_at",
            // `project_path` orders a group's list (one project's, it changes nothing).
            Some(o @ ("created_at" | "name" | "version" | "type" | "project_path")) => o,
            Some(_) => return Err(ApiError::param("order_by does not have a valid value")),
        };
        let descending = match query.get("sort") {
            None | Some("") | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(ApiError::param("sort does not have a valid value")),
        };
        let status = match query.get("status") {
            None | Some("") => None,
            Some(text) => match PackageStatus::parse(text) {
                Some(status) => Some(Some(status)),
                // GitLab's other statuses: valid, never held by a package here.
                None if matches!(
                    text,
                    "processing" | "error" | "pending_destruction" | "deprecated"
                ) =>
                {
                    Some(None)
                }
                None => return Err(ApiError::param("status does not have a valid value")),
            },
        };
        match query.get("include_versionless") {
            // Every generic package has a version: nothing to include.
            None | Some("" | "true" | "false" | "1" | "0") => {}
            Some(_) => return Err(ApiError::param("include_versionless is invalid")),
        }
        Ok(ListQuery {
            paging: Paging::parse(query)?,
            version: query
                .get("package_version")
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
            status,
            name: query
                .get("package_name")
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            other_type: query
                .get("package_type")
                .is_some_and(|t| !t.is_empty() && t != "generic"),
            order_by: order_by.to_owned(),
            descending,
            exclude_subgroups: query.flag("exclude_subgroups")?,
        })
    }
}

fn place(ctx: &Ctx) -> Result<(String, String), ApiError> {
    Ok((
        ctx.project_path()?,
        format!("{}/api/v4/projects/{}", ctx.base, ctx.project_id),
    ))
}

fn paged<T: serde::Serialize>(
    ctx: &Ctx,
    paging: Paging,
    uri: &Uri,
    items: Vec<T>,
) -> Result<Response, ApiError> {
    let (items, headers) = paging.apply(items, &ctx.base, uri);
    let mut response = json(StatusCode::OK, &items)?;
    response.headers_mut().extend(headers);
    Ok(response)
}

pub async fn list(
    access: ReadAccess<PackageRead>,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ListQuery>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let (path, api) = place(ctx)?;
            let rows = package::list(&ctx.repo, None)?
                .into_iter()
                .map(|p| ((ctx.project_id, path.as_str()), p))
                .collect();
            let place = entity::PackagePlace {
                project_path: &path,
                api_base: &api,
            };
            let entities = query
                .select(rows)
                .iter()
                .map(|(_, p)| entity::package(&place, p))
                .collect();
            paged(ctx, query.paging, &uri, entities)
        })
        .await
}

/// `GET /groups/:id/packages`: the packages of the group's projects, and of its
/// subgroups' unless `exclude_subgroups`, each with its `project_id` and
/// `project_path`; the project list's filters, `order_by` also `project_path`. Ids are
/// each project's own (GitLab's are instance-wide), so `project_id` tells two apart.
pub async fn group_list(
    access: ReadAccess<PackageRead>,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .0
        .run_root(move |root, _| {
            let (registry, group) = super::groups::group(root, &id)?;
            let root = root.ok_or_else(|| ApiError::not_found("Group"))?;
            let mut rows = Vec::new();
            for project in registry.projects_in(&group.path, !query.exclude_subgroups) {
                let repo = crate::git::Repo::open_exact(&root.served(project).open_path)?;
                let packages = package::list(&repo, None)?;
                rows.extend(
                    packages
                        .into_iter()
                        .map(|p| ((project.id, project.path.as_str()), p)),
                );
            }
            let rows = query.select(rows);
            let (rows, headers) = query.paging.apply(rows, &base, &uri);
            let entities: Vec<_> = rows
                .into_iter()
                .map(|((project_id, project_path), package)| {
                    let api = format!("{base}/api/v4/projects/{project_id}");
                    let place = entity::PackagePlace {
                        project_path,
                        api_base: &api,
                    };
                    entity::GroupPackageEntity {
                        package: entity::package(&place, &package),
                        project_id,
                        project_path: project_path.to_owned(),
                    }
                })
                .collect();
            let mut response = json(StatusCode::OK, &entities)?;
            response.headers_mut().extend(headers);
            Ok(response)
        })
        .await
}

fn by_id(ctx: &Ctx, id: u64) -> Result<PackageDoc, ApiError> {
    let snapshot = crate::store::Snapshot::read(ctx.repo.git())?;
    package::registry::by_id(&snapshot, id)?.ok_or_else(|| ApiError::not_found("Package"))
}

pub async fn get(
    access: ReadAccess<PackageRead>,
    id: ProjectId,
    ids: PackageIds,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let doc = by_id(ctx, ids.package)?;
            let (path, api) = place(ctx)?;
            let place = entity::PackagePlace {
                project_path: &path,
                api_base: &api,
            };
            json(StatusCode::OK, &entity::package(&place, &doc))
        })
        .await
}

/// `GET /packages/:package_id/package_files`, oldest first as GitLab lists them.
pub async fn files(
    access: ReadAccess<PackageRead>,
    id: ProjectId,
    ids: PackageIds,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<Query>,
) -> Result<Response, ApiError> {
    let paging = Paging::parse(&query)?;
    access
        .0
        .project(id, move |ctx| {
            let doc = by_id(ctx, ids.package)?;
            let mut files: Vec<&PackageFile> = doc.files.iter().collect();
            files.sort_by_key(|f| (f.created_at, f.id));
            let entities = files
                .iter()
                .map(|f| entity::package_file(&doc, f))
                .collect();
            paged(ctx, paging, &uri, entities)
        })
        .await
}

pub async fn delete(
    access: WriteAccess<PackageDelete>,
    id: ProjectId,
    ids: PackageIds,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            match ids.file {
                None => {
                    package::delete_by_id(&ctx.repo, ids.package).map_err(registry_error)?;
                }
                Some(file) => {
                    package::delete_file_by_id(&ctx.repo, ids.package, file)
                        .map_err(registry_error)?;
                }
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        })
        .await
}
