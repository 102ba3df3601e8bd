//! Milestones as stored in `milestones.json` at the root of the notes tree, with the
//! issues recorded on them (ours: GitLab keeps issues elsewhere; here they only feed
//! `issue_stats` and evidence).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Key;
use crate::time::Timestamp;

pub const MILESTONES_PATH: &str = "milestones.json";

/// The longest title GitLab accepts.
const MAX_TITLE_CHARS: usize = 255;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MilestoneFile {
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub key: Key,
    pub id: u64,
    pub iid: u64,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub state: MilestoneState,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
    /// GitLab's counts, kept by `import` (which cannot bring the issues themselves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_issue_stats: Option<IssueStats>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneState {
    Active,
    Closed,
}

impl MilestoneState {
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneState::Active => "active",
            MilestoneState::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub key: Key,
    pub id: u64,
    pub title: String,
    pub state: IssueState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Evidence snapshots carry each issue's due date, as GitLab's do.
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    pub author_name: String,
    pub author_email: String,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum IssueState {
    #[value(alias = "open")]
    Opened,
    Closed,
}

impl MilestoneFile {
    pub fn find(&self, title: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.title == title)
    }

    pub fn find_mut(&mut self, title: &str) -> Option<&mut Milestone> {
        self.milestones.iter_mut().find(|m| m.title == title)
    }

    pub fn by_key(&self, key: Key) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.key == key)
    }

    pub fn highest_id(&self) -> u64 {
        self.milestones.iter().map(|m| m.id).max().unwrap_or(0)
    }

    pub fn highest_iid(&self) -> u64 {
        self.milestones.iter().map(|m| m.iid).max().unwrap_or(0)
    }

    /// The keys of the milestones titled `titles`, in order and without repeats; an
    /// unknown title is an error naming it.
    pub fn resolve_titles(&self, titles: &[String]) -> Result<Vec<Key>> {
        let mut keys = Vec::with_capacity(titles.len());
        for title in titles {
            let milestone = self.find(title).ok_or_else(|| Error::MilestoneNotFound {
                title: title.clone(),
            })?;
            if !keys.contains(&milestone.key) {
                keys.push(milestone.key);
            }
        }
        Ok(keys)
    }

    /// Fails when one of `keys` names no milestone here (deleted since a plan was made).
    pub fn check_keys(&self, keys: &[Key]) -> Result<()> {
        match keys.iter().find(|k| self.by_key(**k).is_none()) {
            Some(key) => Err(Error::MilestoneNotFound {
                title: format!("(deleted meanwhile, key {key})"),
            }),
            None => Ok(()),
        }
    }

    pub fn highest_issue_id(&self) -> u64 {
        self.milestones
            .iter()
            .flat_map(|m| m.issues.iter().map(|i| i.id))
            .max()
            .unwrap_or(0)
    }
}

impl Milestone {
    /// The same milestone made twice (by two clones): equal in everything but
    /// identity (key, display ids) and bookkeeping times, issues alike.
    pub fn same_content(&self, other: &Milestone) -> bool {
        let mut other = other.clone();
        other.key = self.key;
        (other.id, other.iid) = (self.id, self.iid);
        (other.created_at, other.updated_at) = (self.created_at, self.updated_at);
        for (theirs, ours) in other.issues.iter_mut().zip(&self.issues) {
            theirs.key = ours.key;
            theirs.id = ours.id;
            theirs.created_at = ours.created_at;
        }
        *self == other
    }

    /// `{total, closed}` over the issues recorded on the milestone; a milestone with
    /// none recorded shows the counts imported from GitLab, if any.
    pub fn issue_stats(&self) -> (usize, usize) {
        if self.issues.is_empty() {
            if let Some(stats) = &self.imported_issue_stats {
                return (stats.total, stats.closed);
            }
        }
        let closed = self
            .issues
            .iter()
            .filter(|i| i.state == IssueState::Closed)
            .count();
        (self.issues.len(), closed)
    }

    /// GitLab's `expired`: the due date lies before the day of `now` (UTC).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.due_date
            .is_some_and(|due| due < now.datetime().date_naive())
    }
}

/// GitLab's `issue_stats` as imported, for a milestone whose issues are not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueStats {
    pub total: usize,
    pub closed: usize,
}

/// Titles are what users type to name a milestone: non-empty, no surrounding blanks,
/// no control characters, at most 255 characters (GitLab's limit).
pub fn validate_title(title: &str) -> Result<()> {
    let refuse = |reason: &str| Err(Error::invalid("milestone title", title, reason));
    if title.trim().is_empty() {
        return refuse("a title cannot be empty");
    }
    if title.trim() != title {
        return refuse("a title cannot start or end with blanks");
    }
    if let Some(c) = title.chars().find(|c| c.is_control()) {
        return refuse(&format!(
            "a title cannot contain control characters (U+{:04X})",
            u32::from(c)
        ));
    }
    if let Some(c) = title
        .chars()
        .find(|&c| crate::model::text::is_noncharacter(c))
    {
        return refuse(&format!(
            "a title cannot contain U+{:04X}, a Unicode noncharacter",
            u32::from(c)
        ));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return refuse("a title has at most 255 characters");
    }
    Ok(())
}

/// `YYYY-MM-DD`, as GitLab takes milestone dates.
pub fn parse_date(what: &'static str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid(what, text, "expected a date as YYYY-MM-DD"))
}

/// GitLab refuses a milestone whose due date lies before its start date.
pub fn validate_dates(start: Option<NaiveDate>, due: Option<NaiveDate>) -> Result<()> {
    if let (Some(start), Some(due)) = (start, due) {
        if due < start {
            return Err(Error::invalid(
                "due date",
                due.to_string(),
                format!("it lies before the start date {start}"),
            ));
        }
    }
    Ok(())
}
