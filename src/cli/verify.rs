use super::Exit;
use git_release::model::Selector;
use std::cell::RefCell;

use clap::Args;
use git_release::audit::protected::default_choice;
use git_release::audit::verify::{self, Selection, Verdict, VerifyProgress};
use git_release::git::protection::RulesChoice;
use git_release::text::terminal;
use git_release::{Repo, Result};
use serde::Serialize;

use super::{Style, Ui, common};

/// Audit releases offline: exit status 1 when anything does not match.
///
/// For each release: its note is valid JSON of a known schema; its tag exists and
/// points where the release recorded; each evidence file hashes to its sha and its
/// tag, tag object, commit and tree agree with the repository; report artifacts are
/// present and hash-correct. A tree snapshot (what create takes) binds the tree id,
/// which fixes the source archives' bytes. With --archives, the source archives are
/// regenerated (canonical mode, recorded prefix) and compared with every digest the
/// evidence records (archive snapshots: `evidence collect --archives`); releases with
/// tree snapshots only are named as having no archive digests yet. Archives that
/// depend on refs (export-subst %d, %D, %(describe)) or on absent LFS objects are
/// reported as "cannot verify", not as failures. A group milestone the release names
/// that its group's repository no longer has fails (when that repository is here;
/// else a notice says they were not checked: docs/groups.md).
///
/// Signatures are checked when present, as git checks them: the tag's against
/// gpg.ssh.allowedSignersFile (SSH; else a committed .git-release/allowed_signers), the
/// gpg keyring (OpenPGP) or gpgsm's (X.509); each evidence file's detached signature
/// (namespace `git-release`) likewise. A signature that does not verify fails; the
/// signer and key are named for each release. With --require-signed, an unsigned tag or
/// evidence file, or one signed by a key not allowed, fails too.
///
/// A release on a protected tag (a [[protected_tag]] of .git-release.toml that names
/// allowed_signers or allowed_fingerprints) fails unless its tag, or where the rule
/// takes it an evidence snapshot, is signed by a key the rule allows; the rule is named.
/// The rules are read from the remote's default branch as last fetched (else HEAD's
/// commit), or from a trust anchor: --protected-tags-from COMMIT, --protected-tags-file
/// FILE, or git config release.protectedTagsFrom / release.protectedTagsFile. See
/// docs/permissions.md.
#[derive(Args)]
pub struct VerifyArgs {
    /// Tags of the releases to check (default: --all).
    #[arg(conflicts_with = "all")]
    pub tags: Vec<Selector>,
    /// Check every release.
    #[arg(long)]
    pub all: bool,
    /// Also regenerate the source archives and compare their SHA-256 with the evidence.
    #[arg(long)]
    pub archives: bool,
    /// Fail on any release whose tag or evidence is unsigned or signed by a key that is
    /// not allowed (re-created tags fail anyway).
    #[arg(long)]
    pub require_signed: bool,
    /// Read the protected-tag rules from this commit's .git-release.toml (a trust
    /// anchor: a later commit cannot loosen them).
    #[arg(long, value_name = "COMMIT", conflicts_with = "protected_tags_file")]
    pub protected_tags_from: Option<String>,
    /// Read the protected-tag rules from FILE, outside the repository (its
    /// allowed_signers paths are relative to FILE's directory).
    #[arg(long, value_name = "FILE")]
    pub protected_tags_file: Option<std::path::PathBuf>,
}

pub fn run(args: VerifyArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let selection = if args.tags.is_empty() {
        Selection::All
    } else {
        let mut tags = Vec::new();
        for selector in &args.tags {
            tags.push(common::select_tag(&repo, selector)?);
        }
        Selection::Tags(tags)
    };
    let rules = match (args.protected_tags_from, args.protected_tags_file) {
        (Some(commit), _) => RulesChoice::Commit(commit),
        (None, Some(file)) => RulesChoice::File(file),
        (None, None) => default_choice(&repo),
    };
    let options = verify::Options {
        archives: args.archives,
        require_signed: args.require_signed,
        rules,
    };
    run_with_repo(&repo, &selection, &options, ui)
}

pub fn run_with_repo(
    repo: &Repo,
    selection: &Selection,
    options: &verify::Options,
    ui: &Ui,
) -> Result<Exit> {
    let archives = options.archives;
    let progress = Bar {
        enabled: ui.progress_allowed(),
        bar: RefCell::new(None),
    };
    let audit = verify::verify(repo, selection, options, &progress)?;
    let verdicts = &audit.verdicts;
    if let Some(bar) = progress.bar.borrow_mut().take() {
        bar.finish_and_clear();
    }
    let failed = verdicts.iter().filter(|v| v.failed()).count();
    let unverified = verdicts
        .iter()
        .filter(|v| !v.failed() && !v.cannot_verify.is_empty())
        .count();
    let ok = verdicts.len() - failed - unverified;
    // Releases with evidence whose snapshots record no archive digests (only counted
    // with --archives, where it says what could not be compared).
    let without_digests: Vec<&str> = verdicts
        .iter()
        .filter(|v| archives && lacks_digests(v))
        .map(|v| v.subject.as_str())
        .collect();
    if ui.json {
        common::print_json(&Report {
            releases: verdicts.iter().map(ReleaseReport::from).collect(),
            summary: Summary {
                total: verdicts.len(),
                ok,
                failed,
                cannot_verify: unverified,
                without_archive_digests: without_digests.len(),
            },
            archives,
            protected_tags: ProtectedTagsReport {
                source: audit.rules_source.describe(),
                reason: audit.rules_source.reason(),
                rules: audit.rules.rules.len(),
            },
        })?;
    } else {
        for verdict in verdicts {
            print_verdict(ui, verdict, archives);
        }
        if !audit.rules.rules.is_empty() && !ui.quiet {
            ui.notice(&format!(
                "protected tags: {} rule(s) from {} ({})",
                audit.rules.rules.len(),
                terminal(&audit.rules_source.describe()),
                audit.rules_source.reason()
            ));
        }
        if !ui.quiet || failed > 0 {
            let plural = if verdicts.len() == 1 { "" } else { "s" };
            println!(
                "{} release{plural} checked: {ok} ok, {failed} failed, {unverified} cannot verify",
                verdicts.len()
            );
        }
        if !without_digests.is_empty() {
            let (count, has) = match without_digests.len() {
                1 => ("1 release has".to_owned(), "its"),
                n => (format!("{n} releases have"), "their"),
            };
            // Named up to a screenful; each release's own line (above) names it anyway.
            const NAMED: usize = 10;
            let mut named = without_digests[..without_digests.len().min(NAMED)].join(", ");
            if without_digests.len() > NAMED {
                named.push_str(&format!(" and {} more", without_digests.len() - NAMED));
            }
            ui.notice(&format!(
                "{count} no archive digests yet ({named}): only {has} tree ids were checked; \
                 `git release evidence collect <tag> --archives` records them"
            ));
        }
    }
    Ok(if failed > 0 {
        Exit::Failure
    } else {
        Exit::Success
    })
}

fn print_verdict(ui: &Ui, verdict: &Verdict, archives: bool) {
    print_status(ui, verdict, archives);
    if !ui.quiet {
        for notice in &verdict.notices {
            println!("  · {}", terminal(notice));
        }
    }
    // Which rule a protected release passed, and on whose signature: what the
    // signature lines below (checked against git's own allowed signers) do not say.
    if let Some(pass) = verdict.protected.as_ref().filter(|_| !ui.quiet) {
        println!(
            "  · protected by {}: {}",
            terminal(&pass.rule),
            terminal(&pass.by)
        );
    }
    // Who signed what, for every release that has a signature.
    let signed = verdict
        .signatures
        .iter()
        .any(|s| !matches!(s.state, verify::SignatureState::Unsigned));
    if signed && (!ui.quiet || verdict.failed()) {
        for signature in &verdict.signatures {
            println!("  · {}", terminal(&signature.describe()));
        }
    }
}

fn print_status(ui: &Ui, verdict: &Verdict, archives: bool) {
    if verdict.failed() {
        println!(
            "{}  {}",
            terminal(&verdict.subject),
            ui.paint(Style::Red, "FAILED")
        );
        for problem in &verdict.problems {
            println!("  - {}", terminal(&problem.to_string()));
        }
    } else if !verdict.cannot_verify.is_empty() {
        println!(
            "{}  {}",
            terminal(&verdict.subject),
            ui.paint(Style::Yellow, "ok, not everything could be verified")
        );
        for reason in &verdict.cannot_verify {
            println!("  - cannot verify: {}", terminal(reason));
        }
    } else if !ui.quiet {
        let what = if archives && verdict.archives_verified {
            "ok (archives match)"
        } else if archives && lacks_digests(verdict) {
            "ok (no archive digests yet)"
        } else {
            "ok"
        };
        println!("{}  {what}", terminal(&verdict.subject));
    }
}

/// A release whose evidence checked out but records no archive digests to compare.
fn lacks_digests(verdict: &Verdict) -> bool {
    !verdict.failed() && verdict.cannot_verify.is_empty() && !verdict.archive_digests
}

#[derive(Serialize)]
struct Report<'a> {
    releases: Vec<ReleaseReport<'a>>,
    summary: Summary,
    archives: bool,
    protected_tags: ProtectedTagsReport,
}

/// Where the protected-tag rules came from, and how many there are.
#[derive(Serialize)]
struct ProtectedTagsReport {
    source: String,
    reason: String,
    rules: usize,
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    ok: usize,
    failed: usize,
    cannot_verify: usize,
    /// With --archives: releases whose evidence records no archive digests.
    without_archive_digests: usize,
}

#[derive(Serialize)]
struct ReleaseReport<'a> {
    tag: &'a str,
    /// `ok`, `failed` or `cannot_verify`.
    status: &'static str,
    problems: Vec<ProblemReport>,
    cannot_verify: &'a [String],
    notices: &'a [String],
    archives_verified: bool,
    /// Whether any of its snapshots records archive digests.
    archive_digests: bool,
    signatures: Vec<SignatureJson>,
    /// On a protected tag whose rule is satisfied: the rule and the signature that did.
    protected: Option<ProtectedJson>,
}

#[derive(Serialize)]
struct ProtectedJson {
    rule: String,
    signed_by: String,
}

#[derive(Serialize)]
struct SignatureJson {
    subject: String,
    /// `good`, `untrusted`, `bad`, `unsigned` or `unchecked`.
    status: &'static str,
    format: Option<&'static str>,
    signer: Option<String>,
    key: Option<String>,
}

#[derive(Serialize)]
struct ProblemReport {
    kind: &'static str,
    message: String,
}

impl<'a> From<&'a Verdict> for ReleaseReport<'a> {
    fn from(v: &'a Verdict) -> Self {
        ReleaseReport {
            tag: &v.subject,
            status: if v.failed() {
                "failed"
            } else if !v.cannot_verify.is_empty() {
                "cannot_verify"
            } else {
                "ok"
            },
            problems: v
                .problems
                .iter()
                .map(|p| ProblemReport {
                    kind: p.kind(),
                    message: p.to_string(),
                })
                .collect(),
            cannot_verify: &v.cannot_verify,
            notices: &v.notices,
            archives_verified: v.archives_verified,
            archive_digests: v.archive_digests,
            signatures: v
                .signatures
                .iter()
                .map(|s| {
                    let checked = match &s.state {
                        verify::SignatureState::Checked(c) => Some(c),
                        _ => None,
                    };
                    SignatureJson {
                        subject: s.subject.clone(),
                        status: s.status(),
                        format: checked.map(|c| c.format.name()),
                        signer: checked.and_then(|c| c.signer.clone()),
                        key: checked.and_then(|c| c.key.clone()),
                    }
                })
                .collect(),
            protected: v.protected.as_ref().map(|p| ProtectedJson {
                rule: p.rule.clone(),
                signed_by: p.by.clone(),
            }),
        }
    }
}

/// A progress bar on stderr, drawn only on a terminal.
struct Bar {
    enabled: bool,
    bar: RefCell<Option<indicatif::ProgressBar>>,
}

impl VerifyProgress for Bar {
    fn start(&self, total: u64) {
        if !self.enabled {
            return;
        }
        let bar = indicatif::ProgressBar::new(total);
        let style = indicatif::ProgressStyle::with_template("verifying {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        *self.bar.borrow_mut() = Some(bar);
    }

    fn done(&self, subject: &str) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            bar.set_message(subject.to_owned());
            bar.inc(1);
        }
    }
}
