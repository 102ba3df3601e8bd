//! `git release doctor`: check (and rebuild) the data derived from the notes.

use std::process::ExitCode;

use clap::Args;
use git_release::store::{Snapshot, Store, check_derived};
use git_release::text::terminal;
use git_release::{Repo, Result};

use super::Ui;

/// Check the store's derived data (tag index, id counters, display ids) against the
/// notes; --repair rebuilds them.
///
/// `git notes merge` skips every non-note entry of refs/notes/releases (index/,
/// evidence/, project.json): a store merged that way has an index and counters that
/// disagree with its notes. Never merge refs/notes/releases with plain git; use
/// `git release fetch`.
#[derive(Args)]
pub struct DoctorArgs {
    /// Rebuild the index and id counters from the notes (one commit), and give new
    /// display ids to objects sharing one.
    #[arg(long)]
    pub repair: bool,
}

pub fn run(args: DoctorArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    if args.repair {
        // (The sweep before every write has settled what interrupted commands left.)
        let (problems, commit) = Store::new(&repo).repair_derived()?;
        for p in &problems {
            let what = if p.repairable() {
                "repaired"
            } else {
                "NOT repaired"
            };
            println!("{what}: {}", terminal(&p.to_string()));
        }
        let left: Vec<_> = problems.iter().filter(|p| !p.repairable()).collect();
        match commit {
            Some(c) => ui.notice(&format!("Rebuilt the derived data (notes commit {c})")),
            None if problems.is_empty() => println!("The store is consistent."),
            None => {}
        }
        if !left.is_empty() {
            ui.error(
                &format!("{} problem(s) need a decision", left.len()),
                Some("a release recorded on two commits: delete the wrong record with `git release delete` after checking `git release view`"),
            );
            return Ok(ExitCode::from(1));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let leftovers = git_release::release::leftovers::leftovers(&repo);
    for left in &leftovers {
        println!(
            "interrupted: {left}: its pending records are settled by `git release doctor --repair`"
        );
    }
    let snapshot = Snapshot::read(repo.git())?;
    let problems = check_derived(&snapshot)?;
    if !leftovers.is_empty() {
        for p in &problems {
            println!("{p}");
        }
        ui.error(
            &format!(
                "{} interrupted command(s) left pending records",
                leftovers.len()
            ),
            Some("run `git release doctor --repair`"),
        );
        return Ok(ExitCode::from(1));
    }
    if problems.is_empty() {
        println!("The store is consistent.");
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("{}", terminal(&p.to_string()));
    }
    ui.error(
        &format!("{} inconsistency(ies) in the derived data", problems.len()),
        Some("run `git release doctor --repair` to rebuild them from the notes"),
    );
    Ok(ExitCode::from(1))
}
