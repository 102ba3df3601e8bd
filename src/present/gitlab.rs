//! The GitLab Release entity (`GET /projects/:id/releases/:tag`), serialization only.
//! Field order is GitLab's; see shared/GITLAB.md.

use serde::Serialize;

use crate::archive;
use crate::error::Result;
use crate::git::project::Project;
use crate::git::repo::Repo;
use crate::model::ArchiveFormat;
use crate::model::Found;
use crate::model::Link;
use crate::model::{FreezePeriod, Milestone, MilestoneFile};
use crate::present::markdown;
use crate::store::Snapshot;
use crate::time::Timestamp;
use crate::url::{escape_path, escape_query};

/// The source archive formats, in GitLab's order.

#[derive(Debug, Serialize)]
pub struct ReleaseEntity {
    pub name: String,
    pub tag_name: String,
    pub description: Option<String>,
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

#[derive(Debug, Serialize)]
pub struct AuthorEntity {
    pub name: String,
    pub email: String,
    pub username: String,
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
    /// GitLab's numeric project id; a repository has none.
    pub project_id: Option<u64>,
    pub title: String,
    pub description: Option<String>,
    pub state: &'static str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub due_date: Option<chrono::NaiveDate>,
    pub start_date: Option<chrono::NaiveDate>,
    pub web_url: Option<String>,
    pub issue_stats: IssueStats,
}

#[derive(Debug, Serialize)]
pub struct IssueStats {
    pub total: usize,
    pub closed: usize,
}

impl MilestoneEntity {
    pub fn new(milestone: &Milestone, project: &Project) -> Self {
        let (total, closed) = milestone.issue_stats();
        MilestoneEntity {
            id: milestone.id,
            iid: milestone.iid,
            project_id: None,
            title: milestone.title.clone(),
            description: milestone.description.clone(),
            state: milestone.state.as_str(),
            created_at: milestone.created_at,
            updated_at: milestone.updated_at,
            due_date: milestone.due_date,
            start_date: milestone.start_date,
            web_url: project
                .web_url
                .as_ref()
                .map(|w| format!("{w}/-/milestones/{}", milestone.iid)),
            issue_stats: IssueStats { total, closed },
        }
    }
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
    pub edit_url: Option<String>,
    pub merged_merge_requests_url: Option<String>,
    pub opened_issues_url: Option<String>,
    pub opened_merge_requests_url: Option<String>,
    #[serde(rename = "self")]
    pub self_url: Option<String>,
}

/// What every entity of one command shares.
pub struct EntityContext<'r> {
    pub repo: &'r Repo,
    pub project: Project,
    pub now: Timestamp,
    pub include_html: bool,
    /// Read once per command: every release entity shows its milestones.
    pub milestones: MilestoneFile,
}

impl<'r> EntityContext<'r> {
    pub fn new(repo: &'r Repo) -> Result<Self> {
        Ok(EntityContext {
            repo,
            project: Project::resolve(repo)?,
            now: Timestamp::now()?,
            include_html: false,
            milestones: Snapshot::read(repo.git())?.milestones()?,
        })
    }

    pub fn release(&self, found: &Found) -> Result<ReleaseEntity> {
        let release = &found.release;
        let tag = &found.tag;
        let web = self.project.web_url.as_deref();
        let release_url = web.map(|w| format!("{w}/-/releases/{}", escape_path(tag)));
        let filtered = |kind: &str, state: &str| {
            web.map(|w| {
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
                url: web
                    .map(|w| format!("{w}/-/archive/{}/{archive_name}.{format}", escape_path(tag))),
            })
            .collect();
        let mut evidences: Vec<EvidenceEntity> = release
            .evidences
            .iter()
            .map(|e| EvidenceEntity {
                sha: e.sha.clone(),
                filepath: e.filepath.clone(),
                collected_at: e.collected_at,
            })
            .collect();
        evidences.sort_by_key(|e| e.collected_at);
        let web_path = self.project.web_path();
        Ok(ReleaseEntity {
            name: release.name.clone(),
            tag_name: tag.clone(),
            description: release.description.clone(),
            created_at: release.created_at,
            released_at: release.released_at,
            upcoming_release: release.is_upcoming(self.now),
            historical_release: release.is_historical(),
            description_html: self
                .include_html
                .then(|| markdown::to_html(release.description.as_deref().unwrap_or_default())),
            author: AuthorEntity {
                name: release.author.name.clone(),
                email: release.author.email.clone(),
                username: release.author.username().to_owned(),
            },
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
                edit_url: release_url.as_ref().map(|u| format!("{u}/edit")),
                merged_merge_requests_url: filtered("merge_requests", "merged"),
                opened_issues_url: filtered("issues", "opened"),
                opened_merge_requests_url: filtered("merge_requests", "opened"),
                self_url: release_url.clone(),
            },
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
    pub fn link(&self, tag: &str, link: &Link) -> LinkEntity {
        let direct_asset_url = match (&link.direct_asset_path, &self.project.web_url) {
            (Some(path), Some(web)) => {
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

    /// `None` when the release has no milestones, as GitLab omits the key then. Keys
    /// of milestones unknown here (e.g. deleted in another clone) are skipped.
    fn milestones_of(&self, release: &crate::model::Release) -> Option<Vec<MilestoneEntity>> {
        let entities: Vec<MilestoneEntity> = release
            .milestones
            .iter()
            .filter_map(|key| self.milestones.by_key(*key))
            .map(|m| MilestoneEntity::new(m, &self.project))
            .collect();
        (!entities.is_empty()).then_some(entities)
    }

    /// The commit entity; `None` when the commit is not in this clone (shallow clone,
    /// or a record made elsewhere) rather than failing the whole listing.
    fn commit(&self, oid: git2::Oid) -> Result<Option<CommitEntity>> {
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
