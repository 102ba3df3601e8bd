//! The JSON document in one note: every release whose tag peels to that commit.
//! `{"schema": 1, "releases": {"<tag>": {…}}}`, pretty-printed with a trailing newline
//! so that `git notes show` reads well.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
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

#[derive(Debug, Clone, Default)]
pub struct NoteDoc {
    /// Records are kept as their JSON text until decoded or replaced: listing
    /// thousands of releases decodes each record once, straight from its text.
    releases: BTreeMap<String, Record>,
    /// Top-level fields a newer version may add; kept on rewrite.
    extra: Map<String, Value>,
}

#[derive(Debug, Clone)]
enum Record {
    Raw(Box<RawValue>),
    Value(Value),
}

/// The top level of a note, read in one pass: the records are left as raw JSON text
/// (decoded later, one by one), everything else parsed. (serde's `flatten` would
/// buffer everything through an intermediate tree first.)
/// (tag, record text) pairs in document order.
type RawRecords = Vec<(String, Box<RawValue>)>;

#[derive(Default)]
struct RawNote {
    schema: Option<Value>,
    releases: Option<Result<RawRecords, Value>>,
    extra: Map<String, Value>,
}

impl NoteDoc {
    /// `location` names the note in error messages (e.g. "the note on commit 1a2b3c").
    pub fn parse(bytes: &[u8], location: &str) -> Result<NoteContent> {
        let looks_like_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let top: RawNote = match serde_json::from_slice::<RawNote>(bytes) {
            Ok(top) => top,
            // Text that does not even start like a JSON object is somebody's own note.
            Err(_) if !looks_like_json => return Ok(NoteContent::Foreign),
            Err(e) => return Err(Error::corrupt_by(location, "invalid JSON", e)),
        };
        let RawNote {
            schema,
            releases,
            extra,
        } = top;
        if schema.is_none() && releases.is_none() {
            return Ok(NoteContent::Foreign);
        }
        match schema {
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
        let releases = match releases {
            None => BTreeMap::new(),
            Some(Ok(pairs)) => pairs
                .into_iter()
                .map(|(tag, raw)| (tag, Record::Raw(raw)))
                .collect(),
            Some(Err(other)) => {
                return Err(Error::corrupt(
                    location,
                    format!(
                        "\"releases\" must be an object, found {}",
                        describe(Some(&other))
                    ),
                ));
            }
        };
        Ok(NoteContent::Ours(NoteDoc { releases, extra }))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut top = Map::new();
        top.insert("schema".into(), Value::from(SCHEMA));
        let releases: Map<String, Value> = self
            .releases
            .iter()
            .map(|(tag, record)| {
                let value = match record {
                    // Re-parsed so that the whole note is pretty-printed alike.
                    Record::Raw(raw) => {
                        serde_json::from_str(raw.get()).expect("stored text was valid JSON")
                    }
                    Record::Value(v) => v.clone(),
                };
                (tag.clone(), value)
            })
            .collect();
        top.insert("releases".into(), Value::Object(releases));
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

    /// Whether the note holds nothing beside `schema` and `releases` (an emptied note
    /// with no other field is removed rather than written).
    pub fn has_no_extra(&self) -> bool {
        self.extra.is_empty()
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
        self.releases.insert(tag.to_owned(), Record::Value(value));
    }

    /// The record of `tag` as plain JSON (for merges, which work field by field).
    pub fn get_value(&self, tag: &str) -> Option<Value> {
        match self.releases.get(tag)? {
            Record::Raw(raw) => serde_json::from_str(raw.get()).ok(),
            Record::Value(v) => Some(v.clone()),
        }
    }

    pub fn set_value(&mut self, tag: &str, value: Value) {
        self.releases.insert(tag.to_owned(), Record::Value(value));
    }

    pub fn remove(&mut self, tag: &str) -> bool {
        self.releases.remove(tag).is_some()
    }
}

fn decode(tag: &str, record: &Record, location: &str) -> Result<Release> {
    let decoded = match record {
        Record::Raw(raw) => serde_json::from_str(raw.get()),
        Record::Value(value) => Release::deserialize(value),
    };
    decoded.map_err(|e| {
        Error::corrupt_by(
            format!("release {tag:?} in {location}"),
            "cannot decode it",
            e,
        )
    })
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

impl<'de> Deserialize<'de> for RawNote {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Top;
        impl<'de> serde::de::Visitor<'de> for Top {
            type Value = RawNote;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawNote, A::Error> {
                let mut note = RawNote::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "schema" => note.schema = Some(map.next_value()?),
                        "releases" => note.releases = Some(map.next_value::<RecordsOrOther>()?.0),
                        _ => {
                            note.extra.insert(key, map.next_value()?);
                        }
                    }
                }
                Ok(note)
            }
        }
        deserializer.deserialize_map(Top)
    }
}

/// The `releases` object as (tag, raw record) pairs; anything else kept as a value so
/// the error can say what was found.
struct RecordsOrOther(Result<RawRecords, Value>);

impl<'de> Deserialize<'de> for RecordsOrOther {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Records;
        impl<'de> serde::de::Visitor<'de> for Records {
            type Value = RecordsOrOther;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of release records")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RecordsOrOther, A::Error> {
                let mut pairs = Vec::new();
                while let Some((tag, raw)) = map.next_entry::<String, Box<RawValue>>()? {
                    pairs.push((tag, raw));
                }
                Ok(RecordsOrOther(Ok(pairs)))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<RecordsOrOther, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(RecordsOrOther(Err(Value::Array(Vec::new()))))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                _: &str,
            ) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::String(String::new()))))
            }
            fn visit_bool<E: serde::de::Error>(
                self,
                v: bool,
            ) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::Bool(v))))
            }
            fn visit_i64<E: serde::de::Error>(
                self,
                v: i64,
            ) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::from(v))))
            }
            fn visit_u64<E: serde::de::Error>(
                self,
                v: u64,
            ) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::from(v))))
            }
            fn visit_f64<E: serde::de::Error>(
                self,
                v: f64,
            ) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::from(v))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<RecordsOrOther, E> {
                Ok(RecordsOrOther(Err(Value::Null)))
            }
        }
        deserializer.deserialize_any(Records)
    }
}

/// Refuses a JSON document whose top-level `schema` is newer than this version knows
/// (a document without one is of the first schema).
pub(crate) fn check_schema(bytes: &[u8], location: &str) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Top {
        schema: Option<serde_json::Value>,
    }
    let Ok(Top {
        schema: Some(schema),
    }) = serde_json::from_slice::<Top>(bytes)
    else {
        return Ok(());
    };
    match schema.as_u64() {
        Some(found) if found > SCHEMA => Err(Error::SchemaTooNew {
            location: location.to_owned(),
            found,
            known: SCHEMA,
        }),
        Some(_) => Ok(()),
        None => Err(Error::corrupt(
            location,
            format!("\"schema\" must be a whole number, found {schema}"),
        )),
    }
}
