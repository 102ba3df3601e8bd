//! `git release retag`: settle a release whose tag moved.

use super::Exit;

use clap::Args;
use git_release::release::retag;
use git_release::{Repo, Result};

use super::Ui;

/// Settle a release whose tag moved since it was made (`git tag -f`, a re-created
/// tag, or a release fetched beside a tag of that name made here): such a release is
/// never pushed until it is settled.
///
/// --restore moves the tag back to the object the release recorded; --follow moves
/// the release to the commit the tag points at now (its evidence, which described the
/// old commit, is replaced by a new snapshot), and the next push moves the remote's
/// tag with a lease on the value it had. `git release status` lists moved tags.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("way").required(true).args(["restore", "follow"]))]
pub struct RetagArgs {
    /// The release's tag.
    #[arg(value_name = "TAG")]
    pub tag: String,
    /// Move the tag back to the release.
    #[arg(long)]
    pub restore: bool,
    /// Move the release to the tag.
    #[arg(long)]
    pub follow: bool,
}

pub fn run(args: RetagArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let tag = args.tag.strip_prefix("tags/").unwrap_or(&args.tag);
    if args.restore {
        let moved = retag::restore(&repo, tag)?;
        ui.notice(&format!(
            "Moved tag {tag} back to {} (commit {}), where release {tag} was made",
            moved.recorded, moved.recorded_commit
        ));
    } else {
        let moved = retag::follow(&repo, tag)?;
        ui.notice(&format!(
            "Moved release {tag} to commit {}, where tag {tag} points now",
            moved.now_commit
        ));
    }
    Ok(Exit::Success)
}
