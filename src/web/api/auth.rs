//! Tokens, as GitLab takes them: `PRIVATE-TOKEN`, `Authorization: Bearer`, `JOB-TOKEN`
//! (or the `private_token` / `job_token` query parameters). Writes need one; reads need
//! one only with `--require-token-for-reads`. The package registry's routes also take
//! a `DEPLOY-TOKEN` header and HTTP Basic authentication with the token as the
//! password (the user name is not checked), as GitLab's do ([`Credentials::Packages`]).

use axum::http::HeaderMap;

use super::ApiError;
use super::tokens::{Member, Tokens};
use crate::model::Role;

/// Which ways of presenting a token a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// The REST API's: `PRIVATE-TOKEN`, `JOB-TOKEN`, `Authorization: Bearer`, and the
    /// `private_token` / `job_token` query parameters.
    Api,
    /// The package registry's: those, a `DEPLOY-TOKEN` header, and HTTP Basic
    /// authentication with the token as the password.
    Packages,
}

/// The token a request carries, if any. An empty one is none (`PRIVATE-TOKEN:` with
/// nothing, `Authorization: Bearer`): GitLab treats a blank token as no token. Query
/// keys are compared decoded (`private%5Ftoken` is `private_token`), as Rack does.
#[cfg(test)]
fn presented(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    presented_as(headers, query, Credentials::Api)
}

/// The password of `Authorization: Basic base64(user:password)`.
fn basic_password(value: &str) -> Option<String> {
    use base64::Engine;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_owned()).filter(|p| !p.is_empty())
}

/// The token a request carries in one of the ways `accepted` names.
fn presented_as(headers: &HeaderMap, query: Option<&str>, accepted: Credentials) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if let Some(token) = header("private-token").or_else(|| header("job-token")) {
        return Some(token);
    }
    if accepted == Credentials::Packages {
        if let Some(token) = header("deploy-token") {
            return Some(token);
        }
    }
    if let Some(value) = header("authorization") {
        let (scheme, token) = value.split_once(' ').unwrap_or((&value, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Some(token.trim().to_owned());
        }
        if accepted == Credentials::Packages {
            if let Some(password) = basic_password(&value) {
                return Some(password);
            }
        }
    }
    let pairs = super::input::pairs(query?).ok()?;
    pairs
        .into_iter()
        .rev()
        .find(|(key, value)| {
            super::input::TOKEN_PARAMS.contains(&key.as_str()) && !value.is_empty()
        })
        .map(|(_, value)| value)
}

/// Whether a raw query key may carry a credential: it decodes, case aside, to a key
/// holding `token` (`private_token`, `private%5Ftoken`, `PRIVATE_TOKEN`, `job_token`…),
/// or cannot be decoded at all.
pub fn is_secret_key(raw_key: &str) -> bool {
    match crate::url::unescape(&raw_key.replace('+', " ")) {
        Some(key) => key.to_ascii_lowercase().contains("token"),
        None => true,
    }
}

/// A query string fit for a log: the value of every token parameter is replaced,
/// however its key is spelt (`private_token`, `private%5Ftoken`, `PRIVATE_TOKEN`…) — a
/// key that decodes, case aside, to a token parameter, or that cannot be decoded.
pub fn redact(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (key, _) = pair.split_once('=').unwrap_or((pair, ""));
            if is_secret_key(key) {
                format!("{key}=[redacted]")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token (or none the server knows, when it has none to check against).
    Anonymous,
    /// A token the server accepted.
    Member(Member),
}

impl Caller {
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Member(member) => Some(member.role),
        }
    }
}

/// What a request needs to be allowed, as GitLab's policies say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Read releases and milestones: anyone in a public project, Guest and above in a
    /// private one (`read_release`, `read_milestone`).
    ReadRelease,
    /// Read the repository: tags, commits, source archives, evidence, the release
    /// pages: anyone in a public project, Reporter and above in a private one
    /// (`download_code`, `read_release_evidence`).
    ReadCode,
    /// Read freeze periods: a signed-in Reporter or above, in any project (GitLab's
    /// Freeze Periods API authenticates every request).
    ReadFreezes,
    /// Write, with at least this role.
    Write(Role),
}

/// Who the request's token, taken in the ways `accepted` names, says it is: anonymous
/// without one; a token that is given but unknown is a 401, as GitLab answers it (when
/// there are tokens to check against).
pub fn caller(
    tokens: &Tokens,
    headers: &HeaderMap,
    query: Option<&str>,
    accepted: Credentials,
) -> Result<Caller, ApiError> {
    let Some(token) = presented_as(headers, query, accepted) else {
        return Ok(Caller::Anonymous);
    };
    match tokens.member(&token) {
        Some(member) => Ok(Caller::Member(member)),
        None if tokens.is_empty() => Ok(Caller::Anonymous),
        None => Err(ApiError::unauthorized()),
    }
}

/// Whether `caller` may do what needs `capability`, on a project that is private
/// (`--require-token-for-reads`) or public; GitLab's 401 for someone who is not signed
/// in where that is needed, 403 for a role too low.
pub fn authorize(
    options: &super::Options,
    caller: &Caller,
    capability: Capability,
) -> Result<(), ApiError> {
    if let Capability::Write(_) = capability {
        // A server that cannot write refuses everyone alike.
        if options.read_only || options.tokens.is_empty() {
            return Err(ApiError::forbidden());
        }
    }
    let private = options.require_token_for_reads;
    let Some(role) = caller.role() else {
        return match capability {
            Capability::ReadRelease | Capability::ReadCode if !private => Ok(()),
            _ => Err(ApiError::unauthorized()),
        };
    };
    let least = match capability {
        Capability::ReadRelease => Role::Guest,
        Capability::ReadCode if private => Role::Reporter,
        Capability::ReadCode => Role::Guest,
        Capability::ReadFreezes => Role::Reporter,
        Capability::Write(least) => least,
    };
    if role >= least {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(private: bool, read_only: bool) -> super::super::Options {
        let mut tokens = Tokens::default();
        tokens.add("single");
        super::super::Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            base_url: None,
            allowed_hosts: Vec::new(),
            read_only,
            require_token_for_reads: private,
            tokens,
            quiet: true,
            templates: Default::default(),
            limits: Default::default(),
        }
    }

    /// GitLab's table, row by row: who may do what in a public and a private project
    /// (`None`: allowed; else the status of the refusal).
    #[test]
    fn each_role_gets_what_gitlabs_policies_give_it() {
        use Capability::*;
        let member = |role| Caller::Member(Member { user: None, role });
        let callers = [
            Caller::Anonymous,
            member(Role::Guest),
            member(Role::Reporter),
            member(Role::Developer),
            member(Role::Maintainer),
            member(Role::Owner),
        ];
        // Anonymous, Guest, Reporter, Developer, Maintainer, Owner.
        let table: [(bool, Capability, [u16; 6]); 12] = [
            (false, ReadRelease, [0, 0, 0, 0, 0, 0]),
            (false, ReadCode, [0, 0, 0, 0, 0, 0]),
            (false, ReadFreezes, [401, 403, 0, 0, 0, 0]),
            (false, Write(Role::Reporter), [401, 403, 0, 0, 0, 0]),
            (false, Write(Role::Developer), [401, 403, 403, 0, 0, 0]),
            (false, Write(Role::Maintainer), [401, 403, 403, 403, 0, 0]),
            (true, ReadRelease, [401, 0, 0, 0, 0, 0]),
            (true, ReadCode, [401, 403, 0, 0, 0, 0]),
            (true, ReadFreezes, [401, 403, 0, 0, 0, 0]),
            (true, Write(Role::Reporter), [401, 403, 0, 0, 0, 0]),
            (true, Write(Role::Developer), [401, 403, 403, 0, 0, 0]),
            (true, Write(Role::Maintainer), [401, 403, 403, 403, 0, 0]),
        ];
        for (private, capability, expected) in table {
            let options = options(private, false);
            for (caller, want) in callers.iter().zip(expected) {
                let got = authorize(&options, caller, capability)
                    .err()
                    .map_or(0, |e| e.status.as_u16());
                assert_eq!(got, want, "{caller:?} {capability:?} private={private}");
            }
        }
        // A read-only server refuses every write alike, even an owner's.
        let read_only = options(false, true);
        for caller in &callers {
            let refused = authorize(&read_only, caller, Write(Role::Reporter)).unwrap_err();
            assert_eq!(refused.status.as_u16(), 403);
        }
    }

    fn has_valid_token(tokens: &Tokens, headers: &HeaderMap, query: Option<&str>) -> bool {
        matches!(
            caller(tokens, headers, query, Credentials::Api),
            Ok(Caller::Member(_))
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn package_routes_also_take_deploy_tokens_and_basic_auth() {
        use base64::Engine;
        let basic = |text: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(text)
            )
        };
        for h in [
            headers(&[("deploy-token", "s3cret")]),
            headers(&[("authorization", &basic("anyone:s3cret"))]),
            headers(&[("job-token", "s3cret")]),
        ] {
            assert_eq!(
                presented_as(&h, None, Credentials::Packages).as_deref(),
                Some("s3cret")
            );
        }
        // Elsewhere in the API, neither is a credential.
        assert_eq!(
            presented(&headers(&[("deploy-token", "s3cret")]), None),
            None
        );
        assert_eq!(
            presented(&headers(&[("authorization", &basic("u:s3cret"))]), None),
            None
        );
        assert_eq!(
            presented_as(
                &headers(&[("authorization", &basic("u:"))]),
                None,
                Credentials::Packages
            ),
            None
        );
        assert_eq!(
            presented_as(
                &headers(&[("authorization", "Basic %%%")]),
                None,
                Credentials::Packages
            ),
            None
        );
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
    fn tokens_are_found_decoded_and_empty_ones_are_none() {
        let mut tokens = Tokens::default();
        tokens.add("s3cret");
        assert!(has_valid_token(
            &tokens,
            &HeaderMap::new(),
            Some("private%5Ftoken=s3cret")
        ));
        assert!(has_valid_token(
            &tokens,
            &HeaderMap::new(),
            Some("job_token=s3cr%65t")
        ));
        assert_eq!(presented(&headers(&[("private-token", "")]), None), None);
        assert_eq!(
            presented(&headers(&[("authorization", "Bearer")]), None),
            None
        );
        assert_eq!(presented(&HeaderMap::new(), Some("private_token=")), None);
    }

    #[test]
    fn logged_queries_keep_no_tokens_in_any_spelling() {
        assert_eq!(
            redact("page=2&private_token=abc&job_token=x"),
            "page=2&private_token=[redacted]&job_token=[redacted]"
        );
        for spelling in [
            "private%5Ftoken",
            "PRIVATE_TOKEN",
            "private%5ftoken",
            "%70rivate_token",
            "%zz",
        ] {
            let logged = redact(&format!("a=1&{spelling}=abc"));
            assert!(!logged.contains("abc"), "{logged}");
        }
    }

    #[test]
    fn token_files_skip_blanks_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# ci\n\n  first  \nsecond\n").unwrap();
        let tokens = Tokens::load(Some(&path), None).unwrap();
        assert!(tokens.member("first").is_some());
        assert!(tokens.member("second").is_some());
        assert!(tokens.member("# ci").is_none());
        assert!(tokens.member("").is_none());
    }
}
