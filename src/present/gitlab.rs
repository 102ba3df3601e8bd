//! The GitLab Release entity (`GET /projects/:id/releases/:tag`), serialization only.
//! Field order is GitLab's; see docs/gitlab-compat.md.

use serde::Serialize;

use crate::archive;
use crate::error::Result;
use crate::git::project::Project;
use crate::git::repo::Repo;
use crate::model::ArchiveFormat;
use crate::model::Found;
use crate::model::Link;
use crate::model::Person;
use crate::model::TagName;
use crate::model::{FreezePeriod, GroupMilestoneRef, Milestone, MilestoneFile};
use crate::present::markdown;
use crate::release::group::{GroupMilestones, GroupRepository};
use crate::store::Snapshot;
use crate::time::Timestamp;
use crate::url::{escape_path, escape_query};

/// The source archive formats, in GitLab's order.

#[derive(Debug, Serialize)]
pub struct ReleaseEntity {
    pub name: String,
    pub tag_name: String,
    /// Never null: "" when the release has no notes (`model::release::NO_DESCRIPTION`).
    pub description: String,
    pub created_at: Timestamp,
    pub released_at: Timestamp,
    pub upcoming_release: bool,
    pub historical_release: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_html: Option<String>,
    pub author: AuthorEntity,
    pub commit: Option<CommitEntity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestones: Option<Vec<MilestoneEntity>>,
    pub commit_path: Option<String>,
    pub tag_path: Option<String>,
    pub assets: AssetsEntity,
    pub evidences: Vec<EvidenceEntity>,
    #[serde(rename = "_links")]
    pub links: ReleaseLinks,
}

/// A release entity as one reader may see it.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ReleaseView {
    Full(Box<ReleaseEntity>),
    Redacted(Box<RedactedReleaseEntity>),
}

/// GitLab's release entity for a user who cannot read the repository (a Guest of a
/// private project), field by field as its `API::Entities::Release` and
/// `ReleasePresenter` give it then: the name is `Release-<id>`; `tag_name`, `commit`,
/// `commit_path`, `tag_path`, `assets.sources` and `evidences` are left out, and
/// `assets.count` counts the links only. **ours**: `_links` is empty (GitLab's `self`
/// and issue URLs name the tag, the very thing the name hides), and a link's
/// `direct_asset_url` is its own URL (GitLab's permanent URL names the tag too).
#[derive(Debug, Serialize)]
pub struct RedactedReleaseEntity {
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub released_at: Timestamp,
    pub upcoming_release: bool,
    pub historical_release: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_html: Option<String>,
    pub author: AuthorEntity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestones: Option<Vec<MilestoneEntity>>,
    pub assets: RedactedAssets,
    #[serde(rename = "_links")]
    pub links: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct RedactedAssets {
    pub count: usize,
    pub links: Vec<LinkEntity>,
}

impl ReleaseEntity {
    /// The entity a reader without repository access gets (see
    /// [`RedactedReleaseEntity`]); `id` is the release's display id.
    pub fn redacted(self, id: u64) -> RedactedReleaseEntity {
        RedactedReleaseEntity {
            name: format!("Release-{id}"),
            description: self.description,
            created_at: self.created_at,
            released_at: self.released_at,
            upcoming_release: self.upcoming_release,
            historical_release: self.historical_release,
            description_html: self.description_html,
            author: self.author,
            milestones: self.milestones,
            assets: RedactedAssets {
                count: self.assets.links.len(),
                links: self.assets.links,
            },
            links: serde_json::Map::new(),
        }
    }
}

/// GitLab's user (`UserBasic`): an integer `id` (imported from GitLab, else derived
/// from the email: [`Person::gitlab_id`]), `username`, `name`, `state` (`active`),
/// `avatar_url` (null unless imported) and `web_url` (`<instance>/<username>` when the
/// project's web URL is known). **ours**: `email`, the git identity's, as an extra field.
#[derive(Debug, Serialize)]
pub struct AuthorEntity {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub state: String,
    pub avatar_url: Option<String>,
    pub web_url: Option<String>,
    pub email: String,
}

impl AuthorEntity {
    /// `instance`: the GitLab instance's URL (the project's web URL without its path).
    pub fn new(person: &Person, instance: Option<&str>) -> Self {
        let username = person.username().to_owned();
        AuthorEntity {
            id: person.gitlab_id(),
            web_url: person.web_url.clone().or_else(|| {
                instance.map(|i| format!("{}/{}", i.trim_end_matches('/'), escape_path(&username)))
            }),
            username,
            name: person.name.clone(),
            state: person.gitlab_state().to_owned(),
            avatar_url: person.avatar_url.clone(),
            email: person.email.clone(),
        }
    }
}

/// The instance a project's web URL lives on: `https://host[:port]`.
pub fn instance_url(web_url: &str) -> Option<String> {
    let (scheme, rest) = web_url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

#[derive(Debug, Serialize)]
pub struct CommitEntity {
    pub id: String,
    pub short_id: String,
    pub created_at: String,
    pub parent_ids: Vec<String>,
    pub title: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
    pub web_url: Option<String>,
}

/// GitLab's milestone as embedded in a release (and listed by `milestone list --json`).
#[derive(Debug, Serialize)]
pub struct MilestoneEntity {
    pub id: u64,
    pub iid: u64,
    /// `project_id` (the project's id: `release.projectId`, default 1, as everywhere)
    /// for a project milestone; `group_id` for a group milestone, as GitLab's.
    #[serde(flatten)]
    pub owner: MilestoneOwner,
    pub title: String,
    pub description: Option<String>,
    pub state: &'static str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub due_date: Option<chrono::NaiveDate>,
    pub start_date: Option<chrono::NaiveDate>,
    /// GitLab's `expired`: the due date lies before today (UTC); false without one.
    pub expired: bool,
    pub web_url: Option<String>,
    pub issue_stats: IssueStats,
}

/// Whose milestone it is.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum MilestoneOwner {
    Project { project_id: u64 },
    Group { group_id: Option<u64> },
}

#[derive(Debug, Serialize)]
pub struct IssueStats {
    pub total: usize,
    pub closed: usize,
}

impl MilestoneEntity {
    pub fn new(milestone: &Milestone, project: &Project, now: Timestamp) -> Self {
        let (total, closed) = milestone.issue_stats();
        MilestoneEntity {
            id: milestone.id,
            iid: milestone.iid,
            owner: MilestoneOwner::Project {
                project_id: project.id,
            },
            title: milestone.title.clone(),
            description: milestone.description.clone(),
            state: milestone.state.as_str(),
            created_at: milestone.created_at,
            updated_at: milestone.updated_at,
            due_date: milestone.due_date,
            start_date: milestone.start_date,
            expired: milestone.is_expired(now),
            web_url: project
                .web_url
                .as_ref()
                .map(|w| format!("{w}/-/milestones/{}", milestone.iid)),
            issue_stats: IssueStats { total, closed },
        }
    }
}

impl MilestoneEntity {
    /// A group milestone, its `web_url` on the group's page (`<instance>/groups/<path>/-/milestones/<iid>`,
    /// GitLab's) when the instance and the group's path are known.
    pub fn of_group(
        milestone: &Milestone,
        group: &GroupRepository,
        instance: Option<&str>,
        now: Timestamp,
    ) -> Self {
        let mut entity = MilestoneEntity::new(
            milestone,
            &Project {
                id: 0,
                name: String::new(),
                description: None,
                web_url: None,
            },
            now,
        );
        entity.owner = MilestoneOwner::Group { group_id: group.id };
        entity.web_url = group_milestone_url(instance, group.path.as_deref(), milestone.iid);
        entity
    }

    /// A group milestone as a release kept it, for a clone without the group's
    /// repository: what is not kept (description, dates, issues) is unknown.
    pub fn kept(kept: &GroupMilestoneRef, instance: Option<&str>) -> Self {
        MilestoneEntity {
            id: kept.id,
            iid: kept.iid,
            owner: MilestoneOwner::Group {
                group_id: kept.group_id,
            },
            title: kept.title.clone(),
            description: None,
            state: kept.state.as_str(),
            created_at: kept.created_at,
            updated_at: kept.updated_at,
            due_date: kept.due_date,
            start_date: kept.start_date,
            expired: false,
            web_url: group_milestone_url(instance, kept.group.as_deref(), kept.iid),
            issue_stats: IssueStats {
                total: 0,
                closed: 0,
            },
        }
    }
}

fn group_milestone_url(instance: Option<&str>, group: Option<&str>, iid: u64) -> Option<String> {
    let (instance, group) = (instance?, group?);
    Some(format!(
        "{}/groups/{}/-/milestones/{iid}",
        instance.trim_end_matches('/'),
        group
    ))
}

/// GitLab's Freeze Period entity; `from`/`until` are ours (one-off windows).
#[derive(Debug, Serialize)]
pub struct FreezePeriodEntity {
    pub id: u64,
    pub freeze_start: Option<String>,
    pub freeze_end: Option<String>,
    pub cron_timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&FreezePeriod> for FreezePeriodEntity {
    fn from(period: &FreezePeriod) -> Self {
        FreezePeriodEntity {
            id: period.id,
            freeze_start: period.freeze_start.clone(),
            freeze_end: period.freeze_end.clone(),
            cron_timezone: period.cron_timezone.clone(),
            from: period.from,
            until: period.until,
            created_at: period.created_at,
            updated_at: period.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AssetsEntity {
    pub count: usize,
    pub sources: Vec<SourceEntity>,
    pub links: Vec<LinkEntity>,
}

#[derive(Debug, Serialize)]
pub struct SourceEntity {
    pub format: ArchiveFormat,
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LinkEntity {
    pub id: u64,
    pub name: String,
    pub url: String,
    pub direct_asset_url: String,
    pub link_type: crate::model::LinkType,
}

#[derive(Debug, Serialize)]
pub struct EvidenceEntity {
    pub sha: String,
    pub filepath: String,
    pub collected_at: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct ReleaseLinks {
    pub closed_issues_url: Option<String>,
    pub closed_merge_requests_url: Option<String>,
    /// Left out when unknown, as GitLab's entity leaves it out (`expose_nil: false`;
    /// its schema types it a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_url: Option<String>,
    pub merged_merge_requests_url: Option<String>,
    pub opened_issues_url: Option<String>,
    pub opened_merge_requests_url: Option<String>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_url: Option<String>,
}

/// Where `evidences[].filepath` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceUrl {
    /// `<web_url>/-/releases/<tag>/evidences/<sha>.json`, GitLab's place for it (which
    /// `serve` answers); the notes-tree path when no web URL is known.
    WebUrl,
    /// The static site's `evidences/<sha>.json` (which `site` writes): absolute on the
    /// site's base URL when it is known, else relative to the site's root, where
    /// `releases.json` is.
    Site { base_url: Option<String> },
}

/// What every entity of one command shares.
pub struct EntityContext<'r> {
    pub repo: &'r Repo,
    pub project: Project,
    pub now: Timestamp,
    pub include_html: bool,
    /// Read once per command: every release entity shows its milestones.
    pub milestones: MilestoneFile,
    /// The project's group milestones, read when a release first names one (`None`:
    /// the project is in no group, or its group cannot be read).
    group_milestones: std::sync::OnceLock<Option<GroupMilestones>>,
    pub evidence_url: EvidenceUrl,
    /// Whether `_links` name GitLab's issue, merge request and edit pages: yes when
    /// `web_url` is the project on a GitLab server; no when it is `serve` (which has no
    /// such pages: the links would lead nowhere, so they are null).
    pub gitlab_pages: bool,
    /// Whether the reader may see the repository (GitLab's `download_code`): when not
    /// (a Guest of a private project), [`EntityContext::release_view`] leaves out
    /// everything that names the tag or the commit, and direct asset URLs (which name
    /// the tag) are the links' own URLs.
    pub code_access: bool,
}

impl<'r> EntityContext<'r> {
    pub fn new(repo: &'r Repo) -> Result<Self> {
        Ok(EntityContext {
            repo,
            project: Project::resolve(repo)?,
            now: Timestamp::now()?,
            include_html: false,
            milestones: Snapshot::read(repo.git())?.milestones()?,
            group_milestones: std::sync::OnceLock::new(),
            evidence_url: EvidenceUrl::WebUrl,
            gitlab_pages: true,
            code_access: true,
        })
    }

    /// The project's own origin (`https://host[:port]`), where its notes' images may
    /// come from.
    pub fn web_origin(&self) -> Option<&str> {
        let url = self.project.web_url.as_deref()?;
        let host = url.find("://")? + 3;
        Some(match url[host..].find('/') {
            Some(slash) => &url[..host + slash],
            None => url,
        })
    }

    /// The URL of a release's evidence file (see [`EvidenceUrl`]), else its path in the
    /// notes tree.
    pub fn evidence_filepath(&self, tag: &TagName, evidence: &crate::model::EvidenceRef) -> String {
        let file = format!("{}.json", evidence.sha);
        match (&self.evidence_url, self.project.web_url.as_deref()) {
            (
                EvidenceUrl::Site {
                    base_url: Some(base),
                },
                _,
            ) => {
                format!("{}/evidences/{file}", base.trim_end_matches('/'))
            }
            (EvidenceUrl::Site { base_url: None }, _) => format!("evidences/{file}"),
            (EvidenceUrl::WebUrl, Some(web)) => {
                format!("{web}/-/releases/{}/evidences/{file}", escape_path(tag))
            }
            (EvidenceUrl::WebUrl, None) => evidence.filepath.clone(),
        }
    }

    /// Builds every URL from `web_url` instead of the project's own: `serve` passes
    /// its own base, so that a client can follow each URL it is given.
    pub fn with_web_url(mut self, web_url: String) -> Self {
        self.project.web_url = Some(web_url.trim_end_matches('/').to_owned());
        self
    }

    /// Entities as `serve` gives them, at `web_url` on the server: `_links` to pages
    /// only GitLab has (issues, merge requests, the edit form) are null.
    pub fn served_at(self, web_url: String) -> Self {
        let mut context = self.with_web_url(web_url);
        context.gitlab_pages = false;
        context
    }

    pub fn release(&self, found: &Found) -> Result<ReleaseEntity> {
        let release = &found.release;
        let tag = &found.tag;
        let web = self.project.web_url.as_deref();
        let release_url = web.map(|w| format!("{w}/-/releases/{}", escape_path(tag)));
        let gitlab_pages = self.gitlab_pages.then_some(()).and(web);
        let filtered = |kind: &str, state: &str| {
            gitlab_pages.map(|w| {
                format!(
                    "{w}/-/{kind}?release_tag={}&scope=all&state={state}",
                    escape_query(tag)
                )
            })
        };
        let links = self.links(found);
        let archive_name = archive::base_name(&self.project.name, tag);
        let sources = ArchiveFormat::ALL
            .into_iter()
            .map(|format| SourceEntity {
                format,
                url: web.map(|w| {
                    // Both parts escaped: a `#` or `?` in the tag must not end the path.
                    format!(
                        "{w}/-/archive/{}/{}",
                        escape_path(tag),
                        escape_path(&format!("{archive_name}.{format}"))
                    )
                }),
            })
            .collect();
        let mut evidences: Vec<EvidenceEntity> = release
            .evidences
            .iter()
            .map(|e| EvidenceEntity {
                sha: e.sha.clone(),
                filepath: self.evidence_filepath(tag, e),
                collected_at: e.collected_at,
            })
            .collect();
        evidences.sort_by_key(|e| e.collected_at);
        let web_path = self.project.web_path();
        Ok(ReleaseEntity {
            name: release.name.clone(),
            tag_name: tag.to_string(),
            description: release.description_text().to_owned(),
            created_at: release.created_at,
            released_at: release.released_at,
            upcoming_release: release.is_upcoming(self.now),
            historical_release: release.is_historical(),
            description_html: self
                .include_html
                .then(|| markdown::to_html(release.description_text(), self.web_origin())),
            author: AuthorEntity::new(&release.author, web.and_then(instance_url).as_deref()),
            commit: self.commit(release.commit)?,
            milestones: self.milestones_of(release),
            commit_path: web_path
                .as_ref()
                .map(|p| format!("{p}/-/commit/{}", release.commit)),
            tag_path: web_path
                .as_ref()
                .map(|p| format!("{p}/-/tags/{}", escape_path(tag))),
            assets: AssetsEntity {
                count: links.len() + ArchiveFormat::ALL.len(),
                sources,
                links,
            },
            evidences,
            links: ReleaseLinks {
                closed_issues_url: filtered("issues", "closed"),
                closed_merge_requests_url: filtered("merge_requests", "closed"),
                edit_url: release_url
                    .as_ref()
                    .filter(|_| self.gitlab_pages)
                    .map(|u| format!("{u}/edit")),
                merged_merge_requests_url: filtered("merge_requests", "merged"),
                opened_issues_url: filtered("issues", "opened"),
                opened_merge_requests_url: filtered("merge_requests", "opened"),
                self_url: release_url.clone(),
            },
        })
    }

    /// The release as this reader may see it: the whole entity, or for a reader who
    /// may not see the repository, GitLab's entity without it.
    pub fn release_view(&self, found: &Found) -> Result<ReleaseView> {
        let entity = self.release(found)?;
        Ok(if self.code_access {
            ReleaseView::Full(Box::new(entity))
        } else {
            ReleaseView::Redacted(Box::new(entity.redacted(found.release.display_id())))
        })
    }

    /// The release's link entities, newest first as GitLab lists them.
    pub fn links(&self, found: &Found) -> Vec<LinkEntity> {
        Link::newest_first(&found.release.links)
            .into_iter()
            .map(|link| self.link(&found.tag, link))
            .collect()
    }

    /// GitLab's link entity. `direct_asset_url` is the permanent
    /// `/-/releases/<tag>/downloads<path>` URL when the link has a direct asset path
    /// (and the project's web URL is known), else the link's own URL.
    pub fn link(&self, tag: &TagName, link: &Link) -> LinkEntity {
        let direct_asset_url = match (&link.direct_asset_path, &self.project.web_url) {
            (Some(path), Some(web)) if self.code_access => {
                format!("{web}/-/releases/{}/downloads{path}", escape_path(tag))
            }
            _ => link.url.clone(),
        };
        LinkEntity {
            id: link.id,
            name: link.name.clone(),
            url: link.url.clone(),
            direct_asset_url,
            link_type: link.link_type,
        }
    }

    /// The project's group milestones (read once, when first needed).
    pub fn group_milestones(&self) -> Option<&GroupMilestones> {
        self.group_milestones
            .get_or_init(|| GroupMilestones::load(self.repo).ok().flatten())
            .as_ref()
    }

    /// Why the group milestones of `release` are shown as the release kept them: the
    /// group's repository is not here (a clone without it). `None` when they are
    /// current, or the release names none.
    pub fn group_notice(&self, release: &crate::model::Release) -> Option<String> {
        if release.group_milestones.is_empty() {
            return None;
        }
        match self.group_milestones() {
            Some(group) if group.at_hand() => None,
            Some(group) => Some(format!(
                "{} is not here: group milestones are shown as the release recorded them",
                group.group.describe()
            )),
            None => Some(
                "the project is in no group here: group milestones are shown as the release \
                 recorded them"
                    .to_owned(),
            ),
        }
    }

    /// `None` when the release has no milestones, as GitLab omits the key then. Keys
    /// of project milestones unknown here (e.g. deleted in another clone) are skipped;
    /// group milestones come from the group's repository when it is here, else as the
    /// release kept them.
    fn milestones_of(&self, release: &crate::model::Release) -> Option<Vec<MilestoneEntity>> {
        let mut entities: Vec<MilestoneEntity> = release
            .milestones
            .iter()
            .filter_map(|key| self.milestones.by_key(*key))
            .map(|m| MilestoneEntity::new(m, &self.project, self.now))
            .collect();
        if !release.group_milestones.is_empty() {
            let instance = self.project.web_url.as_deref().and_then(instance_url);
            let group = self.group_milestones();
            for kept in &release.group_milestones {
                match group.filter(|g| g.at_hand()) {
                    // Deleted in the group (where it is here): gone, as a project
                    // milestone deleted elsewhere is.
                    Some(g) => {
                        if let Some(m) = g.by_key(kept.key) {
                            entities.push(MilestoneEntity::of_group(
                                m,
                                &g.group,
                                instance.as_deref(),
                                self.now,
                            ));
                        }
                    }
                    None => entities.push(MilestoneEntity::kept(kept, instance.as_deref())),
                }
            }
        }
        (!entities.is_empty()).then_some(entities)
    }

    /// The commit entity; `None` when the commit is not in this clone (shallow clone,
    /// or a record made elsewhere) rather than failing the whole listing.
    pub fn commit(&self, oid: git2::Oid) -> Result<Option<CommitEntity>> {
        let git = self.repo.git();
        let id = oid.to_string();
        let Ok(commit) = git.find_commit(oid) else {
            return Ok(None);
        };
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let title = message.lines().next().unwrap_or_default().to_owned();
        let author = commit.author();
        let committer = commit.committer();
        let date = |t: git2::Time| {
            chrono::DateTime::from_timestamp(t.seconds(), 0)
                .map(|d| Timestamp::from_datetime(d).to_gitlab())
                .unwrap_or_default()
        };
        Ok(Some(CommitEntity {
            id: id.to_owned(),
            short_id: id[..8.min(id.len())].to_owned(),
            created_at: date(committer.when()),
            parent_ids: commit.parent_ids().map(|p| p.to_string()).collect(),
            title,
            message,
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            authored_date: date(author.when()),
            committer_name: String::from_utf8_lossy(committer.name_bytes()).into_owned(),
            committer_email: String::from_utf8_lossy(committer.email_bytes()).into_owned(),
            committed_date: date(committer.when()),
            web_url: self
                .project
                .web_url
                .as_ref()
                .map(|w| format!("{w}/-/commit/{id}")),
        }))
    }
}

/// The project's `path_with_namespace` (`group/proj`): the path of its web URL, else
/// its name.
pub fn project_path(project: &Project) -> String {
    project
        .web_path()
        .map(|p| p.trim_matches('/').to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| project.name.clone())
}

/// GitLab's project entity, as far as a repository knows it.
#[derive(Debug, Serialize)]
pub struct ProjectEntity {
    pub id: u64,
    pub description: Option<String>,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub default_branch: Option<String>,
    pub web_url: Option<String>,
    /// The group it is in, under `serve --root` (GitLab's `namespace`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<crate::present::group::NamespaceEntity>,
}

/// GitLab's `name_with_namespace`: the groups' names (here their paths) and the
/// project's name, which may differ from its path (`tools / ripgrep` for `tools/rg`).
pub fn name_with_namespace(path_with_namespace: &str, name: &str) -> String {
    match path_with_namespace.rsplit_once('/') {
        Some((groups, _)) => format!("{} / {name}", groups.replace('/', " / ")),
        None => name.to_owned(),
    }
}

impl ProjectEntity {
    /// `id` is GitLab's numeric project id (`release.projectId`); `default_branch` the
    /// branch HEAD names.
    pub fn new(project: &Project, id: u64, default_branch: Option<String>) -> Self {
        let path_with_namespace = project_path(project);
        let path = path_with_namespace
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        ProjectEntity {
            id,
            description: project.description.clone(),
            name: project.name.clone(),
            name_with_namespace: name_with_namespace(&path_with_namespace, &project.name),
            path,
            path_with_namespace,
            default_branch,
            web_url: project.web_url.clone(),
            namespace: None,
        }
    }
}

/// The user a token stands for: the repository's git identity (**ours**: GitLab's
/// user accounts do not exist here).
#[derive(Debug, Serialize)]
pub struct UserEntity {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub state: &'static str,
    pub avatar_url: Option<String>,
    pub web_url: Option<String>,
    pub email: String,
}

impl UserEntity {
    pub fn new(person: &crate::model::Person, base: Option<&str>) -> Self {
        let author = AuthorEntity::new(person, base);
        UserEntity {
            id: author.id,
            web_url: author.web_url,
            username: author.username,
            name: author.name,
            state: "active",
            avatar_url: None,
            email: author.email,
        }
    }
}

/// GitLab's tag entity (`GET /projects/:id/repository/tags/:name`).
#[derive(Debug, Serialize)]
pub struct TagEntity {
    pub name: String,
    /// The annotation's message; `None` for a lightweight tag.
    pub message: Option<String>,
    /// What the tag ref points at: the tag object, or the commit.
    pub target: String,
    pub commit: Option<CommitEntity>,
    pub release: Option<TagReleaseEntity>,
    pub protected: bool,
    /// The tagger's date of an annotated tag.
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TagReleaseEntity {
    pub tag_name: String,
    pub description: Option<String>,
}

impl EntityContext<'_> {
    /// The tag entity of `name`, `None` when no such tag exists. `release` is the
    /// release on it, if any.
    pub fn tag(&self, name: &str, release: Option<&Found>) -> Result<Option<TagEntity>> {
        let Some(target) = crate::git::tag::resolve(self.repo, name)? else {
            return Ok(None);
        };
        let annotation = self.repo.git().find_tag(target.target).ok();
        let (message, created_at) = match &annotation {
            Some(tag) => (
                Some(String::from_utf8_lossy(tag.message_bytes().unwrap_or_default()).into_owned()),
                tag.tagger().and_then(|t| {
                    chrono::DateTime::from_timestamp(t.when().seconds(), 0)
                        .map(|d| Timestamp::from_datetime(d).to_gitlab())
                }),
            ),
            None => (None, None),
        };
        Ok(Some(TagEntity {
            name: name.to_owned(),
            message,
            target: target.target.to_string(),
            commit: self.commit(target.commit)?,
            release: release.map(|f| TagReleaseEntity {
                tag_name: f.tag.to_string(),
                description: f.release.description.clone(),
            }),
            protected: false,
            created_at,
        }))
    }
}
