//! The tokens a server accepts, kept as digests and compared in constant time. Apart
//! from `auth` (which decides what a request may do) so that the server's options,
//! which hold them, do not depend on the code that reads the options.

use std::path::Path;

use sha2::{Digest, Sha256};

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

    pub(super) fn accepts(&self, token: &str) -> bool {
        let given = digest(token);
        // Every configured token is compared, whichever matches.
        self.digests
            .iter()
            .fold(false, |found, d| constant_time_eq(d, &given) | found)
    }
}
