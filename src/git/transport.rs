//! Talking to a remote through the user's own `git` (so their credentials, SSH
//! configuration and transports apply): what it advertises (`ls-remote`), fetching
//! exact refspecs (`fetch --stdin`, so that no list of refs ever meets the limit on a
//! command line), and pushing with git's machine-readable report (`--porcelain`).
//! Arguments go to git as argv, never through a shell; git's own messages are kept
//! as git wrote them, to be shown to the user.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;

fn command(repo: &Repo) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(repo.git_dir());
    cmd
}

fn run(mut cmd: Command, input: Option<&str>) -> Result<Output> {
    let cannot = |source| Error::Io {
        what: "cannot run git".into(),
        source,
    };
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(cannot)?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        // A failed write means git stopped reading (it failed early): its status and
        // message say why.
        let _ = stdin.write_all(text.as_bytes());
    }
    child.wait_with_output().map_err(cannot)
}

/// git's message, as it printed it (progress and blank lines dropped).
pub fn message(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The refs of a remote that sharing releases reads: its notes ref and its tags.
#[derive(Debug, Default, Clone)]
pub struct Advertised {
    /// What the remote's notes ref points at (any object: checked once fetched).
    pub notes: Option<Oid>,
    /// Tag name (without `refs/tags/`) → the object the tag ref points at.
    pub tags: BTreeMap<String, Oid>,
}

/// Asks the remote for `notes_ref` and its tags. `Err` carries git's message.
pub fn advertised(
    repo: &Repo,
    remote: &str,
    notes_ref: &str,
) -> Result<std::result::Result<Advertised, String>> {
    let mut cmd = command(repo);
    // `--refs` leaves out the peeled `^{}` lines; the patterns keep the answer to what
    // is read (git matches them against the ends of names: the names are checked here).
    cmd.args(["ls-remote", "--refs", remote, notes_ref, "refs/tags/*"]);
    let out = run(cmd, None)?;
    if !out.status.success() {
        return Ok(Err(message(&out)));
    }
    let mut advertised = Advertised::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((id, name)) = line.split_once('\t') else {
            continue;
        };
        let Ok(id) = Oid::from_str(id.trim()) else {
            continue;
        };
        if name == notes_ref {
            advertised.notes = Some(id);
        } else if let Some(tag) = name.strip_prefix("refs/tags/") {
            advertised.tags.insert(tag.to_owned(), id);
        }
    }
    Ok(Ok(advertised))
}

/// The refs of `remote` under `prefix` (`refs/release-packages/`): name → id. `Err`
/// carries git's message.
pub fn remote_refs(
    repo: &Repo,
    remote: &str,
    prefix: &str,
) -> Result<std::result::Result<BTreeMap<String, Oid>, String>> {
    let mut cmd = command(repo);
    cmd.args(["ls-remote", "--refs", remote, &format!("{prefix}*")]);
    let out = run(cmd, None)?;
    if !out.status.success() {
        return Ok(Err(message(&out)));
    }
    let mut refs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((id, name)) = line.split_once('\t') else {
            continue;
        };
        // git matches the pattern against the ends of names: the prefix is checked here.
        if let (Ok(id), true) = (Oid::from_str(id.trim()), name.starts_with(prefix)) {
            refs.insert(name.to_owned(), id);
        }
    }
    Ok(Ok(refs))
}

/// Fetches exactly `refspecs` (fed to `git fetch --stdin`), without following tags or
/// writing FETCH_HEAD. `Err` carries git's message.
pub fn fetch(
    repo: &Repo,
    remote: &str,
    refspecs: &[String],
) -> Result<std::result::Result<(), String>> {
    if refspecs.is_empty() {
        return Ok(Ok(()));
    }
    let mut cmd = command(repo);
    cmd.args([
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-recurse-submodules",
        "--stdin",
        remote,
    ]);
    let mut input = refspecs.join("\n");
    input.push('\n');
    let out = run(cmd, Some(&input))?;
    if out.status.success() {
        Ok(Ok(()))
    } else {
        Ok(Err(message(&out)))
    }
}

/// One line of `git push --porcelain`'s report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefReport {
    /// git's flag: ` ` fast-forward, `+` forced, `-` deleted, `*` new, `!` rejected,
    /// `=` up to date.
    pub flag: char,
    /// The remote ref.
    pub remote_ref: String,
    /// `[rejected] (fetch first)`, `[remote rejected] (pre-receive hook declined)`, …
    pub summary: String,
}

impl RefReport {
    pub fn rejected(&self) -> bool {
        self.flag == '!'
    }

    /// Refused by the remote itself (a hook, a lock, a policy), not by the checks git
    /// makes before sending (a ref that moved there, a tag that exists there).
    pub fn refused_by_remote(&self) -> bool {
        self.rejected() && self.summary.starts_with("[remote rejected]")
    }

    /// Rejected only because another ref of the same atomic push was.
    pub fn rejected_with_the_others(&self) -> bool {
        self.rejected()
            && (self.summary.contains("atomic push failed")
                || self.summary.contains("atomic transaction failed"))
    }

    /// Rejected because the remote's ref is not what this push was made against: it
    /// moved on (`fetch first`, `non-fast-forward`), a tag of that name exists there
    /// (`already exists`), or a lease no longer holds (`stale info`).
    pub fn remote_moved(&self) -> bool {
        self.rejected()
            && self.summary.starts_with("[rejected]")
            && [
                "fetch first",
                "non-fast-forward",
                "already exists",
                "stale info",
            ]
            .iter()
            .any(|reason| self.summary.contains(reason))
    }
}

/// What `git push` did.
#[derive(Debug)]
pub struct Pushed {
    pub success: bool,
    pub refs: Vec<RefReport>,
    /// git's own messages (the remote's `remote:` lines included).
    pub message: String,
}

/// `git push --porcelain [options] <remote> <refspecs>`.
pub fn push(repo: &Repo, remote: &str, options: &[String], refspecs: &[String]) -> Result<Pushed> {
    let mut cmd = command(repo);
    cmd.args(["push", "--porcelain"])
        .args(options)
        .arg(remote)
        .args(refspecs);
    let out = run(cmd, None)?;
    let refs = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(parse_report_line)
        .collect();
    Ok(Pushed {
        success: out.status.success(),
        refs,
        message: message(&out),
    })
}

/// `<flag> \t <from>:<to> \t <summary>`.
fn parse_report_line(line: &str) -> Option<RefReport> {
    let mut fields = line.splitn(3, '\t');
    let flag = fields.next()?.chars().next()?;
    let refs = fields.next()?;
    let summary = fields.next().unwrap_or("").to_owned();
    let remote_ref = refs.rsplit_once(':').map_or(refs, |(_, to)| to).to_owned();
    Some(RefReport {
        flag,
        remote_ref,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gits_porcelain_push_report() {
        let lines = [
            "=\tHEAD:refs/heads/main\t[up to date]",
            "!\trefs/tags/v2:refs/tags/v2\t[remote rejected] (pre-receive hook declined)",
            "!\trefs/notes/releases:refs/notes/releases\t[rejected] (fetch first)",
            "!\trefs/tags/v1:refs/tags/v1\t[rejected] (atomic push failed)",
            "-\t:refs/tags/gone\t[deleted]",
            "To ../r.git",
            "Done",
        ];
        let refs: Vec<RefReport> = lines.iter().filter_map(|l| parse_report_line(l)).collect();
        assert_eq!(refs.len(), 5);
        assert!(!refs[0].rejected());
        assert!(refs[1].refused_by_remote() && !refs[1].remote_moved());
        assert!(refs[2].remote_moved() && !refs[2].refused_by_remote());
        assert_eq!(refs[2].remote_ref, "refs/notes/releases");
        assert!(refs[3].rejected_with_the_others() && !refs[3].remote_moved());
        assert_eq!(refs[4].remote_ref, "refs/tags/gone");
    }
}
