//! `GET /projects/:id/repository/archive[.FORMAT]` and `/repository/tags[/:name]`.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::access::{Code, ProjectId, ReadAccess};
use super::input::{FromQuery, GitlabQuery, Query};
use super::paging::Paging;
use super::{ApiError, Ctx, json};
use crate::archive::{self, Format, Mode, Output, Request, Silent};
use crate::git::Repo;
use crate::release as lifecycle;

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Zip => "application/zip",
        Format::TarGz => "application/gzip",
        Format::TarBz2 => "application/x-bzip2",
        Format::Tar => "application/x-tar",
    }
}

/// The archive of `rev` in `format`, named and prefixed `<project>-<rev>` as
/// `git release archive` makes it, so a release's source archive has the same bytes
/// (and digest) here as on disk and in its evidence.
///
/// `rev` is taken as GitLab takes it (a tag, a branch, or a commit id reachable from
/// one: `git::revision::served`); an unknown one is a 404, not a broken download.
/// The bytes are streamed as they are made, from another blocking thread with its own
/// handle on the repository, so memory stays flat whatever the size of the tree; at
/// most `--max-archive-streams` at once (503 with `Retry-After` beyond). A client that
/// goes away stops the work making its archive.
///
/// With `path` (the API's `?path=`), only that directory or file, named and prefixed
/// `<project>-<rev>-<path with / as ->` as GitLab does.
pub fn archive_response(
    ctx: &Ctx,
    rev: &str,
    format: Format,
    path: Option<&str>,
) -> Result<Response, ApiError> {
    let commit = crate::git::revision::served(&ctx.repo, rev, ctx.reachable())?;
    let commit = commit.to_string();
    if let Some(path) = path {
        // Checked before the response starts: a path that names nothing is a 404,
        // not a broken download.
        archive::check_path(&ctx.repo, &commit, path)?;
    }
    let permit = ctx
        .shared()
        .archive_slot()
        .ok_or_else(|| ApiError::busy("too many archives are being made; try again shortly", 5))?;
    let project = ctx.project()?;
    let mut base = archive::base_name(&project.name, rev);
    let path = path.map(str::to_owned);
    if let Some(path) = &path {
        base = format!("{base}-{}", path.replace('/', "-"));
    }
    let file = format!("{base}.{}", format.extension());
    let disposition = HeaderValue::from_str(&content_disposition(&file))
        .map_err(|_| ApiError::internal("cannot name the archive"))?;
    let (sender, receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    let repo_path = ctx.repo_path.clone();
    tokio::runtime::Handle::current().spawn_blocking(move || {
        let _permit = permit;
        let failed = sender.clone();
        let written = Repo::open_exact(&repo_path).and_then(|repo| {
            let prefix = format!("{base}/");
            let request = Request {
                rev: &commit,
                prefix: &prefix,
                mode: Mode::Canonical,
                tar_digest: false,
                digests: true,
                path: path.as_deref(),
            };
            let sink = std::io::BufWriter::with_capacity(CHUNK, ChannelWriter(sender));
            archive::write_archives(
                &repo,
                &request,
                vec![Output {
                    format,
                    sink: Box::new(sink),
                }],
                &Silent,
            )
        });
        // Failing midway aborts the response, so the client cannot take a truncated
        // archive for a whole one.
        if let Err(error) = written {
            let _ = failed.blocking_send(Err(std::io::Error::other(error.to_string())));
        }
    });
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(format)),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(Chunks(receiver)),
    )
        .into_response())
}

/// `attachment` with the file name twice: an ASCII `filename` for old clients (other
/// characters as `_`) and RFC 5987's `filename*` with the exact UTF-8 name.
pub(super) fn content_disposition(file: &str) -> String {
    let ascii: String = file
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact: String = file
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

pub(super) const CHUNK: usize = 64 * 1024;
pub(super) const CHUNKS_IN_FLIGHT: usize = 16;

pub(super) type Chunk = std::io::Result<axum::body::Bytes>;

/// The archive writer's end of the stream: each write is one chunk of the body, of at
/// most `CHUNK` bytes. A bigger write (a large file's contents, written at once) is
/// taken a chunk at a time, so that at most `CHUNKS_IN_FLIGHT` chunks wait for a slow
/// client, whatever the file's size, and the writer waits for the client meanwhile.
pub(super) struct ChannelWriter(pub(super) tokio::sync::mpsc::Sender<Chunk>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(CHUNK);
        self.0
            .blocking_send(Ok(axum::body::Bytes::copy_from_slice(&buf[..n])))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The response's end of the stream.
pub(super) struct Chunks(pub(super) tokio::sync::mpsc::Receiver<Chunk>);

impl futures_core::Stream for Chunks {
    type Item = Chunk;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

/// `archive`, `archive.zip`, `archive.tar.gz`, … (GitLab's aliases included).
fn archive_format(file: &str) -> Option<Format> {
    match file.strip_prefix("archive")? {
        "" => Some(Format::TarGz),
        ext => match Format::parse_list(ext.strip_prefix('.')?)?.as_slice() {
            [format] => Some(*format),
            _ => None,
        },
    }
}

/// The path's `:file`: `archive`, `archive.zip`, … (404 for anything else).
pub struct ArchiveFile(Format);

impl<S: Send + Sync> FromRequestParts<S> for ArchiveFile {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let not_found = || ApiError::message(StatusCode::NOT_FOUND, "404 Not Found");
        super::access::path_param(parts, "file")
            .and_then(|file| archive_format(&file))
            .map(ArchiveFile)
            .ok_or_else(not_found)
    }
}

/// `sha` (default: the branch HEAD names) and `path`.
pub struct ArchiveQuery {
    sha: Option<String>,
    path: Option<String>,
}

impl FromQuery for ArchiveQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(ArchiveQuery {
            sha: query
                .get("sha")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            path: subpath(query.get("path"))?,
        })
    }
}

pub async fn archive(
    access: ReadAccess<Code>,
    id: ProjectId,
    ArchiveFile(format): ArchiveFile,
    GitlabQuery(query): GitlabQuery<ArchiveQuery>,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| {
            let rev = match query.sha {
                Some(sha) => sha,
                // GitLab's default: the default branch. A repository with none (no
                // commits yet, or a detached HEAD) has nothing to archive.
                None => ctx
                    .repo
                    .head_branch()
                    .ok_or_else(|| ApiError::not_found("Ref"))?,
            };
            archive_response(ctx, &rev, format, query.path.as_deref())
        })
        .await
}

/// The API's `path`: a directory or file of the tree, relative (a leading or trailing
/// `/` is dropped), with no `.`, `..` or empty segment. Empty or `/`: the whole tree.
fn subpath(path: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(path) = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\0'))
    {
        return Err(ApiError::param("path is invalid"));
    }
    Ok(Some(path.to_owned()))
}

/// `GET /repository/tags`: `order_by`, `sort`, `search`, pages.
pub struct TagQuery {
    paging: Paging,
    order: &'static str,
    descending: bool,
    search: Option<String>,
}

impl FromQuery for TagQuery {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(TagQuery {
            paging: Paging::parse(query)?,
            order: query.choice("order_by", &["updated", "name", "version"])?,
            descending: query.choice("sort", &["desc", "asc"])? == "desc",
            search: query.get("search").map(str::to_owned),
        })
    }
}

pub async fn list_tags(
    access: ReadAccess<Code>,
    id: ProjectId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<TagQuery>,
) -> Result<Response, ApiError> {
    let TagQuery {
        paging,
        order,
        descending,
        search,
    } = query;
    access
        .0
        .project(id, move |ctx| {
            let context = ctx.entities()?;
            let releases: HashMap<String, crate::model::Found> = ctx
                .releases()?
                .iter()
                .map(|f| (f.tag.to_string(), f.clone()))
                .collect();
            let mut names = crate::git::tag::names(&ctx.repo)?;
            if let Some(search) = &search {
                // GitLab: `^term` anchors at the start, `term$` at the end.
                names.retain(
                    |n| match (search.strip_prefix('^'), search.strip_suffix('$')) {
                        (Some(start), _) => n.starts_with(start),
                        (_, Some(end)) => n.ends_with(end),
                        _ => n.contains(search.as_str()),
                    },
                );
            }
            let mut tags = Vec::with_capacity(names.len());
            for name in &names {
                if let Some(tag) = context.tag(name, releases.get(name))? {
                    tags.push(tag);
                }
            }
            match order {
                "name" => tags.sort_by(|a, b| a.name.cmp(&b.name)),
                "version" => tags.sort_by(|a, b| {
                    let key = |n: &str| crate::release::ordering::lenient_semver(n);
                    key(&a.name)
                        .cmp(&key(&b.name))
                        .then_with(|| a.name.cmp(&b.name))
                }),
                _ => tags.sort_by(|a, b| {
                    let date = |t: &crate::present::gitlab::TagEntity| {
                        t.commit.as_ref().map(|c| c.committed_date.clone())
                    };
                    date(a).cmp(&date(b)).then_with(|| a.name.cmp(&b.name))
                }),
            }
            if descending {
                tags.reverse();
            }
            let (page, headers) = paging.apply(tags, &ctx.base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}

/// The path's `:name` of a tag, decoded; a name that cannot be a tag is no tag.
pub struct TagPath(String);

impl<S: Send + Sync> FromRequestParts<S> for TagPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        super::access::raw_path_param(parts, "name")
            .and_then(crate::url::unescape)
            .map(TagPath)
            .ok_or_else(|| ApiError::not_found("Tag"))
    }
}

pub async fn get_tag(
    access: ReadAccess<Code>,
    id: ProjectId,
    TagPath(name): TagPath,
) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| tag_response(ctx, &name))
        .await
}

pub fn tag_response(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let Ok(tag_name) = crate::model::TagName::parse(name) else {
        return Err(ApiError::not_found("Tag"));
    };
    let context = ctx.entities()?;
    let release = lifecycle::find(&ctx.repo, &tag_name).ok();
    let tag = context
        .tag(name, release.as_ref())?
        .ok_or_else(|| ApiError::not_found("Tag"))?;
    json(StatusCode::OK, &tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_file_names_give_the_format() {
        assert_eq!(archive_format("archive"), Some(Format::TarGz));
        assert_eq!(archive_format("archive.zip"), Some(Format::Zip));
        assert_eq!(archive_format("archive.tbz2"), Some(Format::TarBz2));
        assert_eq!(archive_format("archive.all"), None);
        assert_eq!(archive_format("archive.rar"), None);
        assert_eq!(archive_format("archivezip"), None);
        assert_eq!(archive_format("tags"), None);
    }
}
