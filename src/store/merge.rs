//! Merging another clone's `refs/notes/releases` into ours: a fast-forward when one
//! side contains the other, else a three-way merge against the merge base whose
//! result is a commit with both parents. Notes merge release by release and field by
//! field (`crate::store::three_way`); content-addressed files (evidence, artifacts) are a union;
//! display ids that collide between the sides are renumbered on their side.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Oid, Repository, Tree};
use serde_json::Value;

use super::project_data::PROJECT_PATH;
use super::tree_edit::TreeEdits;
use super::{NOTES_REF, Store, fanout, ref_write};
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::model::IdKind;
use crate::store::three_way::{Conflict, Merger, Prefer};

#[derive(Debug, PartialEq, Eq)]
pub enum MergeKind {
    /// Nothing of theirs was missing here.
    UpToDate,
    FastForward,
    Merged,
}

#[derive(Debug)]
pub struct MergeOutcome {
    pub kind: MergeKind,
    pub commit: Option<Oid>,
    pub conflicts: Vec<Conflict>,
    /// Display ids changed because both sides had handed out the same one.
    pub renumbered: Vec<String>,
}

/// Every blob of a notes tree: notes by commit (whatever their fanout) and other
/// files by path.
#[derive(Default)]
struct Flat {
    notes: BTreeMap<String, Oid>,
    files: BTreeMap<String, Oid>,
}

fn flatten(repo: &Repository, commit: Option<Oid>) -> Result<(Flat, Option<Tree<'_>>)> {
    let Some(commit) = commit else {
        return Ok((Flat::default(), None));
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| Error::git(format!("cannot read notes commit {commit}"), e))?;
    let mut flat = Flat::default();
    fanout::for_each_note(repo, &tree, &mut |hex, blob| {
        flat.notes.insert(hex, blob);
    })?;
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if fanout::is_note_name(name) {
            continue;
        }
        collect_files(repo, &entry, name.to_owned(), &mut flat.files)?;
    }
    Ok((flat, Some(tree)))
}

fn collect_files(
    repo: &Repository,
    entry: &git2::TreeEntry<'_>,
    path: String,
    out: &mut BTreeMap<String, Oid>,
) -> Result<()> {
    match entry.kind() {
        Some(ObjectType::Blob) => {
            out.insert(path, entry.id());
        }
        Some(ObjectType::Tree) => {
            let tree = repo
                .find_tree(entry.id())
                .map_err(|e| Error::git(format!("cannot read {path}"), e))?;
            for child in tree.iter() {
                let Ok(name) = child.name() else { continue };
                collect_files(repo, &child, format!("{path}/{name}"), out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Store<'_> {
    /// Merges `theirs` (a notes commit fetched from `source`) into the local ref.
    /// On conflicts the merge is still made, keeping the preferred side's values, and
    /// the conflicts are returned for the caller to report.
    pub fn merge_from(&self, theirs: Oid, source: &str, prefer: Prefer) -> Result<MergeOutcome> {
        let git = self.repo.git();
        loop {
            let ours = self.snapshot()?.commit();
            let outcome = match ours {
                Some(o) if o == theirs || git.graph_descendant_of(o, theirs).unwrap_or(false) => {
                    return Ok(MergeOutcome {
                        kind: MergeKind::UpToDate,
                        commit: Some(o),
                        conflicts: vec![],
                        renumbered: vec![],
                    });
                }
                Some(o) if !git.graph_descendant_of(theirs, o).unwrap_or(false) => {
                    self.three_way(o, theirs, source, prefer)?
                }
                _ => MergeOutcome {
                    kind: MergeKind::FastForward,
                    commit: Some(theirs),
                    conflicts: vec![],
                    renumbered: vec![],
                },
            };
            let new = outcome
                .commit
                .expect("a merge or fast-forward has a commit");
            let who = Person::committer(self.repo)?.signature()?;
            let log = match outcome.kind {
                MergeKind::FastForward => format!("git-release: fast-forward from {source}"),
                _ => format!("git-release: merge releases from {source}"),
            };
            match ref_write::compare_and_swap(
                git,
                NOTES_REF,
                ours.unwrap_or(Oid::ZERO_SHA1),
                new,
                &who,
                &log,
            )? {
                ref_write::Outcome::Moved => return Ok(outcome),
                // Someone wrote locally meanwhile: merge again on top of that.
                ref_write::Outcome::LostRace => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
            }
        }
    }

    fn three_way(
        &self,
        ours: Oid,
        theirs: Oid,
        source: &str,
        prefer: Prefer,
    ) -> Result<MergeOutcome> {
        let git = self.repo.git();
        let base = git.merge_base(ours, theirs).ok();
        let (b, _) = flatten(git, base)?;
        let (o, our_tree) = flatten(git, Some(ours))?;
        let (t, _) = flatten(git, Some(theirs))?;
        let mut merger = Merger::new(prefer);
        let mut edits = TreeEdits::default();
        let mut merged_notes: BTreeMap<String, Value> = BTreeMap::new();

        let note_keys: BTreeSet<&String> = o.notes.keys().chain(t.notes.keys()).collect();
        for hex in note_keys {
            let (bo, oo, to) = (b.notes.get(hex), o.notes.get(hex), t.notes.get(hex));
            // Paths inside a note read "releases → v1.2 → name".
            let label = format!("the note on commit {}", &hex[..12]);
            let Some(result) = self.merge_blob(&mut merger, &label, "", bo, oo, to)? else {
                continue;
            };
            if let Some(tree) = &our_tree {
                for (path, _) in fanout::locate_note(git, tree, hex)? {
                    edits.remove(&path);
                }
            }
            match result {
                Merged::Blob(id) => edits.put(&fanout::note_path(hex), id),
                Merged::Json(value) => {
                    merged_notes.insert(hex.clone(), value);
                }
                Merged::Absent => {}
            }
        }
        let file_keys: BTreeSet<&String> = o.files.keys().chain(t.files.keys()).collect();
        let mut merged_files: BTreeMap<String, Value> = BTreeMap::new();
        for path in file_keys {
            let (bo, oo, to) = (b.files.get(path), o.files.get(path), t.files.get(path));
            match self.merge_blob(&mut merger, path, path, bo, oo, to)? {
                None => {}
                Some(Merged::Blob(id)) => edits.put(path, id),
                Some(Merged::Json(value)) => {
                    merged_files.insert(path.clone(), value);
                }
                Some(Merged::Absent) => edits.remove(path),
            }
        }

        let renumbered = self.renumber(&o, &t, &mut merged_notes, &mut merged_files)?;
        for (hex, value) in &merged_notes {
            edits.put(&fanout::note_path(hex), self.write_json(value)?);
        }
        for (path, value) in &merged_files {
            edits.put(path, self.write_json(value)?);
        }
        let tree = edits.apply(git, our_tree.as_ref())?;
        let tree = git
            .find_tree(tree)
            .map_err(|e| Error::git("cannot read the merged notes tree", e))?;
        let parents = [
            git.find_commit(ours)
                .map_err(|e| Error::git("cannot read the local notes commit", e))?,
            git.find_commit(theirs)
                .map_err(|e| Error::git("cannot read the fetched notes commit", e))?,
        ];
        let who = Person::committer(self.repo)?.signature()?;
        let mut message = format!("merge releases from {source}\n");
        if !merger.conflicts.is_empty() {
            message.push_str("\nConflicts (kept the ");
            message.push_str(if prefer == Prefer::Theirs {
                "fetched"
            } else {
                "local"
            });
            message.push_str(" value):\n");
            for c in &merger.conflicts {
                message.push_str(&format!("  {}\n", c.path));
            }
        }
        let commit = git
            .commit(
                None,
                &who,
                &who,
                &message,
                &tree,
                &[&parents[0], &parents[1]],
            )
            .map_err(|e| Error::git("cannot write the notes merge commit", e))?;
        Ok(MergeOutcome {
            kind: MergeKind::Merged,
            commit: Some(commit),
            conflicts: merger.conflicts,
            renumbered,
        })
    }

    /// Three-way merge of one blob (`label` names it; `root` prefixes paths inside its
    /// JSON): `None` = keep ours as it is.
    fn merge_blob(
        &self,
        merger: &mut Merger,
        label: &str,
        root: &str,
        base: Option<&Oid>,
        ours: Option<&Oid>,
        theirs: Option<&Oid>,
    ) -> Result<Option<Merged>> {
        if ours == theirs || base == theirs {
            return Ok(None);
        }
        if base == ours {
            return Ok(Some(theirs.map_or(Merged::Absent, |id| Merged::Blob(*id))));
        }
        let parse = |id: Option<&Oid>| -> Result<Option<Value>> {
            let Some(id) = id else { return Ok(None) };
            let blob = self
                .repo
                .git()
                .find_blob(*id)
                .map_err(|e| Error::git(format!("cannot read {label}"), e))?;
            Ok(serde_json::from_slice(blob.content()).ok())
        };
        let (b, o, t) = (parse(base)?, parse(ours)?, parse(theirs)?);
        let json_everywhere = (ours.is_none() || o.is_some()) && (theirs.is_none() || t.is_some());
        if !json_everywhere {
            // Not JSON (a human's note, an artifact): whole blobs, by preference.
            merger.conflicts.push(Conflict {
                path: label.to_owned(),
                ours: None,
                theirs: None,
            });
            return Ok(match merger.prefer {
                Prefer::Ours => None,
                Prefer::Theirs => Some(theirs.map_or(Merged::Absent, |id| Merged::Blob(*id))),
            });
        }
        let (o, t) = if label == PROJECT_PATH {
            max_counters(o, t)
        } else {
            (o, t)
        };
        Ok(Some(
            match merger.merge(root, b.as_ref(), o.as_ref(), t.as_ref()) {
                Some(value) => Merged::Json(value),
                None => Merged::Absent,
            },
        ))
    }

    fn write_json(&self, value: &Value) -> Result<Oid> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values serialize");
        bytes.push(b'\n');
        self.repo
            .git()
            .blob(&bytes)
            .map_err(|e| Error::git("cannot write merged release data", e))
    }

    /// Gives every object whose display id collides with a different object's id a new
    /// id above all in use; objects already here keep theirs. Returns what changed.
    fn renumber(
        &self,
        ours: &Flat,
        theirs: &Flat,
        notes: &mut BTreeMap<String, Value>,
        files: &mut BTreeMap<String, Value>,
    ) -> Result<Vec<String>> {
        // Every (kind, id, key) in the merged result: merged documents as merged,
        // everything else as it stands on our side or (taken whole) on theirs.
        let git = self.repo.git();
        let read = |id: &Oid| -> Option<Value> {
            git.find_blob(*id)
                .ok()
                .and_then(|b| serde_json::from_slice(b.content()).ok())
        };
        let mut ours_keys: BTreeSet<String> = BTreeSet::new();
        for id in ours.notes.values().chain(ours.files.values()) {
            if let Some(v) = read(id) {
                collect_ids(&v, "", &mut |_, _, key| {
                    ours_keys.insert(key.to_owned());
                });
            }
        }
        let mut uses: BTreeMap<(String, u64), BTreeSet<String>> = BTreeMap::new();
        let mut max_ids: BTreeMap<String, u64> = BTreeMap::new();
        let mut note = |v: &Value, scope: &str| {
            collect_ids(v, scope, &mut |kind, id, key| {
                uses.entry((kind.to_owned(), id))
                    .or_default()
                    .insert(key.to_owned());
                let m = max_ids.entry(kind.to_owned()).or_insert(0);
                *m = (*m).max(id);
            });
        };
        for (hex, id) in ours.notes.iter().chain(theirs.notes.iter()) {
            if !notes.contains_key(hex) {
                if let Some(v) = read(id) {
                    note(&v, "");
                }
            }
        }
        for v in notes.values() {
            note(v, "");
        }
        for (path, v) in files.iter() {
            note(v, path);
        }
        for (path, id) in ours.files.iter().chain(theirs.files.iter()) {
            if !files.contains_key(path)
                && path.ends_with(".json")
                && !path.starts_with("evidence/")
            {
                if let Some(v) = read(id) {
                    note(&v, path);
                }
            }
        }
        let mut changes: BTreeMap<(String, String), u64> = BTreeMap::new();
        for ((kind, _), keys) in &uses {
            if keys.len() < 2 {
                continue;
            }
            for key in keys.iter().filter(|k| !ours_keys.contains(*k)) {
                let next = max_ids.entry(kind.clone()).or_insert(0);
                *next += 1;
                changes.insert((kind.clone(), key.clone()), *next);
            }
        }
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        // Objects to renumber may sit in documents taken whole from their side: bring
        // those into the merged set so they are rewritten.
        for (hex, id) in &theirs.notes {
            if !notes.contains_key(hex) && ours.notes.get(hex) != Some(id) {
                if let Some(v) = read(id) {
                    notes.insert(hex.clone(), v);
                }
            }
        }
        for (path, id) in &theirs.files {
            if !files.contains_key(path)
                && ours.files.get(path) != Some(id)
                && path.ends_with(".json")
            {
                if let Some(v) = read(id) {
                    files.insert(path.clone(), v);
                }
            }
        }
        let mut report = Vec::new();
        for v in notes.values_mut() {
            apply_ids(v, "", &changes, &mut report);
        }
        for (path, v) in files.iter_mut() {
            apply_ids(v, path, &changes, &mut report);
        }
        // Counters move past every id handed out.
        let project = files.entry(PROJECT_PATH.to_owned()).or_insert_with(|| {
            ours.files
                .get(PROJECT_PATH)
                .and_then(read)
                .unwrap_or_else(|| serde_json::json!({"schema": 1}))
        });
        if let Some(obj) = project.as_object_mut() {
            let last = obj
                .entry("last_ids")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(last) = last.as_object_mut() {
                for (kind, max) in &max_ids {
                    let current = last.get(kind).and_then(Value::as_u64).unwrap_or(0);
                    last.insert(kind.clone(), Value::from(current.max(*max)));
                }
            }
        }
        Ok(report)
    }
}

enum Merged {
    Blob(Oid),
    Json(Value),
    Absent,
}

/// project.json counters only ever grow: take the larger of each before merging, so
/// that two clones handing out ids is not a conflict.
fn max_counters(ours: Option<Value>, theirs: Option<Value>) -> (Option<Value>, Option<Value>) {
    let (Some(mut o), Some(mut t)) = (ours.clone(), theirs.clone()) else {
        return (ours, theirs);
    };
    let mut max = serde_json::Map::new();
    for side in [&o, &t] {
        if let Some(ids) = side.get("last_ids").and_then(Value::as_object) {
            for (kind, v) in ids {
                let n = v.as_u64().unwrap_or(0);
                let cur = max.get(kind).and_then(Value::as_u64).unwrap_or(0);
                max.insert(kind.clone(), Value::from(n.max(cur)));
            }
        }
    }
    for side in [&mut o, &mut t] {
        if let Some(obj) = side.as_object_mut() {
            obj.insert("last_ids".into(), Value::Object(max.clone()));
        }
    }
    (Some(o), Some(t))
}

/// The id counter of the objects held in a list named `field` (`links` → link), or in
/// the file `scope` when the list is the file's top level (`milestones.json`); lists
/// without display ids get the list's own name, which no counter uses.
fn kind_of(field: &str, scope: &str) -> String {
    let name = if field.is_empty() {
        scope.trim_end_matches(".json")
    } else {
        field
    };
    IdKind::of_list(name).map_or_else(|| name.to_owned(), |kind| kind.counter().to_owned())
}

/// Calls `f(kind, id, key)` for every object with both a `key` and a numeric `id`
/// inside a list, anywhere in `value`.
fn collect_ids(value: &Value, scope: &str, f: &mut dyn FnMut(&str, u64, &str)) {
    walk_lists(value, "", scope, &mut |kind, item| {
        if let (Some(id), Some(key)) = (
            item.get("id").and_then(Value::as_u64),
            item.get("key").and_then(Value::as_str),
        ) {
            f(kind, id, key);
        }
    });
}

fn walk_lists(value: &Value, field: &str, scope: &str, f: &mut dyn FnMut(&str, &Value)) {
    match value {
        Value::Array(items) => {
            let kind = kind_of(field, scope);
            for item in items {
                f(&kind, item);
                walk_lists(item, "", scope, f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk_lists(v, k, scope, f);
            }
        }
        _ => {}
    }
}

fn apply_ids(
    value: &mut Value,
    scope: &str,
    changes: &BTreeMap<(String, String), u64>,
    report: &mut Vec<String>,
) {
    fn walk(
        value: &mut Value,
        field: &str,
        scope: &str,
        changes: &BTreeMap<(String, String), u64>,
        report: &mut Vec<String>,
    ) {
        match value {
            Value::Array(items) => {
                let kind = kind_of(field, scope);
                for item in items.iter_mut() {
                    let key = item.get("key").and_then(Value::as_str).map(str::to_owned);
                    if let (Some(key), Some(old)) = (key, item.get("id").and_then(Value::as_u64)) {
                        if let Some(new) = changes.get(&(kind.clone(), key)) {
                            item["id"] = Value::from(*new);
                            if item.get("iid").and_then(Value::as_u64) == Some(old) {
                                item["iid"] = Value::from(*new);
                            }
                            let name = item
                                .get("name")
                                .or_else(|| item.get("title"))
                                .and_then(Value::as_str)
                                .unwrap_or("");
                            report.push(format!("{kind} {name:?}: id {old} → {new}"));
                        }
                    }
                    walk(item, "", scope, changes, report);
                }
            }
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    walk(v, k, scope, changes, report);
                }
            }
            _ => {}
        }
    }
    walk(value, "", scope, changes, report)
}
