//! A person as git records one (name and email), and as releases name their author.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// GitLab's user fields, kept when a release was imported from GitLab (a git
    /// identity has none of them; `username` then derives from the email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// The date git would record for this person (e.g. `GIT_COMMITTER_DATE`), used for
    /// tag and notes-commit signatures only; release times never come from here.
    #[serde(skip)]
    pub when: Option<DateTime<FixedOffset>>,
}

impl Person {
    /// GitLab shows a username: the one imported from GitLab, else the local part of
    /// the email address.
    pub fn username(&self) -> &str {
        match self.username.as_deref() {
            Some(username) if !username.is_empty() => username,
            _ => self.email.split('@').next().unwrap_or(&self.email),
        }
    }
}
