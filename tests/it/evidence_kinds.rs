//! The two kinds of evidence snapshot: a tree snapshot (create, due collection), which
//! reads no blob of the tree and binds its id, and an archive snapshot (`evidence
//! collect --archives`, or the `evidence.archives` setting), which also records the
//! source archives' digests. `verify` must catch tampering with either.

use serde_json::Value;

use crate::support::{
    Env, Repo, edit_record, edit_store, evidences, newest, sha256, store_file, verify,
};

fn newest_snapshot(repo: &Repo, tag: &str) -> Value {
    serde_json::from_str(&repo.release_ok(["evidence", "show", tag])).unwrap()
}

/// Deletes the loose object of `blob`, so that anything reading it fails.
fn remove_blob(repo: &Repo, blob: &str) {
    let path = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&path).unwrap();
    assert!(!repo.git_output(["cat-file", "-e", blob]).status.success());
}

/// Writes a snapshot built from `change`d newest evidence of `tag` under its own sha and
/// points the record at it: every hash agrees, as a careful forger would leave it.
fn forge_consistently(repo: &Repo, tag: &str, change: impl FnOnce(&mut Value)) {
    let (_, path) = newest(repo, tag);
    let mut evidence: Value = serde_json::from_slice(&store_file(repo, &path)).unwrap();
    change(&mut evidence);
    let mut bytes = serde_json::to_vec_pretty(&evidence).unwrap();
    bytes.push(b'\n');
    let sha = sha256(&bytes);
    let forged_path = format!("evidence/{}/{sha}.json", &sha[..2]);
    edit_store(repo, &forged_path, Some(&bytes));
    let last = evidences(repo, tag).len() - 1;
    edit_record(repo, tag, |record| {
        record["evidences"][last]["sha"] = Value::from(sha.clone());
        record["evidences"][last]["filepath"] = Value::from(forged_path.clone());
    });
}

#[test]
fn create_and_due_collection_read_no_blob_of_the_tree() {
    let env = Env::new();
    let repo = env.repo("p");
    let big = "x".repeat(4 << 20);
    repo.commit("one", &[("big.bin", &big), ("small.txt", "s\n")]);
    let blob = repo.rev("HEAD:big.bin");
    remove_blob(&repo, &blob);

    // Reading the blob would fail: create succeeds, so it never does.
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--tag-message", "M"]);
    let facts = &newest_snapshot(&repo, "v1")["git_release"];
    assert_eq!(facts["tree"], repo.rev("v1^{tree}"));
    assert!(facts["archives"].get("files").is_none(), "{facts}");
    let (code, out) = verify(&repo, &["v1"]);
    assert_eq!(code, 0, "{out}");

    // Nor does the collection of an upcoming release that falls due (any write command).
    env.set("GIT_RELEASE_NOW", "2030-01-01T00:00:00Z");
    repo.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD",
        "--released-at",
        "2030-02-01",
    ]);
    env.set("GIT_RELEASE_NOW", "2030-02-02T00:00:00Z");
    let out = repo.release(["milestone", "create", "M1"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("collected evidence"),
        "{out:?}"
    );
    assert_eq!(evidences(&repo, "v2").len(), 1);

    // Archive digests do read it: asked for, they fail, naming nothing changed.
    let before = repo.rev("refs/notes/releases");
    let err = repo.release_err(1, ["evidence", "collect", "v1", "--archives"]);
    assert!(err.contains(&blob[..7]) || err.contains("object"), "{err}");
    assert_eq!(repo.rev("refs/notes/releases"), before);
    repo.git(["config", "release.evidenceArchives", "true"]);
    repo.release_err(1, ["create", "v3", "--ref", "HEAD"]);
    assert!(!repo.ref_exists("refs/tags/v3"));
    assert_eq!(repo.rev("refs/notes/releases"), before);
}

#[test]
fn collect_archives_records_the_digests_git_archive_gives() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a.txt", "alpha\n"), ("dir/b.txt", "beta\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let tree_snapshot = newest(&repo, "v1.0");

    let out = repo.release_ok(["evidence", "collect", "v1.0", "--archives", "--json"]);
    let entry: Value = serde_json::from_str(&out).unwrap();
    let (sha, _) = newest(&repo, "v1.0");
    assert_eq!(entry["sha"], sha.as_str());
    let snapshot = newest_snapshot(&repo, "v1.0");
    let archives = &snapshot["git_release"]["archives"];
    assert_eq!(archives["mode"], "canonical");
    assert_eq!(archives["prefix"], "p-v1.0/");
    let formats: Vec<&str> = archives["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["zip", "tar.gz", "tar.bz2", "tar"]);
    // Plain git is the oracle: `git archive | sha256sum`.
    for (index, format) in [(0, "zip"), (1, "tar.gz"), (3, "tar")] {
        let bytes = repo.git_raw([
            "archive",
            &format!("--format={format}"),
            "--prefix=p-v1.0/",
            "v1.0",
        ]);
        assert_eq!(
            archives["files"][index]["sha256"],
            sha256(&bytes),
            "{format}"
        );
        assert_eq!(archives["files"][index]["size"], bytes.len(), "{format}");
    }
    let tar = repo.git_raw(["archive", "--format=tar", "--prefix=p-v1.0/", "v1.0"]);
    assert_eq!(archives["tar"]["sha256"], sha256(&tar));
    assert_eq!(archives["ref_dependent"], serde_json::json!([]));
    assert_eq!(archives["lfs_missing"], serde_json::json!([]));
    // Added beside the tree snapshot, which it vouches for.
    assert_eq!(evidences(&repo, "v1.0").len(), 2);
    assert_eq!(
        snapshot["git_release"]["record"]["evidences"][0]["sha"],
        tree_snapshot.0.as_str()
    );
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("v1.0  ok (archives match)"), "{out}");
    repo.assert_fsck_clean();
}

/// One release per tampering, on a repository whose snapshots are tree snapshots or
/// (`digests`) archive snapshots.
fn tampering_is_caught(digests: bool) {
    let env = Env::new();
    let repo = env.repo("p");
    if digests {
        repo.git(["config", "release.evidenceArchives", "true"]);
    }
    for n in 1..=4 {
        repo.commit(&format!("c{n}"), &[(&format!("f{n}"), "x")]);
        repo.release_ok(["create", &format!("v{n}"), "--ref", "HEAD"]);
    }
    let kind = if digests { "archive" } else { "tree" };
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{kind}: {out}");
    let has_files = newest_snapshot(&repo, "v1")["git_release"]["archives"]
        .get("files")
        .is_some();
    assert_eq!(has_files, digests, "{kind}");

    // v1: the snapshot rewritten in place.
    let (_, path) = newest(&repo, "v1");
    let forged = String::from_utf8(store_file(&repo, &path))
        .unwrap()
        .replace("\"name\": \"v1\"", "\"name\": \"v1-final\"");
    edit_store(&repo, &path, Some(forged.as_bytes()));
    // v2: the tag moved to another commit (another tree, other archives).
    repo.git(["tag", "-f", "v2", "v3"]);
    // v3: a self-consistent forgery claiming another tree.
    let other_tree = repo.rev("v1^{tree}");
    forge_consistently(&repo, "v3", |e| {
        e["git_release"]["tree"] = Value::from(other_tree.clone())
    });
    // v4: a self-consistent forgery of the archive digests (or, for a tree snapshot,
    // digests added that the archives do not have).
    forge_consistently(&repo, "v4", |e| {
        let archives = &mut e["git_release"]["archives"];
        if digests {
            archives["files"][1]["sha256"] = Value::from("0".repeat(64));
        } else {
            archives["tar"] = serde_json::json!({"sha256": "0".repeat(64), "size": 1});
            archives["files"] =
                serde_json::json!([{"format": "tar.gz", "sha256": "0".repeat(64), "size": 1}]);
            archives["ref_dependent"] = serde_json::json!([]);
            archives["lfs_missing"] = serde_json::json!([]);
        }
    });

    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 1, "{kind}: {out}");
    assert!(out.contains("of release v1 was rewritten"), "{kind}: {out}");
    assert!(out.contains("tag v2 was moved"), "{kind}: {out}");
    let v3_tree = repo.rev("v3^{tree}");
    assert!(
        out.contains(&format!(
            "of release v3 records tree {other_tree}, but it is {v3_tree} now"
        )),
        "{kind}: {out}"
    );
    assert!(
        out.contains("the tar.gz source archive of release v4 has SHA-256"),
        "{kind}: {out}"
    );
    assert!(
        out.contains("4 releases checked: 0 ok, 4 failed"),
        "{kind}: {out}"
    );
    // Without --archives the digests are not compared; everything else still is.
    let (code, out) = verify(&repo, &[]);
    assert_eq!(code, 1, "{kind}: {out}");
    assert!(out.contains("v4  ok"), "{kind}: {out}");
    assert!(out.contains("3 failed"), "{kind}: {out}");
}

#[test]
fn verify_catches_tampering_with_tree_snapshots() {
    tampering_is_caught(false);
}

#[test]
fn verify_catches_tampering_with_archive_snapshots() {
    tampering_is_caught(true);
}

#[test]
fn verify_archives_names_the_releases_without_digests() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    repo.release_ok(["create", "v3", "--ref", "HEAD"]);
    repo.release_ok(["evidence", "collect", "v2", "--archives"]);

    let out = repo.release(["verify", "--archives"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stdout.contains("v1  ok (no archive digests yet)"),
        "{stdout}"
    );
    assert!(stdout.contains("v2  ok (archives match)"), "{stdout}");
    assert!(
        stdout.contains("v3  ok (no archive digests yet)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("2 releases have no archive digests yet (v1, v3)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("git release evidence collect <tag> --archives"),
        "{stderr}"
    );
    // Without --archives nothing is said about digests.
    let out = repo.release(["verify"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("digests"));

    let (_, out) = verify(&repo, &["--archives", "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["summary"]["without_archive_digests"], 2);
    let digests: Vec<(&str, bool)> = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["tag"].as_str().unwrap(),
                r["archive_digests"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(digests, [("v1", false), ("v2", true), ("v3", false)]);
}

#[test]
fn the_evidence_archives_setting_opts_in_from_the_project_file_or_git_config() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit(
        "one",
        &[(".git-release.toml", "[evidence]\narchives = true\n")],
    );
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let archives = &newest_snapshot(&repo, "v1")["git_release"]["archives"];
    assert_eq!(archives["files"].as_array().unwrap().len(), 4, "{archives}");
    let list: Value =
        serde_json::from_str(&repo.release_ok(["config", "--list", "--json"])).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == "evidence.archives")
        .unwrap()
        .clone();
    assert_eq!(entry["value"], "true");
    assert_eq!(entry["source"], ".git-release.toml (evidence.archives)");

    // git config wins over the file; an explicit --archives wins over both.
    repo.git(["config", "release.evidenceArchives", "false"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    let archives = &newest_snapshot(&repo, "v2")["git_release"]["archives"];
    assert!(archives.get("files").is_none(), "{archives}");
    repo.release_ok(["evidence", "collect", "v2", "--archives"]);
    let archives = &newest_snapshot(&repo, "v2")["git_release"]["archives"];
    assert_eq!(archives["files"].as_array().unwrap().len(), 4);
}

#[test]
fn a_malformed_setting_or_unknown_tag_is_refused_and_changes_nothing() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let before = repo.rev("refs/notes/releases");

    let err = repo.release_err(1, ["evidence", "collect", "nope", "--archives"]);
    assert!(err.contains("nope"), "{err}");

    repo.git(["config", "release.evidenceArchives", "maybe"]);
    let err = repo.release_err(1, ["create", "v2", "--ref", "HEAD", "--tag-message", "M"]);
    assert!(err.contains("\"maybe\""), "{err}");
    assert!(err.contains("release.evidenceArchives"), "{err}");
    assert!(err.contains("expected true or false"), "{err}");
    assert!(!repo.ref_exists("refs/tags/v2"));
    let err = repo.release_err(1, ["evidence", "collect", "v1"]);
    assert!(err.contains("release.evidenceArchives"), "{err}");
    repo.git(["config", "--unset", "release.evidenceArchives"]);

    repo.write(".git-release.toml", "[evidence]\narchives = \"yes\"\n");
    let err = repo.release_err(1, ["create", "v2", "--ref", "HEAD"]);
    assert!(err.contains(".git-release.toml"), "{err}");
    assert!(!repo.ref_exists("refs/tags/v2"));
    assert_eq!(repo.rev("refs/notes/releases"), before);
}

#[test]
fn a_tag_name_git_cannot_have_beside_another_is_refused_before_anything_is_written() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.git(["tag", "x"]);
    repo.git(["tag", "p/q"]);
    let before = repo.git_output(["rev-parse", "-q", "--verify", "refs/notes/releases"]);
    for (tag, other) in [("x/y", "refs/tags/x"), ("p", "refs/tags/p/q")] {
        let err = repo.release_err(1, ["create", tag, "--ref", "HEAD"]);
        assert!(err.contains(&format!("the ref {other} exists")), "{err}");
    }
    // Packed refs too (a clone's tags usually are).
    repo.git(["pack-refs", "--all"]);
    for (tag, other) in [("x/z", "refs/tags/x"), ("p", "refs/tags/p/q")] {
        let err = repo.release_err(1, ["create", tag, "--ref", "HEAD"]);
        assert!(err.contains(&format!("the ref {other} exists")), "{err}");
    }
    let after = repo.git_output(["rev-parse", "-q", "--verify", "refs/notes/releases"]);
    assert_eq!(before.stdout, after.stdout);
    assert!(!repo.path().join(".git/refs/tags/x").exists());
    repo.release_ok(["create", "x2", "--ref", "HEAD", "--tag-message", "M"]);
    assert_eq!(repo.git(["tag", "-l", "x2"]).trim(), "x2");
    repo.assert_fsck_clean();
}
