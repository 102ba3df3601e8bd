//! Release evidence: a JSON snapshot of a release that anyone can check offline.
//!
//! GitLab's evidence `sha` is a salted hash nobody can recompute. Ours is the SHA-256
//! of the exact bytes stored at `evidence/<aa>/<sha>.json` in the notes tree, so
//! `git show refs/notes/releases:<filepath> | sha256sum` checks it. Besides GitLab's
//! shape, a snapshot records what an auditor needs to re-check the release against the
//! repository: the tag, its object, the commit and tree, the record as it was, and the
//! SHA-256 of every source archive made in the canonical mode.
//!
//! When: at `create` for a normal release, in the same notes commit; for an upcoming
//! release once `released_at` has passed, from the pending list in `project.json`
//! (`collect_due`, run by every write command); never automatically for a historical
//! release. Snapshots are only ever added, never rewritten.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use git2::Oid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::archive::{self, Format, Mode};
use crate::digest::{hex, sha256_hex};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::{EvidenceRef, Key, MilestoneFile, Release};
use crate::release::lifecycle::{self, TagState};
use crate::store::{PROJECT_PATH, PendingEvidence, ProjectData, Snapshot, Store, Transaction};
use crate::time::Timestamp;

/// Bumped whenever the bytes of the canonical archives change for the same commit
/// (a fix in the archive writers): a digest recorded under another version may then
/// differ without any forgery.
pub const ARCHIVE_FORMAT_VERSION: u32 = 1;

/// Everything one evidence file holds. Field order is the serialization order, which
/// keeps the bytes (and so the `sha`) a pure function of the content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evidence {
    /// GitLab's evidence shape.
    pub release: ReleaseSnapshot,
    /// **ours**: what lets `verify` re-check the release against the repository.
    pub git_release: Facts,
}

/// GitLab's evidence shape (`release` of its evidence JSON), with its date format
/// (`time::evidence_format`) where its documentation shows one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReleaseSnapshot {
    /// The release's id (`null` for a release recorded before ids were handed out).
    pub id: Option<u64>,
    pub tag_name: String,
    pub name: String,
    /// "" when the release has no notes, as everywhere (`NO_DESCRIPTION`).
    #[serde(deserialize_with = "string_or_null")]
    pub description: String,
    #[serde(with = "crate::time::evidence_format")]
    pub created_at: Timestamp,
    pub project: ProjectSnapshot,
    pub milestones: Vec<MilestoneSnapshot>,
    pub report_artifacts: Vec<ArtifactSnapshot>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectSnapshot {
    /// `release.projectId` (default 1), as every `project_id`.
    pub id: Option<u64>,
    pub name: String,
    /// `[project] description` / `release.description`; "" when not set.
    #[serde(deserialize_with = "string_or_null")]
    pub description: String,
    /// The first commit's time (ISO 8601, as GitLab's example shows this one).
    pub created_at: Option<Timestamp>,
}

/// Snapshots taken before descriptions were always strings hold `null` there.
fn string_or_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MilestoneSnapshot {
    pub id: u64,
    pub title: String,
    pub description: Option<String>,
    pub state: String,
    pub iid: u64,
    #[serde(with = "crate::time::evidence_format")]
    pub created_at: Timestamp,
    #[serde(with = "crate::time::evidence_format::date")]
    pub due_date: Option<NaiveDate>,
    pub issues: Vec<IssueSnapshot>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssueSnapshot {
    pub id: u64,
    pub title: String,
    pub author_name: String,
    pub author_email: String,
    pub state: String,
    #[serde(with = "crate::time::evidence_format::date")]
    pub due_date: Option<NaiveDate>,
}

/// A report file attached with `--artifact`. GitLab gives a download `url`; ours is
/// the blob at `filepath` in the notes tree (`url` stays null).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactSnapshot {
    pub url: Option<String>,
    pub name: String,
    pub filepath: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Facts {
    pub tool_version: String,
    pub archive_format_version: u32,
    pub collected_at: Timestamp,
    /// For a snapshot taken because an upcoming release became due: when it was due
    /// (`released_at` then); `collected_at` says when it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
    pub tag: TagFacts,
    pub commit: String,
    pub tree: String,
    /// The release record as stored when the snapshot was taken (earlier snapshots'
    /// refs included, so each snapshot also vouches for the ones before it).
    pub record: Value,
    pub links: Vec<LinkSnapshot>,
    pub archives: ArchiveFacts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFacts {
    pub name: String,
    /// What `refs/tags/<name>` pointed at: the tag object, or the commit.
    pub object: String,
    /// `tag` (annotated) or `commit` (lightweight).
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkSnapshot {
    pub id: u64,
    pub name: String,
    pub url: String,
    pub direct_asset_path: Option<String>,
    pub link_type: String,
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFacts {
    /// Always `canonical` (DESIGN → Archives: one canonical mode).
    pub mode: String,
    /// The prefix every path in the archives starts with (`<project>-<tag>/`).
    pub prefix: String,
    /// The uncompressed tar, which the tar.gz and tar.bz2 compress.
    pub tar: Option<ArchiveDigest>,
    pub files: Vec<ArchiveFile>,
    /// export-subst files that name refs: these archives change when refs change.
    pub ref_dependent: Vec<String>,
    /// Files archived as LFS pointers because their object was absent.
    pub lfs_missing: Vec<String>,
}

impl ArchiveFacts {
    /// Whether a later regeneration is expected to give the same bytes.
    pub fn is_reproducible(&self) -> bool {
        self.ref_dependent.is_empty() && self.lfs_missing.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveDigest {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFile {
    pub format: String,
    pub sha256: String,
    pub size: u64,
}

/// `evidence/<aa>/<sha>.json`: fanned out below a non-hex root name (DESIGN → Scale).
pub fn evidence_path(sha: &str) -> String {
    format!("evidence/{}/{sha}.json", &sha[..2.min(sha.len())])
}

/// `artifacts/<aa>/<sha>`.
pub fn artifact_path(sha: &str) -> String {
    format!("artifacts/{}/{sha}", &sha[..2.min(sha.len())])
}

/// The exact bytes stored for a snapshot: pretty-printed (2-space indent) with a
/// trailing newline, like every other JSON file of the store.
pub fn to_bytes(evidence: &Evidence) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(evidence)
        .map_err(|e| Error::Other(format!("cannot encode evidence: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn parse(bytes: &[u8], location: &str) -> Result<Evidence> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(location, e.to_string()))
}

/// The archive digests of a release's commit in the canonical mode, with the default
/// prefix `<project>-<tag>/`.
pub fn archive_facts(repo: &Repo, project: &str, tag: &str, commit: Oid) -> Result<ArchiveFacts> {
    let prefix = format!("{}/", archive::base_name(project, tag));
    let report = archive::digests(
        repo,
        &commit.to_string(),
        &prefix,
        Mode::Canonical,
        &Format::ALL,
    )?;
    Ok(ArchiveFacts {
        mode: "canonical".into(),
        prefix,
        tar: report.tar.as_ref().map(|t| ArchiveDigest {
            sha256: t.sha256.clone(),
            size: t.size,
        }),
        files: report
            .outputs
            .iter()
            .map(|w| ArchiveFile {
                format: w.format.extension().to_owned(),
                sha256: w.sha256.clone(),
                size: w.size,
            })
            .collect(),
        ref_dependent: report.ref_dependent,
        lfs_missing: report.lfs_missing,
    })
}

/// Everything a snapshot needs that is slow to compute or comes from outside the
/// store (archives, artifact files): computed once, before the store write, whose
/// closure may run more than once.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub key: Key,
    pub collected_at: Timestamp,
    /// Set for a scheduled snapshot: when it was due.
    pub due_at: Option<Timestamp>,
    pub project: ProjectSnapshot,
    pub tag: TagFacts,
    pub commit: String,
    pub tree: String,
    pub archives: ArchiveFacts,
    /// Artifact descriptions with their blobs, already in the object database.
    pub artifacts: Vec<(ArtifactSnapshot, Oid)>,
}

/// Prepares a snapshot of the release of `tag` made on `commit`, its tag pointing at
/// `tag_object`.
pub fn prepare(
    repo: &Repo,
    tag: &str,
    tag_object: Oid,
    commit: Oid,
    artifacts: &[PathBuf],
    now: Timestamp,
) -> Result<Prepared> {
    let git = repo.git();
    let kind = git
        .find_object(tag_object, None)
        .map_err(|e| {
            Error::git(
                format!("cannot read the object {tag_object} of tag {tag:?}"),
                e,
            )
        })?
        .kind()
        .map_or("unknown", |k| k.str())
        .to_owned();
    let tree = git
        .find_commit(commit)
        .map_err(|e| Error::git(format!("cannot read commit {commit} of release {tag:?}"), e))?
        .tree_id();
    let project = repo.project()?;
    let archives = archive_facts(repo, &project.name, tag, commit)?;
    let mut stored = Vec::with_capacity(artifacts.len());
    for path in artifacts {
        stored.push(store_artifact(repo, path)?);
    }
    let created_at =
        crate::git::project::Project::created_at(repo, Some(commit)).map(Timestamp::from_datetime);
    Ok(Prepared {
        key: Key::random(),
        collected_at: now,
        due_at: None,
        project: ProjectSnapshot {
            id: Some(project.id),
            name: project.name,
            description: project.description.unwrap_or_default(),
            created_at,
        },
        tag: TagFacts {
            name: tag.to_owned(),
            object: tag_object.to_string(),
            kind,
        },
        commit: commit.to_string(),
        tree: tree.to_string(),
        archives,
        artifacts: stored,
    })
}

/// Streams a file into a blob while hashing it, so that the SHA-256 recorded is that
/// of the very bytes stored, whatever the size of the file.
fn store_artifact(repo: &Repo, path: &Path) -> Result<(ArtifactSnapshot, Oid)> {
    let read_error = |source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    if file.metadata().map_err(read_error)?.is_dir() {
        return Err(Error::invalid(
            "artifact",
            path.display().to_string(),
            "it is a directory; give a file",
        ));
    }
    let git = repo.git();
    let mut writer = git
        .blob_writer(None)
        .map_err(|e| Error::git(format!("cannot store artifact {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        writer
            .write_all(&buffer[..n])
            .map_err(|e| Error::io(format!("cannot store artifact {}", path.display()), e))?;
        size += n as u64;
    }
    let blob = writer
        .commit()
        .map_err(|e| Error::git(format!("cannot store artifact {}", path.display()), e))?;
    let sha256 = hex(&hasher.finalize());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok((
        ArtifactSnapshot {
            url: None,
            filepath: artifact_path(&sha256),
            name,
            size,
            sha256,
        },
        blob,
    ))
}

/// Builds the snapshot of `release` (as it stands in this transaction), stages its
/// bytes and artifacts, and returns the ref to append to the release.
pub fn stage(
    tx: &mut Transaction<'_, '_>,
    prepared: &Prepared,
    release: &Release,
) -> Result<EvidenceRef> {
    let milestones: MilestoneFile = tx.json_file(MILESTONES_PATH)?.unwrap_or_default();
    let mut record = release.clone();
    // A creation lease is bookkeeping of one process, not part of the release.
    record.pending = None;
    let record = serde_json::to_value(&record)
        .map_err(|e| Error::Other(format!("cannot encode the release record: {e}")))?;
    let evidence = Evidence {
        release: ReleaseSnapshot {
            id: release.id,
            tag_name: prepared.tag.name.clone(),
            name: release.name.clone(),
            description: release.description_text().to_owned(),
            created_at: release.created_at,
            project: prepared.project.clone(),
            milestones: release
                .milestones
                .iter()
                .filter_map(|key| milestones.by_key(*key))
                .map(|m| MilestoneSnapshot {
                    id: m.id,
                    title: m.title.clone(),
                    description: m.description.clone(),
                    state: m.state.as_str().to_owned(),
                    iid: m.iid,
                    created_at: m.created_at,
                    due_date: m.due_date,
                    issues: m
                        .issues
                        .iter()
                        .map(|i| IssueSnapshot {
                            id: i.id,
                            title: i.title.clone(),
                            author_name: i.author_name.clone(),
                            author_email: i.author_email.clone(),
                            state: match i.state {
                                crate::model::IssueState::Opened => "opened",
                                crate::model::IssueState::Closed => "closed",
                            }
                            .to_owned(),
                            due_date: i.due_date,
                        })
                        .collect(),
                })
                .collect(),
            report_artifacts: prepared.artifacts.iter().map(|(a, _)| a.clone()).collect(),
        },
        git_release: Facts {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            archive_format_version: ARCHIVE_FORMAT_VERSION,
            collected_at: prepared.collected_at,
            due_at: prepared.due_at,
            tag: prepared.tag.clone(),
            commit: prepared.commit.clone(),
            tree: prepared.tree.clone(),
            record,
            links: release
                .links
                .iter()
                .map(|l| LinkSnapshot {
                    id: l.id,
                    name: l.name.clone(),
                    url: l.url.clone(),
                    direct_asset_path: l.direct_asset_path.clone(),
                    link_type: l.link_type.as_str().to_owned(),
                    sha256: l.sha256.clone(),
                    size: l.size,
                })
                .collect(),
            archives: prepared.archives.clone(),
        },
    };
    let bytes = to_bytes(&evidence)?;
    let sha = sha256_hex(&bytes);
    let filepath = evidence_path(&sha);
    tx.put_file(&filepath, bytes);
    for (artifact, blob) in &prepared.artifacts {
        tx.put_blob(&artifact.filepath, *blob);
    }
    unschedule_tx(tx, &prepared.tag.name)?;
    Ok(EvidenceRef {
        key: prepared.key,
        sha,
        filepath,
        collected_at: prepared.collected_at,
        extra: Map::new(),
    })
}

fn project_data(tx: &Transaction<'_, '_>) -> Result<ProjectData> {
    match tx.file(PROJECT_PATH)? {
        Some(bytes) => ProjectData::parse(&bytes),
        None => Ok(ProjectData::default()),
    }
}

/// Puts `tag` on the pending list, due at `due` (replacing an earlier entry).
pub fn schedule_tx(tx: &mut Transaction<'_, '_>, tag: &str, due: Timestamp) -> Result<()> {
    let mut data = project_data(tx)?;
    match data.pending_evidence.iter_mut().find(|p| p.tag == tag) {
        Some(entry) if entry.due == due => return Ok(()),
        Some(entry) => entry.due = due,
        None => data.pending_evidence.push(PendingEvidence {
            key: Key::random(),
            tag: tag.to_owned(),
            due,
            extra: Map::new(),
        }),
    }
    tx.put_json_file(PROJECT_PATH, &data)
}

/// Takes `tag` off the pending list, if it is on it.
pub fn unschedule_tx(tx: &mut Transaction<'_, '_>, tag: &str) -> Result<()> {
    let mut data = project_data(tx)?;
    let before = data.pending_evidence.len();
    data.pending_evidence.retain(|p| p.tag != tag);
    if data.pending_evidence.len() != before {
        tx.put_json_file(PROJECT_PATH, &data)?;
    }
    Ok(())
}

/// After `released_at` of `tag` changed: an upcoming release waits for its new date;
/// one already waiting is collected at its new date, even if that has passed.
pub fn reschedule_tx(
    tx: &mut Transaction<'_, '_>,
    release: &Release,
    tag: &str,
    now: Timestamp,
) -> Result<()> {
    let waiting = project_data(tx)?
        .pending_evidence
        .iter()
        .any(|p| p.tag == tag);
    if waiting || release.is_upcoming(now) {
        schedule_tx(tx, tag, release.released_at)?;
    }
    Ok(())
}

/// The pending list as stored.
pub fn pending(repo: &Repo) -> Result<Vec<PendingEvidence>> {
    let snapshot = Snapshot::read(repo.git())?;
    Ok(match snapshot.file(PROJECT_PATH)? {
        Some(bytes) => ProjectData::parse(&bytes)?.pending_evidence,
        None => Vec::new(),
    })
}

/// One snapshot taken.
#[derive(Debug, Clone)]
pub struct Collected {
    pub tag: String,
    pub evidence: EvidenceRef,
}

/// Takes a snapshot of the release of `tag` now, with `artifacts` attached. Refused for
/// a release that is still upcoming, and for one whose tag no longer points where the
/// release was made (the snapshot would not describe the release).
pub fn collect(repo: &Repo, tag: &str, artifacts: &[PathBuf]) -> Result<Collected> {
    collect_with(repo, tag, artifacts, None)
}

/// `collect`, for a snapshot that was scheduled for `due_at` (recorded beside the
/// time it is taken).
fn collect_with(
    repo: &Repo,
    tag: &str,
    artifacts: &[PathBuf],
    due_at: Option<Timestamp>,
) -> Result<Collected> {
    let now = Timestamp::now()?;
    let found = lifecycle::find(repo, tag)?;
    if found.release.is_upcoming(now) {
        return Err(Error::EvidenceNotDue {
            tag: tag.to_owned(),
            released_at: found.release.released_at.to_string(),
        });
    }
    if let TagState::Moved { commit } = found.tag_state {
        return Err(Error::Refused {
            action: format!("collecting evidence for release {tag:?}"),
            reason: format!(
                "its tag was moved to commit {commit}, but the release was made on {}",
                found.release.commit
            ),
        });
    }
    let Some(now_tag) = tag::resolve(repo, tag)? else {
        return Err(Error::ReleaseNotFound {
            tag: tag.to_owned(),
        });
    };
    let mut prepared = prepare(repo, tag, now_tag.target, now_tag.commit, artifacts, now)?;
    prepared.due_at = due_at;
    let evidence = lifecycle::modify_release(
        repo,
        tag,
        &format!("evidence collect {tag}"),
        |found, tx| {
            // The archives were computed for this commit; a release re-made since on
            // another commit needs a new snapshot, not this one.
            if found.release.commit != prepared.commit {
                return Err(Error::Refused {
                    action: format!("collecting evidence for release {tag:?}"),
                    reason: "the release changed while its archives were computed; try again"
                        .into(),
                });
            }
            let evidence = stage(tx, &prepared, &found.release)?;
            found.release.evidences.push(evidence.clone());
            Ok(evidence)
        },
    )?;
    Ok(Collected {
        tag: tag.to_owned(),
        evidence,
    })
}

/// What `collect_due` did.
#[derive(Debug, Default)]
pub struct DueOutcome {
    pub collected: Vec<Collected>,
    /// Releases that left the list without a snapshot (deleted, tag moved), and why.
    pub dropped: Vec<(String, String)>,
    /// Due releases whose snapshot failed; they stay on the list.
    pub failed: Vec<(String, Error)>,
}

/// Collects the evidence of every release on the pending list whose date has passed.
/// Reads only `project.json` when nothing is due, so every write command can afford it.
pub fn collect_due(repo: &Repo) -> Result<DueOutcome> {
    let now = Timestamp::now()?;
    let mut outcome = DueOutcome::default();
    let due: Vec<PendingEvidence> = pending(repo)?
        .into_iter()
        .filter(|p| p.due <= now)
        .collect();
    for entry in due {
        let tag = entry.tag.clone();
        let found = match lifecycle::find(repo, &tag) {
            Ok(found) => Some(found),
            Err(Error::ReleaseNotFound { .. }) => None,
            Err(e) => {
                outcome.failed.push((tag, e));
                continue;
            }
        };
        let drop_reason = match &found {
            None => Some("the release no longer exists".to_owned()),
            Some(f) if matches!(f.tag_state, TagState::Moved { .. }) => {
                Some("its tag was moved since the release was made".to_owned())
            }
            Some(_) => None,
        };
        if let Some(reason) = drop_reason {
            Store::new(repo).update(&format!("evidence drop {tag}"), |tx| {
                unschedule_tx(tx, &tag)
            })?;
            outcome.dropped.push((tag, reason));
            continue;
        }
        if let Some(f) = &found {
            if f.release.is_upcoming(now) {
                // Its date moved later without the list being told (an older binary).
                let released_at = f.release.released_at;
                Store::new(repo).update(&format!("evidence reschedule {tag}"), |tx| {
                    schedule_tx(tx, &tag, released_at)
                })?;
                continue;
            }
        }
        match collect_with(repo, &tag, &[], Some(entry.due)) {
            Ok(collected) => outcome.collected.push(collected),
            Err(e) => outcome.failed.push((tag, e)),
        }
    }
    Ok(outcome)
}

/// The snapshots of a release, oldest first.
pub fn list(repo: &Repo, tag: &str) -> Result<Vec<EvidenceRef>> {
    let mut evidences = lifecycle::find(repo, tag)?.release.evidences;
    evidences.sort_by_key(|e| e.collected_at);
    Ok(evidences)
}

/// The exact stored bytes of one snapshot of `tag`: the newest, or the one whose sha
/// starts with `sha` (which must be unambiguous).
pub fn show(repo: &Repo, tag: &str, sha: Option<&str>) -> Result<(EvidenceRef, Vec<u8>)> {
    let release = lifecycle::find(repo, tag)?.release;
    let mut evidences = release.evidences.clone();
    evidences.sort_by_key(|e| e.collected_at);
    let chosen = match sha {
        // An upcoming release has none yet and cannot be given one (`collect` refuses):
        // say when it comes rather than point at a command that would fail.
        None if evidences.is_empty() && release.is_upcoming(Timestamp::now()?) => {
            return Err(Error::EvidenceNotYet {
                tag: tag.to_owned(),
                released_at: release.released_at.to_string(),
            });
        }
        None => evidences
            .last()
            .cloned()
            .ok_or_else(|| Error::EvidenceNotFound {
                tag: tag.to_owned(),
                sha: None,
            })?,
        Some(prefix) => {
            let prefix = prefix.to_ascii_lowercase();
            let matching: Vec<&EvidenceRef> = evidences
                .iter()
                .filter(|e| e.sha.starts_with(&prefix))
                .collect();
            match matching.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(Error::EvidenceNotFound {
                        tag: tag.to_owned(),
                        sha: Some(prefix),
                    });
                }
                _ => {
                    return Err(Error::invalid(
                        "evidence sha",
                        prefix,
                        format!("it matches {} snapshots; give more digits", matching.len()),
                    ));
                }
            }
        }
    };
    let snapshot = Snapshot::read(repo.git())?;
    let bytes = snapshot.file(&chosen.filepath)?.ok_or_else(|| {
        Error::corrupt(
            format!("release {tag:?}"),
            format!(
                "evidence {} is missing from {}",
                chosen.sha, chosen.filepath
            ),
        )
    })?;
    Ok((chosen, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fan_out_below_non_hex_roots() {
        let sha = "ab".repeat(32);
        assert_eq!(evidence_path(&sha), format!("evidence/ab/{sha}.json"));
        assert_eq!(artifact_path(&sha), format!("artifacts/ab/{sha}"));
    }
}
