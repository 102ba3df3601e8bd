//! `git cat-file --batch`, started the one way both of its readers need: on the given
//! git directory (never one the environment names), with git's pack windows and delta
//! cache sized for the reader, and with both pipes taken.

use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::error::{Error, Result};

/// How much of the repository git may keep in memory while it answers. git's defaults
/// (1 GiB pack windows, up to 8 GiB mapped, every page touched staying resident; 96 MiB
/// of delta bases) make a reader's memory grow with the repository.
pub struct Memory {
    /// `core.packedGitWindowSize`
    pub pack_window: &'static str,
    /// `core.packedGitLimit`
    pub pack_limit: &'static str,
    /// `core.deltaBaseCacheLimit`
    pub delta_cache: &'static str,
}

/// A running `git cat-file --batch` and its two pipes.
pub struct Batch {
    pub child: Child,
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
}

/// Starts `git cat-file --batch` (with `--buffer` when `buffered`: all requests are
/// written at once, and git answers in its own time).
pub fn start(git_dir: &Path, memory: &Memory, buffered: bool) -> Result<Batch> {
    let command = "git cat-file --batch";
    let mut cmd = Command::new("git");
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX"] {
        cmd.env_remove(var);
    }
    cmd.arg("--git-dir").arg(git_dir);
    for (key, value) in [
        ("core.packedGitWindowSize", memory.pack_window),
        ("core.packedGitLimit", memory.pack_limit),
        ("core.deltaBaseCacheLimit", memory.delta_cache),
    ] {
        cmd.arg("-c").arg(format!("{key}={value}"));
    }
    cmd.args(["cat-file", "--batch"]);
    if buffered {
        cmd.arg("--buffer");
    }
    let mut child = cmd
        .current_dir(git_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::GitCommand {
            command: command.into(),
            reason: e.to_string(),
        })?;
    match (child.stdin.take(), child.stdout.take()) {
        (Some(stdin), Some(stdout)) => Ok(Batch {
            child,
            stdin,
            stdout,
        }),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            Err(Error::GitCommand {
                command: command.into(),
                reason: "no pipes".into(),
            })
        }
    }
}
