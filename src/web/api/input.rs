//! Request parameters as GitLab takes them: a JSON body, a form body, or the query
//! string, merged into one set of fields and decoded into a typed request. Unknown
//! fields, malformed JSON and values of the wrong type are refused with 400 before
//! anything is read from, or written to, the repository.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ApiError;

/// The request body as extracted by axum; an oversized body is a 413.
pub type Body = Result<Bytes, BytesRejection>;

/// `key=value` pairs of a query string or form body, decoded.
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

/// Form pairs as JSON fields: `milestones[]=a&milestones[]=b` is a list, every other
/// value a string (typed decoding parses numbers and booleans from it).
fn pairs_to_fields(pairs: Vec<(String, String)>, fields: &mut Map<String, Value>) {
    for (key, value) in pairs {
        if let Some(list) = key.strip_suffix("[]") {
            let entry = fields
                .entry(list.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(value));
            }
        } else {
            fields.insert(key, Value::String(value));
        }
    }
}

/// Query parameters that are about the request, not the resource.
const TRANSPORT_PARAMS: [&str; 2] = ["private_token", "job_token"];

/// The fields of a write: the query string's, then the body's (JSON object or form).
pub fn fields(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "413 Request Entity Too Large",
            )
        } else {
            ApiError::param(format!("cannot read the request body: {rejection}"))
        }
    })?;
    let mut fields = Map::new();
    let query_pairs = pairs(query.unwrap_or_default())?
        .into_iter()
        .filter(|(k, _)| !TRANSPORT_PARAMS.contains(&k.as_str()))
        .collect();
    pairs_to_fields(query_pairs, &mut fields);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(fields);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::param("the form body is not UTF-8"))?;
        pairs_to_fields(pairs(text)?, &mut fields);
        return Ok(fields);
    }
    if content_type.starts_with("multipart/") {
        return Err(ApiError::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "415 Unsupported Media Type: send JSON or a URL-encoded form",
        ));
    }
    // GitLab parses a body without a content type as JSON too (curl --data '{…}').
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(object)) => {
            fields.extend(object);
            Ok(fields)
        }
        Ok(_) => Err(ApiError::param("the JSON body must be an object")),
        Err(e) => Err(ApiError::param(format!("the JSON body is invalid: {e}"))),
    }
}

/// Decodes fields into `T` (which denies unknown fields); the error names the field.
pub fn decode<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(fields)).map_err(|e| ApiError::param(e.to_string()))
}

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

/// Query parameters of a read.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        Ok(Query {
            pairs: pairs(query.unwrap_or_default())?,
        })
    }

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
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "t" | "yes" | "y" | "on") => Ok(true),
            Some("false" | "0" | "f" | "no" | "n" | "off" | "") => Ok(false),
            Some(_) => Err(ApiError::param(format!("{key} is invalid"))),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_lists_and_query_fields_merge() {
        let mut fields = Map::new();
        pairs_to_fields(
            pairs("name=a+b&milestones[]=m1&milestones[]=m%202").unwrap(),
            &mut fields,
        );
        assert_eq!(fields["name"], "a b");
        assert_eq!(fields["milestones"], serde_json::json!(["m1", "m 2"]));
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
    }
}
