//! Who is making a change, resolved as git resolves it: `GIT_AUTHOR_*` /
//! `GIT_COMMITTER_*` first, then `user.name`/`user.email` from the configuration.
//! (git2's `Repository::signature()` ignores those variables, so we do it here.)

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::git::repo::Repo;
pub use crate::model::Person;

enum Role {
    Author,
    Committer,
}

impl Person {
    pub fn author(repo: &Repo) -> Result<Self> {
        Self::resolve(repo, Role::Author)
    }

    pub fn committer(repo: &Repo) -> Result<Self> {
        Self::resolve(repo, Role::Committer)
    }

    fn resolve(repo: &Repo, role: Role) -> Result<Self> {
        let prefix = match role {
            Role::Author => "GIT_AUTHOR",
            Role::Committer => "GIT_COMMITTER",
        };
        let env = |suffix: &str| std::env::var(format!("{prefix}_{suffix}")).ok();
        let name = env("NAME").or_else(|| repo.config_string("user.name"));
        let email = env("EMAIL")
            .or_else(|| repo.config_string("user.email"))
            .or_else(|| std::env::var("EMAIL").ok().filter(|e| !e.is_empty()));
        let (Some(name), Some(email)) = (name, email) else {
            return Err(Error::UnknownIdentity);
        };
        let when = match env("DATE") {
            Some(text) => Some(parse_git_date(&text).ok_or_else(|| {
                Error::invalid(
                    "date",
                    text.clone(),
                    format!("{prefix}_DATE is not a date git understands"),
                )
            })?),
            None => None,
        };
        Ok(Person {
            name,
            email,
            when,
            ..Person::default()
        })
    }

    /// The signature git would write for this person now.
    pub fn signature(&self) -> Result<git2::Signature<'static>> {
        let when = self.when.unwrap_or_else(|| Utc::now().fixed_offset());
        let time = git2::Time::new(when.timestamp(), when.offset().local_minus_utc() / 60);
        git2::Signature::new(&self.name, &self.email, &time).map_err(|e| {
            Error::git(
                format!("invalid identity {} <{}>", self.name, self.email),
                e,
            )
        })
    }
}

/// Parses the date formats git accepts in `GIT_*_DATE`: its internal `@<secs> <tz>` /
/// `<secs> <tz>`, RFC 2822 and ISO 8601 / RFC 3339.
pub fn parse_git_date(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    let raw = text.strip_prefix('@').unwrap_or(text);
    let mut parts = raw.split_whitespace();
    if let (Some(secs), tz, None) = (parts.next(), parts.next(), parts.next()) {
        if let Ok(secs) = secs.parse::<i64>() {
            let offset = match tz {
                Some(tz) => parse_offset(tz)?,
                None => FixedOffset::east_opt(0)?,
            };
            return offset.timestamp_opt(secs, 0).single();
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(text) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d);
    }
    for format in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(text, format) {
            return Some(d);
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(d.and_utc().fixed_offset());
        }
    }
    None
}

/// `+0200` / `-0730` as git writes offsets.
fn parse_offset(tz: &str) -> Option<FixedOffset> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_internal_and_iso_dates() {
        let d = parse_git_date("@1710135045 -0700").unwrap();
        assert_eq!(d.timestamp(), 1710135045);
        assert_eq!(d.offset().local_minus_utc(), -7 * 3600);
        assert_eq!(
            parse_git_date("2024-03-10T22:30:45Z").unwrap().timestamp(),
            1710109845
        );
        assert!(parse_git_date("yesterday-ish").is_none());
    }
}
