//! The JSON document in one note: every release whose tag peels to that commit.
//! `{"schema": 1, "releases": {"<tag>": {…}}}`, pretty-printed with a trailing newline
//! so that `git notes show` reads well.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::Release;

/// The newest layout this version reads and writes.
pub const SCHEMA: u64 = 1;

/// What a note blob turned out to hold.
pub enum NoteContent {
    Ours(NoteDoc),
    /// A note somebody wrote with plain `git notes` (not JSON of ours): left alone.
    Foreign,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoteDoc {
    releases: Map<String, Value>,
    /// Top-level fields a newer version may add; kept on rewrite.
    extra: Map<String, Value>,
}

impl NoteDoc {
    /// `location` names the note in error messages (e.g. "the note on commit 1a2b3c").
    pub fn parse(bytes: &[u8], location: &str) -> Result<NoteContent> {
        let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) if looks_like_json => {
                return Err(Error::corrupt(location, format!("invalid JSON: {e}")));
            }
            Err(_) => return Ok(NoteContent::Foreign),
        };
        let Value::Object(mut top) = value else {
            return Ok(NoteContent::Foreign);
        };
        if !top.contains_key("schema") && !top.contains_key("releases") {
            return Ok(NoteContent::Foreign);
        }
        match top.remove("schema") {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(found) if found > SCHEMA => {
                    return Err(Error::SchemaTooNew {
                        location: location.into(),
                        found,
                        known: SCHEMA,
                    });
                }
                Some(_) => {}
                None => {
                    return Err(Error::corrupt(
                        location,
                        format!("\"schema\" must be a whole number, not {n}"),
                    ));
                }
            },
            other => {
                return Err(Error::corrupt(
                    location,
                    format!(
                        "\"schema\" must be a whole number, found {}",
                        describe(other.as_ref())
                    ),
                ));
            }
        }
        let releases = match top.remove("releases") {
            Some(Value::Object(map)) => map,
            None => Map::new(),
            Some(other) => {
                return Err(Error::corrupt(
                    location,
                    format!(
                        "\"releases\" must be an object, found {}",
                        describe(Some(&other))
                    ),
                ));
            }
        };
        Ok(NoteContent::Ours(NoteDoc {
            releases,
            extra: top,
        }))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut top = Map::new();
        top.insert("schema".into(), Value::from(SCHEMA));
        top.insert("releases".into(), Value::Object(self.releases.clone()));
        for (k, v) in &self.extra {
            top.insert(k.clone(), v.clone());
        }
        let mut bytes =
            serde_json::to_vec_pretty(&Value::Object(top)).expect("a JSON value always serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn is_empty(&self) -> bool {
        self.releases.is_empty()
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.releases.keys().map(String::as_str)
    }

    pub fn contains(&self, tag: &str) -> bool {
        self.releases.contains_key(tag)
    }

    /// Decodes the record for `tag`; a malformed record is an error naming it.
    pub fn get(&self, tag: &str, location: &str) -> Result<Option<Release>> {
        let Some(value) = self.releases.get(tag) else {
            return Ok(None);
        };
        decode(tag, value, location).map(Some)
    }

    /// Every record, decoded one by one so that one bad record hides no other.
    pub fn records<'a>(
        &'a self,
        location: &'a str,
    ) -> impl Iterator<Item = (&'a str, Result<Release>)> + 'a {
        self.releases
            .iter()
            .map(move |(tag, value)| (tag.as_str(), decode(tag, value, location)))
    }

    pub fn set(&mut self, tag: &str, release: &Release) {
        let value = serde_json::to_value(release).expect("a release always serializes");
        self.releases.insert(tag.to_owned(), value);
    }

    pub fn remove(&mut self, tag: &str) -> bool {
        self.releases.shift_remove(tag).is_some()
    }
}

fn decode(tag: &str, value: &Value, location: &str) -> Result<Release> {
    Release::deserialize_from(value)
        .map_err(|e| Error::corrupt(format!("release {tag:?} in {location}"), e.to_string()))
}

fn describe(value: Option<&Value>) -> &'static str {
    match value {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    }
}

impl Release {
    fn deserialize_from(value: &Value) -> serde_json::Result<Release> {
        serde::Deserialize::deserialize(value)
    }
}
