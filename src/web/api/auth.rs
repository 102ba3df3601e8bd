//! Tokens, as GitLab takes them: `PRIVATE-TOKEN`, `Authorization: Bearer`, `JOB-TOKEN`
//! (or the `private_token` / `job_token` query parameters). Writes need one; reads need
//! one only with `--require-token-for-reads`.

use std::path::Path;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::error::{Error, Result};

/// The environment variable holding one accepted token.
pub const TOKEN_VARIABLE: &str = "GIT_RELEASE_SERVE_TOKEN";

/// The accepted tokens, kept as SHA-256 digests: comparing two digests of equal length
/// in constant time says nothing about how much of a guess was right, nor how long the
/// real token is.
#[derive(Clone, Default)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} configured)", self.digests.len())
    }
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
    /// `GIT_RELEASE_SERVE_TOKEN` and the lines of `file` (blank lines and `#` comments
    /// skipped).
    pub fn load(file: Option<&Path>) -> Result<Tokens> {
        let mut tokens = Tokens::default();
        if let Ok(value) = std::env::var(TOKEN_VARIABLE) {
            tokens.add(&value);
        }
        if let Some(path) = file {
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
        Ok(tokens)
    }

    pub fn add(&mut self, token: &str) {
        let token = token.trim();
        if !token.is_empty() {
            self.digests.push(digest(token));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    fn accepts(&self, token: &str) -> bool {
        let given = digest(token);
        // Every configured token is compared, whichever matches.
        self.digests
            .iter()
            .fold(false, |found, d| constant_time_eq(d, &given) | found)
    }
}

/// The token a request carries, if any.
fn presented(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(token) = header("private-token").or_else(|| header("job-token")) {
        return Some(token);
    }
    if let Some(value) = header("authorization") {
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_owned());
    }
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        matches!(key, "private_token" | "job_token")
            .then(|| crate::url::unescape(&value.replace('+', " ")))
            .flatten()
    })
}

/// Whether the request carries an accepted token.
pub fn has_valid_token(tokens: &Tokens, headers: &HeaderMap, query: Option<&str>) -> bool {
    presented(headers, query).is_some_and(|t| tokens.accepts(&t))
}

/// A write: refused (403) when the server is read-only or has no token to check
/// against; 401 without an accepted token.
pub fn authorize_write(
    options: &super::Options,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), ApiError> {
    if options.read_only || options.tokens.is_empty() {
        return Err(ApiError::forbidden());
    }
    if !has_valid_token(&options.tokens, headers, query) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

/// A read: open, unless `--require-token-for-reads`. A token that is given but wrong
/// is a 401 even so, as GitLab answers it (when there are tokens to check against).
pub fn authorize_read(
    options: &super::Options,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<(), ApiError> {
    let token = presented(headers, query);
    let accepted = token.as_deref().is_some_and(|t| options.tokens.accepts(t));
    let wrong = token.is_some() && !accepted && !options.tokens.is_empty();
    if wrong || (options.require_token_for_reads && !accepted) {
        return Err(ApiError::unauthorized());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn accepts_each_way_gitlab_takes_a_token() {
        let mut tokens = Tokens::default();
        tokens.add("s3cret");
        tokens.add("other");
        for h in [
            headers(&[("private-token", "s3cret")]),
            headers(&[("job-token", "other")]),
            headers(&[("authorization", "Bearer s3cret")]),
        ] {
            assert!(has_valid_token(&tokens, &h, None));
        }
        assert!(has_valid_token(
            &tokens,
            &HeaderMap::new(),
            Some("a=1&private_token=s3cret")
        ));
        assert!(!has_valid_token(
            &tokens,
            &headers(&[("private-token", "s3cre")]),
            None
        ));
        assert!(!has_valid_token(
            &tokens,
            &headers(&[("authorization", "Basic s3cret")]),
            None
        ));
        assert!(!has_valid_token(&tokens, &HeaderMap::new(), None));
    }

    #[test]
    fn token_files_skip_blanks_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# ci\n\n  first  \nsecond\n").unwrap();
        let tokens = Tokens::load(Some(&path)).unwrap();
        assert!(tokens.accepts("first"));
        assert!(tokens.accepts("second"));
        assert!(!tokens.accepts("# ci"));
        assert!(!tokens.accepts(""));
    }
}
