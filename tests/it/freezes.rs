//! Deploy freezes: windows in several time zones, across daylight-saving switches, and
//! the errors that change nothing.

use serde_json::Value;

use crate::support::{Env, Repo, project};

fn status(repo: &Repo, at: &str) -> Value {
    serde_json::from_str(&repo.release_ok(["freeze", "status", "--json", "--at", at])).unwrap()
}

fn frozen(repo: &Repo, at: &str) -> bool {
    let out = repo.release(["freeze", "check", "--at", at]);
    match out.status.code() {
        Some(0) => false,
        Some(1) => true,
        other => panic!(
            "freeze check exited {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn weekend_freeze_in_berlin_spans_the_spring_dst_switch() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * FRI",
        "--end",
        "0 7 * * mon",
        "--timezone",
        "Europe/Berlin",
    ]);
    // Clocks go from CET (+1) to CEST (+2) on Sunday 2024-03-31: the freeze begins at
    // 23:00 CET on Friday and ends at 07:00 CEST on Monday.
    let s = status(&repo, "2024-03-30T12:00:00Z");
    assert_eq!(s["frozen"], true, "{s}");
    assert_eq!(s["periods"], serde_json::json!([1]));
    assert_eq!(s["started_at"], "2024-03-29T22:00:00.000Z");
    assert_eq!(s["ends_at"], "2024-04-01T05:00:00.000Z");
    assert!(!frozen(&repo, "2024-03-29T21:59:00Z"));
    assert!(frozen(&repo, "2024-03-29T22:00:00Z"));
    assert!(
        frozen(&repo, "2024-04-01T05:00:00Z"),
        "the end is inclusive"
    );
    assert!(!frozen(&repo, "2024-04-01T05:01:00Z"));
    // In summer the same wall-clock times are an hour earlier in UTC.
    let s = status(&repo, "2024-06-08T12:00:00Z");
    assert_eq!(s["started_at"], "2024-06-07T21:00:00.000Z");
    assert_eq!(s["ends_at"], "2024-06-10T05:00:00.000Z");

    let s = status(&repo, "2024-04-02T00:00:00Z");
    assert_eq!(s["frozen"], false);
    assert_eq!(s["next_freeze"]["period"], 1);
    assert_eq!(s["next_freeze"]["starts_at"], "2024-04-05T21:00:00.000Z");
    assert_eq!(s["next_freeze"]["ends_at"], "2024-04-08T05:00:00.000Z");
    let human = repo.release_ok(["freeze", "status", "--at", "2024-04-02T00:00:00Z"]);
    assert!(
        human.contains("not frozen; the next freeze (period 1) begins 2024-04-05 21:00 UTC"),
        "{human}"
    );
    let human = repo.release_ok(["freeze", "status", "--at", "2024-03-30T12:00:00Z"]);
    assert!(
        human.contains("frozen by period 1 since 2024-03-29 22:00 UTC until 2024-04-01 05:00 UTC"),
        "{human}"
    );
}

#[test]
fn a_start_in_the_skipped_hour_begins_when_the_clock_resumes() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    // New York skips 02:00–03:00 on 2024-03-10; 02:30 does not exist that day.
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "30 2 * * *",
        "--end",
        "0 4 * * *",
        "--timezone",
        "America/New_York",
    ]);
    let s = status(&repo, "2024-03-10T07:30:00Z");
    assert_eq!(s["frozen"], true, "{s}");
    assert_eq!(s["started_at"], "2024-03-10T07:00:00.000Z", "03:00 EDT");
    assert_eq!(s["ends_at"], "2024-03-10T08:00:00.000Z", "04:00 EDT");
    // The day before, EST (-5): 02:30 is 07:30 UTC.
    assert!(!frozen(&repo, "2024-03-09T07:29:00Z"));
    assert!(frozen(&repo, "2024-03-09T07:30:00Z"));
    assert!(frozen(&repo, "2024-03-09T09:00:00Z"));
    assert!(!frozen(&repo, "2024-03-09T09:01:00Z"));
}

#[test]
fn windows_follow_each_zone_and_overlaps_merge() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    // Half-hour offset zone: 09:00–17:00 IST is 03:30–11:30 UTC.
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 9 * * 1-5",
        "--end",
        "0 17 * * 1-5",
        "--timezone",
        "Asia/Kolkata",
    ]);
    // 20:00–22:00 in Sydney (AEST +10 in June) is 10:00–12:00 UTC: overlaps the first.
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 20 * * *",
        "--end",
        "0 22 * * *",
        "--timezone",
        "Australia/Sydney",
    ]);
    assert!(!frozen(&repo, "2024-06-10T03:29:00Z"));
    let s = status(&repo, "2024-06-10T04:00:00Z");
    assert_eq!(s["periods"], serde_json::json!([1, 2]), "{s}");
    assert_eq!(s["started_at"], "2024-06-10T03:30:00.000Z");
    assert_eq!(
        s["ends_at"], "2024-06-10T12:00:00.000Z",
        "merged with period 2"
    );
    let s = status(&repo, "2024-06-10T11:45:00Z");
    assert_eq!(s["periods"], serde_json::json!([2]));
    assert!(!frozen(&repo, "2024-06-10T12:01:00Z"));
    // Saturday: only the Sydney evening window.
    let s = status(&repo, "2024-06-15T00:00:00Z");
    assert_eq!(s["frozen"], false);
    assert_eq!(s["next_freeze"]["period"], 2);
    assert_eq!(s["next_freeze"]["starts_at"], "2024-06-15T10:00:00.000Z");
}

#[test]
fn freeze_periods_are_listed_updated_and_deleted_as_gitlab_entities() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * 5",
        "--end",
        "0 7 * * 1",
    ]);
    repo.release_ok([
        "freeze",
        "add",
        "--from",
        "2024-12-20T00:00:00Z",
        "--until",
        "2025-01-06T00:00:00Z",
    ]);
    let list: Value = serde_json::from_str(&repo.release_ok(["freeze", "list", "--json"])).unwrap();
    let first = list[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "freeze_start",
            "freeze_end",
            "cron_timezone",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(list[0]["cron_timezone"], "UTC", "the default zone");
    assert_eq!(list[1]["freeze_start"], Value::Null);
    assert_eq!(list[1]["from"], "2024-12-20T00:00:00.000Z");
    assert!(frozen(&repo, "2024-12-25T12:00:00Z"));
    assert!(
        !frozen(&repo, "2025-01-07T12:00:00Z"),
        "a Tuesday after the window"
    );

    let stored: Value =
        serde_json::from_str(&repo.git(["show", "refs/notes/releases:freezes.json"])).unwrap();
    assert_eq!(stored["freezes"][0]["freeze_start"], "0 23 * * 5");
    assert_eq!(stored["freezes"][0]["key"].as_str().unwrap().len(), 32);

    env.set("GIT_RELEASE_NOW", "2024-03-02T00:00:00Z");
    repo.release_ok(["freeze", "update", "1", "--timezone", "Europe/Paris"]);
    let list: Value = serde_json::from_str(&repo.release_ok(["freeze", "list", "--json"])).unwrap();
    assert_eq!(list[0]["cron_timezone"], "Europe/Paris");
    assert_eq!(list[0]["freeze_start"], "0 23 * * 5");
    assert_eq!(list[0]["updated_at"], "2024-03-02T00:00:00.000Z");

    repo.release_ok(["freeze", "delete", "1"]);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 1 * * *",
        "--end",
        "0 2 * * *",
    ]);
    let list: Value = serde_json::from_str(&repo.release_ok(["freeze", "list", "--json"])).unwrap();
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3], "ids are never reused");
    let err = repo.release_err(1, ["freeze", "delete", "1"]);
    assert!(err.contains("freeze period 1 not found"), "{err}");
    repo.assert_fsck_clean();
}

#[test]
fn bad_cron_zone_or_window_is_a_clear_error_that_changes_nothing() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * 5",
        "--end",
        "0 7 * * 1",
    ]);
    let before = repo.notes_ref();
    for (args, expect) in [
        (
            vec!["--start", "0 23 * *", "--end", "0 7 * * 1"],
            "\"0 23 * *\" for the freeze start: it has 4 fields",
        ),
        (
            vec!["--start", "0 23 * * 5", "--end", "0 25 * * 1"],
            "\"0 25 * * 1\" for the freeze end",
        ),
        (
            vec!["--start", "0 0 30 2 *", "--end", "0 7 * * 1"],
            "never matches",
        ),
        (
            vec!["--start", "0 0 0 23 * * 5", "--end", "0 7 * * 1"],
            "it has 7 fields",
        ),
        (
            vec!["--start", "0 23 * * funday", "--end", "0 7 * * 1"],
            "funday",
        ),
        (
            vec![
                "--start",
                "0 23 * * 5",
                "--end",
                "0 7 * * 1",
                "--timezone",
                "Mars/Olympus",
            ],
            "unknown time zone \"Mars/Olympus\"",
        ),
        (
            vec![
                "--from",
                "2024-01-02T00:00:00Z",
                "--until",
                "2024-01-01T00:00:00Z",
            ],
            "the window must end (until) later than it starts (from)",
        ),
    ] {
        let mut full = vec!["freeze", "add"];
        full.extend(args);
        let err = repo.release_err(1, &full);
        assert!(err.contains(expect), "{full:?}: {err}");
    }
    let err = repo.release_err(1, ["freeze", "update", "1", "--start", "* * *"]);
    assert!(err.contains("\"* * *\""), "{err}");
    let err = repo.release_err(1, ["freeze", "update", "1", "--timezone", "Nowhere"]);
    assert!(err.contains("IANA"), "hint: {err}");
    let err = repo.release_err(1, ["freeze", "update", "9", "--timezone", "UTC"]);
    assert!(err.contains("freeze period 9 not found"), "{err}");
    // A time that is not one is a usage error (exit 2), caught by the argument parser.
    let err = repo.release_err(2, ["freeze", "status", "--at", "yesterday"]);
    assert!(err.contains("\"yesterday\""), "{err}");
    let err = repo.release_err(
        2,
        [
            "freeze",
            "add",
            "--from",
            "tomorrow",
            "--until",
            "2024-01-01T00:00:00Z",
        ],
    );
    assert!(
        err.contains("\"tomorrow\"") && err.contains("ISO 8601"),
        "{err}"
    );
    let err = repo.release_err(2, ["freeze", "update", "1", "--until", "later"]);
    assert!(err.contains("\"later\""), "{err}");
    assert_eq!(repo.notes_ref(), before);
    // Usage errors: exit 2.
    repo.release_err(2, ["freeze", "add", "--start", "0 23 * * 5"]);
    repo.release_err(
        2,
        [
            "freeze",
            "add",
            "--start",
            "0 1 * * *",
            "--end",
            "0 2 * * *",
            "--from",
            "2024-01-01",
        ],
    );
    assert_eq!(repo.notes_ref(), before);
}

#[test]
fn create_during_a_freeze_warns_and_proceeds() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    repo.release_ok([
        "freeze",
        "add",
        "--from",
        "2024-02-29T00:00:00Z",
        "--until",
        "2024-03-02T00:00:00Z",
    ]);
    let out = repo.release(["create", "v1", "--ref", "HEAD"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "warning: a deploy freeze is in force (period 1) until 2024-03-02T00:00:00.000Z"
        ),
        "{err}"
    );
    assert!(repo.ref_exists("refs/tags/v1"));
    env.set("GIT_RELEASE_NOW", "2024-03-03T00:00:00Z");
    let out = repo.release(["create", "v2", "--ref", "HEAD"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("freeze"));
    // `check` without --at uses GIT_RELEASE_NOW.
    repo.release_ok(["freeze", "check"]);
}

#[test]
fn a_start_in_the_repeated_hour_begins_at_its_first_occurrence() {
    let env = Env::new();
    let repo = project(&env, "2024-03-01T00:00:00Z", 1);
    // Berlin repeats 02:00–03:00 on 2024-10-27 (CEST +2, then CET +1): 02:30 happens
    // at 00:30 UTC and again at 01:30 UTC; the freeze begins at the first.
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "30 2 27 10 *",
        "--end",
        "0 4 27 10 *",
        "--timezone",
        "Europe/Berlin",
    ]);
    assert!(!frozen(&repo, "2024-10-27T00:29:00Z"));
    let s = status(&repo, "2024-10-27T01:00:00Z");
    assert_eq!(s["started_at"], "2024-10-27T00:30:00.000Z", "{s}");
    assert_eq!(s["ends_at"], "2024-10-27T03:00:00.000Z", "04:00 CET");
    assert!(frozen(&repo, "2024-10-27T02:59:00Z"));
    assert!(!frozen(&repo, "2024-10-27T03:01:00Z"));
}
