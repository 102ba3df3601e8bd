//! `project.json` at the root of the notes tree: the schema version of the store and
//! the counters behind the small ids users see (links, milestones, freezes…). Ids are
//! never reused: a counter only grows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SCHEMA;
use crate::error::{Error, Result};
use crate::model::id_kind::MAX_ID;
use crate::model::{IdKind, Key};
use crate::time::Timestamp;

pub const PROJECT_PATH: &str = "project.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectData {
    pub schema: u64,
    /// Kind ("link", "milestone", …) → the last id handed out.
    #[serde(default)]
    pub last_ids: BTreeMap<String, u64>,
    /// Upcoming releases whose evidence is to be collected once they are due: write
    /// commands read this short list instead of scanning every release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_evidence: Vec<PendingEvidence>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An upcoming release waiting for its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEvidence {
    /// Merges of clones match list entries by key.
    pub key: Key,
    pub tag: String,
    /// The release's `released_at` when it was scheduled.
    pub due: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ProjectData {
    fn default() -> Self {
        ProjectData {
            schema: SCHEMA,
            last_ids: BTreeMap::new(),
            pending_evidence: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl ProjectData {
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let location = format!("{}:{PROJECT_PATH}", super::NOTES_REF);
        let data: ProjectData = serde_json::from_slice(bytes)
            .map_err(|e| Error::corrupt_by(location.clone(), "cannot decode it", e))?;
        if data.schema > SCHEMA {
            return Err(Error::SchemaTooNew {
                location,
                found: data.schema,
                known: SCHEMA,
            });
        }
        Ok(data)
    }

    /// Hands out the next id of `kind`, above both the counter and `at_least_above`
    /// (the highest id already in use, for data merged from another clone).
    /// `None` when that would pass `MAX_ID` (the counter is at its end); then nothing
    /// changes.
    pub fn next_id(&mut self, kind: IdKind, at_least_above: u64) -> Option<u64> {
        let last = self.last_ids.entry(kind.counter().to_owned()).or_insert(0);
        let next = (*last).max(at_least_above).checked_add(1)?;
        if next > MAX_ID {
            return None;
        }
        *last = next;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_grow_past_ids_in_use_and_are_never_reused() {
        let mut data = ProjectData::default();
        assert_eq!(data.next_id(IdKind::Link, 0), Some(1));
        assert_eq!(data.next_id(IdKind::Link, 0), Some(2));
        assert_eq!(data.next_id(IdKind::Link, 10), Some(11));
        assert_eq!(data.next_id(IdKind::Link, u64::MAX), None);
        assert_eq!(
            data.next_id(IdKind::Link, MAX_ID),
            None,
            "2^53 is past the end"
        );
        assert_eq!(data.next_id(IdKind::Link, MAX_ID - 1), Some(MAX_ID));
        assert_eq!(
            data.next_id(IdKind::Link, 0),
            None,
            "the counter is at its end"
        );
        assert_eq!(data.next_id(IdKind::Milestone, 0), Some(1));
        let text = serde_json::to_vec(&data).unwrap();
        assert_eq!(ProjectData::parse(&text).unwrap(), data);
        assert!(matches!(
            ProjectData::parse(br#"{"schema": 9}"#),
            Err(Error::SchemaTooNew { found: 9, .. })
        ));
    }
}
