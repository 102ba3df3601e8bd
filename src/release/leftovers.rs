//! What interrupted commands left, settled: a marker (`claim::Marker`) whose claim is no
//! longer live is a command that was killed or failed between its writes. `sweep` runs
//! before every write, by `push` and by `doctor --repair`: a create whose tag its
//! creator made is complete (its pending mark is dropped); one whose tag was never
//! made is taken back; an import is taken back whole — its tags, records and the
//! milestones it made — unless it reached its last commit. So pending records are
//! never pushed, and a failed command leaves nothing.

use crate::error::Result;
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::evidence::signature_path;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::{Key, MilestoneFile, Release, TagName};
use crate::release::claim::{Marker, Operation, claim_is_live, markers};
use crate::release::evidence;
use crate::release::query::locate;
use crate::store::Store;
use git2::Oid;

/// Commands of this repository still writing (their claim is live), for messages.
pub fn in_flight(repo: &Repo) -> Vec<String> {
    markers(repo)
        .into_iter()
        .flatten()
        .filter(|m| claim_is_live(&m.claim))
        .map(|m| describe(&m))
        .collect()
}

/// Markers of commands that were interrupted (claim expired or process gone).
pub fn leftovers(repo: &Repo) -> Vec<String> {
    markers(repo)
        .into_iter()
        .flatten()
        .filter(|m| !claim_is_live(&m.claim))
        .map(|m| describe(&m))
        .collect()
}

fn describe(marker: &Marker) -> String {
    let tags: Vec<&str> = marker.records.iter().map(|r| r.tag.as_str()).collect();
    let what = match marker.operation {
        Operation::Create => "create",
        Operation::Import => "import",
    };
    format!(
        "{what} of {} (process {} on {})",
        tags.join(", "),
        marker.claim.pid,
        if marker.claim.host.is_empty() {
            "this machine"
        } else {
            &marker.claim.host
        }
    )
}

/// Settles what interrupted commands left: a create whose tag its creator made is
/// complete (its pending mark is dropped); one whose tag was never made is taken back;
/// an import is taken back whole (its tags, records and milestones) unless it got to
/// its last commit. Commands still running are left alone. Returns what was done, for
/// people.
pub fn sweep(repo: &Repo) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for marker in markers(repo) {
        let marker = match marker {
            Ok(m) => m,
            Err(path) => {
                // Not ours to judge: say so, and leave it.
                done.push(format!(
                    "unreadable marker {} left as it is",
                    path.display()
                ));
                continue;
            }
        };
        if claim_is_live(&marker.claim) {
            continue;
        }
        let Some(key) = marker.key() else {
            marker.remove(repo);
            continue;
        };
        let outcome = match marker.operation {
            Operation::Create => sweep_create(repo, &marker, key)?,
            Operation::Import => sweep_import(repo, &marker, key)?,
        };
        if let Some(outcome) = outcome {
            done.push(outcome);
        }
        marker.remove(repo);
    }
    Ok(done)
}

fn is_claim(release: &Release, key: Key) -> bool {
    release.pending.as_ref().and_then(|p| p.key) == Some(key)
}

fn sweep_create(repo: &Repo, marker: &Marker, key: Key) -> Result<Option<String>> {
    let Some(record) = marker.records.first() else {
        return Ok(None);
    };
    let tag = record.tag.as_str();
    let made = tag::made_for_claim(repo, tag, record.target, &key.to_string())
        && tag::resolve(repo, tag)?.is_some_and(|t| t.target == record.target);
    let message = if made {
        format!("create {tag}")
    } else {
        format!("abandon create {tag} (interrupted before its tag was made)")
    };
    let written = Store::new(repo).update(&message, |tx| {
        let Some((at, mut release)) = locate(tx.snapshot(), tag, None, Some(record.commit))? else {
            return Ok(false);
        };
        if !is_claim(&release, key) {
            return Ok(false);
        }
        if made {
            release.pending = None;
            tx.note_doc(at)?.set(tag, &release);
        } else {
            take_back(tx, tag, at, &release)?;
        }
        Ok(true)
    })?;
    Ok(written.value.then(|| {
        if made {
            format!("completed the release {tag} an interrupted create had made")
        } else {
            format!("removed the pending record of {tag} an interrupted create left")
        }
    }))
}

/// Removes a record that never came to be, with what it brought.
fn take_back(
    tx: &mut crate::store::Transaction<'_, '_>,
    tag: &str,
    at: Oid,
    release: &Release,
) -> Result<()> {
    tx.note_doc(at)?.remove(tag);
    if tx.index_entry(tag)?.is_some_and(|e| e.commit == at) {
        tx.remove_index(tag);
    }
    // Snapshots of a release that never came to be describe nothing.
    for evidence in &release.evidences {
        tx.remove_file(&evidence.filepath);
        tx.remove_file(&signature_path(&evidence.sha));
    }
    evidence::unschedule_tx(tx, tag)
}

fn sweep_import(repo: &Repo, marker: &Marker, key: Key) -> Result<Option<String>> {
    let claim = key.to_string();
    // Still pending with this claim: the import never reached its last commit.
    let snapshot = crate::store::Snapshot::read(repo.git())?;
    let mut unfinished = false;
    for r in &marker.records {
        if let Some((_, release)) = locate(&snapshot, &r.tag, None, Some(r.commit))? {
            unfinished |= is_claim(&release, key);
        }
    }
    if !unfinished {
        return Ok(None);
    }
    // Tags first: between the two steps a record without its tag is absent anyway.
    for r in marker.records.iter().filter(|r| r.creates_tag) {
        if tag::made_for_claim(repo, &r.tag, r.target, &claim) {
            if let Ok(name) = TagName::parse(&r.tag) {
                let _ = tag::delete_ref(repo, &name, r.target);
            }
        }
    }
    undo_import(repo, marker, key)?;
    Ok(Some(format!(
        "took back an interrupted import of {} release(s)",
        marker.records.len()
    )))
}

/// Removes what an import wrote under `key`: its records still pending, and the
/// milestones it created.
pub(crate) fn undo_import(repo: &Repo, marker: &Marker, key: Key) -> Result<()> {
    let message = format!("abandon import of {} release(s)", marker.records.len());
    Store::new(repo).update(&message, |tx| {
        for r in &marker.records {
            let Some((at, release)) = locate(tx.snapshot(), &r.tag, None, Some(r.commit))? else {
                continue;
            };
            if is_claim(&release, key) {
                take_back(tx, &r.tag, at, &release)?;
            }
        }
        if !marker.milestones.is_empty() {
            let mut file: MilestoneFile = tx.json_file(MILESTONES_PATH)?.unwrap_or_default();
            let before = file.milestones.len();
            file.milestones
                .retain(|m| !marker.milestones.contains(&m.key));
            if file.milestones.len() != before {
                tx.put_json_file(MILESTONES_PATH, &file)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
