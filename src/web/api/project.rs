//! `GET /version`, `GET /user`, `GET /projects[/:id]`.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::{ProjectId, ReadAccess};
use super::auth::Caller;
use super::input::GitlabQuery;
use super::paging::Paging;
use super::{ApiError, Ctx, json};
use crate::present::gitlab::{ProjectEntity, UserEntity};

pub async fn version(_: ReadAccess) -> Result<Response, ApiError> {
    json(
        StatusCode::OK,
        &json!({
            "version": super::GITLAB_VERSION,
            "revision": concat!("git-release-", env!("CARGO_PKG_VERSION")),
            "kas": {"enabled": false, "externalUrl": null, "version": null},
            "enterprise": false,
        }),
    )
}

/// The token's user: a `--tokens` user, or for a single-option token the repository's
/// git identity. GitLab answers 401 to a request without a valid token, whatever the
/// server's read policy.
pub async fn user(access: ReadAccess) -> Result<Response, ApiError> {
    let Caller::Member(member) = access.caller().clone() else {
        return Err(ApiError::unauthorized());
    };
    access
        .0
        .run(move |ctx| {
            let person = match &member.user {
                Some(user) => user.person(),
                None => crate::model::Person::committer(&ctx.repo)?,
            };
            json(StatusCode::OK, &UserEntity::new(&person, Some(&ctx.base)))
        })
        .await
}

fn entity(ctx: &Ctx) -> Result<ProjectEntity, ApiError> {
    let mut project = ctx.project()?.clone();
    project.web_url = Some(ctx.web_url()?);
    Ok(ProjectEntity::new(
        &project,
        ctx.project_id,
        ctx.repo.head_branch(),
    ))
}

pub async fn get(access: ReadAccess, id: ProjectId) -> Result<Response, ApiError> {
    access
        .0
        .project(id, move |ctx| json(StatusCode::OK, &entity(ctx)?))
        .await
}

/// The one project there is, paginated as every list is.
pub async fn list(
    access: ReadAccess,
    uri: Uri,
    GitlabQuery(paging): GitlabQuery<Paging>,
) -> Result<Response, ApiError> {
    access
        .0
        .run(move |ctx| {
            let (page, headers) = paging.apply(vec![entity(ctx)?], &ctx.base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}
