use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use git_release::gitlab::EntityContext;
use git_release::lifecycle::{self, NotesRequest, UpdateRequest};
use git_release::time::Timestamp;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// Change a release's name, notes, release date or milestones. The tag and commit never change.
#[derive(Args)]
pub struct UpdateArgs {
    /// The release's tag, or `latest`.
    pub tag: String,
    /// New title (an empty title resets it to the tag name).
    #[arg(long, short = 'n', visible_alias = "title")]
    pub name: Option<String>,
    /// New release notes (Markdown).
    #[arg(
        long,
        short = 'N',
        visible_alias = "description",
        conflicts_with = "notes_file"
    )]
    pub notes: Option<String>,
    /// Read new release notes from FILE ("-" for standard input).
    #[arg(long, short = 'F', value_name = "FILE")]
    pub notes_file: Option<PathBuf>,
    /// New release date (ISO 8601).
    #[arg(long, short = 'D', value_name = "ISO")]
    pub released_at: Option<String>,
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
    /// Regenerate notes from the commits since the previous release (see `create
    /// --generate-notes`); added after --notes when both are given, else they replace
    /// the description.
    #[arg(long)]
    pub generate_notes: bool,
    /// Start the generated notes at tag T instead of the previous release.
    #[arg(long, value_name = "T", requires = "generate_notes")]
    pub notes_start_tag: Option<String>,
}

pub fn run(args: UpdateArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let released_at = args
        .released_at
        .as_deref()
        .map(Timestamp::parse)
        .transpose()?;
    let description = common::read_notes(args.notes, args.notes_file.as_deref())?;
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
    let updated = lifecycle::update(
        &repo,
        UpdateRequest {
            tag,
            name: args.name,
            description,
            released_at,
            milestones,
            generate_notes: args.generate_notes.then_some(NotesRequest {
                start_tag: args.notes_start_tag,
            }),
        },
    )?;
    if let Some(generated) = &updated.generated {
        ui.notice(&common::describe_generated(generated));
    }
    let found = updated.found;
    if ui.json {
        common::print_json(&context.release(&found)?)?;
    } else if !ui.quiet {
        println!("Updated release {}", found.tag);
        render::warn_tag_state(ui, &found);
    }
    Ok(ExitCode::SUCCESS)
}
