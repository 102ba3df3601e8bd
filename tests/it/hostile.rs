//! Hostile and malformed input (property tests): tag names against
//! `git check-ref-format` as the oracle, and random or mutated bytes in every file of
//! the store and in `.git-release.toml`. Every case: no panic, no hang, a clear
//! error, and nothing changed on disk by a command that failed.

use std::process::Output;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::support::{Env, Repo, edit_store};

fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// No panic, a known exit code, and an `error:` line on failure.
fn assert_sane(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what} panicked: {stderr}");
    match out.status.code() {
        Some(0) => {}
        Some(1) | Some(2) => assert!(
            stderr.contains("error"),
            "{what}: failure without an error message: {stderr}"
        ),
        other => panic!("{what}: exit {other:?}: {stderr}"),
    }
}

#[test]
fn tag_names_are_accepted_exactly_when_git_and_gitlab_accept_them() {
    let env = Env::new();
    let repo = env.repo("p");
    let chars = prop::sample::select(vec![
        'a', 'Z', '0', '.', '/', '-', '_', '@', '{', '}', ' ', '~', '^', ':', '?', '*', '[', ']',
        '\\', '\t', '\u{7f}', 'é', '!', '#', '+', ',', ';', '=', 'k',
    ]);
    let names = prop::collection::vec(chars, 0..12).prop_map(|c| c.into_iter().collect::<String>());
    let names = prop_oneof![
        names,
        Just("HEAD".to_owned()),
        Just("x.lock".to_owned()),
        Just("@".to_owned())
    ];
    let mut runner = TestRunner::new(cases(300));
    runner
        .run(&names, |name| {
            let git_ok = !name.is_empty()
                && repo
                    .git_output(["check-ref-format", &format!("refs/tags/{name}")])
                    .status
                    .success();
            let expected = git_ok && !name.starts_with('-') && name != "HEAD";
            let ours = git_release::model::TagName::parse(&name).is_ok();
            prop_assert_eq!(ours, expected, "tag name {:?}", name);
            Ok(())
        })
        .unwrap();
}

/// A repository with a release, a milestone, a freeze and a link: every store file.
fn populated(env: &Env) -> Repo<'_> {
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.commit("two", &[("b", "b")]);
    repo.release_ok(["milestone", "create", "M1"]);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 22 * * 5",
        "--end",
        "0 6 * * 1",
    ]);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD~1",
        "--milestone",
        "M1",
        "--link",
        "name=bin,url=https://e.com/bin",
    ]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    repo
}

/// Runs the reading and writing commands; the writes must change nothing when they fail.
fn exercise(repo: &Repo, what: &str) {
    for args in [
        &["list", "--json"][..],
        &["view", "v1", "--json"],
        &["view", "latest"],
        &["milestone", "list", "--json"],
        &["freeze", "status"],
        &["link", "list", "v1"],
    ] {
        assert_sane(&repo.release(args), &format!("{what}: {args:?}"));
    }
    for args in [
        &["update", "v1", "--name", "renamed"][..],
        &["create", "v3", "--ref", "HEAD~1"],
        &[
            "link",
            "add",
            "v1",
            "--name",
            "n2",
            "--url",
            "https://e.com/2",
        ],
        &["milestone", "create", "M2"],
        &["delete", "v2", "-y"],
    ] {
        let before = repo.notes_ref();
        let out = repo.release(args);
        assert_sane(&out, &format!("{what}: {args:?}"));
        if !out.status.success() {
            assert_eq!(
                repo.notes_ref(),
                before,
                "{what}: failed {args:?} changed the store"
            );
        }
    }
}

/// Random JSON values to put where a record's field was.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!("2024-01-01T00:00:00Z")),
        Just(json!("0123456789abcdef0123456789abcdef01234567")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path to a value inside `v`.
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            let mut p = prefix.clone();
            p.push(k.clone());
            paths(c, p, out)
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            let mut p = prefix.clone();
            p.push(i.to_string());
            paths(c, p, out)
        }),
        _ => {}
    }
}

fn replace_at(v: &mut Value, path: &[String], new: Value) {
    let Some((first, rest)) = path.split_first() else {
        *v = new;
        return;
    };
    let child = match v {
        Value::Object(m) => m.get_mut(first),
        Value::Array(a) => first.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    };
    if let Some(child) = child {
        replace_at(child, rest, new);
    }
}

#[test]
fn mutated_store_files_never_panic_and_failed_writes_change_nothing() {
    let env = Env::new();
    let repo = populated(&env);
    let v1_note = format!("{}/{}", &repo.rev("v1")[..2], &repo.rev("v1")[2..]);
    let v1_index = git_release::store::index_path("v1");
    let files = [
        "project.json",
        "milestones.json",
        "freezes.json",
        v1_note.as_str(),
        v1_index.as_str(),
    ];
    let originals: Vec<Value> = files
        .iter()
        .map(|f| {
            serde_json::from_str(&repo.git(["show", &format!("refs/notes/releases:{f}")])).unwrap()
        })
        .collect();
    let pristine = repo.rev("refs/notes/releases");
    let mut runner = TestRunner::new(cases(24));
    let strategy = (0..files.len(), any::<prop::sample::Index>(), json_value());
    runner
        .run(&strategy, |(file, at, new)| {
            repo.git(["update-ref", "refs/notes/releases", &pristine]);
            let mut doc = originals[file].clone();
            let mut all = Vec::new();
            paths(&doc, vec![], &mut all);
            let path = at.get(&all).clone();
            replace_at(&mut doc, &path, new);
            edit_store(&repo, files[file], Some(doc.to_string().as_bytes()));
            exercise(&repo, &format!("{} with {:?} replaced", files[file], path));
            Ok(())
        })
        .unwrap();
    repo.git(["update-ref", "refs/notes/releases", &pristine]);
}

#[test]
fn random_bytes_in_store_files_and_project_config_never_panic() {
    let env = Env::new();
    let repo = populated(&env);
    let pristine = repo.rev("refs/notes/releases");
    let v1 = repo.rev("v1");
    let targets = [
        "project.json".to_owned(),
        "milestones.json".to_owned(),
        "freezes.json".to_owned(),
        format!("{}/{}", &v1[..2], &v1[2..]),
        git_release::store::index_path("v1"),
        git_release::store::index_path("v2"),
        ".git-release.toml".to_owned(),
    ];
    let mut runner = TestRunner::new(cases(20));
    let bytes = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        "[{}\\[\\]\":,0-9a-z ]{0,40}".prop_map(String::into_bytes),
        Just(b"[project]\nname = 7\n".to_vec()),
        Just(b"{\"schema\": 1, \"releases\": []}".to_vec()),
    ];
    runner
        .run(&(0..targets.len(), bytes), |(target, bytes)| {
            repo.git(["update-ref", "refs/notes/releases", &pristine]);
            let _ = std::fs::remove_file(repo.path().join(".git-release.toml"));
            if targets[target] == ".git-release.toml" {
                std::fs::write(repo.path().join(".git-release.toml"), &bytes).unwrap();
            } else {
                edit_store(&repo, &targets[target], Some(&bytes));
            }
            exercise(
                &repo,
                &format!(
                    "{} = {:?}",
                    targets[target],
                    String::from_utf8_lossy(&bytes)
                ),
            );
            Ok(())
        })
        .unwrap();
    let _ = std::fs::remove_file(repo.path().join(".git-release.toml"));
    repo.git(["update-ref", "refs/notes/releases", &pristine]);
    repo.assert_fsck_clean();
}

/// The id counters in project.json and the index entries, set to every extreme: no
/// panic, no wrapped or reused id, failed writes change nothing; `verify` and `doctor`
/// name what is wrong.
#[test]
fn extreme_counters_and_index_entries_are_handled() {
    let env = Env::new();
    let repo = populated(&env);
    let pristine = repo.rev("refs/notes/releases");
    let project: Value =
        serde_json::from_str(&repo.git(["show", "refs/notes/releases:project.json"])).unwrap();
    let v2 = repo.rev("v2");
    let index = git_release::store::index_path("v1");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for kind in ["link", "milestone", "milestone_iid", "freeze", "issue"] {
        for value in [
            json!(u64::MAX),
            json!(u64::MAX - 1),
            json!(0),
            json!(-1),
            json!(1.5),
            json!("7"),
            json!(9_007_199_254_740_993u64),
        ] {
            let mut p = project.clone();
            p["last_ids"][kind] = value;
            cases.push(("project.json".into(), p.to_string().into_bytes()));
        }
    }
    for entry in [
        json!({"tag": "v1", "commit": v2}),
        json!({"tag": "v2", "commit": v2}),
        json!({"tag": "v1", "commit": "0000000000000000000000000000000000000000"}),
        json!({"tag": "v1", "commit": "not hex"}),
        json!({"tag": "v1"}),
        json!([]),
    ] {
        cases.push((index.clone(), entry.to_string().into_bytes()));
    }
    for (path, bytes) in &cases {
        repo.git(["update-ref", "refs/notes/releases", &pristine]);
        edit_store(&repo, path, Some(bytes));
        let what = format!("{path} = {}", String::from_utf8_lossy(bytes));
        exercise(&repo, &what);
        for args in [
            &["verify"][..],
            &["doctor"],
            &["doctor", "--repair"],
            &["verify"],
        ] {
            // Checks report on stdout and exit 1 when they find something.
            let out = repo.release(args);
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!all.contains("panicked"), "{what}: {args:?}: {all}");
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{what}: {args:?}: {all}"
            );
            if out.status.code() == Some(1) {
                assert!(!all.trim().is_empty(), "{what}: {args:?} failed silently");
            }
        }
        // Ids never wrap around or repeat.
        let out = repo.release([
            "link",
            "add",
            "v1",
            "--name",
            "x9",
            "--url",
            "https://e.com/x9",
        ]);
        assert_sane(&out, &what);
        if out.status.success() {
            let v: Value =
                serde_json::from_str(&repo.release_ok(["view", "v1", "--json"])).unwrap();
            let ids: Vec<u64> = v["assets"]["links"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_u64().unwrap())
                .collect();
            let unique: std::collections::BTreeSet<_> = ids.iter().collect();
            assert_eq!(unique.len(), ids.len(), "{what}: {ids:?}");
            assert!(!ids.contains(&0), "{what}: {ids:?}");
        }
        repo.assert_fsck_clean();
    }
    // An index that sends v1 elsewhere: verify names it and the fix, doctor repairs it.
    repo.git(["update-ref", "refs/notes/releases", &pristine]);
    edit_store(
        &repo,
        &index,
        Some(json!({"tag": "v1", "commit": v2}).to_string().as_bytes()),
    );
    let out = repo.release(["verify"]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("the index sends release v1 to commit")
            && report.contains("doctor --repair"),
        "{report}"
    );
    repo.release_ok(["doctor", "--repair"]);
    repo.release_ok(["verify"]);
    repo.git(["update-ref", "refs/notes/releases", &pristine]);
}

#[test]
fn random_dates_crons_and_zones_are_refused_cleanly() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v0", "--ref", "HEAD"]);
    // (No NUL: an argument cannot hold one.)
    let text = prop_oneof![
        "[^\\x00]{0,24}",
        "[0-9*/,\\- ]{0,20}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-Z0-9:]{0,6}",
        "[A-Za-z_/]{0,20}",
    ];
    let mut runner = TestRunner::new(cases(40));
    runner
        .run(&(text.clone(), text.clone(), text), |(a, b, c)| {
            let before = repo.notes_ref();
            for args in [
                vec![
                    "update".to_owned(),
                    "v0".into(),
                    "--released-at".into(),
                    a.clone(),
                ],
                vec![
                    "freeze".into(),
                    "add".into(),
                    "--start".into(),
                    a.clone(),
                    "--end".into(),
                    b.clone(),
                    "--timezone".into(),
                    c.clone(),
                ],
                vec!["freeze".into(), "status".into(), "--at".into(), b.clone()],
                vec![
                    "freeze".into(),
                    "add".into(),
                    "--from".into(),
                    b.clone(),
                    "--until".into(),
                    c.clone(),
                ],
            ] {
                let out = repo.release(&args);
                assert_sane(&out, &format!("{args:?}"));
                if !out.status.success() {
                    prop_assert_eq!(
                        repo.notes_ref(),
                        before.clone(),
                        "{:?} failed but changed the store",
                        args
                    );
                }
            }
            // Keep the store small across cases: a freeze that was added is removed.
            if repo.notes_ref() != before {
                if let Some(b) = &before {
                    repo.git(["update-ref", "refs/notes/releases", b]);
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn huge_inputs_are_handled() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("c", &[("a", "a")]);
    // 10,000 links in one create.
    let links: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("asset {i}"), "url": format!("https://e.com/{i}"), "direct_asset_path": format!("/bin/a{i}")}))
        .collect();
    // One argument may hold at most 128 KiB: --assets-link arrays of 500 links.
    let chunks: Vec<String> = links
        .chunks(500)
        .map(|c| Value::from(c.to_vec()).to_string())
        .collect();
    let mut args = vec![
        "create".to_owned(),
        "big".into(),
        "--ref".into(),
        "HEAD".into(),
    ];
    for chunk in &chunks {
        args.push("--assets-link".into());
        args.push(chunk.clone());
    }
    repo.release_ok(&args);
    let v: Value = serde_json::from_str(&repo.release_ok(["view", "big", "--json"])).unwrap();
    assert_eq!(v["assets"]["count"], 10_004);
    // A tag name of 128 path components (255 bytes, the most a new tag may have).
    let deep = vec!["d"; 128].join("/");
    repo.release_ok(["create", &deep, "--ref", "HEAD"]);
    // One of 200 is refused before anything is made.
    let deeper = vec!["d"; 200].join("/");
    let before = repo.git(["for-each-ref"]);
    let err = repo.release_err(1, ["create", &deeper, "--ref", "HEAD"]);
    assert!(err.contains("at most 255 bytes"), "{err}");
    assert_eq!(repo.git(["for-each-ref"]), before);
    repo.assert_fsck_clean();
}
