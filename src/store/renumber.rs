//! The small display ids users see (`id`, a milestone's `iid`) across a merged store:
//! each is unique within the repository, and an object that arrives with an id
//! another object shows is renumbered on its side (docs/storage.md, "Keys and ids");
//! the counters in `project.json` only grow, past every id in use.

use std::collections::{BTreeMap, BTreeSet};

use git2::Oid;
use serde_json::Value;

use super::Snapshot;
use super::docs::{Docs, Place, write_blob};
use super::flat::{self, Flat};
use super::invariants;
use super::project_data::ProjectData;
use super::three_way::Prefer;
use crate::error::{Error, Result};
use crate::model::IdKind;
use crate::model::id_kind::MAX_ID;

/// A new display id, by kind and the key of the object that gets it.
type IdChanges = BTreeMap<(IdKind, String), u64>;

/// Calls `f(kind, key, id)` for every display id of `docs`: each release's own id
/// (keyed by its tag: a tag has one record once `one_record_per_tag` ran), and the
/// ids of links, milestones (and their iids and issues) and freezes, by their keys.
pub(crate) fn each_id(docs: &Docs, f: &mut dyn FnMut(IdKind, String, u64)) {
    for (tag, _, release) in docs.records() {
        if let Some(id) = release.id {
            f(IdKind::Release, tag.to_owned(), id);
        }
        for link in &release.links {
            f(IdKind::Link, link.key.to_string(), link.id);
        }
    }
    for m in docs.milestones.iter().flat_map(|f| &f.milestones) {
        f(IdKind::Milestone, m.key.to_string(), m.id);
        f(IdKind::MilestoneIid, m.key.to_string(), m.iid);
        for issue in &m.issues {
            f(IdKind::Issue, issue.key.to_string(), issue.id);
        }
    }
    for freeze in docs.freezes.iter().flat_map(|f| &f.freezes) {
        f(IdKind::Freeze, freeze.key.to_string(), freeze.id);
    }
    // A package is keyed by its document's path (its name and version).
    for (path, package) in &docs.packages {
        f(IdKind::Package, path.clone(), package.id);
        for file in &package.files {
            f(IdKind::PackageFile, file.key.to_string(), file.id);
        }
    }
}

/// One display id, for changing it: its kind, the key of its object, what people
/// call the object, and the id itself.
struct Slot<'a> {
    kind: IdKind,
    key: String,
    label: &'a str,
    id: &'a mut u64,
}

/// Calls `f` on every display id of `docs`, marking the documents where it returns
/// true as changed.
fn each_id_mut(docs: &mut Docs, f: &mut dyn FnMut(Slot<'_>) -> bool) {
    let mut changed = Vec::new();
    for (hex, note) in docs.notes.iter_mut() {
        let mut any = false;
        for (tag, release) in note.releases.iter_mut() {
            if let Some(id) = release.id.as_mut() {
                any |= f(Slot {
                    kind: IdKind::Release,
                    key: tag.clone(),
                    label: tag,
                    id,
                });
            }
            for link in release.links.iter_mut() {
                any |= f(Slot {
                    kind: IdKind::Link,
                    key: link.key.to_string(),
                    label: &link.name,
                    id: &mut link.id,
                });
            }
        }
        if any {
            changed.push(Place::Note(hex.clone()));
        }
    }
    if let Some(file) = docs.milestones.as_mut() {
        let mut any = false;
        for m in file.milestones.iter_mut() {
            let key = m.key.to_string();
            for (kind, id) in [
                (IdKind::Milestone, &mut m.id),
                (IdKind::MilestoneIid, &mut m.iid),
            ] {
                any |= f(Slot {
                    kind,
                    key: key.clone(),
                    label: &m.title,
                    id,
                });
            }
            for issue in m.issues.iter_mut() {
                any |= f(Slot {
                    kind: IdKind::Issue,
                    key: issue.key.to_string(),
                    label: &issue.title,
                    id: &mut issue.id,
                });
            }
        }
        if any {
            changed.push(Place::Milestones);
        }
    }
    if let Some(file) = docs.freezes.as_mut() {
        let mut any = false;
        for freeze in file.freezes.iter_mut() {
            any |= f(Slot {
                kind: IdKind::Freeze,
                key: freeze.key.to_string(),
                label: "",
                id: &mut freeze.id,
            });
        }
        if any {
            changed.push(Place::Freezes);
        }
    }
    for (path, package) in docs.packages.iter_mut() {
        let label = format!("{} {}", package.name, package.version);
        let mut any = f(Slot {
            kind: IdKind::Package,
            key: path.clone(),
            label: &label,
            id: &mut package.id,
        });
        for file in package.files.iter_mut() {
            any |= f(Slot {
                kind: IdKind::PackageFile,
                key: file.key.to_string(),
                label: &file.file_name,
                id: &mut file.id,
            });
        }
        if any {
            changed.push(Place::Package(path.clone()));
        }
    }
    for place in changed {
        docs.mark(place);
    }
}

/// Gives every object whose display id collides with a different object's id a new
/// id above all in use and above the counters; objects that were in `ours` (the
/// store before the merge, `ours`) keep theirs. Returns what changed, for people.
pub(crate) fn renumber(ours: &Docs, docs: &mut Docs) -> Vec<String> {
    let mut before = BTreeMap::new();
    each_id(ours, &mut |kind, key, id| {
        before.insert((kind, key), id);
    });
    let changes = new_ids(&before, docs);
    if changes.is_empty() {
        return Vec::new();
    }
    let mut report = Vec::new();
    each_id_mut(docs, &mut |slot| {
        let Some(new) = changes.get(&(slot.kind, slot.key)) else {
            return false;
        };
        let (what, field) = match slot.kind {
            IdKind::MilestoneIid => ("milestone iid", "iid"),
            kind => (kind.counter(), "id"),
        };
        report.push(format!(
            "{what} {:?}: {field} {} → {new}",
            slot.label, slot.id
        ));
        *slot.id = *new;
        true
    });
    report
}

/// Which objects of `docs` get a new id: of each group showing one id, all but the
/// one that showed it before (failing that, the first by key).
fn new_ids(before: &BTreeMap<(IdKind, String), u64>, docs: &Docs) -> IdChanges {
    let (uses, mut next) = id_uses(docs);
    // New ids also go above the counters (both sides' highest, merged): an id handed
    // out by either side may sit in a value a conflict kept out of the merge (a
    // release deleted here, edited there), and taking that side later brings it back.
    for (kind, last) in counters(docs) {
        let m = next.entry(kind).or_insert(0);
        *m = (*m).max(last);
    }
    let mut changes = IdChanges::new();
    for ((kind, id), keys) in &uses {
        if keys.len() < 2 {
            continue;
        }
        // The object that showed this id here keeps it (an id that changed on the
        // other side may now collide with one that did not); failing that, the first.
        let keep = keys
            .iter()
            .find(|k| before.get(&(*kind, (*k).clone())) == Some(id))
            .unwrap_or_else(|| keys.iter().next().expect("two keys or more"));
        for key in keys.iter().filter(|k| *k != keep) {
            let next = next.entry(*kind).or_insert(0);
            *next = next.saturating_add(1);
            changes.insert((*kind, key.clone()), *next);
        }
    }
    changes
}

/// Which keys show each display id.
type IdUses = BTreeMap<(IdKind, u64), BTreeSet<String>>;

/// Which keys show each (kind, id) in `docs`, and the highest id of each kind.
fn id_uses(docs: &Docs) -> (IdUses, BTreeMap<IdKind, u64>) {
    let mut uses = IdUses::new();
    let mut max_ids: BTreeMap<IdKind, u64> = BTreeMap::new();
    each_id(docs, &mut |kind, key, id| {
        uses.entry((kind, id)).or_default().insert(key);
        let m = max_ids.entry(kind).or_insert(0);
        *m = (*m).max(id);
    });
    (uses, max_ids)
}

/// The id counters of `project.json` in `docs`, by kind (unknown counters ignored).
fn counters(docs: &Docs) -> Vec<(IdKind, u64)> {
    let Some(project) = &docs.project else {
        return Vec::new();
    };
    IdKind::ALL
        .iter()
        .filter_map(|kind| Some((*kind, *project.last_ids.get(kind.counter())?)))
        .collect()
}

/// How the display ids of a store stand, for `doctor` and `verify`.
pub(crate) struct IdUsage {
    /// The counters in project.json, by name.
    pub counters: BTreeMap<String, u64>,
    /// The highest display id in use of each kind.
    pub highest: BTreeMap<IdKind, u64>,
    /// The (kind, id) pairs that more than one object shows.
    pub duplicates: Vec<(IdKind, u64)>,
    /// Ids above `MAX_ID`.
    pub out_of_range: Vec<(IdKind, u64)>,
}

pub(crate) fn id_usage(docs: &Docs) -> IdUsage {
    let (uses, highest) = id_uses(docs);
    IdUsage {
        counters: docs
            .project
            .as_ref()
            .map(|p| p.last_ids.clone())
            .unwrap_or_default(),
        highest,
        out_of_range: uses
            .keys()
            .filter(|(_, id)| *id > MAX_ID)
            .copied()
            .collect(),
        duplicates: uses
            .into_iter()
            .filter(|(_, keys)| keys.len() > 1)
            .map(|(k, _)| k)
            .collect(),
    }
}

/// Refuses a merge's result that holds an id or a counter above `MAX_ID` that the
/// local store (`ours`) did not hold already: it came from `source`, and would end
/// a counter for good.
pub(crate) fn check_bounds(ours: &Docs, docs: &Docs, source: &str) -> Result<()> {
    let location = |what: &str| format!("{what} fetched from {source}");
    let ours_counters = ours.project.as_ref().map(|p| &p.last_ids);
    if let Some(project) = &docs.project {
        for (kind, counter) in &project.last_ids {
            let had = ours_counters
                .and_then(|c| c.get(kind))
                .copied()
                .unwrap_or(0);
            if *counter > MAX_ID && *counter > had {
                return Err(Error::corrupt(
                    location("project.json"),
                    format!("the {kind} counter is {counter}, above the largest id ({MAX_ID})"),
                ));
            }
        }
    }
    let mut had: BTreeSet<(IdKind, String, u64)> = BTreeSet::new();
    each_id(ours, &mut |kind, key, id| {
        if id > MAX_ID {
            had.insert((kind, key, id));
        }
    });
    let mut found = None;
    each_id(docs, &mut |kind, key, id| {
        if id > MAX_ID && found.is_none() && !had.contains(&(kind, key.clone(), id)) {
            found = Some((kind, key, id));
        }
    });
    match found {
        Some((kind, key, id)) => Err(Error::corrupt(
            location("a release record"),
            format!("{kind} {key} has id {id}, above the largest id ({MAX_ID})"),
        )),
        None => Ok(()),
    }
}

/// Brings ids and counters back within `MAX_ID`: a counter at or past it goes back to
/// the highest id in use within bounds, and an id past it gets the next one. Returns
/// what changed, for people.
pub(crate) fn within_bounds(docs: &mut Docs) -> Vec<String> {
    let mut report = Vec::new();
    let mut highest: BTreeMap<IdKind, u64> = BTreeMap::new();
    each_id(docs, &mut |kind, _, id| {
        if id <= MAX_ID {
            let m = highest.entry(kind).or_insert(0);
            *m = (*m).max(id);
        }
    });
    if let Some(project) = docs.project.as_mut() {
        let mut changed = false;
        for kind in IdKind::ALL {
            let Some(counter) = project.last_ids.get_mut(kind.counter()) else {
                continue;
            };
            if *counter >= MAX_ID {
                let to = highest.get(&kind).copied().unwrap_or(0);
                report.push(format!(
                    "set project.json's {kind} counter from {counter} back to {to}, the highest id in use"
                ));
                *counter = to;
                changed = true;
            }
        }
        if changed {
            docs.mark(Place::Project);
        }
    }
    let counters: BTreeMap<IdKind, u64> = counters(docs).into_iter().collect();
    each_id_mut(docs, &mut |slot| {
        if *slot.id <= MAX_ID {
            return false;
        }
        let next = highest.entry(slot.kind).or_insert(0);
        *next = (*next).max(counters.get(&slot.kind).copied().unwrap_or(0)) + 1;
        report.push(format!(
            "gave {} {:?} the id {} instead of {}",
            slot.kind, slot.label, next, slot.id
        ));
        *slot.id = *next;
        true
    });
    report
}

/// Raises the counters in project.json past every display id in use.
pub(crate) fn raise_counters(docs: &mut Docs) {
    let (_, max_ids) = id_uses(docs);
    if max_ids.is_empty() {
        return;
    }
    let project = docs.project_mut();
    let mut changed = false;
    for (kind, max) in &max_ids {
        let last = project
            .last_ids
            .entry(kind.counter().to_owned())
            .or_insert(0);
        if *max > *last {
            *last = *max;
            changed = true;
        }
    }
    if changed {
        docs.mark(Place::Project);
    }
}

/// project.json counters only ever grow: both sides take the larger of each before
/// they are merged, so that two clones handing out ids is not a conflict. A side that
/// is not a readable project.json is left as it is (the merge reports it).
pub(crate) fn max_counters(
    ours: Option<Value>,
    theirs: Option<Value>,
) -> (Option<Value>, Option<Value>) {
    let parse = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|v| serde_json::from_value::<ProjectData>(v.clone()).ok())
    };
    let (Some(mut o), Some(mut t)) = (parse(&ours), parse(&theirs)) else {
        return (ours, theirs);
    };
    let mut max = o.last_ids.clone();
    for (kind, n) in &t.last_ids {
        let m = max.entry(kind.clone()).or_insert(0);
        *m = (*m).max(*n);
    }
    o.last_ids = max.clone();
    t.last_ids = max;
    let value = |p: ProjectData| serde_json::to_value(p).expect("project data serializes");
    (Some(value(o)), Some(value(t)))
}

/// After values were taken back from recorded conflicts (`resolve --theirs`), the
/// notes tree `after` with the ids they brought renumbered where another object
/// shows the same id: a conflict kept them out of the merge, so the merge's
/// renumbering never saw them. Objects of `before` (the store the values were taken
/// into) keep their ids. Returns the tree and what changed, for people.
pub(crate) fn renumber_restored(before: &Snapshot<'_>, after: Oid) -> Result<(Oid, Vec<String>)> {
    // The snapshot's handle: the one the update writes through (its new objects may be
    // in memory until the commit, see pack_write.rs).
    let git = before.repo;
    let ours = match &before.tree {
        Some(tree) => flat::flatten_tree(git, tree)?,
        None => Flat::default(),
    };
    let tree = git
        .find_tree(after)
        .map_err(|e| Error::git("cannot read the notes tree just built", e))?;
    let flat = flat::flatten_tree(git, &tree)?;
    let mut docs = Docs::load(git, &flat)?;
    docs.require_readable()?;
    let before = Docs::load(git, &ours)?;
    // A link or milestone taken back may carry the name or title of a local one made
    // since: the one taken (the remote's, as chosen) stands for both — one object,
    // never two of one title.
    invariants::unique_names(&before, &mut docs, Prefer::Theirs, &mut Vec::new());
    let report = renumber(&before, &mut docs);
    if report.is_empty() && !docs.is_dirty() {
        return Ok((after, report));
    }
    raise_counters(&mut docs);
    let mut result = flat.clone();
    docs.store(&mut result, &|bytes| write_blob(git, bytes))?;
    let edits = flat::diff(git, &flat, Some(&tree), &result)?;
    Ok((edits.apply(git, Some(&tree))?, report))
}
