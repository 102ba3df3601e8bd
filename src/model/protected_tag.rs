//! Protected tags, as `.git-release.toml` declares them:
//!
//! ```toml
//! [[protected_tag]]
//! pattern = "v*"                                   # GitLab's wildcard: `*` is any run of characters
//! role = "maintainer"                              # who may release on it (default maintainer)
//! allowed_signers = ".git-release/allowed_signers" # ssh-keygen's allowed-signers format
//! allowed_fingerprints = ["0123…"]                 # OpenPGP fingerprints
//! signed = "tag"                                   # tag | evidence | tag-or-evidence
//! ```
//!
//! The file may come from anyone's clone, so it is read strictly: an unknown key, a
//! bad value or a table spelt almost right is an error naming its line, never a rule
//! silently dropped. This module only parses and matches; where the file is read from
//! and how signatures are checked are `git::protection` and `audit::protected`.

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::model::role::Role;

/// The TOML key of the tables.
pub const TABLE: &str = "protected_tag";

/// A tag name with `*` wildcards, matched as GitLab matches protected tags: without a
/// `*` the name itself; with one, `*` stands for any run of characters (`/` included),
/// and the whole name must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPattern(String);

impl TagPattern {
    /// A pattern that could match a tag git accepts: with each `*` read as a letter,
    /// it must be a valid tag name.
    pub fn parse(text: &str) -> std::result::Result<TagPattern, String> {
        if text.is_empty() {
            return Err("it is empty".into());
        }
        let probe = text.replace('*', "x");
        crate::model::TagName::parse(&probe).map_err(|e| match e {
            Error::InvalidTagName { reason, .. } => format!("no tag can match it: {reason}"),
            other => other.to_string(),
        })?;
        Ok(TagPattern(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, tag: &str) -> bool {
        let mut parts = self.0.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = tag.strip_prefix(first) else {
            return false;
        };
        let middle: Vec<&str> = parts.collect();
        let Some((last, middle)) = middle.split_last() else {
            // No `*`: the name itself.
            return rest.is_empty();
        };
        // Each middle part at its first place (the leftmost choice leaves the most
        // room for the rest), then the last part at the end.
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

/// Who may create, update and delete the releases on a protected tag (GitLab's
/// "Allowed to create" of the tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowedRole {
    /// This role and those above it.
    AtLeast(Role),
    /// Nobody, through `serve`.
    NoOne,
}

impl AllowedRole {
    pub fn permits(self, role: Role) -> bool {
        match self {
            AllowedRole::AtLeast(least) => role >= least,
            AllowedRole::NoOne => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AllowedRole::AtLeast(role) => role.as_str(),
            AllowedRole::NoOne => "no_one",
        }
    }

    fn parse(text: &str) -> std::result::Result<AllowedRole, String> {
        if text == "no_one" {
            return Ok(AllowedRole::NoOne);
        }
        match Role::parse(text) {
            Ok(role @ (Role::Developer | Role::Maintainer | Role::Owner)) => {
                Ok(AllowedRole::AtLeast(role))
            }
            Ok(role) => Err(format!(
                "a {role} cannot create tags, so cannot release on one: expected developer, maintainer, owner or no_one"
            )),
            Err(_) => Err(format!(
                "unknown role {text:?}: expected developer, maintainer, owner or no_one"
            )),
        }
    }
}

/// What must carry a signature by an allowed key for a protected tag to pass the
/// offline checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPart {
    /// The annotated tag itself, as `git tag -s` signs it.
    Tag,
    /// An evidence snapshot of the tag's release (`evidence collect --sign`), which
    /// records the tag object and commit it was taken of.
    Evidence,
    /// Either will do.
    TagOrEvidence,
}

impl SignedPart {
    pub fn as_str(self) -> &'static str {
        match self {
            SignedPart::Tag => "tag",
            SignedPart::Evidence => "evidence",
            SignedPart::TagOrEvidence => "tag-or-evidence",
        }
    }

    pub fn tag(self) -> bool {
        matches!(self, SignedPart::Tag | SignedPart::TagOrEvidence)
    }

    pub fn evidence(self) -> bool {
        matches!(self, SignedPart::Evidence | SignedPart::TagOrEvidence)
    }

    fn parse(text: &str) -> std::result::Result<SignedPart, String> {
        match text {
            "tag" => Ok(SignedPart::Tag),
            "evidence" => Ok(SignedPart::Evidence),
            "tag-or-evidence" => Ok(SignedPart::TagOrEvidence),
            _ => Err(format!(
                "unknown value {text:?}: expected tag, evidence or tag-or-evidence"
            )),
        }
    }
}

/// One `[[protected_tag]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedTag {
    pub pattern: TagPattern,
    pub role: AllowedRole,
    /// A file in ssh-keygen's allowed-signers format: a path in the same tree as the
    /// rules (a committed file), or beside a rules file given outside the repository.
    pub allowed_signers: Option<String>,
    /// OpenPGP fingerprints (upper-case hex, no spaces).
    pub allowed_fingerprints: Vec<String>,
    pub signed: SignedPart,
    /// The line of the table's `pattern`, for messages.
    pub line: usize,
}

impl ProtectedTag {
    /// Whether the offline checks have keys to check signatures against (a rule with
    /// none restricts who may release through `serve` only).
    pub fn has_keys(&self) -> bool {
        self.allowed_signers.is_some() || !self.allowed_fingerprints.is_empty()
    }

    /// Whether `fingerprint` (an OpenPGP fingerprint, any case) is one of the allowed.
    pub fn allows_fingerprint(&self, fingerprint: &str) -> bool {
        let wanted = normalise_fingerprint(fingerprint);
        self.allowed_fingerprints.contains(&wanted)
    }
}

/// Every protected-tag rule of one file, and where it was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtectedTags {
    pub rules: Vec<ProtectedTag>,
    /// Where the rules were read from (`origin/main:.git-release.toml`), for messages.
    pub location: String,
}

impl ProtectedTags {
    /// The rules matching `tag`, in file order.
    pub fn matching<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a ProtectedTag> + 'a {
        self.rules.iter().filter(move |r| r.pattern.matches(tag))
    }

    pub fn is_protected(&self, tag: &str) -> bool {
        self.matching(tag).next().is_some()
    }

    /// Whether someone with `role` may create, update or delete a release on `tag`: a
    /// tag nobody protected, or one rule matching it allows the role (as GitLab lets a
    /// user through when any matching protected tag does). The refusing rule otherwise.
    pub fn permits(&self, tag: &str, role: Role) -> std::result::Result<(), &ProtectedTag> {
        let mut refusing = None;
        for rule in self.rules.iter().filter(|r| r.pattern.matches(tag)) {
            if rule.role.permits(role) {
                return Ok(());
            }
            refusing.get_or_insert(rule);
        }
        refusing.map_or(Ok(()), Err)
    }

    /// `protected_tag "v*" (origin/main:.git-release.toml line 3)`.
    pub fn describe(&self, rule: &ProtectedTag) -> String {
        format!(
            "protected_tag {:?} ({} line {})",
            rule.pattern.as_str(),
            self.location,
            rule.line
        )
    }

    /// Reads the `[[protected_tag]]` tables of a `.git-release.toml`'s text (other
    /// tables are the project file's business). Anything not understood is an error
    /// naming `location` and the line.
    pub fn parse(text: &str, location: &str) -> Result<ProtectedTags> {
        let bad = |line: usize, reason: String| Error::InvalidFile {
            location: location.to_owned(),
            line: Some(line),
            reason,
        };
        let from_toml = |e: toml::de::Error| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            bad(line, e.message().trim_end().to_owned())
        };
        let table: toml::Table = toml::from_str(text).map_err(from_toml)?;
        // A misspelt table would protect nothing without a word: refused.
        for key in table.keys() {
            let squashed: String = key
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if key != TABLE && squashed.trim_end_matches('s') == "protectedtag" {
                return Err(bad(
                    header_line(text, key),
                    format!("unknown table {key:?}: protected tags are [[{TABLE}]] tables"),
                ));
            }
        }
        match table.get(TABLE) {
            None => {
                return Ok(ProtectedTags {
                    rules: Vec::new(),
                    location: location.to_owned(),
                });
            }
            Some(toml::Value::Array(items)) if items.iter().all(toml::Value::is_table) => {}
            Some(_) => {
                return Err(bad(
                    header_line(text, TABLE),
                    format!("{TABLE} must be an array of tables, each written [[{TABLE}]]"),
                ));
            }
        }
        let file: RawFile = toml::from_str(text).map_err(from_toml)?;
        let mut rules = Vec::new();
        for raw in file.protected_tag {
            rules.push(raw.into_rule(text, &bad)?);
        }
        Ok(ProtectedTags {
            rules,
            location: location.to_owned(),
        })
    }
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    protected_tag: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    pattern: Spanned<String>,
    role: Option<Spanned<String>>,
    allowed_signers: Option<Spanned<String>>,
    allowed_fingerprints: Option<Spanned<Vec<Spanned<String>>>>,
    signed: Option<Spanned<String>>,
}

impl RawRule {
    fn into_rule(self, text: &str, bad: &dyn Fn(usize, String) -> Error) -> Result<ProtectedTag> {
        let at = |span: std::ops::Range<usize>| line_of(text, span.start);
        let line = at(self.pattern.span());
        let pattern = TagPattern::parse(self.pattern.get_ref()).map_err(|reason| {
            bad(
                line,
                format!("pattern {:?}: {reason}", self.pattern.get_ref()),
            )
        })?;
        let role = match &self.role {
            Some(role) => AllowedRole::parse(role.get_ref())
                .map_err(|reason| bad(at(role.span()), format!("role: {reason}")))?,
            None => AllowedRole::AtLeast(Role::Maintainer),
        };
        let allowed_signers = match &self.allowed_signers {
            Some(path) if path.get_ref().trim().is_empty() => {
                return Err(bad(
                    at(path.span()),
                    "allowed_signers: it is empty; name an allowed-signers file".into(),
                ));
            }
            Some(path) => Some(path.get_ref().clone()),
            None => None,
        };
        let mut allowed_fingerprints = Vec::new();
        if let Some(list) = &self.allowed_fingerprints {
            for fingerprint in list.get_ref() {
                let normalised = normalise_fingerprint(fingerprint.get_ref());
                let hex = normalised.chars().all(|c| c.is_ascii_hexdigit());
                if !hex || !(normalised.len() == 40 || normalised.len() == 64) {
                    return Err(bad(
                        at(fingerprint.span()),
                        format!(
                            "allowed_fingerprints: {:?} is not an OpenPGP fingerprint (40 or 64 hex digits, \
                             as `gpg --fingerprint` prints them; a key id is not enough)",
                            fingerprint.get_ref()
                        ),
                    ));
                }
                allowed_fingerprints.push(normalised);
            }
        }
        let signed = match &self.signed {
            Some(value) => SignedPart::parse(value.get_ref())
                .map_err(|reason| bad(at(value.span()), format!("signed: {reason}")))?,
            None => SignedPart::Tag,
        };
        let rule = ProtectedTag {
            pattern,
            role,
            allowed_signers,
            allowed_fingerprints,
            signed,
            line,
        };
        if let Some(value) = self.signed.as_ref().filter(|_| !rule.has_keys()) {
            return Err(bad(
                at(value.span()),
                "signed: there are no keys to check a signature against \
                 (add allowed_signers or allowed_fingerprints)"
                    .into(),
            ));
        }
        Ok(rule)
    }
}

/// An OpenPGP fingerprint as compared: upper-case hex, without the spaces
/// `gpg --fingerprint` prints, or a `0x` in front.
pub fn normalise_fingerprint(text: &str) -> String {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    text.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line of the first table header naming `key` (`[key]`, `[[key]]`, quoted or
/// not), else the first line mentioning it.
fn header_line(text: &str, key: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|line| {
        let line = line.trim_start();
        line.starts_with('[') && line.contains(key)
    });
    header
        .or_else(|| lines.iter().position(|line| line.contains(key)))
        .map_or(1, |n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> TagPattern {
        TagPattern::parse(text).unwrap()
    }

    #[test]
    fn patterns_match_as_gitlabs_wildcards() {
        let cases = [
            ("v*", "v1.0", true),
            ("v*", "v", true),
            ("v*", "release/v1", false),
            ("*", "any/thing", true),
            ("release/*", "release/2.0/rc1", true),
            ("v1.0", "v1.0", true),
            ("v1.0", "v1.0.1", false),
            ("v*-rc*", "v1.0-rc1", true),
            ("v*-rc*", "v1.0", false),
            ("*-stable", "1-stable", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("v.*", "v1", false),
        ];
        for (p, tag, want) in cases {
            assert_eq!(pattern(p).matches(tag), want, "{p} ~ {tag}");
        }
        assert!(TagPattern::parse("").is_err());
        assert!(TagPattern::parse("v 1*").is_err());
        assert!(TagPattern::parse("v..*").is_err());
    }

    const FILE: &str = r#"[project]
name = "app"

[[protected_tag]]
pattern = "v*"
allowed_signers = ".git-release/allowed_signers"

[[protected_tag]]
pattern = "release/*"
role = "developer"
allowed_fingerprints = ["0123 4567 89AB CDEF 0123  4567 89ab cdef 0123 4567"]
signed = "tag-or-evidence"

[[protected_tag]]
pattern = "frozen-*"
role = "no_one"
"#;

    #[test]
    fn rules_are_read_with_their_lines_and_defaults() {
        let rules = ProtectedTags::parse(FILE, ".git-release.toml").unwrap();
        assert_eq!(rules.rules.len(), 3);
        let first = &rules.rules[0];
        assert_eq!(first.line, 5);
        assert_eq!(first.role, AllowedRole::AtLeast(Role::Maintainer));
        assert_eq!(first.signed, SignedPart::Tag);
        let second = &rules.rules[1];
        assert_eq!(
            second.allowed_fingerprints,
            ["0123456789ABCDEF0123456789ABCDEF01234567"]
        );
        assert!(second.allows_fingerprint("0123456789abcdef0123456789abcdef01234567"));
        assert_eq!(
            rules.describe(first),
            "protected_tag \"v*\" (.git-release.toml line 5)"
        );
        assert_eq!(rules.permits("v1", Role::Developer), Err(first));
        assert_eq!(rules.permits("v1", Role::Maintainer), Ok(()));
        assert_eq!(rules.permits("release/1", Role::Developer), Ok(()));
        assert!(rules.permits("frozen-1", Role::Owner).is_err());
        assert_eq!(rules.permits("other", Role::Guest), Ok(()));
        assert!(!rules.is_protected("other"));
    }

    #[test]
    fn bad_tables_are_errors_naming_their_line() {
        let cases = [
            ("[[protected_tag]]\npatern = \"v*\"\n", 2, "patern"),
            ("[[protected_tag]]\nrole = \"maintainer\"\n", 1, "pattern"),
            (
                "\n[[protected_tag]]\npattern = \"v*\"\nrole = \"admin\"\n",
                4,
                "admin",
            ),
            (
                "[[protected_tag]]\npattern = \"v*\"\nrole = \"reporter\"\n",
                3,
                "cannot create tags",
            ),
            (
                "[[protected_tag]]\npattern = \"v *\"\n",
                2,
                "no tag can match",
            ),
            (
                "[[protected_tag]]\npattern = \"v*\"\nallowed_fingerprints = [\"DEADBEEF\"]\n",
                3,
                "fingerprint",
            ),
            (
                "[[protected_tag]]\npattern = \"v*\"\nsigned = \"evidence\"\n",
                3,
                "no keys",
            ),
            (
                "[[protected_tag]]\npattern = \"v*\"\nsigned = \"both\"\n",
                3,
                "tag-or-evidence",
            ),
            (
                "x = 1\n[[protected_tags]]\npattern = \"v*\"\n",
                2,
                "[[protected_tag]]",
            ),
            ("[protected_tag]\npattern = \"v*\"\n", 1, "array of tables"),
            ("[[protected_tag]]\npattern = 3\n", 2, "string"),
            ("[[protected_tag]\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let err = ProtectedTags::parse(text, "f.toml").unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("f.toml, line {line}: ")) && shown.contains(needle),
                "{text:?}: {shown}"
            );
        }
    }
}
