//! The cheap checks of one release against the repository: the tag as recorded, the
//! evidence files' hashes and facts, the report artifacts. `check_release` is the one
//! place a release is audited: the pre-push hook runs it on every release tag being
//! pushed, and `verify` builds on it. Each check adds `Problem`s; a new kind of check
//! adds a variant and a few lines here. Apart from `verify`, so that the protected-tag
//! guard (which `verify` runs) can trust evidence the way `verify` does.

use std::fmt;

use git2::Oid;

use crate::digest::sha256_hex;
use crate::git::repo::Repo;
use crate::model::EvidenceRef;
use crate::model::TagName;
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
    /// The release names a group milestone its group's repository (here) no longer
    /// has: deleted in the group, or the release came from elsewhere.
    GroupMilestoneMissing {
        tag: String,
        title: String,
        group: String,
    },
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
    /// The release is on a protected tag, and neither the tag nor (where the rule
    /// takes it) its evidence is signed by a key the rule allows.
    ProtectedTag {
        tag: String,
        /// The rule, with where it was read.
        rule: String,
        reason: String,
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
            | Problem::ProtectedTag { tag, .. }
            | Problem::PackageMissing { tag, .. }
            | Problem::PackageDifferent { tag, .. }
            | Problem::GroupMilestoneMissing { tag, .. }
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
            Problem::GroupMilestoneMissing { .. } => "group_milestone_missing",
            Problem::ProtectedTag { .. } => "protected_tag",
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
            Problem::GroupMilestoneMissing { tag, title, group } => write!(
                f,
                "release {tag} names the group milestone {title:?}, which {group} does not have; \
                 fix: recreate it in the group (`git release milestone --group create`), or name \
                 the release's milestones again (`git release update {tag} --clear-milestones`, \
                 then `--milestone`)"
            ),
            Problem::Derived { detail, fix, .. } => write!(f, "{detail}; fix: {fix}"),
            Problem::PackageMissing { tag, link, reason } => write!(
                f,
                "package link {link:?} of release {tag} is missing: {reason}"
            ),
            Problem::PackageDifferent {
                tag,
                link,
                expected,
                actual,
            } => write!(
                f,
                "package link {link:?} of release {tag} has SHA-256 {actual}, but {expected} is recorded"
            ),
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
            Problem::ProtectedTag { tag, rule, reason } => write!(
                f,
                "release {tag} is on a tag protected by {rule}, and nothing a key it allows signed vouches for it: {reason}"
            ),
        }
    }
}

pub(crate) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Every problem with one release. Cheap: ref lookups, the record and its evidence
/// files (small JSON), no archive work, so that the pre-push hook stays fast.
pub fn check_release(repo: &Repo, found: &Found) -> Vec<Problem> {
    match Snapshot::read(repo.git()) {
        Ok(snapshot) => check_release_in(repo, &snapshot, found),
        Err(e) => vec![Problem::Corrupt {
            tag: found.tag.to_string(),
            reason: e.with_causes(),
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

pub(crate) fn check_tag(found: &Found) -> Vec<Problem> {
    let tag = &found.tag;
    let release = &found.release;
    let mut problems = Vec::new();
    match &found.tag_state {
        TagState::Missing => problems.push(Problem::TagMissing {
            tag: tag.to_string(),
        }),
        TagState::Moved { commit } => problems.push(Problem::TagMoved {
            tag: tag.to_string(),
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
            tag: found.tag.to_string(),
            recorded: release.commit.to_string(),
            now: commit.to_string(),
        }],
        _ => check_target(&found.tag, release.tag_target, pushed),
    }
}

fn check_target(tag: &TagName, recorded: Oid, now: Oid) -> Vec<Problem> {
    if now == recorded {
        return Vec::new();
    }
    vec![Problem::TagReplaced {
        tag: tag.to_string(),
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
            tag: tag.to_string(),
            sha: sha.clone(),
            filepath: reference.filepath.clone(),
        });
    }
    let bytes = match snapshot.file(&reference.filepath) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return fail(Problem::EvidenceMissing {
                tag: tag.to_string(),
                sha: sha.clone(),
                filepath: reference.filepath.clone(),
            });
        }
        Err(e) => {
            return fail(Problem::EvidenceUnreadable {
                tag: tag.to_string(),
                sha: sha.clone(),
                reason: e.with_causes(),
            });
        }
    };
    let actual = sha256_hex(&bytes);
    if &actual != sha {
        return fail(Problem::EvidenceTampered {
            tag: tag.to_string(),
            sha: sha.clone(),
            filepath: reference.filepath.clone(),
            actual,
        });
    }
    let evidence = match evidence::parse(&bytes, &reference.filepath) {
        Ok(evidence) => evidence,
        Err(e) => {
            return fail(Problem::EvidenceUnreadable {
                tag: tag.to_string(),
                sha: sha.clone(),
                reason: e.with_causes(),
            });
        }
    };
    let facts = &evidence.git_release;
    let release = &found.release;
    let mut problems = Vec::new();
    let mut disagree = |fact, recorded: &str, now: &str| {
        if recorded != now {
            problems.push(Problem::EvidenceDisagrees {
                tag: tag.to_string(),
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
pub fn check_artifacts(
    snapshot: &Snapshot<'_>,
    tag: &TagName,
    evidence: &Evidence,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for artifact in &evidence.release.report_artifacts {
        let missing = || Problem::ArtifactMissing {
            tag: tag.to_string(),
            name: artifact.name.clone(),
            filepath: artifact.filepath.clone(),
        };
        match snapshot.file(&artifact.filepath) {
            Ok(Some(bytes)) => {
                let actual = sha256_hex(&bytes);
                if actual != artifact.sha256 {
                    problems.push(Problem::ArtifactTampered {
                        tag: tag.to_string(),
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
