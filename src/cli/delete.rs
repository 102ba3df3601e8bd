use super::Exit;

use clap::Args;
use git_release::audit::protected;
use git_release::model::{Selector, TagName};
use git_release::present::gitlab::EntityContext;
use git_release::release::TagDeletion;
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
    pub tag: Selector,
    /// Delete the tag too (refused when the tag was moved after the release was made,
    /// unless --force).
    #[arg(long)]
    pub with_tag: bool,
    /// With --with-tag: delete the tag even when it was moved since the release.
    #[arg(long, requires = "with_tag")]
    pub force: bool,
    /// Delete only the record of the release in the note on this commit (when two
    /// notes claim one tag, `git release doctor` names the stray one); the tag and
    /// any other record of it stay.
    #[arg(long, value_name = "COMMIT", conflicts_with = "with_tag")]
    pub note: Option<String>,
    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

pub fn run(args: DeleteArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let tag = match &args.note {
        // A stray record may name a tag that does not resolve as `latest` would.
        Some(_) => match &args.tag {
            Selector::Latest => TagName::parse(git_release::model::tag_name::LATEST)?,
            Selector::Tag(tag) => tag.clone(),
        },
        None => common::select_tag(&repo, &args.tag)?,
    };
    let what = match (&args.note, args.with_tag) {
        (Some(commit), _) => format!("the record of release {tag} on commit {commit}"),
        (None, true) => format!("release {tag} and its tag"),
        (None, false) => format!("release {tag}"),
    };
    common::confirm_destructive(ui, &what, args.yes)?;
    // Resolved before the write: the deleted release is printed from it.
    let context = EntityContext::new(&repo)?;
    let tag_deletion = match (args.with_tag, args.force) {
        (false, _) => TagDeletion::Keep,
        (true, false) => TagDeletion::Delete,
        (true, true) => TagDeletion::DeleteEvenIfMoved,
    };
    let deleted = match &args.note {
        Some(commit) => release::delete::delete_record(&repo, &tag, commit)?,
        None => release::delete(&repo, &tag, tag_deletion)?,
    };
    if let Some(warning) =
        protected::configured_key_warning(&repo, &deleted.found.tag, protected::Change::Delete)
    {
        ui.warn(&warning);
    }
    if ui.json {
        // GitLab's DELETE answers with the release as it was.
        common::print_json(&context.release(&deleted.found)?)?;
    } else if !ui.quiet {
        match (&args.note, deleted.deleted_tag) {
            (Some(commit), _) => println!(
                "Deleted the record of release {} on commit {}",
                terminal(&tag),
                terminal(commit)
            ),
            (None, Some(_)) => println!("Deleted release {0} and tag {0}", terminal(&tag)),
            (None, None) => println!("Deleted release {}", terminal(&tag)),
        }
    }
    Ok(Exit::Success)
}
