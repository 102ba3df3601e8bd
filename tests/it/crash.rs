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
