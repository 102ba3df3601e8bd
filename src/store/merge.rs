//! Merging another clone's `refs/notes/releases` into ours: a fast-forward when one
//! side contains the other, else a three-way merge against the merge base whose
//! result is a commit with both parents. Notes merge release by release and field by
//! field (`crate::store::three_way`); content-addressed files (evidence, artifacts)
//! are a union; display ids that collide between the sides are renumbered on their
//! side; the tag index is derived from the merged notes, never merged itself.
//!
//! Conflicts (a field changed differently, a change against a deletion, one tag
//! released on two commits) keep the preferred side's value and are returned with
//! where they are, so that the caller can report them and record the merge as
//! unresolved (`merge_state`).

use std::collections::{BTreeMap, BTreeSet};

use git2::{ErrorCode, ObjectType, Oid, Repository, Tree};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::project_data::PROJECT_PATH;
use super::ref_write::Expected;
use super::retry::{self, Attempt};
use super::tree_edit::TreeEdits;
use super::{IndexEntry, NOTES_REF, Snapshot, Store, Transaction, Written, fanout};
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::model::IdKind;
use crate::store::three_way::{Merger, Prefer, Step};

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
    /// The merge base (`None`: the histories share nothing, or no merge was needed).
    pub base: Option<Oid>,
    pub conflicts: Vec<StoreConflict>,
    /// Display ids changed because both sides had handed out the same one.
    pub renumbered: Vec<String>,
}

/// Which document of the store a conflict is in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// The note on this commit (hex).
    Note(String),
    /// A file of the store (`milestones.json`, …).
    File(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The same value changed differently on both sides (or added differently).
    Changed,
    /// Changed on one side, deleted on the other (`ours` or `theirs` is absent).
    ModifyDelete,
    /// One tag released on two different commits: `ours` holds the local record
    /// (with its commit), `theirs` the remote's record, which sits in `document`.
    TagCommit,
    /// A release here whose tag the remote holds on another object, with no release
    /// of its own there (deleted, or a plain tag): found by `share::remote::fetch`,
    /// not by the store merge. `ours`/`theirs` hold `commit` and `tag_target`.
    TagTarget,
    /// A blob that is not our JSON (somebody's own note): `ours`/`theirs` are blob ids.
    Blob,
}

/// One conflict of a store merge, as reported and as recorded in the merge state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreConflict {
    /// What `resolve` takes to name it: a release's tag, `milestone:<title>`,
    /// `freeze:<id>`, or the store path of another file.
    pub subject: String,
    /// For people: `release v1 → name`.
    pub path: String,
    pub kind: ConflictKind,
    pub document: Document,
    pub at: Vec<Step>,
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
}

impl StoreConflict {
    /// `release v1 → name: local "a" vs origin "b"`.
    pub fn describe(&self, remote: &str) -> String {
        let show = |v: &Option<Value>| match v {
            None => "(deleted)".to_owned(),
            Some(v) => {
                let text = v.to_string();
                if text.chars().count() > 60 {
                    format!("{}…", text.chars().take(60).collect::<String>())
                } else {
                    text
                }
            }
        };
        match self.kind {
            ConflictKind::TagCommit => format!(
                "{}: released on commit {} here vs {} on {remote}",
                self.path,
                short(self.ours.as_ref().and_then(|o| o.get("commit"))),
                short(self.theirs.as_ref().and_then(|t| t.get("commit"))),
            ),
            ConflictKind::TagTarget => format!(
                "{}: tag on commit {} here vs {} on {remote}, which has no release on it",
                self.path,
                short(self.ours.as_ref().and_then(|o| o.get("commit"))),
                short(self.theirs.as_ref().and_then(|t| t.get("commit"))),
            ),
            _ => format!(
                "{}: local {} vs {remote} {}",
                self.path,
                show(&self.ours),
                show(&self.theirs)
            ),
        }
    }

    /// The tag object the remote's side names (`tag_target`), for the conflicts that
    /// carry one (a release record, or a tag conflict's summary).
    pub fn their_tag_target(&self) -> Option<Oid> {
        self.theirs
            .as_ref()?
            .get("tag_target")?
            .as_str()
            .and_then(|t| Oid::from_str(t).ok())
    }

    /// Identity of the conflicting place: a later merge's conflict on the same
    /// place replaces an earlier one.
    pub fn place(&self) -> (&Document, &[Step]) {
        (&self.document, &self.at)
    }
}

fn short(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .map_or("?".to_owned(), |s| s[..s.len().min(12)].to_owned())
}

/// Every blob of a notes tree: notes by commit (whatever their fanout) and other
/// files by path.
#[derive(Default, Clone)]
pub(crate) struct Flat {
    pub notes: BTreeMap<String, Oid>,
    pub files: BTreeMap<String, Oid>,
}

pub(crate) fn flatten<'r>(
    repo: &'r Repository,
    commit: Option<Oid>,
) -> Result<(Flat, Option<Tree<'r>>)> {
    let Some(commit) = commit else {
        return Ok((Flat::default(), None));
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| Error::git(format!("cannot read notes commit {commit}"), e))?;
    let flat = flatten_tree(repo, &tree)?;
    Ok((flat, Some(tree)))
}

/// Every blob of a notes tree, as `flatten`.
pub(crate) fn flatten_tree(repo: &Repository, tree: &Tree<'_>) -> Result<Flat> {
    let mut flat = Flat::default();
    fanout::for_each_note(repo, tree, &mut |hex, blob| {
        flat.notes.insert(hex, blob);
    })?;
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if fanout::is_note_name(name) {
            continue;
        }
        collect_files(repo, &entry, name.to_owned(), &mut flat.files)?;
    }
    Ok(flat)
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

pub(crate) const INDEX_DIR: &str = "index/";

/// Whether `a` contains `b`; errors keep their cause (a missing object is not "no").
fn descends(repo: &Repository, a: Oid, b: Oid) -> Result<bool> {
    if a == b {
        return Ok(true);
    }
    repo.graph_descendant_of(a, b)
        .map_err(|e| Error::git(format!("cannot compare notes commits {a} and {b}"), e))
}

/// The merge base of two notes commits; `None` only when they share no history.
pub fn merge_base(repo: &Repository, a: Oid, b: Oid) -> Result<Option<Oid>> {
    match repo.merge_base(a, b) {
        Ok(base) => Ok(Some(base)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(Error::git(
            format!("cannot find the merge base of notes commits {a} and {b}"),
            e,
        )),
    }
}

impl Store<'_> {
    /// As `update`, for an `op` that takes values back from recorded conflicts: ids
    /// they bring that another object shows are renumbered in the same commit. Also
    /// returns what was renumbered, for people.
    pub fn update_restoring<R>(
        &self,
        message: &str,
        op: impl FnMut(&mut Transaction<'_, '_>) -> Result<R>,
    ) -> Result<(Written<R>, Vec<String>)> {
        let mut renumbered = Vec::new();
        let written = self.update_then(message, op, |snapshot, tree| {
            let (tree, report) = renumber_restored(self, snapshot, tree)?;
            renumbered = report;
            Ok(tree)
        })?;
        Ok((written, renumbered))
    }

    /// Merges `theirs` (a notes commit fetched from `source`) into the local ref.
    /// On conflicts the merge is still made, keeping the preferred side's values, and
    /// the conflicts are returned for the caller to report and record. A lost race
    /// with a local writer is retried within the write time budget.
    pub fn merge_from(&self, theirs: Oid, source: &str, prefer: Prefer) -> Result<MergeOutcome> {
        let git = self.repo.git();
        retry::retry(git, NOTES_REF, || {
            let ours = self.snapshot()?.commit();
            let outcome = match ours {
                Some(o) if descends(git, o, theirs)? => {
                    return Ok(Attempt::Done(MergeOutcome {
                        kind: MergeKind::UpToDate,
                        commit: Some(o),
                        base: None,
                        conflicts: vec![],
                        renumbered: vec![],
                    }));
                }
                Some(o) if !descends(git, theirs, o)? => {
                    self.three_way(o, theirs, source, prefer)?
                }
                _ => MergeOutcome {
                    kind: MergeKind::FastForward,
                    commit: Some(theirs),
                    base: ours,
                    conflicts: vec![],
                    renumbered: vec![],
                },
            };
            let new = outcome
                .commit
                .expect("a merge or fast-forward has a commit");
            let log = match outcome.kind {
                MergeKind::FastForward => format!("git-release: fast-forward from {source}"),
                _ => format!("git-release: merge releases from {source}"),
            };
            // Someone who writes locally meanwhile makes the swap fail: the merge is
            // then made again on top of what they wrote.
            Ok(Attempt::Move {
                expected: Expected::read_as(ours),
                new,
                who: Person::committer(self.repo)?.signature()?,
                log,
                value: outcome,
            })
        })
    }

    fn three_way(
        &self,
        ours: Oid,
        theirs: Oid,
        source: &str,
        prefer: Prefer,
    ) -> Result<MergeOutcome> {
        let git = self.repo.git();
        let base = merge_base(git, ours, theirs)?;
        let (b, _) = flatten(git, base)?;
        let (o, our_tree) = flatten(git, Some(ours))?;
        let (t, _) = flatten(git, Some(theirs))?;
        let mut merger = Merger::new(prefer);
        let mut conflicts: Vec<StoreConflict> = Vec::new();
        let mut result = Flat::default();

        let note_keys: BTreeSet<&String> = o.notes.keys().chain(t.notes.keys()).collect();
        for hex in note_keys {
            let doc = Document::Note(hex.clone());
            let (bo, oo, to) = (b.notes.get(hex), o.notes.get(hex), t.notes.get(hex));
            let merged = self.merge_blob(&mut merger, &mut conflicts, &doc, bo, oo, to)?;
            if let Some(id) = merged {
                result.notes.insert(hex.clone(), id);
            }
        }
        let file_keys: BTreeSet<&String> = o
            .files
            .keys()
            .chain(t.files.keys())
            .filter(|p| !p.starts_with(INDEX_DIR))
            .collect();
        for path in file_keys {
            let doc = Document::File(path.clone());
            let (bo, oo, to) = (b.files.get(path), o.files.get(path), t.files.get(path));
            if let Some(id) = self.merge_blob(&mut merger, &mut conflicts, &doc, bo, oo, to)? {
                result.files.insert(path.clone(), id);
            }
        }

        // Whole-store passes over the merged result, on parsed documents.
        let mut docs = Docs::load(git, &result)?;
        self.one_commit_per_tag(&o, &mut docs, prefer, &mut conflicts)?;
        let renumbered = renumber(git, &o, &mut docs)?;
        raise_counters(&mut docs);
        docs.store(self, &mut result)?;
        derive_index(git, &o, &docs, &mut result)?;

        let edits = diff(git, &o, our_tree.as_ref(), &result)?;
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
        if !conflicts.is_empty() {
            message.push_str(&format!(
                "\nConflicts ({}):\n",
                if prefer == Prefer::Theirs {
                    "took the fetched values"
                } else {
                    "kept the local values"
                }
            ));
            for c in &conflicts {
                message.push_str(&format!("  {}\n", c.describe(source)));
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
            base,
            conflicts,
            renumbered,
        })
    }

    /// Three-way merge of one blob of `doc`: the merged blob, `None` when absent.
    fn merge_blob(
        &self,
        merger: &mut Merger,
        conflicts: &mut Vec<StoreConflict>,
        doc: &Document,
        base: Option<&Oid>,
        ours: Option<&Oid>,
        theirs: Option<&Oid>,
    ) -> Result<Option<Oid>> {
        if ours == theirs || base == theirs {
            return Ok(ours.copied());
        }
        if base == ours {
            return Ok(theirs.copied());
        }
        let git = self.repo.git();
        let (b, o, t) = (
            read_json(git, base)?,
            read_json(git, ours)?,
            read_json(git, theirs)?,
        );
        let json_everywhere = (ours.is_none() || o.is_some()) && (theirs.is_none() || t.is_some());
        if !json_everywhere {
            // Not JSON (a human's note, an artifact): whole blobs.
            conflicts.push(StoreConflict {
                subject: subject_of(doc, &[]),
                path: describe_path(doc, &[]),
                kind: ConflictKind::Blob,
                document: doc.clone(),
                at: vec![],
                ours: ours.map(|id| Value::from(id.to_string())),
                theirs: theirs.map(|id| Value::from(id.to_string())),
            });
            return Ok(match merger.prefer {
                Prefer::Ours => ours.copied(),
                Prefer::Theirs => theirs.copied(),
            });
        }
        let is_note = matches!(doc, Document::Note(_));
        // A note deleted on one side is an empty document there: a release deleted on
        // one side and edited on the other conflicts at that release, not the note.
        let empty = || Some(json!({"schema": 1, "releases": {}}));
        let (b, o, t) = if is_note {
            (b.or_else(empty), o.or_else(empty), t.or_else(empty))
        } else {
            (b, o, t)
        };
        let (o, t) = if matches!(doc, Document::File(p) if p == PROJECT_PATH) {
            max_counters(o, t)
        } else {
            (o, t)
        };
        let before = merger.conflicts.len();
        let merged = merger.merge(&[], b.as_ref(), o.as_ref(), t.as_ref());
        for c in merger.conflicts.drain(before..) {
            let kind = if c.ours.is_none() || c.theirs.is_none() {
                ConflictKind::ModifyDelete
            } else {
                ConflictKind::Changed
            };
            conflicts.push(StoreConflict {
                subject: subject_of_value(doc, &c.at, o.as_ref(), t.as_ref()),
                path: describe_path_value(doc, &c.at, o.as_ref(), t.as_ref()),
                kind,
                document: doc.clone(),
                at: c.at,
                ours: c.ours,
                theirs: c.theirs,
            });
        }
        let merged = match merged {
            Some(v) if is_note && note_is_empty(&v) => None,
            other => other,
        };
        match merged {
            Some(value) => Ok(Some(self.write_json(&value)?)),
            None => Ok(None),
        }
    }

    fn write_json(&self, value: &Value) -> Result<Oid> {
        self.repo
            .git()
            .blob(&json_bytes(value))
            .map_err(|e| Error::git("cannot write merged release data", e))
    }

    /// A tag must have one record: when the two sides released the same tag on
    /// different commits, the preferred side's record stays and the other is taken
    /// out of the merge, as a conflict.
    fn one_commit_per_tag(
        &self,
        ours: &Flat,
        docs: &mut Docs,
        prefer: Prefer,
        conflicts: &mut Vec<StoreConflict>,
    ) -> Result<()> {
        let git = self.repo.git();
        let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (hex, doc) in &docs.notes {
            for tag in note_tags(doc) {
                places.entry(tag).or_default().push(hex.clone());
            }
        }
        for (tag, hexes) in places {
            if hexes.len() < 2 {
                continue;
            }
            // Which of the places held the tag here before the merge.
            let mut local = Vec::new();
            for hex in &hexes {
                let here = read_json(git, ours.notes.get(hex))?;
                if here.is_some_and(|v| note_tags(&v).any(|t| t == tag)) {
                    local.push(hex.clone());
                }
            }
            let (Some(ours_hex), [_]) = (local.first().cloned(), local.as_slice()) else {
                // Not a disagreement between the sides (both or neither had it): leave
                // it to `verify`.
                continue;
            };
            for theirs_hex in hexes.iter().filter(|h| **h != ours_hex) {
                let theirs_record = docs.release(theirs_hex, &tag).cloned();
                let ours_record = docs.release(&ours_hex, &tag).cloned();
                let mut ours_summary = json!({"commit": ours_hex});
                if let Some(target) = ours_record.as_ref().and_then(|r| r.get("tag_target")) {
                    ours_summary["tag_target"] = target.clone();
                }
                let (kept, dropped) = match prefer {
                    Prefer::Ours => (&ours_hex, theirs_hex),
                    Prefer::Theirs => (theirs_hex, &ours_hex),
                };
                let _ = kept;
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
        Ok(())
    }
}

pub(crate) fn json_bytes(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values serialize");
    bytes.push(b'\n');
    bytes
}

pub(crate) fn read_json(repo: &Repository, id: Option<&Oid>) -> Result<Option<Value>> {
    let Some(id) = id else { return Ok(None) };
    let blob = repo
        .find_blob(*id)
        .map_err(|e| Error::git(format!("cannot read blob {id} of {NOTES_REF}"), e))?;
    Ok(serde_json::from_slice(blob.content()).ok())
}

fn note_is_empty(v: &Value) -> bool {
    let Some(map) = v.as_object() else {
        return false;
    };
    let releases_empty = map
        .get("releases")
        .and_then(Value::as_object)
        .is_none_or(|r| r.is_empty());
    releases_empty && map.keys().all(|k| k == "schema" || k == "releases")
}

pub(crate) fn note_tags(doc: &Value) -> impl Iterator<Item = String> + '_ {
    doc.get("releases")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|r| r.keys().cloned())
}

/// Who a conflict belongs to, as `resolve` names it.
fn subject_of(doc: &Document, at: &[Step]) -> String {
    subject_of_value(doc, at, None, None)
}

fn subject_of_value(doc: &Document, at: &[Step], o: Option<&Value>, t: Option<&Value>) -> String {
    match (doc, at) {
        (Document::Note(_), [Step::Field(r), Step::Field(tag), ..]) if r == "releases" => {
            tag.clone()
        }
        (Document::Note(hex), _) => format!("note:{hex}"),
        (Document::File(path), [Step::Field(list), Step::Key(key), ..]) => {
            let element = [o, t].into_iter().flatten().find_map(|v| {
                super::three_way::get(v, &[Step::Field(list.clone()), Step::Key(key.clone())])
                    .cloned()
            });
            let title = element
                .as_ref()
                .and_then(|e| e.get("title"))
                .and_then(Value::as_str);
            let id = element
                .as_ref()
                .and_then(|e| e.get("id"))
                .and_then(Value::as_u64);
            match (path.as_str(), title, id) {
                ("milestones.json", Some(title), _) => format!("milestone:{title}"),
                ("freezes.json", _, Some(id)) => format!("freeze:{id}"),
                _ => path.clone(),
            }
        }
        (Document::File(path), _) => path.clone(),
    }
}

fn describe_path(doc: &Document, at: &[Step]) -> String {
    describe_path_value(doc, at, None, None)
}

/// `release v1 → links["linux"] → url`, `milestone "M1" → due_date`.
fn describe_path_value(
    doc: &Document,
    at: &[Step],
    o: Option<&Value>,
    t: Option<&Value>,
) -> String {
    let mut out;
    let rest: &[Step];
    match (doc, at) {
        (Document::Note(_), [Step::Field(r), Step::Field(tag), tail @ ..]) if r == "releases" => {
            out = format!("release {tag}");
            rest = tail;
        }
        (Document::Note(hex), _) => {
            out = format!("the note on commit {}", &hex[..hex.len().min(12)]);
            rest = at;
        }
        (Document::File(_), [Step::Field(_), Step::Key(_), ..]) => {
            let subject = subject_of_value(doc, at, o, t);
            out = match subject.split_once(':') {
                Some((kind, name)) => format!("{kind} {name:?}"),
                None => subject,
            };
            rest = &at[2..];
        }
        (Document::File(path), _) => {
            out = path.clone();
            rest = at;
        }
    }
    // Within a record: name keyed elements by what people see.
    let mut walked: Vec<Step> = at[..at.len() - rest.len()].to_vec();
    for step in rest {
        walked.push(step.clone());
        match step {
            Step::Field(f) => out.push_str(&format!(" → {f}")),
            Step::Key(k) => {
                let element = [o, t]
                    .into_iter()
                    .flatten()
                    .find_map(|v| super::three_way::get(v, &walked).cloned());
                let name = element
                    .as_ref()
                    .and_then(|e| e.get("name").or_else(|| e.get("title")))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| k[..k.len().min(8)].to_owned());
                out.push_str(&format!("[{name:?}]"));
            }
        }
    }
    out
}

/// The merged result parsed: JSON notes and JSON files (evidence excluded: exact
/// bytes, never rewritten), with which of them a pass changed.
pub(crate) struct Docs {
    pub notes: BTreeMap<String, Value>,
    pub files: BTreeMap<String, Value>,
    pub dirty_notes: BTreeSet<String>,
    pub dirty_files: BTreeSet<String>,
}

impl Docs {
    pub fn load(repo: &Repository, flat: &Flat) -> Result<Docs> {
        let mut docs = Docs {
            notes: BTreeMap::new(),
            files: BTreeMap::new(),
            dirty_notes: BTreeSet::new(),
            dirty_files: BTreeSet::new(),
        };
        for (hex, id) in &flat.notes {
            if let Some(v) = read_json(repo, Some(id))? {
                if v.get("releases").is_some_and(Value::is_object) {
                    docs.notes.insert(hex.clone(), v);
                }
            }
        }
        for (path, id) in &flat.files {
            if !path.ends_with(".json")
                || path.starts_with("evidence/")
                || path.starts_with(INDEX_DIR)
            {
                continue;
            }
            if let Some(v) = read_json(repo, Some(id))? {
                docs.files.insert(path.clone(), v);
            }
        }
        Ok(docs)
    }

    fn release(&self, hex: &str, tag: &str) -> Option<&Value> {
        self.notes.get(hex)?.get("releases")?.get(tag)
    }

    fn remove_release(&mut self, hex: &str, tag: &str) {
        if let Some(releases) = self
            .notes
            .get_mut(hex)
            .and_then(|d| d.get_mut("releases"))
            .and_then(Value::as_object_mut)
        {
            releases.remove(tag);
            self.dirty_notes.insert(hex.to_owned());
        }
    }

    /// Writes the changed documents back into `flat` (an emptied note disappears).
    pub fn store(&self, store: &Store<'_>, flat: &mut Flat) -> Result<()> {
        for hex in &self.dirty_notes {
            let doc = &self.notes[hex];
            if note_is_empty(doc) {
                flat.notes.remove(hex);
            } else {
                flat.notes.insert(hex.clone(), store.write_json(doc)?);
            }
        }
        for path in &self.dirty_files {
            flat.files
                .insert(path.clone(), store.write_json(&self.files[path])?);
        }
        Ok(())
    }
}

/// The index the notes imply: `index/…` for every record, at the commit it sits on;
/// replaces whatever `flat` held under `index/`. Entries equal to `ours` keep their
/// blob; the others are written.
pub(crate) fn derive_index(
    repo: &Repository,
    ours: &Flat,
    docs: &Docs,
    flat: &mut Flat,
) -> Result<()> {
    flat.files.retain(|p, _| !p.starts_with(INDEX_DIR));
    for (hex, doc) in &docs.notes {
        for tag in note_tags(doc) {
            let (path, bytes) = index_blob(&tag, hex);
            let id = Oid::hash_object(ObjectType::Blob, &bytes)
                .map_err(|e| Error::git("cannot hash an index entry", e))?;
            let id = if ours.files.get(&path) == Some(&id) {
                id
            } else {
                repo.blob(&bytes)
                    .map_err(|e| Error::git(format!("cannot write {path}"), e))?
            };
            flat.files.insert(path, id);
        }
    }
    Ok(())
}

/// Path and bytes of the index entry of `tag`, as `Transaction::set_index` writes it.
pub(crate) fn index_blob(tag: &str, commit: &str) -> (String, Vec<u8>) {
    let entry = IndexEntry {
        tag: tag.to_owned(),
        commit: Oid::from_str(commit).unwrap_or(Oid::ZERO_SHA1),
    };
    let mut bytes = serde_json::to_vec(&entry).expect("index entries serialize");
    bytes.push(b'\n');
    (super::index_path(tag), bytes)
}

/// The tree edits that turn `ours` (whose tree is `tree`) into `result`.
pub(crate) fn diff(
    repo: &Repository,
    ours: &Flat,
    tree: Option<&Tree<'_>>,
    result: &Flat,
) -> Result<TreeEdits> {
    let mut edits = TreeEdits::default();
    let hexes: BTreeSet<&String> = ours.notes.keys().chain(result.notes.keys()).collect();
    for hex in hexes {
        let (o, r) = (ours.notes.get(hex), result.notes.get(hex));
        if o == r {
            continue;
        }
        if let Some(tree) = tree {
            for (path, _) in fanout::locate_note(repo, tree, hex)? {
                edits.remove(&path);
            }
        }
        if let Some(id) = r {
            edits.put(&fanout::note_path(hex), *id);
        }
    }
    let paths: BTreeSet<&String> = ours.files.keys().chain(result.files.keys()).collect();
    for path in paths {
        let (o, r) = (ours.files.get(path), result.files.get(path));
        if o == r {
            continue;
        }
        match r {
            Some(id) => edits.put(path, *id),
            None => edits.remove(path),
        }
    }
    Ok(edits)
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

/// The kind of the display ids in a list named `field`.
fn kind_of(field: &str) -> Option<IdKind> {
    IdKind::of_list(field)
}

/// The counter of `iid`s next to the `id`s of `kind`.
fn iid_kind(kind: IdKind) -> Option<IdKind> {
    (kind == IdKind::Milestone).then_some(IdKind::MilestoneIid)
}

/// Calls `f(kind, id, key)` for every display id of a store document: the `id` (and
/// `iid` where kept) of every object with a `key` inside a known list, anywhere in
/// `value`, and in a note (`is_note`) each release's own `id`, keyed by its tag (a
/// tag has one record: `one_commit_per_tag` runs first).
fn collect_ids(value: &Value, is_note: bool, f: &mut dyn FnMut(IdKind, u64, &str)) {
    walk_lists(value, "", &mut |kind, item| {
        let Some(key) = item.get("key").and_then(Value::as_str) else {
            return;
        };
        if let Some(id) = item.get("id").and_then(Value::as_u64) {
            f(kind, id, key);
        }
        if let (Some(iid_kind), Some(iid)) =
            (iid_kind(kind), item.get("iid").and_then(Value::as_u64))
        {
            f(iid_kind, iid, key);
        }
    });
    if is_note {
        for (tag, record) in note_releases(value) {
            if let Some(id) = record.get("id").and_then(Value::as_u64) {
                f(IdKind::Release, id, tag);
            }
        }
    }
}

/// The release records of a note, by tag.
fn note_releases(note: &Value) -> impl Iterator<Item = (&String, &Value)> {
    note.get("releases")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// `collect_ids` over every document of `docs`.
fn each_id(docs: &Docs, f: &mut dyn FnMut(IdKind, u64, &str)) {
    for v in docs.notes.values() {
        collect_ids(v, true, f);
    }
    for v in docs.files.values() {
        collect_ids(v, false, f);
    }
}

fn walk_lists(value: &Value, field: &str, f: &mut dyn FnMut(IdKind, &Value)) {
    match value {
        Value::Array(items) => {
            let kind = kind_of(field);
            for item in items {
                if let Some(kind) = kind {
                    f(kind, item);
                }
                walk_lists(item, "", f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk_lists(v, k, f);
            }
        }
        _ => {}
    }
}

/// A new display id, by kind and the key of the object that gets it.
type IdChanges = BTreeMap<(IdKind, String), u64>;

/// Gives every object whose display id collides with a different object's id a new
/// id above all in use and above the counters; objects that were in `ours` (the
/// store before the merge) keep theirs. Returns what changed, for people.
pub(crate) fn renumber(repo: &Repository, ours: &Flat, docs: &mut Docs) -> Result<Vec<String>> {
    let before = ids_before(repo, ours)?;
    let changes = new_ids(&before, docs);
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut report = Vec::new();
    for (hex, v) in docs.notes.iter_mut() {
        if apply_ids(v, true, &changes, &mut report) {
            docs.dirty_notes.insert(hex.clone());
        }
    }
    for (path, v) in docs.files.iter_mut() {
        if apply_ids(v, false, &changes, &mut report) {
            docs.dirty_files.insert(path.clone());
        }
    }
    Ok(report)
}

/// After values were taken back from recorded conflicts (`resolve --theirs`), the
/// notes tree `after` with the ids they brought renumbered where another object
/// shows the same id: a conflict kept them out of the merge, so the merge's
/// renumbering never saw them. Objects of `before` (the store the values were taken
/// into) keep their ids. Returns the tree and what changed, for people.
fn renumber_restored(
    store: &Store<'_>,
    before: &Snapshot<'_>,
    after: Oid,
) -> Result<(Oid, Vec<String>)> {
    // The snapshot's handle: the one the update writes through (its new objects may be
    // in memory until the commit, see pack_write.rs).
    let git = before.repo;
    let ours = match &before.tree {
        Some(tree) => flatten_tree(git, tree)?,
        None => Flat::default(),
    };
    let tree = git
        .find_tree(after)
        .map_err(|e| Error::git("cannot read the notes tree just built", e))?;
    let flat = flatten_tree(git, &tree)?;
    let mut docs = Docs::load(git, &flat)?;
    let report = renumber(git, &ours, &mut docs)?;
    if report.is_empty() {
        return Ok((after, report));
    }
    raise_counters(&mut docs);
    let mut result = flat.clone();
    docs.store(store, &mut result)?;
    let edits = diff(git, &flat, Some(&tree), &result)?;
    Ok((edits.apply(git, Some(&tree))?, report))
}

/// The id each object had in `ours`, by kind and key.
fn ids_before(repo: &Repository, ours: &Flat) -> Result<BTreeMap<(IdKind, String), u64>> {
    let mut before = BTreeMap::new();
    let files = ours
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".json") && !p.starts_with("evidence/"))
        .map(|(_, id)| (id, false));
    for (id, is_note) in ours.notes.values().map(|id| (id, true)).chain(files) {
        if let Some(v) = read_json(repo, Some(id))? {
            collect_ids(&v, is_note, &mut |kind, id, key| {
                before.insert((kind, key.to_owned()), id);
            });
        }
    }
    Ok(before)
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

/// Which keys show each (kind, id) in `docs`, and the highest id of each kind.
#[allow(clippy::type_complexity)]
fn id_uses(
    docs: &Docs,
) -> (
    BTreeMap<(IdKind, u64), BTreeSet<String>>,
    BTreeMap<IdKind, u64>,
) {
    let mut uses: BTreeMap<(IdKind, u64), BTreeSet<String>> = BTreeMap::new();
    let mut max_ids: BTreeMap<IdKind, u64> = BTreeMap::new();
    each_id(docs, &mut |kind, id, key| {
        uses.entry((kind, id)).or_default().insert(key.to_owned());
        let m = max_ids.entry(kind).or_insert(0);
        *m = (*m).max(id);
    });
    (uses, max_ids)
}

/// The id counters of `project.json` in `docs`, by kind (unknown counters ignored).
fn counters(docs: &Docs) -> Vec<(IdKind, u64)> {
    let Some(last) = docs
        .files
        .get(PROJECT_PATH)
        .and_then(|p| p.get("last_ids"))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    IdKind::ALL
        .iter()
        .filter_map(|kind| Some((*kind, last.get(kind.counter())?.as_u64()?)))
        .collect()
}

/// The counters in project.json, the highest display id in use of each kind, and
/// the (kind, id) pairs that more than one object shows.
#[allow(clippy::type_complexity)]
pub(crate) fn id_usage(
    docs: &Docs,
) -> (
    BTreeMap<String, u64>,
    BTreeMap<IdKind, u64>,
    Vec<(IdKind, u64)>,
) {
    let (uses, max_ids) = id_uses(docs);
    let counters = docs
        .files
        .get(PROJECT_PATH)
        .and_then(|p| p.get("last_ids"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let duplicates = uses
        .into_iter()
        .filter(|(_, keys)| keys.len() > 1)
        .map(|(k, _)| k)
        .collect();
    (counters, max_ids, duplicates)
}

/// Raises the counters in project.json past every display id in use.
pub(crate) fn raise_counters(docs: &mut Docs) {
    let (_, max_ids) = id_uses(docs);
    if max_ids.is_empty() {
        return;
    }
    let project = docs
        .files
        .entry(PROJECT_PATH.to_owned())
        .or_insert_with(|| json!({"schema": 1}));
    let Some(obj) = project.as_object_mut() else {
        return;
    };
    let last = obj
        .entry("last_ids")
        .or_insert_with(|| Value::Object(Default::default()));
    let Some(last) = last.as_object_mut() else {
        return;
    };
    let mut changed = false;
    for (kind, max) in &max_ids {
        let current = last
            .get(kind.counter())
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if *max > current {
            last.insert(kind.counter().to_owned(), Value::from(*max));
            changed = true;
        }
    }
    if changed {
        docs.dirty_files.insert(PROJECT_PATH.to_owned());
    }
}

/// Applies `changes` to the objects in `value` (a note when `is_note`); whether
/// anything changed.
fn apply_ids(
    value: &mut Value,
    is_note: bool,
    changes: &IdChanges,
    report: &mut Vec<String>,
) -> bool {
    let mut changed = apply_list_ids(value, "", changes, report);
    if is_note {
        changed |= apply_release_ids(value, changes, report);
    }
    changed
}

/// The releases' own ids in a note.
fn apply_release_ids(note: &mut Value, changes: &IdChanges, report: &mut Vec<String>) -> bool {
    let Some(releases) = note.get_mut("releases").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut changed = false;
    for (tag, record) in releases.iter_mut() {
        let old = record.get("id").and_then(Value::as_u64);
        if let (Some(old), Some(new)) = (old, changes.get(&(IdKind::Release, tag.clone()))) {
            record["id"] = Value::from(*new);
            report.push(format!("release {tag:?}: id {old} → {new}"));
            changed = true;
        }
    }
    changed
}

/// The ids of keyed objects in lists, anywhere in `value` (inside a field `field`).
fn apply_list_ids(
    value: &mut Value,
    field: &str,
    changes: &IdChanges,
    report: &mut Vec<String>,
) -> bool {
    let mut changed = false;
    match value {
        Value::Array(items) => {
            let kind = kind_of(field);
            for item in items.iter_mut() {
                if let Some(kind) = kind {
                    changed |= apply_item_ids(item, kind, changes, report);
                }
                changed |= apply_list_ids(item, "", changes, report);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                changed |= apply_list_ids(v, k, changes, report);
            }
        }
        _ => {}
    }
    changed
}

/// The `id` (and `iid`) of one keyed object of `kind`.
fn apply_item_ids(
    item: &mut Value,
    kind: IdKind,
    changes: &IdChanges,
    report: &mut Vec<String>,
) -> bool {
    let Some(key) = item.get("key").and_then(Value::as_str).map(str::to_owned) else {
        return false;
    };
    let name = item
        .get("name")
        .or_else(|| item.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut changed = false;
    for (field, kind) in [("id", Some(kind)), ("iid", iid_kind(kind))] {
        let Some(kind) = kind else { continue };
        let old = item.get(field).and_then(Value::as_u64);
        if let (Some(old), Some(new)) = (old, changes.get(&(kind, key.clone()))) {
            item[field] = Value::from(*new);
            changed = true;
            let what = if field == "id" {
                kind.counter().to_owned()
            } else {
                "milestone iid".to_owned()
            };
            report.push(format!("{what} {name:?}: {field} {old} → {new}"));
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::repo::Repo;

    /// A commit that is not there is an error naming it, not "diverged" or "no base".
    #[test]
    fn missing_objects_are_errors_not_divergence() {
        let dir = tempfile::tempdir().unwrap();
        let git = git2::Repository::init(dir.path()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let tree_id = git.treebuilder(None).unwrap().write().unwrap();
        let (ours, lone) = {
            let tree = git.find_tree(tree_id).unwrap();
            let ours = git.commit(None, &sig, &sig, "a", &tree, &[]).unwrap();
            let lone = git.commit(None, &sig, &sig, "b", &tree, &[]).unwrap();
            (ours, lone)
        };
        git.reference(NOTES_REF, ours, true, "test").unwrap();
        let missing = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        assert!(descends(&git, ours, missing).is_err());
        assert!(merge_base(&git, ours, missing).is_err());
        assert_eq!(merge_base(&git, ours, lone).unwrap(), None);
        let repo = Repo::from_git2(git);
        let err = Store::new(&repo)
            .merge_from(missing, "elsewhere", Prefer::Ours)
            .unwrap_err();
        assert!(err.to_string().contains("1234567890"), "{err}");
        assert_eq!(repo.git().refname_to_id(NOTES_REF).unwrap(), ours);
    }
}
