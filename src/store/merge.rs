//! Merging another clone's `refs/notes/releases` into ours: a fast-forward when ours
//! is contained in theirs (and theirs is sound), else a three-way merge against the
//! merge base whose result is a commit with both parents. Notes merge release by
//! release and field by field (`three_way`); content-addressed files (evidence,
//! artifacts) are a union; the whole-store rules are then enforced on the result,
//! decoded into the model types (`docs`): one record per tag (`invariants`), display
//! ids unique (`renumber`); the tag index is derived from the merged notes, never
//! merged itself (`Docs::derive_index`).
//!
//! What a merge never takes in: entries outside the store's layout (`layout`: left
//! out and reported), documents of a newer schema or that cannot be read, and blobs
//! larger than any document of the store (`docs::MAX_DOCUMENT_BYTES`): those refuse
//! the merge, which then changes nothing.
//!
//! Conflicts (a field changed differently, a change against a deletion, one tag
//! released on two commits) keep the preferred side's value and are returned with
//! where they are, so that the caller can report them and record the merge as
//! unresolved (`merge_state`).

use std::collections::BTreeSet;

use git2::{ErrorCode, Oid, Repository};
use serde_json::{Value, json};

use super::bookkeeping;
use super::conflict::{self, ConflictKind, Document, StoreConflict};
use super::docs::{self, Docs, write_blob};
use super::flat::{self, Flat, INDEX_DIR};
use super::invariants;
use super::layout::{self, UnknownEntry};
use super::project_data::PROJECT_PATH;
use super::ref_write::Expected;
use super::renumber;
use super::retry::{self, Attempt};
use super::{NOTES_REF, Store, Transaction, Written, note_location};
use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::store::three_way::{Merger, Prefer};

#[derive(Debug, PartialEq, Eq)]
pub enum MergeKind {
    /// Nothing of theirs was missing here.
    UpToDate,
    /// The ref now holds the fetched commit itself.
    FastForward,
    /// A new commit holds the merged store.
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
    /// Entries of the fetched tree outside the store's layout, left out of the merge.
    pub left_out: Vec<UnknownEntry>,
}

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

/// What merging two notes trees made.
#[derive(Debug)]
pub(crate) struct MergedTree {
    pub tree: Oid,
    pub conflicts: Vec<StoreConflict>,
    pub renumbered: Vec<String>,
    pub left_out: Vec<UnknownEntry>,
    /// The merged store is theirs, blob for blob, and their tree holds nothing else
    /// (its notes may sit at another fanout than `tree` has them).
    pub same_as_theirs: bool,
}

/// Merges the store of notes commit `theirs` (fetched from `source`) into the store
/// of `ours` against `base`, writing the new blobs and trees (no commit, no ref).
/// With `base` equal to `ours` this checks and takes theirs as it is, leaving out
/// what a merge never takes in.
pub(crate) fn merge_trees(
    repo: &Repository,
    base: Option<Oid>,
    ours: Option<Oid>,
    theirs: Oid,
    prefer: Prefer,
    source: &str,
) -> Result<MergedTree> {
    let (b, _) = flat::flatten(repo, base)?;
    let (o, our_tree) = flat::flatten(repo, ours)?;
    let (mut t, their_tree) = flat::flatten(repo, Some(theirs))?;
    let their_tree = their_tree.expect("a commit has a tree");
    let left_out = layout::unknown_entries(repo, &their_tree)?;
    let as_fetched = left_out.is_empty().then(|| t.clone());
    // Their foreign entries never enter: where we hold the same path, ours stays.
    t.files.retain(|path, _| layout::is_known_file(path));
    for path in o.files.keys().filter(|p| !layout::is_known_file(p)) {
        t.files.insert(path.clone(), o.files[path]);
    }
    let mut merger = Merger::new(prefer);
    let mut conflicts: Vec<StoreConflict> = Vec::new();
    let mut result = Flat::default();
    let incoming = Incoming { repo, source };

    let note_keys: BTreeSet<&String> = o.notes.keys().chain(t.notes.keys()).collect();
    for hex in note_keys {
        let doc = Document::Note(hex.clone());
        let (bo, oo, to) = (b.notes.get(hex), o.notes.get(hex), t.notes.get(hex));
        let merged = merge_blob(
            repo,
            &incoming,
            &mut merger,
            &mut conflicts,
            &doc,
            bo,
            oo,
            to,
        )?;
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
        if let Some(id) = merge_blob(
            repo,
            &incoming,
            &mut merger,
            &mut conflicts,
            &doc,
            bo,
            oo,
            to,
        )? {
            result.files.insert(path.clone(), id);
        }
    }

    // Whole-store passes over the merged result, on decoded documents.
    let before = Docs::load(repo, &o)?;
    let mut docs = Docs::load(repo, &result)?;
    docs.require_readable()?;
    invariants::one_record_per_tag(&before, &mut docs, prefer, &mut conflicts);
    invariants::unique_names(&before, &mut docs, prefer, &mut conflicts);
    renumber::check_bounds(&before, &docs, source)?;
    let renumbered = renumber::renumber(&before, &mut docs);
    renumber::raise_counters(&mut docs);
    bookkeeping::prune_schedules(&mut docs);
    docs.store(&mut result, &|bytes| write_blob(repo, bytes))?;
    docs.derive_index(repo, &o, &mut result)?;

    let same_as_theirs = as_fetched.as_ref() == Some(&result);
    let edits = flat::diff(repo, &o, our_tree.as_ref(), &result)?;
    let tree = edits.apply(repo, our_tree.as_ref())?;
    Ok(MergedTree {
        tree,
        conflicts,
        renumbered,
        left_out,
        same_as_theirs,
    })
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
            let (tree, report) = renumber::renumber_restored(snapshot, tree)?;
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
        retry::retry(self.repo, NOTES_REF, || {
            let ours = self.snapshot()?.commit();
            if let Some(o) = ours {
                if descends(git, o, theirs)? {
                    return Ok(Attempt::Done(MergeOutcome {
                        kind: MergeKind::UpToDate,
                        commit: Some(o),
                        base: None,
                        conflicts: vec![],
                        renumbered: vec![],
                        left_out: vec![],
                    }));
                }
            }
            let fast = match ours {
                None => true,
                Some(o) => descends(git, theirs, o)?,
            };
            let base = match ours {
                Some(o) if !fast => merge_base(git, o, theirs)?,
                _ => ours,
            };
            let merged = merge_trees(git, base, ours, theirs, prefer, source)?;
            let their_tree = git
                .find_commit(theirs)
                .and_then(|c| c.tree())
                .map_err(|e| Error::git(format!("cannot read notes commit {theirs}"), e))?
                .id();
            let who = Person::committer(self.repo)?.signature()?;
            // The same store at another notes fanout (plain `git notes` lays notes out
            // its own way) is the same store: taking theirs as it is keeps two clones
            // from rewriting each other's layout on every sync.
            let (kind, commit, log) =
                if fast && (merged.tree == their_tree || merged.same_as_theirs) {
                    let log = format!("git-release: fast-forward from {source}");
                    (MergeKind::FastForward, theirs, log)
                } else {
                    // Ours is in theirs' history when the merge is fast: theirs alone is the
                    // parent of what was taken from it.
                    let parents: Vec<Oid> = match ours {
                        Some(o) if !fast => vec![o, theirs],
                        _ => vec![theirs],
                    };
                    let message = merge_message(source, prefer, &merged);
                    let commit = write_merge_commit(git, merged.tree, &parents, &message, &who)?;
                    let log = format!("git-release: merge releases from {source}");
                    (MergeKind::Merged, commit, log)
                };
            // Someone who writes locally meanwhile makes the swap fail: the merge is
            // then made again on top of what they wrote.
            Ok(Attempt::Move {
                expected: Expected::read_as(ours),
                new: commit,
                who,
                log,
                value: MergeOutcome {
                    kind,
                    commit: Some(commit),
                    base,
                    conflicts: merged.conflicts,
                    renumbered: merged.renumbered,
                    left_out: merged.left_out,
                },
            })
        })
    }
}

fn merge_message(source: &str, prefer: Prefer, merged: &MergedTree) -> String {
    let mut message = format!("merge releases from {source}\n");
    if !merged.conflicts.is_empty() {
        message.push_str(&format!(
            "\nConflicts ({}):\n",
            if prefer == Prefer::Theirs {
                "took the fetched values"
            } else {
                "kept the local values"
            }
        ));
        for c in &merged.conflicts {
            message.push_str(&format!("  {}\n", c.describe(source)));
        }
    }
    if !merged.left_out.is_empty() {
        message.push_str("\nLeft out (not part of the store):\n");
        for entry in &merged.left_out {
            message.push_str(&format!("  {entry}\n"));
        }
    }
    message
}

fn write_merge_commit(
    repo: &Repository,
    tree: Oid,
    parents: &[Oid],
    message: &str,
    who: &git2::Signature<'_>,
) -> Result<Oid> {
    let fail = |e| Error::git("cannot write the notes merge commit", e);
    let tree = repo.find_tree(tree).map_err(fail)?;
    let parents = parents
        .iter()
        .map(|p| repo.find_commit(*p).map_err(fail))
        .collect::<Result<Vec<_>>>()?;
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, who, who, message, &tree, &parents)
        .map_err(fail)
}

/// Where the fetched side of a merge comes from, for checking what it brings.
struct Incoming<'a> {
    repo: &'a Repository,
    source: &'a str,
}

impl Incoming<'_> {
    /// A blob the merge takes from the fetched side: bounded in size, and a document
    /// of a newer schema refused (checked whether it is read for merging or taken
    /// whole).
    fn check(&self, doc: &Document, id: Oid) -> Result<()> {
        let location = match doc {
            Document::Note(hex) => format!("{} fetched from {}", note_location(hex), self.source),
            Document::File(path) => format!("{NOTES_REF}:{path} fetched from {}", self.source),
        };
        if matches!(doc, Document::File(p) if p.starts_with("artifacts/")) {
            // Report files attached as evidence: content-addressed, never read here.
            return Ok(());
        }
        let bytes = docs::read_bounded(self.repo, id, &location)?;
        let is_json_document = match doc {
            Document::Note(_) => true,
            Document::File(path) => !path.contains('/'),
        };
        if is_json_document {
            super::document::check_schema(&bytes, &location)?;
        }
        Ok(())
    }
}

/// Three-way merge of one blob of `doc`: the merged blob, `None` when absent.
#[allow(clippy::too_many_arguments)]
fn merge_blob(
    repo: &Repository,
    incoming: &Incoming<'_>,
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
    if let Some(theirs) = theirs {
        incoming.check(doc, *theirs)?;
    }
    if base == ours {
        return Ok(theirs.copied());
    }
    let (b, o, t) = (
        read_json(repo, base)?,
        read_json(repo, ours)?,
        read_json(repo, theirs)?,
    );
    let json_everywhere = (ours.is_none() || o.is_some()) && (theirs.is_none() || t.is_some());
    if !json_everywhere {
        // Not JSON (a human's note, an artifact): whole blobs.
        conflicts.push(StoreConflict {
            subject: conflict::subject_of(doc, &[]),
            path: conflict::describe_path(doc, &[]),
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
        let (o, t) = renumber::max_counters(o, t);
        bookkeeping::join_schedules(o, t)
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
            subject: conflict::subject_of_value(doc, &c.at, o.as_ref(), t.as_ref()),
            path: conflict::describe_path_value(doc, &c.at, o.as_ref(), t.as_ref()),
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
        Some(value) => Ok(Some(write_blob(repo, &docs::json_bytes(&value))?)),
        None => Ok(None),
    }
}

/// A blob as JSON; `None` when absent or not JSON (somebody's own note). Read within
/// the size bound of store documents.
fn read_json(repo: &Repository, id: Option<&Oid>) -> Result<Option<Value>> {
    let Some(id) = id else { return Ok(None) };
    let bytes = docs::read_bounded(repo, *id, &format!("blob {id} of {NOTES_REF}"))?;
    Ok(serde_json::from_slice(&bytes).ok())
}

/// A merged note with no release and nothing else in it: the note goes.
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
