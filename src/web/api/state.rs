//! What the server's parts share: its options and limits, the state every request
//! reads (`Shared`), and the two ways a handler answers (`json`, `redirect`). Apart
//! from the module root, which routes to the handlers, so that the handlers can use
//! these without using the root back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::served::Served;
use super::tokens::Tokens;
use super::{ApiError, Origin, cache};

/// Request bodies larger than this are refused with 413. A release description may
/// hold 1,000,000 characters (up to 4 bytes each, more once JSON-escaped).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The version `GET /version` reports: clients gate features on GitLab's version, and
/// everything served here follows GitLab 17's Releases API.
pub const GITLAB_VERSION: &str = "17.6.0";

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// Base for URLs in responses (`https://proxy.example/releases`).
    pub base_url: Option<String>,
    /// `Host` values URLs may be built on (`releases.example:8080`).
    pub allowed_hosts: Vec<String>,
    pub read_only: bool,
    pub require_token_for_reads: bool,
    pub tokens: Tokens,
    /// No log line per request.
    pub quiet: bool,
    /// Where the release pages' templates come from (as `git release site`).
    pub templates: crate::web::site::Sources,
    pub limits: Limits,
}

/// How long and how much: the bounds a client cannot push the server past.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head must be complete this long after its first byte.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request is closed after this long.
    pub idle_timeout: Duration,
    /// A response write that makes no progress for this long (a client that stopped
    /// reading) closes the connection.
    pub write_timeout: Duration,
    /// A request body must arrive within this long (408 otherwise).
    pub body_timeout: Duration,
    /// On SIGINT/SIGTERM, requests in flight get this long before they are dropped.
    pub shutdown_grace: Duration,
    /// Connections open at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Source archives streamed at once; beyond, 503 with `Retry-After`.
    pub max_archives: usize,
    /// Requests doing git work at once (each on a thread of its own); the others wait.
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            max_connections: 1024,
            max_archives: 8,
            workers: (cores * 2).max(4),
        }
    }
}

/// What every request shares.
pub struct Shared {
    /// The repository, or the root of repositories, served (each request opens its
    /// repository again: git2 handles are not shared between threads).
    pub(super) served: Served,
    pub(super) options: Options,
    pub(super) local: SocketAddr,
    pub(super) origin: Origin,
    /// Rendered pages between requests.
    pub(super) pages: cache::PageCache,
    /// Requests doing git work at once.
    pub(super) workers: Arc<tokio::sync::Semaphore>,
    /// Source archives being streamed.
    pub(super) archives: Arc<tokio::sync::Semaphore>,
}

impl Shared {
    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    pub fn served(&self) -> &Served {
        &self.served
    }

    /// A place among the archives being streamed, if one is free.
    pub fn archive_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        Arc::clone(&self.archives).try_acquire_owned().ok()
    }
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

/// A 302 to `location`, percent-encoded where a header value needs it (a tag or path
/// with non-ASCII characters or spaces).
pub fn redirect(location: &str) -> Result<Response, ApiError> {
    let value = HeaderValue::from_str(&crate::url::escape_uri(location))
        .map_err(|_| ApiError::internal("cannot redirect there"))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, value)]).into_response())
}
