//! `git release verify`: every release checked offline (the checks of `checks`, the
//! archives rebuilt and compared, the signatures verified, the protected-tag rules
//! applied), as a verdict per release.

use git2::Oid;

use crate::audit::checks::{Problem, check_artifacts, check_evidence, check_tag, short};
use crate::audit::protected::{Finding, Guard};
use crate::git::protection::{RulesChoice, RulesSource};
use crate::git::repo::Repo;
use crate::git::sign::{self, Checked, Outcome, Verifier};
use crate::model::EvidenceRef;
use crate::model::evidence::{self, Evidence};
use crate::model::{ArchiveFormat, Found, ProtectedTags, RecordedFormat, TagName};
use crate::store::{NOTES_REF, Snapshot};

/// Which releases `verify` checks.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Tags(Vec<TagName>),
}

/// The outcome for one release (or one unreadable note).
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The tag, or where an unreadable note sits.
    pub subject: String,
    pub problems: Vec<Problem>,
    /// Why the archives could not be checked (not a failure).
    pub cannot_verify: Vec<String>,
    /// Whether source archives were regenerated and matched.
    pub archives_verified: bool,
    /// Whether any trustworthy snapshot records archive digests (else only tree
    /// snapshots: `verify --archives` has nothing to regenerate and compare).
    pub archive_digests: bool,
    /// What each signature (tag, evidence files) came out as.
    pub signatures: Vec<SignatureReport>,
    /// What is worth saying but is no failure: a linked package file not fetched here.
    pub notices: Vec<String>,
    /// On a protected tag whose rule a signature satisfied: the rule (with where it
    /// was read) and what carried the signature, whose it is.
    pub protected: Option<ProtectedPass>,
}

/// Why a release on a protected tag passes: the rule, and the allowed signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedPass {
    pub rule: String,
    pub by: String,
}

/// One signature of a release: of its tag, or of one evidence file.
#[derive(Debug, Clone)]
pub struct SignatureReport {
    /// `tag v1.0`, or `evidence 0123456789ab`.
    pub subject: String,
    pub state: SignatureState,
}

#[derive(Debug, Clone)]
pub enum SignatureState {
    Unsigned,
    Checked(Checked),
    /// The signature could not be checked here (no program to check it with).
    Unchecked(String),
}

impl SignatureReport {
    /// A line for people: who signed, with which key, and whether it is trusted.
    pub fn describe(&self) -> String {
        match &self.state {
            SignatureState::Unsigned => format!("{} is not signed", self.subject),
            SignatureState::Checked(c) => match c.outcome {
                Outcome::Good => format!("{} signed by {}", self.subject, c.who()),
                Outcome::Untrusted => format!(
                    "{} signed by {}, not allowed ({})",
                    self.subject,
                    c.who(),
                    c.detail
                ),
                Outcome::Bad => format!("{} has a bad signature", self.subject),
            },
            SignatureState::Unchecked(why) => {
                format!("{}: signature not checked: {why}", self.subject)
            }
        }
    }

    /// `good`, `untrusted`, `bad`, `unsigned` or `unchecked` (`--json`).
    pub fn status(&self) -> &'static str {
        match &self.state {
            SignatureState::Unsigned => "unsigned",
            SignatureState::Checked(c) => match c.outcome {
                Outcome::Good => "good",
                Outcome::Untrusted => "untrusted",
                Outcome::Bad => "bad",
            },
            SignatureState::Unchecked(_) => "unchecked",
        }
    }
}

impl Verdict {
    fn new(subject: impl Into<String>) -> Self {
        Verdict {
            subject: subject.into(),
            problems: Vec::new(),
            cannot_verify: Vec::new(),
            archives_verified: false,
            archive_digests: false,
            signatures: Vec::new(),
            notices: Vec::new(),
            protected: None,
        }
    }

    pub fn failed(&self) -> bool {
        !self.problems.is_empty()
    }
}

/// Told how far `verify` has got (releases done, of how many).
pub trait VerifyProgress {
    fn start(&self, _total: u64) {}
    fn done(&self, _subject: &str) {}
}

impl VerifyProgress for crate::archive::Silent {}

/// How `verify` checks.
#[derive(Debug, Clone)]
pub struct Options {
    /// Regenerate the source archives and compare them with the evidence.
    pub archives: bool,
    /// `--require-signed`.
    pub require_signed: bool,
    /// Which protected-tag rules every release is held to.
    pub rules: RulesChoice,
}

/// What `verify` found: a verdict per release, and the protected-tag rules used.
#[derive(Debug)]
pub struct Audit {
    pub verdicts: Vec<Verdict>,
    pub rules: ProtectedTags,
    pub rules_source: RulesSource,
}

/// The offline audit: every selected release checked against the repository and the
/// protected-tag rules; with `archives`, its source archives regenerated and compared
/// with every digest its evidence records.
pub fn verify(
    repo: &Repo,
    selection: &Selection,
    options: &Options,
    progress: &dyn VerifyProgress,
) -> crate::Result<Audit> {
    let (archives, require_signed) = (options.archives, options.require_signed);
    let snapshot = Snapshot::read(repo.git())?;
    let verifier = Verifier::configured(repo)?;
    let guard = Guard::load(repo, &options.rules)?;
    let now = crate::time::Timestamp::now()?;
    let urls =
        crate::package::PackageUrls::for_project(&crate::git::project::Project::resolve(repo)?);
    let mut verdicts = Vec::new();
    let mut founds = Vec::new();
    match selection {
        Selection::All => {
            let listing = crate::release::list(repo)?;
            for error in listing.problems {
                let subject = match &error {
                    crate::Error::Corrupt { location, .. }
                    | crate::Error::SchemaTooNew { location, .. } => location.clone(),
                    _ => NOTES_REF.to_owned(),
                };
                let mut verdict = Verdict::new(subject.clone());
                verdict.problems.push(Problem::Corrupt {
                    tag: subject,
                    reason: error.with_causes(),
                });
                verdicts.push(verdict);
            }
            for tag in listing.orphaned {
                let mut verdict = Verdict::new(tag.clone());
                verdict.problems.push(Problem::TagMissing { tag });
                verdicts.push(verdict);
            }
            founds = listing.releases;
            let subject = format!("{NOTES_REF} (the store's rules)");
            let mut verdict = Verdict::new(subject.clone());
            match crate::store::check_store(&snapshot) {
                Ok(found) => verdict
                    .problems
                    .extend(found.into_iter().map(|p| Problem::Derived {
                        tag: subject.clone(),
                        detail: p.to_string(),
                        fix: p.fix(),
                    })),
                Err(e) => verdict.problems.push(Problem::Corrupt {
                    tag: subject.clone(),
                    reason: e.with_causes(),
                }),
            }
            if !verdict.problems.is_empty() {
                verdicts.push(verdict);
            }
        }
        Selection::Tags(tags) => {
            for tag in tags {
                match crate::release::find_any(repo, tag) {
                    Ok(Some(found)) => founds.push(found),
                    Ok(None) => {
                        let mut verdict = Verdict::new(tag.to_string());
                        verdict.problems.push(Problem::Corrupt {
                            tag: tag.to_string(),
                            reason: "no release with this tag".into(),
                        });
                        verdicts.push(verdict);
                    }
                    Err(e) => {
                        let mut verdict = Verdict::new(tag.to_string());
                        verdict.problems.push(Problem::Corrupt {
                            tag: tag.to_string(),
                            reason: e.with_causes(),
                        });
                        verdicts.push(verdict);
                    }
                }
            }
        }
    }
    founds.sort_by(|a, b| a.tag.cmp(&b.tag));
    // The project's group milestones, read once where a release names one.
    let group = match founds
        .iter()
        .any(|f| !f.release.group_milestones.is_empty())
    {
        true => crate::release::group::GroupMilestones::load(repo),
        false => Ok(None),
    };
    progress.start(founds.len() as u64);
    for found in &founds {
        let mut verdict = verify_release(
            repo,
            &snapshot,
            found,
            archives,
            &Signatures {
                verifier: &verifier,
                require: require_signed,
                now: Some(now),
            },
        );
        let recorded = found.release.tag_target;
        match guard.check(&found.tag, recorded, Some((&snapshot, found))) {
            Some(Finding::Refused { rule, reason }) => {
                verdict.problems.push(Problem::ProtectedTag {
                    tag: found.tag.to_string(),
                    rule,
                    reason,
                });
            }
            Some(Finding::Allowed { rule, by }) => {
                verdict.protected = Some(ProtectedPass { rule, by });
            }
            None => {}
        }
        let packages = super::packages::check_packages(repo, &snapshot, &urls, found);
        verdict.problems.extend(packages.problems);
        verdict.notices.extend(packages.notices);
        verdict.cannot_verify.extend(packages.unchecked);
        check_group_milestones(&group, found, &mut verdict);
        verdicts.push(verdict);
        progress.done(&found.tag);
    }
    Ok(Audit {
        verdicts,
        rules: guard.rules.tags,
        rules_source: guard.rules.source,
    })
}

/// The group milestones `found` names, against its group's repository: one it no
/// longer has is a problem; when the repository is not here (or cannot be found), a
/// notice says they were not checked.
fn check_group_milestones(
    group: &crate::Result<Option<crate::release::group::GroupMilestones>>,
    found: &Found,
    verdict: &mut Verdict,
) {
    let named = &found.release.group_milestones;
    if named.is_empty() {
        return;
    }
    let why_not = match group {
        Ok(Some(group)) if group.at_hand() => {
            for kept in named {
                if group.by_key(kept.key).is_none() {
                    verdict.problems.push(Problem::GroupMilestoneMissing {
                        tag: found.tag.to_string(),
                        title: kept.title.clone(),
                        group: group.group.describe(),
                    });
                }
            }
            return;
        }
        Ok(Some(group)) => format!("{} is not here", group.group.describe()),
        Ok(None) => "the project is in no group here".to_owned(),
        Err(e) => format!("its group repository cannot be found ({e})"),
    };
    verdict.notices.push(format!(
        "{} group milestone(s) not checked: {why_not}",
        named.len()
    ));
}

/// How `verify` treats signatures.
pub struct Signatures<'a> {
    pub verifier: &'a Verifier,
    /// `--require-signed`: unsigned and untrusted are failures too.
    pub require: bool,
    /// What "due" means for a release without evidence (`None`: tags only).
    pub now: Option<crate::time::Timestamp>,
}

impl Signatures<'_> {
    /// Adds the report of one signature to `verdict`, and its problem if any.
    fn record(&self, verdict: &mut Verdict, tag: &str, report: SignatureReport) {
        let subject = report.subject.clone();
        match &report.state {
            SignatureState::Unsigned if self.require => verdict.problems.push(Problem::Unsigned {
                tag: tag.to_owned(),
                subject,
            }),
            SignatureState::Unsigned => {}
            SignatureState::Checked(c) => match c.outcome {
                Outcome::Good => {}
                Outcome::Untrusted if self.require => {
                    verdict.problems.push(Problem::SignatureUntrusted {
                        tag: tag.to_owned(),
                        subject,
                        who: c.who(),
                        detail: c.detail.clone(),
                    })
                }
                Outcome::Untrusted => {}
                Outcome::Bad => verdict.problems.push(Problem::SignatureBad {
                    tag: tag.to_owned(),
                    subject,
                    detail: if c.detail.is_empty() {
                        "it does not match".into()
                    } else {
                        c.detail.clone()
                    },
                }),
            },
            SignatureState::Unchecked(why) if self.require => {
                verdict.problems.push(Problem::SignatureUntrusted {
                    tag: tag.to_owned(),
                    subject,
                    who: "an unchecked key".into(),
                    detail: why.clone(),
                })
            }
            SignatureState::Unchecked(why) => verdict.cannot_verify.push(format!(
                "the signature of {subject} cannot be checked: {why}"
            )),
        }
        verdict.signatures.push(report);
    }
}

/// The signature of the tag object the release recorded (a lightweight tag has none).
pub fn tag_signature(repo: &Repo, verifier: &Verifier, found: &Found) -> Option<SignatureReport> {
    let recorded = found.release.tag_target;
    let subject = format!("tag {}", found.tag);
    let state = match crate::git::tag::signature(repo, recorded) {
        // The object is gone: the tag problems say what happened to it.
        Err(_) => return None,
        Ok(None) => SignatureState::Unsigned,
        Ok(Some(signed)) => match verifier.check(
            &signed.payload,
            &signed.signature,
            sign::GIT_NAMESPACE,
            signed.tagger_time,
        ) {
            Ok(checked) => SignatureState::Checked(checked),
            Err(e) => SignatureState::Unchecked(e.to_string()),
        },
    };
    Some(SignatureReport { subject, state })
}

/// The problem, if any, with the signature of `object`, pushed as tag `tag`, when
/// signed tags are required (`release.requireSignedTags`): unsigned, untrusted and bad
/// signatures are all refused.
pub fn check_required_tag_signature(
    repo: &Repo,
    verifier: &Verifier,
    tag: &str,
    object: Oid,
) -> Option<Problem> {
    let subject = format!("tag {tag}");
    let state = match crate::git::tag::signature(repo, object) {
        Err(e) => SignatureState::Unchecked(e.to_string()),
        Ok(None) => SignatureState::Unsigned,
        Ok(Some(signed)) => match verifier.check(
            &signed.payload,
            &signed.signature,
            sign::GIT_NAMESPACE,
            signed.tagger_time,
        ) {
            Ok(checked) => SignatureState::Checked(checked),
            Err(e) => SignatureState::Unchecked(e.to_string()),
        },
    };
    let mut verdict = Verdict::new(tag);
    Signatures {
        verifier,
        require: true,
        now: None,
    }
    .record(&mut verdict, tag, SignatureReport { subject, state });
    verdict.problems.into_iter().next()
}

/// The signature stored beside an evidence file, over its exact bytes.
fn evidence_signature(
    snapshot: &Snapshot<'_>,
    verifier: &Verifier,
    reference: &EvidenceRef,
) -> SignatureReport {
    let subject = format!("evidence {}", short(&reference.sha));
    let state = match snapshot.file(&evidence::signature_path(&reference.sha)) {
        Ok(Some(signature)) => match snapshot.file(&reference.filepath) {
            Ok(Some(bytes)) => match verifier.check(&bytes, &signature, sign::NAMESPACE, None) {
                Ok(checked) => SignatureState::Checked(checked),
                Err(e) => SignatureState::Unchecked(e.to_string()),
            },
            _ => SignatureState::Unchecked("the evidence file is unreadable".into()),
        },
        Ok(None) => SignatureState::Unsigned,
        Err(e) => SignatureState::Unchecked(e.to_string()),
    };
    SignatureReport { subject, state }
}

fn verify_release(
    repo: &Repo,
    snapshot: &Snapshot<'_>,
    found: &Found,
    archives: bool,
    signatures: &Signatures<'_>,
) -> Verdict {
    let mut verdict = Verdict::new(found.tag.clone());
    verdict.problems = check_tag(found);
    let mut trusted = 0;
    // Archive snapshots, newest first: every recorded digest is compared.
    let mut with_digests: Vec<(crate::time::Timestamp, Evidence)> = Vec::new();
    if let Some(report) = tag_signature(repo, signatures.verifier, found) {
        signatures.record(&mut verdict, &found.tag, report);
    }
    for reference in &found.release.evidences {
        let checked = check_evidence(repo, snapshot, found, reference);
        let trustworthy = checked.problems.is_empty() && checked.evidence.is_some();
        verdict.problems.extend(checked.problems);
        if trustworthy {
            let report = evidence_signature(snapshot, signatures.verifier, reference);
            signatures.record(&mut verdict, &found.tag, report);
        }
        if let Some(evidence) = checked.evidence {
            verdict
                .problems
                .extend(check_artifacts(snapshot, &found.tag, &evidence));
            trusted += 1;
            if evidence.git_release.archives.digests.is_some() {
                with_digests.push((reference.collected_at, evidence));
            }
        }
    }
    // Signed evidence is what vouches for the record; a due release without any
    // fails the requirement (an upcoming one gets its snapshot when its date comes).
    if signatures.require
        && found.release.evidences.is_empty()
        && signatures
            .now
            .is_some_and(|now| !found.release.is_upcoming(now))
    {
        verdict.problems.push(Problem::NoEvidence {
            tag: found.tag.to_string(),
        });
    }
    verdict.archive_digests = !with_digests.is_empty();
    if archives {
        if trusted == 0 {
            verdict
                .cannot_verify
                .push("no trustworthy evidence to compare the archives with".into());
        } else if !with_digests.is_empty() {
            with_digests.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
            let snapshots: Vec<&Evidence> = with_digests.iter().map(|(_, e)| e).collect();
            check_archives(repo, found, &snapshots, &mut verdict);
        }
        // Tree snapshots only: their tree id was checked above, and it fixes the
        // archives' bytes; the report says that no digests exist yet.
    }
    verdict
}

/// Adds `item` unless it is there already (several snapshots may say the same thing).
fn push_once<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Regenerates the source archives each archive snapshot describes (once per prefix
/// and list of formats) and compares digests. Archives that depend on refs or on
/// absent LFS objects cannot prove anything either way: they are reported as such,
/// never as a forgery. Each snapshot goes through the steps below; a step that says
/// why it cannot go on ends that snapshot's check.
fn check_archives(repo: &Repo, found: &Found, snapshots: &[&Evidence], verdict: &mut Verdict) {
    let mut remade = Remade::default();
    let before = verdict.problems.len();
    let mut compared = false;
    for evidence in snapshots {
        let facts = &evidence.git_release;
        // A tree snapshot records no archive digests: nothing to compare.
        let Some(recorded) = &facts.archives.digests else {
            continue;
        };
        if let Some(why) = why_recorded_cannot_be_checked(facts, recorded) {
            push_once(&mut verdict.cannot_verify, why);
            continue;
        }
        let formats = match recorded_formats(found, recorded) {
            Ok(formats) => formats,
            Err(problems) => {
                for problem in problems {
                    push_once(&mut verdict.problems, problem);
                }
                continue;
            }
        };
        let report = match remade.get(repo, facts, formats) {
            Ok(report) => report,
            Err(why) => {
                push_once(
                    &mut verdict.cannot_verify,
                    format!("the archives cannot be made here: {why}"),
                );
                continue;
            }
        };
        if let Some(why) = why_remade_cannot_be_compared(report) {
            push_once(&mut verdict.cannot_verify, why);
            continue;
        }
        for problem in compare_digests(found, recorded, report) {
            push_once(&mut verdict.problems, problem);
        }
        compared = true;
    }
    verdict.archives_verified = compared && verdict.problems.len() == before;
}

/// Why the recorded digests cannot be compared with anything this version makes: made
/// by another archive format version, or from bytes that were not the tree's alone
/// (expanded refs, absent LFS objects).
fn why_recorded_cannot_be_checked(
    facts: &evidence::Facts,
    recorded: &evidence::ArchiveDigests,
) -> Option<String> {
    if facts.archive_format_version != evidence::ARCHIVE_FORMAT_VERSION {
        return Some(format!(
            "the archives were recorded with archive format version {}, this git-release makes version {}",
            facts.archive_format_version,
            evidence::ARCHIVE_FORMAT_VERSION
        ));
    }
    if let Some(why) = depends_on_refs(&recorded.ref_dependent) {
        return Some(why);
    }
    if !recorded.lfs_missing.is_empty() {
        return Some(format!(
            "the archives were made without Git LFS objects for {}",
            recorded.lfs_missing.join(", ")
        ));
    }
    None
}

/// The formats the snapshot recorded, in its order; a format this version does not
/// know is a corrupt record (one problem per unknown name).
fn recorded_formats(
    found: &Found,
    recorded: &evidence::ArchiveDigests,
) -> Result<Vec<crate::model::ArchiveFormat>, Vec<Problem>> {
    let mut formats = Vec::new();
    let mut unknown = Vec::new();
    for file in &recorded.files {
        match &file.format {
            RecordedFormat::Known(format) => formats.push(*format),
            RecordedFormat::Unknown(name) => unknown.push(Problem::Corrupt {
                tag: found.tag.to_string(),
                reason: format!("its evidence names an unknown archive format {name:?}"),
            }),
        }
    }
    if unknown.is_empty() {
        Ok(formats)
    } else {
        Err(unknown)
    }
}

/// The archives made here, once per prefix and list of formats (several snapshots of
/// one release usually record the same ones).
#[derive(Default)]
struct Remade {
    made: Vec<(
        String,
        Vec<crate::model::ArchiveFormat>,
        Result<crate::archive::Report, String>,
    )>,
}

impl Remade {
    fn get(
        &mut self,
        repo: &Repo,
        facts: &evidence::Facts,
        formats: Vec<crate::model::ArchiveFormat>,
    ) -> &Result<crate::archive::Report, String> {
        let prefix = &facts.archives.prefix;
        let index = match self
            .made
            .iter()
            .position(|(p, f, _)| p == prefix && *f == formats)
        {
            Some(index) => index,
            None => {
                let report = crate::archive::digests(
                    repo,
                    &facts.commit,
                    prefix,
                    crate::archive::Mode::Canonical,
                    &formats,
                )
                .map_err(|e| e.with_causes());
                self.made.push((prefix.clone(), formats, report));
                self.made.len() - 1
            }
        };
        &self.made[index].2
    }
}

/// Why archives made here prove nothing either way: their bytes depend on this
/// clone's refs or lack its absent LFS objects.
fn why_remade_cannot_be_compared(report: &crate::archive::Report) -> Option<String> {
    if let Some(why) = depends_on_refs(&report.ref_dependent) {
        return Some(why);
    }
    if !report.lfs_missing.is_empty() {
        return Some(format!(
            "Git LFS objects are missing from this clone for {}",
            report.lfs_missing.join(", ")
        ));
    }
    None
}

/// A mismatch for every recorded digest the archives made here do not have.
fn compare_digests(
    found: &Found,
    recorded: &evidence::ArchiveDigests,
    report: &crate::archive::Report,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut mismatch = |format: String, recorded: &str, now: &str| {
        if recorded != now {
            problems.push(Problem::ArchiveMismatch {
                tag: found.tag.to_string(),
                format,
                recorded: recorded.to_owned(),
                now: now.to_owned(),
            });
        }
    };
    // The uncompressed tar is the `tar` file itself when that format was recorded:
    // compare it once.
    let tar_recorded = recorded
        .files
        .iter()
        .any(|f| f.format == RecordedFormat::Known(ArchiveFormat::Tar));
    if let (Some(recorded), Some(now), false) = (&recorded.tar, &report.tar, tar_recorded) {
        mismatch("uncompressed tar".into(), &recorded.sha256, &now.sha256);
    }
    for (file, written) in recorded.files.iter().zip(&report.outputs) {
        mismatch(file.format.to_string(), &file.sha256, &written.sha256);
    }
    problems
}

/// Why archives whose export-subst files expand refs cannot be compared: their bytes
/// change with the refs, not only with the tree.
fn depends_on_refs(paths: &[String]) -> Option<String> {
    (!paths.is_empty()).then(|| {
        format!(
            "the archives depend on refs (export-subst in {})",
            paths.join(", ")
        )
    })
}
