//! `push`, `fetch` and `sync`: sharing releases with a remote.

use std::process::ExitCode;

use clap::Args;
use git_release::share::remote::{self, Fetched, Pushed};
use git_release::share::resolve::Side;
use git_release::store::{MergeKind, MergeOutcome, StoreConflict};
use git_release::{Repo, Result};

use super::Ui;

/// Where to share with, and how to settle a field changed differently on both sides.
#[derive(Args)]
pub struct ShareArgs {
    /// The remote (name or URL); default: the current branch's remote, else origin.
    pub remote: Option<String>,
    /// Settle conflicts by keeping the local values: those recorded by an earlier
    /// fetch, and new ones.
    #[arg(long, conflicts_with = "theirs")]
    pub ours: bool,
    /// Settle conflicts by taking the remote's values: those recorded by an earlier
    /// fetch, and new ones.
    #[arg(long)]
    pub theirs: bool,
}

impl ShareArgs {
    fn choice(&self) -> Option<Side> {
        if self.theirs {
            Some(Side::Theirs)
        } else if self.ours {
            Some(Side::Ours)
        } else {
            None
        }
    }

    /// The remote named, else the current branch's remote, else origin.
    fn remote_name(&self, repo: &Repo) -> String {
        self.remote
            .clone()
            .unwrap_or_else(|| remote::default_remote(repo))
    }
}

/// Fetch the remote's releases and tags, and merge them into yours.
///
/// Conflicts (a field changed differently on both sides, a release edited on one
/// side and deleted on the other, one tag released on two commits) keep your values
/// and are recorded as unresolved: the command fails naming each, and push and sync
/// refuse until they are settled with --ours / --theirs or `git release resolve`.
pub fn run_fetch(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let fetched = remote::fetch(&repo, &remote, args.choice())?;
    Ok(report_fetch(ui, &remote, &fetched, args.choice()))
}

/// Push your releases (refs/notes/releases, never forced) and their tags.
pub fn run_push(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let pushed = remote::push(&repo, &remote, args.choice())?;
    report_push(ui, &remote, &pushed, args.choice());
    Ok(ExitCode::SUCCESS)
}

/// Fetch and merge, then push (not while conflicts are unresolved).
pub fn run_sync(args: ShareArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let fetched = remote::fetch(&repo, &remote, args.choice())?;
    if report_fetch(ui, &remote, &fetched, args.choice()) != ExitCode::SUCCESS {
        ui.error(
            &format!("not pushed to {remote}: the merge has unresolved conflicts"),
            Some(RESOLVE_HINT),
        );
        return Ok(ExitCode::from(1));
    }
    let pushed = remote::push(&repo, &remote, args.choice())?;
    report_push(ui, &remote, &pushed, args.choice());
    Ok(ExitCode::SUCCESS)
}

const RESOLVE_HINT: &str = "run `git release fetch --theirs` to take the remote's values, \
     `git release fetch --ours` to keep yours, or `git release resolve <tag> --ours|--theirs` \
     for one release; `git release status` lists the conflicts";

/// Reports the merges a push had to make (the remote had moved) and the push itself.
fn report_push(ui: &Ui, remote: &str, pushed: &Pushed, choice: Option<Side>) {
    for merge in &pushed.merges {
        report_merge(ui, remote, merge, choice);
    }
    ui.notice(&format!(
        "Pushed releases and {} tag(s) to {remote}",
        pushed.tags.len()
    ));
}

/// Reports a fetch; fails while any conflict stays unresolved.
fn report_fetch(ui: &Ui, remote: &str, fetched: &Fetched, choice: Option<Side>) -> ExitCode {
    if let Some(side) = choice {
        for c in &fetched.settled.conflicts {
            ui.notice(&format!(
                "resolved ({}): {}",
                side.as_str(),
                c.describe(remote)
            ));
        }
        for change in &fetched.settled.renumbered {
            ui.notice(&format!("renumbered {change}"));
        }
    }
    for notice in &fetched.tag_notices {
        ui.warn(notice);
    }
    match &fetched.merge {
        None => ui.notice(&format!("{remote} has no releases yet")),
        Some(merge) => report_merge(ui, remote, merge, choice),
    }
    if fetched.unresolved.is_empty() {
        return ExitCode::SUCCESS;
    }
    let new: Vec<&StoreConflict> = fetched
        .merge
        .iter()
        .filter(|_| choice.is_none())
        .flat_map(|m| &m.conflicts)
        .collect();
    for (from, c) in &fetched.unresolved {
        if !new.contains(&c) {
            ui.warn(&format!("unresolved conflict: {}", c.describe(from)));
        }
    }
    ui.error(
        &format!(
            "{} unresolved conflict(s) merging releases; the local values were kept and nothing will be pushed until they are settled",
            fetched.unresolved.len()
        ),
        Some(RESOLVE_HINT),
    );
    ExitCode::from(1)
}

fn report_merge(ui: &Ui, remote: &str, merge: &MergeOutcome, choice: Option<Side>) {
    match merge.kind {
        MergeKind::UpToDate => ui.notice(&format!("Releases already up to date with {remote}")),
        MergeKind::FastForward => ui.notice(&format!("Fast-forwarded releases to {remote}'s")),
        MergeKind::Merged => ui.notice(&format!("Merged releases from {remote}")),
    }
    for change in &merge.renumbered {
        ui.notice(&format!("renumbered {change}"));
    }
    for entry in &merge.left_out {
        ui.warn(&format!(
            "left out {entry} of {remote}'s releases: it is not part of the release store"
        ));
    }
    for conflict in &merge.conflicts {
        match choice {
            Some(side) => ui.notice(&format!(
                "conflict resolved ({}): {}",
                side.as_str(),
                conflict.describe(remote)
            )),
            None => ui.warn(&format!("conflict: {}", conflict.describe(remote))),
        }
    }
}
