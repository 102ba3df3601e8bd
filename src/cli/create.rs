use std::process::ExitCode;

use clap::Args;
use git_release::model::LinkDraft;
use git_release::plan::freeze;
use git_release::present::gitlab::EntityContext;
use git_release::release::{self, CreateRequest, NewTag};
use git_release::time::Timestamp;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// Create a release, and its tag when the tag does not exist yet.
///
/// With an existing tag (annotated or lightweight) the release attaches to it and
/// --ref / --tag-message are ignored. Otherwise --ref says where to create the tag:
/// annotated when --tag-message is given, else lightweight.
#[derive(Args)]
pub struct CreateArgs {
    /// The tag of the release.
    pub tag: String,
    /// Where to create a missing tag: a branch, tag, commit SHA or any revision.
    #[arg(
        long = "ref",
        short = 'r',
        visible_alias = "target",
        value_name = "REF"
    )]
    pub reference: Option<String>,
    /// The release title (defaults to the tag name).
    #[arg(long, short = 'n', visible_alias = "title")]
    pub name: Option<String>,
    #[command(flatten)]
    pub notes: common::NotesArgs,
    /// Message for a new annotated tag.
    #[arg(long, short = 'T', value_name = "MESSAGE")]
    pub tag_message: Option<String>,
    /// When the release is/was released (ISO 8601; default now). A future date makes an
    /// upcoming release, a past one a historical release.
    #[arg(long, short = 'D', value_name = "ISO")]
    pub released_at: Option<String>,
    /// Asset links as release-cli takes them: a JSON object or array of objects with
    /// name, url, direct_asset_path (or filepath) and link_type. May be repeated.
    #[arg(long = "assets-link", short = 'a', value_name = "JSON")]
    pub assets_links: Vec<String>,
    /// An asset link as `name=…,url=…[,path=/…][,type=…][,sha256=…]`; a URL containing
    /// commas must be the last pair. May be repeated.
    #[arg(long = "link", short = 'l', value_name = "KEY=VALUE,…")]
    pub links: Vec<String>,
    /// Attach the release to the milestone titled TITLE (repeatable); it must exist.
    #[arg(long, short = 'm', value_name = "TITLE")]
    pub milestone: Vec<String>,
}

pub fn run(args: CreateArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let released_at = args
        .released_at
        .as_deref()
        .map(Timestamp::parse)
        .transpose()?;
    let description = args.notes.read()?;
    let mut links = Vec::new();
    for json in &args.assets_links {
        links.extend(LinkDraft::from_assets_link_json(json)?);
    }
    for pairs in &args.links {
        links.push(LinkDraft::from_pairs(pairs)?);
    }
    let request = CreateRequest {
        tag: args.tag,
        reference: args.reference,
        name: args.name,
        description,
        tag_message: args.tag_message,
        released_at,
        links,
        milestones: args.milestone,
        generate_notes: args.notes.generated(),
    };
    let now = Timestamp::now()?;
    // Resolved before writing: a malformed .git-release.toml must fail the command
    // before the release exists, not after.
    let context = EntityContext::new(&repo)?;
    let created = release::create(&repo, request)?;
    let tag = &created.found.tag;
    if let Some(generated) = &created.generated {
        ui.notice(&common::describe_generated(generated));
    }
    // A freeze does not block a release record (the pre-push hook refuses the push);
    // trouble reading the freezes must not fail a release that was made.
    match freeze::active_at(&repo, now) {
        Ok(Some(active)) => ui.warn(&format!(
            "a deploy freeze is in force ({}) until {}; the release was created anyway",
            common::freeze_periods(&active.periods),
            active.ends_at
        )),
        Ok(None) => {}
        Err(e) => ui.warn(&format!("could not check deploy freezes: {e}")),
    }
    for option in &created.ignored {
        ui.notice(&format!("tag {tag} already exists: {option} ignored"));
    }
    if created.replaced_stale {
        ui.notice(&format!(
            "replaced an unfinished or orphaned release record for {tag}"
        ));
    }
    if ui.json {
        common::print_json(&context.release(&created.found)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let short = render::short_id(created.found.release.commit);
    let how = match created.new_tag {
        Some(NewTag::Annotated) => format!(" (created annotated tag {tag} on {short})"),
        Some(NewTag::Lightweight) => format!(" (created tag {tag} on {short})"),
        None => String::new(),
    };
    if !ui.quiet {
        println!("Created release {tag}{how}");
        render::warn_tag_state(ui, &created.found);
    }
    Ok(ExitCode::SUCCESS)
}
