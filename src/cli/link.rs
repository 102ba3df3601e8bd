use super::Exit;
use git_release::model::Selector;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use git_release::model::{Link, LinkDraft, LinkType};
use git_release::present::gitlab::EntityContext;
use git_release::release::links::{self, FileDigest, LinkChanges};
use git_release::text::terminal;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// Manage a release's asset links (binaries, packages, runbooks, images).
///
/// A link points at where an asset is downloaded from; its optional direct asset
/// path gives it a permanent URL, `<web_url>/-/releases/<tag>/downloads<path>`, that
/// keeps working when the asset moves. Names, URLs and direct asset paths are unique
/// within a release.
#[derive(Args)]
pub struct LinkArgs {
    #[command(subcommand)]
    pub command: LinkCommand,
}

impl LinkArgs {
    pub fn writes(&self) -> bool {
        !matches!(self.command, LinkCommand::List(_))
    }
}

#[derive(Subcommand)]
pub enum LinkCommand {
    Add(AddArgs),
    #[command(visible_alias = "ls")]
    List(ListArgs),
    #[command(visible_alias = "edit")]
    Update(UpdateArgs),
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
}

/// Add an asset link to a release.
#[derive(Args)]
pub struct AddArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// The link's name, shown to people (unique within the release).
    #[arg(long, short = 'n')]
    pub name: String,
    /// Where the asset is downloaded from (http, https or ftp).
    #[arg(long, short = 'u')]
    pub url: String,
    /// Permanent path of the asset, e.g. /bin/app: starts with '/', letters, digits,
    /// '_', '.', '-' and '/' only, ends with a letter or digit.
    #[arg(long, visible_alias = "filepath", value_name = "PATH")]
    pub direct_asset_path: Option<String>,
    /// What the asset is: other (default), runbook, package or image.
    #[arg(long, short = 't', value_name = "TYPE", value_enum)]
    pub link_type: Option<LinkType>,
    /// A local copy of the asset: its SHA-256 and size are recorded, and downloads
    /// are checked against them. The URL stays where it is downloaded from.
    #[arg(long, value_name = "PATH", conflicts_with = "sha256")]
    pub file: Option<PathBuf>,
    /// The asset's SHA-256, when it is known in advance (64 hex digits).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
}

/// List a release's asset links, newest first.
#[derive(Args)]
pub struct ListArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
}

/// Change an asset link, chosen by id or name.
#[derive(Args)]
pub struct UpdateArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// The link's id or name.
    pub link: String,
    /// New name.
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    /// New URL.
    #[arg(long, short = 'u')]
    pub url: Option<String>,
    /// New permanent path ("" removes it).
    #[arg(long, visible_alias = "filepath", value_name = "PATH")]
    pub direct_asset_path: Option<String>,
    /// New type: other, runbook, package or image.
    #[arg(long, short = 't', value_name = "TYPE", value_enum)]
    pub link_type: Option<LinkType>,
    /// Record the SHA-256 and size of this local copy of the asset.
    #[arg(long, value_name = "PATH", conflicts_with = "sha256")]
    pub file: Option<PathBuf>,
    /// Record this SHA-256 ("" removes the recorded digest and size).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
}

/// Delete an asset link, chosen by id or name. Its id is never used again.
#[derive(Args)]
pub struct DeleteArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// The link's id or name.
    pub link: String,
}

pub fn run(args: LinkArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    // Resolved before any write: bad configuration fails before a change, not after.
    let context = EntityContext::new(&repo)?;
    match args.command {
        LinkCommand::Add(args) => add(&repo, &context, args, ui),
        LinkCommand::List(args) => list(&repo, &context, args, ui),
        LinkCommand::Update(args) => update(&repo, &context, args, ui),
        LinkCommand::Delete(args) => delete(&repo, &context, args, ui),
    }
}

fn digest(file: Option<&Path>) -> Result<Option<FileDigest>> {
    file.map(links::digest_file).transpose()
}

fn add(repo: &Repo, context: &EntityContext<'_>, args: AddArgs, ui: &Ui) -> Result<Exit> {
    let file = digest(args.file.as_deref())?;
    let draft = LinkDraft {
        name: args.name,
        url: args.url,
        direct_asset_path: args.direct_asset_path,
        link_type: args.link_type.unwrap_or_default(),
        sha256: file.as_ref().map(|f| f.sha256.clone()).or(args.sha256),
        size: file.as_ref().map(|f| f.size),
    };
    let tag = common::select_tag(repo, &args.tag)?;
    let (found, link) = links::add(repo, &tag, draft)?;
    print_link(context, ui, &found.tag, &link, "Added")
}

fn update(repo: &Repo, context: &EntityContext<'_>, args: UpdateArgs, ui: &Ui) -> Result<Exit> {
    let changes = LinkChanges {
        name: args.name,
        url: args.url,
        direct_asset_path: args.direct_asset_path,
        link_type: args.link_type,
        sha256: args.sha256,
        file: digest(args.file.as_deref())?,
    };
    let tag = common::select_tag(repo, &args.tag)?;
    let (found, link) = links::update(repo, &tag, &args.link, &changes)?;
    print_link(context, ui, &found.tag, &link, "Updated")
}

fn delete(repo: &Repo, context: &EntityContext<'_>, args: DeleteArgs, ui: &Ui) -> Result<Exit> {
    let tag = common::select_tag(repo, &args.tag)?;
    let (found, link) = links::delete(repo, &tag, &args.link)?;
    print_link(context, ui, &found.tag, &link, "Deleted")
}

fn print_link(
    context: &EntityContext<'_>,
    ui: &Ui,
    tag: &str,
    link: &Link,
    done: &str,
) -> Result<Exit> {
    if ui.json {
        common::print_json(&context.link(tag, link))?;
    } else if !ui.quiet {
        println!(
            "{done} link {} {:?} of release {}",
            link.id,
            link.name,
            terminal(tag)
        );
    }
    Ok(Exit::Success)
}

fn list(repo: &Repo, context: &EntityContext<'_>, args: ListArgs, ui: &Ui) -> Result<Exit> {
    let found = common::select_release(repo, &args.tag)?;
    render::warn_tag_state(ui, &found);
    if ui.json {
        common::print_json(&context.links(&found))?;
        return Ok(Exit::Success);
    }
    if found.release.links.is_empty() {
        ui.notice(&format!("release {} has no asset links", found.tag));
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = Link::newest_first(&found.release.links)
        .into_iter()
        .map(|link| {
            vec![
                link.id.to_string(),
                link.name.clone(),
                link.link_type.to_string(),
                link.direct_asset_path.clone().unwrap_or_default(),
                link.size.map(human_size).unwrap_or_default(),
                link.sha256.clone().unwrap_or_default(),
                link.url.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(
            ui,
            &["ID", "NAME", "TYPE", "PATH", "SIZE", "SHA-256", "URL"],
            &rows
        )
    );
    Ok(Exit::Success)
}

/// Sizes as people read them (1024-based, one decimal).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
