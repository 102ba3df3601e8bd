//! Group milestones (`/groups/:id/milestones`), GitLab's API over the group's
//! repository (`<group>/.group.git`, or `<place>/<group>.git` where the root configures
//! another place; made on the group's first write), with the very
//! operations `git release milestone --group` runs. See docs/groups.md.

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::access::{ReadAccess, Reporter, WriteAccess};
use super::groups::{GroupId, group};
use super::input::{GitlabBody, GitlabQuery};
use super::planning::{MilestoneBody, MilestoneId, MilestoneQuery};
use super::served::RootProjects;
use super::{ApiError, json};
use crate::model::Milestone;
use crate::plan::milestone;
use crate::present::gitlab::MilestoneEntity;
use crate::release::group::GroupRepository;

/// The repository that keeps the milestones of group `id` under the served root (it
/// may not exist yet: it is made on the group's first write).
fn group_repository(root: Option<&RootProjects>, id: &str) -> Result<GroupRepository, ApiError> {
    let (_, group) = group(root, id)?;
    Ok(GroupRepository::at(
        group.repository,
        Some(group.path),
        Some(group.id),
    ))
}

fn entity(group: &GroupRepository, base: &str, m: &Milestone) -> Result<MilestoneEntity, ApiError> {
    Ok(MilestoneEntity::of_group(
        m,
        group,
        Some(base),
        crate::time::Timestamp::now()?,
    ))
}

/// The group's milestones; none while its repository does not exist.
fn milestones(group: &GroupRepository) -> Result<Vec<Milestone>, ApiError> {
    Ok(group
        .milestones()?
        .map(|file| file.milestones)
        .unwrap_or_default())
}

fn by_id(group: &GroupRepository, id: u64) -> Result<Milestone, ApiError> {
    milestones(group)?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found("Milestone"))
}

/// `GET /groups/:id/milestones`: `state`, `title`, `search`, `include_ancestors` (the
/// milestones of the groups above too), `include_descendants` (its subgroups'), pages.
/// The group's own come first, then its ancestors' (nearest first), then its
/// subgroups'; each carries its `group_id`.
pub async fn list(
    access: ReadAccess,
    GroupId(id): GroupId,
    uri: Uri,
    GitlabQuery(query): GitlabQuery<MilestoneQuery>,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .run_root(move |root, _| {
            let (registry, group) = group(root, &id)?;
            let mut groups = vec![&group];
            if query.include_ancestors {
                groups.extend(registry.ancestors(&group.path));
            }
            if query.include_descendants {
                groups.extend(registry.descendants(&group.path));
            }
            let repositories: Vec<GroupRepository> = groups
                .into_iter()
                .map(|g| {
                    GroupRepository::at(g.repository.clone(), Some(g.path.clone()), Some(g.id))
                })
                .collect();
            let entities = super::planning::group_milestone_entities(&repositories, &query, &base)?;
            let (page, headers) = query.paging().apply(entities, &base, &uri);
            Ok((headers, json(StatusCode::OK, &page)?).into_response())
        })
        .await
}

pub async fn get(
    access: ReadAccess,
    GroupId(id): GroupId,
    MilestoneId(milestone_id): MilestoneId,
) -> Result<Response, ApiError> {
    let base = access.base().to_owned();
    access
        .run_root(move |root, _| {
            let repository = group_repository(root, &id)?;
            let m = by_id(&repository, milestone_id)?;
            json(StatusCode::OK, &entity(&repository, &base, &m)?)
        })
        .await
}

pub async fn create(
    access: WriteAccess<Reporter>,
    GroupId(id): GroupId,
    GitlabBody(body): GitlabBody<MilestoneBody>,
) -> Result<Response, ApiError> {
    let request = body.new_milestone()?;
    let base = access.base().to_owned();
    access
        .0
        .run_root(move |root, _| {
            let repository = group_repository(root, &id)?;
            // Checked before the group's repository is made: a bad request leaves
            // no empty repository behind.
            milestone::validate(&request)?;
            let repo = repository.open_or_create()?;
            let m = milestone::create(&repo, request)?;
            json(StatusCode::CREATED, &entity(&repository, &base, &m)?)
        })
        .await
}

pub async fn update(
    access: WriteAccess<Reporter>,
    GroupId(id): GroupId,
    MilestoneId(milestone_id): MilestoneId,
    GitlabBody(body): GitlabBody<MilestoneBody>,
) -> Result<Response, ApiError> {
    let change = body.change()?;
    let base = access.base().to_owned();
    access
        .0
        .run_root(move |root, _| {
            let repository = group_repository(root, &id)?;
            let current = by_id(&repository, milestone_id)?;
            let repo = repository
                .open()?
                .ok_or_else(|| ApiError::not_found("Milestone"))?;
            let m = milestone::update(&repo, &current.title, change)?;
            json(StatusCode::OK, &entity(&repository, &base, &m)?)
        })
        .await
}

pub async fn delete(
    access: WriteAccess<Reporter>,
    GroupId(id): GroupId,
    MilestoneId(milestone_id): MilestoneId,
) -> Result<Response, ApiError> {
    access
        .0
        .run_root(move |root, _| {
            let repository = group_repository(root, &id)?;
            let current = by_id(&repository, milestone_id)?;
            let repo = repository
                .open()?
                .ok_or_else(|| ApiError::not_found("Milestone"))?;
            milestone::delete(&repo, &current.title)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        })
        .await
}
