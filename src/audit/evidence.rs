//! Evidence use cases: collect a snapshot of a release now (or every one that is due),
//! list a release's snapshots, show one. The snapshot itself is
//! `crate::model::evidence`; writing it is `crate::release::evidence`.

use std::path::PathBuf;

use crate::archive;
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::TagName;
use crate::model::evidence::signature_path;
use crate::model::{EvidenceRef, TagState};
use crate::release;
use crate::release::evidence::{
    archives_by_default, pending, prepare, schedule_tx, signer_for, stage, unschedule_tx,
};
use crate::store::{PendingEvidence, Snapshot, Store};
use crate::time::Timestamp;

/// One snapshot taken.
#[derive(Debug, Clone)]
pub struct Collected {
    pub tag: String,
    pub evidence: EvidenceRef,
    /// The snapshot was left unsigned because the tag is signed by another key (named
    /// here), e.g. an upstream release's.
    pub unsigned_tag_signer: Option<String>,
}

/// What a snapshot records about the source archives.
pub enum Archives<'a> {
    /// Their settings only (a tree snapshot), unless `evidence.archives` asks for
    /// digests.
    AsConfigured,
    /// Their digests too, telling `progress` how far the four archives have got.
    Digests(&'a dyn archive::Progress),
}

/// Takes a snapshot of the release of `tag` now, with `artifacts` attached. Refused for
/// a release that is still upcoming, and for one whose tag no longer points where the
/// release was made (the snapshot would not describe the release).
///
/// The snapshot is signed (with the key git would sign a tag with, `key` overriding
/// `user.signingKey`) when `sign` says so (`--sign` / `--no-sign`), else when
/// `release.signEvidence=true` or the release's tag is signed.
pub fn collect(
    repo: &Repo,
    tag: &TagName,
    artifacts: &[PathBuf],
    archives: Archives<'_>,
    sign: Option<bool>,
    key: Option<&str>,
) -> Result<Collected> {
    collect_with(repo, tag, artifacts, archives, sign, key, None)
}

/// `collect`, for a snapshot that was scheduled for `due_at` (recorded beside the
/// time it is taken).
fn collect_with(
    repo: &Repo,
    tag: &TagName,
    artifacts: &[PathBuf],
    archives: Archives<'_>,
    sign: Option<bool>,
    key: Option<&str>,
    due_at: Option<Timestamp>,
) -> Result<Collected> {
    let now = Timestamp::now()?;
    let silent = archive::Silent;
    let digests: Option<&dyn archive::Progress> = match archives {
        Archives::Digests(progress) => Some(progress),
        Archives::AsConfigured if archives_by_default(repo)? => Some(&silent),
        Archives::AsConfigured => None,
    };
    let found = release::find(repo, tag)?;
    if found.release.is_upcoming(now) {
        return Err(Error::EvidenceNotDue {
            tag: tag.to_string(),
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
            tag: tag.to_string(),
        });
    };
    let signing = signer_for(repo, now_tag.target, sign, key)?;
    let signer = signing.signer;
    let mut prepared = prepare(
        repo,
        tag,
        now_tag.target,
        now_tag.commit,
        artifacts,
        now,
        digests,
    )?;
    prepared.due_at = due_at;
    let evidence = release::modify_release(
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
            let evidence = stage(tx, &prepared, &found.release, signer.as_ref())?;
            found.release.evidences.push(evidence.clone());
            Ok(evidence)
        },
    )?;
    Ok(Collected {
        tag: tag.to_string(),
        evidence,
        unsigned_tag_signer: signing.tag_signed_by_other,
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
        // A name that cannot be a tag has no release.
        let found = match TagName::parse(&tag).map(|name| release::find(repo, &name)) {
            Ok(Ok(found)) => Some(found),
            Err(_) | Ok(Err(Error::ReleaseNotFound { .. })) => None,
            Ok(Err(e)) => {
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
        let Some(found) = found else {
            continue;
        };
        if found.release.is_upcoming(now) {
            // Its date moved later without the list being told (an older binary).
            let released_at = found.release.released_at;
            Store::new(repo).update(&format!("evidence reschedule {tag}"), |tx| {
                schedule_tx(tx, &tag, released_at)
            })?;
            continue;
        }
        match collect_with(
            repo,
            &found.tag,
            &[],
            Archives::AsConfigured,
            None,
            None,
            Some(entry.due),
        ) {
            Ok(collected) => outcome.collected.push(collected),
            Err(e) => outcome.failed.push((tag, e)),
        }
    }
    Ok(outcome)
}

/// The snapshots of a release, oldest first.
pub fn list(repo: &Repo, tag: &TagName) -> Result<Vec<EvidenceRef>> {
    let mut evidences = release::find(repo, tag)?.release.evidences;
    evidences.sort_by_key(|e| e.collected_at);
    Ok(evidences)
}

/// The exact stored bytes of one snapshot of `tag`: the newest, or the one whose sha
/// starts with `sha` (which must be unambiguous).
pub fn show(repo: &Repo, tag: &TagName, sha: Option<&str>) -> Result<(EvidenceRef, Vec<u8>)> {
    let release = release::find(repo, tag)?.release;
    let mut evidences = release.evidences.clone();
    evidences.sort_by_key(|e| e.collected_at);
    let chosen = match sha {
        // An upcoming release has none yet and cannot be given one (`collect` refuses):
        // say when it comes rather than point at a command that would fail.
        None if evidences.is_empty() && release.is_upcoming(Timestamp::now()?) => {
            return Err(Error::EvidenceNotYet {
                tag: tag.to_string(),
                released_at: release.released_at.to_string(),
            });
        }
        None => evidences
            .last()
            .cloned()
            .ok_or_else(|| Error::EvidenceNotFound {
                tag: tag.to_string(),
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
                        tag: tag.to_string(),
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

/// The detached signature stored beside a snapshot of `tag`.
pub fn signature(repo: &Repo, tag: &TagName, evidence: &EvidenceRef) -> Result<Vec<u8>> {
    let path = signature_path(&evidence.sha);
    Snapshot::read(repo.git())?
        .file(&path)?
        .ok_or_else(|| Error::EvidenceUnsigned {
            tag: tag.to_string(),
            sha: evidence.sha.clone(),
        })
}
