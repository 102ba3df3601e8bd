//! Release permissions as GitLab has them: `[[protected_tag]]` rules enforced offline by
//! the real pre-push hook and `verify` (with keys made in the test: ssh-keygen ed25519,
//! gpg in a throwaway GNUPGHOME), and roles in `serve` driven by python-gitlab as Guest,
//! Reporter, Developer and Maintainer.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::serve::{ROLE_TOKENS, start, store_state};
use crate::support::tools::{self, python_client_checks};
use crate::support::{Env, Repo};

/// A throwaway SSH key and the allowed-signers line that lists it.
struct SshKey {
    private: PathBuf,
    line: String,
}

fn ssh_key(env: &Env, name: &str, principal: &str) -> SshKey {
    let private = env.path().join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f"])
        .arg(&private)
        .output()
        .expect("ssh-keygen is installed (.ci/run installs openssh-client)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(private.with_extension("pub")).unwrap();
    SshKey {
        line: format!("{principal} {}", public.trim()),
        private,
    }
}

/// A GNUPGHOME in the test's home with OpenPGP keys for `uids`; their fingerprints in
/// the same order. The agent is stopped when the guard is dropped.
struct GnuPg {
    home: PathBuf,
    fingerprints: Vec<String>,
}

impl Drop for GnuPg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.home)
            .output();
    }
}

fn gnupg(env: &Env, uids: &[&str]) -> GnuPg {
    let home = env.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    env.set("GNUPGHOME", home.to_str().unwrap());
    let mut fingerprints = Vec::new();
    for uid in uids {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--passphrase", "", "--quick-gen-key", uid])
            .args(["ed25519", "sign", "never"])
            .output()
            .expect("gpg is installed (.ci/run installs gnupg)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--with-colons", "--list-secret-keys", uid])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listed.stdout);
        let fpr = text
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
            .unwrap()
            .to_owned();
        fingerprints.push(fpr);
    }
    GnuPg { home, fingerprints }
}

/// `PATH` with the built git-release first, so git runs the installed hook's
/// `git release hook pre-push` with this build.
fn with_release_on_path(env: &Env) {
    let bin = Path::new(assert_cmd::cargo::cargo_bin!("git-release"))
        .parent()
        .unwrap()
        .to_owned();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    env.set(
        "PATH",
        std::env::join_paths(dirs).unwrap().to_str().unwrap(),
    );
}

/// A clone of a bare remote whose default branch carries `rules` in
/// `.git-release.toml` and `signers` in `.git-release/allowed_signers`, with the hook.
fn protected_project<'e>(env: &'e Env, rules: &str, signers: &str) -> Repo<'e> {
    with_release_on_path(env);
    let base = env.at(env.path());
    base.git(["init", "-q", "--bare", "remote.git"]);
    let seed = env.repo("seed");
    seed.commit(
        "rules",
        &[
            ("README.md", "hello\n"),
            (".git-release.toml", rules),
            (".git-release/allowed_signers", signers),
        ],
    );
    seed.git(["push", "-q", "../remote.git", "main"]);
    base.git(["clone", "-q", "remote.git", "work"]);
    let repo = env.at(env.path().join("work"));
    repo.release_ok(["hook", "install"]);
    repo
}

fn push(repo: &Repo, args: &[&str]) -> (bool, String) {
    let mut all = vec!["push", "origin"];
    all.extend_from_slice(args);
    let out = repo.git_output(all);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn remote_has(repo: &Repo, refname: &str) -> bool {
    repo.git_output(["ls-remote", "--exit-code", "origin", refname])
        .status
        .success()
}

const RULES: &str = r#"[project]
name = "proj"

[[protected_tag]]
pattern = "v*"
allowed_signers = ".git-release/allowed_signers"
allowed_fingerprints = ["FINGERPRINT"]

[[protected_tag]]
pattern = "ev-*"
allowed_signers = ".git-release/allowed_signers"
signed = "evidence"
"#;

#[test]
fn the_pre_push_hook_refuses_protected_tags_no_allowed_key_signed() {
    let env = Env::new();
    let alice = ssh_key(&env, "alice", "alice@example.com");
    let mallory = ssh_key(&env, "mallory", "mallory@example.com");
    let gpg = gnupg(
        &env,
        &["Olga <olga@example.com>", "Oscar <oscar@example.com>"],
    );
    let (olga, oscar) = (&gpg.fingerprints[0], &gpg.fingerprints[1]);
    let rules = RULES.replace("FINGERPRINT", olga);
    let repo = protected_project(&env, &rules, &format!("{}\n", alice.line));

    // Unsigned: refused, naming the rule and where it was read.
    repo.release_ok(["create", "v1.0", "--ref", "HEAD", "-T", "plain"]);
    let (ok, stderr) = push(&repo, &["v1.0"]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("pushing tag v1.0 refused")
            && stderr.contains("protected_tag \"v*\" (origin/main:.git-release.toml line 5)")
            && stderr.contains("the tag is not signed"),
        "{stderr}"
    );
    assert!(!remote_has(&repo, "refs/tags/v1.0"));

    // A lightweight tag carries no signature at all.
    repo.git(["tag", "v1.1"]);
    let (ok, stderr) = push(&repo, &["v1.1"]);
    assert!(!ok && stderr.contains("lightweight"), "{stderr}");

    // Signed by a key the allowed signers do not list: refused.
    let ssh_tag = |tag: &str, key: &SshKey| {
        repo.git([
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingKey={}", key.private.display()),
            "tag",
            "-s",
            tag,
            "-m",
            tag,
        ])
    };
    ssh_tag("v1.2", &mallory);
    let (ok, stderr) = push(&repo, &["v1.2"]);
    assert!(!ok && stderr.contains("does not list"), "{stderr}");
    assert!(!remote_has(&repo, "refs/tags/v1.2"));

    // Alice's SSH signature and Olga's OpenPGP signature pass; Oscar's does not.
    ssh_tag("v2.0", &alice);
    repo.release_ok(["create", "v2.0"]);
    let (ok, stderr) = push(&repo, &["v2.0", "refs/notes/releases"]);
    assert!(ok, "{stderr}");
    assert!(remote_has(&repo, "refs/tags/v2.0"));
    repo.git(["tag", "-s", "-u", olga, "v3.0", "-m", "openpgp"]);
    let (ok, stderr) = push(&repo, &["v3.0"]);
    assert!(ok, "{stderr}");
    repo.git([
        "tag",
        "-s",
        "-u",
        oscar,
        "v3.1",
        "-m",
        "openpgp, not allowed",
    ]);
    let (ok, stderr) = push(&repo, &["v3.1"]);
    assert!(
        !ok && stderr.contains("not in allowed_fingerprints"),
        "{stderr}"
    );

    // Tags no rule protects are none of the rules' business.
    repo.git(["tag", "other-1"]);
    assert!(push(&repo, &["other-1"]).0);

    // `signed = "evidence"`: a lightweight tag passes once its release's evidence is
    // signed by an allowed key, and not before.
    repo.release_ok(["create", "ev-1", "--ref", "HEAD"]);
    let (ok, stderr) = push(&repo, &["ev-1"]);
    assert!(!ok && stderr.contains("no evidence snapshot"), "{stderr}");
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "user.signingKey", alice.private.to_str().unwrap()]);
    repo.release_ok(["evidence", "collect", "ev-1", "--sign"]);
    let (ok, stderr) = push(&repo, &["ev-1", "refs/notes/releases"]);
    assert!(ok, "{stderr}");

    // Editing the work tree's rules does not switch them off: the hook reads them from
    // the remote's default branch.
    repo.write(".git-release.toml", "[project]\nname = \"proj\"\n");
    repo.git(["commit", "-qam", "no more rules"]);
    let (ok, stderr) = push(&repo, &["v1.0"]);
    assert!(!ok && stderr.contains("the tag is not signed"), "{stderr}");
    // `--no-verify` skips any hook: the bypass `verify` is there to detect.
    let out = repo.git_output([
        "push",
        "--no-verify",
        "origin",
        "v1.0",
        "refs/notes/releases",
    ]);
    assert!(out.status.success());
    drop(gpg);
}

#[test]
fn verify_names_the_rule_of_every_release_no_allowed_key_signed_and_can_pin_the_rules() {
    let env = Env::new();
    let alice = ssh_key(&env, "alice", "alice@example.com");
    let rules =
        "[[protected_tag]]\npattern = \"v*\"\nallowed_signers = \".git-release/allowed_signers\"\n";
    let repo = protected_project(&env, rules, &format!("{}\n", alice.line));
    let anchor = repo.rev("origin/main");
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "user.signingKey", alice.private.to_str().unwrap()]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD", "--sign", "-T", "signed"]);
    let out = repo.release([
        "create",
        "v1.1",
        "--ref",
        "HEAD",
        "--no-sign",
        "-T",
        "unsigned",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.contains("warning: tag v1.1 is protected by protected_tag"),
        "{stderr}"
    );
    repo.release_ok(["create", "beta-1", "--ref", "HEAD"]);
    let out = repo.git_output([
        "push",
        "--no-verify",
        "origin",
        "v1.0",
        "v1.1",
        "beta-1",
        "refs/notes/releases",
    ]);
    assert!(out.status.success());

    // Another clone finds the bypass.
    let other = env.at(env.path().join("other"));
    env.at(env.path())
        .git(["clone", "-q", "remote.git", "other"]);
    other.release_ok(["fetch"]);
    let out = other.release(["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_tag = |tag: &str| {
        report["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tag"] == tag)
            .unwrap()
            .clone()
    };
    assert_eq!(by_tag("v1.0")["status"], "ok");
    // The passing release names the rule it passed and whose signature did it.
    assert_eq!(
        by_tag("v1.0")["protected"]["rule"],
        "protected_tag \"v*\" (origin/main:.git-release.toml line 2)"
    );
    let signed_by = by_tag("v1.0")["protected"]["signed_by"].clone();
    assert!(
        signed_by
            .as_str()
            .is_some_and(|s| s.starts_with("the tag, signed by alice@example.com")),
        "{signed_by}"
    );
    assert_eq!(by_tag("beta-1")["status"], "ok");
    assert_eq!(by_tag("beta-1")["protected"], Value::Null);
    let human = other.release(["verify", "v1.0"]);
    assert!(
        String::from_utf8_lossy(&human.stdout).contains(
            "  · protected by protected_tag \"v*\" (origin/main:.git-release.toml line 2): the tag, signed by alice@example.com"
        ),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );
    let v11 = by_tag("v1.1");
    assert_eq!(v11["problems"][0]["kind"], "protected_tag");
    let message = v11["problems"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("protected_tag \"v*\" (origin/main:.git-release.toml line 2)")
            && message.contains("the tag is not signed"),
        "{message}"
    );
    assert_eq!(
        report["protected_tags"]["source"],
        "origin/main:.git-release.toml"
    );
    assert_eq!(report["protected_tags"]["rules"], 1);
    let human = other.release(["verify"]);
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert!(
        stdout.contains("v1.1  FAILED") && stdout.contains("protected_tag \"v*\""),
        "{stdout}"
    );

    // Whoever can push to the default branch can drop the rules, and a verify that
    // reads them there then finds nothing: a trust anchor outside that branch still does.
    repo.git(["pull", "-q", "origin", "main"]);
    repo.git(["rm", "-q", ".git-release.toml"]);
    repo.git(["commit", "-qm", "drop the rules"]);
    assert!(
        repo.git_output(["push", "-q", "origin", "main"])
            .status
            .success()
    );
    other.git(["fetch", "-q", "origin"]);
    other.release_ok(["verify"]);
    let out = other.release(["verify", "--protected-tags-from", &anchor]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(1)
            && stdout.contains(&format!(
                "protected_tag \"v*\" ({}:.git-release.toml line 2)",
                &anchor[..12]
            )),
        "{stdout}"
    );
    // A rules file outside the repository, pinned by git config, with its own
    // allowed-signers file beside it.
    let outside = env.path().join("trusted");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("rules.toml"),
        rules.replace(".git-release/", ""),
    )
    .unwrap();
    std::fs::write(outside.join("allowed_signers"), format!("{}\n", alice.line)).unwrap();
    other.git([
        "config",
        "release.protectedTagsFile",
        outside.join("rules.toml").to_str().unwrap(),
    ]);
    let out = other.release(["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["protected_tags"]["reason"]
            .as_str()
            .unwrap()
            .contains("release.protectedTagsFile")
    );
    let failed: Vec<&str> = report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["tag"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["v1.1"]);
}

#[test]
fn rules_are_read_strictly_and_config_shows_them() {
    let env = Env::new();
    let key = ssh_key(&env, "alice", "alice@example.com");
    let rules = "[[protected_tag]]\npattern = \"v*\"\nallowed_signers = \".git-release/allowed_signers\"\n\n[[protected_tag]]\npattern = \"release/*\"\nrole = \"developer\"\n";
    let repo = protected_project(&env, rules, &format!("{}\n", key.line));
    let listed = repo.release_ok(["config", "protected_tag"]);
    assert_eq!(
        listed,
        "v* role=maintainer signed=tag allowed_signers=.git-release/allowed_signers\n\
         release/* role=developer signed=tag (no keys: enforced by serve only)\n"
    );
    let all = repo.release_ok(["config", "--list"]);
    assert!(
        all.contains("origin/main:.git-release.toml (the remote's default branch as last fetched)"),
        "{all}"
    );
    // A bad table in the work tree is an error naming the file and its line.
    repo.write(
        ".git-release.toml",
        "[[protected_tag]]\npattern = \"v*\"\nrole = \"admin\"\n",
    );
    let err = repo.release_err(1, ["config"]);
    assert!(
        err.contains(".git-release.toml, line 3: role: unknown role \"admin\""),
        "{err}"
    );
    repo.write(
        ".git-release.toml",
        "[[protected_tags]]\npattern = \"v*\"\n",
    );
    let err = repo.release_err(1, ["config"]);
    assert!(
        err.contains("line 1") && err.contains("[[protected_tag]]"),
        "{err}"
    );
    // An edit that parses is shown as pending until it reaches the remote.
    repo.write(".git-release.toml", "[[protected_tag]]\npattern = \"*\"\n");
    let out = repo.release(["config"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("differ from those in force"), "{stderr}");
    // A committed rule names a committed file, never one on this machine.
    let base = env.at(env.path());
    base.git(["clone", "-q", "remote.git", "evil"]);
    let evil = env.at(env.path().join("evil"));
    evil.commit(
        "outside",
        &[(
            ".git-release.toml",
            "[[protected_tag]]\npattern = \"v*\"\nallowed_signers = \"/etc/passwd\"\n",
        )],
    );
    evil.git([
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingKey={}", key.private.display()),
        "tag",
        "-s",
        "v9",
        "-m",
        "v9",
    ]);
    evil.release_ok(["create", "v9"]);
    evil.git(["config", "release.protectedTagsFrom", "HEAD"]);
    let out = evil.release(["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(1)
            && stdout.contains("a committed rule names a file of the repository"),
        "{stdout}"
    );
    // A rules file or allowed-signers file no project needs is refused unread.
    let huge = format!("{}\n", key.line).repeat((1 << 20) / key.line.len() + 1);
    evil.commit(
        "huge",
        &[
            (
                ".git-release.toml",
                "[[protected_tag]]\npattern = \"v*\"\nallowed_signers = \"signers\"\n",
            ),
            ("signers", huge.as_str()),
        ],
    );
    let out = evil.release(["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(1) && stdout.contains("larger than 1048576 bytes"),
        "{stdout}"
    );
    evil.commit(
        "huge rules",
        &[(".git-release.toml", &format!("# {}\n", "x".repeat(1 << 20)))],
    );
    let err = evil.release_err(1, ["verify"]);
    assert!(err.contains("larger than 1048576 bytes"), "{err}");
}

#[test]
fn update_and_delete_warn_when_the_configured_key_is_not_allowed() {
    let env = Env::new();
    let alice = ssh_key(&env, "alice", "alice@example.com");
    let mallory = ssh_key(&env, "mallory", "mallory@example.com");
    let rules =
        "[[protected_tag]]\npattern = \"v*\"\nallowed_signers = \".git-release/allowed_signers\"\n";
    let repo = protected_project(&env, rules, &format!("{}\n", alice.line));
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "user.signingKey", alice.private.to_str().unwrap()]);
    let out = repo.release(["create", "v1.0", "--ref", "HEAD", "--sign", "-T", "ok"]);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("warning"));
    let out = repo.release(["update", "v1.0", "--name", "One"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    repo.git([
        "config",
        "user.signingKey",
        mallory.private.to_str().unwrap(),
    ]);
    for (args, consequence) in [
        (
            &["update", "v1.0", "--name", "Uno"][..],
            "will not vouch for the release on this tag",
        ),
        (
            &["delete", "v1.0", "-y"],
            "nothing offline records who deleted it",
        ),
    ] {
        let out = repo.release(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success()
                && stderr.contains("warning: tag v1.0 is protected by protected_tag \"v*\"")
                && stderr.contains("does not allow your signing key")
                && stderr.contains(consequence),
            "{args:?}: {stderr}"
        );
    }
}

/// A project whose committed rules protect `v*` (Maintainers only), with a release on
/// a protected tag and one on a tag nobody protected, and a milestone.
fn served_project(env: &Env) -> Repo<'_> {
    let repo = crate::support::serve::project(env);
    repo.commit(
        "rules",
        &[(".git-release.toml", "[[protected_tag]]\npattern = \"v*\"\n")],
    );
    repo.env.set("GIT_RELEASE_NOW", "2024-01-01T10:00:00Z");
    repo.release_ok(["create", "v0.1", "--ref", "HEAD", "--notes", "first"]);
    repo.release_ok([
        "link",
        "add",
        "v0.1",
        "--name",
        "app",
        "--url",
        "https://example.com/app",
        "--direct-asset-path",
        "/bin/app",
    ]);
    repo.env.set("GIT_RELEASE_NOW", "2024-01-02T10:00:00Z");
    repo.release_ok(["create", "beta-1", "--ref", "HEAD", "--notes", "beta"]);
    repo.release_ok(["milestone", "create", "M1"]);
    repo.env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    std::fs::write(env.path().join("tokens.toml"), ROLE_TOKENS).unwrap();
    repo
}

#[test]
#[ignore = "needs python-gitlab (tests/requirements.txt); .ci/run runs it"]
fn python_gitlab_as_each_role_against_a_private_project() {
    let venv = tools::venv("gitlab");
    let env = Env::new();
    let repo = served_project(&env);
    let tokens = env.path().join("tokens.toml");
    let server = start(
        &repo,
        &[
            "--tokens",
            tokens.to_str().unwrap(),
            "--require-token-for-reads",
        ],
    );

    // The Developer's create on the protected v1.0: 403, and nothing written.
    let before = store_state(&repo);
    let reply = server.call(
        "POST",
        "/api/v4/projects/1/releases",
        Some("developer-token"),
        Some(&json!({"tag_name": "v1.0", "ref": "main"}).to_string()),
    );
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json(), json!({"message": "403 Forbidden"}));
    assert_eq!(store_state(&repo), before);

    python_client_checks(
        &venv,
        env.path(),
        "python_gitlab_roles.py",
        &[
            &server.base,
            "guest-token",
            "reporter-token",
            "developer-token",
            "maintainer-token",
        ],
        &server,
    );

    // What the API wrote is what git holds: the Maintainer's v1.0 by Mia, no beta-2.
    assert!(repo.ref_exists("refs/tags/v1.0"));
    assert!(!repo.ref_exists("refs/tags/beta-9"));
    let v10: Value = serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_eq!(v10["author"]["username"], "mia");
    assert_eq!(v10["author"]["email"], "mia@example.com");
    repo.release_err(1, ["view", "beta-2"]);
    repo.assert_fsck_clean();
}

#[test]
fn a_guest_sees_gitlabs_redacted_release_field_by_field() {
    let env = Env::new();
    let repo = served_project(&env);
    let tokens = env.path().join("tokens.toml");
    let private = start(
        &repo,
        &[
            "--tokens",
            tokens.to_str().unwrap(),
            "--require-token-for-reads",
        ],
    );
    let get = |token: &str, path: &str| private.call("GET", path, Some(token), None);
    let full = get("reporter-token", "/api/v4/projects/1/releases/v0.1").json();
    let guest = get("guest-token", "/api/v4/projects/1/releases/v0.1").json();
    let id = repo.git(["notes", "--ref=releases", "show", "v0.1^{commit}"]);
    let id: Value = serde_json::from_str(&id).unwrap();
    let id = id["releases"]["v0.1"]["id"].as_u64().unwrap();
    let mut expected = full.clone();
    let object = expected.as_object_mut().unwrap();
    for hidden in ["tag_name", "commit", "commit_path", "tag_path", "evidences"] {
        assert!(object.remove(hidden).is_some(), "{hidden}");
    }
    object.insert("name".into(), json!(format!("Release-{id}")));
    object.insert("_links".into(), json!({}));
    let mut link = full["assets"]["links"][0].clone();
    assert_ne!(link["direct_asset_url"], link["url"]);
    link["direct_asset_url"] = link["url"].clone();
    object["assets"] = json!({"count": 1, "links": [link]});
    assert_eq!(guest, expected);
    // The same in the list, and nothing names the tag anywhere a guest can read.
    let listed = get("guest-token", "/api/v4/projects/1/releases").json();
    assert!(listed.as_array().unwrap().contains(&expected));
    for (path, status) in [
        ("/api/v4/projects/1/releases/v0.1/assets/links", 200),
        ("/api/v4/projects/1/releases/permalink/latest", 403),
        ("/api/v4/projects/1/releases/v0.1/evidence", 403),
        ("/api/v4/projects/1/repository/tags", 403),
        ("/api/v4/projects/1/repository/archive.zip?sha=v0.1", 403),
        ("/group/proj/-/releases", 403),
        ("/group/proj/-/releases.atom", 403),
        ("/group/proj/-/badges/release.svg", 403),
        ("/group/proj/-/tags/v0.1", 403),
        ("/api/v4/projects/1/freeze_periods", 403),
    ] {
        let reply = get("guest-token", path);
        assert_eq!(reply.status, status, "{path}");
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("v0.1"),
            "{path}"
        );
    }
    let download = get(
        "guest-token",
        "/group/proj/-/releases/v0.1/downloads/bin/app",
    );
    assert_eq!(download.status, 302);
    assert_eq!(download.header("location"), "https://example.com/app");
    assert_eq!(private.get("/api/v4/projects/1/releases").status, 401);
    drop(private);

    // A public project shows guests everything, as GitLab shows its public code.
    let public = start(&repo, &["--tokens", tokens.to_str().unwrap()]);
    let guest = public.call(
        "GET",
        "/api/v4/projects/1/releases/v0.1",
        Some("guest-token"),
        None,
    );
    assert_eq!(guest.json()["tag_name"], "v0.1");
    assert_eq!(
        public.get("/api/v4/projects/1/releases/v0.1").json()["tag_name"],
        "v0.1"
    );
}

#[test]
fn the_single_token_options_are_a_maintainer_and_old_records_get_a_stable_id() {
    let env = Env::new();
    let repo = served_project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", "single");
    let tokens = env.path().join("tokens.toml");
    let server = start(&repo, &["--tokens", tokens.to_str().unwrap()]);
    let reply = server.call(
        "POST",
        "/api/v4/projects/1/releases",
        Some("single"),
        Some(&json!({"tag_name": "v2.0", "ref": "main"}).to_string()),
    );
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    // The single token acts as the repository's git identity.
    assert_eq!(reply.json()["author"]["name"], "Ada Author");
    assert_eq!(
        server
            .call(
                "DELETE",
                "/api/v4/projects/1/releases/v2.0",
                Some("single"),
                None
            )
            .status,
        200
    );
    drop(server);

    // A record made before release ids existed: its name for a guest is derived from
    // what never changes in it, the same on every read and in every clone.
    let note = repo.git(["notes", "--ref=releases", "show", "beta-1^{commit}"]);
    let mut doc: Value = serde_json::from_str(&note).unwrap();
    for release in doc["releases"].as_object_mut().unwrap().values_mut() {
        release.as_object_mut().unwrap().remove("id");
    }
    let path = env.path().join("note.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-F",
        path.to_str().unwrap(),
        "beta-1^{commit}",
    ]);
    let names = |repo: &Repo| {
        let server = start(
            repo,
            &[
                "--tokens",
                tokens.to_str().unwrap(),
                "--require-token-for-reads",
            ],
        );
        let listed = server.call(
            "GET",
            "/api/v4/projects/1/releases",
            Some("guest-token"),
            None,
        );
        let mut names: Vec<String> = listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let first = names(&repo);
    assert_eq!(first.len(), 2);
    let derived: u64 = first
        .iter()
        .map(|n| n[8..].parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert!(derived >= 1 << 52, "{first:?}");
    assert_eq!(names(&repo), first);
    env.at(env.path()).git(["clone", "-q", "proj", "copy"]);
    let copy = env.at(env.path().join("copy"));
    copy.git([
        "fetch",
        "-q",
        "origin",
        "refs/notes/releases:refs/notes/releases",
    ]);
    copy.git([
        "remote",
        "set-url",
        "origin",
        "git@gitlab.example.com:group/proj.git",
    ]);
    assert_eq!(names(&copy), first);
}

#[test]
fn a_token_file_with_bad_lines_is_refused_at_start_naming_the_line() {
    let env = Env::new();
    let repo = crate::support::serve::project(&env);
    let file = env.path().join("tokens.toml");
    for (text, line, needle) in [
        (ROLE_TOKENS.replace("role = \"reporter\"", "role = \"admin\""), 12, "unknown role \"admin\""),
        (ROLE_TOKENS.replace("username = \"dev\"", "usrname = \"dev\""), 16, "usrname"),
        (format!("{ROLE_TOKENS}\n[[token]]\ntoken = \"guest-token\"\nusername = \"x\"\nemail = \"x@x\"\nrole = \"owner\"\n"), 29, "already given"),
        ("[[token]]\ntoken_sha256 = \"xyz\"\nusername = \"x\"\nemail = \"x@x\"\nrole = \"owner\"\n".to_owned(), 2, "64 hex digits"),
    ] {
        std::fs::write(&file, &text).unwrap();
        let err = repo.release_err(1, ["serve", "--listen", "127.0.0.1:0", "--tokens", file.to_str().unwrap()]);
        assert!(
            err.contains(&format!("tokens.toml, line {line}: ")) && err.contains(needle),
            "{err}"
        );
        assert!(!err.contains("Listening"), "{err}");
    }
    // Protected-tag rules a write would be checked against, unreadable: refused at start
    // too (a read-only server checks no write, so starts).
    std::fs::write(&file, ROLE_TOKENS).unwrap();
    repo.commit(
        "bad rules",
        &[(
            ".git-release.toml",
            "[[protected_tag]]\npattern = \"v*\"\nrole = \"admin\"\n",
        )],
    );
    let err = repo.release_err(
        1,
        [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tokens",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains(".git-release.toml, line 3: role: unknown role \"admin\""),
        "{err}"
    );
    let server = start(&repo, &["--read-only"]);
    assert_eq!(server.get("/api/v4/projects/1/releases").status, 200);
}
