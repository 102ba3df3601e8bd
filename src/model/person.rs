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
    /// GitLab's integer user id: the one imported from GitLab, else one every clone
    /// computes alike from the normalised email (trimmed, lower-cased): the first four
    /// bytes of its SHA-256, below 2^31 so that every client's integer type holds it
    /// (GitLab's ids are 32-bit in many clients), never 0.
    pub fn gitlab_id(&self) -> u64 {
        if let Some(id) = self.id {
            return id;
        }
        derived_user_id(&self.email)
    }

    /// GitLab's user state: the one imported, else `active`.
    pub fn gitlab_state(&self) -> &str {
        self.state
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("active")
    }

    /// GitLab shows a username: the one imported from GitLab, else the local part of
    /// the email address.
    pub fn username(&self) -> &str {
        match self.username.as_deref() {
            Some(username) if !username.is_empty() => username,
            _ => self.email.split('@').next().unwrap_or(&self.email),
        }
    }
}

/// The user id derived from an email address (see [`Person::gitlab_id`]).
pub fn derived_user_id(email: &str) -> u64 {
    use sha2::Digest;
    let normalised = email.trim().to_lowercase();
    let digest = sha2::Sha256::digest(normalised.as_bytes());
    let id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
    u64::from(id.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_below_2_pow_31_and_ignore_case_and_blanks() {
        let id = derived_user_id("Ada@Example.com ");
        assert_eq!(id, derived_user_id("ada@example.com"));
        assert!(id > 0 && id < (1 << 31));
        assert_ne!(id, derived_user_id("bob@example.com"));
        // Pinned: every clone, every version computes the same id.
        assert_eq!(derived_user_id("ada@example.com"), PINNED_ADA);
        let imported = Person {
            id: Some(42),
            ..Person::default()
        };
        assert_eq!(imported.gitlab_id(), 42);
    }

    const PINNED_ADA: u64 = 905_741_797;
}
