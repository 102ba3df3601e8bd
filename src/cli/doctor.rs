//! `git release doctor`: check every rule of the store (and repair what can be).

use super::Exit;

use clap::Args;
use git_release::store::{Inconsistency, Snapshot, Store, check_store};
use git_release::text::terminal;
use git_release::{Repo, Result};

use super::Ui;

/// Check the release store against its rules; --repair fixes what it can.
///
/// Checks that every document is readable and of a schema this version knows, that
/// each tag has one record, that the tag index and id counters agree with the notes,
/// that display ids are unique and within bounds, that link names, URLs and direct
/// asset paths are unique per release and milestone titles unique, that listed
/// evidence is present, that no plain `git notes merge` dropped milestones or freeze
/// periods, that nothing outside the store's layout is in refs/notes/releases, and
/// that no interrupted command left pending records, and that the group milestones
/// releases name are still in the group's repository (when it is here). Each finding
/// names the command that fixes it.
///
/// Never merge refs/notes/releases with `git notes merge`: use `git release fetch`.
#[derive(Args)]
pub struct DoctorArgs {
    /// Repair what can be repaired, as one commit: rebuild the index and counters,
    /// take back unreadable or dropped data from the notes history, make equal
    /// duplicates one and rename different ones apart, give new ids where two
    /// objects share one or one is out of bounds, remove stray records and entries.
    #[arg(long)]
    pub repair: bool,
}

/// A finding and its fix, escaped for the terminal (names come from other clones).
fn show(p: &Inconsistency) -> String {
    format!(
        "{}\n  fix: {}",
        terminal(&p.to_string()),
        terminal(&p.fix())
    )
}

pub fn run(args: DoctorArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    if args.repair {
        // (The sweep before every write has settled what interrupted commands left.)
        let repaired = Store::new(&repo).repair_store()?;
        for action in &repaired.actions {
            println!("repaired: {}", terminal(action));
        }
        let left: Vec<_> = repaired
            .problems
            .iter()
            .filter(|p| !p.repairable())
            .collect();
        for p in &left {
            println!("NOT repaired: {}", show(p));
        }
        match repaired.commit {
            Some(c) => ui.notice(&format!("Repaired the store (notes commit {c})")),
            None if repaired.problems.is_empty() => println!("The store is consistent."),
            None => {}
        }
        if !left.is_empty() {
            ui.error(
                &format!("{} problem(s) need a decision", left.len()),
                Some("each says what to run"),
            );
            return Ok(Exit::Failure);
        }
        return Ok(Exit::Success);
    }
    let leftovers = git_release::release::leftovers::leftovers(&repo);
    for left in &leftovers {
        println!(
            "interrupted: {left}: its pending records are settled by `git release doctor --repair`"
        );
    }
    let snapshot = Snapshot::read(repo.git())?;
    let problems = check_store(&snapshot)?;
    // A store too broken to list is reported by the store's checks above.
    let group = git_release::release::group::check_group_milestones(&repo).unwrap_or_else(|e| {
        git_release::release::group::GroupCheck {
            unchecked: Some(format!("group milestones not checked: {e}")),
            ..Default::default()
        }
    });
    if let Some(why) = &group.unchecked {
        ui.notice(why);
    }
    for (tag, title) in &group.missing {
        println!(
            "{}\n  fix: {}",
            terminal(&format!(
                "release {tag} names the group milestone {title:?}, which {} does not have",
                group.group
            )),
            terminal(&format!(
                "recreate it in the group (`git release milestone --group create`), or name the \
                 release's milestones again (`git release update {tag} --clear-milestones`, then \
                 `--milestone`)"
            ))
        );
    }
    if problems.is_empty() && leftovers.is_empty() && group.missing.is_empty() {
        println!("The store is consistent.");
        return Ok(Exit::Success);
    }
    for p in &problems {
        println!("{}", show(p));
    }
    if problems.is_empty() && leftovers.is_empty() {
        ui.error(
            &format!(
                "{} group milestone reference(s) the group does not have",
                group.missing.len()
            ),
            Some("each says what to run"),
        );
        return Ok(Exit::Failure);
    }
    if !leftovers.is_empty() {
        ui.error(
            &format!(
                "{} interrupted command(s) left pending records",
                leftovers.len()
            ),
            Some("run `git release doctor --repair`"),
        );
        return Ok(Exit::Failure);
    }
    let hint = if problems.iter().any(|p| p.repairable()) {
        "run `git release doctor --repair` to repair what it can; the others say what to run"
    } else {
        "each says what to run"
    };
    ui.error(
        &format!("{} problem(s) in the release store", problems.len()),
        Some(hint),
    );
    Ok(Exit::Failure)
}
