//! The store's rules that hold across objects, enforced on a merge's result: one
//! record per tag; link names, URLs and direct asset paths unique within a release;
//! milestone titles unique. The three-way merge joins objects by their internal keys,
//! so two clones that each made "the same" object bring two: where they are equal
//! (both clones added the link `linux` with one URL) they become one; where they
//! differ, the preferred side's object stays and the other becomes a conflict to
//! settle, never a duplicate.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::conflict::{ConflictKind, Document, StoreConflict};
use super::docs::{Docs, Place};
use super::three_way::{Prefer, Step};
use crate::model::Key;
use crate::model::milestone::MILESTONES_PATH;

/// A tag must have one record: when the two sides released the same tag on
/// different commits, the preferred side's record stays and the other is taken out
/// of the merge, as a conflict. `ours` is the store before the merge.
pub(crate) fn one_record_per_tag(
    ours: &Docs,
    docs: &mut Docs,
    prefer: Prefer,
    conflicts: &mut Vec<StoreConflict>,
) {
    let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tag, hex, _) in docs.records() {
        places
            .entry(tag.to_owned())
            .or_default()
            .push(hex.to_owned());
    }
    for (tag, hexes) in places {
        if hexes.len() < 2 {
            continue;
        }
        // Which of the places held the tag here before the merge.
        let local: Vec<&String> = hexes
            .iter()
            .filter(|hex| ours.release(hex, &tag).is_some())
            .collect();
        let [ours_hex] = local.as_slice() else {
            // Not a disagreement between the sides (both or neither had it): left to
            // `verify` and `doctor`.
            continue;
        };
        let ours_hex = (*ours_hex).clone();
        for theirs_hex in hexes.iter().filter(|h| **h != ours_hex) {
            let theirs_record = docs
                .release(theirs_hex, &tag)
                .map(|r| serde_json::to_value(r).expect("records serialize"));
            let mut ours_summary = json!({"commit": ours_hex});
            if let Some(record) = docs.release(&ours_hex, &tag) {
                ours_summary["tag_target"] = json!(record.tag_target.to_string());
            }
            let dropped = match prefer {
                Prefer::Ours => theirs_hex,
                Prefer::Theirs => &ours_hex,
            };
            docs.remove_release(dropped, &tag);
            conflicts.push(StoreConflict {
                subject: tag.clone(),
                path: format!("release {tag}"),
                kind: ConflictKind::TagCommit,
                document: Document::Note(theirs_hex.clone()),
                at: vec![Step::Field("releases".into()), Step::Field(tag.clone())],
                ours: Some(ours_summary),
                theirs: theirs_record,
            });
        }
    }
}

/// What became of an object that arrived with a name, title or URL a local object
/// of the same kind already has.
enum Outcome {
    /// Equal in all but identity: the incoming one goes, the local one stays.
    Same,
    /// Different: a conflict; the local one stays (or, preferring theirs, takes the
    /// incoming one's content under its own key).
    Differs,
}

/// Link names, URLs and direct asset paths unique within each release; milestone
/// titles unique. Only objects that arrived with the merge (not in `ours`) are
/// judged against local ones: a clash already there before the merge is for
/// `verify`/`doctor` to report.
pub(crate) fn unique_names(
    ours: &Docs,
    docs: &mut Docs,
    prefer: Prefer,
    conflicts: &mut Vec<StoreConflict>,
) {
    unique_links(ours, docs, prefer, conflicts);
    unique_milestone_titles(ours, docs, prefer, conflicts);
}

fn unique_links(ours: &Docs, docs: &mut Docs, prefer: Prefer, conflicts: &mut Vec<StoreConflict>) {
    let mut local: BTreeMap<&str, BTreeSet<Key>> = BTreeMap::new();
    for (tag, _, release) in ours.records() {
        local
            .entry(tag)
            .or_default()
            .extend(release.links.iter().map(|l| l.key));
    }
    let mut changed = Vec::new();
    for (hex, note) in docs.notes.iter_mut() {
        for (tag, release) in note.releases.iter_mut() {
            let Some(local) = local.get(tag.as_str()) else {
                continue;
            };
            let incoming: Vec<Key> = release
                .links
                .iter()
                .map(|l| l.key)
                .filter(|k| !local.contains(k))
                .collect();
            for key in incoming {
                let Some(b) = release.links.iter().position(|l| l.key == key) else {
                    continue;
                };
                let Some(a) = release.links.iter().position(|l| {
                    local.contains(&l.key) && l.clash_with(&release.links[b]).is_some()
                }) else {
                    continue;
                };
                let theirs = release.links.remove(b);
                let a = if b < a { a - 1 } else { a };
                changed.push(hex.clone());
                if release.links[a].same_content(&theirs) {
                    continue;
                }
                let ours_link = &mut release.links[a];
                let mut replacement = theirs.clone();
                replacement.key = ours_link.key;
                conflicts.push(StoreConflict {
                    subject: tag.clone(),
                    path: format!("release {tag} → links[{:?}]", ours_link.name),
                    kind: ConflictKind::Duplicate,
                    document: Document::Note(hex.clone()),
                    at: vec![
                        Step::Field("releases".into()),
                        Step::Field(tag.clone()),
                        Step::Field("links".into()),
                        Step::Key(ours_link.key.to_string()),
                    ],
                    ours: Some(to_value(&*ours_link)),
                    theirs: Some(to_value(&replacement)),
                });
                if prefer == Prefer::Theirs {
                    *ours_link = replacement;
                }
            }
        }
    }
    for hex in changed {
        docs.mark(Place::Note(hex));
    }
}

fn unique_milestone_titles(
    ours: &Docs,
    docs: &mut Docs,
    prefer: Prefer,
    conflicts: &mut Vec<StoreConflict>,
) {
    let local: BTreeSet<Key> = ours
        .milestones
        .iter()
        .flat_map(|f| &f.milestones)
        .map(|m| m.key)
        .collect();
    let Some(file) = docs.milestones.as_mut() else {
        return;
    };
    // Incoming key → the local key that stands for it from now on.
    let mut replaced: BTreeMap<Key, Key> = BTreeMap::new();
    let incoming: Vec<Key> = file
        .milestones
        .iter()
        .map(|m| m.key)
        .filter(|k| !local.contains(k))
        .collect();
    for key in incoming {
        let Some(b) = file.milestones.iter().position(|m| m.key == key) else {
            continue;
        };
        let title = file.milestones[b].title.clone();
        let Some(a) = file
            .milestones
            .iter()
            .position(|m| local.contains(&m.key) && m.title == title)
        else {
            continue;
        };
        let theirs = file.milestones.remove(b);
        let a = if b < a { a - 1 } else { a };
        let ours_milestone = &mut file.milestones[a];
        replaced.insert(theirs.key, ours_milestone.key);
        let outcome = if ours_milestone.same_content(&theirs) {
            Outcome::Same
        } else {
            Outcome::Differs
        };
        if let Outcome::Differs = outcome {
            let mut replacement = theirs.clone();
            replacement.key = ours_milestone.key;
            conflicts.push(StoreConflict {
                subject: format!("milestone:{title}"),
                path: format!("milestone {title:?}"),
                kind: ConflictKind::Duplicate,
                document: Document::File(MILESTONES_PATH.to_owned()),
                at: vec![
                    Step::Field("milestones".into()),
                    Step::Key(ours_milestone.key.to_string()),
                ],
                ours: Some(to_value(&*ours_milestone)),
                theirs: Some(to_value(&replacement)),
            });
            if prefer == Prefer::Theirs {
                *ours_milestone = replacement;
            }
        }
    }
    if replaced.is_empty() {
        return;
    }
    docs.mark(Place::Milestones);
    // Releases that named the incoming milestone now name the one that stands for it.
    let mut changed = Vec::new();
    for (hex, note) in docs.notes.iter_mut() {
        for release in note.releases.values_mut() {
            if !release.milestones.iter().any(|k| replaced.contains_key(k)) {
                continue;
            }
            let mut keys = Vec::new();
            for key in &release.milestones {
                let key = replaced.get(key).copied().unwrap_or(*key);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            release.milestones = keys;
            changed.push(hex.clone());
        }
    }
    for hex in changed {
        docs.mark(Place::Note(hex));
    }
}

fn to_value(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("store objects serialize")
}
