//! The hermetic test environment: every test builds real repositories with real git in
//! a temporary directory, with no user or system configuration, fixed identities and
//! dates, and runs the built `git-release` binary against them.

#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub const AUTHOR_NAME: &str = "Ada Author";
pub const AUTHOR_EMAIL: &str = "ada@example.com";
pub const COMMITTER_NAME: &str = "Carl Committer";
pub const COMMITTER_EMAIL: &str = "carl@example.com";
/// 2024-03-10T22:30:45-07:00, as in shared/ARCHIVE.md.
pub const COMMIT_DATE: &str = "1710135045 -0700";

/// A temporary home holding one or more repositories.
pub struct Env {
    pub home: TempDir,
    /// Set for a borrowed environment: the owner's home.
    root: Option<PathBuf>,
    /// Extra variables applied to every git and git-release run.
    pub vars: RefCell<Vec<(String, String)>>,
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::Builder::new()
            .prefix("git-release-test")
            .tempdir()
            .unwrap();
        std::fs::write(
            home.path().join(".gitconfig"),
            "[init]\n\tdefaultBranch = main\n[tag]\n\tgpgSign = false\n[commit]\n\tgpgSign = false\n\
             [protocol \"file\"]\n\tallow = always\n",
        )
        .unwrap();
        Env {
            home,
            root: None,
            vars: RefCell::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        self.root.as_deref().unwrap_or_else(|| self.home.path())
    }

    /// An environment sharing another's home and variables (for worker threads, which
    /// cannot borrow the owner's `Env`); it does not delete the home when dropped.
    pub fn borrowed(home: PathBuf, vars: Vec<(String, String)>) -> Self {
        let placeholder = tempfile::Builder::new()
            .prefix("git-release-borrowed")
            .tempdir()
            .unwrap();
        Env {
            home: placeholder,
            root: Some(home),
            vars: RefCell::new(vars),
        }
    }

    pub fn set(&self, key: &str, value: &str) {
        let mut vars = self.vars.borrow_mut();
        vars.retain(|(k, _)| k != key);
        vars.push((key.into(), value.into()));
    }

    /// Applies the hermetic environment to a command.
    pub fn apply(&self, cmd: &mut Command) {
        // Start from an empty environment: a developer's GIT_*, GIT_RELEASE_* or
        // NO_COLOR must not change what a test sees. Only the search path (for git,
        // man, python3) and the temporary directory are inherited.
        cmd.env_clear();
        for inherited in ["PATH", "TMPDIR"] {
            if let Some(value) = std::env::var_os(inherited) {
                cmd.env(inherited, value);
            }
        }
        cmd.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_ATTR_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_AUTHOR_DATE", COMMIT_DATE)
            .env("GIT_COMMITTER_NAME", COMMITTER_NAME)
            .env("GIT_COMMITTER_EMAIL", COMMITTER_EMAIL)
            .env("GIT_COMMITTER_DATE", COMMIT_DATE)
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0");
        for (k, v) in self.vars.borrow().iter() {
            cmd.env(k, v);
        }
    }

    /// Creates an empty non-bare repository named `name` inside the home.
    pub fn repo(&self, name: &str) -> Repo<'_> {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Repo { env: self, dir };
        repo.git(["init", "-q"]);
        repo
    }

    /// Opens an existing directory as a test repository (e.g. a clone).
    pub fn at(&self, dir: impl Into<PathBuf>) -> Repo<'_> {
        Repo {
            env: self,
            dir: dir.into(),
        }
    }
}

pub struct Repo<'e> {
    pub env: &'e Env,
    pub dir: PathBuf,
}

impl Repo<'_> {
    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn git_command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        self.env.apply(&mut cmd);
        cmd.current_dir(&self.dir).args(args);
        cmd
    }

    /// Runs git and returns its stdout; panics with git's stderr on failure.
    pub fn git<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.git_raw(args);
        String::from_utf8(out).unwrap()
    }

    pub fn git_raw<I, S>(&self, args: I) -> Vec<u8>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.git_command(args);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs git, returning the whole output whatever the status.
    pub fn git_output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.git_command(args).output().unwrap()
    }

    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }

    /// Writes files, stages everything and commits; returns the commit id.
    pub fn commit(&self, message: &str, files: &[(&str, &str)]) -> String {
        for (path, contents) in files {
            self.write(path, contents);
        }
        self.git(["add", "-A"]);
        self.git(["commit", "-q", "--allow-empty", "-m", message]);
        self.rev("HEAD")
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(["rev-parse", "--verify", "-q", rev])
            .trim()
            .to_owned()
    }

    pub fn ref_exists(&self, name: &str) -> bool {
        self.git_output(["rev-parse", "--verify", "-q", name])
            .status
            .success()
    }

    /// A `git-release` command in this repository with the hermetic environment.
    pub fn release_command(&self) -> assert_cmd::Command {
        let mut std_cmd = Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
        self.env.apply(&mut std_cmd);
        std_cmd.current_dir(&self.dir);
        assert_cmd::Command::from_std(std_cmd)
    }

    /// `git <args>` with the built git-release first on PATH, so that `git release …`
    /// runs it as git runs any `git-<name>` (with `git -c` passed in
    /// GIT_CONFIG_PARAMETERS).
    pub fn git_with_release(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        self.env.apply(&mut cmd);
        let bin = PathBuf::from(assert_cmd::cargo::cargo_bin!("git-release"));
        let mut paths = vec![bin.parent().unwrap().to_path_buf()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        cmd.env("PATH", std::env::join_paths(paths).unwrap())
            .current_dir(&self.dir)
            .args(args);
        cmd
    }

    /// Runs `git-release` with `args`; returns the raw output whatever the status.
    pub fn release<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.release_command();
        cmd.args(args);
        cmd.output().unwrap()
    }

    /// Runs `git-release` and asserts success; returns stdout.
    pub fn release_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.release(args);
        assert!(
            out.status.success(),
            "git-release failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `git-release`, asserts it fails with exit code `code`; returns stderr.
    pub fn release_err<I, S>(&self, code: i32, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.release(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "expected exit {code}:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// `git fsck --strict` must be clean.
    pub fn assert_fsck_clean(&self) {
        let out = self.git_output(["fsck", "--strict", "--no-progress", "--no-dangling"]);
        assert!(
            out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
            "git fsck --strict is not clean:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The `tag_name`s of a `list --json` output, in order.
pub fn tag_names(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap().to_owned())
        .collect()
}
