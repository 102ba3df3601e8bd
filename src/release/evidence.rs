//! Evidence as part of a write: the facts a snapshot records, prepared before the
//! store write (archives, artifacts), staged into the transaction that writes the
//! release, and the pending list of upcoming releases still to be snapshotted.
//! No lifecycle here: the release use cases call these from their transactions.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use git2::Oid;
use serde_json::Map;
use sha2::{Digest, Sha256};

use crate::archive::{self, Format, Mode};
use crate::digest::{hex, sha256_hex};
use crate::error::{Error, Result};
use crate::git::project::{self, Project, ProjectFile};
use crate::git::repo::Repo;
use crate::git::sign::Signer;
use crate::model::evidence::*;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::{EvidenceRef, Key, MilestoneFile, Release};
use crate::store::{PROJECT_PATH, PendingEvidence, Snapshot, Transaction};
use crate::time::Timestamp;

/// The canonical archive settings of the release of `tag`, with the default prefix
/// `<project>-<tag>/`, and with `progress` their digests: the only part of a snapshot
/// that reads the tree's blobs.
pub fn archive_facts(
    repo: &Repo,
    project: &str,
    tag: &str,
    commit: Oid,
    digests: Option<&dyn archive::Progress>,
) -> Result<ArchiveFacts> {
    let prefix = format!("{}/", archive::base_name(project, tag));
    let digests = match digests {
        Some(progress) => Some(archive_digests(repo, &prefix, commit, progress)?),
        None => None,
    };
    Ok(ArchiveFacts {
        mode: "canonical".into(),
        prefix,
        digests,
    })
}

fn archive_digests(
    repo: &Repo,
    prefix: &str,
    commit: Oid,
    progress: &dyn archive::Progress,
) -> Result<ArchiveDigests> {
    let rev = commit.to_string();
    let request = archive::Request {
        rev: &rev,
        prefix,
        mode: Mode::Canonical,
        tar_digest: true,
        digests: true,
        path: None,
    };
    let outputs = Format::ALL
        .iter()
        .map(|&format| archive::Output {
            format,
            sink: Box::new(std::io::sink()) as Box<dyn Write + Send>,
        })
        .collect();
    let report = archive::write_archives(repo, &request, outputs, progress)?;
    Ok(ArchiveDigests {
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

/// Whether snapshots taken without being told record archive digests (the setting
/// `evidence.archives`); read before anything is written, so a malformed value fails
/// the command first.
pub fn archives_by_default(repo: &Repo) -> Result<bool> {
    Ok(project::evidence_archives(repo, &ProjectFile::load(repo)?)?.value)
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
    pub commit: Oid,
    pub tree: Oid,
    pub archives: ArchiveFacts,
    /// Artifact descriptions with their blobs, already in the object database.
    pub artifacts: Vec<(ArtifactSnapshot, Oid)>,
    /// This project's package URLs: links to them record the package file.
    pub package_urls: crate::package::PackageUrls,
    /// The project's group milestones, read before the write (they live in another
    /// repository); `None` when the project is in no group or it cannot be read.
    pub group_milestones: Option<crate::release::group::GroupMilestones>,
}

/// Prepares a snapshot of the release of `tag` made on `commit`, its tag pointing at
/// `tag_object`: a tree snapshot, which reads no blob of the tree, or with `digests`
/// (told how far it got) an archive snapshot.
pub fn prepare(
    repo: &Repo,
    tag: &str,
    tag_object: Oid,
    commit: Oid,
    artifacts: &[PathBuf],
    now: Timestamp,
    digests: Option<&dyn archive::Progress>,
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
    let project = Project::resolve(repo)?;
    let archives = archive_facts(repo, &project.name, tag, commit, digests)?;
    let mut stored = Vec::with_capacity(artifacts.len());
    for path in artifacts {
        stored.push(store_artifact(repo, path)?);
    }
    let created_at = Project::created_at(repo, Some(commit)).map(Timestamp::from_datetime);
    let package_urls = crate::package::PackageUrls::for_project(&project);
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
        commit,
        tree,
        archives,
        artifacts: stored,
        package_urls,
        group_milestones: crate::release::group::GroupMilestones::load(repo)
            .ok()
            .flatten(),
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

/// Who signs the snapshots of a release, and why not when nobody does.
pub struct EvidenceSigning {
    pub signer: Option<EvidenceSigner>,
    /// The tag is signed, but not with the configured key (somebody else's tag, or a
    /// key this machine does not hold): who signed it. The evidence is left unsigned
    /// and the caller says so once.
    pub tag_signed_by_other: Option<String>,
}

impl EvidenceSigning {
    fn unsigned() -> Self {
        EvidenceSigning {
            signer: None,
            tag_signed_by_other: None,
        }
    }
}

/// Who signs the snapshots of a release whose tag points at `tag_object`: nobody with
/// `sign == Some(false)` (`--no-sign`); the configured key (`key` overriding
/// `user.signingKey`) when asked (`--sign`, `-u`, `release.signEvidence=true`), and
/// then a key that cannot sign is an error naming `--no-sign`; else the configured key
/// only when the tag is signed with that very key, so that a release on a tag somebody
/// else signed (an upstream release) gets unsigned evidence, not a failure.
pub fn signer_for(
    repo: &Repo,
    tag_object: Oid,
    sign: Option<bool>,
    key: Option<&str>,
) -> Result<EvidenceSigning> {
    let explicit = match sign {
        Some(false) => return Ok(EvidenceSigning::unsigned()),
        Some(true) => true,
        None => key.is_some() || repo.config_bool_strict("release.signEvidence")? == Some(true),
    };
    if explicit {
        let signer = Signer::configured(repo, key).map_err(evidence_signing_error)?;
        return Ok(EvidenceSigning {
            signer: Some(EvidenceSigner::new(signer)),
            tag_signed_by_other: None,
        });
    }
    let Some(signature) = crate::git::tag::signature(repo, tag_object)? else {
        return Ok(EvidenceSigning::unsigned());
    };
    let signer = Signer::configured(repo, None).ok();
    let signed_by = signer
        .as_ref()
        .map(|signer| signer.made(&signature.payload, &signature.signature));
    Ok(match (signer, signed_by) {
        (Some(signer), Some(by)) if by.ours => EvidenceSigning {
            signer: Some(EvidenceSigner::new(signer)),
            tag_signed_by_other: None,
        },
        (_, by) => EvidenceSigning {
            signer: None,
            tag_signed_by_other: Some(
                by.map(|by| by.describe())
                    .unwrap_or_else(|| "a key that is not configured here".into()),
            ),
        },
    })
}

/// A signing failure of evidence that was asked to be signed: it names `--no-sign`.
fn evidence_signing_error(error: Error) -> Error {
    match error {
        Error::Signing { key, reason } => Error::EvidenceSigning { key, reason },
        Error::SigningProgram {
            program,
            setting,
            source,
        } => Error::EvidenceSigning {
            key: format!("{program} (from {setting})"),
            reason: format!("cannot run it: {source}"),
        },
        other => other,
    }
}

/// A milestone as evidence records it (GitLab's shape), with its issues.
fn milestone_snapshot(m: &crate::model::Milestone) -> MilestoneSnapshot {
    MilestoneSnapshot {
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
    }
}

/// Signs snapshots with one key, once per distinct snapshot: a store write whose
/// closure runs again after a lost race does not ask the key (an agent, a token with
/// a PIN) again for the same bytes.
pub struct EvidenceSigner {
    signer: Signer,
    signed: RefCell<Option<(String, Vec<u8>)>>,
}

impl EvidenceSigner {
    pub fn new(signer: Signer) -> Self {
        EvidenceSigner {
            signer,
            signed: RefCell::new(None),
        }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    fn sign(&self, sha: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        if let Some((done, signature)) = self.signed.borrow().as_ref() {
            if done == sha {
                return Ok(signature.clone());
            }
        }
        let signature = self
            .signer
            .sign_detached(bytes)
            .map_err(evidence_signing_error)?;
        *self.signed.borrow_mut() = Some((sha.to_owned(), signature.clone()));
        Ok(signature)
    }
}

/// Builds the snapshot of `release` (as it stands in this transaction), stages its
/// bytes (and with `signer`, their detached signature beside them) and artifacts, and
/// returns the ref to append to the release. The signature covers the stored bytes,
/// whatever they record.
pub fn stage(
    tx: &mut Transaction<'_, '_>,
    prepared: &Prepared,
    release: &Release,
    signer: Option<&EvidenceSigner>,
) -> Result<EvidenceRef> {
    let milestones: MilestoneFile = tx.json_file(MILESTONES_PATH)?.unwrap_or_default();
    let mut record = release.clone();
    // A creation lease is bookkeeping of one process, not part of the release.
    record.pending = None;
    let record = serde_json::to_value(&record).map_err(|e| Error::json("the release record", e))?;
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
                .map(milestone_snapshot)
                .chain(release.group_milestones.iter().map(|kept| {
                    // GitLab's evidence lists group milestones as project ones; a
                    // clone without the group's repository records what the release
                    // kept of each.
                    match prepared
                        .group_milestones
                        .as_ref()
                        .and_then(|g| g.by_key(kept.key))
                    {
                        Some(m) => milestone_snapshot(m),
                        None => MilestoneSnapshot {
                            id: kept.id,
                            title: kept.title.clone(),
                            description: None,
                            state: kept.state.as_str().to_owned(),
                            iid: kept.iid,
                            created_at: kept.created_at,
                            due_date: kept.due_date,
                            issues: Vec::new(),
                        },
                    }
                }))
                .collect(),
            report_artifacts: prepared.artifacts.iter().map(|(a, _)| a.clone()).collect(),
        },
        git_release: Facts {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            archive_format_version: ARCHIVE_FORMAT_VERSION,
            collected_at: prepared.collected_at,
            due_at: prepared.due_at,
            tag: prepared.tag.clone(),
            commit: prepared.commit.to_string(),
            tree: prepared.tree.to_string(),
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
                    package: crate::package::resolve_link(tx.snapshot(), &prepared.package_urls, l)
                        .ok()
                        .flatten()
                        .map(|(p, f)| PackageFileSnapshot {
                            package_id: p.id,
                            name: p.name,
                            version: p.version,
                            file_id: f.id,
                            file_name: f.file_name,
                            size: f.size,
                            file_sha256: f.file_sha256,
                        }),
                })
                .collect(),
            archives: prepared.archives.clone(),
        },
    };
    let bytes = to_bytes(&evidence)?;
    let sha = sha256_hex(&bytes);
    let filepath = evidence_path(&sha);
    if let Some(signer) = signer {
        let signature = signer.sign(&sha, &bytes)?;
        tx.put_file(&signature_path(&sha), signature);
    }
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

/// Puts `tag` on the pending list, due at `due` (replacing an earlier entry).
pub fn schedule_tx(tx: &mut Transaction<'_, '_>, tag: &str, due: Timestamp) -> Result<()> {
    let mut data = tx.project_data()?;
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
    let mut data = tx.project_data()?;
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
    let waiting = tx
        .project_data()?
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
    Ok(snapshot.project_data()?.pending_evidence)
}
