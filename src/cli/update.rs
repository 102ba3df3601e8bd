use super::Exit;

use clap::Args;
use git_release::audit::protected;
use git_release::model::Selector;
use git_release::present::gitlab::EntityContext;
use git_release::release::{self, UpdateRequest};
use git_release::text::terminal;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// Change a release's name, notes, release date or milestones. The tag and commit never change.
#[derive(Args)]
pub struct UpdateArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// New title (an empty title resets it to the tag name).
    #[arg(long, short = 'n', visible_alias = "title")]
    pub name: Option<String>,
    #[command(flatten)]
    pub notes: common::NotesArgs,
    /// New release date (ISO 8601; a date alone, 2024-03-01, is midnight UTC).
    #[arg(long, short = 'D', value_name = "ISO", value_parser = common::ReleasedAt::parse)]
    pub released_at: Option<common::ReleasedAt>,
    /// Set the release's milestones to these titles (repeatable; replaces the list).
    #[arg(
        long,
        short = 'm',
        value_name = "TITLE",
        conflicts_with = "clear_milestones"
    )]
    pub milestone: Vec<String>,
    /// Detach the release from all its milestones.
    #[arg(long)]
    pub clear_milestones: bool,
}

pub fn run(args: UpdateArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let released_at = args.released_at.map(|at| at.take(ui));
    let description = args.notes.read()?;
    let tag = common::select_tag(&repo, &args.tag)?;
    let milestones = if args.clear_milestones {
        Some(Vec::new())
    } else if args.milestone.is_empty() {
        None
    } else {
        Some(args.milestone)
    };
    // Resolved before writing, so that bad configuration fails before any change.
    let context = EntityContext::new(&repo)?;
    let updated = release::update(
        &repo,
        UpdateRequest {
            tag: tag.to_string(),
            name: args.name,
            description,
            released_at,
            milestones,
            generate_notes: args.notes.generated(),
        },
    )?;
    if let Some(generated) = &updated.generated {
        ui.notice(&common::describe_generated(generated));
    }
    let found = updated.found;
    if let Some(warning) =
        protected::configured_key_warning(&repo, &found.tag, protected::Change::Update)
    {
        ui.warn(&warning);
    }
    if ui.json {
        common::print_json(&context.release(&found)?)?;
    } else if !ui.quiet {
        println!("Updated release {}", terminal(&found.tag));
        render::warn_tag_state(ui, &found);
    }
    Ok(Exit::Success)
}
