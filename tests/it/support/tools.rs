//! The outside tools a few tests check against (a real GitLab client, a feed reader,
//! a DSSE library, a browser, gpgsm), and the one guard those tests share.
//!
//! These tests are `#[ignore = "needs …; .ci/run runs it"]`: a plain `cargo test`
//! reports them as ignored, never as passed, and `.ci/run` (which installs the tools)
//! runs them by name. Asked to run without its tool, such a test fails and says what
//! is missing; it never passes by doing nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The one guard: fails the test, naming what it needs and how to get it, unless
/// `present`.
#[track_caller]
pub fn require(present: bool, what: &str) {
    assert!(
        present,
        "this test needs {what}: `.ci/run` installs it (see tests/requirements.txt and docs/testing.md)"
    );
}

/// The Python virtual environment `.ci/run` makes from tests/requirements.txt
/// (python-gitlab, feedparser, securesystemslib): `target/venv`, or
/// `GIT_RELEASE_TEST_VENV`. Checks that `module` imports in it.
#[track_caller]
pub fn venv(module: &str) -> PathBuf {
    let dir = std::env::var_os("GIT_RELEASE_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join("target/venv"));
    let imports = Command::new(dir.join("bin/python"))
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    require(
        imports,
        &format!("the Python module {module} in {}", dir.display()),
    );
    dir
}

/// A program of the venv run with a clean environment: no proxy, no user config.
pub fn python_command(venv: &Path, program: &str, home: &Path) -> Command {
    let mut cmd = Command::new(venv.join("bin").join(program));
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", venv.join("bin"))
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs the client script `tests/clients/<script>` with the venv's python and `args`;
/// fails the test, with the script's output and the server's log, unless it succeeds
/// and says its checks passed.
#[track_caller]
pub fn python_client_checks(
    venv: &Path,
    home: &Path,
    script: &str,
    args: &[&str],
    server: &crate::support::serve::Server,
) {
    let out = python_command(venv, "python", home)
        .arg(manifest().join("tests/clients").join(script))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("checks passed"),
        "{script} failed:\n{stdout}{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

/// The browser check (tests/browser/check.mjs), run by node with playwright-core
/// driving Debian's chromium.
#[track_caller]
pub fn browser_check() -> PathBuf {
    let chromium = Path::new("/usr/bin/chromium");
    let modules = manifest().join("tests/browser/node_modules/playwright-core");
    let node = Command::new("node").arg("--version").output().is_ok();
    require(
        chromium.exists() && modules.exists() && node,
        &format!(
            "chromium at {} ({}), node ({node}) and playwright-core in tests/browser ({})",
            chromium.display(),
            chromium.exists(),
            modules.exists()
        ),
    );
    manifest().join("tests/browser/check.mjs")
}

/// Runs the browser check on `target` (a site directory or a served URL), writing
/// its screenshots to `shots`; returns its report.
#[track_caller]
pub fn run_browser_check(
    script: &Path,
    target: &std::ffi::OsStr,
    shots: &Path,
    release_page: &str,
    home: &Path,
) -> serde_json::Value {
    let run = Command::new("node")
        .arg(script)
        .arg(target)
        .arg(shots)
        .arg(release_page)
        .env("HOME", home)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "browser checks failed:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    for shot in [
        "index.png",
        "index-dark.png",
        "release.png",
        "release-phone.png",
    ] {
        let bytes = std::fs::read(shots.join(shot)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{shot}");
    }
    report
}

/// gpgsm, the X.509 signer git runs for `gpg.format=x509`.
#[track_caller]
pub fn gpgsm() {
    require(
        Command::new("gpgsm").arg("--version").output().is_ok(),
        "gpgsm (Debian package gpgsm)",
    );
}
