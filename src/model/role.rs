//! GitLab's project roles, lowest first: what a `serve --tokens` user may do, and who
//! may release on a protected tag.

use std::fmt;

/// A member's role in the project, as GitLab names them. Ordered: each role may do
/// everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads releases (with repository details left out in a private project) and
    /// milestones.
    Guest,
    /// Reads everything: releases, source code and archives, evidence, freeze periods;
    /// manages milestones.
    Reporter,
    /// Creates and updates releases and their links on tags nobody protected.
    Developer,
    /// Deletes releases, manages freeze periods, releases on protected tags.
    Maintainer,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Guest,
        Role::Reporter,
        Role::Developer,
        Role::Maintainer,
        Role::Owner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Reporter => "reporter",
            Role::Developer => "developer",
            Role::Maintainer => "maintainer",
            Role::Owner => "owner",
        }
    }

    /// GitLab's numeric access level (`access_level` in its API).
    pub fn access_level(self) -> u8 {
        match self {
            Role::Guest => 10,
            Role::Reporter => 20,
            Role::Developer => 30,
            Role::Maintainer => 40,
            Role::Owner => 50,
        }
    }

    /// A role by its name (any case); the error lists the names.
    pub fn parse(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown role {text:?}: expected {}",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_as_gitlab_access_levels() {
        let levels: Vec<u8> = Role::ALL.iter().map(|r| r.access_level()).collect();
        assert_eq!(levels, [10, 20, 30, 40, 50]);
        assert!(Role::Developer < Role::Maintainer && Role::Guest < Role::Reporter);
        assert_eq!(Role::parse("Maintainer"), Ok(Role::Maintainer));
        assert!(
            Role::parse("admin")
                .unwrap_err()
                .contains("guest, reporter")
        );
    }
}
