//! Tag names: `git check-ref-format` rules for `refs/tags/<name>`, plus GitLab's (no
//! leading `-`, not `HEAD`).

use std::fmt;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagName(String);

/// The longest new tag name, in bytes (and the longest part between slashes of any).
pub const MAX_BYTES: usize = 255;

/// The longest existing tag name looked up, in bytes (a path git can still open).
const MAX_PATH_BYTES: usize = 4000;

impl TagName {
    pub fn parse(name: &str) -> Result<Self> {
        let refuse = |reason: &str| {
            Err(Error::InvalidTagName {
                name: name.into(),
                reason: reason.into(),
            })
        };
        if name.is_empty() {
            return refuse("a tag name cannot be empty");
        }
        // A ref is a file in .git/refs/tags: a part longer than a file name can be
        // fails on every common file system (with an error naming the server's path).
        if name.split('/').any(|part| part.len() > MAX_BYTES) || name.len() > MAX_PATH_BYTES {
            return refuse(&format!(
                "a tag name is at most {MAX_BYTES} bytes between slashes"
            ));
        }
        if name.starts_with('-') {
            return refuse("a tag name cannot start with '-'");
        }
        if name == "HEAD" {
            return refuse("HEAD is not allowed as a tag name");
        }
        if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
            return refuse("a tag name cannot start or end with '/' or contain '//'");
        }
        if name.ends_with('.') {
            return refuse("a tag name cannot end with '.'");
        }
        if name.contains("..") {
            return refuse("a tag name cannot contain '..'");
        }
        if name.contains("@{") {
            return refuse("a tag name cannot contain '@{'");
        }
        if let Some(c) = name.chars().find(|&c| {
            c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        }) {
            return refuse(&format!(
                "a tag name cannot contain {c:?} (no spaces, control characters or any of ~ ^ : ? * [ \\)"
            ));
        }
        for component in name.split('/') {
            if component.starts_with('.') {
                return refuse("no part of a tag name between slashes can start with '.'");
            }
            if component.ends_with(".lock") {
                return refuse("no part of a tag name between slashes can end with '.lock'");
            }
        }
        Ok(TagName(name.to_owned()))
    }

    /// A name for a tag about to be made: also refuses names spelt like a full ref
    /// (`refs/heads/main` would become `refs/tags/refs/heads/main`, which git then
    /// resolves ambiguously). Existing tags are still reached by `parse`.
    pub fn parse_new(name: &str) -> Result<Self> {
        let tag = Self::parse(name)?;
        if name.len() > MAX_BYTES {
            return Err(Error::InvalidTagName {
                name: name.into(),
                reason: format!("a tag name is at most {MAX_BYTES} bytes"),
            });
        }
        if let Some(c) = name
            .chars()
            .find(|&c| crate::model::text::is_noncharacter(c))
        {
            return Err(Error::InvalidTagName {
                name: name.into(),
                reason: format!(
                    "a tag name cannot contain U+{:04X}, a Unicode noncharacter",
                    u32::from(c)
                ),
            });
        }
        if let Some(rest) = name.strip_prefix("refs/") {
            let plain = rest
                .strip_prefix("tags/")
                .or_else(|| rest.strip_prefix("heads/"))
                .unwrap_or(rest);
            return Err(Error::InvalidTagName {
                name: name.into(),
                reason: format!(
                    "a tag name cannot start with \"refs/\": it would be the ambiguous ref \
                     refs/tags/{name} (did you mean {plain:?}?)"
                ),
            });
        }
        Ok(tag)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn ref_name(&self) -> String {
        format!("refs/tags/{}", self.0)
    }
}

/// A tag name reads as the string it is (`release::find(repo, &tag)`).
impl std::ops::Deref for TagName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TagName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        Self::parse(name)
    }
}

/// What a tag argument names, the same way in every command: GitLab's
/// `permalink/latest`, or a tag. A leading `tags/` is stripped once, so `tags/latest` is
/// the tag `latest` and a tag literally named `tags/foo` is written `tags/tags/foo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `latest`: the first release in `released_at desc` order.
    Latest,
    Tag(TagName),
}

/// The keyword that names the latest release.
pub const LATEST: &str = "latest";

impl Selector {
    /// Parses a `<tag|latest>` argument (a clap value parser: a bad name is a usage
    /// error before any work).
    pub fn parse(text: &str) -> Result<Self> {
        if text == LATEST {
            return Ok(Selector::Latest);
        }
        let name = text.strip_prefix("tags/").unwrap_or(text);
        Ok(Selector::Tag(TagName::parse(name)?))
    }

    /// The tag, when the argument names one (not `latest`).
    pub fn tag(&self) -> Option<&TagName> {
        match self {
            Selector::Latest => None,
            Selector::Tag(tag) => Some(tag),
        }
    }
}

impl std::str::FromStr for Selector {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Self::parse(text)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Latest => f.write_str(LATEST),
            // Written back as it must be typed: a tag named like the keyword, or
            // starting with `tags/`, gets its `tags/` again.
            Selector::Tag(tag) if tag.as_str() == LATEST || tag.as_str().starts_with("tags/") => {
                write!(f, "tags/{tag}")
            }
            Selector::Tag(tag) => write!(f, "{tag}"),
        }
    }
}

impl TagName {
    /// A tag argument that must name a tag (create's): parsed as [`Selector`], with
    /// `latest` refused, as it names the latest release, not a tag.
    pub fn from_argument(text: &str) -> Result<Self> {
        match Selector::parse(text)? {
            Selector::Tag(tag) => Ok(tag),
            Selector::Latest => Err(Error::InvalidTagName {
                name: text.into(),
                reason:
                    "\"latest\" names the latest release; write tags/latest for a tag named latest"
                        .into(),
            }),
        }
    }
}

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_git_accepts() {
        for ok in [
            "v1.2.0",
            "release/2024-03",
            "a@b",
            "@",
            "ünïcode",
            "v1.0-rc.1+build",
        ] {
            assert!(TagName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn new_tags_named_like_refs_are_refused() {
        assert!(TagName::parse("refs/heads/main").is_ok());
        let err = TagName::parse_new("refs/heads/main")
            .unwrap_err()
            .to_string();
        assert!(err.contains("did you mean \"main\""), "{err}");
        assert!(TagName::parse_new("release/refs").is_ok());
        let long = vec!["d"; 200].join("/");
        assert!(TagName::parse(&long).is_ok(), "an existing tag is reached");
        assert!(
            TagName::parse_new(&long).is_err(),
            "a new one is at most 255 bytes"
        );
        assert!(TagName::parse_new(&vec!["d"; 128].join("/")).is_ok());
        assert!(TagName::parse_new("x\u{fffe}").is_err());
    }

    #[test]
    fn selectors_strip_one_tags_prefix() {
        let tag = |s: &str| Selector::Tag(TagName::parse(s).unwrap());
        assert_eq!(Selector::parse("latest").unwrap(), Selector::Latest);
        assert_eq!(Selector::parse("tags/latest").unwrap(), tag("latest"));
        assert_eq!(Selector::parse("tags/foo").unwrap(), tag("foo"));
        assert_eq!(Selector::parse("tags/tags/foo").unwrap(), tag("tags/foo"));
        assert_eq!(Selector::parse("v1").unwrap(), tag("v1"));
        assert!(Selector::parse("tags/").is_err());
        for text in ["latest", "tags/latest", "v1", "tags/tags/foo"] {
            assert_eq!(Selector::parse(text).unwrap().to_string(), text);
        }
        assert!(TagName::from_argument("latest").is_err());
        assert_eq!(
            TagName::from_argument("tags/latest").unwrap().as_str(),
            "latest"
        );
    }

    #[test]
    fn refuses_what_git_or_gitlab_refuse() {
        for bad in [
            "",
            "-v1",
            "HEAD",
            "/v1",
            "v1/",
            "a//b",
            "v1.",
            "a..b",
            "a@{1}",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            ".hidden",
            "x/.y",
            "v1.lock",
            "x.lock/y",
            "tab\t",
            "nul\0",
            &"x".repeat(256),
        ] {
            assert!(TagName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
