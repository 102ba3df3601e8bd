use super::Exit;

use clap::Args;
use git_release::audit::protected;
use git_release::model::LinkDraft;
use git_release::model::TagName;
use git_release::plan::freeze;
use git_release::present::gitlab::EntityContext;
use git_release::release::{self, CreateRequest, NewTag};
use git_release::text::terminal;
use git_release::time::Timestamp;
use git_release::{Repo, Result};

use super::{Ui, common, render};

/// Create a release, and its tag when the tag does not exist yet.
///
/// With an existing tag (annotated or lightweight) the release attaches to it and
/// --ref / --tag-message are ignored. Otherwise --ref says where to create the tag:
/// annotated when --tag-message is given, else lightweight.
///
/// release-cli's flags work as they are: --tag-name, --description, --name, --ref,
/// --tag-message, --released-at, --milestone and --assets-link.
///
/// With --sign, -u KEY or `tag.gpgSign=true`, the new tag is signed exactly as `git
/// tag -s` signs it (gpg.format, gpg.program / gpg.ssh.program / gpg.x509.program,
/// user.signingKey), so `git verify-tag` checks it; its message is --tag-message or
/// else the release title. The release's evidence is then signed with the same key
/// (SSHSIG in namespace `git-release`, or a detached OpenPGP signature). With an
/// existing tag, --sign signs the evidence only; `release.signEvidence=true` always
/// does.
#[derive(Args)]
pub struct CreateArgs {
    /// The tag of the release (or --tag-name TAG). A leading `tags/` is stripped once,
    /// as in every command: `tags/latest` is the tag `latest`.
    #[arg(
        required_unless_present = "tag_name",
        value_name = "TAG",
        value_parser = TagName::from_argument
    )]
    pub tag: Option<TagName>,
    /// release-cli's spelling of the tag argument.
    #[arg(
        long = "tag-name",
        value_name = "TAG",
        conflicts_with = "tag",
        value_parser = TagName::from_argument
    )]
    pub tag_name: Option<TagName>,
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
    /// upcoming release, a past one a historical release. A date alone
    /// (2024-03-01) means midnight UTC of that day.
    #[arg(long, short = 'D', value_name = "ISO", value_parser = common::ReleasedAt::parse)]
    pub released_at: Option<common::ReleasedAt>,
    /// Asset links as release-cli takes them: a JSON object or array of objects with
    /// name, url, direct_asset_path (or filepath) and link_type. May be repeated.
    #[arg(long = "assets-link", short = 'a', value_name = "JSON")]
    pub assets_links: Vec<String>,
    /// An asset link as `name=…,url=…[,path=/…][,type=…][,sha256=…]`; a URL containing
    /// commas must be the last pair, and a comma followed by `word=` must be written
    /// %2C (unknown keys are refused). May be repeated.
    #[arg(long = "link", short = 'l', value_name = "KEY=VALUE,…")]
    pub links: Vec<String>,
    /// Attach the release to the milestone titled TITLE (repeatable); it must exist.
    #[arg(long, short = 'm', value_name = "TITLE")]
    pub milestone: Vec<String>,
    /// Attach a report file (test results, SBOM, …) to the evidence snapshot taken at
    /// creation (repeatable). Only a normal release gets one at creation: for an
    /// upcoming or historical release, use `evidence collect --artifact` later.
    #[arg(long, value_name = "FILE")]
    pub artifact: Vec<std::path::PathBuf>,
    /// Sign the new tag as `git tag -s` does (and the evidence with the same key).
    #[arg(long, short = 's', overrides_with = "no_sign")]
    pub sign: bool,
    /// Do not sign the new tag, whatever tag.gpgSign says.
    #[arg(long, overrides_with = "sign")]
    pub no_sign: bool,
    /// Sign with KEY instead of user.signingKey (implies --sign), as `git tag -u`.
    #[arg(long = "local-user", short = 'u', value_name = "KEY")]
    pub local_user: Option<String>,
}

pub fn run(args: CreateArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let released_at = args.released_at.map(|at| at.take(ui));
    let description = args.notes.read()?;
    let mut links = Vec::new();
    for json in &args.assets_links {
        links.extend(LinkDraft::from_assets_link_json(json)?);
    }
    for pairs in &args.links {
        links.push(LinkDraft::from_pairs(pairs)?);
    }
    let request = CreateRequest {
        tag: args
            .tag
            .or(args.tag_name)
            .map(|tag| tag.to_string())
            .unwrap_or_default(),
        reference: args.reference,
        name: args.name,
        description,
        tag_message: args.tag_message,
        released_at,
        links,
        milestones: args.milestone,
        generate_notes: args.notes.generated(),
        artifacts: args.artifact,
        sign: if args.sign || args.local_user.is_some() {
            Some(true)
        } else if args.no_sign {
            Some(false)
        } else {
            None
        },
        signing_key: args.local_user,
        author: None,
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
        Err(e) => ui.warn(&format!(
            "could not check deploy freezes: {}",
            e.with_causes()
        )),
    }
    // A protected tag the pre-push hook would refuse: said now, not at push time.
    if let Some(warning) = protected::after_create(&repo, &created.found) {
        ui.warn(&warning);
    }
    for option in &created.ignored {
        ui.notice(&format!("tag {tag} already exists: {option} ignored"));
    }
    if let Some(signer) = &created.evidence_unsigned_tag_signer {
        ui.notice(&common::unsigned_evidence_notice(tag, signer));
    }
    if let Some(key) = &created.signed_with {
        ui.notice(&format!("signed with {key}"));
    }
    if created.replaced_stale {
        ui.notice(&format!(
            "replaced an unfinished or orphaned release record for {tag}"
        ));
    }
    if ui.json {
        common::print_json(&context.release(&created.found)?)?;
        return Ok(Exit::Success);
    }
    let short = render::short_id(created.found.release.commit);
    let how = match created.new_tag {
        Some(NewTag::Annotated) => format!(" (created annotated tag {tag} on {short})"),
        Some(NewTag::Lightweight) => format!(" (created tag {tag} on {short})"),
        Some(NewTag::Signed) => format!(" (created signed tag {tag} on {short})"),
        None => String::new(),
    };
    if !ui.quiet {
        println!("{}", terminal(&format!("Created release {tag}{how}")));
        render::warn_tag_state(ui, &created.found);
    }
    Ok(Exit::Success)
}
