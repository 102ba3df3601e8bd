use super::Exit;
use git_release::model::Selector;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use git_release::audit::evidence::{self, Archives};
use git_release::audit::verify::Selection;
use git_release::text::{terminal, terminal_lines};
use git_release::time::{self, Timestamp};
use git_release::{Error, Repo, Result};
use serde::Serialize;

use super::archive::TermProgress;
use super::{Ui, common, verify};

/// Release evidence: JSON snapshots of a release that anyone can check offline.
///
/// A snapshot is stored at evidence/<aa>/<sha>.json in refs/notes/releases, where
/// <sha> is the SHA-256 of its exact bytes: `git show refs/notes/releases:<filepath> |
/// sha256sum` prints it. It records the tag, tag object, commit and tree, the release
/// record, links, milestones, report artifacts, and the settings of the source archives;
/// an archive snapshot (collect --archives) also the SHA-256 of each source archive.
/// Evidence is collected at `create` for a normal release, when an upcoming release
/// becomes due, and on demand; snapshots are only ever added.
#[derive(Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

#[derive(Subcommand)]
pub enum EvidenceCommand {
    Collect(CollectArgs),
    #[command(visible_alias = "ls")]
    List(ListArgs),
    Show(ShowArgs),
    Verify(VerifyArgs),
}

/// Take a snapshot of a release now (refused while it is upcoming), or with --due, of
/// every upcoming release whose release date has passed (for cron or CI).
///
/// A snapshot records the tag, commit and tree, which fix the source archives' bytes;
/// with --archives it also records the SHA-256 of each of the four source archives,
/// which means making them (seconds on a large tree). The setting evidence.archives
/// (git config release.evidenceArchives) makes every snapshot do so.
#[derive(Args)]
pub struct CollectArgs {
    /// The release's tag, or `latest`.
    #[arg(required_unless_present = "due", conflicts_with = "due")]
    pub tag: Option<Selector>,
    /// Also make the source archives and record their SHA-256 (an archive snapshot).
    #[arg(long, conflicts_with = "due")]
    pub archives: bool,
    /// Attach a report file (test results, SBOM, …), stored as a blob under
    /// artifacts/ named by its SHA-256. May be repeated.
    #[arg(long, value_name = "FILE")]
    pub artifact: Vec<PathBuf>,
    /// Collect every release on the pending list whose date has passed.
    #[arg(long, conflicts_with = "artifact")]
    pub due: bool,
    /// Sign the snapshot with the key git signs tags with (SSHSIG in namespace
    /// `git-release`, or a detached armored OpenPGP signature), stored beside it as
    /// <filepath>.sig. The default when the release's tag is signed or
    /// `release.signEvidence=true`.
    #[arg(long, conflicts_with = "due", overrides_with = "no_sign")]
    pub sign: bool,
    /// Do not sign the snapshot, whatever the tag or release.signEvidence.
    #[arg(long, conflicts_with = "due", overrides_with = "sign")]
    pub no_sign: bool,
    /// Sign with KEY instead of user.signingKey (implies --sign).
    #[arg(
        long = "local-user",
        short = 'u',
        value_name = "KEY",
        conflicts_with = "due"
    )]
    pub local_user: Option<String>,
}

/// List a release's evidence snapshots, oldest first.
#[derive(Args)]
pub struct ListArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
}

/// Print the exact stored bytes of a snapshot (the newest by default), or with
/// --signature its detached signature.
///
/// Checking a signed snapshot needs no git-release:
///
///   git release evidence show v1.0 > e.json; git release evidence show v1.0 --signature > e.json.sig
///   ssh-keygen -Y verify -n git-release -f allowed_signers -I <principal> -s e.json.sig < e.json
///   gpg --verify e.json.sig e.json
#[derive(Args)]
pub struct ShowArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// The snapshot's sha, or an unambiguous prefix of it.
    pub sha: Option<String>,
    /// Print the snapshot's signature instead (an error when it is unsigned).
    #[arg(long)]
    pub signature: bool,
}

/// Check a release's evidence: hashes, facts against the repository, artifacts, and
/// the source archives regenerated (as `git release verify <tag> --archives`).
#[derive(Args)]
pub struct VerifyArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
}

pub fn run(args: EvidenceArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    match args.command {
        EvidenceCommand::Collect(args) if args.due => collect_due(&repo, ui),
        EvidenceCommand::Collect(args) => {
            let selector = args.tag.unwrap_or(Selector::Latest);
            let tag = common::select_tag(&repo, &selector)?;
            let progress = TermProgress::new(ui);
            let archives = match args.archives {
                true => Archives::Digests(&progress),
                false => Archives::AsConfigured,
            };
            let collected = evidence::collect(
                &repo,
                &tag,
                &args.artifact,
                archives,
                if args.sign || args.local_user.is_some() {
                    Some(true)
                } else if args.no_sign {
                    Some(false)
                } else {
                    None
                },
                args.local_user.as_deref(),
            );
            progress.finish();
            let collected = collected?;
            if let Some(signer) = &collected.unsigned_tag_signer {
                ui.notice(&common::unsigned_evidence_notice(&tag, signer));
            }
            if ui.json {
                common::print_json(&Entry::from(&collected.evidence))?;
            } else if !ui.quiet {
                println!(
                    "Collected evidence {} for {} ({})",
                    collected.evidence.sha,
                    terminal(&tag),
                    terminal(&collected.evidence.filepath)
                );
            }
            Ok(Exit::Success)
        }
        EvidenceCommand::List(args) => {
            let tag = common::select_tag(&repo, &args.tag)?;
            let evidences = evidence::list(&repo, &tag)?;
            if ui.json {
                let entries: Vec<Entry> = evidences.iter().map(Entry::from).collect();
                common::print_json(&entries)?;
                return Ok(Exit::Success);
            }
            if evidences.is_empty() {
                ui.notice(&format!("release {tag} has no evidence"));
            }
            let now = Timestamp::now()?;
            for e in &evidences {
                println!(
                    "{}  {}  {}",
                    e.sha,
                    e.collected_at,
                    ui.paint(
                        super::Style::Dim,
                        &format!("({})", time::relative(e.collected_at, now))
                    )
                );
            }
            Ok(Exit::Success)
        }
        EvidenceCommand::Show(args) => {
            let tag = common::select_tag(&repo, &args.tag)?;
            let (chosen, bytes) = evidence::show(&repo, &tag, args.sha.as_deref())?;
            let bytes = if args.signature {
                evidence::signature(&repo, &tag, &chosen)?
            } else {
                bytes
            };
            // The exact stored bytes, so that `| sha256sum` gives the sha. On a
            // terminal, a snapshot fetched from someone else's clone is shown with its
            // control and format characters escaped (as `text::terminal_lines`).
            let shown = if ui.stdout_is_terminal {
                terminal_lines(&String::from_utf8_lossy(&bytes))
                    .into_owned()
                    .into_bytes()
            } else {
                bytes
            };
            std::io::stdout().write_all(&shown).map_err(|e| Error::Io {
                what: "cannot write to standard output".into(),
                source: e,
            })?;
            Ok(Exit::Success)
        }
        EvidenceCommand::Verify(args) => {
            let tag = common::select_tag(&repo, &args.tag)?;
            let options = git_release::audit::verify::Options {
                archives: true,
                require_signed: false,
                rules: git_release::audit::protected::default_choice(&repo),
            };
            verify::run_with_repo(&repo, &Selection::Tags(vec![tag.to_string()]), &options, ui)
        }
    }
}

fn collect_due(repo: &Repo, ui: &Ui) -> Result<Exit> {
    let outcome = evidence::collect_due(repo)?;
    for collected in &outcome.collected {
        if !ui.quiet {
            println!(
                "Collected evidence {} for {}",
                collected.evidence.sha,
                terminal(&collected.tag)
            );
        }
    }
    for (tag, reason) in &outcome.dropped {
        ui.warn(&format!("no evidence for {tag}: {reason}"));
    }
    for (tag, error) in &outcome.failed {
        ui.error(&format!("evidence for {tag}: {error}"), None);
    }
    if outcome.collected.is_empty() && outcome.failed.is_empty() {
        ui.notice("no evidence is due");
    }
    Ok(if outcome.failed.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Collects what has become due after a write command; trouble here must not turn the
/// command that succeeded into a failure, so it is only reported.
pub fn collect_due_quietly(ui: &Ui) {
    let Ok(repo) = Repo::open_from_env() else {
        return;
    };
    match evidence::collect_due(&repo) {
        Ok(outcome) => {
            for collected in &outcome.collected {
                ui.notice(&format!(
                    "collected evidence {} for {} (now due)",
                    &collected.evidence.sha[..12],
                    collected.tag
                ));
            }
            for (tag, error) in &outcome.failed {
                ui.warn(&format!(
                    "could not collect due evidence for {tag}: {error}"
                ));
            }
        }
        Err(e) => ui.warn(&format!(
            "could not collect due evidence: {}",
            e.with_causes()
        )),
    }
}

/// GitLab's evidence entry.
#[derive(Serialize)]
struct Entry {
    sha: String,
    filepath: String,
    collected_at: Timestamp,
}

impl From<&git_release::model::EvidenceRef> for Entry {
    fn from(e: &git_release::model::EvidenceRef) -> Self {
        Entry {
            sha: e.sha.clone(),
            filepath: e.filepath.clone(),
            collected_at: e.collected_at,
        }
    }
}
