//! `git release serve`: GitLab's Releases REST API v4, served from the repository with
//! axum on tokio. Handlers do no git work on the async threads: each request opens the
//! repository on a blocking thread (`Shared::run`), calls the same library functions as
//! the CLI (whose writes are compare-and-swap on the notes ref), and renders the same
//! entities as `--json`. URLs in responses are built from the server's own base.

mod auth;
mod cache;
mod error;
mod input;
mod pages;
mod paging;
mod planning;
mod project;
mod releases;
mod repository;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

pub use auth::Tokens;
pub use error::ApiError;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::project::Project;
use crate::present::gitlab::{EntityContext, project_path};

/// Request bodies larger than this are refused with 413. A release description may
/// hold 1,000,000 characters (up to 4 bytes each, more once JSON-escaped).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The version `GET /version` reports: clients gate features on GitLab's version, and
/// everything served here follows GitLab 17's Releases API.
pub const GITLAB_VERSION: &str = "17.6.0";

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// Base for URLs in responses (`https://proxy.example/releases`); else the request's
    /// Host header.
    pub base_url: Option<String>,
    pub read_only: bool,
    pub require_token_for_reads: bool,
    pub tokens: Tokens,
    /// No log line per request.
    pub quiet: bool,
    /// Where the release pages' templates come from (as `git release site`).
    pub templates: crate::web::site::Sources,
}

/// A bound, not yet serving, server: binding first lets the caller print the real port
/// (`--listen 127.0.0.1:0`) before any request can arrive.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<Shared>,
}

/// What every request shares.
pub struct Shared {
    /// Where the repository was found; each request opens it again (git2 handles are
    /// not shared between threads).
    repo_path: PathBuf,
    options: Options,
    /// GitLab's numeric project id (`release.projectId`, default 1).
    project_id: u64,
    local: SocketAddr,
    /// The release list between requests.
    releases: Arc<cache::ReleaseCache>,
}

impl Server {
    pub fn bind(repo: &Repo, options: Options) -> Result<Server> {
        if let Some(base) = &options.base_url {
            check_base_url(base)?;
        }
        // The same id `--json` and evidence show (`release.projectId`, `[project] id`).
        let project_id = Project::resolve(repo)?.id;
        let listener = std::net::TcpListener::bind(options.listen)
            .map_err(|e| Error::io(format!("cannot listen on {}", options.listen), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("cannot set up the listening socket", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the listening address", e))?;
        let repo_path = repo
            .work_dir()
            .unwrap_or_else(|| repo.git_dir())
            .to_path_buf();
        Ok(Server {
            listener,
            state: Arc::new(Shared {
                repo_path,
                options,
                project_id,
                local,
                releases: Arc::default(),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.local
    }

    /// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
    pub fn run(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the server runtime", e))?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)
                .map_err(|e| Error::io("cannot set up the listening socket", e))?;
            let app = router(self.state);
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| Error::io("the server failed", e))
        })
    }
}

fn check_base_url(base: &str) -> Result<()> {
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(['?', '#', ' ']) => Ok(()),
        _ => Err(Error::invalid(
            "--base-url",
            base,
            "expected an http:// or https:// URL without query or fragment",
        )),
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

fn router(state: Arc<Shared>) -> Router {
    let project = "/api/v4/projects/{id}";
    Router::new()
        .route("/api/v4/version", get(project::version))
        .route("/api/v4/user", get(project::user))
        .route("/api/v4/projects", get(project::list))
        .route(project, get(project::get))
        .route(
            &format!("{project}/releases"),
            get(releases::list).post(releases::create),
        )
        .route(
            &format!("{project}/releases/{{*rest}}"),
            axum::routing::any(releases::dispatch),
        )
        .route(
            &format!("{project}/milestones"),
            get(planning::list_milestones).post(planning::create_milestone),
        )
        .route(
            &format!("{project}/milestones/{{milestone_id}}"),
            get(planning::get_milestone)
                .put(planning::update_milestone)
                .delete(planning::delete_milestone),
        )
        .route(
            &format!("{project}/freeze_periods"),
            get(planning::list_freezes).post(planning::create_freeze),
        )
        .route(
            &format!("{project}/freeze_periods/{{freeze_id}}"),
            get(planning::get_freeze)
                .put(planning::update_freeze)
                .delete(planning::delete_freeze),
        )
        .route(
            &format!("{project}/repository/tags"),
            get(repository::list_tags),
        )
        .route(
            &format!("{project}/repository/tags/{{name}}"),
            get(repository::get_tag),
        )
        .route(
            &format!("{project}/repository/{{file}}"),
            get(repository::archive),
        )
        .fallback(pages::dispatch)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(gitlab_error_shape))
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

/// Errors axum answers on its own (a path segment that is not UTF-8, a method a route
/// does not take) get GitLab's shape too: `{"message": "405 Method Not Allowed"}`.
async fn gitlab_error_shape(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let reason = status.canonical_reason().unwrap_or("Error");
        return ApiError::message(status, format!("{} {reason}", status.as_u16())).into_response();
    }
    response
}

/// One line per request on stderr (`-q` silences it): client, request line, status,
/// time taken.
async fn log_request(
    axum::extract::State(state): axum::extract::State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
        .unwrap_or_else(|| "-".into());
    let line = format!(
        "{} {}{}",
        request.method(),
        request.uri().path(),
        request
            .uri()
            .query()
            .map(|q| format!("?{}", redact(q)))
            .unwrap_or_default()
    );
    let response = next.run(request).await;
    if !state.options.quiet {
        eprintln!(
            "{client} \"{line}\" {} {:.1}ms",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    response
}

/// A query string fit for a log: tokens given as parameters are not written down.
fn redact(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key @ ("private_token" | "job_token"), _)) => format!("{key}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// What one request knows once the repository is open.
pub struct Ctx {
    pub repo: Repo,
    /// Where the repository was opened from (another thread may open it again).
    pub repo_path: PathBuf,
    /// `http://host:port` (or `--base-url`), without a trailing slash.
    pub base: String,
    pub project_id: u64,
    /// The project's identity, resolved once per request.
    project: std::cell::OnceCell<Project>,
    releases: Arc<cache::ReleaseCache>,
}

impl Ctx {
    pub fn project(&self) -> Result<&Project> {
        if let Some(project) = self.project.get() {
            return Ok(project);
        }
        let project = Project::resolve(&self.repo)?;
        Ok(self.project.get_or_init(|| project))
    }

    /// Every release (as `release::list` finds them), from the server's cache while
    /// the notes and the tags are unchanged.
    pub fn releases(&self) -> Result<Vec<crate::model::Found>> {
        Ok(self.releases.releases(&self.repo)?.as_ref().clone())
    }

    /// `group/proj`: where the project lives under the base.
    pub fn project_path(&self) -> Result<String> {
        Ok(project_path(self.project()?))
    }

    /// The project's web URL as served here.
    pub fn web_url(&self) -> Result<String> {
        Ok(format!("{}/{}", self.base, self.project_path()?))
    }

    /// The entity context of the CLI's `--json`, with URLs under this server.
    pub fn entities(&self) -> Result<EntityContext<'_>> {
        Ok(EntityContext::new(&self.repo)?.with_web_url(self.web_url()?))
    }

    /// Checks that `:id` names this project: its numeric id or its path
    /// (`group/proj`, URL-decoded), as GitLab takes either.
    pub fn check_project(&self, id: &str) -> Result<(), ApiError> {
        let path = self.project_path()?;
        if id == self.project_id.to_string() || id.eq_ignore_ascii_case(&path) {
            Ok(())
        } else {
            Err(ApiError::not_found("Project"))
        }
    }

    /// After a successful write: evidence that has become due is collected, as after
    /// every writing CLI command. Its failure does not fail the write that was made.
    pub fn collect_due(&self) {
        let _ = crate::audit::evidence::collect_due(&self.repo);
    }
}

impl Shared {
    /// The base URL for this request.
    fn base(&self, headers: &HeaderMap) -> String {
        if let Some(base) = &self.options.base_url {
            return base.trim_end_matches('/').to_owned();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| valid_host(h));
        match host {
            Some(host) => format!("http://{host}"),
            None => format!("http://{}", self.local),
        }
    }

    /// Checks that the request may read; the [`Access`] runs its work.
    pub fn authorize_read(&self, headers: &HeaderMap, uri: &Uri) -> Result<Access<'_>, ApiError> {
        auth::authorize_read(&self.options, headers, uri.query())?;
        Ok(self.access(headers))
    }

    /// Checks that the request may write (a valid token, a writable server).
    pub fn authorize_write(&self, headers: &HeaderMap, uri: &Uri) -> Result<Access<'_>, ApiError> {
        auth::authorize_write(&self.options, headers, uri.query())?;
        Ok(self.access(headers))
    }

    /// Access for a request whose authorization the caller decided itself.
    fn access(&self, headers: &HeaderMap) -> Access<'_> {
        Access {
            shared: self,
            base: self.base(headers),
        }
    }
}

/// An authorized request, ready to do its git work.
pub struct Access<'s> {
    shared: &'s Shared,
    /// The base URL responses are built on.
    base: String,
}

impl Access<'_> {
    /// Runs `work` on a blocking thread with the repository open.
    pub async fn run<T, F>(self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        let path = self.shared.repo_path.clone();
        let base = self.base;
        let project_id = self.shared.project_id;
        let releases = Arc::clone(&self.shared.releases);
        tokio::task::spawn_blocking(move || {
            let repo = Repo::discover(&path)?;
            let ctx = Ctx {
                repo,
                repo_path: path,
                base,
                project_id,
                project: std::cell::OnceCell::new(),
                releases,
            };
            work(&ctx)
        })
        .await
        .map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
    }

    /// [`Access::run`] on the project the path's `:id` names (404 for another).
    pub async fn project<T, F>(self, id: String, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        self.run(move |ctx| {
            ctx.check_project(&id)?;
            work(ctx)
        })
        .await
    }
}

/// A Host header fit to build URLs from: a host name or address and a port, nothing
/// that could smuggle a path or another header into a URL.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// A JSON response.
pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| ApiError::internal(format!("cannot encode JSON: {e}")))?;
    Ok((
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// A 302 to `location`.
pub fn redirect(location: &str) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(location)
        .map_err(|_| ApiError::internal(format!("cannot redirect to {location:?}")))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, value)]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_that_could_smuggle_urls_are_not_used() {
        assert!(valid_host("127.0.0.1:8080"));
        assert!(valid_host("[::1]:80"));
        assert!(!valid_host("evil.example/path"));
        assert!(!valid_host("a b"));
        assert!(!valid_host(""));
    }

    #[test]
    fn logged_queries_keep_no_tokens() {
        assert_eq!(
            redact("page=2&private_token=abc&job_token=x"),
            "page=2&private_token=[redacted]&job_token=[redacted]"
        );
    }

    #[test]
    fn base_urls_must_be_http() {
        assert!(check_base_url("https://proxy.example/releases").is_ok());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("http://").is_err());
        assert!(check_base_url("http://x/?q").is_err());
    }
}
