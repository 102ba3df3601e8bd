//! Signed releases, checked with stock tools only: `git verify-tag` / `git tag -v` for
//! tags, `ssh-keygen -Y verify` and `gpg --verify` for evidence and checksums. Keys
//! are throwaway ones made in the test's home (ssh-keygen ed25519; gpg
//! `--quick-gen-key` in a temporary GNUPGHOME).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{COMMITTER_EMAIL, COMMITTER_NAME, Env, Repo, sha256, tools};

/// An SSH key made with `ssh-keygen -t ed25519 -N ''` in the home, trusted for
/// `email` through an allowed-signers file that `gpg.ssh.allowedSignersFile` names.
struct SshKey {
    private: PathBuf,
    #[allow(dead_code)]
    public: String,
    allowed: PathBuf,
}

fn ssh_key(env: &Env, name: &str, email: &str) -> SshKey {
    let private = env.path().join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", email, "-f"])
        .arg(&private)
        .output()
        .expect("ssh-keygen is installed (.ci/run installs openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(private.with_extension("pub"))
        .unwrap()
        .trim()
        .to_owned();
    let allowed = env.path().join(format!("{name}.allowed_signers"));
    std::fs::write(&allowed, format!("{email} {public}\n")).unwrap();
    SshKey {
        private,
        public,
        allowed,
    }
}

/// A repository set up to sign with `key` as git would (`gpg.format=ssh`).
fn ssh_repo<'e>(env: &'e Env, name: &str, key: &SshKey) -> Repo<'e> {
    let repo = env.repo(name);
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "user.signingKey", key.private.to_str().unwrap()]);
    repo.git([
        "config",
        "gpg.ssh.allowedSignersFile",
        key.allowed.to_str().unwrap(),
    ]);
    repo
}

/// A throwaway OpenPGP key for the committer in a GNUPGHOME inside the home; the
/// agent it starts is stopped when the guard is dropped.
struct GnuPg {
    home: PathBuf,
}

impl Drop for GnuPg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.home)
            .output();
    }
}

fn gnupg(env: &Env) -> GnuPg {
    let home = env.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    env.set("GNUPGHOME", home.to_str().unwrap());
    let out = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args(["--batch", "--passphrase", "", "--quick-gen-key"])
        .arg(format!("{COMMITTER_NAME} <{COMMITTER_EMAIL}>"))
        .args(["ed25519", "sign", "never"])
        .output()
        .expect("gpg is installed (.ci/run installs gnupg)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    GnuPg { home }
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap()
}

fn assert_ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Nothing of a refused create is left: no tag, no release, no notes commit.
fn assert_nothing_created(repo: &Repo, tag: &str) {
    assert!(
        !repo.ref_exists(&format!("refs/tags/{tag}")),
        "tag {tag} was created"
    );
    assert!(
        !repo.ref_exists("refs/notes/releases"),
        "a release record was written"
    );
}

/// `ssh-keygen -Y verify` of `data` against `signature` in `namespace`.
fn ssh_verify(
    key: &SshKey,
    namespace: &str,
    data: &[u8],
    signature: &[u8],
) -> std::process::Output {
    let dir = key.allowed.parent().unwrap();
    let sig = dir.join("check.sig");
    std::fs::write(&sig, signature).unwrap();
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", namespace, "-f"])
        .arg(&key.allowed)
        .args(["-I", COMMITTER_EMAIL, "-s"])
        .arg(&sig)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap()
}

fn gpg_verify(env: &Env, dir: &Path, data: &[u8], signature: &[u8]) -> std::process::Output {
    let data_path = dir.join("check.data");
    let sig_path = dir.join("check.asc");
    std::fs::write(&data_path, data).unwrap();
    std::fs::write(&sig_path, signature).unwrap();
    let mut cmd = Command::new("gpg");
    env.apply(&mut cmd);
    run(cmd.arg("--verify").arg(&sig_path).arg(&data_path))
}

#[test]
fn ssh_signed_tag_is_the_tag_git_tag_s_makes() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let ours = ssh_repo(&env, "ours", &key);
    let theirs = ssh_repo(&env, "theirs", &key);
    assert_eq!(ours.rev("HEAD"), theirs.rev("HEAD"));
    let message = "Version 1.0\n\n# a comment git strips\n\ntrailing spaces   \n\n\n";
    let out = ours.release_ok(["create", "v1.0", "--ref", "HEAD", "--sign", "-T", message]);
    assert!(out.contains("signed tag"), "{out}");
    theirs.git(["tag", "-s", "v1.0", "-m", message]);
    // Ed25519 SSH signatures are deterministic: the very same object as git's.
    assert_eq!(ours.rev("refs/tags/v1.0"), theirs.rev("refs/tags/v1.0"));
    assert_ok(&ours.git_output(["verify-tag", "v1.0"]), "git verify-tag");
    assert_ok(&ours.git_output(["tag", "-v", "v1.0"]), "git tag -v");
    ours.assert_fsck_clean();
}

#[test]
fn tag_gpgsign_signs_new_tags_and_no_sign_overrides_it() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.git(["config", "tag.gpgSign", "true"]);
    // No --tag-message: a signed tag is annotated, with the release title as message.
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--name", "First"]);
    assert_eq!(repo.git(["cat-file", "-t", "v1"]).trim(), "tag");
    assert_ok(&repo.git_output(["verify-tag", "v1"]), "git verify-tag");
    let object = repo.git(["cat-file", "tag", "v1"]);
    assert!(
        object.contains("\n\nFirst\n-----BEGIN SSH SIGNATURE-----"),
        "{object}"
    );

    repo.release_ok(["create", "v2", "--ref", "HEAD", "--no-sign"]);
    assert_eq!(repo.git(["cat-file", "-t", "v2"]).trim(), "commit");

    // -u picks another key, as `git tag -u` does.
    let other = ssh_key(&env, "other", COMMITTER_EMAIL);
    repo.git(["config", "tag.gpgSign", "false"]);
    repo.release_ok([
        "create",
        "v3",
        "--ref",
        "HEAD",
        "-T",
        "three",
        "-u",
        other.private.to_str().unwrap(),
    ]);
    let sig = repo.git_output(["verify-tag", "v3"]);
    // Signed with the other key, which the allowed signers do not list.
    assert!(!sig.status.success());
    assert!(String::from_utf8_lossy(&sig.stderr).contains(&fingerprint(&other)));
}

fn fingerprint(key: &SshKey) -> String {
    let out = run(Command::new("ssh-keygen").arg("-lf").arg(&key.private));
    assert_ok(&out, "ssh-keygen -lf");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned()
}

#[test]
fn gpgsign_without_a_key_fails_as_git_does_and_creates_nothing() {
    let env = Env::new();
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "tag.gpgSign", "true"]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD"]);
    assert!(
        err.contains("either user.signingkey or gpg.ssh.defaultKeyCommand needs to be configured"),
        "{err}"
    );
    // git says the same.
    let git = repo.git_output(["tag", "v1", "-m", "x"]);
    assert!(
        String::from_utf8_lossy(&git.stderr)
            .contains("either user.signingkey or gpg.ssh.defaultKeyCommand needs to be configured")
    );
    assert_nothing_created(&repo, "v1");
}

#[test]
fn malformed_signing_settings_are_named_and_create_nothing() {
    let env = Env::new();
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.git(["config", "tag.gpgSign", "maybe"]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD"]);
    assert!(
        err.contains("tag.gpgSign") && err.contains("maybe"),
        "{err}"
    );
    assert!(!err.contains("not set"), "{err}");
    assert_nothing_created(&repo, "v1");

    repo.git(["config", "tag.gpgSign", "true"]);
    repo.git(["config", "gpg.format", "pgp2"]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD"]);
    assert!(err.contains("gpg.format") && err.contains("pgp2"), "{err}");
    assert_nothing_created(&repo, "v1");
}

#[test]
fn a_failing_or_missing_signing_program_or_unknown_key_creates_nothing() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    let objects_before = repo.git(["count-objects"]);
    repo.git(["config", "gpg.ssh.program", "/nonexistent/ssh-keygen"]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD", "--sign"]);
    assert!(
        err.contains("/nonexistent/ssh-keygen") && err.contains("gpg.ssh.program"),
        "{err}"
    );
    assert_nothing_created(&repo, "v1");

    repo.git(["config", "gpg.ssh.program", "false"]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD", "--sign"]);
    assert!(err.contains("cannot sign"), "{err}");
    assert_nothing_created(&repo, "v1");

    repo.git(["config", "--unset", "gpg.ssh.program"]);
    let missing = env.path().join("no-such-key");
    let err = repo.release_err(
        1,
        [
            "create",
            "v1",
            "--ref",
            "HEAD",
            "-u",
            missing.to_str().unwrap(),
        ],
    );
    assert!(err.contains("no-such-key"), "{err}");
    assert_nothing_created(&repo, "v1");
    // Not even a dangling tag object.
    assert_eq!(repo.git(["count-objects"]), objects_before);
}

#[test]
fn ssh_signed_evidence_verifies_with_ssh_keygen_in_the_git_release_namespace() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    let evidence = repo.release(["evidence", "show", "v1"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v1", "--signature"])
        .stdout;
    assert!(signature.starts_with(b"-----BEGIN SSH SIGNATURE-----"));
    assert_ok(
        &ssh_verify(&key, "git-release", &evidence, &signature),
        "ssh-keygen -Y verify",
    );
    // Never valid as a git object signature (no cross-protocol replay).
    assert!(
        !ssh_verify(&key, "git", &evidence, &signature)
            .status
            .success()
    );
    // Edited evidence no longer verifies.
    let mut edited = evidence.clone();
    edited.extend_from_slice(b" ");
    assert!(
        !ssh_verify(&key, "git-release", &edited, &signature)
            .status
            .success()
    );
    // The signature sits beside the snapshot in the notes tree.
    let listing = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    let json = listing
        .lines()
        .find(|l| l.ends_with(".json") && l.starts_with("evidence/"))
        .unwrap();
    assert!(
        listing.lines().any(|l| l == format!("{json}.sig")),
        "{listing}"
    );
    repo.assert_fsck_clean();

    // An unsigned release's evidence has no signature to show.
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);
    let err = repo.release_err(1, ["evidence", "show", "v2", "--signature"]);
    assert!(err.contains("not signed"), "{err}");
    // collect --sign signs a new snapshot of it.
    repo.release_ok(["evidence", "collect", "v2", "--sign"]);
    let evidence = repo.release(["evidence", "show", "v2"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v2", "--signature"])
        .stdout;
    assert_ok(
        &ssh_verify(&key, "git-release", &evidence, &signature),
        "ssh-keygen -Y verify",
    );
}

#[test]
fn sign_evidence_setting_signs_every_snapshot() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.git(["config", "release.signEvidence", "true"]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    assert_eq!(repo.git(["cat-file", "-t", "v1"]).trim(), "commit");
    let evidence = repo.release(["evidence", "show", "v1"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v1", "--signature"])
        .stdout;
    assert_ok(
        &ssh_verify(&key, "git-release", &evidence, &signature),
        "ssh-keygen -Y verify",
    );
}

#[test]
fn openpgp_signed_tag_and_evidence_verify_with_git_and_gpg() {
    let env = Env::new();
    let _gpg = gnupg(&env);
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    // No user.signingKey: gpg is asked for the committer's identity, as git does.
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    assert_ok(&repo.git_output(["verify-tag", "v1"]), "git verify-tag");
    assert_ok(&repo.git_output(["tag", "-v", "v1"]), "git tag -v");
    let evidence = repo.release(["evidence", "show", "v1"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v1", "--signature"])
        .stdout;
    assert!(signature.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
    assert_ok(
        &gpg_verify(&env, env.path(), &evidence, &signature),
        "gpg --verify",
    );
    let mut edited = evidence.clone();
    edited.extend_from_slice(b"\n");
    assert!(
        !gpg_verify(&env, env.path(), &edited, &signature)
            .status
            .success()
    );

    // verify checks both against the keyring and names the key.
    let human = repo.release_ok(["verify", "v1", "--require-signed"]);
    assert!(
        human.contains("tag v1 signed by Carl Committer <carl@example.com> (openpgp key"),
        "{human}"
    );
    // Tampered evidence signature: bad.
    let (_, report) = verify_json(&repo, &["v1"]);
    assert_eq!(statuses(&report, "v1")[1].1, "good");

    // A key gpg does not have: gpg's error, nothing created.
    let err = repo.release_err(
        1,
        ["create", "v2", "--ref", "HEAD", "-u", "nobody@example.com"],
    );
    assert!(
        err.contains("gpg failed to sign the data") && err.contains("nobody@example.com"),
        "{err}"
    );
    assert!(!repo.ref_exists("refs/tags/v2"));
    assert!(repo.release(["view", "v2"]).status.code() == Some(1));
}

#[test]
fn signed_checksums_verify_with_ssh_keygen_and_gpg() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let out = env.path().join("out");
    let sums = out.join("SHA256SUMS");
    repo.release_ok([
        "archive",
        "v1",
        "--format",
        "all",
        "--output-dir",
        out.to_str().unwrap(),
        "--checksums",
        sums.to_str().unwrap(),
        "--sign",
    ]);
    let text = std::fs::read(&sums).unwrap();
    let signature = std::fs::read(out.join("SHA256SUMS.sig")).unwrap();
    assert_ok(
        &ssh_verify(&key, "git-release", &text, &signature),
        "ssh-keygen -Y verify",
    );
    assert!(!ssh_verify(&key, "git", &text, &signature).status.success());

    let _gpg = gnupg(&env);
    repo.git(["config", "--unset", "gpg.format"]);
    repo.git(["config", "--unset", "user.signingKey"]);
    let sums2 = out.join("SUMS2");
    repo.release_ok([
        "archive",
        "v1",
        "--output-dir",
        out.to_str().unwrap(),
        "--checksums",
        sums2.to_str().unwrap(),
        "--sign",
        "--force",
    ]);
    let mut cmd = Command::new("gpg");
    env.apply(&mut cmd);
    let verified = run(cmd.arg("--verify").arg(out.join("SUMS2.asc")).arg(&sums2));
    assert_ok(&verified, "gpg --verify");
}

fn verify_json(repo: &Repo, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["verify", "--json"];
    all.extend_from_slice(args);
    let out = repo.release(all);
    let code = out.status.code().unwrap();
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn kinds(report: &serde_json::Value, tag: &str) -> Vec<String> {
    report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag)
        .unwrap()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn statuses(report: &serde_json::Value, tag: &str) -> Vec<(String, String)> {
    report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag"] == tag)
        .unwrap()["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subject"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn verify_names_signers_and_require_signed_enforces_them() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD"]);

    let human = repo.release_ok(["verify", "v1"]);
    assert!(
        human.contains(&format!("tag v1 signed by {COMMITTER_EMAIL}"))
            && human.contains(&fingerprint(&key))
            && human.contains("evidence "),
        "{human}"
    );
    let (code, report) = verify_json(&repo, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        statuses(&report, "v1"),
        vec![
            ("tag".into(), "good".into()),
            ("evidence".into(), "good".into())
        ]
    );
    assert_eq!(
        report["releases"][0]["signatures"][0]["key"],
        fingerprint(&key)
    );

    // The unsigned release fails only when signatures are required.
    let (code, report) = verify_json(&repo, &["--require-signed"]);
    assert_eq!(code, 1);
    assert!(kinds(&report, "v1").is_empty(), "{report}");
    assert_eq!(kinds(&report, "v2"), vec!["unsigned", "unsigned"]);
    repo.release_ok(["verify", "v1", "--require-signed"]);

    // Without an allowed signer the signatures are valid but untrusted.
    repo.git(["config", "--unset", "gpg.ssh.allowedSignersFile"]);
    let (code, report) = verify_json(&repo, &["v1"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report, "v1")[0].1, "untrusted");
    let (code, report) = verify_json(&repo, &["v1", "--require-signed"]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&report, "v1"),
        vec!["signature_untrusted", "signature_untrusted"]
    );

    // A committed .git-release/allowed_signers is trusted when no file is configured.
    repo.commit(
        "allowed signers",
        &[(
            ".git-release/allowed_signers",
            &format!("{COMMITTER_EMAIL} {}\n", key.public),
        )],
    );
    repo.release_ok(["verify", "v1", "--require-signed"]);
}

/// `--require-signed` wants signed evidence: a back-dated release (no snapshot taken at
/// create) with a signed tag fails until a signed snapshot is collected; an upcoming
/// one is not yet due one.
#[test]
fn require_signed_wants_a_signed_snapshot_of_every_due_release() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--sign",
        "-T",
        "one",
        "--released-at",
        "2020-01-01T00:00:00Z",
    ]);
    repo.release_ok([
        "create",
        "v9",
        "--ref",
        "HEAD",
        "--sign",
        "-T",
        "nine",
        "--released-at",
        "2099-01-01T00:00:00Z",
    ]);
    let listed = repo.release_ok(["evidence", "list", "v1", "--json"]);
    assert_eq!(listed.trim(), "[]", "{listed}");
    repo.release_ok(["verify"]);
    let (code, report) = verify_json(&repo, &["--require-signed"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(kinds(&report, "v1"), vec!["no_evidence"]);
    assert!(kinds(&report, "v9").is_empty(), "{report}");
    let out = repo.release(["verify", "v1", "--require-signed"]);
    assert_eq!(out.status.code(), Some(1));
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("release v1 has no evidence snapshot to carry a signature"),
        "{human}"
    );
    repo.release_ok(["evidence", "collect", "v1", "--sign"]);
    repo.release_ok(["verify", "--require-signed"]);
}

#[test]
fn verify_catches_tampered_signatures_recreated_tags_and_foreign_keys() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--sign", "-T", "two"]);
    repo.release_ok(["create", "v3", "--ref", "HEAD", "--sign", "-T", "three"]);
    repo.release_ok(["verify", "--require-signed"]);

    // v1: its evidence signature replaced by one over other bytes.
    let list = repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"]);
    let v1_sha = {
        let out = repo.release_ok(["evidence", "list", "v1", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v[0]["sha"].as_str().unwrap().to_owned()
    };
    let sig_path = list
        .lines()
        .find(|l| l.contains(&v1_sha) && l.ends_with(".sig"))
        .unwrap()
        .to_owned();
    let other_bytes = env.path().join("other");
    std::fs::write(&other_bytes, "something else\n").unwrap();
    let out = run(Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "git-release", "-f"])
        .arg(&key.private)
        .arg(&other_bytes));
    assert_ok(&out, "ssh-keygen -Y sign");
    replace_notes_file(
        &repo,
        &sig_path,
        &std::fs::read(env.path().join("other.sig")).unwrap(),
    );

    // v2: the tag re-created unsigned on the same commit.
    repo.git(["tag", "-f", "-a", "v2", "-m", "two", "--no-sign"]);

    // v3: its evidence re-signed by a key nobody allowed, and in the git namespace.
    let stranger = ssh_key(&env, "stranger", "mallory@example.com");
    let v3_evidence = repo.release(["evidence", "show", "v3"]).stdout;
    let v3_sha = crate::support::sha256(&v3_evidence);
    let v3_sig_path = list
        .lines()
        .find(|l| l.contains(&v3_sha) && l.ends_with(".sig"))
        .unwrap()
        .to_owned();
    let data = env.path().join("v3.json");
    std::fs::write(&data, &v3_evidence).unwrap();
    let out = run(Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "git-release", "-f"])
        .arg(&stranger.private)
        .arg(&data));
    assert_ok(&out, "ssh-keygen -Y sign");
    replace_notes_file(
        &repo,
        &v3_sig_path,
        &std::fs::read(env.path().join("v3.json.sig")).unwrap(),
    );

    let (code, report) = verify_json(&repo, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(kinds(&report, "v1"), vec!["signature_bad"]);
    assert_eq!(kinds(&report, "v2"), vec!["tag_replaced"]);
    // A stranger's valid signature is only untrusted, until signatures are required.
    assert!(kinds(&report, "v3").is_empty(), "{report}");
    let (_, report) = verify_json(&repo, &["--require-signed"]);
    // What the release recorded (the signed object) is gone from the tag: that fails.
    assert_eq!(kinds(&report, "v2"), vec!["tag_replaced"]);
    assert_eq!(kinds(&report, "v3"), vec!["signature_untrusted"]);

    // A signature made in the git namespace does not pass for evidence.
    std::fs::remove_file(env.path().join("v3.json.sig")).unwrap();
    let out = run(Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "git", "-f"])
        .arg(&key.private)
        .arg(&data));
    assert_ok(&out, "ssh-keygen -Y sign");
    replace_notes_file(
        &repo,
        &v3_sig_path,
        &std::fs::read(env.path().join("v3.json.sig")).unwrap(),
    );
    let (_, report) = verify_json(&repo, &[]);
    assert_eq!(kinds(&report, "v3"), vec!["signature_bad"]);
}

/// Rewrites one file of the notes tree with plain git (a forger's edit).
fn replace_notes_file(repo: &Repo, path: &str, bytes: &[u8]) {
    let blob_file = repo.path().join(".git/forged");
    std::fs::write(&blob_file, bytes).unwrap();
    let blob = repo.git(["hash-object", "-w", blob_file.to_str().unwrap()]);
    let index = repo.path().join(".git/forged-index");
    let idx = index.to_str().unwrap();
    let mut read = repo.git_command(["read-tree", "refs/notes/releases"]);
    read.env("GIT_INDEX_FILE", idx);
    assert_ok(&read.output().unwrap(), "read-tree");
    let mut update = repo.git_command([
        "update-index",
        "--cacheinfo",
        &format!("100644,{},{path}", blob.trim()),
    ]);
    update.env("GIT_INDEX_FILE", idx);
    assert_ok(&update.output().unwrap(), "update-index");
    let mut write = repo.git_command(["write-tree"]);
    write.env("GIT_INDEX_FILE", idx);
    let tree = String::from_utf8(write.output().unwrap().stdout).unwrap();
    let commit = repo.git([
        "commit-tree",
        tree.trim(),
        "-p",
        "refs/notes/releases",
        "-m",
        "forge",
    ]);
    repo.git(["update-ref", "refs/notes/releases", commit.trim()]);
}

#[test]
fn pre_push_refuses_unsigned_release_tags_when_required() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let bin = Path::new(assert_cmd::cargo::cargo_bin!("git-release"))
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(&path));
    env.set(
        "PATH",
        std::env::join_paths(dirs).unwrap().to_str().unwrap(),
    );
    let repo = ssh_repo(&env, "r", &key);
    env.at(env.path())
        .git(["init", "-q", "--bare", "remote.git"]);
    repo.git(["remote", "add", "origin", "../remote.git"]);
    repo.git(["push", "-q", "origin", "main"]);
    repo.release_ok(["hook", "install"]);
    repo.git(["config", "release.requireSignedTags", "true"]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "-T", "unsigned"]);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--sign", "-T", "signed"]);
    let stranger = ssh_key(&env, "stranger", "mallory@example.com");
    repo.release_ok([
        "create",
        "v3",
        "--ref",
        "HEAD",
        "-T",
        "foreign",
        "-u",
        stranger.private.to_str().unwrap(),
    ]);

    let out = repo.git_output(["push", "origin", "v1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("tag v1") && stderr.contains("not signed"),
        "{stderr}"
    );
    let out = repo.git_output(["push", "origin", "v3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("not allowed"),
        "{stderr}"
    );
    let out = repo.git_output(["push", "origin", "v2", "refs/notes/releases"]);
    assert_ok(&out, "git push of a signed release tag");

    // Off by default.
    repo.git(["config", "release.requireSignedTags", "false"]);
    assert_ok(&repo.git_output(["push", "origin", "v1"]), "git push");
}

/// Parses the envelope with securesystemslib's DSSE `Envelope`, prints the statement
/// and writes the PAE bytes and the signature it decoded next to the envelope.
const DSSE_CHECK: &str = r#"
import json, sys
from securesystemslib.dsse import Envelope
path = sys.argv[1]
env = Envelope.from_dict(json.load(open(path)))
assert env.payload_type == "application/vnd.in-toto+json", env.payload_type
(keyid, sig), = env.signatures.items()
open(path + ".pae", "wb").write(env.pae())
open(path + ".sig", "wb").write(bytes.fromhex(sig.signature))
print(json.dumps({"keyid": keyid, "statement": json.loads(env.payload)}))
"#;

#[test]
#[ignore = "needs securesystemslib (tests/requirements.txt); .ci/run runs it"]
fn attestation_is_a_dsse_envelope_an_existing_library_reads_and_ssh_keygen_verifies() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.git(["config", "release.project", "demo"]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--sign",
        "-T",
        "one",
        "--link",
        &format!(
            "name=linux,url=https://example.com/demo-linux,sha256={}",
            "ab".repeat(32)
        ),
        "--link",
        "name=docs,url=https://example.com/docs",
    ]);
    let out_file = env.path().join("att.json");
    repo.release_ok(["attest", "v1.0", "-o", out_file.to_str().unwrap()]);
    // Refuses to overwrite without --force.
    repo.release_err(1, ["attest", "v1.0", "-o", out_file.to_str().unwrap()]);

    let python = tools::venv("securesystemslib").join("bin/python");
    let out = run(Command::new(&python)
        .args(["-c", DSSE_CHECK])
        .arg(&out_file));
    assert_ok(&out, "securesystemslib DSSE Envelope");
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["keyid"], fingerprint(&key));
    let statement = &parsed["statement"];
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://in-toto.io/attestation/release/v0.1"
    );
    assert_eq!(statement["predicate"]["purl"], "pkg:generic/demo@v1.0");
    let subjects = statement["subject"].as_array().unwrap();
    let names: Vec<&str> = subjects
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "demo-v1.0.zip",
            "demo-v1.0.tar.gz",
            "demo-v1.0.tar.bz2",
            "demo-v1.0.tar",
            "linux"
        ]
    );
    // The tar subject is what git archive makes.
    let mut archive = repo.git_command(["archive", "--format=tar", "--prefix=demo-v1.0/", "v1.0"]);
    let tar = archive.output().unwrap().stdout;
    assert_eq!(subjects[3]["digest"]["sha256"], sha256(&tar));
    assert_eq!(subjects[4]["digest"]["sha256"], "ab".repeat(32));

    // The signature over the PAE the library computed verifies with ssh-keygen, in the
    // git-release namespace only.
    let pae = std::fs::read(env.path().join("att.json.pae")).unwrap();
    let sig = std::fs::read(env.path().join("att.json.sig")).unwrap();
    assert_ok(
        &ssh_verify(&key, "git-release", &pae, &sig),
        "ssh-keygen -Y verify",
    );
    assert!(!ssh_verify(&key, "git", &pae, &sig).status.success());
}

#[test]
fn a_release_on_a_tag_signed_by_git_gets_signed_evidence() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    repo.git(["tag", "-s", "v1", "-m", "signed by git"]);
    repo.release_ok(["create", "v1"]);
    repo.release_ok(["verify", "v1", "--require-signed"]);
    // Later snapshots of a signed release are signed too, unless told otherwise.
    repo.release_ok(["evidence", "collect", "v1"]);
    repo.release_ok(["verify", "v1", "--require-signed"]);
    repo.release_ok(["evidence", "collect", "v1", "--no-sign"]);
    let (code, report) = verify_json(&repo, &["v1", "--require-signed"]);
    assert_eq!(code, 1);
    assert_eq!(kinds(&report, "v1"), vec!["unsigned"]);
}

#[test]
fn a_locked_openpgp_key_is_a_clear_error_and_creates_nothing() {
    let env = Env::new();
    let home = env.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // No pinentry can ask for the passphrase: the key stays locked.
    std::fs::write(home.join("gpg-agent.conf"), "pinentry-program /bin/false\n").unwrap();
    let _guard = GnuPg { home: home.clone() };
    env.set("GNUPGHOME", home.to_str().unwrap());
    let out = run(Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "secret",
        ])
        .arg("--quick-gen-key")
        .arg(format!("{COMMITTER_NAME} <{COMMITTER_EMAIL}>"))
        .args(["ed25519", "sign", "never"]));
    assert_ok(&out, "gpg --quick-gen-key");
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    let err = repo.release_err(1, ["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    assert!(err.contains("gpg failed to sign the data"), "{err}");
    assert_nothing_created(&repo, "v1");
}

#[test]
fn signatures_travel_with_push_and_fetch_and_verify_in_a_clone() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let a = ssh_repo(&env, "a", &key);
    env.at(env.path())
        .git(["init", "-q", "--bare", "remote.git"]);
    a.git(["remote", "add", "origin", "../remote.git"]);
    a.git(["push", "-q", "origin", "main"]);
    a.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    a.release_ok(["push", "origin"]);

    env.at(env.path()).git(["clone", "-q", "remote.git", "b"]);
    let b = env.at(env.path().join("b"));
    b.git([
        "config",
        "gpg.ssh.allowedSignersFile",
        key.allowed.to_str().unwrap(),
    ]);
    b.release_ok(["fetch", "origin"]);
    let out = b.release_ok(["verify", "--require-signed"]);
    assert!(out.contains("tag v1 signed by"), "{out}");
    assert_ok(
        &b.git_output(["verify-tag", "v1"]),
        "git verify-tag in the clone",
    );
    // The evidence signature came along, byte for byte.
    assert_eq!(
        b.release(["evidence", "show", "v1", "--signature"]).stdout,
        a.release(["evidence", "show", "v1", "--signature"]).stdout
    );
}

#[test]
#[ignore = "needs securesystemslib (tests/requirements.txt); .ci/run runs it"]
fn an_openpgp_attestation_verifies_with_gpg_over_the_library_pae() {
    let env = Env::new();
    let _gpg = gnupg(&env);
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    let out_file = env.path().join("att.json");
    repo.release_ok(["attest", "v1", "-o", out_file.to_str().unwrap()]);
    let python = tools::venv("securesystemslib").join("bin/python");
    let out = run(Command::new(&python)
        .args(["-c", DSSE_CHECK])
        .arg(&out_file));
    assert_ok(&out, "securesystemslib DSSE Envelope");
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The keyid is the key's fingerprint (40 hex digits).
    let keyid = parsed["keyid"].as_str().unwrap();
    assert!(
        keyid.len() == 40 && keyid.chars().all(|c| c.is_ascii_hexdigit()),
        "{keyid}"
    );
    let pae = std::fs::read(env.path().join("att.json.pae")).unwrap();
    let sig = std::fs::read(env.path().join("att.json.sig")).unwrap();
    assert!(sig.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
    assert_ok(
        &gpg_verify(&env, env.path(), &pae, &sig),
        "gpg --verify over the PAE",
    );
    let mut other = pae.clone();
    other.push(b' ');
    assert!(!gpg_verify(&env, env.path(), &other, &sig).status.success());
}

#[test]
fn an_openpgp_key_missing_from_the_keyring_is_untrusted_not_good() {
    let env = Env::new();
    let gpg = gnupg(&env);
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    // Someone else's keyring: the signer's key is not in it.
    let other = env.path().join("other-gnupg");
    std::fs::create_dir_all(&other).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let _other_guard = GnuPg {
        home: other.clone(),
    };
    env.set("GNUPGHOME", other.to_str().unwrap());
    let (code, report) = verify_json(&repo, &["v1"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        statuses(&report, "v1"),
        vec![
            ("tag".into(), "untrusted".into()),
            ("evidence".into(), "untrusted".into())
        ]
    );
    let (code, report) = verify_json(&repo, &["v1", "--require-signed"]);
    assert_eq!(code, 1);
    assert_eq!(
        kinds(&report, "v1"),
        vec!["signature_untrusted", "signature_untrusted"]
    );
    drop(gpg);
}

/// An ssh-agent of the test's own, killed (by its pid) when dropped.
struct Agent {
    pid: String,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).output();
    }
}

#[test]
fn a_literal_public_key_signs_through_the_agent_as_git_does() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let socket = env.path().join("agent.sock");
    let out = run(Command::new("ssh-agent").arg("-a").arg(&socket).arg("-s"));
    assert_ok(&out, "ssh-agent");
    let text = String::from_utf8(out.stdout).unwrap();
    let pid = text
        .split("SSH_AGENT_PID=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_owned();
    let _agent = Agent { pid };
    env.set("SSH_AUTH_SOCK", socket.to_str().unwrap());
    let mut add = Command::new("ssh-add");
    env.apply(&mut add);
    assert_ok(&run(add.arg("-q").arg(&key.private)), "ssh-add");
    // The key file is gone: only the agent can sign.
    std::fs::remove_file(&key.private).unwrap();

    let repo = ssh_repo(&env, "r", &key);
    repo.git(["config", "user.signingKey", &format!("key::{}", key.public)]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    assert_ok(&repo.git_output(["verify-tag", "v1"]), "git verify-tag");
    let evidence = repo.release(["evidence", "show", "v1"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v1", "--signature"])
        .stdout;
    assert_ok(
        &ssh_verify(&key, "git-release", &evidence, &signature),
        "ssh-keygen -Y verify",
    );
    // gpg.ssh.defaultKeyCommand names the key when user.signingKey does not.
    repo.git(["config", "--unset", "user.signingKey"]);
    repo.git(["config", "gpg.ssh.defaultKeyCommand", "ssh-add -L"]);
    repo.release_ok(["create", "v1b", "--ref", "HEAD", "--sign", "-T", "one b"]);
    assert_ok(&repo.git_output(["verify-tag", "v1b"]), "git verify-tag");

    // A key listed in gpg.ssh.revocationFile no longer verifies (git passes -r too).
    let revoked = env.path().join("revoked");
    std::fs::write(&revoked, format!("{}\n", key.public)).unwrap();
    repo.git([
        "config",
        "gpg.ssh.revocationFile",
        revoked.to_str().unwrap(),
    ]);
    assert!(!repo.git_output(["verify-tag", "v1b"]).status.success());
    let (code, report) = verify_json(&repo, &["v1b"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(kinds(&report, "v1b")[0], "signature_bad");
    repo.git(["config", "--unset", "gpg.ssh.revocationFile"]);

    // Without the agent, a clear error and nothing created.
    env.set(
        "SSH_AUTH_SOCK",
        env.path().join("no-agent").to_str().unwrap(),
    );
    let err = repo.release_err(1, ["create", "v2", "--ref", "HEAD", "--sign", "-T", "two"]);
    assert!(err.contains("cannot sign"), "{err}");
    assert!(!repo.ref_exists("refs/tags/v2"));
}

/// A throwaway self-signed X.509 certificate for the committer, made by gpgsm in a
/// GNUPGHOME inside the home and trusted there as a root (trustlist.txt): git's
/// `gpg.format=x509` setup. Returns the guard and the certificate's fingerprint.
fn gpgsm_certificate(env: &Env) -> (GnuPg, String) {
    let home = env.path().join("gnupg-x509");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    env.set("GNUPGHOME", home.to_str().unwrap());
    let guard = GnuPg { home: home.clone() };
    // A self-signed certificate has no CRL to fetch (the machine is offline).
    std::fs::write(home.join("gpgsm.conf"), "disable-crl-checks\n").unwrap();
    let params = home.join("params");
    std::fs::write(
        &params,
        format!(
            "Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\nSerial: random\n\
             Name-DN: CN={COMMITTER_NAME},O=git-release tests\nName-Email: {COMMITTER_EMAIL}\n"
        ),
    )
    .unwrap();
    let gpgsm = |args: &[&str]| {
        let out = Command::new("gpgsm")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpgsm is installed (.ci/run installs it)");
        assert_ok(&out, &format!("gpgsm {args:?}"));
        out
    };
    let cert = home.join("cert.pem");
    gpgsm(&[
        "--gen-key",
        "--output",
        cert.to_str().unwrap(),
        params.to_str().unwrap(),
    ]);
    gpgsm(&["--import", cert.to_str().unwrap()]);
    let listed = String::from_utf8(gpgsm(&["--list-keys", "--with-colons"]).stdout).unwrap();
    let fingerprint = listed
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| f.len() == 40))
        .expect("a fingerprint")
        .to_owned();
    std::fs::write(
        home.join("trustlist.txt"),
        format!("{fingerprint} S relax\n"),
    )
    .unwrap();
    (guard, fingerprint)
}

/// `gpg.format=x509`: the tag is signed by gpgsm (git's `gpg.x509.program`) exactly as
/// `git tag -s` signs, `git verify-tag` accepts it, the evidence carries a CMS
/// signature that gpgsm verifies over the bytes `evidence show` prints, and `verify`
/// names the certificate.
#[test]
#[ignore = "needs gpgsm; .ci/run runs it"]
fn x509_signed_tag_and_evidence_verify_with_git_and_gpgsm() {
    tools::gpgsm();
    let env = Env::new();
    let (_gpgsm, fingerprint) = gpgsm_certificate(&env);
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.git(["config", "gpg.format", "x509"]);
    repo.git(["config", "user.signingKey", &fingerprint]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--sign", "-T", "one"]);
    let object = repo.git_raw(["cat-file", "tag", "v1"]);
    let text = String::from_utf8_lossy(&object);
    assert!(text.contains("-----BEGIN SIGNED MESSAGE-----"), "{text}");
    assert_ok(&repo.git_output(["verify-tag", "v1"]), "git verify-tag");
    // git's own x509 tag on the same commit verifies the same way (the oracle works).
    repo.git(["tag", "-s", "-m", "git's", "g1", "HEAD"]);
    assert_ok(
        &repo.git_output(["verify-tag", "g1"]),
        "git verify-tag (git's tag)",
    );

    let evidence = repo.release(["evidence", "show", "v1"]).stdout;
    let signature = repo
        .release(["evidence", "show", "v1", "--signature"])
        .stdout;
    let dir = env.path();
    std::fs::write(dir.join("e.json"), &evidence).unwrap();
    std::fs::write(dir.join("e.sig"), &signature).unwrap();
    let check = |data: &str| {
        let mut cmd = Command::new("gpgsm");
        env.apply(&mut cmd);
        run(cmd
            .args(["--batch", "--verify"])
            .arg(dir.join("e.sig"))
            .arg(dir.join(data)))
    };
    assert_ok(&check("e.json"), "gpgsm --verify");
    let mut edited = evidence.clone();
    edited.push(b'\n');
    std::fs::write(dir.join("edited.json"), &edited).unwrap();
    assert!(!check("edited.json").status.success());

    let human = repo.release_ok(["verify", "v1", "--require-signed"]);
    assert!(
        human.contains("tag v1 signed by") && human.contains(&format!("(x509 key {fingerprint})")),
        "{human}"
    );
    let (code, report) = verify_json(&repo, &["v1", "--require-signed"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        statuses(&report, "v1"),
        vec![
            ("tag".into(), "good".into()),
            ("evidence".into(), "good".into())
        ]
    );

    // A certificate gpgsm does not have: gpgsm's failure, nothing created.
    let err = repo.release_err(
        1,
        [
            "create",
            "v2",
            "--ref",
            "HEAD",
            "-u",
            "0000000000000000000000000000000000000000",
        ],
    );
    assert!(
        err.contains("gpgsm") || err.contains("failed to sign"),
        "{err}"
    );
    assert!(!repo.ref_exists("refs/tags/v2"));
}

/// `git -c tag.gpgSign=true release create` signs the tag (libgit2 alone never sees
/// `git -c`); with no key to sign with it fails and creates nothing, never an unsigned
/// tag and exit 0.
#[test]
fn git_dash_c_tag_gpgsign_signs_the_tag_or_fails() {
    let env = Env::new();
    let key = ssh_key(&env, "id_ed25519", COMMITTER_EMAIL);
    let repo = ssh_repo(&env, "r", &key);
    let out = repo
        .git_with_release(&[
            "-c",
            "tag.gpgSign=true",
            "release",
            "create",
            "v1",
            "--ref",
            "HEAD",
        ])
        .output()
        .unwrap();
    assert_ok(&out, "git -c tag.gpgSign=true release create");
    assert_eq!(repo.git(["cat-file", "-t", "v1"]).trim(), "tag");
    assert_ok(&repo.git_output(["verify-tag", "v1"]), "git verify-tag");

    // The key itself from -c, as `git -c user.signingKey=… tag -s` takes it.
    repo.git(["config", "--unset", "user.signingKey"]);
    let signing_key = format!("user.signingKey={}", key.private.to_str().unwrap());
    let out = repo
        .git_with_release(&[
            "-c",
            "tag.gpgSign=true",
            "-c",
            &signing_key,
            "release",
            "create",
            "v2",
            "--ref",
            "HEAD",
        ])
        .output()
        .unwrap();
    assert_ok(&out, "git -c user.signingKey=… release create");
    assert_ok(&repo.git_output(["verify-tag", "v2"]), "git verify-tag v2");

    // No key anywhere: refused, nothing created.
    let out = repo
        .git_with_release(&[
            "-c",
            "tag.gpgSign=true",
            "-c",
            "gpg.format=ssh",
            "release",
            "create",
            "v3",
            "--ref",
            "HEAD",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!repo.ref_exists("refs/tags/v3"));
}

/// A tag signed by somebody else (an upstream release): an OpenPGP key made in a
/// throwaway GNUPGHOME that is deleted before releasing, as when a release is made on a
/// clone of a project whose maintainers sign their tags. The release is created with
/// unsigned evidence and one notice line; listed, viewed and verified; an explicit
/// request to sign that cannot be met fails naming --no-sign and creates nothing.
#[test]
fn a_release_on_a_tag_signed_by_a_deleted_openpgp_key_is_created_unsigned() {
    let env = Env::new();
    let repo = env.repo("r");
    repo.commit("first", &[("a.txt", "a\n")]);
    {
        let _upstream = gnupg(&env);
        repo.git(["tag", "-s", "v1", "-m", "upstream v1"]);
        repo.git(["tag", "-s", "v2", "-m", "upstream v2"]);
    }
    // The key is gone: a fresh, empty keyring.
    let home = env.path().join("gnupg");
    std::fs::remove_dir_all(&home).unwrap();
    let _empty = gnupg_empty(&env);
    assert!(!repo.git_output(["verify-tag", "v1"]).status.success());

    let out = repo.release(["create", "v1"]);
    assert_ok(&out, "create on an upstream-signed tag");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let notices: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("not your signing key"))
        .collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(
        notices[0].contains("tag v1 is signed by openpgp key"),
        "{stderr}"
    );
    assert!(repo.release_ok(["list"]).contains("v1"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&repo.release_ok(["view", "v1", "--json"]))
            .unwrap()["tag_name"],
        "v1"
    );
    let (code, report) = verify_json(&repo, &["v1"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        statuses(&report, "v1"),
        vec![
            ("tag".to_owned(), "untrusted".to_owned()),
            ("evidence".to_owned(), "unsigned".to_owned())
        ],
        "{report}"
    );

    // Asked to sign with a key this machine does not have: refused, nothing written.
    let before = repo.git(["rev-parse", "refs/notes/releases"]);
    let err = repo.release_err(1, ["create", "v2", "--sign"]);
    assert!(err.contains("--no-sign"), "{err}");
    repo.git(["config", "release.signEvidence", "true"]);
    let err = repo.release_err(1, ["create", "v2"]);
    assert!(err.contains("--no-sign"), "{err}");
    assert_eq!(repo.git(["rev-parse", "refs/notes/releases"]), before);
    repo.release_ok(["create", "v2", "--no-sign"]);
    repo.assert_fsck_clean();
}

/// An empty keyring in a fresh GNUPGHOME (the agent stopped when dropped).
fn gnupg_empty(env: &Env) -> GnuPg {
    let home = env.path().join("gnupg-empty");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    env.set("GNUPGHOME", home.to_str().unwrap());
    GnuPg { home }
}

/// The same with SSH: a tag signed with a key that is then deleted, while the user has
/// a key of their own configured. The evidence is not signed with the user's key (it
/// is not the tag's signer), and a tag the user signed still gets signed evidence.
#[test]
fn a_release_on_a_tag_signed_by_a_deleted_ssh_key_is_created_unsigned() {
    let env = Env::new();
    let upstream = ssh_key(&env, "upstream", "up@example.com");
    let repo = ssh_repo(&env, "r", &upstream);
    repo.git(["tag", "-s", "v1", "-m", "upstream"]);
    std::fs::remove_file(&upstream.private).unwrap();
    std::fs::remove_file(upstream.private.with_extension("pub")).unwrap();
    let mine = ssh_key(&env, "mine", COMMITTER_EMAIL);
    repo.git(["config", "user.signingKey", mine.private.to_str().unwrap()]);
    repo.git([
        "config",
        "gpg.ssh.allowedSignersFile",
        mine.allowed.to_str().unwrap(),
    ]);

    let out = repo.release(["create", "v1"]);
    assert_ok(&out, "create on a tag signed by a deleted ssh key");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tag v1 is signed by ssh key SHA256:")
            && stderr.contains("not your signing key"),
        "{stderr}"
    );
    let (_, report) = verify_json(&repo, &["v1"]);
    assert_eq!(
        statuses(&report, "v1"),
        vec![
            ("tag".to_owned(), "untrusted".to_owned()),
            ("evidence".to_owned(), "unsigned".to_owned())
        ],
        "{report}"
    );
    // Later snapshots are left unsigned the same way, with the same notice.
    let out = repo.release(["evidence", "collect", "v1"]);
    assert_ok(&out, "evidence collect");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not your signing key"));

    // A tag signed with the user's own key: its evidence is signed, without a notice.
    repo.git(["tag", "-s", "v2", "-m", "mine"]);
    let out = repo.release(["create", "v2"]);
    assert_ok(&out, "create on the user's own signed tag");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not your signing key"));
    repo.release_ok(["verify", "v2", "--require-signed"]);
}
