//! Data derived from the notes: the tag index (`index/…`) and the id counters in
//! `project.json`. Plain `git notes merge` skips every non-note entry, so a store
//! merged that way keeps a stale index and counters; `check_derived` finds that
//! (for `verify`), and `Store::repair_derived` rebuilds both from the notes (for
//! `doctor --repair`), also renumbering display ids that two objects share.

use std::collections::BTreeMap;
use std::fmt;

use git2::Oid;

use super::docs::{Docs, write_blob};
use super::flat::{self, Flat, INDEX_DIR};
use super::ref_write::Expected;
use super::renumber;
use super::retry::{self, Attempt};
use super::{IndexEntry, NOTES_REF, Snapshot, Store};
use crate::error::{Error, Result};
use crate::git::identity::Person;

/// One way the derived data disagree with the notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    /// A release with no index entry.
    IndexMissing { tag: String, commit: String },
    /// The index sends a tag to another commit than its record is on.
    IndexWrong {
        tag: String,
        indexed: String,
        commit: String,
    },
    /// An index entry for which no record exists, or one that is unreadable.
    IndexStale { path: String, reason: String },
    /// One tag recorded on two commits.
    TagOnTwoCommits { tag: String, commits: Vec<String> },
    /// A counter behind an id in use: the next object would reuse that id.
    CounterBehind {
        kind: String,
        counter: u64,
        highest: u64,
    },
    /// Two objects show the same display id.
    DuplicateId { kind: String, id: u64 },
    /// A document of the store that cannot be read (bad JSON, a newer schema, a
    /// record missing a field): nothing that would rewrite it goes on.
    Unreadable { location: String, reason: String },
    /// A release lists an evidence file the notes tree lacks (`git notes merge`
    /// drops the other side's); repair takes it back from the notes history.
    EvidenceLost { tag: String, path: String },
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |s: &str| s[..s.len().min(12)].to_owned();
        match self {
            Inconsistency::IndexMissing { tag, commit } => write!(
                f,
                "the index has no entry for release {tag} (on commit {})",
                short(commit)
            ),
            Inconsistency::IndexWrong {
                tag,
                indexed,
                commit,
            } => write!(
                f,
                "the index sends release {tag} to commit {}, but its record is on {}",
                short(indexed),
                short(commit)
            ),
            Inconsistency::IndexStale { path, reason } => {
                write!(f, "index entry {path}: {reason}")
            }
            Inconsistency::TagOnTwoCommits { tag, commits } => write!(
                f,
                "release {tag} is recorded on {} commits: {}",
                commits.len(),
                commits
                    .iter()
                    .map(|c| short(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Inconsistency::CounterBehind {
                kind,
                counter,
                highest,
            } => write!(
                f,
                "project.json's {kind} counter is {counter}, but id {highest} is in use"
            ),
            Inconsistency::DuplicateId { kind, id } => {
                write!(f, "{kind} id {id} is shown by more than one object")
            }
            Inconsistency::Unreadable { location, reason } => {
                write!(f, "{location} cannot be read: {reason}")
            }
            Inconsistency::EvidenceLost { tag, path } => {
                write!(
                    f,
                    "release {tag} lists evidence {path}, which the store lacks"
                )
            }
        }
    }
}

impl Inconsistency {
    /// Whether `doctor --repair` fixes it.
    pub fn repairable(&self) -> bool {
        !matches!(
            self,
            Inconsistency::TagOnTwoCommits { .. } | Inconsistency::Unreadable { .. }
        )
    }
}

fn load(snapshot: &Snapshot<'_>) -> Result<(Flat, Docs)> {
    let repo = snapshot.repository();
    let (flat, _) = flat::flatten(repo, snapshot.commit())?;
    let docs = Docs::load(repo, &flat)?;
    Ok((flat, docs))
}

/// Compares the index and counters with what the notes imply.
pub fn check_derived(snapshot: &Snapshot<'_>) -> Result<Vec<Inconsistency>> {
    let (flat, docs) = load(snapshot)?;
    let mut problems: Vec<Inconsistency> = docs
        .unreadable
        .iter()
        .map(|u| Inconsistency::Unreadable {
            location: u.location.clone(),
            reason: u.error.to_string(),
        })
        .collect();
    let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tag, hex, _) in docs.records() {
        places
            .entry(tag.to_owned())
            .or_default()
            .push(hex.to_owned());
    }
    let mut indexed: BTreeMap<String, String> = BTreeMap::new();
    for (path, id) in flat.files.iter().filter(|(p, _)| p.starts_with(INDEX_DIR)) {
        let bytes = snapshot.blob(*id, path)?;
        match serde_json::from_slice::<IndexEntry>(&bytes) {
            Ok(entry) if super::index_path(&entry.tag) == *path => {
                indexed.insert(entry.tag, entry.commit.to_string());
            }
            Ok(entry) => problems.push(Inconsistency::IndexStale {
                path: path.clone(),
                reason: format!("it names tag {:?}, which belongs elsewhere", entry.tag),
            }),
            Err(e) => problems.push(Inconsistency::IndexStale {
                path: path.clone(),
                reason: format!("unreadable: {e}"),
            }),
        }
    }
    for (tag, commits) in &places {
        if commits.len() > 1 {
            problems.push(Inconsistency::TagOnTwoCommits {
                tag: tag.clone(),
                commits: commits.clone(),
            });
        }
        match indexed.get(tag) {
            None => problems.push(Inconsistency::IndexMissing {
                tag: tag.clone(),
                commit: commits[0].clone(),
            }),
            Some(at) if !commits.contains(at) => problems.push(Inconsistency::IndexWrong {
                tag: tag.clone(),
                indexed: at.clone(),
                commit: commits[0].clone(),
            }),
            Some(_) => {}
        }
    }
    for tag in indexed.keys().filter(|t| !places.contains_key(*t)) {
        problems.push(Inconsistency::IndexStale {
            path: super::index_path(tag),
            reason: format!("no release {tag} is recorded"),
        });
    }
    for (tag, path) in lost_evidence(&flat, &docs) {
        problems.push(Inconsistency::EvidenceLost { tag, path });
    }
    let usage = renumber::id_usage(&docs);
    for (kind, max) in &usage.highest {
        let counter = usage.counters.get(kind.counter()).copied().unwrap_or(0);
        if counter < *max {
            problems.push(Inconsistency::CounterBehind {
                kind: kind.counter().to_owned(),
                counter,
                highest: *max,
            });
        }
    }
    for (kind, id) in usage.duplicates {
        problems.push(Inconsistency::DuplicateId {
            kind: kind.counter().to_owned(),
            id,
        });
    }
    Ok(problems)
}

impl Store<'_> {
    /// Rebuilds the index and counters from the notes and renumbers shared display
    /// ids, as one commit; returns what was wrong and the new commit (`None` when
    /// nothing needed repair).
    pub fn repair_derived(&self) -> Result<(Vec<Inconsistency>, Option<Oid>)> {
        let git = self.repo.git();
        retry::retry(git, NOTES_REF, || {
            let snapshot = self.snapshot()?;
            let problems = check_derived(&snapshot)?;
            let Some(head) = snapshot.commit() else {
                return Ok(Attempt::Done((problems, None)));
            };
            if !problems.iter().any(Inconsistency::repairable) {
                return Ok(Attempt::Done((problems, None)));
            }
            let (ours, tree) = flat::flatten(git, Some(head))?;
            let mut result = ours.clone();
            let mut docs = Docs::load(git, &result)?;
            docs.require_readable()?;
            renumber::renumber(&Docs::default(), &mut docs);
            renumber::raise_counters(&mut docs);
            docs.store(&mut result, &|bytes| write_blob(git, bytes))?;
            recover_evidence(git, head, &ours, &docs, &mut result)?;
            docs.derive_index(git, &ours, &mut result)?;
            let edits = flat::diff(git, &ours, tree.as_ref(), &result)?;
            let new_tree = edits.apply(git, tree.as_ref())?;
            let fail = |e| Error::git(format!("cannot write a commit on {NOTES_REF}"), e);
            let new_tree = git.find_tree(new_tree).map_err(fail)?;
            let parent = git.find_commit(head).map_err(fail)?;
            let who = Person::committer(self.repo)?.signature()?;
            let mut message = String::from("doctor: rebuild the index and id counters\n\n");
            for p in problems.iter().filter(|p| p.repairable()) {
                message.push_str(&format!("  {p}\n"));
            }
            let commit = git
                .commit(None, &who, &who, &message, &new_tree, &[&parent])
                .map_err(fail)?;
            Ok(Attempt::Move {
                expected: Expected::MustExistAndMatch(head),
                new: commit,
                who,
                log: "git-release: doctor --repair".into(),
                value: (problems, Some(commit)),
            })
        })
    }
}

/// (tag, path) of every evidence file a record lists that the tree lacks.
fn lost_evidence(flat: &Flat, docs: &Docs) -> Vec<(String, String)> {
    let mut lost = Vec::new();
    for (tag, _, release) in docs.records() {
        for e in &release.evidences {
            if e.filepath.starts_with("evidence/") && !flat.files.contains_key(&e.filepath) {
                lost.push((tag.to_owned(), e.filepath.clone()));
            }
        }
    }
    lost
}

/// Takes lost evidence files back from the notes history (the other parent of a
/// plain `git notes merge` still has them), and the artifacts they name.
fn recover_evidence(
    repo: &git2::Repository,
    head: Oid,
    ours: &Flat,
    docs: &Docs,
    result: &mut Flat,
) -> Result<()> {
    let mut missing: Vec<String> = lost_evidence(ours, docs)
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
