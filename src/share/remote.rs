//! Sharing releases with another repository through the user's own `git` (so their
//! credentials, SSH configuration and transports apply): fetch the remote's notes
//! into `refs/notes/remotes/<remote>/releases` and merge them; push the notes ref
//! (never forced) with the tags that have releases, merging first when the remote
//! moved. Arguments go to git as argv, never through a shell.

use std::process::{Command, Output};

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::release;
use crate::store::three_way::Prefer;
use crate::store::{MergeOutcome, NOTES_REF, Store};

/// How many times a push is retried after merging what the remote gained meanwhile.
const PUSH_ATTEMPTS: usize = 3;

pub fn tracking_ref(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/releases")
}

/// The current branch's remote, else `origin`.
pub fn default_remote(repo: &Repo) -> String {
    let git = repo.git();
    let from_branch = git.head().ok().and_then(|head| {
        let branch = head.shorthand().ok()?.to_owned();
        repo.config_string(&format!("branch.{branch}.remote"))
    });
    from_branch
        .filter(|r| r != ".")
        .unwrap_or_else(|| "origin".into())
}

fn git(repo: &Repo, args: &[&str]) -> Result<Output> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(repo.git_dir()).args(args);
    cmd.output().map_err(|source| Error::Io {
        what: "cannot run git".into(),
        source,
    })
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[derive(Debug)]
pub struct Fetched {
    /// `None` when the remote has no releases yet.
    pub merge: Option<MergeOutcome>,
}

/// Fetches the remote's tags and release notes and merges the notes into ours.
pub fn fetch(repo: &Repo, remote: &str, prefer: Prefer) -> Result<Fetched> {
    check_remote_name(remote)?;
    let tracking = tracking_ref(remote);
    // The partial glob matches nothing (instead of failing) when the remote has no
    // releases yet; only `refs/notes/releases` itself is used.
    let notes_spec = format!("+refs/notes/releases*:{tracking}*");
    let out = git(
        repo,
        &[
            "fetch",
            "--quiet",
            "--no-write-fetch-head",
            remote,
            &notes_spec,
            "refs/tags/*:refs/tags/*",
        ],
    )?;
    if !out.status.success() {
        return Err(Error::Refused {
            action: format!("fetching releases from {remote}"),
            reason: format!("git fetch failed: {}", stderr_of(&out)),
        });
    }
    let theirs = match repo.git().refname_to_id(&tracking) {
        Ok(id) => id,
        Err(_) => return Ok(Fetched { merge: None }),
    };
    let merge = Store::new(repo).merge_from(theirs, remote, prefer)?;
    Ok(Fetched { merge: Some(merge) })
}

#[derive(Debug)]
pub struct Pushed {
    pub tags: Vec<String>,
    /// Merges made because the remote had moved.
    pub merges: Vec<MergeOutcome>,
}

/// Pushes `refs/notes/releases` and the tags that have releases.
pub fn push(repo: &Repo, remote: &str, prefer: Prefer) -> Result<Pushed> {
    check_remote_name(remote)?;
    let listing = release::list(repo)?;
    let mut tags: Vec<String> = listing.releases.iter().map(|f| f.tag.clone()).collect();
    tags.sort();
    let mut merges = Vec::new();
    let mut attempt = 0;
    loop {
        attempt += 1;
        if repo.git().refname_to_id(NOTES_REF).is_err() {
            return Err(Error::Refused {
                action: format!("pushing releases to {remote}"),
                reason: "there are no releases here yet".into(),
            });
        }
        let mut args = vec![
            "push".to_owned(),
            "--porcelain".into(),
            remote.to_owned(),
            format!("{NOTES_REF}:{NOTES_REF}"),
        ];
        args.extend(tags.iter().map(|t| format!("refs/tags/{t}:refs/tags/{t}")));
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = git(repo, &arg_refs)?;
        if out.status.success() {
            return Ok(Pushed { tags, merges });
        }
        let report = String::from_utf8_lossy(&out.stdout);
        let notes_rejected = report
            .lines()
            .any(|l| l.starts_with('!') && l.contains(&format!("{NOTES_REF}:{NOTES_REF}")));
        if !notes_rejected || attempt == PUSH_ATTEMPTS {
            let rejected: Vec<&str> = report.lines().filter(|l| l.starts_with('!')).collect();
            let detail = if rejected.is_empty() {
                stderr_of(&out)
            } else {
                rejected.join("; ")
            };
            return Err(Error::Refused {
                action: format!("pushing releases to {remote}"),
                reason: format!("git push failed: {detail}"),
            });
        }
        // The remote's notes moved on: bring them in, merge, and push the merge.
        let fetched = fetch(repo, remote, prefer)?;
        merges.extend(fetched.merge);
    }
}

/// A remote name or URL is handed to git as one argument; refuse what git would read
/// as an option.
fn check_remote_name(remote: &str) -> Result<()> {
    if remote.is_empty() || remote.starts_with('-') {
        return Err(Error::invalid(
            "remote",
            remote,
            "a remote name or URL cannot be empty or start with '-'",
        ));
    }
    Ok(())
}

/// The commit the remote-tracking notes ref holds, if any.
pub fn tracked(repo: &Repo, remote: &str) -> Option<Oid> {
    repo.git().refname_to_id(&tracking_ref(remote)).ok()
}
