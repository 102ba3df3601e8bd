//! Release asset links and GitLab's rules for them (docs/gitlab-compat.md, "Asset links"):
//! what a user may write (`--assets-link` JSON as release-cli takes it, `--link k=v,…`),
//! and the validation every way of adding or changing a link goes through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Key;
use crate::time::Timestamp;

/// GitLab's limit on a direct asset path (`Releases::Link::FILEPATH_MAX_LENGTH`).
pub const MAX_DIRECT_ASSET_PATH: usize = 128;

/// URL schemes GitLab accepts for a link.
pub const URL_SCHEMES: [&str; 3] = ["http", "https", "ftp"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub key: Key,
    pub id: u64,
    pub name: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_asset_path: Option<String>,
    #[serde(default)]
    pub link_type: LinkType,
    /// SHA-256 of the asset (lowercase hex), recorded from a local file or given: a
    /// download is checked against it. **ours**, not in GitLab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// GitLab's link types; a value enum for clap, so a bad `--link-type` is a usage error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LinkType {
    #[default]
    Other,
    Runbook,
    Package,
    Image,
}

impl LinkType {
    pub const ALL: [LinkType; 4] = [
        LinkType::Other,
        LinkType::Runbook,
        LinkType::Package,
        LinkType::Image,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkType::Other => "other",
            LinkType::Runbook => "runbook",
            LinkType::Package => "package",
            LinkType::Image => "image",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LinkType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        LinkType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "link type",
                    text,
                    "expected one of other, runbook, package, image",
                )
            })
    }
}

/// A link as a user describes it, before it has an identity. `validated()` applies
/// GitLab's normalization and rules; `check_unique` the rules within a release.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkDraft {
    pub name: String,
    pub url: String,
    pub direct_asset_path: Option<String>,
    pub link_type: LinkType,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

impl LinkDraft {
    /// One `--assets-link` value: a JSON object or an array of them, with release-cli's
    /// fields `name`, `url`, `direct_asset_path` (or the older `filepath`; when both are
    /// given `direct_asset_path` wins, as in GitLab) and `link_type`.
    pub fn from_assets_link_json(text: &str) -> Result<Vec<LinkDraft>> {
        let bad = |reason: String| Error::invalid("--assets-link", text, reason);
        let value: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        match value {
            Value::Object(object) => Ok(vec![Self::from_json_object(&object).map_err(bad)?]),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(object) => Self::from_json_object(object)
                        .map_err(|reason| bad(format!("link {}: {reason}", i + 1))),
                    _ => Err(bad(format!("link {} is not a JSON object", i + 1))),
                })
                .collect(),
            _ => Err(bad("expected a JSON object or an array of objects".into())),
        }
    }

    fn from_json_object(object: &Map<String, Value>) -> std::result::Result<LinkDraft, String> {
        let text = |field: &str| -> std::result::Result<Option<String>, String> {
            match object.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("\"{field}\" must be a string, not {other}")),
            }
        };
        // Unknown fields are refused rather than ignored: a misspelt "direct_asset_path"
        // would otherwise silently drop the permanent URL.
        if let Some(unknown) = object.keys().find(|k| {
            ![
                "name",
                "url",
                "direct_asset_path",
                "filepath",
                "link_type",
                "sha256",
            ]
            .contains(&k.as_str())
        }) {
            return Err(format!(
                "unknown field \"{unknown}\" (known: name, url, direct_asset_path, filepath, link_type, sha256)"
            ));
        }
        let name = text("name")?.ok_or("\"name\" is missing")?;
        let url = text("url")?.ok_or("\"url\" is missing")?;
        let link_type = match text("link_type")? {
            Some(t) => t.parse().map_err(|e: Error| e.to_string())?,
            None => LinkType::default(),
        };
        Ok(LinkDraft {
            name,
            url,
            direct_asset_path: Self::pick_path(text("direct_asset_path")?, text("filepath")?)?,
            link_type,
            sha256: text("sha256")?,
            size: None,
        })
    }

    /// `direct_asset_path` and its older name `filepath`: either one, or both with the
    /// same value. Two different paths for one link is an error rather than a silent
    /// choice, so a script that still sends `filepath` learns of the mismatch.
    pub fn pick_path(
        direct_asset_path: Option<String>,
        filepath: Option<String>,
    ) -> std::result::Result<Option<String>, String> {
        match (direct_asset_path, filepath) {
            (Some(direct), Some(old)) if direct != old => Err(format!(
                "\"direct_asset_path\" ({direct:?}) and its older name \"filepath\" ({old:?}) \
                 differ; give one of them"
            )),
            (direct, old) => Ok(direct.or(old)),
        }
    }

    /// `--link 'name=…,url=…[,path=/…][,type=…][,sha256=…]'`. A comma-separated piece
    /// without `=` continues the previous value, so commas in a name or URL survive;
    /// after `url=`, a piece starting with a key already given is part of the URL too
    /// (a URL such as `…?a=1,name=x` must be the last pair). A piece that looks like
    /// `key=value` with a key that is not one of ours is refused, rather than folded
    /// into the URL: a misspelt `paht=/bin/app` must not become part of the link.
    pub fn from_pairs(text: &str) -> Result<LinkDraft> {
        const KEYS: [&str; 8] = [
            "name",
            "url",
            "path",
            "direct_asset_path",
            "filepath",
            "type",
            "link_type",
            "sha256",
        ];
        let bad = |reason: String| Error::invalid("--link", text, reason);
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for piece in text.split(',') {
            let key_value = piece
                .split_once('=')
                .map(|(k, v)| (k.trim(), v))
                .filter(|(k, _)| KEYS.contains(k));
            let given = |key: &str| pairs.iter().any(|(k, _)| canonical(k) == canonical(key));
            let last_is_url = pairs.last().is_some_and(|(k, _)| *k == "url");
            if key_value.is_none() {
                if let Some((key, _)) = piece.split_once('=') {
                    let key = key.trim();
                    let looks_like_key = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if looks_like_key {
                        return Err(bad(format!(
                            "unknown key \"{key}\" (keys: name, url, path, type, sha256; \
                             write a comma inside a URL as %2C)"
                        )));
                    }
                }
            }
            match key_value {
                Some((key, value)) if !given(key) => pairs.push((key, value.to_owned())),
                Some((key, _)) if !last_is_url => {
                    return Err(bad(format!("\"{key}\" is given twice")));
                }
                _ => match pairs.last_mut() {
                    Some((_, value)) => {
                        value.push(',');
                        value.push_str(piece);
                    }
                    None => {
                        return Err(bad(format!(
                            "{piece:?} is not a key=value pair (keys: name, url, path, type, sha256)"
                        )));
                    }
                },
            }
        }
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| canonical(k) == key)
                .map(|(_, v)| v.clone())
        };
        let name = get("name").ok_or_else(|| bad("name=… is missing".into()))?;
        let url = get("url").ok_or_else(|| bad("url=… is missing".into()))?;
        let link_type = match get("type") {
            Some(t) => t.trim().parse()?,
            None => LinkType::default(),
        };
        Ok(LinkDraft {
            name,
            url,
            direct_asset_path: get("path"),
            link_type,
            sha256: get("sha256"),
            size: None,
        })
    }

    /// GitLab's normalization (surrounding whitespace of the URL stripped, an empty
    /// direct asset path means none) and every rule that concerns one link alone.
    pub fn validated(mut self) -> Result<LinkDraft> {
        let what = if self.name.trim().is_empty() {
            format!("with URL {:?}", self.url.trim())
        } else {
            format!("{:?}", self.name)
        };
        let bad = |reason: String| Error::InvalidLink {
            link: what.clone(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(bad("its name is empty".into()));
        }
        if self.name.chars().any(char::is_control) {
            return Err(bad("its name contains a control character".into()));
        }
        if let Some(c) = self
            .name
            .chars()
            .find(|&c| crate::model::text::is_noncharacter(c))
        {
            return Err(bad(format!(
                "its name contains U+{:04X}, a Unicode noncharacter",
                u32::from(c)
            )));
        }
        // GitLab takes any name; we refuse the characters that reorder the text after
        // them (U+202E shows `\u{202e}gnp.exe` as `exe.png`): a link name is what
        // people read before they run what they downloaded.
        if let Some(c) = self.name.chars().find(|&c| crate::text::is_bidi_control(c)) {
            return Err(bad(format!(
                "its name contains the bidirectional control character {} \
                 (it would show the name reordered)",
                crate::text::escape_char(c)
            )));
        }
        self.url = self.url.trim().to_owned();
        check_url(&self.url).map_err(bad)?;
        self.direct_asset_path = self.direct_asset_path.filter(|p| !p.is_empty());
        if let Some(path) = &self.direct_asset_path {
            check_direct_asset_path(path).map_err(|reason| {
                bad(format!("direct asset path {path:?} is invalid: {reason}"))
            })?;
        }
        self.sha256 = match self.sha256.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(hex) => {
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(format!("SHA-256 {hex:?} is not 64 hexadecimal digits")));
                }
                Some(hex.to_ascii_lowercase())
            }
        };
        Ok(self)
    }

    /// Names, URLs and direct asset paths are unique within a release. `links` are
    /// the release's other links (without the one being changed).
    pub fn check_unique<'a>(
        &self,
        tag: &str,
        links: impl IntoIterator<Item = &'a Link>,
    ) -> Result<()> {
        for other in links {
            let clash = if other.name == self.name {
                Some(("name", self.name.as_str()))
            } else if other.url == self.url {
                Some(("URL", self.url.as_str()))
            } else if other.direct_asset_path.is_some()
                && other.direct_asset_path == self.direct_asset_path
            {
                Some((
                    "direct asset path",
                    self.direct_asset_path.as_deref().unwrap_or_default(),
                ))
            } else {
                None
            };
            if let Some((field, value)) = clash {
                return Err(Error::DuplicateLink {
                    tag: tag.to_owned(),
                    field,
                    value: value.to_owned(),
                    other: other.name.clone(),
                });
            }
        }
        Ok(())
    }

    pub fn into_link(self, key: Key, id: u64, created_at: Timestamp) -> Link {
        Link {
            key,
            id,
            name: self.name,
            url: self.url,
            direct_asset_path: self.direct_asset_path,
            link_type: self.link_type,
            sha256: self.sha256,
            size: self.size,
            created_at,
            extra: Map::new(),
        }
    }
}

/// The names, URLs and direct asset paths of a release's links, for checking many
/// links (an import of thousands) in linear time; the same rule and error as
/// `LinkDraft::check_unique`, which checks one link against a list.
#[derive(Debug, Default)]
pub struct UniqueLinks {
    /// Each value, with the name of the link that has it.
    names: std::collections::HashMap<String, String>,
    urls: std::collections::HashMap<String, String>,
    paths: std::collections::HashMap<String, String>,
}

impl UniqueLinks {
    /// Takes `draft`'s values, or refuses it when another link has one of them.
    pub fn insert(&mut self, tag: &str, draft: &LinkDraft) -> Result<()> {
        let clash = |field: &'static str, value: &str, other: &String| Error::DuplicateLink {
            tag: tag.to_owned(),
            field,
            value: value.to_owned(),
            other: other.clone(),
        };
        if let Some(other) = self.names.get(&draft.name) {
            return Err(clash("name", &draft.name, other));
        }
        if let Some(other) = self.urls.get(&draft.url) {
            return Err(clash("URL", &draft.url, other));
        }
        if let Some(path) = &draft.direct_asset_path {
            if let Some(other) = self.paths.get(path) {
                return Err(clash("direct asset path", path, other));
            }
            self.paths.insert(path.clone(), draft.name.clone());
        }
        self.names.insert(draft.name.clone(), draft.name.clone());
        self.urls.insert(draft.url.clone(), draft.name.clone());
        Ok(())
    }
}

impl From<&Link> for LinkDraft {
    fn from(link: &Link) -> Self {
        LinkDraft {
            name: link.name.clone(),
            url: link.url.clone(),
            direct_asset_path: link.direct_asset_path.clone(),
            link_type: link.link_type,
            sha256: link.sha256.clone(),
            size: link.size,
        }
    }
}

impl Link {
    /// What two links share that a release allows once (its name, its URL, its direct
    /// asset path), if anything: the field's name.
    pub fn clash_with(&self, other: &Link) -> Option<&'static str> {
        if self.name == other.name {
            Some("name")
        } else if self.url == other.url {
            Some("URL")
        } else if self.direct_asset_path.is_some()
            && self.direct_asset_path == other.direct_asset_path
        {
            Some("direct asset path")
        } else {
            None
        }
    }

    /// The same link made twice (by two clones): equal in everything but identity
    /// (key, display id) and creation time.
    pub fn same_content(&self, other: &Link) -> bool {
        LinkDraft::from(self) == LinkDraft::from(other) && self.extra == other.extra
    }

    /// Takes over a draft's fields (after the draft was validated), keeping identity,
    /// creation time and unknown fields.
    pub fn apply(&mut self, draft: LinkDraft) {
        self.name = draft.name;
        self.url = draft.url;
        self.direct_asset_path = draft.direct_asset_path;
        self.link_type = draft.link_type;
        self.sha256 = draft.sha256;
        self.size = draft.size;
    }

    /// The links of a release, newest first (GitLab's order).
    pub fn newest_first(links: &[Link]) -> Vec<&Link> {
        let mut sorted: Vec<&Link> = links.iter().collect();
        sorted.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        sorted
    }
}

fn canonical(key: &str) -> &str {
    match key {
        "direct_asset_path" | "filepath" => "path",
        "link_type" => "type",
        other => other,
    }
}

/// GitLab's `addressable_url` validation with schemes http, https, ftp: an absolute
/// URL with a host. `url` is already stripped of surrounding whitespace.
fn check_url(url: &str) -> std::result::Result<(), String> {
    if url.is_empty() {
        return Err("its URL is empty".into());
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(format!(
            "URL {url:?} has no scheme (use http://, https:// or ftp://)"
        ));
    };
    let scheme_lower = scheme.to_ascii_lowercase();
    if !URL_SCHEMES.contains(&scheme_lower.as_str()) {
        return Err(format!(
            "URL {url:?} uses the scheme {scheme:?}; only http, https and ftp are allowed"
        ));
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Err(format!(
            "URL {url:?} is not absolute (expected {scheme}://host/…)"
        ));
    };
    let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("URL {url:?} has no host"));
    }
    if let Some(c) = url
        .chars()
        .find(|&c| c.is_whitespace() || crate::text::is_hidden_or_control(c))
    {
        return Err(format!(
            "URL {url:?} contains {c:?}; percent-encode it (a space is %20)"
        ));
    }
    Ok(())
}

/// GitLab's `FILEPATH_REGEX` (`\A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\z`), its length limit,
/// and no `..` segment, stated as reasons a user can act on.
pub fn check_direct_asset_path(path: &str) -> std::result::Result<(), String> {
    if path.len() > MAX_DIRECT_ASSET_PATH {
        return Err(format!(
            "it is {} characters long; the limit is {MAX_DIRECT_ASSET_PATH}",
            path.len()
        ));
    }
    if !path.starts_with('/') {
        return Err("it must start with '/'".into());
    }
    if path.contains("//") {
        return Err("it must not contain '//'".into());
    }
    if let Some(c) = path
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "_.-/".contains(c)))
    {
        return Err(format!(
            "it contains {c:?}; only letters, digits, '_', '.', '-' and '/' are allowed"
        ));
    }
    if !path.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("it must end with a letter or digit".into());
    }
    if path.split('/').any(|segment| segment == "..") {
        return Err("it must not contain a '..' segment".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, url: &str, path: Option<&str>) -> LinkDraft {
        LinkDraft {
            name: name.into(),
            url: url.into(),
            direct_asset_path: path.map(Into::into),
            ..LinkDraft::default()
        }
    }

    #[test]
    fn direct_asset_paths_follow_gitlab_rules() {
        for good in ["/bin/app", "/a", "/v1.2/app-linux_amd64.tar.gz", "/x/./y9"] {
            assert_eq!(check_direct_asset_path(good), Ok(()), "{good}");
        }
        let long = format!("/{}", "a".repeat(128));
        for bad in [
            "bin/app",
            "/bin//app",
            "/bin/app/",
            "/bin/app.",
            "/bin/a b",
            "/bin/ä",
            "/a/../b",
            "/..a/b/",
            "/",
            long.as_str(),
        ] {
            assert!(check_direct_asset_path(bad).is_err(), "{bad}");
        }
        assert_eq!(check_direct_asset_path(&long[..128]), Ok(()));
    }

    #[test]
    fn urls_need_an_allowed_scheme_and_a_host() {
        for good in [
            "http://x",
            "https://example.com/a?b=c,d",
            "ftp://u@h/p",
            "HTTPS://E.COM",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "example.com/x",
            "http:/x",
            "http://",
            "https://a b",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validation_strips_url_whitespace_and_drops_empty_path() {
        let d = draft("n", "  https://e.com/a \n", Some(""))
            .validated()
            .unwrap();
        assert_eq!(d.url, "https://e.com/a");
        assert_eq!(d.direct_asset_path, None);
        assert!(draft(" ", "https://e.com", None).validated().is_err());
    }

    #[test]
    fn assets_link_json_takes_objects_arrays_and_either_path_name() {
        let one = LinkDraft::from_assets_link_json(
            r#"{"name":"a","url":"https://e/a","filepath":"/new","direct_asset_path":"/new","link_type":"package"}"#,
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].direct_asset_path.as_deref(), Some("/new"));
        assert_eq!(one[0].link_type, LinkType::Package);
        let legacy = LinkDraft::from_assets_link_json(
            r#"[{"name":"a","url":"u","filepath":"/f"},{"name":"b","url":"v"}]"#,
        )
        .unwrap();
        assert_eq!(legacy[0].direct_asset_path.as_deref(), Some("/f"));
        assert_eq!(legacy[1].name, "b");
        for bad in [
            "nope",
            "3",
            r#"{"url":"u"}"#,
            r#"{"name":"a","url":"u","link_type":"binary"}"#,
            r#"{"name":"a","url":"u","direct_assets_path":"/x"}"#,
            // Two different paths for one link: no silent choice.
            r#"{"name":"a","url":"u","filepath":"/old","direct_asset_path":"/new"}"#,
            r#"[1]"#,
        ] {
            assert!(LinkDraft::from_assets_link_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_keep_commas_in_names_and_trailing_urls() {
        let d = LinkDraft::from_pairs("name=a, b,url=https://e/x?q=1,2,3").unwrap();
        assert_eq!(d.name, "a, b");
        assert_eq!(d.url, "https://e/x?q=1,2,3");
        let d = LinkDraft::from_pairs("url=https://e/x,name=App,path=/bin/app,type=image").unwrap();
        assert_eq!(
            (
                d.name.as_str(),
                d.url.as_str(),
                d.direct_asset_path.as_deref()
            ),
            ("App", "https://e/x", Some("/bin/app"))
        );
        assert_eq!(d.link_type, LinkType::Image);
        let d = LinkDraft::from_pairs("name=A,path=/p,url=https://e/x,name=y").unwrap();
        assert_eq!(
            d.url, "https://e/x,name=y",
            "everything after a last url= is the URL"
        );
        assert!(LinkDraft::from_pairs("name=a").is_err());
        assert!(LinkDraft::from_pairs("bogus,name=a,url=u").is_err());
        assert!(LinkDraft::from_pairs("name=a,url=u,type=exe").is_err());
        assert!(LinkDraft::from_pairs("name=a,name=b,url=u").is_err());
        // An unknown key is refused, never folded into the URL before it.
        let err = LinkDraft::from_pairs("name=a,url=https://e/x,paht=/bin/a")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown key \"paht\"") && err.contains("%2C"),
            "{err}"
        );
        let d = LinkDraft::from_pairs("name=a,url=https://e/x?q=1%2Cb=2").unwrap();
        assert_eq!(d.url, "https://e/x?q=1%2Cb=2");
    }
}
