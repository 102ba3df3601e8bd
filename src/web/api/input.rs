//! Request parameters as GitLab (Grape on Rack) takes them.
//!
//! - [`GitlabQuery`]: the query string, decoded key and value (`private%5Ftoken` is
//!   `private_token`), read through a typed [`FromQuery`].
//! - [`GitlabBody`]: the parameters of a write: the query string's, then the body's, a
//!   JSON object or a URL-encoded form with Rack's nested keys
//!   (`assets[links][][name]=…`), decoded into a typed request. As Grape does, unknown
//!   fields are ignored (newer clients send fields older servers do not know) and
//!   scalars are coerced where a text is expected (`"name": 123` is `"123"`).
//!
//! Malformed encodings, bodies and values are refused with 400 before anything is read
//! from, or written to, the repository.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use super::ApiError;

/// `key=value` pairs of a query string or form body, decoded (`+` is a space).
pub fn pairs(text: &str) -> Result<Vec<(String, String)>, ApiError> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                crate::url::unescape(&s.replace('+', " "))
                    .ok_or_else(|| ApiError::param(format!("{s:?} is not valid URL encoding")))
            };
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Query parameters that are about the request (its credentials), not the resource.
pub const TOKEN_PARAMS: [&str; 2] = ["private_token", "job_token"];

/// How deep Rack nests a parameter name (`a[b][c]…`) before refusing it.
const MAX_NESTING: usize = 16;

/// Adds one form pair to `params` as Rack's `normalize_params` does: `a[b]=v` is
/// `{"a": {"b": "v"}}`, `a[]=v` appends to a list, and `a[][b]=v` adds `b` to the
/// list's last object unless that object has a `b` already, else starts a new one
/// (which is how `assets[links][][name]=…&assets[links][][url]=…` makes one link per
/// name/url pair).
fn add_rack_param(
    params: &mut Map<String, Value>,
    name: &str,
    value: Value,
    depth: usize,
) -> Result<(), ApiError> {
    if depth > MAX_NESTING {
        return Err(ApiError::param("parameters are nested too deeply"));
    }
    let start = name.trim_start_matches(['[', ']']);
    let key_end = start.find(['[', ']']).unwrap_or(start.len());
    let key = &start[..key_end];
    let mut after = &start[key_end..];
    // Rack drops the `]` closing the key itself (`a]` is `a`).
    if let Some(rest) = after.strip_prefix(']') {
        after = rest;
    }
    if key.is_empty() {
        return Ok(());
    }
    let conflict = || ApiError::param(format!("{key} is invalid"));
    if after.is_empty() {
        params.insert(key.to_owned(), value);
    } else if after == "[" {
        params.insert(name.to_owned(), value);
    } else if after == "[]" {
        match params
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.push(value),
            _ => return Err(conflict()),
        }
    } else if let Some(child) = after.strip_prefix("[]") {
        // `[][name]` or `[]name`: a key of the list's objects.
        let child = child
            .strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
            .filter(|c| !c.contains(['[', ']']))
            .unwrap_or(child);
        let Value::Array(items) = params
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        else {
            return Err(conflict());
        };
        match items.last_mut() {
            Some(Value::Object(last)) if !has_rack_key(last, child) => {
                add_rack_param(last, child, value, depth + 1)?;
            }
            _ => {
                let mut object = Map::new();
                add_rack_param(&mut object, child, value, depth + 1)?;
                items.push(Value::Object(object));
            }
        }
    } else {
        let Value::Object(inner) = params
            .entry(key.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
        else {
            return Err(conflict());
        };
        add_rack_param(inner, after, value, depth + 1)?;
    }
    Ok(())
}

/// Whether `object` already holds the (possibly nested, `a][b`) key `name`.
fn has_rack_key(object: &Map<String, Value>, name: &str) -> bool {
    let mut parts = name.split(['[', ']']).filter(|p| !p.is_empty()).peekable();
    let mut current = object;
    while let Some(part) = parts.next() {
        match current.get(part) {
            None => return false,
            Some(_) if parts.peek().is_none() => return true,
            Some(Value::Object(inner)) => current = inner,
            Some(_) => return false,
        }
    }
    false
}

/// Form or query pairs as parameters, Rack's nesting applied.
fn pairs_to_params(
    pairs: Vec<(String, String)>,
    params: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    for (key, value) in pairs {
        add_rack_param(params, &key, Value::String(value), 0)?;
    }
    Ok(())
}

/// The request's query string as parameters.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        Ok(Query {
            pairs: pairs(query.unwrap_or_default())?,
        })
    }

    /// The last value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Grape's booleans: `true`/`false`, `1`/`0`, `yes`/`no`… A value that is none of
    /// them is a 400.
    pub fn flag(&self, key: &'static str) -> Result<bool, ApiError> {
        match self.get(key) {
            None => Ok(false),
            Some(value) => {
                boolean(value).ok_or_else(|| ApiError::param(format!("{key} is invalid")))
            }
        }
    }

    /// One of `allowed` (the first is the default).
    pub fn choice(
        &self,
        key: &'static str,
        allowed: &[&'static str],
    ) -> Result<&'static str, ApiError> {
        match self.get(key) {
            None => Ok(allowed[0]),
            Some(value) => allowed
                .iter()
                .find(|a| **a == value)
                .copied()
                .ok_or_else(|| ApiError::param(format!("{key} does not have a valid value"))),
        }
    }

    /// The parameters as a JSON object (Rack's nesting applied), credentials left out.
    fn params(&self) -> Result<Map<String, Value>, ApiError> {
        let mut params = Map::new();
        pairs_to_params(
            self.pairs
                .iter()
                .filter(|(k, _)| !TOKEN_PARAMS.contains(&k.as_str()))
                .cloned()
                .collect(),
            &mut params,
        )?;
        Ok(params)
    }
}

/// Grape's spellings of a boolean.
fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "t" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "f" | "no" | "n" | "off" | "" => Some(false),
        _ => None,
    }
}

/// A typed view of a query string; each type says which parameters it reads and how
/// (GitLab's wording for a bad value).
pub trait FromQuery: Sized {
    fn from_query(query: &Query) -> Result<Self, ApiError>;
}

impl FromQuery for Query {
    fn from_query(query: &Query) -> Result<Self, ApiError> {
        Ok(query.clone())
    }
}

/// The query string of a request, read as `T`.
pub struct GitlabQuery<T>(pub T);

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for GitlabQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = Query::parse(parts.uri.query())?;
        T::from_query(&query).map(GitlabQuery)
    }
}

/// The parameters of a write, decoded into `T` (a `Deserialize` type whose text
/// fields use [`text`] / [`texts`] to coerce scalars as Grape does).
pub struct GitlabBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<std::sync::Arc<super::Shared>> for GitlabBody<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: Request,
        state: &std::sync::Arc<super::Shared>,
    ) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let limit = super::BODY_LIMIT;
        let read = axum::body::to_bytes(body, limit);
        let bytes = match tokio::time::timeout(state.limits().body_timeout, read).await {
            Err(_) => return Err(body_too_slow(state.limits().body_timeout)),
            Ok(Err(e)) => return Err(body_error(&e)),
            Ok(Ok(bytes)) => bytes,
        };
        let query = Query::parse(parts.uri.query())?;
        let params = params(&parts.headers, &query, &bytes)?;
        decode(params).map(GitlabBody)
    }
}

fn body_too_slow(limit: Duration) -> ApiError {
    ApiError::message(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "408 Request Timeout: the request body did not arrive within {}s",
            limit.as_secs()
        ),
    )
}

/// An error reading the body: too large (413, found by the length limit), else a 400.
fn body_error(error: &axum::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return ApiError::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "413 Request Entity Too Large",
            );
        }
        source = e.source();
    }
    ApiError::param("cannot read the request body")
}

/// The fields of a write: the query string's, then the body's (JSON object or form).
fn params(
    headers: &HeaderMap,
    query: &Query,
    body: &Bytes,
) -> Result<Map<String, Value>, ApiError> {
    let mut params = query.params()?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::param("the form body is not UTF-8"))?;
        pairs_to_params(pairs(text)?, &mut params)?;
        return Ok(params);
    }
    if content_type.starts_with("multipart/") {
        return Err(ApiError::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "415 Unsupported Media Type: send JSON or a URL-encoded form",
        ));
    }
    // GitLab parses a body without a content type as JSON too (curl --data '{…}').
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => {
            params.extend(object);
            Ok(params)
        }
        Ok(_) => Err(ApiError::param("the JSON body must be an object")),
        Err(e) => Err(ApiError::param(format!("the JSON body is invalid: {e}"))),
    }
}

/// Decodes parameters into `T`; the error says which value was wrong.
pub fn decode<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(params)).map_err(|e| ApiError::param(e.to_string()))
}

/// A text parameter as Grape coerces one: a string, or a number or boolean written
/// out (`123` is `"123"`); `null` is absent. Objects and lists are refused.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(de::Error::invalid_type(unexpected(&other), &"a text")),
    }
}

/// A list of texts (`milestones`): each item coerced as [`text`]. A lone text is not a
/// list (Grape refuses it too).
pub fn texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(de::Error::invalid_type(unexpected(&other), &"a text")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(de::Error::invalid_type(unexpected(&other), &"a list")),
    }
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

use serde::Deserialize as _;

/// A required text field: `name is missing` as GitLab says, also for an empty one.
pub fn required(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        Some(_) => Err(ApiError::param(format!("{field} is empty"))),
        None => Err(ApiError::param(format!("{field} is missing"))),
    }
}

/// A time parameter (ISO 8601); `released_at is invalid` otherwise.
pub fn time(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<crate::time::Timestamp>, ApiError> {
    value
        .map(|text| {
            crate::time::Timestamp::parse(text)
                .map_err(|e| ApiError::param(format!("{field} is invalid: {e}")))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(text: &str) -> Value {
        let mut params = Map::new();
        pairs_to_params(pairs(text).unwrap(), &mut params).unwrap();
        Value::Object(params)
    }

    #[test]
    fn form_lists_and_nested_keys_follow_rack() {
        assert_eq!(
            form("name=a+b&milestones[]=m1&milestones[]=m%202"),
            json!({"name": "a b", "milestones": ["m1", "m 2"]})
        );
        assert_eq!(
            form(
                "assets[links][][name]=a&assets[links][][url]=u1&assets[links][][name]=b&assets[links][][url]=u2"
            ),
            json!({"assets": {"links": [{"name": "a", "url": "u1"}, {"name": "b", "url": "u2"}]}})
        );
        assert_eq!(form("a[b][c]=1"), json!({"a": {"b": {"c": "1"}}}));
        assert_eq!(form("a]=1"), json!({"a": "1"}));
        let mut params = Map::new();
        let conflict = pairs_to_params(pairs("a=1&a[]=2").unwrap(), &mut params);
        assert!(conflict.is_err());
        let deep = format!("a{}=1", "[b]".repeat(40));
        assert!(pairs_to_params(pairs(&deep).unwrap(), &mut Map::new()).is_err());
    }

    #[test]
    fn read_parameters_are_checked() {
        let q = Query::parse(Some("sort=up&include_html_description=true")).unwrap();
        assert!(q.flag("include_html_description").unwrap());
        assert!(q.choice("sort", &["desc", "asc"]).is_err());
        assert_eq!(
            q.choice("order_by", &["released_at"]).unwrap(),
            "released_at"
        );
        assert!(Query::parse(Some("x=%zz")).is_err());
        let encoded = Query::parse(Some("private%5Ftoken=abc")).unwrap();
        assert_eq!(encoded.get("private_token"), Some("abc"));
    }

    #[test]
    fn scalars_are_coerced_to_text() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "text")]
            name: Option<String>,
            #[serde(default, deserialize_with = "texts")]
            milestones: Option<Vec<String>>,
        }
        let body: Body = decode(
            json!({"name": 123, "milestones": [1, "b"], "extra": {"x": 1}})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(body.name.as_deref(), Some("123"));
        assert_eq!(body.milestones.unwrap(), ["1", "b"]);
        assert!(decode::<Body>(json!({"milestones": "M"}).as_object().unwrap().clone()).is_err());
        assert!(decode::<Body>(json!({"name": ["x"]}).as_object().unwrap().clone()).is_err());
    }
}
