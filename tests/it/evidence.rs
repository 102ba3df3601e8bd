//! Evidence and the offline audit: snapshots taken when GitLab takes them, hashes a
//! third party can recompute with sha256sum, and `verify` catching tampering done
//! with plain git.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Env, edit_record, edit_store, evidences, newest, sha256, store_file, verify};

#[test]
fn create_collects_evidence_that_sha256sum_checks() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a.txt", "alpha\n"), ("dir/b.txt", "beta\n")]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--tag-message",
        "Version 1.0",
    ]);

    let (sha, filepath) = newest(&repo, "v1.0");
    assert_eq!(filepath, format!("evidence/{}/{sha}.json", &sha[..2]));
    // The third party's check: only a clone and sha256sum.
    let printed = repo.git([
        "-c",
        "core.pager=cat",
        "show",
        &format!("refs/notes/releases:{filepath}"),
    ]);
    let mut child = std::process::Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(printed.as_bytes())
        .unwrap();
    let sum = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(sum.split_whitespace().next(), Some(sha.as_str()));
    // `evidence show` prints the exact stored bytes; a sha prefix selects it too.
    let shown = repo.release_ok(["evidence", "show", "v1.0"]);
    assert_eq!(shown.as_bytes(), store_file(&repo, &filepath));
    assert_eq!(
        repo.release_ok(["evidence", "show", "v1.0", &sha[..8]]),
        shown
    );
    assert!(shown.ends_with("}\n"));
    // Deterministic serialization: decoding and encoding again gives the same bytes.
    let decoded = git_release::model::evidence::parse(shown.as_bytes(), &filepath).unwrap();
    assert_eq!(
        git_release::model::evidence::to_bytes(&decoded).unwrap(),
        shown.as_bytes()
    );

    let evidence: Value = serde_json::from_str(&shown).unwrap();
    let release = &evidence["release"];
    assert_eq!(release["tag_name"], "v1.0");
    assert_eq!(release["project"]["name"], "p");
    assert!(release["milestones"].as_array().unwrap().is_empty());
    let facts = &evidence["git_release"];
    assert_eq!(facts["tag"]["name"], "v1.0");
    assert_eq!(facts["tag"]["type"], "tag");
    assert_eq!(facts["tag"]["object"], repo.rev("refs/tags/v1.0"));
    assert_eq!(facts["commit"], repo.rev("v1.0^{commit}"));
    assert_eq!(facts["tree"], repo.rev("v1.0^{tree}"));
    assert_eq!(facts["record"]["name"], "v1.0");
    assert!(facts["record"].get("pending").is_none());
    // A tree snapshot: the archive settings that, with the tree id, fix the archives'
    // bytes, and no digests (making them would read every blob).
    assert_eq!(
        facts["archives"],
        serde_json::json!({"mode": "canonical", "prefix": "p-v1.0/"})
    );
    assert_eq!(
        facts["archive_format_version"],
        git_release::model::evidence::ARCHIVE_FORMAT_VERSION
    );

    // GitLab's entity lists it too.
    let view: Value = serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_eq!(view["evidences"][0]["sha"], sha.as_str());
    // Taken in the commit that created the release: no extra notes commit.
    assert_eq!(
        repo.git(["log", "--format=%s", "refs/notes/releases"]),
        "create v1.0\ncreate v1.0 (tag pending)\n"
    );
    repo.assert_fsck_clean();
}

#[test]
fn upcoming_release_gets_evidence_once_due_from_collect_due_or_any_write() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    env.set("GIT_RELEASE_NOW", "2025-01-01T00:00:00Z");
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-02-01",
    ]);
    repo.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-03-01",
    ]);
    assert!(evidences(&repo, "v1").is_empty());
    let project: Value = serde_json::from_slice(&store_file(&repo, "project.json")).unwrap();
    let pending: Vec<&str> = project["pending_evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tag"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["v1", "v2"]);
    let err = repo.release_err(1, ["evidence", "collect", "v1"]);
    assert!(err.contains("release \"v1\" is upcoming"), "{err}");
    assert!(err.contains("collect --due"), "{err}");
    // Nothing due yet: nothing written.
    let before = repo.rev("refs/notes/releases");
    repo.release_ok(["evidence", "collect", "--due"]);
    assert_eq!(repo.rev("refs/notes/releases"), before);

    env.set("GIT_RELEASE_NOW", "2025-02-15T00:00:00Z");
    let out = repo.release_ok(["evidence", "collect", "--due"]);
    assert!(out.contains("Collected evidence"), "{out}");
    assert!(out.contains("for v1"), "{out}");
    assert_eq!(evidences(&repo, "v1").len(), 1);
    assert!(evidences(&repo, "v2").is_empty());
    assert_eq!(
        evidences(&repo, "v1")[0]["collected_at"],
        "2025-02-15T00:00:00.000Z"
    );

    // Any write command collects what has become due: here a milestone.
    env.set("GIT_RELEASE_NOW", "2025-03-02T00:00:00Z");
    let out = repo.release(["milestone", "create", "M1"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("collected evidence"), "{err}");
    assert_eq!(evidences(&repo, "v2").len(), 1);
    let project: Value = serde_json::from_slice(&store_file(&repo, "project.json")).unwrap();
    assert!(project.get("pending_evidence").is_none(), "{project}");
    // Reading commands never write.
    let before = repo.rev("refs/notes/releases");
    repo.release_ok(["list"]);
    assert_eq!(repo.rev("refs/notes/releases"), before);
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{out}");
    repo.assert_fsck_clean();
}

#[test]
fn moving_an_upcoming_release_date_reschedules_its_evidence() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    env.set("GIT_RELEASE_NOW", "2025-01-01T00:00:00Z");
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-06-01",
    ]);
    // Released earlier than planned: the next write collects it.
    env.set("GIT_RELEASE_NOW", "2025-02-01T00:00:00Z");
    repo.release_ok(["update", "v1", "--released-at", "2025-01-15"]);
    assert_eq!(evidences(&repo, "v1").len(), 1);
}

#[test]
fn historical_release_gets_evidence_only_when_asked_with_artifacts() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.release_ok([
        "create",
        "v0.9",
        "--ref",
        "HEAD",
        "--released-at",
        "2020-01-01",
    ]);
    assert!(evidences(&repo, "v0.9").is_empty());
    let project = repo.git(["ls-tree", "--name-only", "refs/notes/releases"]);
    assert!(!project.contains("evidence"), "{project}");

    let report = repo.path().join("../report.txt");
    std::fs::write(&report, "all 42 tests passed\n").unwrap();
    let out = repo.release_ok([
        "evidence",
        "collect",
        "v0.9",
        "--artifact",
        report.to_str().unwrap(),
    ]);
    assert!(out.contains("Collected evidence"), "{out}");
    let digest = sha256(b"all 42 tests passed\n");
    let path = format!("artifacts/{}/{digest}", &digest[..2]);
    assert_eq!(store_file(&repo, &path), b"all 42 tests passed\n");
    let shown: Value =
        serde_json::from_str(&repo.release_ok(["evidence", "show", "v0.9"])).unwrap();
    let artifact = &shown["release"]["report_artifacts"][0];
    assert_eq!(artifact["name"], "report.txt");
    assert_eq!(artifact["sha256"], digest.as_str());
    assert_eq!(artifact["size"], 20);
    assert_eq!(artifact["filepath"], path.as_str());

    // A second snapshot is added, never replacing the first.
    repo.release_ok(["evidence", "collect", "v0.9"]);
    let list = evidences(&repo, "v0.9");
    assert_eq!(list.len(), 2);
    let second: Value =
        serde_json::from_str(&repo.release_ok(["evidence", "show", "v0.9"])).unwrap();
    assert_eq!(
        second["git_release"]["record"]["evidences"][0]["sha"],
        list[0]["sha"]
    );
    let err = repo.release_err(1, ["evidence", "show", "v0.9", "zz"]);
    assert!(
        err.contains("no evidence whose sha starts with zz"),
        "{err}"
    );
    repo.assert_fsck_clean();
    repo.git(["gc", "-q", "--prune=now"]);
    assert_eq!(store_file(&repo, &path), b"all 42 tests passed\n");
}

#[test]
fn verify_passes_a_clean_repository_and_names_each_tampering() {
    let env = Env::new();
    let repo = env.repo("p");
    let report = repo.path().join("../report.txt");
    std::fs::write(&report, "ok\n").unwrap();
    for n in 1..=5 {
        repo.commit(&format!("c{n}"), &[(&format!("f{n}"), "x")]);
        let tag = format!("v{n}");
        repo.release_ok(["create", &tag, "--ref", "HEAD", "--tag-message", "m"]);
    }
    repo.release_ok([
        "evidence",
        "collect",
        "v5",
        "--artifact",
        report.to_str().unwrap(),
    ]);
    let (code, out) = verify(&repo, &["--all"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("v3  ok"), "{out}");
    assert!(out.contains("5 releases checked: 5 ok, 0 failed"), "{out}");

    // Move a tag; delete a tag.
    repo.git(["tag", "-f", "v1", "v2"]);
    repo.git(["tag", "-d", "v2"]);
    // Rewrite a note: the record now claims another commit.
    let other = repo.rev("v1^{commit}");
    edit_record(&repo, "v3", |record| record["commit"] = Value::from(other));
    // Rewrite an evidence blob in place.
    let (_, v4_path) = newest(&repo, "v4");
    let forged = String::from_utf8(store_file(&repo, &v4_path))
        .unwrap()
        .replace("\"name\": \"v4\"", "\"name\": \"v4-final\"");
    edit_store(&repo, &v4_path, Some(forged.as_bytes()));
    // Drop an artifact.
    let digest = sha256(b"ok\n");
    edit_store(&repo, &format!("artifacts/{}/{digest}", &digest[..2]), None);

    let (code, out) = verify(&repo, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("tag v1 was moved"), "{out}");
    assert!(out.contains("tag v2 of a release was deleted"), "{out}");
    assert!(out.contains("v3  FAILED"), "{out}");
    assert!(out.contains("of release v3 records commit"), "{out}");
    assert!(out.contains("of release v4 was rewritten"), "{out}");
    assert!(
        out.contains("artifact \"report.txt\" of release v5 is missing"),
        "{out}"
    );
    assert!(out.contains("5 releases checked: 0 ok, 5 failed"), "{out}");

    let (code, out) = verify(&repo, &["--json", "v4", "v5"]);
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = json["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["problems"][0]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["evidence_tampered", "artifact_missing"]);
    assert_eq!(json["summary"]["failed"], 2);
}

#[test]
fn verify_reports_a_corrupt_note_and_still_checks_the_rest() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.commit("two", &[("b", "b")]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-m",
        "{\"schema\": 1, \"releases\": ",
        "v1",
    ]);
    let (code, out) = verify(&repo, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("corrupt"), "{out}");
    assert!(out.contains("v2  ok"), "{out}");
}

#[test]
fn verify_archives_catches_a_self_consistent_forgery() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a.txt", "alpha\n")]);
    // Archive digests at create, as the setting asks.
    repo.git(["config", "release.evidenceArchives", "true"]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("v1  ok (archives match)"), "{out}");

    // A forger writes new evidence claiming other archive bytes, stores it under its
    // own sha and points the record at it: every hash agrees, the archives do not.
    let (sha, path) = newest(&repo, "v1");
    let mut evidence: Value = serde_json::from_slice(&store_file(&repo, &path)).unwrap();
    evidence["git_release"]["archives"]["files"][1]["sha256"] = Value::from("0".repeat(64));
    let mut bytes = serde_json::to_vec_pretty(&evidence).unwrap();
    bytes.push(b'\n');
    let forged_sha = sha256(&bytes);
    let forged_path = format!("evidence/{}/{forged_sha}.json", &forged_sha[..2]);
    edit_store(&repo, &forged_path, Some(&bytes));
    edit_record(&repo, "v1", |record| {
        record["evidences"][0]["sha"] = Value::from(forged_sha.clone());
        record["evidences"][0]["filepath"] = Value::from(forged_path.clone());
    });
    let (code, out) = verify(&repo, &[]);
    assert_eq!(code, 0, "hashes agree: {out}");
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the tar.gz source archive of release v1 has SHA-256"),
        "{out}"
    );
    assert!(!out.contains("zip source archive"), "{out}");
    // `evidence verify` regenerates the archives too.
    let out = repo.release(["evidence", "verify", "v1"]);
    assert_eq!(out.status.code(), Some(1));

    // Editing the recorded digest in place is caught first by the evidence's own hash.
    edit_record(&repo, "v1", |record| {
        record["evidences"][0]["sha"] = Value::from(sha.clone());
        record["evidences"][0]["filepath"] = Value::from(path.clone());
    });
    edit_store(&repo, &path, Some(&bytes));
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("of release v1 was rewritten"), "{out}");
    assert!(!out.contains("source archive of release"), "{out}");
}

#[test]
fn ref_dependent_archives_cannot_be_verified_but_do_not_fail() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit(
        "one",
        &[
            (".gitattributes", "version.txt export-subst\n"),
            ("version.txt", "$Format:%H%d$\n"),
        ],
    );
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["evidence", "collect", "v1", "--archives"]);
    let shown: Value = serde_json::from_str(&repo.release_ok(["evidence", "show", "v1"])).unwrap();
    assert_eq!(
        shown["git_release"]["archives"]["ref_dependent"],
        serde_json::json!(["version.txt"])
    );
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cannot verify"), "{out}");
    assert!(out.contains("depend on refs"), "{out}");
    assert!(out.contains("1 cannot verify"), "{out}");
}

#[test]
fn archives_made_without_lfs_objects_cannot_be_verified() {
    let env = Env::new();
    let repo = env.repo("p");
    let pointer = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 5\n",
        "4".repeat(64)
    );
    repo.commit(
        "one",
        &[
            (
                ".gitattributes",
                "*.bin filter=lfs diff=lfs merge=lfs -text\n",
            ),
            ("data.bin", &pointer),
        ],
    );
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok(["evidence", "collect", "v1", "--archives"]);
    let shown: Value = serde_json::from_str(&repo.release_ok(["evidence", "show", "v1"])).unwrap();
    assert_eq!(
        shown["git_release"]["archives"]["lfs_missing"],
        serde_json::json!(["data.bin"])
    );
    let (code, out) = verify(&repo, &["--archives"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cannot verify"), "{out}");
    assert!(
        out.contains("without Git LFS objects for data.bin"),
        "{out}"
    );
}

#[test]
fn deleting_an_upcoming_release_takes_it_off_the_pending_list() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("one", &[("a", "a")]);
    env.set("GIT_RELEASE_NOW", "2025-01-01T00:00:00Z");
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-02-01",
    ]);
    repo.release_ok(["delete", "v1", "-y"]);
    let project: Value = serde_json::from_slice(&store_file(&repo, "project.json")).unwrap();
    assert!(project.get("pending_evidence").is_none(), "{project}");
}

/// The snapshot's `project.created_at` is the time of the root of HEAD's first-parent
/// history. It is remembered between runs (so that a create does not walk the whole
/// history): after more commits, on an unrelated history and with a garbled cache, it
/// is still that root's time.
#[test]
fn project_created_at_is_the_first_commit_whatever_the_cache_says() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2030-01-01T00:00:00Z");
    let repo = env.repo("p");
    repo.commit("first", &[("a", "a\n")]);
    let created_at = |tag: &str| {
        let shown = repo.release_ok(["evidence", "show", tag]);
        let evidence: Value = serde_json::from_str(&shown).unwrap();
        evidence["release"]["project"]["created_at"].clone()
    };
    // 1710135045 (support::COMMIT_DATE) = 2024-03-11T05:30:45Z.
    let first = Value::from("2024-03-11T05:30:45.000Z");
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    assert_eq!(created_at("v1"), first);

    env.set("GIT_COMMITTER_DATE", "1720000000 +0000");
    repo.commit("second", &[("b", "b\n")]);
    repo.commit("third", &[("c", "c\n")]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    assert_eq!(created_at("v2"), first);

    // Another root: the remembered one does not apply.
    repo.git(["checkout", "-q", "--orphan", "other"]);
    repo.commit("other root", &[("d", "d\n")]);
    repo.release_ok(["create", "v3", "--ref", "HEAD"]);
    assert_eq!(created_at("v3"), Value::from("2024-07-03T09:46:40.000Z"));

    repo.git(["checkout", "-q", "main"]);
    std::fs::write(
        repo.path().join(".git/git-release/first-parent-root"),
        "junk",
    )
    .unwrap();
    repo.release_ok(["create", "v4", "--ref", "HEAD"]);
    assert_eq!(created_at("v4"), first);
}
