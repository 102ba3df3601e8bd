//! `git release resolve`: settle the recorded conflicts of one release.

use super::Exit;

use clap::Args;
use git_release::share::resolve::{self, Side};
use git_release::{Repo, Result};

use super::Ui;

/// Settle the unresolved merge conflicts of one release: keep yours or take the
/// remote's.
///
/// <TAG> is a release's tag; conflicts in milestones and freezes are named
/// `milestone:<title>` and `freeze:<id>` (as `git release status` shows them). A
/// release edited here and deleted on the remote is deleted with --theirs, kept (and
/// published by the next push) with --ours. For a release whose tag moved, --theirs
/// moves the tag back to the release and --ours moves the release to the tag (as
/// `git release retag --restore|--follow`). Once nothing is left, push and sync work
/// again.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("side").required(true).args(["ours", "theirs"]))]
pub struct ResolveArgs {
    /// The release (tag), or `milestone:<title>`, `freeze:<id>`.
    #[arg(value_name = "TAG")]
    pub subject: String,
    /// Keep the local values.
    #[arg(long)]
    pub ours: bool,
    /// Take the remote's values.
    #[arg(long)]
    pub theirs: bool,
    /// Settle only the conflicts on this field (e.g. name, description).
    #[arg(long, value_name = "FIELD")]
    pub field: Option<String>,
}

pub fn run(args: ResolveArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let side = if args.theirs {
        Side::Theirs
    } else {
        Side::Ours
    };
    let settled = resolve::resolve(&repo, &args.subject, args.field.as_deref(), side)?;
    for c in &settled.conflicts {
        ui.notice(&format!("resolved ({}): {}", side.as_str(), c.path));
    }
    for change in &settled.renumbered {
        ui.notice(&format!("renumbered {change}"));
    }
    for moved in &settled.retagged {
        ui.notice(&format!(
            "resolved ({}): {}",
            side.as_str(),
            git_release::text::terminal(&moved.describe())
        ));
    }
    let left = resolve::blocking(&repo)?.lines();
    if left.is_empty() {
        ui.notice("Nothing left to settle: push and sync publish again.");
    } else {
        ui.notice(&format!("{} unresolved conflict(s) left.", left.len()));
    }
    Ok(Exit::Success)
}
