//! `push`, `fetch` and `sync`: sharing releases with a remote.

use std::process::ExitCode;

use clap::Args;
use git_release::share::remote::{self, Fetched, Pushed};
use git_release::store::three_way::Prefer;
use git_release::store::{MergeKind, MergeOutcome};
use git_release::{Repo, Result};

use super::Ui;

/// Where to share with, and how to settle a field changed differently on both sides.
#[derive(Args)]
pub struct ShareArgs {
    /// The remote (name or URL); default: the current branch's remote, else origin.
    pub remote: Option<String>,
    /// On a conflict keep the local value (and do not fail).
    #[arg(long, conflicts_with = "theirs")]
    pub ours: bool,
    /// On a conflict take the remote's value.
    #[arg(long)]
    pub theirs: bool,
}

impl ShareArgs {
    fn prefer(&self) -> Prefer {
        if self.theirs {
            Prefer::Theirs
        } else {
            Prefer::Ours
        }
    }

    /// The remote named, else the current branch's remote, else origin.
    fn remote_name(&self, repo: &Repo) -> String {
        self.remote
            .clone()
            .unwrap_or_else(|| remote::default_remote(repo))
    }

    /// Conflicts fail the command unless the user chose a side beforehand.
    fn resolved(&self) -> bool {
        self.ours || self.theirs
    }
}

/// Fetch the remote's releases and tags, and merge them into yours.
pub fn run_fetch(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let fetched = remote::fetch(&repo, &remote, args.prefer())?;
    Ok(report_fetch(ui, &remote, &fetched, args.resolved()))
}

/// Push your releases (refs/notes/releases, never forced) and their tags.
pub fn run_push(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let pushed = remote::push(&repo, &remote, args.prefer())?;
    Ok(report_push(ui, &remote, &pushed, args.resolved()))
}

/// Fetch and merge, then push.
pub fn run_sync(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let fetched = remote::fetch(&repo, &remote, args.prefer())?;
    let fetch_code = report_fetch(ui, &remote, &fetched, args.resolved());
    let pushed = remote::push(&repo, &remote, args.prefer())?;
    let push_code = report_push(ui, &remote, &pushed, args.resolved());
    Ok(if fetch_code == ExitCode::SUCCESS {
        push_code
    } else {
        fetch_code
    })
}

/// Reports the merges a push had to make (the remote had moved) and the push itself;
/// an unsettled conflict in any of them fails the command.
fn report_push(ui: &Ui, remote: &str, pushed: &Pushed, resolved: bool) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for merge in &pushed.merges {
        if report_merge(ui, remote, merge, resolved) != ExitCode::SUCCESS {
            code = ExitCode::from(1);
        }
    }
    ui.notice(&format!(
        "Pushed releases and {} tag(s) to {remote}",
        pushed.tags.len()
    ));
    code
}

fn report_fetch(ui: &Ui, remote: &str, fetched: &Fetched, resolved: bool) -> ExitCode {
    match &fetched.merge {
        None => {
            ui.notice(&format!("{remote} has no releases yet"));
            ExitCode::SUCCESS
        }
        Some(merge) => report_merge(ui, remote, merge, resolved),
    }
}

fn report_merge(ui: &Ui, remote: &str, merge: &MergeOutcome, resolved: bool) -> ExitCode {
    match merge.kind {
        MergeKind::UpToDate => ui.notice(&format!("Releases already up to date with {remote}")),
        MergeKind::FastForward => ui.notice(&format!("Fast-forwarded releases to {remote}'s")),
        MergeKind::Merged => ui.notice(&format!("Merged releases from {remote}")),
    }
    for change in &merge.renumbered {
        ui.notice(&format!("renumbered {change}"));
    }
    if merge.conflicts.is_empty() {
        return ExitCode::SUCCESS;
    }
    for conflict in &merge.conflicts {
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref().map_or("(absent)".to_owned(), |v| v.to_string())
        };
        let line = format!(
            "conflict in {}: local {}, {remote} {}",
            conflict.path,
            show(&conflict.ours),
            show(&conflict.theirs)
        );
        if resolved {
            ui.notice(&line)
        } else {
            ui.warn(&line)
        }
    }
    if resolved {
        return ExitCode::SUCCESS;
    }
    ui.error(
        &format!("{} conflict(s) merging releases from {remote}; the local values were kept", merge.conflicts.len()),
        Some("run again with --theirs to take the remote's values, or --ours to accept the local ones"),
    );
    ExitCode::from(1)
}
