//! Deploy freeze periods as stored in `freezes.json` at the root of the notes tree:
//! GitLab's Freeze Period (two 5-field cron expressions in an IANA zone), or (ours) a
//! one-off window between two instants.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::Key;
use crate::time::Timestamp;

pub const FREEZES_PATH: &str = "freezes.json";

/// GitLab's default `cron_timezone`.
pub const DEFAULT_ZONE: &str = "UTC";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FreezeFile {
    #[serde(default)]
    pub freezes: Vec<FreezePeriod>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreezePeriod {
    pub key: Key,
    pub id: u64,
    /// Cron expression of the moments the freeze begins (recurring periods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_start: Option<String>,
    /// Cron expression of the moments the freeze ends (recurring periods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_end: Option<String>,
    #[serde(default = "default_zone")]
    pub cron_timezone: String,
    /// Start of a one-off window (ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// End of a one-off window (ours), inclusive like a cron end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_zone() -> String {
    DEFAULT_ZONE.to_owned()
}

impl FreezeFile {
    pub fn find(&self, id: u64) -> Option<&FreezePeriod> {
        self.freezes.iter().find(|f| f.id == id)
    }

    pub fn highest_id(&self) -> u64 {
        self.freezes.iter().map(|f| f.id).max().unwrap_or(0)
    }
}

impl FreezePeriod {
    /// How the period reads for people: `0 23 * * 5 → 0 7 * * 1 (Europe/Berlin)` or
    /// `2024-12-20T00:00:00.000Z → 2025-01-06T00:00:00.000Z`.
    pub fn describe(&self) -> String {
        match (&self.freeze_start, &self.freeze_end, self.from, self.until) {
            (Some(start), Some(end), _, _) => {
                format!("{start} → {end} ({})", self.cron_timezone)
            }
            (_, _, Some(from), Some(until)) => format!("{from} → {until}"),
            _ => "(incomplete period)".to_owned(),
        }
    }
}
