//! What `doctor --repair` makes of the problems `health` finds, as one commit: an
//! unreadable document takes back its last readable version from the notes history
//! (a merge that broke it is merged again from its parents); a stray record of a tag
//! goes where the tag clearly points elsewhere; what a plain `git notes merge`
//! dropped comes back; duplicates become one or are renamed apart; ids and counters
//! return within bounds; shared display ids are renumbered; the tag index and
//! counters are rebuilt; lost evidence comes back; entries outside the layout go.
//! A document of a newer schema stops it all: this version rewrites nothing then.

use std::collections::{BTreeMap, BTreeSet};

use git2::{Commit, Oid, Repository};
use serde_json::Value;

use super::docs::{self, Docs, Place, write_blob};
use super::flat::{self, Flat};
use super::health::{self, Inconsistency, LostValue, check_store};
use super::ref_write::Expected;
use super::renumber;
use super::retry::{self, Attempt};
use super::three_way::{Merger, Prefer};
use super::{NOTES_REF, Store, fanout, layout};
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::model::Key;
use crate::model::freeze::FREEZES_PATH;
use crate::model::milestone::MILESTONES_PATH;
use crate::store::project_data::PROJECT_PATH;

/// What `doctor --repair` found and did.
#[derive(Debug)]
pub struct Repaired {
    /// Everything found before repairing.
    pub problems: Vec<Inconsistency>,
    /// What was done, for people.
    pub actions: Vec<String>,
    /// The repair commit; `None` when nothing was repairable.
    pub commit: Option<Oid>,
}

impl Store<'_> {
    /// Repairs what `check_store` finds and can be repaired, as one commit.
    pub fn repair_store(&self) -> Result<Repaired> {
        let git = self.repo.git();
        retry::retry(self.repo, NOTES_REF, || {
            let snapshot = self.snapshot()?;
            let problems = check_store(&snapshot)?;
            let head = match snapshot.commit() {
                Some(head) if problems.iter().any(Inconsistency::repairable) => head,
                _ => {
                    return Ok(Attempt::Done(Repaired {
                        problems,
                        actions: Vec::new(),
                        commit: None,
                    }));
                }
            };
            if let Some(newer) = problems.iter().find(|p| {
                matches!(
                    p,
                    Inconsistency::Unreadable {
                        newer_schema: true,
                        ..
                    }
                )
            }) {
                return Err(Error::Refused {
                    action: format!("repairing {NOTES_REF}"),
                    reason: format!(
                        "{newer}; this version never rewrites a store holding a newer schema (upgrade git-release)"
                    ),
                });
            }
            // A release whose note is not ours keeps its index entry: rebuilding the
            // index now would drop it.
            if let Some(foreign) = problems
                .iter()
                .find(|p| matches!(p, Inconsistency::ForeignNote { .. }))
            {
                return Err(Error::Refused {
                    action: format!("repairing {NOTES_REF}"),
                    reason: format!("{foreign}; put that note right first ({})", foreign.fix()),
                });
            }
            let (tree, actions) = repaired_tree(git, head, &problems)?;
            let who = Person::committer(self.repo)?.signature()?;
            let mut message = String::from("doctor: repair the store\n\n");
            for action in &actions {
                message.push_str(&format!("  {action}\n"));
            }
            let fail = |e| Error::git(format!("cannot write a commit on {NOTES_REF}"), e);
            let tree = git.find_tree(tree).map_err(fail)?;
            let parent = git.find_commit(head).map_err(fail)?;
            let commit = git
                .commit(None, &who, &who, &message, &tree, &[&parent])
                .map_err(fail)?;
            Ok(Attempt::Move {
                expected: Expected::MustExistAndMatch(head),
                new: commit,
                who,
                log: "git-release: doctor --repair".into(),
                value: Repaired {
                    problems,
                    actions,
                    commit: Some(commit),
                },
            })
        })
    }
}

/// The tree of notes commit `head` with every repairable problem repaired, and what
/// was done.
fn repaired_tree(
    repo: &Repository,
    head: Oid,
    problems: &[Inconsistency],
) -> Result<(Oid, Vec<String>)> {
    let mut actions = Vec::new();
    let (loaded, tree) = health::load(repo, Some(head))?;
    let ours = loaded.flat.clone();
    let mut result = loaded.flat;
    for unreadable in &loaded.docs.unreadable {
        restore(repo, head, &unreadable.place, &mut result, &mut actions)?;
    }
    let mut docs = Docs::load(repo, &result)?;
    docs.require_readable()?;

    stray_records(problems, &mut docs, &mut actions);
    for lost in health::lost_in_merges(repo, head, &docs)? {
        actions.push(format!("took back: {}", lost.problem));
        match lost.value {
            LostValue::Milestone(m) => {
                docs.milestones.get_or_insert_default().milestones.push(m);
                docs.mark(Place::Milestones);
            }
            LostValue::Freeze(f) => {
                docs.freezes.get_or_insert_default().freezes.push(f);
                docs.mark(Place::Freezes);
            }
        }
    }
    duplicate_links(&mut docs, &mut actions);
    duplicate_titles(&mut docs, &mut actions);
    actions.extend(renumber::within_bounds(&mut docs));
    actions.extend(
        renumber::renumber(&Docs::default(), &mut docs)
            .into_iter()
            .map(|r| format!("renumbered {r}")),
    );
    renumber::raise_counters(&mut docs);
    docs.store(&mut result, &|bytes| write_blob(repo, bytes))?;
    recover_evidence(repo, head, &docs, &mut result, &mut actions)?;
    docs.derive_index(repo, &ours, &mut result)?;
    let mut edits = flat::diff(repo, &ours, tree.as_ref(), &result)?;
    if let Some(tree) = &tree {
        for entry in layout::unknown_entries(repo, tree)? {
            actions.push(format!("removed {entry} (not part of the store)"));
            edits.remove(&entry.path);
        }
    }
    if actions.is_empty() {
        actions.push("rebuilt the tag index and id counters from the notes".into());
    }
    Ok((edits.apply(repo, tree.as_ref())?, actions))
}

/// The path of `place` in a tree (a note at whatever fanout it sits).
fn blob_at(repo: &Repository, commit: &Commit<'_>, place: &Place) -> Result<Option<Oid>> {
    let tree = commit
        .tree()
        .map_err(|e| Error::git(format!("cannot read notes commit {}", commit.id()), e))?;
    let path = match place {
        Place::Note(hex) => {
            return Ok(fanout::locate_note(repo, &tree, hex)?
                .first()
                .map(|(_, id)| *id));
        }
        Place::Project => PROJECT_PATH,
        Place::Milestones => MILESTONES_PATH,
        Place::Freezes => FREEZES_PATH,
        Place::Package(path) => path,
    };
    Ok(tree
        .get_path(std::path::Path::new(path))
        .ok()
        .map(|e| e.id()))
}

fn readable(repo: &Repository, id: Oid, place: &Place) -> bool {
    docs::read_bounded(repo, id, "a document")
        .and_then(|bytes| docs::decode_check(place, &bytes))
        .is_ok()
}

fn describe(place: &Place) -> String {
    match place {
        Place::Note(hex) => super::note_location(hex),
        Place::Project => PROJECT_PATH.into(),
        Place::Milestones => MILESTONES_PATH.into(),
        Place::Freezes => FREEZES_PATH.into(),
        Place::Package(path) => path.clone(),
    }
}

/// Puts back the last readable version of the document at `place`, walking first
/// parents from `head`: the version of the commit before the one that broke it; when
/// a merge broke it, the parents' versions merged again; when it was never readable,
/// nothing (the history keeps what was there).
fn restore(
    repo: &Repository,
    head: Oid,
    place: &Place,
    flat: &mut Flat,
    actions: &mut Vec<String>,
) -> Result<()> {
    let fail = |e| Error::git("cannot walk the notes history", e);
    let what = describe(place);
    let mut current = repo.find_commit(head).map_err(fail)?;
    let restored: Option<Oid> = loop {
        let Some(id) = blob_at(repo, &current, place)? else {
            actions.push(format!(
                "removed {what}: it cannot be read and was never readable (notes commit {} added it; `git show {}:{}` shows it)",
                short(&current.id().to_string()),
                short(&head.to_string()),
                place_path(repo, head, place)?
            ));
            break None;
        };
        if readable(repo, id, place) {
            actions.push(format!(
                "took back {what} as of notes commit {}",
                short(&current.id().to_string())
            ));
            break Some(id);
        }
        if current.parent_count() >= 2 {
            if let Some((merged, kept)) = merge_parents(repo, &current, place)? {
                actions.push(format!(
                    "merged {what} again from the parents of notes commit {}{}",
                    short(&current.id().to_string()),
                    if kept.is_empty() {
                        String::new()
                    } else {
                        format!(" (kept the first parent's value of {})", kept.join(", "))
                    }
                ));
                break Some(merged);
            }
        }
        match current.parent(0) {
            Ok(parent) => current = parent,
            Err(_) => {
                actions.push(format!(
                    "removed {what}: no readable version in the history"
                ));
                break None;
            }
        }
    };
    match (place, restored) {
        (Place::Note(hex), Some(id)) => {
            flat.notes.insert(hex.clone(), id);
        }
        (Place::Note(hex), None) => {
            flat.notes.remove(hex);
        }
        (_, Some(id)) => {
            flat.files.insert(describe(place), id);
        }
        (_, None) => {
            flat.files.remove(&describe(place));
        }
    }
    Ok(())
}

fn place_path(repo: &Repository, head: Oid, place: &Place) -> Result<String> {
    Ok(match place {
        Place::Note(hex) => {
            let commit = repo
                .find_commit(head)
                .map_err(|e| Error::git("cannot read the notes commit", e))?;
            let tree = commit
                .tree()
                .map_err(|e| Error::git("cannot read the notes tree", e))?;
            fanout::locate_note(repo, &tree, hex)?
                .first()
                .map_or_else(|| fanout::note_path(hex), |(p, _)| p.clone())
        }
        other => describe(other),
    })
}

/// The document at `place` merged again from the parents of `merge` (its first
/// parent preferred on a conflict), when every parent's version is readable: the
/// merged blob and the places where the first parent's value was kept.
fn merge_parents(
    repo: &Repository,
    merge: &Commit<'_>,
    place: &Place,
) -> Result<Option<(Oid, Vec<String>)>> {
    let parents: Vec<Commit<'_>> = merge.parents().collect();
    let [first, second] = parents.as_slice() else {
        return Ok(None);
    };
    let value = |c: &Commit<'_>| -> Result<Option<Option<Value>>> {
        match blob_at(repo, c, place)? {
            None => Ok(Some(None)),
            Some(id) if readable(repo, id, place) => {
                let bytes = docs::read_bounded(repo, id, "a document")?;
                Ok(Some(serde_json::from_slice(&bytes).ok()))
            }
            Some(_) => Ok(None),
        }
    };
    let (Some(o), Some(t)) = (value(first)?, value(second)?) else {
        return Ok(None);
    };
    let base = match repo.merge_base(first.id(), second.id()) {
        Ok(b) => {
            let b = repo
                .find_commit(b)
                .map_err(|e| Error::git("cannot read the merge base", e))?;
            value(&b)?.flatten()
        }
        Err(_) => None,
    };
    let mut merger = Merger::new(Prefer::Ours);
    let Some(merged) = merger.merge(&[], base.as_ref(), o.as_ref(), t.as_ref()) else {
        return Ok(None);
    };
    let bytes = docs::json_bytes(&merged);
    if docs::decode_check(place, &bytes).is_err() {
        return Ok(None);
    }
    let kept = merger
        .conflicts
        .iter()
        .map(|c| {
            c.at.iter()
                .map(|s| match s {
                    super::three_way::Step::Field(f) => f.clone(),
                    super::three_way::Step::Key(k) => k[..k.len().min(8)].to_owned(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    Ok(Some((write_blob(repo, &bytes)?, kept)))
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// Of a tag recorded on several commits, the records on commits the tag does not
/// point at go, when it points at one of them.
fn stray_records(problems: &[Inconsistency], docs: &mut Docs, actions: &mut Vec<String>) {
    for problem in problems {
        let Inconsistency::TagOnTwoCommits {
            tag,
            commits,
            tag_at: Some(at),
        } = problem
        else {
            continue;
        };
        if !commits.contains(at) {
            continue;
        }
        for stray in commits.iter().filter(|c| *c != at) {
            if docs.remove_release(stray, tag).is_some() {
                actions.push(format!(
                    "removed the record of {tag} on commit {} (tag {tag} points at {})",
                    short(stray),
                    short(at)
                ));
            }
        }
    }
}

/// Links of a release sharing a name, URL or direct asset path: equal ones become
/// one; different ones sharing a name are renamed apart, `<name> (<id>)`; different
/// ones sharing only a URL or path are left for a person to choose.
fn duplicate_links(docs: &mut Docs, actions: &mut Vec<String>) {
    let mut changed = Vec::new();
    for (hex, note) in docs.notes.iter_mut() {
        for (tag, release) in note.releases.iter_mut() {
            let mut kept: Vec<crate::model::Link> = Vec::new();
            for link in std::mem::take(&mut release.links) {
                if let Some(same) = kept.iter().find(|k| k.same_content(&link)) {
                    actions.push(format!(
                        "removed link {:?} (id {}) of release {tag}: equal to link id {}",
                        link.name, link.id, same.id
                    ));
                    changed.push(hex.clone());
                    continue;
                }
                let mut link = link;
                if kept.iter().any(|k| k.name == link.name) {
                    let mut name = format!("{} ({})", link.name, link.id);
                    while kept.iter().any(|k| k.name == name) {
                        name.push('\'');
                    }
                    actions.push(format!(
                        "renamed link {:?} (id {}) of release {tag} to {name:?}",
                        link.name, link.id
                    ));
                    link.name = name;
                    changed.push(hex.clone());
                }
                kept.push(link);
            }
            release.links = kept;
        }
    }
    for hex in changed {
        docs.mark(Place::Note(hex));
    }
}

/// Milestones sharing a title: equal ones become one (releases follow it);
/// different ones are renamed apart, `<title> (<id>)`.
fn duplicate_titles(docs: &mut Docs, actions: &mut Vec<String>) {
    let Some(file) = docs.milestones.as_mut() else {
        return;
    };
    let mut kept: Vec<crate::model::Milestone> = Vec::new();
    let mut replaced: BTreeMap<Key, Key> = BTreeMap::new();
    let mut changed = false;
    for m in std::mem::take(&mut file.milestones) {
        if let Some(same) = kept
            .iter()
            .find(|k| k.title == m.title && k.same_content(&m))
        {
            actions.push(format!(
                "removed milestone {:?} (id {}): equal to milestone id {}",
                m.title, m.id, same.id
            ));
            replaced.insert(m.key, same.key);
            changed = true;
            continue;
        }
        let mut m = m;
        if kept.iter().any(|k| k.title == m.title) {
            let mut title = format!("{} ({})", m.title, m.id);
            while kept.iter().any(|k| k.title == title) {
                title.push('\'');
            }
            actions.push(format!(
                "renamed milestone {:?} (id {}) to {title:?}",
                m.title, m.id
            ));
            m.title = title;
            changed = true;
        }
        kept.push(m);
    }
    file.milestones = kept;
    if !changed {
        return;
    }
    docs.mark(Place::Milestones);
    let mut notes = BTreeSet::new();
    for (hex, note) in docs.notes.iter_mut() {
        for release in note.releases.values_mut() {
            if release.milestones.iter().any(|k| replaced.contains_key(k)) {
                let mut keys = Vec::new();
                for key in &release.milestones {
                    let key = replaced.get(key).copied().unwrap_or(*key);
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
                release.milestones = keys;
                notes.insert(hex.clone());
            }
        }
    }
    for hex in notes {
        docs.mark(Place::Note(hex));
    }
}

/// Takes lost evidence files back from the notes history (the other parent of a
/// plain `git notes merge` still has them), and the artifacts they name.
fn recover_evidence(
    repo: &Repository,
    head: Oid,
    docs: &Docs,
    result: &mut Flat,
    actions: &mut Vec<String>,
) -> Result<()> {
    let mut missing: Vec<String> = health::lost_evidence(result, docs)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let fail = |e| Error::git("cannot walk the notes history", e);
    let mut walk = repo.revwalk().map_err(fail)?;
    walk.push(head).map_err(fail)?;
    for commit in walk {
        if missing.is_empty() {
            break;
        }
        let commit = repo.find_commit(commit.map_err(fail)?).map_err(fail)?;
        let tree = commit.tree().map_err(fail)?;
        let mut found = Vec::new();
        for path in &missing {
            if let Ok(entry) = tree.get_path(std::path::Path::new(path)) {
                result.files.insert(path.clone(), entry.id());
                actions.push(format!("took back evidence {path} from the notes history"));
                found.push(path.clone());
                // The report artifacts the evidence names, if lost too.
                if let Ok(blob) = repo.find_blob(entry.id()) {
                    let text = String::from_utf8_lossy(blob.content()).into_owned();
                    for part in text.split('"') {
                        if part.starts_with("artifacts/") && !result.files.contains_key(part) {
                            if let Ok(a) = tree.get_path(std::path::Path::new(part)) {
                                result.files.insert(part.to_owned(), a.id());
                            }
                        }
                    }
                }
            }
        }
        missing.retain(|p| !found.contains(p));
    }
    Ok(())
}
