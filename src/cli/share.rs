//! `push`, `fetch` and `sync`: sharing releases with a remote.

use super::Exit;

use clap::Args;
use git_release::share::packages;
use git_release::share::remote::{self, Fetched, PushOptions, Pushed};
use git_release::share::resolve::Side;
use git_release::store::{MergeKind, MergeOutcome, StoreConflict};
use git_release::text::terminal;
use git_release::{Repo, Result};

use super::{Ui, common};

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
    /// Also the package files kept in the repository (refs/release-packages/): fetch
    /// those the store records; push those the remote lacks, and delete there those
    /// of deleted packages.
    #[arg(long)]
    pub packages: bool,
}

/// `push` and `sync`: how the push is made.
#[derive(Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub share: ShareArgs,
    /// For a remote that does not take atomic pushes: push the tags first and the
    /// notes after. Should the notes be refused, the tags stay on the remote without
    /// their releases (plain tags) until the next push.
    #[arg(long)]
    pub no_atomic: bool,
}

impl PushArgs {
    fn options(&self) -> PushOptions {
        PushOptions {
            choice: self.share.choice(),
            atomic: !self.no_atomic,
        }
    }
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
pub fn run_fetch(args: ShareArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let remote = args.remote_name(&repo);
    let fetched = remote::fetch(&repo, &remote, args.choice())?;
    let code = report_fetch(ui, &remote, &fetched, args.choice());
    if args.packages {
        fetch_packages(&repo, &remote, ui)?;
    }
    Ok(code)
}

fn fetch_packages(repo: &Repo, remote: &str, ui: &Ui) -> Result<()> {
    let fetched = packages::fetch(repo, remote)?;
    if !fetched.is_empty() {
        ui.notice(&format!(
            "fetched {} package file(s) from {}",
            fetched.len(),
            terminal(remote)
        ));
    }
    Ok(())
}

/// `push --packages`: the package files first (a store naming bytes the remote lacks
/// is never published before them), then the store, then the deleted packages' bytes.
fn push_with_packages(repo: &Repo, remote: &str, args: &PushArgs, ui: &Ui) -> Result<Pushed> {
    if args.share.packages {
        let sent = packages::send(repo, remote)?;
        if !sent.is_empty() {
            ui.notice(&format!(
                "pushed {} package file(s) to {}",
                sent.len(),
                terminal(remote)
            ));
        }
    }
    // Clones without the group's repository then show its milestones as they are.
    common::refresh_group_milestones(repo, ui);
    let pushed = remote::push(repo, remote, args.options())?;
    if args.share.packages {
        let deleted = packages::prune(repo, remote)?;
        if !deleted.is_empty() {
            ui.notice(&format!(
                "deleted {} package file(s) of deleted packages on {}",
                deleted.len(),
                terminal(remote)
            ));
        }
    }
    Ok(pushed)
}

/// Push your releases (refs/notes/releases, never forced) and their tags.
///
/// Nothing is pushed while a conflict is unresolved or a release's tag moved (see
/// `git release status`). The notes and the tags go in one atomic push.
pub fn run_push(args: PushArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let remote = args.share.remote_name(&repo);
    let pushed = push_with_packages(&repo, &remote, &args, ui)?;
    report_push(ui, &remote, &pushed, args.share.choice());
    Ok(Exit::Success)
}

/// Fetch and merge, then push (not while conflicts are unresolved or a release's tag
/// moved).
pub fn run_sync(args: PushArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let remote = args.share.remote_name(&repo);
    let choice = args.share.choice();
    let fetched = remote::fetch(&repo, &remote, choice)?;
    if report_fetch(ui, &remote, &fetched, choice) != Exit::Success {
        ui.error(
            &format!("not pushed to {remote}: there is something to settle first"),
            Some(RESOLVE_HINT),
        );
        return Ok(Exit::Failure);
    }
    if args.share.packages {
        fetch_packages(&repo, &remote, ui)?;
    }
    let pushed = push_with_packages(&repo, &remote, &args, ui)?;
    report_push(ui, &remote, &pushed, choice);
    Ok(Exit::Success)
}

const RESOLVE_HINT: &str = "run `git release fetch --theirs` to take the remote's values, \
     `git release fetch --ours` to keep yours, or `git release resolve <tag> --ours|--theirs` \
     for one release (for a moved tag: `git release retag <tag> --restore|--follow`); \
     `git release status` lists them";

/// Reports the merges a push had to make (the remote had moved) and the push itself.
fn report_push(ui: &Ui, remote: &str, pushed: &Pushed, choice: Option<Side>) {
    for merge in &pushed.merges {
        report_merge(ui, remote, merge, choice);
    }
    if !pushed.notes && pushed.tags.is_empty() && pushed.deleted_tags.is_empty() {
        ui.notice(&format!("Everything up to date with {remote}"));
        return;
    }
    ui.notice(&format!(
        "Pushed {}{} tag(s) to {remote}",
        if pushed.notes { "releases and " } else { "" },
        pushed.tags.len()
    ));
    for tag in &pushed.deleted_tags {
        ui.notice(&format!(
            "Deleted tag {tag} on {remote}, as its release was"
        ));
    }
}

/// Reports a fetch; fails while any conflict stays unresolved.
fn report_fetch(ui: &Ui, remote: &str, fetched: &Fetched, choice: Option<Side>) -> Exit {
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
        for moved in &fetched.retagged {
            ui.notice(&format!(
                "resolved ({}): {}",
                side.as_str(),
                terminal(&moved.describe())
            ));
        }
    }
    for notice in &fetched.tag_notices {
        ui.warn(&terminal(notice));
    }
    match &fetched.merge {
        None => ui.notice(&format!("{remote} has no releases yet")),
        Some(merge) => report_merge(ui, remote, merge, choice),
    }
    for moved in &fetched.moved {
        ui.warn(&format!("tag moved: {}", terminal(&moved.describe())));
    }
    if fetched.unresolved.is_empty() && fetched.moved.is_empty() {
        return Exit::Success;
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
    let message = match (fetched.unresolved.len(), fetched.moved.len()) {
        (0, moved) => format!(
            "{moved} release tag(s) moved: the local tags were kept and nothing will be pushed until they are settled"
        ),
        (conflicts, 0) => format!(
            "{conflicts} unresolved conflict(s) merging releases; the local values were kept and nothing will be pushed until they are settled"
        ),
        (conflicts, moved) => format!(
            "{conflicts} unresolved conflict(s) merging releases and {moved} release tag(s) moved; the local values were kept and nothing will be pushed until they are settled"
        ),
    };
    ui.error(&message, Some(RESOLVE_HINT));
    Exit::Failure
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
