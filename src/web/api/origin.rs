//! The server's own origin: the scheme, host and port every URL in a response is built
//! on (JSON URLs, `Link` headers, redirects, Atom ids, page links).
//!
//! It is never taken from a request unless allowed: `--base-url` when given (behind a
//! proxy); else the address the server listens on when it is a concrete one; a `Host`
//! header only when it is one of `--allowed-host`. A wildcard listen address
//! (`0.0.0.0`, `::`) names no host a client can reach, so it needs `--base-url` or an
//! allowed host.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Origin {
    /// What URLs are built on unless an allowed `Host` says otherwise.
    default: String,
    /// Allowed `Host` values, lowercase.
    allowed: Vec<String>,
    /// `--base-url` was given: it wins over any `Host`.
    fixed: bool,
}

impl Origin {
    pub fn new(
        base_url: Option<&str>,
        allowed_hosts: &[String],
        local: SocketAddr,
    ) -> Result<Self> {
        let allowed: Vec<String> = allowed_hosts
            .iter()
            .map(|h| {
                check_host(h)?;
                Ok(h.to_ascii_lowercase())
            })
            .collect::<Result<_>>()?;
        if let Some(base) = base_url {
            check_base_url(base)?;
            return Ok(Origin {
                default: base.trim_end_matches('/').to_owned(),
                allowed,
                fixed: true,
            });
        }
        let default = if !local.ip().is_unspecified() {
            format!("http://{local}")
        } else if let Some(first) = allowed.first() {
            format!("http://{first}")
        } else {
            return Err(Error::invalid(
                "--listen",
                local.to_string(),
                "a wildcard address names no host clients can reach: pass --base-url with the URL they use (or --allowed-host with the host names they send)",
            ));
        };
        Ok(Origin {
            default,
            allowed,
            fixed: false,
        })
    }

    /// The base URL of a request with these headers (no trailing `/`).
    pub fn base(&self, headers: &HeaderMap) -> String {
        if !self.fixed
            && let Some(host) = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_ascii_lowercase)
            && self.allowed.contains(&host)
        {
            return format!("http://{host}");
        }
        self.default.clone()
    }

    /// The origin alone (`https://host:port`), what the pages' own URLs start with.
    pub fn scheme_host(base: &str) -> &str {
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        match base[after_scheme..].find('/') {
            Some(slash) => &base[..after_scheme + slash],
            None => base,
        }
    }
}

fn check_base_url(base: &str) -> Result<()> {
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && rest.bytes().all(|b| b.is_ascii_graphic())
                && !rest.contains(['?', '#', '"', '<', '>', '\\']) =>
        {
            Ok(())
        }
        _ => Err(Error::invalid(
            "--base-url",
            base,
            "expected an http:// or https:// URL without query or fragment",
        )),
    }
}

/// A host name or address with an optional port: nothing that could smuggle a path,
/// a user or another header into a URL.
fn check_host(host: &str) -> Result<()> {
    let fine = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(Error::invalid(
            "--allowed-host",
            host,
            "expected a host name or address, with an optional :port",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        h
    }

    #[test]
    fn hosts_are_used_only_when_allowed() {
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let origin = Origin::new(None, &["releases.example".into()], local).unwrap();
        assert_eq!(
            origin.base(&headers("evil.example")),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            origin.base(&headers("Releases.Example")),
            "http://releases.example"
        );
        let fixed = Origin::new(Some("https://r.example/x/"), &["h".into()], local).unwrap();
        assert_eq!(fixed.base(&headers("h")), "https://r.example/x");
    }

    #[test]
    fn wildcard_addresses_need_a_base() {
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert!(Origin::new(None, &[], any).is_err());
        assert_eq!(
            Origin::new(None, &["h:80".into()], any)
                .unwrap()
                .base(&HeaderMap::new()),
            "http://h:80"
        );
        assert!(Origin::new(None, &["a/b".into()], any).is_err());
    }

    #[test]
    fn base_urls_must_be_http() {
        let local: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert!(Origin::new(Some("https://proxy.example/releases"), &[], local).is_ok());
        for bad in [
            "ftp://x",
            "http://",
            "http://x/?q",
            "http:///x",
            "http://a b",
        ] {
            assert!(Origin::new(Some(bad), &[], local).is_err(), "{bad}");
        }
        assert_eq!(Origin::scheme_host("https://a.b:1/x/y"), "https://a.b:1");
        assert_eq!(Origin::scheme_host("http://a"), "http://a");
    }
}
