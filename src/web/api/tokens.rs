//! The tokens `serve` accepts and whom each stands for.
//!
//! `--tokens FILE` holds `[[token]]` tables, one per user, with GitLab's roles:
//!
//! ```toml
//! [[token]]
//! token = "glpat-…"            # or token_sha256 = "<64 hex digits>" (sha256 of the token)
//! username = "dev"
//! name = "Dee Veloper"         # default: the username
//! email = "dev@example.com"
//! role = "developer"           # guest | reporter | developer | maintainer | owner
//! ```
//!
//! The single-token options (`GIT_RELEASE_SERVE_TOKEN`, `--token-file` with a token a
//! line) keep working: such a token is a maintainer acting as the repository's git
//! identity. Tokens are kept only as SHA-256 digests and compared in constant time.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::model::protected_tag::line_of;
use crate::model::{Person, Role};

/// The environment variable holding one accepted token.
pub const TOKEN_VARIABLE: &str = "GIT_RELEASE_SERVE_TOKEN";

/// Whom a `[[token]]` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    pub name: String,
    pub email: String,
}

impl User {
    /// The user as a release's author (GitLab's user shape: the username kept, the
    /// integer id derived from the email as for any git identity).
    pub fn person(&self) -> Person {
        Person {
            name: self.name.clone(),
            email: self.email.clone(),
            username: Some(self.username.clone()),
            ..Person::default()
        }
    }
}

/// One accepted token: its digest, whom it stands for (`None`: the repository's git
/// identity) and the role it has.
#[derive(Clone)]
struct Entry {
    digest: [u8; 32],
    user: Option<User>,
    role: Role,
}

/// The accepted tokens.
#[derive(Clone, Default)]
pub struct Tokens {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.entries.len())
    }
}

/// Who a request's token says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `None`: a single-option token, acting as the repository's git identity.
    pub user: Option<User>,
    pub role: Role,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b) {
        difference |= x ^ y;
    }
    // Keeps the compiler from turning the loop into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

impl Tokens {
    /// `GIT_RELEASE_SERVE_TOKEN`, the lines of `token_file` (blank lines and `#`
    /// comments skipped) — maintainers all — and the users of `users_file`. A users
    /// file that is not understood is an error naming its line.
    pub fn load(token_file: Option<&Path>, users_file: Option<&Path>) -> Result<Tokens> {
        let mut tokens = Tokens::default();
        if let Ok(value) = std::env::var(TOKEN_VARIABLE) {
            tokens.add(&value);
        }
        if let Some(path) = token_file {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
                path: path.to_path_buf(),
                source,
            })?;
            for line in text.lines() {
                let line = line.trim();
                if !line.starts_with('#') {
                    tokens.add(line);
                }
            }
        }
        if let Some(path) = users_file {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
                path: path.to_path_buf(),
                source,
            })?;
            tokens.add_users(&text, &path.display().to_string())?;
        }
        Ok(tokens)
    }

    /// A token of the single-token options: a maintainer, as the git identity.
    pub fn add(&mut self, token: &str) {
        let token = token.trim();
        if !token.is_empty() {
            self.entries.push(Entry {
                digest: digest(token),
                user: None,
                role: Role::Maintainer,
            });
        }
    }

    /// The `[[token]]` tables of a tokens file's text.
    pub fn add_users(&mut self, text: &str, location: &str) -> Result<()> {
        let bad = |line: usize, reason: String| Error::InvalidFile {
            location: location.to_owned(),
            line: Some(line),
            reason,
        };
        let file: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            bad(line, e.message().trim_end().to_owned())
        })?;
        // A file given on purpose that lists nobody is a mistake (a wrong file, an
        // emptied one), not a server nobody may use: said at start.
        if file.token.is_empty() {
            return Err(bad(
                1,
                "it has no [[token]] table: each user is a [[token]] table with token (or \
                 token_sha256), username, email and role"
                    .into(),
            ));
        }
        for raw in file.token {
            let line = line_of(text, raw.username.span().start);
            let at = |span: std::ops::Range<usize>| line_of(text, span.start);
            let digest = match (&raw.token, &raw.token_sha256) {
                (Some(token), None) => {
                    if token.get_ref().trim().is_empty() {
                        return Err(bad(at(token.span()), "token: it is empty".into()));
                    }
                    if token.get_ref().trim() != token.get_ref() {
                        return Err(bad(
                            at(token.span()),
                            "token: it has blanks around it, which a client would not send".into(),
                        ));
                    }
                    digest(token.get_ref())
                }
                (None, Some(hex)) => parse_digest(hex.get_ref()).ok_or_else(|| {
                    bad(
                        at(hex.span()),
                        "token_sha256: expected the SHA-256 of the token, 64 hex digits \
                         (`printf %s TOKEN | sha256sum`)"
                            .into(),
                    )
                })?,
                (Some(_), Some(_)) => {
                    return Err(bad(line, "give token or token_sha256, not both".into()));
                }
                (None, None) => {
                    return Err(bad(
                        line,
                        "the table has neither token nor token_sha256".into(),
                    ));
                }
            };
            let username = raw.username.get_ref().trim();
            if username.is_empty()
                || username
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(bad(
                    at(raw.username.span()),
                    format!("username {username:?}: one word, as GitLab's usernames are"),
                ));
            }
            let email = raw.email.get_ref().trim();
            if !email.contains('@') || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad(
                    at(raw.email.span()),
                    format!("email {email:?}: expected an email address"),
                ));
            }
            let name = match &raw.name {
                Some(name) => {
                    crate::model::text::check("name", name.get_ref())
                        .map_err(|e| bad(at(name.span()), e.to_string()))?;
                    name.get_ref().trim().to_owned()
                }
                None => username.to_owned(),
            };
            let role = Role::parse(raw.role.get_ref())
                .map_err(|reason| bad(at(raw.role.span()), format!("role: {reason}")))?;
            if self
                .entries
                .iter()
                .any(|e| constant_time_eq(&e.digest, &digest))
            {
                // The line of the repeated token itself.
                let token_line = raw
                    .token
                    .as_ref()
                    .map(|t| at(t.span()))
                    .or_else(|| raw.token_sha256.as_ref().map(|t| at(t.span())))
                    .unwrap_or(line);
                return Err(bad(
                    token_line,
                    "this token is already given (each token stands for one user)".into(),
                ));
            }
            self.entries.push(Entry {
                digest,
                user: Some(User {
                    username: username.to_owned(),
                    name,
                    email: email.to_owned(),
                }),
                role,
            });
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whom `token` stands for; every configured token is compared, whichever
    /// matches.
    pub fn member(&self, token: &str) -> Option<Member> {
        let given = digest(token);
        let mut found = None;
        for entry in &self.entries {
            if constant_time_eq(&entry.digest, &given) && found.is_none() {
                found = Some(Member {
                    user: entry.user.clone(),
                    role: entry.role,
                });
            }
        }
        found
    }
}

fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    token: Vec<RawToken>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    token: Option<Spanned<String>>,
    token_sha256: Option<Spanned<String>>,
    username: Spanned<String>,
    name: Option<Spanned<String>>,
    email: Spanned<String>,
    role: Spanned<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# who may do what
[[token]]
token = "g-token"
username = "gus"
email = "gus@example.com"
role = "guest"

[[token]]
token_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
username = "mia"
name = "Mia Maintainer"
email = "mia@example.com"
role = "Maintainer"
"#;

    #[test]
    fn users_are_read_with_their_roles() {
        let mut tokens = Tokens::default();
        tokens.add("single");
        tokens.add_users(FILE, "tokens.toml").unwrap();
        let gus = tokens.member("g-token").unwrap();
        assert_eq!(gus.role, Role::Guest);
        assert_eq!(gus.user.as_ref().unwrap().name, "gus");
        // sha256("abc")
        let mia = tokens.member("abc").unwrap();
        assert_eq!(mia.role, Role::Maintainer);
        assert_eq!(mia.user.unwrap().name, "Mia Maintainer");
        let single = tokens.member("single").unwrap();
        assert_eq!((single.user, single.role), (None, Role::Maintainer));
        assert_eq!(tokens.member("g-toke"), None);
    }

    #[test]
    fn bad_tables_are_errors_naming_their_line() {
        let table = |body: &str| format!("\n[[token]]\n{body}");
        let ok = "token = \"t\"\nusername = \"u\"\nemail = \"u@x\"\nrole = \"developer\"\n";
        let cases = [
            (table(&ok.replace("role", "rol")), 6, "rol"),
            (table(&ok.replace("\"developer\"", "\"admin\"")), 6, "admin"),
            (table(&ok.replace("u@x", "nobody")), 5, "email"),
            (
                table(&ok.replace("token = \"t\"", "token = \"\"")),
                3,
                "empty",
            ),
            (
                table(&ok.replace("token = \"t\"", "token_sha256 = \"abc\"")),
                3,
                "64 hex",
            ),
            (table(&ok.replace("token = \"t\"\n", "")), 3, "neither"),
            (format!("{}{}", table(ok), table(ok)), 9, "already given"),
            (format!("[tokens]\na = 1\n{}", table(ok)), 1, "tokens"),
            ("[[token]]\nusername = 3\n".to_owned(), 2, "string"),
            ("# nobody yet\n".to_owned(), 1, "no [[token]] table"),
            (String::new(), 1, "no [[token]] table"),
        ];
        for (text, line, needle) in cases {
            let err = Tokens::default().add_users(&text, "t.toml").unwrap_err();
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("t.toml, line {line}: ")) && shown.contains(needle),
                "{text:?}: {shown}"
            );
        }
    }
}
