//! Release evidence: the JSON snapshot of a release that anyone can check offline.
//!
//! GitLab's evidence `sha` is a salted hash nobody can recompute. Ours is the SHA-256
//! of the exact bytes stored at `evidence/<aa>/<sha>.json` in the notes tree, so
//! `git show refs/notes/releases:<filepath> | sha256sum` checks it. Besides GitLab's
//! shape, a snapshot records what an auditor needs to re-check the release against the
//! repository: the tag, its object, the commit and tree, the record as it was, and the
//! settings of the canonical source archives. Two kinds:
//!
//! - a **tree snapshot** (taken at create and when an upcoming release falls due) binds
//!   the tree id: with the archive settings and format version it determines every
//!   archive's bytes, and it costs nothing to take whatever the size of the tree;
//! - an **archive snapshot** (`evidence collect --archives`, or every snapshot with
//!   `release.evidenceArchives`) also records the SHA-256 of each source archive, so
//!   that a downloaded archive can be checked with `sha256sum` alone.
//!
//! When: at `create` for a normal release, in the same notes commit; for an upcoming
//! release once `released_at` has passed, from the pending list in `project.json`
//! (`collect_due`, run by every write command); never automatically for a historical
//! release. Snapshots are only ever added, never rewritten.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
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
    /// **ours**: the package file the link resolves to, when its URL is one of this
    /// project's package URLs (`package::url`), with the SHA-256 recorded for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageFileSnapshot>,
}

/// A package file as evidence records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFileSnapshot {
    pub package_id: u64,
    pub name: String,
    pub version: String,
    pub file_id: u64,
    pub file_name: String,
    pub size: u64,
    pub file_sha256: String,
}

/// How the release's source archives are made, and (in an archive snapshot) what they
/// hash to. The settings are always recorded: with the tree id and the archive format
/// version they determine the canonical archives' bytes. The digests are optional
/// because computing them reads every blob of the tree (a snapshot taken at create
/// never does: docs/evidence.md, "What a snapshot records: tree and archive
/// snapshots").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ArchiveFactsWire")]
pub struct ArchiveFacts {
    /// Always `canonical` (docs/archive-format.md, "One canonical mode").
    pub mode: String,
    /// The prefix every path in the archives starts with (`<project>-<tag>/`).
    pub prefix: String,
    /// Absent in a tree snapshot. Flattened: an archive snapshot keeps the shape every
    /// snapshot had before tree snapshots existed, so old snapshots read unchanged.
    #[serde(flatten)]
    pub digests: Option<ArchiveDigests>,
}

/// `ArchiveFacts` as read: either every digest field or none of them. serde's own
/// flattened `Option` would read a malformed digest section as "no digests".
#[derive(Deserialize)]
struct ArchiveFactsWire {
    mode: String,
    prefix: String,
    #[serde(default)]
    tar: Option<ArchiveDigest>,
    #[serde(default)]
    files: Option<Vec<ArchiveFile>>,
    #[serde(default)]
    ref_dependent: Option<Vec<String>>,
    #[serde(default)]
    lfs_missing: Option<Vec<String>>,
}

impl TryFrom<ArchiveFactsWire> for ArchiveFacts {
    type Error = String;

    fn try_from(wire: ArchiveFactsWire) -> std::result::Result<Self, String> {
        let digests = match (wire.files, wire.ref_dependent, wire.lfs_missing) {
            (None, None, None) if wire.tar.is_none() => None,
            (Some(files), Some(ref_dependent), Some(lfs_missing)) => Some(ArchiveDigests {
                tar: wire.tar,
                files,
                ref_dependent,
                lfs_missing,
            }),
            _ => {
                return Err(
                    "archives: the digests are incomplete (tar, files, ref_dependent \
                            and lfs_missing go together)"
                        .into(),
                );
            }
        };
        Ok(ArchiveFacts {
            mode: wire.mode,
            prefix: wire.prefix,
            digests,
        })
    }
}

/// The SHA-256 of each canonical source archive, as `evidence collect --archives` (or
/// `release.evidenceArchives`) records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveDigests {
    /// The uncompressed tar, which the tar.gz and tar.bz2 compress.
    pub tar: Option<ArchiveDigest>,
    pub files: Vec<ArchiveFile>,
    /// export-subst files that name refs: these archives change when refs change.
    pub ref_dependent: Vec<String>,
    /// Files archived as LFS pointers because their object was absent.
    pub lfs_missing: Vec<String>,
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

/// `evidence/<aa>/<sha>.json`: fanned out below a non-hex root name (docs/storage.md, "Scale").
pub fn evidence_path(sha: &str) -> String {
    format!("evidence/{}/{sha}.json", &sha[..2.min(sha.len())])
}

/// `evidence/<aa>/<sha>.json.sig`: the detached signature of a snapshot's exact bytes
/// (SSHSIG in namespace `git-release`, or armored OpenPGP / CMS), beside it.
pub fn signature_path(sha: &str) -> String {
    format!("{}.sig", evidence_path(sha))
}

/// `artifacts/<aa>/<sha>`.
pub fn artifact_path(sha: &str) -> String {
    format!("artifacts/{}/{sha}", &sha[..2.min(sha.len())])
}

/// The exact bytes stored for a snapshot: pretty-printed (2-space indent) with a
/// trailing newline, like every other JSON file of the store.
pub fn to_bytes(evidence: &Evidence) -> Result<Vec<u8>> {
    let mut bytes =
        serde_json::to_vec_pretty(evidence).map_err(|e| Error::json("the evidence", e))?;
    bytes.push(b'\n');
    Ok(bytes)
}

pub fn parse(bytes: &[u8], location: &str) -> Result<Evidence> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt_by(location, "cannot decode it", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(json: &str) -> std::result::Result<ArchiveFacts, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn archive_facts_read_both_kinds_and_write_them_back_unchanged() {
        let archive = r#"{
  "mode": "canonical",
  "prefix": "p-v1/",
  "tar": {
    "sha256": "aa",
    "size": 10
  },
  "files": [
    {
      "format": "tar",
      "sha256": "aa",
      "size": 10
    }
  ],
  "ref_dependent": [],
  "lfs_missing": []
}"#;
        let read = facts(archive).unwrap();
        assert_eq!(read.digests.as_ref().unwrap().files[0].format, "tar");
        assert_eq!(serde_json::to_string_pretty(&read).unwrap(), archive);

        let tree = "{\n  \"mode\": \"canonical\",\n  \"prefix\": \"p-v1/\"\n}";
        let read = facts(tree).unwrap();
        assert_eq!(read.digests, None);
        assert_eq!(serde_json::to_string_pretty(&read).unwrap(), tree);
    }

    #[test]
    fn malformed_or_partial_digests_are_an_error_not_a_tree_snapshot() {
        let partial = r#"{"mode": "canonical", "prefix": "p/", "files": []}"#;
        assert!(
            facts(partial)
                .unwrap_err()
                .to_string()
                .contains("incomplete")
        );
        let malformed = r#"{"mode": "canonical", "prefix": "p/", "files": 3,
                            "ref_dependent": [], "lfs_missing": []}"#;
        assert!(facts(malformed).is_err());
        let stray_tar =
            r#"{"mode": "canonical", "prefix": "p/", "tar": {"sha256": "a", "size": 1}}"#;
        assert!(facts(stray_tar).is_err());
    }

    #[test]
    fn paths_fan_out_below_non_hex_roots() {
        let sha = "ab".repeat(32);
        assert_eq!(evidence_path(&sha), format!("evidence/ab/{sha}.json"));
        assert_eq!(artifact_path(&sha), format!("artifacts/ab/{sha}"));
    }
}
