//! Every rule the store has, checked against what is in it (for `verify` and
//! `doctor`; `repair.rs` makes what `doctor --repair` can): documents readable and of
//! a known schema; one record per tag; the derived data (tag index, id counters) as
//! the notes imply them; display ids unique and within bounds; link names, URLs and
//! direct asset paths unique per release and milestone titles unique; evidence
//! files present; nothing lost by a plain `git notes merge`; nothing outside the
//! store's layout. Each finding says what is wrong and which command fixes it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use git2::{Oid, Repository};

use super::docs::Docs;
use super::flat::{self, Flat, INDEX_DIR};
use super::renumber;
use super::{IndexEntry, Snapshot, layout};
use crate::error::{Error, Result};
use crate::model::id_kind::MAX_ID;
use crate::model::milestone::MILESTONES_PATH;
use crate::model::{FreezeFile, MilestoneFile};

/// One way the store breaks its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    /// A document of the store that cannot be read (bad JSON, a record missing a
    /// field) or is of a newer schema: nothing rewrites it.
    Unreadable {
        location: String,
        reason: String,
        newer_schema: bool,
    },
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
    /// The index places a release on a commit whose note is not a record of ours
    /// (overwritten with plain `git notes`): the release is unreadable, not absent.
    ForeignNote { tag: String, commit: String },
    /// One tag recorded on two commits; `tag_at` is where the tag points now.
    TagOnTwoCommits {
        tag: String,
        commits: Vec<String>,
        tag_at: Option<String>,
    },
    /// A counter behind an id in use: the next object would reuse that id.
    CounterBehind {
        kind: String,
        counter: u64,
        highest: u64,
    },
    /// A counter at the largest id handed out (or past it): nothing more of its
    /// kind can be made.
    CounterAtEnd { kind: String, counter: u64 },
    /// A display id above the largest one handed out.
    IdOutOfRange { kind: String, id: u64 },
    /// Two objects show the same display id.
    DuplicateId { kind: String, id: u64 },
    /// Two links of a release share a name, URL or direct asset path; `same` when
    /// they are equal in all but identity.
    DuplicateLink {
        tag: String,
        field: &'static str,
        value: String,
        ids: Vec<u64>,
        same: bool,
    },
    /// Two milestones share a title; `same` when they are equal in all but identity.
    DuplicateTitle {
        title: String,
        ids: Vec<u64>,
        same: bool,
    },
    /// A release lists an evidence file the notes tree lacks (`git notes merge`
    /// drops the other side's); repair takes it back from the notes history.
    EvidenceLost { tag: String, path: String },
    /// A milestone or freeze period one side of a merge had that the merge dropped
    /// (a plain `git notes merge` keeps only one side's `milestones.json`).
    LostInMerge {
        what: &'static str,
        name: String,
        merge: String,
    },
    /// An entry outside the store's layout.
    UnknownEntry { entry: layout::UnknownEntry },
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inconsistency::Unreadable {
                location, reason, ..
            } => write!(f, "{location} cannot be read: {reason}"),
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
            Inconsistency::ForeignNote { tag, commit } => write!(
                f,
                "release {tag} is indexed on commit {commit}, whose note is not a git-release \
                 record: the release cannot be read"
            ),
            Inconsistency::TagOnTwoCommits {
                tag,
                commits,
                tag_at,
            } => {
                let list = commits.iter().map(|c| short(c)).collect::<Vec<_>>();
                write!(
                    f,
                    "release {tag} is recorded on {} commits: {}",
                    commits.len(),
                    list.join(", ")
                )?;
                match tag_at {
                    Some(at) => write!(f, " (tag {tag} points at {})", short(at)),
                    None => write!(f, " (tag {tag} does not exist)"),
                }
            }
            Inconsistency::CounterBehind {
                kind,
                counter,
                highest,
            } => write!(
                f,
                "project.json's {kind} counter is {counter}, but id {highest} is in use"
            ),
            Inconsistency::CounterAtEnd { kind, counter } => write!(
                f,
                "project.json's {kind} counter is {counter}, at or past the largest id ({MAX_ID}): no {kind} can be added"
            ),
            Inconsistency::IdOutOfRange { kind, id } => {
                write!(f, "{kind} id {id} is above the largest id ({MAX_ID})")
            }
            Inconsistency::DuplicateId { kind, id } => {
                write!(f, "{kind} id {id} is shown by more than one object")
            }
            Inconsistency::DuplicateLink {
                tag,
                field,
                value,
                ids,
                same,
            } => write!(
                f,
                "release {tag} has {} links with the {field} {value:?} (ids {}){}",
                ids.len(),
                list_ids(ids),
                if *same { ", equal in all else" } else { "" }
            ),
            Inconsistency::DuplicateTitle { title, ids, same } => write!(
                f,
                "{} milestones are titled {title:?} (ids {}){}",
                ids.len(),
                list_ids(ids),
                if *same { ", equal in all else" } else { "" }
            ),
            Inconsistency::EvidenceLost { tag, path } => {
                write!(
                    f,
                    "release {tag} lists evidence {path}, which the store lacks"
                )
            }
            Inconsistency::LostInMerge { what, name, merge } => write!(
                f,
                "{what} {name:?} was dropped by the merge in notes commit {} (a plain `git notes merge` keeps one side's {what}s)",
                short(merge)
            ),
            Inconsistency::UnknownEntry { entry } => {
                write!(f, "{entry} is not part of the release store")
            }
        }
    }
}

fn list_ids(ids: &[u64]) -> String {
    ids.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Inconsistency {
    /// Whether `doctor --repair` fixes it.
    pub fn repairable(&self) -> bool {
        match self {
            Inconsistency::Unreadable { newer_schema, .. } => !newer_schema,
            // Nothing to rebuild it from; repairing the index would drop the release.
            Inconsistency::ForeignNote { .. } => false,
            Inconsistency::TagOnTwoCommits {
                commits, tag_at, ..
            } => tag_at.as_ref().is_some_and(|at| commits.contains(at)),
            Inconsistency::DuplicateLink { field, same, .. } => *same || *field == "name",
            _ => true,
        }
    }

    /// The command that fixes it, for people.
    pub fn fix(&self) -> String {
        const REPAIR: &str = "`git release doctor --repair`";
        match self {
            Inconsistency::Unreadable {
                newer_schema: true, ..
            } => "upgrade git-release: this version never rewrites a document of a newer schema"
                .into(),
            Inconsistency::Unreadable { .. } => format!(
                "{REPAIR} takes back its last readable version from the notes history \
                 (the unreadable one stays there: `git log -p refs/notes/releases`)"
            ),
            Inconsistency::TagOnTwoCommits {
                tag,
                commits,
                tag_at,
            } => match tag_at.as_ref().filter(|at| commits.contains(at)) {
                Some(at) => {
                    let strays: Vec<String> = commits
                        .iter()
                        .filter(|c| *c != at)
                        .map(|c| format!("`git release delete {tag} --note {}`", short(c)))
                        .collect();
                    format!(
                        "{} removes the stray record (the tag points at the other); {REPAIR} does the same",
                        strays.join(", then ")
                    )
                }
                None => format!(
                    "compare them (`git notes --ref=releases show <commit>`), then remove the wrong one with `git release delete {tag} --note <commit>`"
                ),
            },
            Inconsistency::DuplicateLink {
                tag,
                ids,
                same: false,
                field,
                ..
            } if *field != "name" => format!(
                "keep one: `git release link delete {tag} {}`, or give it another {field} with `git release link update {tag} {} …`",
                ids.last().copied().unwrap_or_default(),
                ids.last().copied().unwrap_or_default()
            ),
            Inconsistency::DuplicateLink { same: false, .. } => {
                format!("{REPAIR} renames all but the first, \"<name> (<id>)\"")
            }
            Inconsistency::DuplicateTitle { same: false, .. } => {
                format!("{REPAIR} renames all but the first, \"<title> (<id>)\"")
            }
            Inconsistency::DuplicateLink { .. } | Inconsistency::DuplicateTitle { .. } => {
                format!("{REPAIR} keeps one of them")
            }
            Inconsistency::LostInMerge { .. } => {
                format!("{REPAIR} takes it back from the merge's other parent")
            }
            Inconsistency::UnknownEntry { .. } => {
                format!("{REPAIR} removes it from the store (it stays in the notes history)")
            }
            Inconsistency::ForeignNote { commit, .. } => format!(
                "see the note with `git notes --ref=releases show {commit}`; its earlier versions \
                 are in `git log -p refs/notes/releases`"
            ),
            Inconsistency::CounterAtEnd { .. } => {
                format!("{REPAIR} sets it to the highest id in use")
            }
            Inconsistency::IdOutOfRange { .. } => format!("{REPAIR} gives it a new id"),
            _ => format!("{REPAIR} rebuilds it from the notes"),
        }
    }
}

/// The store as checks and repairs see it.
pub(crate) struct Loaded {
    pub flat: Flat,
    pub docs: Docs,
}

pub(crate) fn load(
    repo: &Repository,
    commit: Option<Oid>,
) -> Result<(Loaded, Option<git2::Tree<'_>>)> {
    let (flat, tree) = flat::flatten(repo, commit)?;
    let docs = Docs::load(repo, &flat)?;
    Ok((Loaded { flat, docs }, tree))
}

/// Checks every rule of the store at `snapshot`.
pub fn check_store(snapshot: &Snapshot<'_>) -> Result<Vec<Inconsistency>> {
    let repo = snapshot.repository();
    let (loaded, tree) = load(repo, snapshot.commit())?;
    let Loaded { flat, docs } = &loaded;
    let mut problems: Vec<Inconsistency> = docs
        .unreadable
        .iter()
        .map(|u| Inconsistency::Unreadable {
            location: u.location.clone(),
            reason: u.error.to_string(),
            newer_schema: matches!(u.error, Error::SchemaTooNew { .. }),
        })
        .collect();
    problems.extend(tag_records(repo, docs));
    problems.extend(index(snapshot, flat, docs)?);
    for (tag, path) in lost_evidence(flat, docs) {
        problems.push(Inconsistency::EvidenceLost { tag, path });
    }
    problems.extend(ids(docs));
    problems.extend(duplicate_links(docs));
    problems.extend(duplicate_titles(docs));
    if let Some(head) = snapshot.commit() {
        problems.extend(
            lost_in_merges(repo, head, docs)?
                .into_iter()
                .map(|l| l.problem),
        );
    }
    if let Some(tree) = &tree {
        problems.extend(
            layout::unknown_entries(repo, tree)?
                .into_iter()
                .map(|entry| Inconsistency::UnknownEntry { entry }),
        );
    }
    Ok(problems)
}

/// Where each tag's records are: tag → commits.
pub(crate) fn record_places(docs: &Docs) -> BTreeMap<String, Vec<String>> {
    let mut places: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tag, hex, _) in docs.records() {
        places
            .entry(tag.to_owned())
            .or_default()
            .push(hex.to_owned());
    }
    places
}

/// The commit `refs/tags/<tag>` peels to, if the tag exists.
pub(crate) fn tag_commit(repo: &Repository, tag: &str) -> Option<String> {
    let reference = repo.find_reference(&format!("refs/tags/{tag}")).ok()?;
    Some(reference.peel_to_commit().ok()?.id().to_string())
}

fn tag_records(repo: &Repository, docs: &Docs) -> Vec<Inconsistency> {
    record_places(docs)
        .into_iter()
        .filter(|(_, commits)| commits.len() > 1)
        .map(|(tag, commits)| Inconsistency::TagOnTwoCommits {
            tag_at: tag_commit(repo, &tag),
            tag,
            commits,
        })
        .collect()
}

fn index(snapshot: &Snapshot<'_>, flat: &Flat, docs: &Docs) -> Result<Vec<Inconsistency>> {
    let mut problems = Vec::new();
    let places = record_places(docs);
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
    // A tag whose note cannot be read still has its index entry: not stale.
    let unreadable_notes = !docs.unreadable.is_empty();
    for (tag, commit) in indexed.iter().filter(|(t, _)| !places.contains_key(*t)) {
        if docs.foreign.contains(commit) {
            problems.push(Inconsistency::ForeignNote {
                tag: tag.clone(),
                commit: commit.clone(),
            });
            continue;
        }
        if unreadable_notes {
            continue;
        }
        problems.push(Inconsistency::IndexStale {
            path: super::index_path(tag),
            reason: format!("no release {tag} is recorded"),
        });
    }
    Ok(problems)
}

/// (tag, path) of every evidence file a record lists that the tree lacks.
pub(crate) fn lost_evidence(flat: &Flat, docs: &Docs) -> Vec<(String, String)> {
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

fn ids(docs: &Docs) -> Vec<Inconsistency> {
    let mut problems = Vec::new();
    let usage = renumber::id_usage(docs);
    for (kind, max) in &usage.highest {
        let counter = usage.counters.get(kind.counter()).copied().unwrap_or(0);
        if counter < *max && *max <= MAX_ID {
            problems.push(Inconsistency::CounterBehind {
                kind: kind.counter().to_owned(),
                counter,
                highest: *max,
            });
        }
    }
    for (kind, counter) in &usage.counters {
        if *counter >= MAX_ID {
            problems.push(Inconsistency::CounterAtEnd {
                kind: kind.clone(),
                counter: *counter,
            });
        }
    }
    for (kind, id) in usage.out_of_range {
        problems.push(Inconsistency::IdOutOfRange {
            kind: kind.counter().to_owned(),
            id,
        });
    }
    for (kind, id) in usage.duplicates {
        problems.push(Inconsistency::DuplicateId {
            kind: kind.counter().to_owned(),
            id,
        });
    }
    problems
}

fn duplicate_links(docs: &Docs) -> Vec<Inconsistency> {
    let mut problems = Vec::new();
    for (tag, _, release) in docs.records() {
        let mut reported: BTreeSet<(&str, String)> = BTreeSet::new();
        for (i, a) in release.links.iter().enumerate() {
            for b in &release.links[i + 1..] {
                let Some(field) = a.clash_with(b) else {
                    continue;
                };
                let value = match field {
                    "name" => a.name.clone(),
                    "URL" => a.url.clone(),
                    _ => a.direct_asset_path.clone().unwrap_or_default(),
                };
                if !reported.insert((field, value.clone())) {
                    continue;
                }
                let group: Vec<_> = release
                    .links
                    .iter()
                    .filter(|l| match field {
                        "name" => l.name == value,
                        "URL" => l.url == value,
                        _ => l.direct_asset_path.as_deref() == Some(value.as_str()),
                    })
                    .collect();
                problems.push(Inconsistency::DuplicateLink {
                    tag: tag.to_owned(),
                    field,
                    same: group.iter().all(|l| l.same_content(group[0])),
                    ids: group.iter().map(|l| l.id).collect(),
                    value,
                });
            }
        }
    }
    problems
}

fn duplicate_titles(docs: &Docs) -> Vec<Inconsistency> {
    let Some(file) = &docs.milestones else {
        return Vec::new();
    };
    let mut by_title: BTreeMap<&str, Vec<&crate::model::Milestone>> = BTreeMap::new();
    for m in &file.milestones {
        by_title.entry(&m.title).or_default().push(m);
    }
    by_title
        .into_iter()
        .filter(|(_, group)| group.len() > 1)
        .map(|(title, group)| Inconsistency::DuplicateTitle {
            title: title.to_owned(),
            ids: group.iter().map(|m| m.id).collect(),
            same: group.iter().all(|m| m.same_content(group[0])),
        })
        .collect()
}

/// An object a merge dropped, with the value to take back.
pub(crate) struct Lost {
    pub problem: Inconsistency,
    pub value: LostValue,
}

pub(crate) enum LostValue {
    Milestone(crate::model::Milestone),
    Freeze(crate::model::FreezePeriod),
}

/// Milestones and freeze periods that a merge not made by git-release dropped (and
/// that are not back since): one side had them, added since the merge base or kept
/// by the other side, and the merge has neither them nor (for a milestone) one with
/// the same title. Only merges git-release did not make are looked at: its own keep
/// everything or record a conflict.
pub(crate) fn lost_in_merges(repo: &Repository, head: Oid, now: &Docs) -> Result<Vec<Lost>> {
    let fail = |e| Error::git("cannot walk the notes history", e);
    let mut walk = repo.revwalk().map_err(fail)?;
    walk.push(head).map_err(fail)?;
    let mut lost = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let present: BTreeSet<String> = now
        .milestones
        .iter()
        .flat_map(|f| f.milestones.iter().map(|m| m.key.to_string()))
        .chain(
            now.freezes
                .iter()
                .flat_map(|f| f.freezes.iter().map(|z| z.key.to_string())),
        )
        .collect();
    for id in walk {
        let commit = repo.find_commit(id.map_err(fail)?).map_err(fail)?;
        if commit.parent_count() < 2 || commit.message_bytes().starts_with(b"merge releases from ")
        {
            continue;
        }
        let parents: Vec<Oid> = commit.parent_ids().collect();
        let base = repo.merge_base_many(&parents).ok();
        let files = |c: Option<Oid>| -> (Option<MilestoneFile>, Option<FreezeFile>) {
            let Some(c) = c else { return (None, None) };
            let Ok(tree) = repo.find_commit(c).and_then(|c| c.tree()) else {
                return (None, None);
            };
            let read = |path: &str| {
                let entry = tree.get_path(std::path::Path::new(path)).ok()?;
                let blob = repo.find_blob(entry.id()).ok()?;
                Some(blob.content().to_vec())
            };
            (
                read(MILESTONES_PATH).and_then(|b| serde_json::from_slice(&b).ok()),
                read(crate::model::freeze::FREEZES_PATH)
                    .and_then(|b| serde_json::from_slice(&b).ok()),
            )
        };
        let (merged_m, merged_f) = files(Some(commit.id()));
        let (base_m, base_f) = files(base);
        let sides: Vec<_> = parents.iter().map(|p| files(Some(*p))).collect();
        let merged_keys: BTreeSet<String> = merged_m
            .iter()
            .flat_map(|f| f.milestones.iter().map(|m| m.key.to_string()))
            .chain(
                merged_f
                    .iter()
                    .flat_map(|f| f.freezes.iter().map(|z| z.key.to_string())),
            )
            .collect();
        let merged_titles: BTreeSet<&str> = merged_m
            .iter()
            .flat_map(|f| f.milestones.iter().map(|m| m.title.as_str()))
            .collect();
        let in_base = |key: &str| {
            base_m
                .iter()
                .flat_map(|f| &f.milestones)
                .any(|m| m.key.to_string() == key)
                || base_f
                    .iter()
                    .flat_map(|f| &f.freezes)
                    .any(|z| z.key.to_string() == key)
        };
        let in_side = |side: &(Option<MilestoneFile>, Option<FreezeFile>), key: &str| {
            side.0
                .iter()
                .flat_map(|f| &f.milestones)
                .any(|m| m.key.to_string() == key)
                || side
                    .1
                    .iter()
                    .flat_map(|f| &f.freezes)
                    .any(|z| z.key.to_string() == key)
        };
        // Dropped: not in the merge, and either new on its side or kept by every side.
        let dropped = |key: &str| {
            !merged_keys.contains(key)
                && !present.contains(key)
                && (!in_base(key) || sides.iter().all(|s| in_side(s, key)))
        };
        for side in &sides {
            for m in side.0.iter().flat_map(|f| &f.milestones) {
                let key = m.key.to_string();
                if dropped(&key) && !merged_titles.contains(m.title.as_str()) && seen.insert(key) {
                    lost.push(Lost {
                        problem: Inconsistency::LostInMerge {
                            what: "milestone",
                            name: m.title.clone(),
                            merge: commit.id().to_string(),
                        },
                        value: LostValue::Milestone(m.clone()),
                    });
                }
            }
            for z in side.1.iter().flat_map(|f| &f.freezes) {
                let key = z.key.to_string();
                if dropped(&key) && seen.insert(key) {
                    lost.push(Lost {
                        problem: Inconsistency::LostInMerge {
                            what: "freeze period",
                            name: z.describe(),
                            merge: commit.id().to_string(),
                        },
                        value: LostValue::Freeze(z.clone()),
                    });
                }
            }
        }
    }
    Ok(lost)
}
