//! Offline checks that a release still matches the repository. `check_release` is the
//! one place a release is audited: the pre-push hook runs it on every release tag
//! being pushed, and `verify` builds on it. Each check adds `Problem`s; a new kind of
//! check (evidence hashes, archives) adds a variant and a few lines here.

use std::fmt;

use git2::Oid;

use crate::digest::sha256_hex;
use crate::git::repo::Repo;
use crate::git::sign::{self, Checked, Outcome, Verifier};
use crate::model::EvidenceRef;
use crate::model::evidence::{self, Evidence};
use crate::model::{Found, TagState};
use crate::store::{NOTES_REF, Snapshot};

/// One way a release no longer matches the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The tag now peels to another commit than the release was made on.
    TagMoved {
        tag: String,
        recorded: String,
        now: String,
    },
    /// The tag was deleted.
    TagMissing { tag: String },
    /// Same commit, but the tag was re-created (another tag object, or annotated ↔
    /// lightweight): what the release recorded is gone.
    TagReplaced {
        tag: String,
        recorded: String,
        now: String,
    },
    /// The store breaks one of its rules (`store::check_store`: derived data, unique
    /// names and ids, readable documents…); `tag` names the store, `fix` the command
    /// that fixes it.
    Derived {
        tag: String,
        detail: String,
        fix: String,
    },
    /// The record itself is unreadable in a way that defeats the check.
    Corrupt { tag: String, reason: String },
    /// An evidence file the release lists is not in the notes tree.
    EvidenceMissing {
        tag: String,
        sha: String,
        filepath: String,
    },
    /// An evidence file's bytes no longer hash to the sha the release lists.
    EvidenceTampered {
        tag: String,
        sha: String,
        filepath: String,
        actual: String,
    },
    /// The release lists evidence at a path that is not named by its sha.
    EvidenceMisplaced {
        tag: String,
        sha: String,
        filepath: String,
    },
    /// Evidence that hashes right but cannot be read as evidence.
    EvidenceUnreadable {
        tag: String,
        sha: String,
        reason: String,
    },
    /// An immutable fact recorded in evidence (tag, tag object, commit, tree) differs
    /// from the record or the repository.
    EvidenceDisagrees {
        tag: String,
        sha: String,
        fact: &'static str,
        evidence: String,
        now: String,
    },
    /// A report artifact listed in evidence is not in the notes tree.
    ArtifactMissing {
        tag: String,
        name: String,
        filepath: String,
    },
    /// A report artifact's bytes no longer hash to the recorded SHA-256.
    ArtifactTampered {
        tag: String,
        name: String,
        filepath: String,
        actual: String,
    },
    /// A regenerated source archive differs from the digest in the newest evidence.
    ArchiveMismatch {
        tag: String,
        format: String,
        recorded: String,
        now: String,
    },
    /// A signature (of the tag, or of an evidence file) that does not verify: the data
    /// or the signature was changed, or it was made for another namespace.
    SignatureBad {
        tag: String,
        subject: String,
        detail: String,
    },
    /// `--require-signed`: the tag or an evidence file carries no signature.
    Unsigned { tag: String, subject: String },
    /// `--require-signed`: a release that is due has no evidence snapshot, so nothing
    /// signed vouches for its record.
    NoEvidence { tag: String },
    /// `--require-signed`: a valid signature by a key nobody allowed.
    SignatureUntrusted {
        tag: String,
        subject: String,
        who: String,
        detail: String,
    },
    /// A link to one of this project's packages whose file is not recorded, or whose
    /// bytes are gone from where the record says.
    PackageMissing {
        tag: String,
        link: String,
        reason: String,
    },
    /// A linked package file whose bytes (or whose record) hash to another SHA-256
    /// than the one recorded.
    PackageDifferent {
        tag: String,
        link: String,
        expected: String,
        actual: String,
    },
}

impl Problem {
    pub fn tag(&self) -> &str {
        match self {
            Problem::TagMoved { tag, .. }
            | Problem::TagMissing { tag }
            | Problem::TagReplaced { tag, .. }
            | Problem::Corrupt { tag, .. }
            | Problem::EvidenceMissing { tag, .. }
            | Problem::EvidenceTampered { tag, .. }
            | Problem::EvidenceMisplaced { tag, .. }
            | Problem::EvidenceUnreadable { tag, .. }
            | Problem::EvidenceDisagrees { tag, .. }
            | Problem::ArtifactMissing { tag, .. }
            | Problem::ArtifactTampered { tag, .. }
            | Problem::ArchiveMismatch { tag, .. }
            | Problem::SignatureBad { tag, .. }
            | Problem::Unsigned { tag, .. }
            | Problem::NoEvidence { tag }
            | Problem::SignatureUntrusted { tag, .. }
            | Problem::PackageMissing { tag, .. }
            | Problem::PackageDifferent { tag, .. }
            | Problem::Derived { tag, .. } => tag,
        }
    }

    /// A stable name for the kind of problem (`verify --json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::TagMoved { .. } => "tag_moved",
            Problem::TagMissing { .. } => "tag_missing",
            Problem::TagReplaced { .. } => "tag_replaced",
            Problem::Corrupt { .. } => "corrupt",
            Problem::EvidenceMissing { .. } => "evidence_missing",
            Problem::EvidenceTampered { .. } => "evidence_tampered",
            Problem::EvidenceMisplaced { .. } => "evidence_misplaced",
            Problem::EvidenceUnreadable { .. } => "evidence_unreadable",
            Problem::EvidenceDisagrees { .. } => "evidence_disagrees",
            Problem::ArtifactMissing { .. } => "artifact_missing",
            Problem::ArtifactTampered { .. } => "artifact_tampered",
            Problem::ArchiveMismatch { .. } => "archive_mismatch",
            Problem::SignatureBad { .. } => "signature_bad",
            Problem::Unsigned { .. } => "unsigned",
            Problem::NoEvidence { .. } => "no_evidence",
            Problem::SignatureUntrusted { .. } => "signature_untrusted",
            Problem::Derived { .. } => "store_inconsistent",
            Problem::PackageMissing { .. } => "package_missing",
            Problem::PackageDifferent { .. } => "package_different",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TagMoved { tag, recorded, now } => write!(
                f,
                "tag {tag} was moved: it points at commit {now}, but its release was made on {recorded}"
            ),
            Problem::TagMissing { tag } => write!(f, "tag {tag} of a release was deleted"),
            Problem::TagReplaced { tag, recorded, now } => write!(
                f,
                "tag {tag} was re-created: it is {now} now, but its release recorded {recorded} (same commit)"
            ),
            Problem::Corrupt { tag, reason } => write!(f, "release {tag}: {reason}"),
            Problem::Derived { detail, fix, .. } => write!(f, "{detail}; fix: {fix}"),
            Problem::EvidenceMissing { tag, sha, filepath } => write!(
                f,
                "evidence {} of release {tag} is missing ({filepath} is not in {NOTES_REF})",
                short(sha)
            ),
            Problem::EvidenceTampered {
                tag,
                sha,
                filepath,
                actual,
            } => write!(
                f,
                "evidence {} of release {tag} was rewritten: {filepath} hashes to {actual}",
                short(sha)
            ),
            Problem::EvidenceMisplaced { tag, sha, filepath } => write!(
                f,
                "evidence {} of release {tag} is listed at {filepath}, which its sha does not name",
                short(sha)
            ),
            Problem::EvidenceUnreadable { tag, sha, reason } => write!(
                f,
                "evidence {} of release {tag} is unreadable: {reason}",
                short(sha)
            ),
            Problem::EvidenceDisagrees {
                tag,
                sha,
                fact,
                evidence,
                now,
            } => write!(
                f,
                "evidence {} of release {tag} records {fact} {evidence}, but it is {now} now",
                short(sha)
            ),
            Problem::ArtifactMissing {
                tag,
                name,
                filepath,
            } => write!(
                f,
                "artifact {name:?} of release {tag} is missing ({filepath} is not in {NOTES_REF})"
            ),
            Problem::ArtifactTampered {
                tag,
                name,
                filepath,
                actual,
            } => write!(
                f,
                "artifact {name:?} of release {tag} was rewritten: {filepath} hashes to {actual}"
            ),
            Problem::ArchiveMismatch {
                tag,
                format,
                recorded,
                now,
            } => write!(
                f,
                "the {format} source archive of release {tag} has SHA-256 {now}, but its evidence records {recorded}"
            ),
            Problem::SignatureBad {
                tag,
                subject,
                detail,
            } => write!(
                f,
                "the signature of {subject} of release {tag} does not verify: {detail}"
            ),
            Problem::Unsigned { tag, subject } => {
                write!(f, "{subject} of release {tag} is not signed")
            }
            Problem::NoEvidence { tag } => write!(
                f,
                "release {tag} has no evidence snapshot to carry a signature (take one with `git release evidence collect {} --sign`)",
                crate::text::shell_quote(tag)
            ),
            Problem::SignatureUntrusted {
                tag,
                subject,
                who,
                detail,
            } => write!(
                f,
                "{subject} of release {tag} is signed by {who}, which is not allowed: {detail}"
            ),
            Problem::PackageMissing { tag, link, reason } => {
                write!(
                    f,
                    "package link {link:?} of release {tag} is missing: {reason}"
                )
            }
            Problem::PackageDifferent {
                tag,
                link,
                expected,
                actual,
            } => write!(
                f,
                "package link {link:?} of release {tag} has SHA-256 {actual}, but {expected} is recorded"
            ),
        }
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Every problem with one release. Cheap: ref lookups, the record and its evidence
/// files (small JSON), no archive work, so that the pre-push hook stays fast.
pub fn check_release(repo: &Repo, found: &Found) -> Vec<Problem> {
    match Snapshot::read(repo.git()) {
        Ok(snapshot) => check_release_in(repo, &snapshot, found),
        Err(e) => vec![Problem::Corrupt {
            tag: found.tag.clone(),
            reason: e.to_string(),
        }],
    }
}

/// `check_release` on a snapshot read once (verify checks many releases on one).
pub fn check_release_in(repo: &Repo, snapshot: &Snapshot<'_>, found: &Found) -> Vec<Problem> {
    let mut problems = check_tag(found);
    for evidence in &found.release.evidences {
        problems.extend(check_evidence(repo, snapshot, found, evidence).problems);
    }
    problems
}

fn check_tag(found: &Found) -> Vec<Problem> {
    let tag = &found.tag;
    let release = &found.release;
    let mut problems = Vec::new();
    match &found.tag_state {
        TagState::Missing => problems.push(Problem::TagMissing { tag: tag.clone() }),
        TagState::Moved { commit } => problems.push(Problem::TagMoved {
            tag: tag.clone(),
            recorded: release.commit.to_string(),
            now: commit.to_string(),
        }),
        TagState::Intact => {
            if let Some(now) = found.tag_target {
                problems.extend(check_target(tag, release.tag_target, now));
            }
        }
    }
    problems
}

/// Whether `pushed` (the object a push sends as `refs/tags/<tag>`, which need not be
/// the local tag) is what the release of `tag` recorded.
pub fn check_pushed_target(repo: &Repo, found: &Found, pushed: Oid) -> Vec<Problem> {
    let release = &found.release;
    if pushed == release.tag_target {
        return Vec::new();
    }
    let commit = repo
        .git()
        .find_object(pushed, None)
        .and_then(|object| object.peel_to_commit())
        .map(|commit| commit.id());
    match commit {
        Ok(commit) if commit != release.commit => vec![Problem::TagMoved {
            tag: found.tag.clone(),
            recorded: release.commit.to_string(),
            now: commit.to_string(),
        }],
        _ => check_target(&found.tag, release.tag_target, pushed),
    }
}

fn check_target(tag: &str, recorded: Oid, now: Oid) -> Vec<Problem> {
    if now == recorded {
        return Vec::new();
    }
    vec![Problem::TagReplaced {
        tag: tag.to_owned(),
        recorded: recorded.to_string(),
        now: now.to_string(),
    }]
}

/// One evidence file, checked: its problems, and its content when it can be trusted
/// (present, hashing to its sha).
pub struct CheckedEvidence {
    pub problems: Vec<Problem>,
    pub evidence: Option<Evidence>,
}

/// Checks that an evidence file hashes to its sha and that its immutable facts agree
/// with the record and the repository. Name and description may change after the
/// snapshot; the tag, its object, the commit and the tree may not.
pub fn check_evidence(
    repo: &Repo,
    snapshot: &Snapshot<'_>,
    found: &Found,
    reference: &EvidenceRef,
) -> CheckedEvidence {
    let tag = &found.tag;
    let sha = &reference.sha;
    let fail = |problem| CheckedEvidence {
        problems: vec![problem],
        evidence: None,
    };
    if reference.filepath != evidence::evidence_path(sha) {
        return fail(Problem::EvidenceMisplaced {
            tag: tag.clone(),
            sha: sha.clone(),
            filepath: reference.filepath.clone(),
        });
    }
    let bytes = match snapshot.file(&reference.filepath) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return fail(Problem::EvidenceMissing {
                tag: tag.clone(),
                sha: sha.clone(),
                filepath: reference.filepath.clone(),
            });
        }
        Err(e) => {
            return fail(Problem::EvidenceUnreadable {
                tag: tag.clone(),
                sha: sha.clone(),
                reason: e.to_string(),
            });
        }
    };
    let actual = sha256_hex(&bytes);
    if &actual != sha {
        return fail(Problem::EvidenceTampered {
            tag: tag.clone(),
            sha: sha.clone(),
            filepath: reference.filepath.clone(),
            actual,
        });
    }
    let evidence = match evidence::parse(&bytes, &reference.filepath) {
        Ok(evidence) => evidence,
        Err(e) => {
            return fail(Problem::EvidenceUnreadable {
                tag: tag.clone(),
                sha: sha.clone(),
                reason: e.to_string(),
            });
        }
    };
    let facts = &evidence.git_release;
    let release = &found.release;
    let mut problems = Vec::new();
    let mut disagree = |fact, recorded: &str, now: &str| {
        if recorded != now {
            problems.push(Problem::EvidenceDisagrees {
                tag: tag.clone(),
                sha: sha.clone(),
                fact,
                evidence: recorded.to_owned(),
                now: now.to_owned(),
            });
        }
    };
    disagree("tag name", &facts.tag.name, tag);
    disagree(
        "tag object",
        &facts.tag.object,
        &release.tag_target.to_string(),
    );
    disagree("commit", &facts.commit, &release.commit.to_string());
    // The tree id is what binds a tree snapshot to the archives' bytes: it is compared
    // with the tree the tag gives now (a moved tag changes the archives, and says so
    // here too), or for a deleted tag with the recorded commit's. A shallow clone may
    // lack the commit, which is not a forgery, so only a commit present is compared.
    let tree_source = match found.tag_state {
        TagState::Moved { commit } => Some(commit),
        TagState::Intact | TagState::Missing => Oid::from_str(&facts.commit).ok(),
    };
    if let Some(oid) = tree_source {
        if let Ok(commit) = repo.git().find_commit(oid) {
            disagree("tree", &facts.tree, &commit.tree_id().to_string());
        }
    }
    CheckedEvidence {
        problems,
        evidence: Some(evidence),
    }
}

/// Checks that every report artifact listed in `evidence` is present and hashes to
/// its recorded SHA-256 (reads the artifacts: for `verify`, not the hook).
pub fn check_artifacts(snapshot: &Snapshot<'_>, tag: &str, evidence: &Evidence) -> Vec<Problem> {
    let mut problems = Vec::new();
    for artifact in &evidence.release.report_artifacts {
        let missing = || Problem::ArtifactMissing {
            tag: tag.to_owned(),
            name: artifact.name.clone(),
            filepath: artifact.filepath.clone(),
        };
        match snapshot.file(&artifact.filepath) {
            Ok(Some(bytes)) => {
                let actual = sha256_hex(&bytes);
                if actual != artifact.sha256 {
                    problems.push(Problem::ArtifactTampered {
                        tag: tag.to_owned(),
                        name: artifact.name.clone(),
                        filepath: artifact.filepath.clone(),
                        actual,
                    });
                }
            }
            Ok(None) | Err(_) => problems.push(missing()),
        }
    }
    problems
}

/// Which releases `verify` checks.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Tags(Vec<String>),
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

/// The offline audit: every selected release checked against the repository; with
/// `archives`, its source archives regenerated and compared with every digest its
/// evidence records.
pub fn verify(
    repo: &Repo,
    selection: &Selection,
    archives: bool,
    require_signed: bool,
    progress: &dyn VerifyProgress,
) -> crate::Result<Vec<Verdict>> {
    let snapshot = Snapshot::read(repo.git())?;
    let verifier = Verifier::configured(repo)?;
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
                    reason: error.to_string(),
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
                    reason: e.to_string(),
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
                        let mut verdict = Verdict::new(tag.clone());
                        verdict.problems.push(Problem::Corrupt {
                            tag: tag.clone(),
                            reason: "no release with this tag".into(),
                        });
                        verdicts.push(verdict);
                    }
                    Err(e) => {
                        let mut verdict = Verdict::new(tag.clone());
                        verdict.problems.push(Problem::Corrupt {
                            tag: tag.clone(),
                            reason: e.to_string(),
                        });
                        verdicts.push(verdict);
                    }
                }
            }
        }
    }
    founds.sort_by(|a, b| a.tag.cmp(&b.tag));
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
        check_packages(repo, &snapshot, &urls, found, &mut verdict);
        verdicts.push(verdict);
        progress.done(&found.tag);
    }
    Ok(verdicts)
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
            tag: found.tag.clone(),
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

/// Every link of the release to one of this project's packages, read whole and
/// compared with its record (and with the SHA-256 the link records, if any). A file
/// not fetched into this clone is a notice, never a failure: an ordinary clone has no
/// package bytes, and the pre-push hook must not stop it.
pub fn check_packages(
    repo: &Repo,
    snapshot: &Snapshot<'_>,
    urls: &crate::package::PackageUrls,
    found: &Found,
    verdict: &mut Verdict,
) {
    use crate::package::FileState;
    let tag = &found.tag;
    for link in &found.release.links {
        let missing = |reason: String| Problem::PackageMissing {
            tag: tag.clone(),
            link: link.name.clone(),
            reason,
        };
        let (package, file) = match crate::package::resolve_link(snapshot, urls, link) {
            Ok(Some(resolved)) => resolved,
            Ok(None) => continue,
            Err(error) => {
                verdict.problems.push(missing(error.to_string()));
                continue;
            }
        };
        if let Some(expected) = &link.sha256 {
            if !expected.eq_ignore_ascii_case(&file.file_sha256) {
                verdict.problems.push(Problem::PackageDifferent {
                    tag: tag.clone(),
                    link: link.name.clone(),
                    expected: expected.clone(),
                    actual: format!("{} (the package record's)", file.file_sha256),
                });
                continue;
            }
        }
        match crate::package::check(repo, &package, &file) {
            FileState::Matches => {}
            FileState::NotFetched => verdict.notices.push(format!(
                "package file {:?} of {} {} (link {:?}) is not fetched here \
                 (`git release fetch --packages` brings it)",
                file.file_name, package.name, package.version, link.name
            )),
            FileState::Missing(reason) => verdict.problems.push(missing(reason)),
            FileState::Different(actual) => verdict.problems.push(Problem::PackageDifferent {
                tag: tag.clone(),
                link: link.name.clone(),
                expected: file.file_sha256.clone(),
                actual,
            }),
            FileState::Unchecked(reason) => verdict.cannot_verify.push(format!(
                "package file {:?} of {} {}: {reason}",
                file.file_name, package.name, package.version
            )),
        }
    }
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
/// never as a forgery.
fn check_archives(repo: &Repo, found: &Found, snapshots: &[&Evidence], verdict: &mut Verdict) {
    type Made = (
        String,
        Vec<crate::model::ArchiveFormat>,
        Result<crate::archive::Report, String>,
    );
    let mut made: Vec<Made> = Vec::new();
    let before = verdict.problems.len();
    let mut compared = false;
    for evidence in snapshots {
        let facts = &evidence.git_release;
        let Some(recorded) = &facts.archives.digests else {
            continue;
        };
        let prefix = &facts.archives.prefix;
        if facts.archive_format_version != evidence::ARCHIVE_FORMAT_VERSION {
            push_once(
                &mut verdict.cannot_verify,
                format!(
                    "the archives were recorded with archive format version {}, this git-release makes version {}",
                    facts.archive_format_version,
                    evidence::ARCHIVE_FORMAT_VERSION
                ),
            );
            continue;
        }
        if let Some(why) = depends_on_refs(&recorded.ref_dependent) {
            push_once(&mut verdict.cannot_verify, why);
            continue;
        }
        if !recorded.lfs_missing.is_empty() {
            push_once(
                &mut verdict.cannot_verify,
                format!(
                    "the archives were made without Git LFS objects for {}",
                    recorded.lfs_missing.join(", ")
                ),
            );
            continue;
        }
        let mut formats = Vec::new();
        for file in &recorded.files {
            match file.format.parse::<crate::model::ArchiveFormat>() {
                Ok(format) => formats.push(format),
                Err(_) => push_once(
                    &mut verdict.problems,
                    Problem::Corrupt {
                        tag: found.tag.clone(),
                        reason: format!(
                            "its evidence names an unknown archive format {:?}",
                            file.format
                        ),
                    },
                ),
            }
        }
        if formats.len() != recorded.files.len() {
            continue;
        }
        let index = match made
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
                .map_err(|e| e.to_string());
                made.push((prefix.clone(), formats, report));
                made.len() - 1
            }
        };
        let report = match &made[index].2 {
            Ok(report) => report,
            Err(e) => {
                push_once(
                    &mut verdict.cannot_verify,
                    format!("the archives cannot be made here: {e}"),
                );
                continue;
            }
        };
        if let Some(why) = depends_on_refs(&report.ref_dependent) {
            push_once(&mut verdict.cannot_verify, why);
            continue;
        }
        if !report.lfs_missing.is_empty() {
            push_once(
                &mut verdict.cannot_verify,
                format!(
                    "Git LFS objects are missing from this clone for {}",
                    report.lfs_missing.join(", ")
                ),
            );
            continue;
        }
        let mut mismatch = |format: String, recorded: &str, now: &str| {
            if recorded != now {
                push_once(
                    &mut verdict.problems,
                    Problem::ArchiveMismatch {
                        tag: found.tag.clone(),
                        format,
                        recorded: recorded.to_owned(),
                        now: now.to_owned(),
                    },
                );
            }
        };
        // The uncompressed tar is the `tar` file itself when that format was recorded:
        // compare it once.
        let tar_recorded = recorded.files.iter().any(|f| f.format == "tar");
        if let (Some(recorded), Some(now), false) = (&recorded.tar, &report.tar, tar_recorded) {
            mismatch("uncompressed tar".into(), &recorded.sha256, &now.sha256);
        }
        for (file, written) in recorded.files.iter().zip(&report.outputs) {
            mismatch(file.format.clone(), &file.sha256, &written.sha256);
        }
        compared = true;
    }
    verdict.archives_verified = compared && verdict.problems.len() == before;
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
