//! A person as git records one (name and email), and as releases name their author.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub email: String,
    /// The date git would record for this person (e.g. `GIT_COMMITTER_DATE`), used for
    /// tag and notes-commit signatures only; release times never come from here.
    #[serde(skip)]
    pub when: Option<DateTime<FixedOffset>>,
}

impl Person {
    /// GitLab shows a username; ours is the local part of the email address.
    pub fn username(&self) -> &str {
        self.email.split('@').next().unwrap_or(&self.email)
    }
}
