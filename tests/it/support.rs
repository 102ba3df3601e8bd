//! The hermetic test environment: every test builds real repositories with real git in
//! a temporary directory, with no user or system configuration, fixed identities and
//! dates, and runs the built `git-release` binary against them.

#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use tempfile::TempDir;

pub mod schema;
pub mod serve;
pub mod tools;

pub const AUTHOR_NAME: &str = "Ada Author";
pub const AUTHOR_EMAIL: &str = "ada@example.com";
pub const COMMITTER_NAME: &str = "Carl Committer";
pub const COMMITTER_EMAIL: &str = "carl@example.com";
/// 2024-03-10T22:30:45-07:00: a committer zone other than UTC, so that archive times
/// show which zone they are taken in (docs/archive-format.md).
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
    #[track_caller]
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
    #[track_caller]
    pub fn git<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.git_raw(args);
        String::from_utf8(out).unwrap()
    }

    #[track_caller]
    pub fn git_raw<I, S>(&self, args: I) -> Vec<u8>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args = to_strings(args);
        let out = self.git_command(&args).output().unwrap();
        assert!(
            out.status.success(),
            "git {} failed ({:?}) in {}:\n{}",
            shell_words(&args),
            out.status.code(),
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Runs git, returning the whole output whatever the status.
    #[track_caller]
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
    #[track_caller]
    pub fn commit(&self, message: &str, files: &[(&str, &str)]) -> String {
        for (path, contents) in files {
            self.write(path, contents);
        }
        self.git(["add", "-A"]);
        self.git(["commit", "-q", "--allow-empty", "-m", message]);
        self.rev("HEAD")
    }

    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
    pub fn release_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args = to_strings(args);
        let out = self.release(&args);
        assert!(
            out.status.success(),
            "git-release {} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
            shell_words(&args),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `git-release`, asserts it fails with exit code `code`; returns stderr.
    #[track_caller]
    pub fn release_err<I, S>(&self, code: i32, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args = to_strings(args);
        let out = self.release(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "git-release {}: expected exit {code}:\nstdout:\n{}\nstderr:\n{}",
            shell_words(&args),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// The tip of `refs/notes/releases`, if the store exists.
    pub fn notes_ref(&self) -> Option<String> {
        self.ref_exists("refs/notes/releases")
            .then(|| self.rev("refs/notes/releases"))
    }

    /// `git fsck --strict` must be clean.
    #[track_caller]
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

/// The arguments as strings (lossily: only for showing them and passing them on).
fn to_strings<I, S>(args: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect()
}

/// The arguments as a shell would need them, to paste into a terminal when a test fails.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%^{}~".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The "now" most tests run at (`GIT_RELEASE_NOW`).
pub const NOW: &str = "2024-06-01T12:00:00Z";

/// The project most tests start from: the repository `proj` with `commits` commits
/// (`first` adding a.txt, `second` b.txt, …), "now" fixed at `now`.
#[track_caller]
pub fn project<'e>(env: &'e Env, now: &str, commits: usize) -> Repo<'e> {
    const NAMES: [&str; 4] = ["first", "second", "third", "fourth"];
    env.set("GIT_RELEASE_NOW", now);
    let repo = env.repo("proj");
    for (i, name) in NAMES.iter().take(commits).enumerate() {
        let file = format!("{}.txt", (b'a' + i as u8) as char);
        let text = format!("{}\n", (b'a' + i as u8) as char);
        repo.commit(name, &[(file.as_str(), text.as_str())]);
    }
    repo
}

/// The `tag_name`s of a `list --json` output, in order.
#[track_caller]
pub fn tag_names(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap().to_owned())
        .collect()
}

// ---- The store as plain git sees it (and as someone editing it by hand would) ----

#[track_caller]
pub fn evidences(repo: &Repo, tag: &str) -> Vec<Value> {
    let out = repo.release_ok(["evidence", "list", tag, "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[track_caller]
pub fn newest(repo: &Repo, tag: &str) -> (String, String) {
    let list = evidences(repo, tag);
    let last = list.last().expect("the release has evidence");
    (
        last["sha"].as_str().unwrap().to_owned(),
        last["filepath"].as_str().unwrap().to_owned(),
    )
}

#[track_caller]
pub fn store_file(repo: &Repo, path: &str) -> Vec<u8> {
    repo.git_raw(["show", &format!("refs/notes/releases:{path}")])
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Replaces (or with `None` removes) one file of the notes tree with git plumbing, as
/// someone rewriting the store by hand would.
#[track_caller]
pub fn edit_store(repo: &Repo, path: &str, bytes: Option<&[u8]>) {
    let index = repo.path().join(".git/tamper-index");
    let run = |args: &[&str], input: Option<&[u8]>| {
        let mut child = repo
            .git_command(args)
            .env("GIT_INDEX_FILE", &index)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    run(&["read-tree", "refs/notes/releases"], None);
    match bytes {
        Some(bytes) => {
            let blob = run(&["hash-object", "-w", "--stdin"], Some(bytes));
            run(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{blob},{path}"),
                ],
                None,
            );
        }
        None => {
            run(&["update-index", "--force-remove", path], None);
        }
    }
    let tree = run(&["write-tree"], None);
    let parent = repo.rev("refs/notes/releases");
    let commit = run(&["commit-tree", &tree, "-p", &parent, "-m", "tamper"], None);
    repo.git(["update-ref", "refs/notes/releases", &commit]);
    let _ = std::fs::remove_file(index);
}

/// Reads the store file at `path` (a note's fanout path too), changes its JSON with
/// `edit` and writes it back with plain git: a record as a fetch from someone else's
/// clone brings it, past every check of our own commands.
#[track_caller]
pub fn edit_store_json(repo: &Repo, path: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let text = repo.git(["cat-file", "blob", &format!("refs/notes/releases:{path}")]);
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut value);
    let bytes = serde_json::to_string_pretty(&value).unwrap() + "\n";
    edit_store(repo, path, Some(bytes.as_bytes()));
}

/// Rewrites the release record of `tag` in its note with plain `git notes`.
#[track_caller]
pub fn edit_record(repo: &Repo, tag: &str, change: impl FnOnce(&mut Value)) {
    let commit = format!("{tag}^{{commit}}");
    let text = repo.git(["notes", "--ref=releases", "show", &commit]);
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    change(&mut doc["releases"][tag]);
    let file = repo.path().join(".git/tamper-note.json");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-F",
        file.to_str().unwrap(),
        &commit,
    ]);
}

/// `verify` with `args`: (exit code, stdout).
#[track_caller]
pub fn verify(repo: &Repo, args: &[&str]) -> (i32, String) {
    let out = repo.release([&["verify"], args].concat());
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

// ---- Sharing ----

/// A bare remote with two commits, and two clones of it (`a`, `b`).
#[track_caller]
pub fn clones<'e>(env: &'e Env, names: &[&str]) -> Vec<Repo<'e>> {
    let seed = env.repo("seed");
    seed.commit("one", &[("f", "1")]);
    seed.commit("two", &[("f", "2")]);
    seed.git(["clone", "-q", "--bare", ".", "../remote.git"]);
    names
        .iter()
        .map(|name| {
            env.at(env.path()).git(["clone", "-q", "remote.git", name]);
            env.at(env.path().join(name))
        })
        .collect()
}

// ---- Plain git as the oracle ----

/// What plain git makes: `git archive`, and `git archive --format=tar | bzip2 -c`.
#[track_caller]
pub fn git_archive(repo: &Repo, format: &str, prefix: &str, rev: &str) -> Vec<u8> {
    let prefix = format!("--prefix={prefix}");
    if format == "tar.bz2" {
        let tar = repo.git_raw(["archive", "--format=tar", &prefix, rev]);
        return bzip2(&tar);
    }
    repo.git_raw(["archive", &format!("--format={format}"), &prefix, rev])
}

#[track_caller]
pub fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("bzip2")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("bzip2 is needed as the tar.bz2 reference");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success());
    out
}

/// Puts the built `git-release` first on PATH, so that a hook git runs finds it.
pub fn release_on_path(env: &Env) {
    let bin = std::path::Path::new(assert_cmd::cargo::cargo_bin!("git-release"))
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
}
