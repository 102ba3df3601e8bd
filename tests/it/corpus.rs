//! A release on every tag of a repository, then list, view, verify and serve them all:
//! annotated, lightweight and signed tags, signed by keys nobody here holds.
//!
//! The CI-sized test makes such tags itself (a throwaway GNUPGHOME and SSH key, deleted
//! before releasing). The ignored one runs on a real repository with many tags
//! (`scripts/corpus.sh`, e.g. ripgrep's 272 tags, 188 of them signed upstream).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::support::{Env, Repo};

/// Creates a release on every tag, then checks that list, view, verify and serve see
/// every one of them; returns what it measured, for the report.
fn release_every_tag(repo: &Repo, tags: &[String]) -> String {
    let started = Instant::now();
    let mut unsigned_notices = 0;
    for tag in tags {
        // `tags/` keeps a tag named `latest` (or `tags/…`) the tag it is.
        let out = repo.release(["create", &format!("tags/{tag}")]);
        assert!(
            out.status.success(),
            "create {tag}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if String::from_utf8_lossy(&out.stderr).contains("not your signing key") {
            unsigned_notices += 1;
        }
    }
    let created = started.elapsed();

    let started = Instant::now();
    let listed = repo.release_ok(["list", "--json", "--per-page", "100", "--page", "1"]);
    assert!(!listed.trim().is_empty());
    let mut all = Vec::new();
    for page in 1.. {
        let text = repo.release_ok([
            "list",
            "--json",
            "--per-page",
            "100",
            "--page",
            &page.to_string(),
        ]);
        let names = crate::support::tag_names(&text);
        if names.is_empty() {
            break;
        }
        all.extend(names);
    }
    all.sort();
    let mut expected = tags.to_vec();
    expected.sort();
    assert_eq!(all, expected, "list shows every release");
    let listing = started.elapsed();

    let started = Instant::now();
    for tag in tags {
        let view: Value =
            serde_json::from_str(&repo.release_ok(["view", &format!("tags/{tag}"), "--json"]))
                .unwrap();
        assert_eq!(view["tag_name"], tag.as_str());
        assert!(view["author"]["id"].is_u64());
    }
    let viewing = started.elapsed();

    let started = Instant::now();
    let out = repo.release(["verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify --json: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify found problems: {}",
        serde_json::to_string_pretty(&report["releases"]).unwrap()
    );
    assert_eq!(report["summary"]["total"], tags.len());
    let verifying = started.elapsed();

    let started = Instant::now();
    let served = serve_all(repo);
    assert_eq!(served, tags.len(), "serve lists every release");
    let serving = started.elapsed();

    format!(
        "{} tags ({} signed by a key not held here): create {:.1}s, list {:.2}s, view {:.1}s, \
         verify {:.1}s, serve {:.2}s",
        tags.len(),
        unsigned_notices,
        created.as_secs_f64(),
        listing.as_secs_f64(),
        viewing.as_secs_f64(),
        verifying.as_secs_f64(),
        serving.as_secs_f64()
    )
}

/// The number of releases `serve` lists, page by page as a client reads them.
fn serve_all(repo: &Repo) -> usize {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    let child = cmd
        .current_dir(repo.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Stopped(child);
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("Listening on ")
        .unwrap()
        .to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut count = 0;
    for page in 1.. {
        let url = format!("{base}/api/v4/projects/1/releases?per_page=100&page={page}");
        let response = agent.get(&url).call().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let body: Value =
            serde_json::from_slice(&response.into_body().read_to_vec().unwrap()).unwrap();
        let n = body.as_array().unwrap().len();
        if n == 0 {
            break;
        }
        count += n;
    }
    count
}

struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tags_of(repo: &Repo) -> Vec<String> {
    repo.git(["tag", "--list"])
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Annotated, lightweight, OpenPGP- and SSH-signed tags whose keys are then deleted,
/// tags named like versions with prefixes, a tag named `latest` and one with a slash.
#[test]
fn a_release_on_every_kind_of_tag_including_ones_signed_by_keys_gone_since() {
    let env = Env::new();
    let repo = env.repo("corpus");
    let mut n = 0;
    let mut commit = |repo: &Repo| {
        n += 1;
        repo.commit(&format!("change {n}"), &[("f", &n.to_string())]);
    };
    commit(&repo);
    repo.git(["tag", "0.1.0"]);
    commit(&repo);
    repo.git(["tag", "-a", "0.2.0", "-m", "annotated"]);
    commit(&repo);
    repo.git(["tag", "grep-cli-0.1.2"]);
    repo.git(["tag", "-a", "latest", "-m", "a tag named like the keyword"]);
    commit(&repo);
    repo.git(["tag", "release/1.0"]);
    // OpenPGP-signed tags, with a key in a GNUPGHOME deleted afterwards.
    let gnupg = env.path().join("upstream-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    env.set("GNUPGHOME", gnupg.to_str().unwrap());
    let made = Command::new("gpg")
        .env("GNUPGHOME", &gnupg)
        .args(["--batch", "--passphrase", "", "--quick-gen-key"])
        .arg(format!(
            "{} <{}>",
            crate::support::COMMITTER_NAME,
            crate::support::COMMITTER_EMAIL
        ))
        .args(["ed25519", "sign", "never"])
        .output()
        .expect("gpg is installed");
    assert!(made.status.success());
    commit(&repo);
    repo.git(["tag", "-s", "1.1.0", "-m", "signed upstream"]);
    commit(&repo);
    repo.git(["tag", "-s", "grep-cli-0.1.10", "-m", "signed upstream"]);
    let _ = Command::new("gpgconf")
        .args(["--kill", "all"])
        .env("GNUPGHOME", &gnupg)
        .output();
    std::fs::remove_dir_all(&gnupg).unwrap();
    let empty = env.path().join("empty-gnupg");
    std::fs::create_dir_all(&empty).unwrap();
    env.set("GNUPGHOME", empty.to_str().unwrap());
    // SSH-signed tags, with a key deleted afterwards.
    let key = env.path().join("upstream_ssh");
    let made = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "up@example.com",
            "-f",
        ])
        .arg(&key)
        .output()
        .expect("ssh-keygen is installed");
    assert!(made.status.success());
    commit(&repo);
    repo.git([
        "-c",
        "gpg.format=ssh",
        "-c",
        &format!("user.signingKey={}", key.display()),
        "tag",
        "-s",
        "2.0.0",
        "-m",
        "ssh-signed upstream",
    ]);
    std::fs::remove_file(&key).unwrap();
    std::fs::remove_file(key.with_extension("pub")).unwrap();

    let tags = tags_of(&repo);
    assert_eq!(tags.len(), 8);
    let said = release_every_tag(&repo, &tags);
    assert!(said.contains("(3 signed by a key not held here)"), "{said}");
    repo.assert_fsck_clean();
    let _ = Command::new("gpgconf")
        .args(["--kill", "all"])
        .env("GNUPGHOME", &empty)
        .output();
}

/// The same on a real repository (`GIT_RELEASE_CORPUS` names its git directory; it is
/// copied first, nothing is written to it): see `scripts/corpus.sh`.
#[test]
#[ignore = "needs a real repository with many tags: run scripts/corpus.sh"]
fn a_release_on_every_tag_of_a_real_repository() {
    let source = std::env::var("GIT_RELEASE_CORPUS")
        .expect("GIT_RELEASE_CORPUS names the git directory of a repository with tags");
    let env = Env::new();
    let copy = env.path().join("corpus.git");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--mirror"])
        .arg(Path::new(&source))
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = env.at(&copy);
    // Releases are GitLab's: their notes live apart from what the project had.
    let _ = repo.git_output(["update-ref", "-d", "refs/notes/releases"]);
    let tags = tags_of(&repo);
    let said = release_every_tag(&repo, &tags);
    eprintln!("corpus {source}: {said}");
}
