//! Deploy freezes: cron windows in IANA time zones, and "is it frozen at t".
//!
//! GitLab's rule: a period is active at `t` when the most recent `freeze_start`
//! occurrence at or before `t` is followed by a `freeze_end` occurrence still at or
//! after `t`. Occurrences are computed on the wall clock of `cron_timezone` by croner,
//! which resolves daylight-saving gaps (a start in the skipped hour happens when the
//! clock resumes) and repeats (the first of the two instants).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::errors::CronError;
use croner::parser::{CronParser, Seconds, Year};

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::model::IdKind;
use crate::model::freeze::{DEFAULT_ZONE, FREEZES_PATH};
use crate::model::{FreezeFile, FreezePeriod, Key};
use crate::store::{NOTES_REF, Snapshot, Store, Transaction};
use crate::time::Timestamp;

/// Overlapping periods merge: following them is bounded so that a pathological set
/// (e.g. periods that chain forever) still answers.
const MAX_MERGE_STEPS: usize = 1000;

/// How many upcoming windows of a recurring period are looked at to tell that it never
/// ends (a year of daily windows, decades of yearly ones).
const SAMPLED_WINDOWS: usize = 400;

/// Parses a 5-field cron expression (minute hour day-of-month month day-of-week, with
/// ranges, lists, steps and month/day names), as GitLab's Freeze Periods take.
pub fn parse_cron(field: &'static str, expression: &str) -> Result<Cron> {
    let invalid = |reason: String| Error::InvalidCron {
        field,
        expression: expression.to_owned(),
        reason,
    };
    let fields = expression.split_whitespace().count();
    if fields != 5 {
        let plural = if fields == 1 { "" } else { "s" };
        return Err(invalid(format!(
            "it has {fields} field{plural}, expected 5"
        )));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(expression)
        .map_err(|e| invalid(describe_cron_error(&e)))?;
    // A pattern that can never match (Feb 30) is useless as a freeze edge.
    let probe = Utc::now();
    match cron.find_next_occurrence(&probe, false) {
        Ok(_) => Ok(cron),
        Err(_) => Err(invalid("it never matches any date".into())),
    }
}

fn describe_cron_error(error: &CronError) -> String {
    match error {
        CronError::InvalidPattern(m) | CronError::IllegalCharacters(m) => m.clone(),
        other => other.to_string(),
    }
}

pub fn parse_zone(zone: &str) -> Result<Tz> {
    Tz::from_str(zone.trim()).map_err(|_| Error::UnknownTimeZone {
        zone: zone.to_owned(),
    })
}

/// A period's schedule, parsed.
enum Schedule {
    // Boxed: a parsed cron pattern is large next to two instants.
    Cron {
        start: Box<Cron>,
        end: Box<Cron>,
        zone: Tz,
    },
    Once {
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    },
}

/// One occurrence of a period: frozen from `start` through `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

fn stamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_datetime(at)
}

impl Schedule {
    fn of(period: &FreezePeriod) -> Result<Self> {
        let corrupt = |reason: String| {
            Error::corrupt(
                format!("{NOTES_REF}:{FREEZES_PATH} (freeze period {})", period.id),
                reason,
            )
        };
        match (
            &period.freeze_start,
            &period.freeze_end,
            period.from,
            period.until,
        ) {
            (Some(start), Some(end), _, _) => Ok(Schedule::Cron {
                start: Box::new(
                    parse_cron("freeze_start", start).map_err(|e| corrupt(e.to_string()))?,
                ),
                end: Box::new(parse_cron("freeze_end", end).map_err(|e| corrupt(e.to_string()))?),
                zone: parse_zone(&period.cron_timezone).map_err(|e| corrupt(e.to_string()))?,
            }),
            (_, _, Some(from), Some(until)) => Ok(Schedule::Once {
                from: from.datetime(),
                until: until.datetime(),
            }),
            _ => Err(corrupt(
                "neither freeze_start/freeze_end nor from/until are set".into(),
            )),
        }
    }

    /// The window that covers `t`, if any.
    fn window_at(&self, t: DateTime<Utc>) -> Option<Window> {
        match self {
            Schedule::Cron { start, end, zone } => {
                let local = t.with_timezone(zone);
                // No start occurrence before t (within croner's search range): not frozen.
                let began = start.find_previous_occurrence(&local, true).ok()?;
                let ends = end.find_next_occurrence(&began, false).ok()?;
                let (began, ends) = (began.with_timezone(&Utc), ends.with_timezone(&Utc));
                (ends >= t).then(|| Window {
                    start: stamp(began),
                    end: stamp(ends),
                })
            }
            Schedule::Once { from, until } => (*from <= t && t <= *until).then(|| Window {
                start: stamp(*from),
                end: stamp(*until),
            }),
        }
    }

    /// Whether the period is ever not frozen after `t`: a window ends at an instant
    /// that is not also a start (a start at the very instant a window closes opens the
    /// next one at once). Checked on the next windows, which repeat with the crons.
    fn ever_closes(&self, t: DateTime<Utc>) -> bool {
        let Schedule::Cron { start, zone, .. } = self else {
            return true;
        };
        let mut at = t;
        for _ in 0..SAMPLED_WINDOWS {
            let Some(window) = self.next_window_after(at) else {
                return true;
            };
            let end = window.end.datetime().with_timezone(zone);
            let reopens = start
                .find_next_occurrence(&end, true)
                .is_ok_and(|next| next == end);
            if !reopens {
                return true;
            }
            at = window.end.datetime();
        }
        false
    }

    /// The first window that begins after `t`.
    fn next_window_after(&self, t: DateTime<Utc>) -> Option<Window> {
        match self {
            Schedule::Cron { start, end, zone } => {
                let local = t.with_timezone(zone);
                let begins = start.find_next_occurrence(&local, false).ok()?;
                let ends = end.find_next_occurrence(&begins, false).ok()?;
                Some(Window {
                    start: stamp(begins.with_timezone(&Utc)),
                    end: stamp(ends.with_timezone(&Utc)),
                })
            }
            Schedule::Once { from, until } => (*from > t).then(|| Window {
                start: stamp(*from),
                end: stamp(*until),
            }),
        }
    }
}

/// A freeze in force: the periods that make it and the merged window they cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Ids of the periods active at the time asked about, then of those that extend it.
    pub periods: Vec<u64>,
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
}

/// The next freeze to begin after a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    pub period: u64,
    pub window: Window,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub at: Timestamp,
    pub active: Option<Active>,
    /// When not frozen: the next freeze, if any period ever begins again.
    pub next: Option<Upcoming>,
}

fn schedules(file: &FreezeFile) -> Result<Vec<(u64, Schedule)>> {
    file.freezes
        .iter()
        .map(|p| Ok((p.id, Schedule::of(p)?)))
        .collect()
}

/// The freeze in force at `at` across all `periods`, merging overlapping ones.
pub fn active_in(file: &FreezeFile, at: Timestamp) -> Result<Option<Active>> {
    let schedules = schedules(file)?;
    let t = at.datetime();
    let mut active: Option<Active> = None;
    for (id, schedule) in &schedules {
        if let Some(window) = schedule.window_at(t) {
            let merged = active.get_or_insert(Active {
                periods: Vec::new(),
                started_at: window.start,
                ends_at: window.end,
            });
            merged.periods.push(*id);
            merged.started_at = merged.started_at.min(window.start);
            merged.ends_at = merged.ends_at.max(window.end);
        }
    }
    let Some(mut merged) = active else {
        return Ok(None);
    };
    // A period that is active when the merged window ends carries the freeze on.
    for _ in 0..MAX_MERGE_STEPS {
        let edge = merged.ends_at.datetime();
        let mut extended = false;
        for (id, schedule) in &schedules {
            if let Some(window) = schedule.window_at(edge) {
                if window.end > merged.ends_at {
                    merged.ends_at = window.end;
                    if !merged.periods.contains(id) {
                        merged.periods.push(*id);
                    }
                    extended = true;
                }
            }
        }
        if !extended {
            break;
        }
    }
    Ok(Some(merged))
}

pub fn status_in(file: &FreezeFile, at: Timestamp) -> Result<Status> {
    let active = active_in(file, at)?;
    let next = if active.is_some() {
        None
    } else {
        schedules(file)?
            .iter()
            .filter_map(|(id, s)| {
                s.next_window_after(at.datetime()).map(|window| Upcoming {
                    period: *id,
                    window,
                })
            })
            .min_by_key(|u| (u.window.start, u.period))
    };
    Ok(Status { at, active, next })
}

pub fn load(snapshot: &Snapshot<'_>) -> Result<FreezeFile> {
    let Some(bytes) = snapshot.file(FREEZES_PATH)? else {
        return Ok(FreezeFile::default());
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::corrupt_by(format!("{NOTES_REF}:{FREEZES_PATH}"), "cannot decode it", e)
    })
}

fn load_tx(tx: &Transaction<'_, '_>) -> Result<FreezeFile> {
    Ok(tx.json_file(FREEZES_PATH)?.unwrap_or_default())
}

pub fn list(repo: &Repo) -> Result<Vec<FreezePeriod>> {
    Ok(load(&Snapshot::read(repo.git())?)?.freezes)
}

/// Whether a deploy freeze is in force at `at` in this repository (the pre-push hook
/// and `create` ask this).
pub fn active_at(repo: &Repo, at: Timestamp) -> Result<Option<Active>> {
    active_in(&load(&Snapshot::read(repo.git())?)?, at)
}

pub fn status(repo: &Repo, at: Timestamp) -> Result<Status> {
    status_in(&load(&Snapshot::read(repo.git())?)?, at)
}

/// What a period should be: recurring (two crons and a zone) or one-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Cron {
        start: String,
        end: String,
        zone: String,
    },
    Once {
        from: Timestamp,
        until: Timestamp,
    },
}

impl Spec {
    /// Checks everything before anything is written.
    fn validate(&self) -> Result<()> {
        match self {
            Spec::Cron { start, end, zone } => {
                let schedule = Schedule::Cron {
                    start: Box::new(parse_cron("the freeze start", start)?),
                    end: Box::new(parse_cron("the freeze end", end)?),
                    zone: parse_zone(zone)?,
                };
                if !schedule.ever_closes(Utc::now()) {
                    return Err(Error::invalid(
                        "freeze period",
                        format!("start {start:?}, end {end:?}"),
                        "it would never end: every end time is also a start time, so a \
                         freeze opens again the moment it closes (the same cron for both is a \
                         freeze that lasts forever); give an end that falls between starts",
                    ));
                }
            }
            Spec::Once { from, until } => {
                if until <= from {
                    return Err(Error::invalid(
                        "freeze window",
                        format!("{from} → {until}"),
                        "the window must end (until) later than it starts (from)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn apply(&self, period: &mut FreezePeriod) {
        match self {
            Spec::Cron { start, end, zone } => {
                period.freeze_start = Some(start.trim().to_owned());
                period.freeze_end = Some(end.trim().to_owned());
                period.cron_timezone = zone.trim().to_owned();
                period.from = None;
                period.until = None;
            }
            Spec::Once { from, until } => {
                period.freeze_start = None;
                period.freeze_end = None;
                period.cron_timezone = DEFAULT_ZONE.to_owned();
                period.from = Some(*from);
                period.until = Some(*until);
            }
        }
    }
}

pub fn add(repo: &Repo, spec: Spec) -> Result<FreezePeriod> {
    spec.validate()?;
    let now = Timestamp::now()?;
    let key = Key::random();
    let written = Store::new(repo).update("freeze add", |tx| {
        let mut file = load_tx(tx)?;
        let id = tx.allocate_id(IdKind::Freeze, file.highest_id())?;
        let mut period = FreezePeriod {
            key,
            id,
            freeze_start: None,
            freeze_end: None,
            cron_timezone: DEFAULT_ZONE.to_owned(),
            from: None,
            until: None,
            created_at: now,
            updated_at: now,
            extra: Default::default(),
        };
        spec.apply(&mut period);
        file.freezes.push(period.clone());
        tx.put_json_file(FREEZES_PATH, &file)?;
        Ok(period)
    })?;
    Ok(written.value)
}

/// Changes to a period: any of the cron fields, or a new one-off window.
#[derive(Debug, Default, Clone)]
pub struct Change {
    pub start: Option<String>,
    pub end: Option<String>,
    pub zone: Option<String>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

pub fn update(repo: &Repo, id: u64, change: Change) -> Result<FreezePeriod> {
    let cron_change = change.start.is_some() || change.end.is_some() || change.zone.is_some();
    let once_change = change.from.is_some() || change.until.is_some();
    if !cron_change && !once_change {
        return Err(Error::invalid(
            "freeze update",
            id.to_string(),
            "nothing to change: give a start or end cron or a time zone, or a window (from and until)",
        ));
    }
    if cron_change && once_change {
        return Err(Error::invalid(
            "freeze update",
            id.to_string(),
            "give cron fields (start, end, time zone) or a window (from, until), not both",
        ));
    }
    let now = Timestamp::now()?;
    let written = Store::new(repo).update(&format!("freeze update {id}"), |tx| {
        let mut file = load_tx(tx)?;
        let period = file
            .freezes
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or(Error::FreezeNotFound { id })?;
        let spec = if cron_change {
            let pick = |new: &Option<String>, old: &Option<String>, flag: &str| {
                new.clone().or_else(|| old.clone()).ok_or_else(|| {
                    Error::invalid(
                        "freeze update",
                        id.to_string(),
                        format!("period {id} is a one-off window: give both a start and an end cron (the {flag} is missing)"),
                    )
                })
            };
            Spec::Cron {
                start: pick(&change.start, &period.freeze_start, "start")?,
                end: pick(&change.end, &period.freeze_end, "end")?,
                zone: change
                    .zone
                    .clone()
                    .unwrap_or_else(|| period.cron_timezone.clone()),
            }
        } else {
            let missing = || {
                Error::invalid(
                    "freeze update",
                    id.to_string(),
                    format!("period {id} is recurring: a window needs both from and until"),
                )
            };
            Spec::Once {
                from: change.from.or(period.from).ok_or_else(missing)?,
                until: change.until.or(period.until).ok_or_else(missing)?,
            }
        };
        spec.validate()?;
        spec.apply(period);
        period.updated_at = now;
        let period = period.clone();
        tx.put_json_file(FREEZES_PATH, &file)?;
        Ok(period)
    })?;
    Ok(written.value)
}

pub fn delete(repo: &Repo, id: u64) -> Result<FreezePeriod> {
    let written = Store::new(repo).update(&format!("freeze delete {id}"), |tx| {
        let mut file = load_tx(tx)?;
        let position = file
            .freezes
            .iter()
            .position(|p| p.id == id)
            .ok_or(Error::FreezeNotFound { id })?;
        let period = file.freezes.remove(position);
        tx.put_json_file(FREEZES_PATH, &file)?;
        Ok(period)
    })?;
    Ok(written.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn cron_period(id: u64, start: &str, end: &str, zone: &str) -> FreezePeriod {
        let t = at("2024-01-01T00:00:00Z");
        FreezePeriod {
            key: Key::random(),
            id,
            freeze_start: Some(start.into()),
            freeze_end: Some(end.into()),
            cron_timezone: zone.into(),
            from: None,
            until: None,
            created_at: t,
            updated_at: t,
            extra: Default::default(),
        }
    }

    fn file(periods: Vec<FreezePeriod>) -> FreezeFile {
        FreezeFile {
            freezes: periods,
            extra: Default::default(),
        }
    }

    #[test]
    fn weekend_freeze_in_utc() {
        let f = file(vec![cron_period(1, "0 23 * * fri", "0 7 * * mon", "UTC")]);
        // Saturday 2024-06-08 noon: frozen since Friday 23:00 until Monday 07:00.
        let active = active_in(&f, at("2024-06-08T12:00:00Z")).unwrap().unwrap();
        assert_eq!(active.started_at, at("2024-06-07T23:00:00Z"));
        assert_eq!(active.ends_at, at("2024-06-10T07:00:00Z"));
        // The edges are inclusive; a minute later it is over.
        assert!(active_in(&f, at("2024-06-07T23:00:00Z")).unwrap().is_some());
        assert!(active_in(&f, at("2024-06-10T07:00:00Z")).unwrap().is_some());
        assert!(active_in(&f, at("2024-06-10T07:01:00Z")).unwrap().is_none());
        assert!(active_in(&f, at("2024-06-07T22:59:59Z")).unwrap().is_none());
        let status = status_in(&f, at("2024-06-11T00:00:00Z")).unwrap();
        assert_eq!(
            status.next.unwrap().window.start,
            at("2024-06-14T23:00:00Z")
        );
    }

    #[test]
    fn overlapping_periods_merge() {
        let f = file(vec![
            cron_period(1, "0 9 * * *", "0 12 * * *", "UTC"),
            cron_period(2, "0 11 * * *", "0 15 * * *", "UTC"),
        ]);
        let active = active_in(&f, at("2024-06-08T10:00:00Z")).unwrap().unwrap();
        assert_eq!(active.periods, vec![1, 2]);
        assert_eq!(active.ends_at, at("2024-06-08T15:00:00Z"));
    }

    #[test]
    fn bad_cron_and_zone_are_named() {
        for bad in [
            "0 23 * *",
            "61 * * * *",
            "0 0 30 2 *",
            "* * * * * *",
            "x y z a b",
        ] {
            let e = parse_cron("--start", bad).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert!(matches!(
            parse_zone("Mars/Olympus"),
            Err(Error::UnknownTimeZone { .. })
        ));
        for ok in ["*/15 1-5 1,15 jan-mar mon-fri", "0 0 * * SUN", "5 4 * * 7"] {
            parse_cron("--start", ok).unwrap();
        }
    }
}
