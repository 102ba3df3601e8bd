//! The preamble every handler shares, as axum extractors: [`ReadAccess`] and
//! [`WriteAccess`] check the request's token from its parts and carry what the handler
//! needs to do its git work ([`Access::run`]); [`ProjectId`] and [`Tag`] are the path's
//! `:id` and `:tag`, decoded.
//!
//! Git work never runs on the async threads: [`Access::run`] opens the repository on a
//! blocking thread, at most [`Limits::workers`](super::Limits) at once (the others wait
//! their turn without holding a thread), and a request whose client has gone is told
//! so through [`Ctx::check_cancelled`], or is never started at all.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::auth::{Caller, Capability, Credentials};
use super::served::{RootProjects, Served, ServedProject};
use super::{ApiError, Shared, auth, cache};
use crate::error::Result;
use crate::git::Repo;
use crate::git::project::Project;
use crate::git::protection::Rules;
use crate::model::Role;
use crate::present::gitlab::{EntityContext, project_path};

/// What a route needs (GitLab's policy for it), as a type: the extractors below take
/// one, so a handler states its need in its signature and cannot forget the check.
pub trait Need: Send + Sync + 'static {
    const CAPABILITY: Capability;
    /// The ways the route takes a token (the package registry takes more).
    const CREDENTIALS: Credentials = Credentials::Api;
}

/// Read releases, their links and milestones: anyone in a public project, Guest and
/// above in a private one (who sees releases with the repository left out).
pub struct Releases;
/// Read the repository (tags, commits, archives, evidence, the release pages):
/// anyone in a public project, Reporter and above in a private one.
pub struct Code;
/// Read freeze periods: a signed-in Reporter or above.
pub struct Freezes;
/// Write with at least the Reporter role (milestones).
pub struct Reporter;
/// Write with at least the Developer role (releases, links, packages, evidence).
pub struct Developer;
/// Write with at least the Maintainer role (deleting releases, freeze periods).
pub struct Maintainer;

impl Need for Releases {
    const CAPABILITY: Capability = Capability::ReadRelease;
}
impl Need for Code {
    const CAPABILITY: Capability = Capability::ReadCode;
}
impl Need for Freezes {
    const CAPABILITY: Capability = Capability::ReadFreezes;
}
impl Need for Reporter {
    const CAPABILITY: Capability = Capability::Write(Role::Reporter);
}
impl Need for Developer {
    const CAPABILITY: Capability = Capability::Write(Role::Developer);
}
impl Need for Maintainer {
    const CAPABILITY: Capability = Capability::Write(Role::Maintainer);
}

/// Read the package registry: as the repository (GitLab's `read_package`: anyone in
/// a public project, Reporter and above in a private one), with the registry's ways of
/// presenting a token (`DEPLOY-TOKEN`, HTTP Basic) too.
pub struct PackageRead;
/// Publish to the package registry: at least the Developer role (`create_package`).
pub struct PackageWrite;
/// Delete from the package registry: at least the Maintainer role, as GitLab's
/// `destroy_package` policy allows it.
pub struct PackageDelete;

impl Need for PackageRead {
    const CAPABILITY: Capability = Capability::ReadCode;
    const CREDENTIALS: Credentials = Credentials::Packages;
}
impl Need for PackageWrite {
    const CAPABILITY: Capability = Capability::Write(Role::Developer);
    const CREDENTIALS: Credentials = Credentials::Packages;
}
impl Need for PackageDelete {
    const CAPABILITY: Capability = Capability::Write(Role::Maintainer);
    const CREDENTIALS: Credentials = Credentials::Packages;
}

/// A request allowed to read what `N` names (by default releases): open in a public
/// project, a token of the right role in a private one (`--require-token-for-reads`);
/// a token that is given but wrong is a 401 even so, as GitLab answers.
pub struct ReadAccess<N: Need = Releases>(pub Access, PhantomData<N>);

/// A request allowed to write with the role `N` names (by default Developer): a
/// writable server and an accepted token of that role or above. A refusal is GitLab's
/// `403 {"message": "403 Forbidden"}` (401 without a token).
pub struct WriteAccess<N: Need = Developer>(pub Access, PhantomData<N>);

impl<N: Need> FromRequestParts<Arc<Shared>> for ReadAccess<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        let caller = auth::caller(
            &state.options.tokens,
            &parts.headers,
            parts.uri.query(),
            N::CREDENTIALS,
        )?;
        // A private project is closed to whoever has no token, whatever the route.
        if state.options.require_token_for_reads && caller == Caller::Anonymous {
            return Err(ApiError::unauthorized());
        }
        auth::authorize(&state.options, &caller, N::CAPABILITY)?;
        Ok(ReadAccess(Access::new(state, parts, caller), PhantomData))
    }
}

impl<N: Need> FromRequestParts<Arc<Shared>> for WriteAccess<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Self, ApiError> {
        // A server that cannot write says so before it looks at any token.
        if state.options.read_only || state.options.tokens.is_empty() {
            return Err(ApiError::forbidden());
        }
        let caller = auth::caller(
            &state.options.tokens,
            &parts.headers,
            parts.uri.query(),
            N::CREDENTIALS,
        )?;
        auth::authorize(&state.options, &caller, N::CAPABILITY)?;
        Ok(WriteAccess(Access::new(state, parts, caller), PhantomData))
    }
}

impl<N: Need> std::ops::Deref for ReadAccess<N> {
    type Target = Access;
    fn deref(&self) -> &Access {
        &self.0
    }
}

impl<N: Need> std::ops::Deref for WriteAccess<N> {
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
    caller: Caller,
}

impl Access {
    fn new(shared: &Arc<Shared>, parts: &Parts, caller: Caller) -> Self {
        Access {
            base: shared.origin.base(&parts.headers),
            shared: Arc::clone(shared),
            caller,
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Who is asking.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The base URL responses are built on.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Runs `work` on a blocking thread, once one of the server's workers is free. If
    /// the request is dropped (its client went away) before a worker is free, the work
    /// never starts; once started, the work can see it through the flag it is given.
    async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<AtomicBool>) -> Result<T, ApiError> + Send + 'static,
    {
        let permit = Arc::clone(&self.shared.workers)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::unavailable("the server is stopping"))?;
        let cancelled = Arc::new(AtomicBool::new(false));
        // Dropped with this future: tells the blocking work its client has gone.
        let guard = CancelOnDrop(Arc::clone(&cancelled));
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(cancelled)
        })
        .await;
        drop(guard);
        result.map_err(|e| ApiError::internal(format!("the request's worker failed: {e}")))?
    }

    /// Runs `work` on a blocking thread with the served repository open: the one
    /// repository of a plain `serve`. Under `--root`, what has no project of its own
    /// (`GET /user`) runs with no repository: see [`Access::run_root`].
    pub async fn run<T, F>(self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        let project = match self.shared.served() {
            Served::One(project) => Arc::clone(project),
            Served::Root(_) => return Err(ApiError::not_found("Project")),
        };
        self.run_on(project, work).await
    }

    /// Runs `work` on a blocking thread with the registry of a `--root` server (`None`
    /// for a plain `serve`).
    pub async fn run_root<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(Option<&RootProjects>, Arc<AtomicBool>) -> Result<T, ApiError> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        self.blocking(move |cancelled| work(shared.served().as_root(), cancelled))
            .await
    }

    /// Runs `work` with the repository of `project` open.
    pub async fn run_on<T, F>(self, project: Arc<ServedProject>, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        let base = self.base.clone();
        let shared = Arc::clone(&self.shared);
        let caller = self.caller.clone();
        self.blocking(move |cancelled| {
            let ctx = Ctx::open(project, base, shared, cancelled, caller)?;
            work(&ctx)
        })
        .await
    }

    /// [`Access::run`] on the project the path's `:id` names (404 for another).
    pub async fn project<T, F>(self, id: ProjectId, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Ctx) -> Result<T, ApiError> + Send + 'static,
    {
        let base = self.base.clone();
        let shared = Arc::clone(&self.shared);
        let caller = self.caller.clone();
        self.blocking(move |cancelled| {
            let project = shared
                .served()
                .project(&id.0)?
                .ok_or_else(|| ApiError::not_found("Project"))?;
            let ctx = Ctx::open(project, base, shared, cancelled, caller)?;
            ctx.check_project(&id.0)?;
            work(&ctx)
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
    served: Arc<ServedProject>,
    shared: Arc<Shared>,
    cancelled: Arc<AtomicBool>,
    /// Who is asking (their role decides what they see and may change).
    pub caller: Caller,
}

impl Ctx {
    fn open(
        served: Arc<ServedProject>,
        base: String,
        shared: Arc<Shared>,
        cancelled: Arc<AtomicBool>,
        caller: Caller,
    ) -> Result<Ctx> {
        let repo = Repo::open_exact(&served.open_path)?;
        Ok(Ctx {
            repo,
            repo_path: served.open_path.clone(),
            base,
            project_id: served.id,
            project: std::cell::OnceCell::new(),
            served,
            shared,
            cancelled,
            caller,
        })
    }

    /// A context for work already on a worker thread that reads several projects
    /// (a group's), none of which can be cancelled on its own.
    pub fn open_blocking(
        served: Arc<ServedProject>,
        base: String,
        shared: Arc<Shared>,
        caller: Caller,
    ) -> Result<Ctx> {
        Ctx::open(
            served,
            base,
            shared,
            Arc::new(AtomicBool::new(false)),
            caller,
        )
    }

    /// The project's identity; under `--root`, with the id the root gave it.
    pub fn project(&self) -> Result<&Project> {
        if let Some(project) = self.project.get() {
            return Ok(project);
        }
        let mut project = Project::resolve(&self.repo)?;
        project.id = self.project_id;
        Ok(self.project.get_or_init(|| project))
    }

    /// The commits a `sha` may name (those of branches and tags).
    pub fn reachable(&self) -> &crate::git::revision::Reachable {
        &self.served.reachable
    }

    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Every release (as `release::list` finds them), from the server's cache while
    /// the notes and the tags are unchanged.
    pub fn releases(&self) -> Result<Arc<Vec<crate::model::Found>>> {
        self.served.releases.releases(&self.repo)
    }

    /// The fingerprint of the release list (notes ref and tags) as last read.
    pub fn releases_fingerprint(&self) -> Result<cache::Fingerprint> {
        cache::fingerprint(&self.repo)
    }

    /// `group/proj`: where the project lives under the base (under `--root`, its path
    /// there).
    pub fn project_path(&self) -> Result<String> {
        match &self.served.path {
            Some(path) => Ok(path.clone()),
            None => Ok(project_path(self.project()?)),
        }
    }

    /// The project's web URL as served here.
    pub fn web_url(&self) -> Result<String> {
        Ok(format!("{}/{}", self.base, self.project_path()?))
    }

    /// The entity context of the CLI's `--json`, with URLs under this server, and
    /// the repository left out for whoever may not read it (a Guest of a private
    /// project), as GitLab's release entity leaves it out.
    pub fn entities(&self) -> Result<EntityContext<'_>> {
        let mut context = EntityContext::new(&self.repo)?;
        context.project.id = self.project_id;
        let mut context = context.served_at(self.web_url()?);
        context.code_access = self.can_read_code();
        Ok(context)
    }

    /// Whether the caller may read the repository (GitLab's `download_code`).
    pub fn can_read_code(&self) -> bool {
        auth::authorize(&self.shared.options, &self.caller, Capability::ReadCode).is_ok()
    }

    /// Whether the caller may create, update or delete the release on `tag`: the
    /// protected-tag rules (`[[protected_tag]]`, read where the hook reads them) let
    /// their role through, as GitLab's release policy asks whether the user may create
    /// the tag. Checked before anything is written.
    pub fn authorize_tag(&self, tag: &str) -> Result<(), ApiError> {
        let Some(role) = self.caller.role() else {
            return Err(ApiError::unauthorized());
        };
        let rules = Rules::load(&self.repo, &crate::share::remote::rules_choice(&self.repo))?;
        rules
            .tags
            .permits(tag, role)
            .map_err(|_| ApiError::forbidden())
    }

    /// The author a release made by this request gets: the token's user, else (a
    /// single-option token) the repository's git identity.
    pub fn author(&self) -> Option<crate::model::Person> {
        match &self.caller {
            Caller::Member(member) => member.user.as_ref().map(|u| u.person()),
            Caller::Anonymous => None,
        }
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
