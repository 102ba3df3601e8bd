//! `git release status`: where sharing stands.

use super::Exit;

use clap::Args;
use git_release::share::remote;
use git_release::text::terminal;
use git_release::{Repo, Result};
use serde_json::json;

use super::{Ui, common};

/// Show unresolved merge conflicts, local changes not yet pushed, and whether the
/// remote has changes you have not fetched.
///
/// Asks the remote (`git ls-remote`) unless --offline is given.
#[derive(Args)]
pub struct StatusArgs {
    /// The remote (name or URL); default: the current branch's remote, else origin.
    pub remote: Option<String>,
    /// Do not contact the remote.
    #[arg(long)]
    pub offline: bool,
}

pub fn run(args: StatusArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let remote = args
        .remote
        .clone()
        .unwrap_or_else(|| remote::default_remote(&repo));
    let status = remote::status(&repo, &remote, !args.offline)?;
    if ui.json {
        common::print_json(&json!({
            "remote": status.remote,
            "unresolved": status.unresolved.iter().map(|(from, c)| json!({
                "remote": from,
                "subject": c.subject,
                "path": c.path,
                "kind": c.kind,
                "ours": c.ours,
                "theirs": c.theirs,
                "description": c.describe(from),
            })).chain(status.moved.iter().map(|m| json!({
                "remote": null,
                "subject": m.tag,
                "path": format!("release {} → tag", m.tag),
                "kind": "tag_moved",
                "ours": {"commit": m.now_commit.to_string(), "tag_target": m.now.to_string()},
                "theirs": {"commit": m.recorded_commit.to_string(), "tag_target": m.recorded.to_string()},
                "description": m.describe(),
            }))).collect::<Vec<_>>(),
            "problems": status.problems,
            "unpushed_changes": status.unpushed,
            "remote_has_unfetched_changes": status.unfetched,
            "remote_error": status.remote_tip.as_ref().err(),
        }))?;
        return Ok(Exit::Success);
    }
    if status.unresolved.is_empty() {
        println!("No unresolved conflicts.");
    } else {
        println!(
            "Unresolved conflicts ({}), publishing is blocked:",
            status.unresolved.len()
        );
        for (from, c) in &status.unresolved {
            println!("  {}", terminal(&c.describe(from)));
        }
        println!(
            "  (settle with `git release resolve <tag> --ours|--theirs`, or `git release fetch --ours|--theirs`)"
        );
    }
    if !status.moved.is_empty() {
        println!(
            "Release tags moved ({}), publishing is blocked:",
            status.moved.len()
        );
        for m in &status.moved {
            println!("  {}", terminal(&m.describe()));
        }
        println!(
            "  (settle with `git release retag <tag> --restore` to move the tag back, or `--follow` to move the release)"
        );
    }
    for problem in &status.problems {
        println!("{}", terminal(problem));
    }
    match status.unpushed {
        0 => println!("Nothing to push to {remote}."),
        n => println!("{n} local change(s) not pushed to {remote} (as last seen)."),
    }
    match (&status.remote_tip, status.unfetched) {
        (Err(e), _) => {
            // git's own message is several lines ("fatal: …" twice): one line each, as
            // git prints it, each escaped on its own.
            println!("Could not ask {remote}:");
            for line in e.to_string().lines() {
                println!("  {}", terminal(line));
            }
        }
        (Ok(None), _) => println!("{remote} has no releases yet."),
        (Ok(Some(_)), Some(true)) => {
            println!("{remote} has changes you have not fetched (`git release fetch`).")
        }
        (Ok(Some(_)), _) => println!("Up to date with {remote}."),
    }
    Ok(Exit::Success)
}
