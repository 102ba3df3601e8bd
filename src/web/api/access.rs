//! The preamble every handler shares, as axum extractors: [`ReadAccess`] and
//! [`WriteAccess`] check the request's token from its parts and carry what the handler
//! needs to do its git work ([`Access::run`]); [`ProjectId`] and [`Tag`] are the path's
//! `:id` and `:tag`, decoded.
//!
//! Git work never runs on the async threads: [`Access::run`] opens the repository on a
//! blocking thread, at most [`Limits::workers`](super::Limits) at once (the others wait
//! their turn without holding a thread), and a request whose client has gone is told
//! so through [`Ctx::check_cancelled`], or is never started at all.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::auth::Credentials;
use super::{ApiError, Shared, auth, cache};
use crate::error::Result;
use crate::git::Repo;
use crate::git::project::Project;
use crate::present::gitlab::{EntityContext, project_path};

/// A request allowed to read: open, unless `--require-token-for-reads`; a token that is
/// given but wrong is a 401 even so, as GitLab answers.
pub struct ReadAccess(pub Access);

/// A request allowed to write: a writable server and an accepted token.
pub struct WriteAccess(pub Access);

/// A read of the package registry: as [`ReadAccess`], with the registry's ways of
/// presenting a token (`DEPLOY-TOKEN`, HTTP Basic) too.
pub struct PackageReadAccess(pub Access);

/// A write to the package registry: as [`WriteAccess`], with the registry's ways of
/// presenting a token too.
pub struct PackageWriteAccess(pub Access);

impl FromRequestParts<Arc<Shared>> for ReadAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        auth::authorize_read(
            &state.options,
            &parts.headers,
            parts.uri.query(),
            Credentials::Api,
        )?;
        Ok(ReadAccess(Access::new(state, parts)))
    }
}

impl FromRequestParts<Arc<Shared>> for WriteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        auth::authorize_write(
            &state.options,
            &parts.headers,
            parts.uri.query(),
            Credentials::Api,
        )?;
        Ok(WriteAccess(Access::new(state, parts)))
    }
}

impl FromRequestParts<Arc<Shared>> for PackageReadAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        auth::authorize_read(
            &state.options,
            &parts.headers,
            parts.uri.query(),
            Credentials::Packages,
        )?;
        Ok(PackageReadAccess(Access::new(state, parts)))
    }
}

impl FromRequestParts<Arc<Shared>> for PackageWriteAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        auth::authorize_write(
            &state.options,
            &parts.headers,
            parts.uri.query(),
            Credentials::Packages,
        )?;
        Ok(PackageWriteAccess(Access::new(state, parts)))
    }
}

impl std::ops::Deref for ReadAccess {
    type Target = Access;
    fn deref(&self) -> &Access {
        &self.0
    }
}

impl std::ops::Deref for WriteAccess {
    type Target = Access;
    fn deref(&self) -> &Access {
        &self.0
    }
}

/// An authorized request, ready to do its git work.
pub struct Access {
    shared: Arc<Shared>,
    /// The base URL responses are built on.
    base: String,
}

impl Access {
    fn new(shared: &Arc<Shared>, parts: &Parts) -> Self {
        Access {
            base: shared.origin.base(&parts.headers),
            shared: Arc::clone(shared),
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `work` on a blocking thread with the repository open, once one of the
    /// server's workers is free. If the request is dropped (its client went away)
    /// before a worker is free, the work never starts; once started, the work can see
    /// it through [`Ctx::check_cancelled`].
    pub async fn run<T, F>(self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = Arc::clone(&self.shared.workers)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?;
        let cancelled = Arc::new(AtomicBool::new(false));
        // Dropped with this future: tells the blocking work its client has gone.
        let guard = CancelOnDrop(Arc::clone(&cancelled));
        let path = self.shared.repo_path.clone();
        let base = self.base;
        let project_id = self.shared.project_id;
        let releases = Arc::clone(&self.shared.releases);
        let shared = Arc::clone(&self.shared);
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let repo = Repo::discover(&path)?;
            let ctx = Ctx {
                repo,
                repo_path: path,
                base,
                project_id,
                project: std::cell::OnceCell::new(),
                releases,
                shared,
                cancelled,
            };
            work(&ctx)
        })
        .await;
        drop(guard);
        result.map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
    }

    /// [`Access::run`] on the project the path's `:id` names (404 for another).
    pub async fn project<T, F>(self, id: ProjectId, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        self.run(move |ctx| {
            ctx.check_project(&id.0)?;
            work(ctx)
        })
        .await
    }
}

struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
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
    shared: Arc<Shared>,
    cancelled: Arc<AtomicBool>,
}

impl Ctx {
    pub fn project(&self) -> Result<&Project> {
        if let Some(project) = self.project.get() {
            return Ok(project);
        }
        let project = Project::resolve(&self.repo)?;
        Ok(self.project.get_or_init(|| project))
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Every release (as `release::list` finds them), from the server's cache while
    /// the notes and the tags are unchanged.
    pub fn releases(&self) -> Result<Arc<Vec<crate::model::Found>>> {
        self.releases.releases(&self.repo)
    }

    /// The fingerprint of the release list (notes ref and tags) as last read.
    pub fn releases_fingerprint(&self) -> Result<cache::Fingerprint> {
        cache::fingerprint(&self.repo)
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
        Ok(EntityContext::new(&self.repo)?.served_at(self.web_url()?))
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

    /// Whether the client of this request has gone: long work stops early.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// An error once the client has gone (nobody reads it; it ends the work).
    pub fn check_cancelled(&self) -> Result<(), ApiError> {
        if self.is_cancelled() {
            return Err(ApiError::message(
                StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
                "499 Client Closed Request",
            ));
        }
        Ok(())
    }

    /// After a successful write: evidence that has become due is collected, as after
    /// every writing CLI command. Its failure does not fail the write that was made.
    pub fn collect_due(&self) {
        let _ = crate::audit::evidence::collect_due(&self.repo);
    }
}

/// The raw (still percent-encoded) value of the path parameter `name`, found by
/// laying the route's pattern over the request's path: axum hands out values already
/// decoded (and refuses any that is not UTF-8, whichever it is), where a tag needs
/// decoding exactly once and a bad one is a 404 of its own kind.
pub fn raw_path_param<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    let pattern = parts.extensions.get::<MatchedPath>()?.as_str();
    let path = parts.uri.path();
    let mut offset = 0;
    let mut segments = path.split('/');
    for wanted in pattern.split('/') {
        let segment = segments.next()?;
        if wanted == format!("{{*{name}}}") {
            return Some(&path[offset..]);
        }
        if wanted == format!("{{{name}}}") {
            return Some(segment);
        }
        offset += segment.len() + 1;
    }
    None
}

/// The path parameter `name`, percent-decoded; `None` when it is missing or is not
/// UTF-8 once decoded.
pub fn path_param(parts: &Parts, name: &str) -> Option<String> {
    raw_path_param(parts, name).and_then(crate::url::unescape)
}

/// The path's `:id`: a project id or its URL-encoded path (`group%2Fproj`).
pub struct ProjectId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ProjectId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "id")
            .map(ProjectId)
            .ok_or_else(|| ApiError::not_found("Project"))
    }
}

/// The path's `:tag` (one segment, `release%2F1.0`), decoded. A name that cannot be
/// a tag (git's rules, at most 255 bytes; not UTF-8) names no release: 404, as GitLab
/// answers for a tag it does not have, before any git lookup is made with it.
pub struct Tag(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Tag {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        path_param(parts, "tag")
            .filter(|tag| crate::model::TagName::parse(tag).is_ok())
            .map(Tag)
            .ok_or_else(|| ApiError::not_found("Release"))
    }
}
