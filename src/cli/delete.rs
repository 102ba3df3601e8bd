use std::process::ExitCode;

use clap::Args;
use git_release::present::gitlab::EntityContext;
use git_release::text::terminal;
use git_release::{Repo, Result, release};

use super::{Ui, common};

/// Delete a release. The tag stays unless --with-tag is given.
///
/// Asks for confirmation on a terminal; without one, -y is required. With --json,
/// prints the deleted release (GitLab's DELETE response).
#[derive(Args)]
pub struct DeleteArgs {
    /// The release's tag, or `latest`.
    pub tag: String,
    /// Delete the tag too.
    #[arg(long)]
    pub with_tag: bool,
    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

pub fn run(args: DeleteArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let tag = common::select_tag(&repo, &args.tag)?;
    let what = if args.with_tag {
        format!("release {tag} and its tag")
    } else {
        format!("release {tag}")
    };
    common::confirm_destructive(ui, &what, args.yes)?;
    // Resolved before the write: the deleted release is printed from it.
    let context = EntityContext::new(&repo)?;
    let deleted = release::delete(&repo, &tag, args.with_tag)?;
    if ui.json {
        // GitLab's DELETE answers with the release as it was.
        common::print_json(&context.release(&deleted.found)?)?;
    } else if !ui.quiet {
        match deleted.deleted_tag {
            Some(_) => println!("Deleted release {0} and tag {0}", terminal(&tag)),
            None => println!("Deleted release {}", terminal(&tag)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
