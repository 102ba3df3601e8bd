//! `git release serve`: GitLab's Releases REST API v4, served from the repository with
//! axum on tokio, over connections with limits (`connections`). Handlers are one
//! function per route; their preamble is extractors (`access`, `input`): who may do
//! what, which project and tag, and the parameters as GitLab takes them. No git work
//! runs on the async threads: each request opens the repository on a blocking thread
//! (`Access::run`), calls the same library functions as the CLI (whose writes are
//! compare-and-swap on the notes ref), and renders the same entities as `--json`. URLs
//! in responses are built on the server's own origin (`origin`).

mod access;
mod auth;
mod cache;
mod connections;
mod drain;
mod error;
mod group_milestones;
mod groups;
mod input;
mod links;
mod origin;
mod packages;
mod pages;
mod paging;
mod planning;
mod project;
mod releases;
mod repository;
mod served;
mod state;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use access::Ctx;
pub use error::ApiError;
pub use origin::Origin;
pub use served::{RootProjects, Served, ServedProject};
pub use state::{BODY_LIMIT, GITLAB_VERSION, Limits, Options, Shared, json, redirect};
pub use tokens::{Tokens, User};

use crate::error::{Error, Result};

/// A bound, not yet serving, server: binding first lets the caller print the real port
/// (`--listen 127.0.0.1:0`) before any request can arrive.
pub struct Server {
    listener: std::net::TcpListener,
    state: Arc<Shared>,
}

impl Server {
    pub fn bind(served: Served, options: Options) -> Result<Server> {
        let listener = std::net::TcpListener::bind(options.listen)
            .map_err(|e| Error::io(format!("cannot listen on {}", options.listen), e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("cannot set up the listening socket", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("cannot read the listening address", e))?;
        let origin = Origin::new(options.base_url.as_deref(), &options.allowed_hosts, local)?;
        // Writes are checked against the protected-tag rules, read again on each one
        // (a fetch may change them); rules that cannot be read now stop the server
        // before it listens, rather than fail every write on a protected tag later.
        // (Under `--root`, a project whose rules cannot be read refuses its own writes.)
        if let Served::One(project) = &served
            && !options.read_only
            && !options.tokens.is_empty()
        {
            let repo = crate::git::Repo::open_exact(&project.open_path)?;
            crate::git::protection::Rules::load(&repo, &crate::share::remote::rules_choice(&repo))?;
        }
        let limits = options.limits;
        Ok(Server {
            listener,
            state: Arc::new(Shared {
                served,
                options,
                local,
                origin,
                pages: cache::PageCache::default(),
                workers: Arc::new(tokio::sync::Semaphore::new(limits.workers.max(1))),
                archives: Arc::new(tokio::sync::Semaphore::new(limits.max_archives.max(1))),
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.local
    }

    /// Serves until SIGINT or SIGTERM, then lets the requests in flight finish within
    /// the grace period; work still running after it is left behind as the process
    /// ends (a blocking thread cannot be stopped from outside, and a stop signal must
    /// stop the server).
    pub fn run(self) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the server runtime", e))?;
        let limits = self.state.options.limits;
        let served = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(self.listener)
                .map_err(|e| Error::io("cannot set up the listening socket", e))?;
            let app = router(self.state);
            connections::serve(listener, app, limits, shutdown_signal()).await;
            Ok(())
        });
        runtime.shutdown_timeout(Duration::from_millis(200));
        served
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
    let release = format!("{project}/releases/{{tag}}");
    let latest = format!("{project}/releases/permalink/latest");
    Router::new()
        .route("/api/v4/version", get(project::version))
        .route("/api/v4/user", get(project::user))
        .route("/api/v4/projects", get(project::list))
        .route(project, get(project::get))
        .route("/api/v4/groups", get(groups::list))
        .route("/api/v4/groups/{id}", get(groups::get))
        .route("/api/v4/groups/{id}/subgroups", get(groups::subgroups))
        .route(
            "/api/v4/groups/{id}/descendant_groups",
            get(groups::descendant_groups),
        )
        .route("/api/v4/groups/{id}/projects", get(groups::projects))
        .route("/api/v4/groups/{id}/releases", get(groups::releases))
        .route("/api/v4/groups/{id}/packages", get(packages::group_list))
        .route(
            "/api/v4/groups/{id}/milestones",
            get(group_milestones::list).post(group_milestones::create),
        )
        .route(
            "/api/v4/groups/{id}/milestones/{milestone_id}",
            get(group_milestones::get)
                .put(group_milestones::update)
                .delete(group_milestones::delete),
        )
        .route(
            "/api/v4/groups/{id}/release_stats",
            get(groups::release_stats),
        )
        .route(
            &format!("{project}/releases"),
            get(releases::list).post(releases::create),
        )
        .route(&latest, get(releases::latest))
        .route(&format!("{latest}/{{*rest}}"), get(releases::latest))
        .route(
            &release,
            get(releases::get)
                .put(releases::update)
                .delete(releases::delete),
        )
        .route(
            &format!("{release}/evidence"),
            get(releases::evidence).post(releases::collect_evidence),
        )
        .route(
            &format!("{release}/assets/links"),
            get(links::list).post(links::create),
        )
        .route(
            &format!("{release}/assets/links/{{link_id}}"),
            get(links::get).put(links::update).delete(links::delete),
        )
        .route(
            &format!("{release}/downloads/{{*path}}"),
            get(releases::download),
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
        .route(&format!("{project}/packages"), get(packages::list))
        // A package file's body is streamed, under its own limit
        // (`release.packageMaxSize`), not the one of the API's JSON bodies.
        .route(
            &format!("{project}/packages/generic/{{*rest}}"),
            get(packages::download)
                .put(packages::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            &format!("{project}/packages/{{package_id}}"),
            get(packages::get).delete(packages::delete),
        )
        .route(
            &format!("{project}/packages/{{package_id}}/package_files"),
            get(packages::files),
        )
        .route(
            &format!("{project}/packages/{{package_id}}/package_files/{{file_id}}"),
            axum::routing::delete(packages::delete),
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
        // Every refused request's unread body is read before the answer, so that the
        // client sees the 4xx rather than a reset connection.
        .layer(middleware::from_fn(drain::drain_refused))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
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
        let mut error =
            ApiError::message(status, format!("{} {reason}", status.as_u16())).into_response();
        // Keep what the response said beyond its body (`Allow` of a 405).
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                error.headers_mut().insert(name, value.clone());
            }
        }
        return error;
    }
    response
}

/// What every response says about how it may be used: its type is what it says
/// (`nosniff`); a page loads nothing from elsewhere, runs no script, and is never
/// framed (CSP, `X-Frame-Options` for older browsers); no referrer leaves the site.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// One line per request on stderr (`-q` silences it): client, request line, status,
/// time taken. Tokens in the query are never written down.
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
            .map(|q| format!("?{}", auth::redact(q)))
            .unwrap_or_default()
    );
    let response = next.run(request).await;
    if !state.options.quiet {
        let detail = response
            .extensions()
            .get::<error::Detail>()
            .map(|d| format!(": {}", crate::text::terminal(&d.0)))
            .unwrap_or_default();
        eprintln!(
            "{client} \"{line}\" {} {:.1}ms{detail}",
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    response
}
