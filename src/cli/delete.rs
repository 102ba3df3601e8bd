use std::process::ExitCode;

use clap::Args;
use git_release::{Error, Repo, Result, release};

use super::{Ui, common};

/// Delete a release. The tag stays unless --with-tag is given.
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
    if !args.yes {
        let what = if args.with_tag {
            format!("release {tag} and its tag")
        } else {
            format!("release {tag}")
        };
        if !ui.stdin_is_terminal {
            return Err(Error::Refused {
                action: format!("deleting {what}"),
                reason: "no terminal to confirm on; pass -y to delete without asking".into(),
            });
        }
        if !ui.confirm(&format!("Delete {what}?")) {
            return Err(Error::Refused {
                action: format!("deleting {what}"),
                reason: "not confirmed".into(),
            });
        }
    }
    let deleted = release::delete(&repo, &tag, args.with_tag)?;
    if ui.json {
        common::print_json(&serde_json::json!({
            "tag_name": deleted.found.tag,
            "deleted_tag": deleted.deleted_tag.map(|t| t.to_string()),
        }))?;
    } else if !ui.quiet {
        match deleted.deleted_tag {
            Some(_) => println!("Deleted release {tag} and tag {tag}"),
            None => println!("Deleted release {tag}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
