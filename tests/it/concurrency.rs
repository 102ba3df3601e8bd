//! Many git-release processes writing at once: compare-and-swap with retries must keep
//! every release, and of two creators of the same release exactly one wins.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{Env, Repo};

fn spawn(repo: &Repo, args: &[String]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    cmd.current_dir(repo.path())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn forty_concurrent_creates_all_survive_including_thirty_on_one_commit() {
    let env = Env::new();
    // What is tested is that no write is lost, not how fast forty processes get their
    // turn: on a loaded 2-core machine the default write budget can run out.
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    let mut commits = Vec::new();
    for i in 0..10 {
        commits.push(repo.commit(&format!("c{i}"), &[("f", &i.to_string())]));
    }
    let mut children = Vec::new();
    // 30 tags on the same commit: every writer rewrites the same note.
    for i in 0..30 {
        let tag = format!("same-{i:02}");
        let notes = format!("notes for {tag}");
        children.push((
            tag.clone(),
            spawn(
                &repo,
                &args(&["create", &tag, "--ref", "HEAD", "--notes", &notes]),
            ),
        ));
    }
    // 10 more on different commits, half of them annotated.
    for (i, commit) in commits.iter().enumerate() {
        let tag = format!("other-{i}");
        let mut a = args(&["create", &tag, "--ref", commit]);
        if i % 2 == 0 {
            a.extend(args(&["--tag-message", "annotated"]));
        }
        children.push((tag, spawn(&repo, &a)));
    }
    for (tag, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list: Value =
        serde_json::from_str(&repo.release_ok(["list", "--json", "--per-page", "100"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 40);
    let head: Value =
        serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", "HEAD"])).unwrap();
    let on_head = head["releases"].as_object().unwrap();
    // other-9 was made on HEAD too (the last commit).
    assert_eq!(on_head.len(), 31);
    for i in 0..30 {
        let tag = format!("same-{i:02}");
        assert_eq!(on_head[&tag]["description"], format!("notes for {tag}"));
        assert!(on_head[&tag].get("pending").is_none(), "{tag} settled");
    }
    for i in 0..10 {
        assert!(repo.ref_exists(&format!("refs/tags/other-{i}")));
    }
    repo.assert_fsck_clean();
    let index = repo.git([
        "ls-tree",
        "-r",
        "--name-only",
        "refs/notes/releases",
        "index",
    ]);
    assert_eq!(index.lines().count(), 40);
}

#[test]
fn of_many_creators_of_the_same_release_exactly_one_wins() {
    let env = Env::new();
    // What is tested is that no write is lost, not how fast forty processes get their
    // turn: on a loaded 2-core machine the default write budget can run out.
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.commit("d", &[("b", "b")]);
    // Existing tag: the record write is the only contended step.
    repo.git(["tag", "existing"]);
    // Missing tag: record, tag creation and settling all race; creators disagree on the
    // commit, so a wrong winner would show.
    for tag in ["existing", "fresh"] {
        let children: Vec<Child> = (0..8)
            .map(|i| {
                let rev = if i % 2 == 0 { "HEAD" } else { "HEAD~1" };
                spawn(
                    &repo,
                    &args(&[
                        "create",
                        tag,
                        "--ref",
                        rev,
                        "--notes",
                        &format!("writer {i}"),
                    ]),
                )
            })
            .collect();
        let mut winners = Vec::new();
        for (i, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                winners.push(i);
            } else {
                assert!(
                    stderr.contains("already exists"),
                    "{tag} writer {i}: {stderr}"
                );
            }
        }
        assert_eq!(winners.len(), 1, "{tag}: winners {winners:?}");
        let v: Value = serde_json::from_str(&repo.release_ok(["view", tag, "--json"])).unwrap();
        assert_eq!(v["description"], format!("writer {}", winners[0]));
        assert_eq!(v["commit"]["id"], repo.rev(&format!("{tag}^{{commit}}")));
    }
    repo.assert_fsck_clean();
}

/// The inode of every pack file in `repo`, by name.
fn packs(repo: &Repo) -> std::collections::BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    let dir = repo.path().join(".git/objects/pack");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
        .filter_map(|e| {
            Some((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().ok()?.ino(),
            ))
        })
        .collect()
}

#[test]
fn a_held_lock_is_waited_out() {
    let env = Env::new();
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v0", "--ref", "HEAD"]);
    let before = repo.notes_ref();
    let packs_before = packs(&repo);
    let lock = repo.path().join(".git/refs/notes/releases.lock");
    std::fs::write(&lock, "").unwrap();
    let mut child = spawn(&repo, &args(&["create", "v1", "--ref", "HEAD"]));

    // A writer writes its new objects as one pack just before it tries the lock, and
    // writes them again (a new file under the same name) each time it finds the lock
    // held. A pack rewritten is the proof that the writer met the lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    let mut seen: std::collections::BTreeMap<String, u64> = Default::default();
    let met_the_lock = loop {
        let mut rewritten = false;
        for (name, inode) in packs(&repo) {
            if !packs_before.contains_key(&name) {
                rewritten |= seen.insert(name, inode).is_some_and(|last| last != inode);
            }
        }
        if rewritten {
            break true;
        }
        if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        met_the_lock,
        "the writer never retried while the lock was held: {:?}",
        child.try_wait()
    );
    assert!(child.try_wait().unwrap().is_none(), "still waiting");
    assert_eq!(
        repo.notes_ref(),
        before,
        "nothing moved while the lock was held"
    );

    std::fs::remove_file(&lock).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(repo.release_ok(["view", "v1"]).starts_with("v1"));
    assert_ne!(repo.notes_ref(), before);
}

#[test]
fn a_lock_left_by_a_dead_writer_is_reported_at_once_with_what_to_do() {
    let env = Env::new();
    // What is tested is that no write is lost, not how fast forty processes get their
    // turn: on a loaded 2-core machine the default write budget can run out.
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v0", "--ref", "HEAD"]);
    let before = repo.rev("refs/notes/releases");
    let lock = repo.path().join(".git/refs/notes/releases.lock");
    std::fs::write(&lock, "").unwrap();
    Command::new("touch")
        .args(["-d", "2 minutes ago"])
        .arg(&lock)
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no 30 s wait on a dead lock"
    );
    assert!(
        err.contains("releases.lock exists") && err.contains("remove"),
        "{err}"
    );
    assert_eq!(repo.rev("refs/notes/releases"), before);
    assert!(
        !repo.ref_exists("refs/tags/v1"),
        "no tag without its release"
    );
}

/// What one worker's successful operations imply about its releases.
#[derive(Default, Clone)]
struct Expected {
    name: String,
    links: Vec<String>,
    /// Evidence snapshots: one taken at create, one per successful collect.
    evidences: usize,
}

#[test]
fn four_writers_doing_mixed_operations_lose_nothing() {
    let per_worker: usize = std::env::var("GIT_RELEASE_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let env = Env::new();
    // What is tested is that no write is lost, not how fast forty processes get their
    // turn: on a loaded 2-core machine the default write budget can run out.
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let dir = repo.path().to_owned();
            let vars = env.vars.borrow().clone();
            let home = env.path().to_owned();
            std::thread::spawn(move || {
                let env = Env::borrowed(home, vars);
                let repo = env.at(dir);
                let mut state: std::collections::BTreeMap<String, Expected> = Default::default();
                let mut next = 0;
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (w as u64 + 1);
                let mut pick = |n: usize| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % n.max(1) as u64) as usize
                };
                for op in 0..per_worker {
                    let owned: Vec<String> = state.keys().cloned().collect();
                    let choice = if owned.is_empty() { 0 } else { pick(5) };
                    // Every tag on the same commit: every writer rewrites the same note.
                    match choice {
                        0 => {
                            let tag = format!("w{w}-{next}");
                            next += 1;
                            repo.release_ok(["create", &tag, "--ref", "HEAD"]);
                            state.insert(
                                tag.clone(),
                                Expected {
                                    name: tag,
                                    links: vec![],
                                    evidences: 1,
                                },
                            );
                        }
                        1 => {
                            let tag = &owned[pick(owned.len())];
                            let name = format!("{tag} v{op}");
                            repo.release_ok(["update", tag, "--name", &name]);
                            state.get_mut(tag).unwrap().name = name;
                        }
                        2 => {
                            let tag = &owned[pick(owned.len())];
                            let link = format!("{tag}-link{op}");
                            repo.release_ok([
                                "link",
                                "add",
                                tag,
                                "--name",
                                &link,
                                "--url",
                                &format!("https://e.com/{link}"),
                            ]);
                            state.get_mut(tag).unwrap().links.push(link);
                        }
                        3 => {
                            let tag = &owned[pick(owned.len())];
                            repo.release_ok(["evidence", "collect", tag]);
                            state.get_mut(tag).unwrap().evidences += 1;
                        }
                        _ => {
                            let tag = owned[pick(owned.len())].clone();
                            repo.release_ok(["delete", &tag, "-y"]);
                            state.remove(&tag);
                        }
                    }
                }
                (next, state)
            })
        })
        .collect();
    let mut expected = std::collections::BTreeMap::new();
    let mut created = Vec::new();
    for (w, handle) in workers.into_iter().enumerate() {
        let (count, state) = handle.join().unwrap();
        created.extend((0..count).map(|i| format!("w{w}-{i}")));
        expected.extend(state);
    }
    let list: Value =
        serde_json::from_str(&repo.release_ok(["list", "--json", "--per-page", "100"])).unwrap();
    let listed: std::collections::BTreeMap<String, &Value> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["tag_name"].as_str().unwrap().to_owned(), r))
        .collect();
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "releases present"
    );
    let mut ids = std::collections::BTreeSet::new();
    for (tag, want) in &expected {
        let got = listed[tag];
        assert_eq!(got["name"], want.name.as_str(), "{tag}: no lost update");
        let mut links: Vec<String> = got["assets"]["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_owned())
            .collect();
        links.sort();
        let mut want_links = want.links.clone();
        want_links.sort();
        assert_eq!(links, want_links, "{tag}: links");
        assert_eq!(
            got["evidences"].as_array().unwrap().len(),
            want.evidences,
            "{tag}: evidence snapshots"
        );
        for l in got["assets"]["links"].as_array().unwrap() {
            assert!(
                ids.insert(l["id"].as_u64().unwrap()),
                "duplicate link id {}",
                l["id"]
            );
        }
    }
    // Deleted releases left no record or index entry behind.
    let index = repo.git([
        "ls-tree",
        "-r",
        "--name-only",
        "refs/notes/releases",
        "index",
    ]);
    assert_eq!(index.lines().count(), expected.len());
    assert!(created.len() >= expected.len());
    repo.assert_fsck_clean();
}

#[test]
fn retries_are_bounded_and_their_exhaustion_is_reported() {
    let env = Env::new();
    // What is tested is that no write is lost, not how fast forty processes get their
    // turn: on a loaded 2-core machine the default write budget can run out.
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "300");
    let repo = env.repo("proj");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v0", "--ref", "HEAD"]);
    let before = repo.rev("refs/notes/releases");
    // A live writer's lock (fresh, so not stale) that is never released.
    std::fs::write(repo.path().join(".git/refs/notes/releases.lock"), "").unwrap();
    env.set("GIT_RELEASE_WRITE_TIMEOUT", "1");
    let started = std::time::Instant::now();
    let err = repo.release_err(1, ["update", "v0", "--name", "x"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "bounded by the timeout"
    );
    assert!(
        err.contains("holding its lock for 1s") && err.contains("attempts)"),
        "{err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(repo.rev("refs/notes/releases"), before);
}
