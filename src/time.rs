//! Release time: what "now" is, how users write times, and the one format GitLab uses
//! on the wire (`2019-01-03T01:55:18.203Z`).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Overrides the wall clock, for tests and scripted runs (RFC 3339).
pub const NOW_VARIABLE: &str = "GIT_RELEASE_NOW";

/// A UTC instant with millisecond precision, serialized as GitLab does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        // Stored with milliseconds: truncating here keeps comparisons consistent with
        // what a later read of the stored string gives back.
        let millis = at.timestamp_millis();
        Timestamp(DateTime::from_timestamp_millis(millis).unwrap_or(at))
    }

    /// "Now": `GIT_RELEASE_NOW` when set, else the wall clock. Never
    /// `GIT_COMMITTER_DATE`, which scripts set for reproducible commits.
    pub fn now() -> Result<Self> {
        match std::env::var(NOW_VARIABLE) {
            Ok(text) if !text.is_empty() => Self::parse(&text).map_err(|_| {
                Error::invalid(
                    "time",
                    text,
                    format!("{NOW_VARIABLE} must be an RFC 3339 time"),
                )
            }),
            _ => Ok(Self::from_datetime(Utc::now())),
        }
    }

    /// Parses ISO 8601 / RFC 3339 with any offset (`2024-03-01T12:00:00+02:00`,
    /// `2024-03-01T10:00:00Z`, `2024-03-01 10:00:00Z`), or a plain date
    /// (`2024-03-01`, midnight UTC) as GitLab accepts.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let invalid = || {
            Error::invalid(
                "time",
                text,
                "expected an ISO 8601 time such as 2024-03-01T12:00:00Z or 2024-03-01T12:00:00+02:00",
            )
        };
        if let Ok(at) = DateTime::parse_from_rfc3339(trimmed) {
            return Ok(Self::from_datetime(at.with_timezone(&Utc)));
        }
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f%z",
            "%Y-%m-%d %H:%M:%S%.f%z",
            "%Y-%m-%dT%H:%M%z",
        ] {
            if let Ok(at) = DateTime::parse_from_str(trimmed, format) {
                return Ok(Self::from_datetime(at.with_timezone(&Utc)));
            }
        }
        if let Ok(date) = chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            let midnight = date.and_hms_opt(0, 0, 0).ok_or_else(invalid)?;
            return Ok(Self::from_datetime(midnight.and_utc()));
        }
        Self::parse_without_offset(trimmed)
            .map(|(at, _)| at)
            .ok_or_else(invalid)
    }

    /// A date and time with no UTC offset (`2024-03-01T10:00:00`), taken as UTC as
    /// GitLab takes it; with the time as it is then written, for the notice the caller
    /// gives ("taken as UTC: …").
    pub fn parse_without_offset(text: &str) -> Option<(Self, String)> {
        let trimmed = text.trim();
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(at) = chrono::NaiveDateTime::parse_from_str(trimmed, format) {
                let at = Self::from_datetime(at.and_utc());
                return Some((at, at.to_string()));
            }
        }
        None
    }

    pub fn datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn to_gitlab(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_gitlab())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_gitlab())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The format GitLab's release evidence shows times in (its documented example:
/// `"created_at": "2019-06-28 13:23:40 UTC"`), where the rest of its API uses
/// [`Timestamp::to_gitlab`]. Dates (milestone and issue due dates) are shown at
/// midnight UTC. Reading accepts this format and ISO 8601 (snapshots taken before).
pub mod evidence_format {
    use chrono::{NaiveDate, NaiveDateTime};
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    const FORMAT: &str = "%Y-%m-%d %H:%M:%S UTC";

    pub fn format(at: Timestamp) -> String {
        at.datetime().format(FORMAT).to_string()
    }

    pub fn format_date(date: NaiveDate) -> String {
        format!("{} 00:00:00 UTC", date.format("%Y-%m-%d"))
    }

    fn parse(text: &str) -> Option<Timestamp> {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, FORMAT) {
            return Some(Timestamp::from_datetime(at.and_utc()));
        }
        Timestamp::parse(text).ok()
    }

    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a time: {text:?}")))
    }

    /// Optional dates (`due_date`), null when absent.
    pub mod date {
        use super::*;

        pub fn serialize<S: Serializer>(
            date: &Option<NaiveDate>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(d) => serializer.serialize_str(&format_date(*d)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<NaiveDate>, D::Error> {
            let Some(text) = Option::<String>::deserialize(deserializer)? else {
                return Ok(None);
            };
            let day = text.get(..10).unwrap_or(&text);
            NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("not a date: {text:?}")))
        }
    }
}

/// "3 days ago", "in 2 hours": for people, never for machines.
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    let seconds = (now.0 - at.0).num_seconds();
    let (future, s) = (seconds < 0, seconds.unsigned_abs());
    let (n, unit) = match s {
        0..=59 => {
            return if future {
                "in a moment".into()
            } else {
                "just now".into()
            };
        }
        60..=3599 => (s / 60, "minute"),
        3600..=86_399 => (s / 3600, "hour"),
        86_400..=2_591_999 => (s / 86_400, "day"),
        2_592_000..=31_535_999 => (s / 2_592_000, "month"),
        _ => (s / 31_536_000, "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_offset_and_stores_utc_millis() {
        let t = Timestamp::parse("2024-03-01T12:00:00.123456+02:00").unwrap();
        assert_eq!(t.to_gitlab(), "2024-03-01T10:00:00.123Z");
        assert_eq!(
            Timestamp::parse("2024-03-01").unwrap().to_gitlab(),
            "2024-03-01T00:00:00.000Z"
        );
        assert!(Timestamp::parse("2024-13-01T00:00:00Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn evidence_times_are_gitlabs_and_read_back() {
        let t = Timestamp::parse("2019-06-28T13:23:40.123Z").unwrap();
        assert_eq!(evidence_format::format(t), "2019-06-28 13:23:40 UTC");
        let date = chrono::NaiveDate::from_ymd_opt(2019, 5, 12).unwrap();
        assert_eq!(
            evidence_format::format_date(date),
            "2019-05-12 00:00:00 UTC"
        );
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = Timestamp::parse("2024-03-10T00:00:00Z").unwrap();
        assert_eq!(
            relative(Timestamp::parse("2024-03-07T00:00:00Z").unwrap(), now),
            "3 days ago"
        );
        assert_eq!(
            relative(Timestamp::parse("2024-03-10T02:00:00Z").unwrap(), now),
            "in 2 hours"
        );
    }
}
