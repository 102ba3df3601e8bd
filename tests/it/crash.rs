//! Crash safety: git-release killed with SIGKILL at random moments. After every kill
//! the repository is sound (`git fsck --strict`), every release is whole or absent,
//! and no tag exists without its release when both were being created together.
//!
//! `GIT_RELEASE_CRASH_KILLS` sets how many kills (default: a short run for CI;
//! docs/testing.md shows the long run).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Env, Repo};

/// A small deterministic generator: the seed is printed, so a failure can be replayed
/// with `GIT_RELEASE_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Starts git-release and kills it after `delay` (it may finish first).
fn run_and_kill(repo: &Repo, args: &[String], delay: Duration) -> bool {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    let mut child = cmd
        .current_dir(repo.path())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    !finished
}

fn release_json(repo: &Repo, tag: &str) -> Option<Value> {
    let out = repo.release(["view", tag, "--json"]);
    match out.status.code() {
        Some(0) => Some(serde_json::from_slice(&out.stdout).unwrap()),
        Some(1) => {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("not found"), "view {tag}: {err}");
            None
        }
        other => panic!(
            "view {tag} exited {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Measures how long a command takes here, so kills land inside its run.
fn typical_runtime(repo: &Repo) -> Duration {
    let mut times = Vec::new();
    for i in 0..3 {
        let started = Instant::now();
        repo.release_ok([
            "create",
            &format!("warmup-{i}"),
            "--ref",
            "HEAD",
            "--notes",
            "w",
        ]);
        times.push(started.elapsed());
    }
    // The fastest run: delays drawn below it land inside nearly every run, however
    // loaded the machine is.
    times.into_iter().min().unwrap()
}

#[test]
fn sigkill_at_random_moments_never_leaves_half_a_release() {
    let kills: u64 = std::env::var("GIT_RELEASE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("GIT_RELEASE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash test: {kills} kills, seed {seed}");
    let mut rng = Rng(seed);
    let env = Env::new();
    let repo = env.repo("proj");
    for i in 0..5 {
        repo.commit(&format!("c{i}"), &[("f", &i.to_string())]);
    }
    let runtime = typical_runtime(&repo);
    let lock = repo.path().join(".git/refs/notes/releases.lock");
    let mut interrupted = 0;
    for round in 0..kills {
        let tag = format!("t{round}");
        let existing = format!("t{}", rng.below(round.max(1)));
        let rev = format!("HEAD~{}", rng.below(5));
        let (args, creating): (Vec<String>, bool) = match rng.below(6) {
            0 => (
                vec![
                    "create".into(),
                    tag.clone(),
                    "--ref".into(),
                    rev,
                    "--notes".into(),
                    "n".into(),
                ],
                true,
            ),
            1 => (
                vec![
                    "create".into(),
                    tag.clone(),
                    "--ref".into(),
                    rev,
                    "--tag-message".into(),
                    "m".into(),
                ],
                true,
            ),
            2 => (
                vec![
                    "update".into(),
                    existing.clone(),
                    "--name".into(),
                    format!("renamed in {round}"),
                ],
                false,
            ),
            3 => (
                vec![
                    "link".into(),
                    "add".into(),
                    existing.clone(),
                    "--name".into(),
                    format!("l{round}"),
                    "--url".into(),
                    format!("https://e.com/{round}"),
                ],
                false,
            ),
            4 => (
                vec!["evidence".into(), "collect".into(), existing.clone()],
                false,
            ),
            _ => (vec!["delete".into(), existing.clone(), "-y".into()], false),
        };
        let delay = Duration::from_micros(rng.below(runtime.as_micros() as u64));
        if run_and_kill(&repo, &args, delay) {
            interrupted += 1;
        }
        // A writer killed inside its few-microsecond critical section leaves git's lock
        // file, as git itself would; the user removes it (the error says so).
        let _ = std::fs::remove_file(&lock);

        repo.assert_fsck_clean();
        if creating {
            let tag_exists = repo.ref_exists(&format!("refs/tags/{tag}"));
            let release = release_json(&repo, &tag);
            assert_eq!(
                tag_exists,
                release.is_some(),
                "round {round} (seed {seed}): tag {tag} exists={tag_exists} but release present={}",
                release.is_some()
            );
            if let Some(r) = release {
                assert_eq!(r["commit"]["id"], repo.rev(&format!("{tag}^{{commit}}")));
            }
        }
        // Every listed release reads back whole.
        let out = repo.release(["list", "--json", "--per-page", "100"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("corrupt"),
            "round {round}"
        );
    }
    eprintln!("crash test: {interrupted} of {kills} runs were killed before finishing");
    assert!(
        interrupted >= kills / 10,
        "the kills should land inside runs: only {interrupted} of {kills}"
    );
}

/// `import --create-tags-from-commit` killed at random moments: a tag it created always
/// has its record (records are written pending first, as `create` does).
#[test]
fn sigkill_during_import_never_leaves_a_tag_without_its_record() {
    let kills: u64 = std::env::var("GIT_RELEASE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(20, |k: u64| k / 3 + 1);
    let seed: u64 = std::env::var("GIT_RELEASE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("import crash test: {kills} kills, seed {seed}");
    let mut rng = Rng(seed);
    let env = Env::new();
    let repo = env.repo("proj");
    let mut commits = Vec::new();
    for i in 0..5 {
        commits.push(repo.commit(&format!("c{i}"), &[("f", &i.to_string())]));
    }
    let file = |round: u64| {
        let releases: Vec<Value> = (0..8)
            .map(|i| {
                serde_json::json!({
                    "tag_name": format!("imp{round}-{i}"),
                    "name": format!("imported {i}"),
                    "created_at": "2024-01-01T00:00:00Z",
                    "commit": {"id": commits[(i % 5) as usize]},
                    "assets": {"links": [{"id": i + 1, "name": "bin", "url": format!("https://e.com/{round}/{i}")}]},
                })
            })
            .collect();
        let path = repo.path().join(format!("import-{round}.json"));
        std::fs::write(&path, Value::from(releases).to_string()).unwrap();
        path
    };
    // How long an import takes here.
    let started = Instant::now();
    let warm = file(9999);
    repo.release_ok([
        "import",
        warm.to_str().unwrap(),
        "--create-tags-from-commit",
    ]);
    let runtime = started.elapsed();
    let lock = repo.path().join(".git/refs/notes/releases.lock");
    let mut interrupted = 0;
    for round in 0..kills {
        let path = file(round);
        let args = vec![
            "import".to_owned(),
            path.to_str().unwrap().to_owned(),
            "--create-tags-from-commit".into(),
        ];
        let delay = Duration::from_micros(rng.below(runtime.as_micros() as u64));
        if run_and_kill(&repo, &args, delay) {
            interrupted += 1;
        }
        // Locks left by the killed writer (the notes ref, a tag being created), as git
        // leaves them: the user removes them.
        let _ = std::fs::remove_file(&lock);
        for entry in std::fs::read_dir(repo.path().join(".git/refs/tags")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "lock") {
                let _ = std::fs::remove_file(path);
            }
        }
        repo.assert_fsck_clean();
        for i in 0..8 {
            let tag = format!("imp{round}-{i}");
            if repo.ref_exists(&format!("refs/tags/{tag}")) {
                let release = release_json(&repo, &tag);
                assert!(
                    release.is_some(),
                    "round {round} (seed {seed}): tag {tag} exists without its release"
                );
            }
        }
        // A killed import can be run again: it completes what is missing.
        let out = repo.release([
            "import",
            path.to_str().unwrap(),
            "--create-tags-from-commit",
        ]);
        assert!(
            out.status.success(),
            "re-import after round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for i in 0..8 {
            assert!(release_json(&repo, &format!("imp{round}-{i}")).is_some());
        }
    }
    eprintln!("import crash test: {interrupted} of {kills} runs were killed before finishing");
}

// ---------------------------------------------------------------------------------
// Deterministic crashes (#24 case 11): `GIT_RELEASE_FAILPOINT=<step>` kills the
// command with SIGKILL at a named step, so that each leftover replays exactly.

/// Runs git-release killed at `step`; asserts it was killed there.
fn killed_at(repo: &Repo, step: &str, args: &[&str]) {
    let mut cmd = repo.release_command();
    cmd.env("GIT_RELEASE_FAILPOINT", step).args(args);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        None,
        "{args:?} was not killed at {step}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every record in the notes, as `git notes` shows them: (commit, tag, pending?).
fn records(repo: &Repo) -> Vec<(String, String, bool)> {
    if !repo.ref_exists("refs/notes/releases") {
        return Vec::new();
    }
    let list = repo.git(["notes", "--ref=releases", "list"]);
    let mut out = Vec::new();
    for line in list.lines() {
        let (_, commit) = line.split_once(' ').unwrap();
        let note: Value =
            serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", commit])).unwrap();
        for (tag, record) in note["releases"].as_object().unwrap() {
            out.push((
                commit.to_owned(),
                tag.clone(),
                record.get("pending").is_some(),
            ));
        }
    }
    out.sort();
    out
}

fn two_clones(env: &Env) -> (Repo<'_>, Repo<'_>) {
    let mut v = crate::support::clones(env, &["a", "b"]);
    let b = v.pop().unwrap();
    (v.pop().unwrap(), b)
}

#[test]
fn a_create_killed_before_its_tag_leaves_nothing_a_later_tag_or_push_brings_back() {
    let env = Env::new();
    let (a, b) = two_clones(&env);
    a.release_ok(["create", "v0", "--ref", "HEAD~1"]);
    killed_at(
        &a,
        "create:record-written",
        &["create", "v1", "--ref", "HEAD"],
    );
    assert!(!a.ref_exists("refs/tags/v1"));
    assert!(release_json(&a, "v1").is_none());
    assert!(
        records(&a)
            .iter()
            .any(|(_, t, pending)| t == "v1" && *pending),
        "the kill left a pending record: {:?}",
        records(&a)
    );
    // Somebody tags that very commit by hand: the killed create does not come back.
    a.git(["tag", "v1", "HEAD"]);
    assert!(release_json(&a, "v1").is_none());
    let list = a.release_ok(["list", "--json"]);
    assert_eq!(crate::support::tag_names(&list), ["v0"]);
    a.release_ok(["verify"]);
    // A push never publishes the pending record.
    a.release_ok(["push"]);
    let remote = env.at(env.path().join("remote.git"));
    assert!(
        records(&remote)
            .iter()
            .all(|(_, t, pending)| t != "v1" && !*pending),
        "{:?}",
        records(&remote)
    );
    assert!(records(&a).iter().all(|(_, t, _)| t != "v1"));
    b.release_ok(["fetch"]);
    assert!(release_json(&b, "v1").is_none());
    // The tag made by hand can have its release now.
    a.release_ok(["create", "v1", "--name", "by hand"]);
    assert_eq!(release_json(&a, "v1").unwrap()["name"], "by hand");
    a.assert_fsck_clean();
}

#[test]
fn a_create_killed_after_its_tag_is_complete_and_settled_by_the_next_write() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("one", &[("f", "1")]);
    killed_at(
        &repo,
        "create:tag-created",
        &["create", "v1", "--ref", "HEAD", "--name", "made"],
    );
    assert!(repo.ref_exists("refs/tags/v1"));
    assert_eq!(release_json(&repo, "v1").unwrap()["name"], "made");
    assert_eq!(records(&repo), [(repo.rev("HEAD"), "v1".into(), true)]);
    // Any write settles it.
    repo.release_ok(["milestone", "create", "M1"]);
    assert_eq!(records(&repo), [(repo.rev("HEAD"), "v1".into(), false)]);
    repo.release_ok(["verify"]);
    repo.assert_fsck_clean();
}

#[test]
fn doctor_reports_and_repairs_what_a_killed_create_left() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("one", &[("f", "1")]);
    killed_at(
        &repo,
        "create:record-written",
        &["create", "v1", "--ref", "HEAD"],
    );
    let out = repo.release(["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("interrupted: create of v1"), "{text}");
    repo.release_ok(["doctor", "--repair"]);
    assert!(records(&repo).is_empty(), "{:?}", records(&repo));
    repo.release_ok(["doctor"]);
    // And the tag can be released from scratch.
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    assert!(release_json(&repo, "v1").is_some());
}

/// An import file of three releases naming a new milestone.
fn import_file(repo: &Repo, commits: &[String]) -> std::path::PathBuf {
    let releases: Vec<Value> = (0..3)
        .map(|i| {
            serde_json::json!({
                "tag_name": format!("imp{i}"),
                "name": format!("imported {i}"),
                "created_at": "2024-01-01T00:00:00Z",
                "commit": {"id": commits[i % commits.len()]},
                "milestones": [{"title": "From the import", "id": 7, "iid": 1}],
                "assets": {"links": [{"id": 10 + i, "name": "bin", "url": format!("https://e.com/{i}")}]},
            })
        })
        .collect();
    let path = repo.path().join("import.json");
    std::fs::write(&path, Value::from(releases).to_string()).unwrap();
    path
}

/// Nothing of the import is left: no tag, no record, no milestone.
fn assert_no_import(repo: &Repo) {
    for i in 0..3 {
        assert!(
            !repo.ref_exists(&format!("refs/tags/imp{i}")),
            "imp{i} left"
        );
    }
    assert!(
        records(repo).iter().all(|(_, t, _)| !t.starts_with("imp")),
        "{:?}",
        records(repo)
    );
    let milestones = repo.release_ok(["milestone", "list", "--json"]);
    assert!(!milestones.contains("From the import"), "{milestones}");
}

#[test]
fn a_killed_import_is_taken_back_whole_by_the_next_write() {
    for (step, at) in [
        ("import:records-written", 0),
        ("import:tag-created:2", 2),
        ("store:objects-written:2", 3),
    ] {
        let env = Env::new();
        let repo = env.repo("proj");
        let commits: Vec<String> = (0..3)
            .map(|i| repo.commit(&format!("c{i}"), &[("f", &i.to_string())]))
            .collect();
        let file = import_file(&repo, &commits);
        killed_at(
            &repo,
            step,
            &[
                "import",
                file.to_str().unwrap(),
                "--create-tags-from-commit",
            ],
        );
        // Until then, a tag it made has its record (the tag is the commit point).
        for i in 0..at {
            let tag = format!("imp{i}");
            assert_eq!(
                repo.ref_exists(&format!("refs/tags/{tag}")),
                release_json(&repo, &tag).is_some(),
                "{step}: {tag}"
            );
        }
        // The next write takes it all back.
        repo.release_ok(["milestone", "create", "Other"]);
        assert_no_import(&repo);
        repo.release_ok(["verify"]);
        repo.assert_fsck_clean();
        // And the import runs again from scratch.
        repo.release_ok([
            "import",
            file.to_str().unwrap(),
            "--create-tags-from-commit",
        ]);
        for i in 0..3 {
            assert!(release_json(&repo, &format!("imp{i}")).is_some(), "{step}");
        }
    }
}

#[test]
fn a_failed_import_leaves_nothing() {
    let env = Env::new();
    let repo = env.repo("proj");
    let commits: Vec<String> = (0..3)
        .map(|i| repo.commit(&format!("c{i}"), &[("f", &i.to_string())]))
        .collect();
    let file = import_file(&repo, &commits);
    // The last tag cannot be created: git's lock file for it is held.
    let lock = repo.path().join(".git/refs/tags/imp2.lock");
    std::fs::write(&lock, "").unwrap();
    let notes_before = repo.git_output(["rev-parse", "-q", "--verify", "refs/notes/releases"]);
    let err = repo.release_err(
        1,
        [
            "import",
            file.to_str().unwrap(),
            "--create-tags-from-commit",
        ],
    );
    assert!(err.contains("imp2"), "{err}");
    std::fs::remove_file(&lock).unwrap();
    assert_no_import(&repo);
    let _ = notes_before;
    repo.release_ok(["verify"]);
}

/// Case 11 through a remote: an import killed at each of its steps, then `push` (and
/// a plain `git push` of the notes through the hook): the remote gets none of it, no
/// tag, no record, no milestone, and the other clone's fetch brings nothing of it.
#[test]
fn a_killed_import_is_never_published() {
    for step in [
        "import:records-written",
        "import:tag-created:2",
        "store:objects-written:2",
    ] {
        let env = Env::new();
        crate::support::release_on_path(&env);
        let (a, b) = two_clones(&env);
        let remote = env.at(env.path().join("remote.git"));
        a.release_ok(["create", "v0", "--ref", "HEAD~1"]);
        a.release_ok(["push"]);
        b.release_ok(["fetch"]);
        a.release_ok(["hook", "install"]);
        let commits: Vec<String> = (0..3)
            .map(|i| a.commit(&format!("c{i}"), &[("f", &i.to_string())]))
            .collect();
        a.git(["push", "-q", "origin", "HEAD:refs/heads/main"]);
        let file = import_file(&a, &commits);
        killed_at(
            &a,
            step,
            &[
                "import",
                file.to_str().unwrap(),
                "--create-tags-from-commit",
            ],
        );
        // A plain push of the notes never carries what the kill left.
        let _ = a.git_output(["push", "origin", "refs/notes/releases"]);
        a.release_ok(["push"]);
        for repo in [&a, &remote] {
            assert!(
                records(repo)
                    .iter()
                    .all(|(_, t, p)| !t.starts_with("imp") && !p),
                "{step}: {:?}",
                records(repo)
            );
        }
        let tags = remote.git(["tag", "--list"]);
        assert_eq!(tags.trim(), "v0", "{step}");
        let milestones = remote.git(["show", "refs/notes/releases:milestones.json"]);
        assert!(
            !milestones.contains("From the import"),
            "{step}: {milestones}"
        );
        b.release_ok(["fetch"]);
        assert_no_import(&b);
        assert_no_import(&a);
        b.release_ok(["verify"]);
        remote.assert_fsck_clean();
    }
}
