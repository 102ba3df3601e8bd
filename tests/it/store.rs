//! The storage contract (docs/storage.md), checked with plain git: notes readable by
//! `git notes`, nothing lost by gc/prune, foreign notes left alone, unknown fields kept,
//! newer schemas and corrupt data refused without changing anything.

use serde_json::{Value, json};

use crate::support::{Env, NOW, Repo, project};

/// Replaces the note on `rev` with `content` using plain git.
fn write_note(repo: &Repo, rev: &str, content: &str) {
    repo.git(["notes", "--ref=releases", "add", "-f", "-m", content, rev]);
}

fn note_json(repo: &Repo, rev: &str) -> Value {
    serde_json::from_str(&repo.git(["notes", "--ref=releases", "show", rev])).unwrap()
}

#[test]
fn gc_prune_and_git_notes_keep_releases_and_project_entries() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD~1", "--notes", "one"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--notes", "two"]);
    // Plain git writes a note of its own on the same notes ref, rewriting the tree.
    repo.commit("third", &[("c.txt", "c\n")]);
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-m",
        "a human note",
        "HEAD",
    ]);
    repo.git(["notes", "--ref=releases", "prune"]);
    repo.git(["gc", "--prune=now", "--quiet"]);
    repo.assert_fsck_clean();

    let tree = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    assert_eq!(
        tree.lines().filter(|l| l.starts_with("index/")).count(),
        2,
        "{tree}"
    );
    let listed = repo.git(["notes", "--ref=releases", "list"]);
    for rev in ["HEAD~2", "HEAD~1", "HEAD"] {
        assert!(
            listed.contains(&repo.rev(rev)),
            "{rev} missing from {listed}"
        );
    }
    let out = repo.release_ok(["list", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let tags: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap())
        .collect();
    assert_eq!(tags.len(), 2);
    assert!(tags.contains(&"v1") && tags.contains(&"v2"));
    // The human note still reads back with plain git, and a new release works beside it.
    assert_eq!(
        repo.git(["notes", "--ref=releases", "show", "HEAD"]),
        "a human note\n"
    );
    repo.release_ok(["create", "v3", "--ref", "HEAD~1"]);
    assert_eq!(
        note_json(&repo, "HEAD~1")["releases"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_commit_with_a_foreign_note_cannot_take_a_release_and_nothing_changes() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.git(["notes", "--ref=releases", "add", "-m", "not json", "HEAD"]);
    let before = repo.notes_ref().unwrap();
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD"]);
    assert!(
        err.contains("did not write") && err.contains(&repo.rev("HEAD")),
        "{err}"
    );
    assert_eq!(repo.notes_ref().unwrap(), before);
    assert!(!repo.ref_exists("refs/tags/v1"));
    assert_eq!(
        repo.git(["notes", "--ref=releases", "show", "HEAD"]),
        "not json\n"
    );
}

#[test]
fn notes_written_by_git_at_any_fanout_are_read_and_rewritten_in_place() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    // Rebuild the notes tree flat (as git writes for few notes) with the same content.
    let commit = repo.rev("HEAD");
    let blob = repo.rev(&format!(
        "refs/notes/releases:{}/{}",
        &commit[..2],
        &commit[2..]
    ));
    let index = repo.git(["ls-tree", "refs/notes/releases", "index"]);
    let flat = repo
        .git_command(["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut flat = flat;
    writeln!(
        flat.stdin.take().unwrap(),
        "100644 blob {blob}\t{commit}\n{}",
        index.trim_end()
    )
    .unwrap();
    let tree = String::from_utf8(flat.wait_with_output().unwrap().stdout).unwrap();
    let parent = repo.notes_ref().unwrap();
    let new = repo.git(["commit-tree", tree.trim(), "-p", &parent, "-m", "flatten"]);
    repo.git(["update-ref", "refs/notes/releases", new.trim()]);

    assert!(repo.release_ok(["view", "v1"]).starts_with("v1 — v1"));
    repo.release_ok(["update", "v1", "--name", "renamed"]);
    // One note only (the flat copy was removed, not duplicated at a second level).
    let paths = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    let notes: Vec<&str> = paths.lines().filter(|p| !p.starts_with("index/")).collect();
    assert_eq!(notes, [format!("{}/{}", &commit[..2], &commit[2..])]);
    assert_eq!(
        note_json(&repo, "HEAD")["releases"]["v1"]["name"],
        "renamed"
    );
    repo.assert_fsck_clean();
}

#[test]
fn unknown_fields_survive_a_rewrite() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--notes", "x"]);
    let mut doc = note_json(&repo, "HEAD");
    doc["future_top"] = json!({"keep": true});
    doc["releases"]["v1"]["future_field"] = json!([1, 2, 3]);
    write_note(&repo, "HEAD", &serde_json::to_string_pretty(&doc).unwrap());
    repo.release_ok(["update", "v1", "--name", "new name"]);
    let doc = note_json(&repo, "HEAD");
    assert_eq!(doc["future_top"], json!({"keep": true}));
    assert_eq!(doc["releases"]["v1"]["future_field"], json!([1, 2, 3]));
    assert_eq!(doc["releases"]["v1"]["name"], "new name");
}

#[test]
fn a_newer_schema_is_refused_never_overwritten() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let mut doc = note_json(&repo, "HEAD");
    doc["schema"] = json!(2);
    let text = serde_json::to_string_pretty(&doc).unwrap();
    write_note(&repo, "HEAD", &text);
    let before = repo.notes_ref().unwrap();
    for args in [
        &["update", "v1", "--name", "x"][..],
        &["create", "v2", "--ref", "HEAD"],
        &["delete", "v1", "-y"],
    ] {
        let err = repo.release_err(1, args);
        assert!(
            err.contains("schema version 2") && err.contains("upgrade git-release"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(repo.notes_ref().unwrap(), before);
    assert!(!repo.ref_exists("refs/tags/v2"));
    assert_eq!(
        repo.git(["notes", "--ref=releases", "show", "HEAD"])
            .trim_end(),
        text.trim_end()
    );
}

#[test]
fn corrupt_note_json_is_named_and_hides_no_other_release() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "good", "--ref", "HEAD~1"]);
    repo.release_ok(["create", "bad", "--ref", "HEAD"]);
    write_note(&repo, "HEAD", "{\"schema\": 1, \"releases\": {\"bad\": ");
    let before = repo.notes_ref().unwrap();

    let out = repo.release(["list", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["tag_name"], "good");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt") && err.contains(&repo.rev("HEAD")[..12]),
        "{err}"
    );

    let err = repo.release_err(1, ["view", "bad"]);
    assert!(
        err.contains("corrupt") && err.contains("invalid JSON"),
        "{err}"
    );
    let err = repo.release_err(1, ["update", "bad", "--name", "x"]);
    assert!(err.contains("corrupt"), "{err}");
    assert_eq!(repo.notes_ref().unwrap(), before);
}

#[test]
fn a_malformed_record_hides_only_itself() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "a", "--ref", "HEAD"]);
    repo.release_ok(["create", "b", "--ref", "HEAD"]);
    let mut doc = note_json(&repo, "HEAD");
    doc["releases"]["a"]["created_at"] = json!("not a date");
    write_note(&repo, "HEAD", &serde_json::to_string(&doc).unwrap());
    let out = repo.release(["list", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["tag_name"], "b");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("release \"a\"") && err.contains("invalid time"),
        "{err}"
    );
    // Random bytes as a note: ignored as foreign, everything else still listed.
    write_note(&repo, "HEAD~1", "\u{1}\u{2}garbage\u{7f}");
    assert_eq!(
        serde_json::from_str::<Value>(&repo.release_ok(["list", "--json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_killed_creator_leaves_an_absent_release_that_a_later_create_replaces() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--notes", "real"]);
    // Simulate a creator killed after writing its record but before creating the tag:
    // a pending record for v2, claimed by a process that no longer exists.
    let mut doc = note_json(&repo, "HEAD");
    let mut pending = doc["releases"]["v1"].clone();
    pending["pending"] =
        json!({"since": 1_700_000_000i64, "pid": 999_999_999u32, "host": "elsewhere"});
    doc["releases"]["v2"] = pending.clone();
    write_note(&repo, "HEAD", &serde_json::to_string_pretty(&doc).unwrap());

    let listed = repo.release_ok(["list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(repo.release_err(1, ["view", "v2"]).contains("not found"));
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--notes", "second try"]);
    let doc = note_json(&repo, "HEAD");
    assert_eq!(doc["releases"]["v2"]["description"], "second try");
    assert!(doc["releases"]["v2"].get("pending").is_none());

    // A fresh claim by a live process on this host (this test) is respected.
    let mut doc = note_json(&repo, "HEAD");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    pending["pending"] = json!({"since": since, "pid": std::process::id(), "host": host.trim()});
    doc["releases"]["v3"] = pending;
    write_note(&repo, "HEAD", &serde_json::to_string_pretty(&doc).unwrap());
    let err = repo.release_err(1, ["create", "v3", "--ref", "HEAD"]);
    assert!(err.contains("being created by another process"), "{err}");
    assert!(!repo.ref_exists("refs/tags/v3"));
}

#[test]
fn a_failed_tag_creation_leaves_no_release_behind() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    // A lock left on `refs/tags/v1` makes the tag impossible to create after the
    // release record has been written. (A name colliding with another ref, `v1`
    // beside `v1/x`, is refused earlier, before anything is written.)
    std::fs::write(repo.path().join(".git/refs/tags/v1.lock"), "").unwrap();
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD", "--tag-message", "m"]);
    // The error names the tag and the lock that stopped it.
    assert!(
        err.contains("tag v1") && err.contains("refs/tags/v1.lock"),
        "{err}"
    );
    assert!(
        repo.git(["log", "--format=%s", "refs/notes/releases"])
            .contains("create v1 (tag pending)"),
        "the record was written before the tag"
    );
    assert!(!repo.ref_exists("refs/tags/v1"));
    assert!(repo.release_err(1, ["view", "v1"]).contains("not found"));
    let paths = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    // project.json keeps the id counters (the withdrawn release's id is not reused).
    assert_eq!(paths, "project.json\n", "record and index entry withdrawn");
    repo.assert_fsck_clean();
}

#[test]
fn every_change_is_one_commit_with_a_descriptive_message() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.git(["tag", "v1"]);
    repo.release_ok(["create", "v1"]);
    repo.release_ok(["update", "v1", "--notes", "x"]);
    repo.release_ok(["delete", "v1", "-y"]);
    assert_eq!(
        repo.git(["log", "--format=%s", "refs/notes/releases"]),
        "delete v1\nupdate v1\ncreate v1\n"
    );
    // Notes commits are made by the committer identity, as `git notes` does.
    assert_eq!(
        repo.git(["log", "-1", "--format=%cn <%ce>", "refs/notes/releases"])
            .trim(),
        "Carl Committer <carl@example.com>"
    );
}

#[test]
fn the_notes_ref_moves_like_git_moves_it_packed_or_loose_with_a_reflog() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    // Packed (as after `git gc`): the next write sees the packed value under its lock.
    repo.git(["pack-refs", "--all"]);
    assert!(!repo.path().join(".git/refs/notes/releases").exists());
    let packed = repo.notes_ref().unwrap();
    repo.release_ok(["update", "v1", "--name", "one"]);
    assert_eq!(repo.rev("refs/notes/releases~1"), packed);
    let reflog = repo.git(["reflog", "show", "--format=%gs", "refs/notes/releases"]);
    assert_eq!(
        reflog,
        "git-release: update v1\ngit-release: create v1\ngit-release: create v1 (tag pending)\n"
    );
    // A bare repository keeps no reflog unless asked, as git does.
    repo.git(["clone", "-q", "--bare", ".", "../bare.git"]);
    let bare = env.at(env.path().join("bare.git"));
    bare.release_ok(["create", "b1", "--ref", "HEAD"]);
    assert!(!bare.path().join("logs/refs/notes/releases").exists());
    bare.assert_fsck_clean();
    repo.assert_fsck_clean();
}

fn pack_files(repo: &Repo) -> Vec<String> {
    let mut packs: Vec<String> = std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pack"))
        .collect();
    packs.sort();
    packs
}

fn loose_objects(repo: &Repo) -> u64 {
    let counts = repo.git(["count-objects", "-v"]);
    counts
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .parse()
        .unwrap()
}

/// A store write puts its new objects in one pack (two files instead of a dozen), which
/// plain git reads: fsck, notes, gc. From gc.autoPackLimit packs on, writes go loose
/// again so that packs do not pile up.
#[test]
fn a_store_write_is_one_pack_plain_git_reads_and_packs_never_pile_up() {
    let env = Env::new();
    let repo = project(&env, NOW, 2);
    repo.git(["tag", "v1", "HEAD~1"]);
    repo.git(["gc", "-q"]);
    let (packs, loose) = (pack_files(&repo), loose_objects(&repo));
    repo.release_ok(["create", "v1", "--name", "one"]);
    let after = pack_files(&repo);
    assert_eq!(after.len(), packs.len() + 1, "{after:?}");
    assert_eq!(loose_objects(&repo), loose, "nothing written loose");
    let new_pack = after.iter().find(|p| !packs.contains(p)).unwrap();
    let idx = format!(".git/objects/pack/{}", new_pack.replace(".pack", ".idx"));
    let listed = repo.git(["verify-pack", "-v", &idx]);
    assert!(listed.contains(" commit "), "{listed}");
    assert!(listed.contains(" blob "), "{listed}");
    repo.assert_fsck_clean();
    assert_eq!(note_json(&repo, "v1")["releases"]["v1"]["name"], "one");
    repo.release_ok(["update", "v1", "--name", "two"]);
    repo.release_ok(["verify"]);
    repo.git(["gc", "-q", "--prune=now"]);
    repo.assert_fsck_clean();
    assert_eq!(note_json(&repo, "v1")["releases"]["v1"]["name"], "two");

    // 50 packs (git's gc.autoPackLimit): the next write is loose.
    for i in pack_files(&repo).len()..50 {
        let file = repo.path().join(format!("filler{i}"));
        std::fs::write(&file, format!("{i}\n")).unwrap();
        let id = repo.git(["hash-object", "-w", file.to_str().unwrap()]);
        let mut child = repo
            .git_command(["pack-objects", "-q", ".git/objects/pack/pack"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(id.trim().as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        drop(stdin);
        assert!(child.wait().unwrap().success());
    }
    let packs = pack_files(&repo);
    assert!(packs.len() >= 50, "{}", packs.len());
    let loose = loose_objects(&repo);
    repo.release_ok(["update", "v1", "--name", "three"]);
    assert_eq!(pack_files(&repo), packs, "no pack added");
    assert!(loose_objects(&repo) > loose, "written loose");
    repo.assert_fsck_clean();
    assert_eq!(note_json(&repo, "v1")["releases"]["v1"]["name"], "three");
}
