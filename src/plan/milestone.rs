//! Milestone operations on `milestones.json`: create, list, view, update (rename
//! included), close, reopen, delete, and issues recorded on a milestone. Releases
//! refer to milestones by key, so a rename follows and a delete detaches.

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::model::Found;
use crate::model::IdKind;
use crate::model::Person;
use crate::model::milestone::{self as model, MILESTONES_PATH};
use crate::model::{Issue, IssueState, Key, Milestone, MilestoneFile, MilestoneState};
use crate::release;
use crate::store::{NoteContent, Snapshot, Store, Transaction, note_location};
use crate::time::Timestamp;

fn load_tx(tx: &Transaction<'_, '_>) -> Result<MilestoneFile> {
    tx.milestones()
}

/// The milestones as of one read of the store.
pub fn load(snapshot: &Snapshot<'_>) -> Result<MilestoneFile> {
    snapshot.milestones()
}

pub fn list(repo: &Repo) -> Result<Vec<Milestone>> {
    Ok(load(&Snapshot::read(repo.git())?)?.milestones)
}

#[derive(Debug, Default, Clone)]
pub struct NewMilestone {
    pub title: String,
    pub description: Option<String>,
    pub due_date: Option<String>,
    pub start_date: Option<String>,
}

fn parse_optional_date(what: &'static str, text: Option<&str>) -> Result<Option<NaiveDate>> {
    text.map(|t| model::parse_date(what, t)).transpose()
}

/// Checks a new milestone as [`create`] does, without a repository (a group's is
/// made only for a valid one); returns its start and due dates.
pub fn validate(request: &NewMilestone) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    model::validate_title(&request.title)?;
    crate::model::text::check_opt("milestone description", request.description.as_deref())?;
    let due_date = parse_optional_date("due date", request.due_date.as_deref())?;
    let start_date = parse_optional_date("start date", request.start_date.as_deref())?;
    model::validate_dates(start_date, due_date)?;
    Ok((start_date, due_date))
}

pub fn create(repo: &Repo, request: NewMilestone) -> Result<Milestone> {
    let (start_date, due_date) = validate(&request)?;
    let now = Timestamp::now()?;
    // Drawn once, outside the closure: a retried write must store the same key.
    let key = Key::random();
    let written =
        Store::new(repo).update(&format!("milestone create {:?}", request.title), |tx| {
            let mut file = load_tx(tx)?;
            if file.find(&request.title).is_some() {
                return Err(Error::MilestoneExists {
                    title: request.title.clone(),
                });
            }
            let id = tx.allocate_id(IdKind::Milestone, file.highest_id())?;
            let iid = tx.allocate_id(IdKind::MilestoneIid, file.highest_iid())?;
            let milestone = Milestone {
                key,
                id,
                iid,
                title: request.title.clone(),
                description: request.description.clone(),
                state: MilestoneState::Active,
                due_date,
                start_date,
                created_at: now,
                updated_at: now,
                issues: Vec::new(),
                imported_issue_stats: None,
                extra: Default::default(),
            };
            file.milestones.push(milestone.clone());
            tx.put_json_file(MILESTONES_PATH, &file)?;
            Ok(milestone)
        })?;
    Ok(written.value)
}

/// A milestone with the releases that belong to it.
#[derive(Debug)]
pub struct Viewed {
    pub milestone: Milestone,
    pub releases: Vec<Found>,
}

pub fn view(repo: &Repo, title: &str) -> Result<Viewed> {
    let snapshot = Snapshot::read(repo.git())?;
    let milestone =
        load(&snapshot)?
            .find(title)
            .cloned()
            .ok_or_else(|| Error::MilestoneNotFound {
                title: title.to_owned(),
            })?;
    let mut releases: Vec<Found> = release::list(repo)?
        .releases
        .into_iter()
        .filter(|f| f.release.milestones.contains(&milestone.key))
        .collect();
    crate::release::ordering::sort(
        &mut releases,
        crate::release::ordering::OrderBy::ReleasedAt,
        crate::release::ordering::Direction::Desc,
    );
    Ok(Viewed {
        milestone,
        releases,
    })
}

/// Changes to a milestone; `Some(None)` clears an optional field.
#[derive(Debug, Default, Clone)]
pub struct MilestoneChange {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub due_date: Option<Option<String>>,
    pub start_date: Option<Option<String>>,
    pub state: Option<MilestoneState>,
}

impl MilestoneChange {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.due_date.is_none()
            && self.start_date.is_none()
            && self.state.is_none()
    }
}

pub fn update(repo: &Repo, title: &str, change: MilestoneChange) -> Result<Milestone> {
    if change.is_empty() {
        return Err(Error::invalid(
            "milestone update",
            title,
            "nothing to change: give --title, --description, --due-date or --start-date",
        ));
    }
    if let Some(new_title) = &change.title {
        model::validate_title(new_title)?;
    }
    if let Some(Some(description)) = &change.description {
        crate::model::text::check("milestone description", description)?;
    }
    let due = change
        .due_date
        .as_ref()
        .map(|d| parse_optional_date("due date", d.as_deref()))
        .transpose()?;
    let start = change
        .start_date
        .as_ref()
        .map(|d| parse_optional_date("start date", d.as_deref()))
        .transpose()?;
    let now = Timestamp::now()?;
    let message = match (&change.state, &change.title) {
        (Some(MilestoneState::Closed), _) => format!("milestone close {title:?}"),
        (Some(MilestoneState::Active), _) => format!("milestone reopen {title:?}"),
        (None, Some(new)) if new != title => format!("milestone rename {title:?} to {new:?}"),
        _ => format!("milestone update {title:?}"),
    };
    let written = Store::new(repo).update(&message, |tx| {
        let mut file = load_tx(tx)?;
        if let Some(new_title) = &change.title {
            if new_title != title && file.find(new_title).is_some() {
                return Err(Error::MilestoneExists {
                    title: new_title.clone(),
                });
            }
        }
        let milestone = file
            .find_mut(title)
            .ok_or_else(|| Error::MilestoneNotFound {
                title: title.to_owned(),
            })?;
        let before = milestone.clone();
        if let Some(new_title) = &change.title {
            milestone.title = new_title.clone();
        }
        if let Some(description) = &change.description {
            milestone.description = description.clone();
        }
        if let Some(due) = due {
            milestone.due_date = due;
        }
        if let Some(start) = start {
            milestone.start_date = start;
        }
        if let Some(state) = change.state {
            milestone.state = state;
        }
        model::validate_dates(milestone.start_date, milestone.due_date)?;
        if *milestone != before {
            milestone.updated_at = now;
        }
        let milestone = milestone.clone();
        tx.put_json_file(MILESTONES_PATH, &file)?;
        Ok(milestone)
    })?;
    Ok(written.value)
}

pub fn set_state(repo: &Repo, title: &str, state: MilestoneState) -> Result<Milestone> {
    update(
        repo,
        title,
        MilestoneChange {
            state: Some(state),
            ..Default::default()
        },
    )
}

#[derive(Debug)]
pub struct Deleted {
    pub milestone: Milestone,
    /// Tags of the releases the milestone was detached from.
    pub detached: Vec<String>,
}

/// Deletes a milestone and detaches it from every release, in one commit. This visits
/// every note, which is fine for a rare operation; the common ones do not.
pub fn delete(repo: &Repo, title: &str) -> Result<Deleted> {
    let written = Store::new(repo).update(&format!("milestone delete {title:?}"), |tx| {
        let mut file = load_tx(tx)?;
        let position = file
            .milestones
            .iter()
            .position(|m| m.title == title)
            .ok_or_else(|| Error::MilestoneNotFound {
                title: title.to_owned(),
            })?;
        let milestone = file.milestones.remove(position);
        tx.put_json_file(MILESTONES_PATH, &file)?;
        let mut commits = Vec::new();
        tx.snapshot()
            .for_each_note(&mut |commit, _| commits.push(commit))?;
        let mut detached = Vec::new();
        for commit in commits {
            // Notes git-release did not write are not ours to rewrite.
            if !matches!(
                tx.snapshot().note(&commit)?,
                Some((NoteContent::Ours(_), _))
            ) {
                continue;
            }
            let location = note_location(&commit);
            let doc = tx.doc(&commit)?;
            let mut changed = Vec::new();
            for (tag, record) in doc.records(&location) {
                // A record that does not decode is left as it is, not dropped.
                if let Ok(mut release) = record {
                    if release.milestones.contains(&milestone.key) {
                        release.milestones.retain(|k| *k != milestone.key);
                        changed.push((tag.to_owned(), release));
                    }
                }
            }
            for (tag, release) in changed {
                doc.set(&tag, &release);
                detached.push(tag);
            }
        }
        detached.sort();
        Ok(Deleted {
            milestone,
            detached,
        })
    })?;
    Ok(written.value)
}

#[derive(Debug, Clone)]
pub struct NewIssue {
    pub title: String,
    pub state: IssueState,
    pub url: Option<String>,
    pub due_date: Option<String>,
}

fn validate_issue_title(title: &str) -> Result<()> {
    crate::model::text::check("issue title", title)?;
    if title.trim().is_empty() {
        return Err(Error::invalid(
            "issue title",
            title,
            "a title cannot be empty",
        ));
    }
    Ok(())
}

fn validate_issue_url(url: &str) -> Result<()> {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(Error::invalid(
            "issue URL",
            url,
            "expected an http:// or https:// URL",
        ));
    }
    Ok(())
}

/// One milestone lists an issue once: a second issue with the same title (compared
/// without surrounding blanks) is refused.
fn check_issue_title_free(milestone: &Milestone, title: &str, except: Option<u64>) -> Result<()> {
    match milestone
        .issues
        .iter()
        .find(|i| Some(i.id) != except && i.title.trim() == title.trim())
    {
        Some(other) => Err(Error::IssueExists {
            milestone: milestone.title.clone(),
            title: title.to_owned(),
            id: other.id,
        }),
        None => Ok(()),
    }
}

/// Records an issue on a milestone (for `issue_stats` and evidence).
pub fn add_issue(repo: &Repo, milestone_title: &str, request: NewIssue) -> Result<Issue> {
    validate_issue_title(&request.title)?;
    if let Some(url) = &request.url {
        validate_issue_url(url)?;
    }
    let due_date = parse_optional_date("issue due date", request.due_date.as_deref())?;
    let now = Timestamp::now()?;
    let author = Person::author(repo)?;
    let key = Key::random();
    let written = Store::new(repo).update(
        &format!(
            "milestone issue add {milestone_title:?} {:?}",
            request.title
        ),
        |tx| {
            let mut file = load_tx(tx)?;
            let id = tx.allocate_id(IdKind::Issue, file.highest_issue_id())?;
            let milestone =
                file.find_mut(milestone_title)
                    .ok_or_else(|| Error::MilestoneNotFound {
                        title: milestone_title.to_owned(),
                    })?;
            check_issue_title_free(milestone, &request.title, None)?;
            let issue = Issue {
                key,
                id,
                title: request.title.clone(),
                state: request.state,
                url: request.url.as_ref().map(|u| u.trim().to_owned()),
                due_date,
                author_name: author.name.clone(),
                author_email: author.email.clone(),
                created_at: now,
                extra: Default::default(),
            };
            milestone.issues.push(issue.clone());
            milestone.updated_at = now;
            tx.put_json_file(MILESTONES_PATH, &file)?;
            Ok(issue)
        },
    )?;
    Ok(written.value)
}

/// Changes to an issue recorded on a milestone; `Some(None)` clears an optional field.
#[derive(Debug, Default, Clone)]
pub struct IssueChange {
    pub title: Option<String>,
    pub state: Option<IssueState>,
    pub url: Option<Option<String>>,
    pub due_date: Option<Option<String>>,
}

impl IssueChange {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.state.is_none()
            && self.url.is_none()
            && self.due_date.is_none()
    }
}

/// Changes issue `id` of a milestone (close, reopen, retitle, …), in one commit.
pub fn update_issue(
    repo: &Repo,
    milestone_title: &str,
    id: u64,
    change: IssueChange,
) -> Result<Issue> {
    if change.is_empty() {
        return Err(Error::invalid(
            "issue update",
            format!("#{id}"),
            "nothing to change: give --title, --state, --url or --due-date",
        ));
    }
    if let Some(title) = &change.title {
        validate_issue_title(title)?;
    }
    if let Some(Some(url)) = &change.url {
        validate_issue_url(url)?;
    }
    let due = change
        .due_date
        .as_ref()
        .map(|d| parse_optional_date("issue due date", d.as_deref()))
        .transpose()?;
    let now = Timestamp::now()?;
    let verb = match change.state {
        Some(IssueState::Closed) if change.title.is_none() => "close",
        Some(IssueState::Opened) if change.title.is_none() => "reopen",
        _ => "update",
    };
    let message = format!("milestone issue {verb} {milestone_title:?} #{id}");
    let written = Store::new(repo).update(&message, |tx| {
        let mut file = load_tx(tx)?;
        let milestone = file
            .find_mut(milestone_title)
            .ok_or_else(|| Error::MilestoneNotFound {
                title: milestone_title.to_owned(),
            })?;
        if let Some(title) = &change.title {
            check_issue_title_free(milestone, title, Some(id))?;
        }
        let issue = milestone
            .issues
            .iter_mut()
            .find(|i| i.id == id)
            .ok_or_else(|| Error::IssueNotFound {
                milestone: milestone_title.to_owned(),
                id,
            })?;
        let before = issue.clone();
        if let Some(title) = &change.title {
            issue.title = title.clone();
        }
        if let Some(state) = change.state {
            issue.state = state;
        }
        if let Some(url) = &change.url {
            issue.url = url.as_ref().map(|u| u.trim().to_owned());
        }
        if let Some(due) = due {
            issue.due_date = due;
        }
        let issue = issue.clone();
        if issue != before {
            milestone.updated_at = now;
        }
        tx.put_json_file(MILESTONES_PATH, &file)?;
        Ok(issue)
    })?;
    Ok(written.value)
}

/// Removes issue `id` from a milestone (its id is not handed out again).
pub fn remove_issue(repo: &Repo, milestone_title: &str, id: u64) -> Result<Issue> {
    let now = Timestamp::now()?;
    let message = format!("milestone issue remove {milestone_title:?} #{id}");
    let written = Store::new(repo).update(&message, |tx| {
        let mut file = load_tx(tx)?;
        let milestone = file
            .find_mut(milestone_title)
            .ok_or_else(|| Error::MilestoneNotFound {
                title: milestone_title.to_owned(),
            })?;
        let position = milestone
            .issues
            .iter()
            .position(|i| i.id == id)
            .ok_or_else(|| Error::IssueNotFound {
                milestone: milestone_title.to_owned(),
                id,
            })?;
        let issue = milestone.issues.remove(position);
        milestone.updated_at = now;
        tx.put_json_file(MILESTONES_PATH, &file)?;
        Ok(issue)
    })?;
    Ok(written.value)
}
