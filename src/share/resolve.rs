//! Settling the conflicts an unresolved merge recorded (`store::merge_state`): taking
//! the remote's value writes it into the store as one commit; keeping the local one
//! writes nothing. Either way the conflict leaves the merge state, and once none is
//! left the state ref is deleted and publishing is allowed again.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::TagName;
use crate::release::leftovers;
use crate::release::retag::{self, MovedTag};
use crate::share::kept_tags;
use crate::store::merge_state::{self, MergeState, Recorded};
use crate::store::three_way::{self, Prefer, Step};
use crate::store::{
    ConflictKind, Document, Inconsistency, Snapshot, Store, StoreConflict, Transaction, check_store,
};

/// The side a user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    Theirs,
}

impl Side {
    pub fn prefer(self) -> Prefer {
        match self {
            Side::Ours => Prefer::Ours,
            Side::Theirs => Prefer::Theirs,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Theirs => "theirs",
        }
    }
}

/// What settling did.
#[derive(Debug, Default)]
pub struct Settled {
    pub conflicts: Vec<StoreConflict>,
    /// Display ids changed because a value taken back showed one already in use.
    pub renumbered: Vec<String>,
    /// Releases whose moved tag was settled (`--theirs`: the tag went back to the
    /// release; `--ours`: the release went to the tag).
    pub retagged: Vec<MovedTag>,
}

impl Settled {
    fn extend(&mut self, other: Settled) {
        self.conflicts.extend(other.conflicts);
        self.renumbered.extend(other.renumbered);
        self.retagged.extend(other.retagged);
    }
}

/// Settles the conflicts of `recorded` that `select` picks, the `side` way; the
/// others stay recorded.
pub fn settle(
    repo: &Repo,
    recorded: &Recorded,
    select: &dyn Fn(&StoreConflict) -> bool,
    side: Side,
) -> Result<Settled> {
    let (chosen, rest): (Vec<StoreConflict>, Vec<StoreConflict>) = recorded
        .state
        .conflicts
        .iter()
        .cloned()
        .partition(|c| select(c));
    let mut settled = Settled::default();
    if chosen.is_empty() {
        return Ok(settled);
    }
    match side {
        Side::Theirs => settled.renumbered = take_theirs(repo, &recorded.state.remote, &chosen)?,
        Side::Ours => keep_ours(repo, &merge_state::slug_of(&recorded.reference), &chosen)?,
    }
    let state = MergeState {
        conflicts: rest,
        ..recorded.state.clone()
    };
    merge_state::write(repo, &recorded.reference, Some(recorded.commit), &state)?;
    settled.conflicts = chosen;
    Ok(settled)
}

/// Writes the remote's side of `chosen` into the store as one commit, and moves the
/// tags that follow the records taken. Returns the display ids renumbered.
pub fn take_theirs(repo: &Repo, remote: &str, chosen: &[StoreConflict]) -> Result<Vec<String>> {
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let mut subjects: Vec<&str> = chosen.iter().map(|c| c.subject.as_str()).collect();
    subjects.dedup();
    let message = format!(
        "resolve conflicts with {remote}: take theirs for {}",
        subjects.join(", ")
    );
    let apply = |tx: &mut Transaction<'_, '_>| {
        for c in chosen {
            apply_theirs(tx, c)?;
        }
        Ok(())
    };
    // A record, link or milestone taken back carries display ids that the merge
    // never renumbered (the conflict kept it out); a scalar field carries none,
    // and checking the whole store for it would be wasted.
    let restores_ids = chosen.iter().any(|c| {
        c.kind != ConflictKind::TagTarget
            && matches!(c.theirs, Some(Value::Object(_) | Value::Array(_)))
    });
    let renumbered = if restores_ids {
        Store::new(repo).update_restoring(&message, apply)?.1
    } else {
        Store::new(repo).update(&message, apply)?;
        Vec::new()
    };
    // The tag follows the record taken (moved when it was released elsewhere), or
    // the remote's tag replaces ours.
    let moves_tag = |c: &&StoreConflict| {
        matches!(c.kind, ConflictKind::TagCommit | ConflictKind::TagTarget)
            || (c.kind == ConflictKind::ModifyDelete
                && c.at.len() == 2
                && matches!(c.document, Document::Note(_))
                && c.theirs.is_some())
    };
    for c in chosen.iter().filter(moves_tag) {
        take_their_tag(repo, c)?;
    }
    Ok(renumbered)
}

/// Keeping the local side writes nothing to the store, except for a tag conflict: the
/// choice to overwrite the remote's tag is kept (`share::kept_tags`) for
/// the push that carries it out.
pub fn keep_ours(repo: &Repo, slug: &str, chosen: &[StoreConflict]) -> Result<()> {
    for c in chosen.iter().filter(|c| c.kind == ConflictKind::TagTarget) {
        if let Some(theirs) = c.their_tag_target() {
            kept_tags::keep(repo, slug, &c.subject, theirs)?;
        }
    }
    Ok(())
}

/// After a tag conflict settled for the remote: the local tag moves to where the
/// remote's release says it points (the object came with the fetch).
pub fn take_their_tag(repo: &Repo, c: &StoreConflict) -> Result<()> {
    let (Some(target), Ok(name)) = (c.their_tag_target(), TagName::parse(&c.subject)) else {
        return Ok(());
    };
    if repo.git().find_object(target, None).is_err() {
        return Err(Error::Refused {
            action: format!("moving tag {} to {target}", c.subject),
            reason: "that object is not in this repository; fetch again".into(),
        });
    }
    match tag::resolve(repo, name.as_str())? {
        Some(now) if now.target == target => Ok(()),
        Some(now) => tag::move_ref(repo, &name, now.target, target),
        None => tag::create_ref(repo, &name, target),
    }
}

/// Writes the remote's side of one conflict into the store.
fn apply_theirs(tx: &mut Transaction<'_, '_>, c: &StoreConflict) -> Result<()> {
    let cannot = |reason: &str| Error::Refused {
        action: format!("taking the remote's value for {}", c.path),
        reason: reason.to_owned(),
    };
    match (&c.document, c.kind) {
        (Document::Note(hex), ConflictKind::TagTarget) => {
            // The remote has the tag elsewhere and no release on it: the release made
            // here on our tag goes, and the tag is theirs (moved by the caller).
            let tag = &c.subject;
            tx.doc(hex)?.remove(tag);
            if tx
                .index_entry(tag)?
                .is_some_and(|e| e.commit.to_string() == *hex)
            {
                tx.remove_index(tag);
            }
            crate::release::evidence::unschedule_tx(tx, tag)
        }
        (Document::Note(hex), ConflictKind::Blob) | (Document::File(hex), ConflictKind::Blob) => {
            let path = match &c.document {
                Document::Note(_) => format!("{}/{}", &hex[..2], &hex[2..]),
                Document::File(p) => p.clone(),
            };
            match c.theirs.as_ref().and_then(Value::as_str) {
                Some(id) => {
                    let id = git2::Oid::from_str(id).map_err(|_| cannot("bad blob id"))?;
                    tx.put_blob(&path, id);
                }
                None => tx.remove_file(&path),
            }
            Ok(())
        }
        (Document::Note(hex), kind) => {
            let [Step::Field(releases), Step::Field(tag), rest @ ..] = c.at.as_slice() else {
                return Err(cannot("the conflict is outside any release"));
            };
            if releases != "releases" {
                return Err(cannot("the conflict is outside any release"));
            }
            let commit = git2::Oid::from_str(hex).map_err(|_| cannot("bad commit id"))?;
            if kind == ConflictKind::TagCommit {
                // Their record on their commit replaces ours on our commit.
                let ours_at = c
                    .ours
                    .as_ref()
                    .and_then(|o| o.get("commit"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(ours_at) = ours_at.filter(|o| o != hex) {
                    tx.doc(&ours_at)?.remove(tag);
                }
                if let Some(record) = &c.theirs {
                    tx.doc(hex)?.set_value(tag, record.clone());
                    tx.set_index(tag, commit);
                }
                return Ok(());
            }
            if rest.is_empty() {
                match &c.theirs {
                    Some(record) => {
                        // One record per tag: one made here since, on another commit,
                        // gives way to the one chosen.
                        if let Some(entry) = tx.index_entry(tag)? {
                            if entry.commit != commit {
                                tx.doc(&entry.commit.to_string())?.remove(tag);
                            }
                        }
                        tx.doc(hex)?.set_value(tag, record.clone());
                        tx.set_index(tag, commit);
                    }
                    None => {
                        tx.doc(hex)?.remove(tag);
                        if tx.index_entry(tag)?.is_some_and(|e| e.commit == commit) {
                            tx.remove_index(tag);
                        }
                    }
                }
                return Ok(());
            }
            let doc = tx.doc(hex)?;
            let Some(mut record) = doc.get_value(tag) else {
                // Deleted here since the merge: nothing to set a field on.
                return Ok(());
            };
            three_way::set(&mut record, rest, c.theirs.clone());
            doc.set_value(tag, record);
            Ok(())
        }
        (Document::File(path), _) => {
            let mut value: Value = tx
                .json_file(path)?
                .unwrap_or_else(|| Value::Object(Default::default()));
            three_way::set(&mut value, &c.at, c.theirs.clone());
            tx.put_json_file(path, &value)
        }
    }
}

/// Every unresolved conflict, with the remote it came from.
pub fn unresolved(repo: &Repo) -> Result<Vec<(String, StoreConflict)>> {
    Ok(merge_state::read_all(repo.git())?
        .into_iter()
        .flat_map(|r| {
            let remote = r.state.remote.clone();
            r.state
                .conflicts
                .into_iter()
                .map(move |c| (remote.clone(), c))
        })
        .collect())
}

/// What stops publishing: unresolved conflicts (any remote), releases whose tag
/// moved, and a store that breaks its own rules (a plain `git notes merge` dropped a
/// milestone or made two links of one name: publishing it would spread the damage).
pub struct Blocking {
    pub conflicts: Vec<(String, StoreConflict)>,
    pub moved: Vec<MovedTag>,
    pub broken: Vec<Inconsistency>,
    /// Commands writing pending records (running, or interrupted and not yet swept).
    pub unfinished: Vec<String>,
}

impl Blocking {
    pub fn is_empty(&self) -> bool {
        self.conflicts.is_empty()
            && self.moved.is_empty()
            && self.unfinished.is_empty()
            && self.broken.is_empty()
    }

    /// One line per problem, for messages.
    pub fn lines(&self) -> Vec<String> {
        self.conflicts
            .iter()
            .map(|(remote, c)| c.describe(remote))
            .chain(self.moved.iter().map(MovedTag::describe))
            .chain(
                self.unfinished
                    .iter()
                    .map(|u| format!("unfinished: {u} (its records are pending)")),
            )
            .chain(
                self.broken
                    .iter()
                    .map(|b| format!("store: {b} (fix: {})", b.fix())),
            )
            .collect()
    }

    /// The refusal of `action` while anything blocks it.
    pub fn refusal(&self, action: &str) -> Option<Error> {
        if !self.unfinished.is_empty() {
            return Some(Error::Refused {
                action: action.to_owned(),
                reason: format!(
                    "pending records would be published:\n  {}\n(a running command: wait \
                     for it; an interrupted one: `git release doctor --repair` settles it)",
                    self.unfinished.join("\n  ")
                ),
            });
        }
        if !self.conflicts.is_empty() {
            return Some(Error::UnresolvedMerge {
                action: action.to_owned(),
                count: self.conflicts.len() + self.moved.len(),
                list: self.lines().join("\n  "),
            });
        }
        if !self.broken.is_empty() {
            return Some(Error::StoreBroken {
                action: action.to_owned(),
                count: self.broken.len(),
                list: self.lines().join("\n  "),
            });
        }
        let first = self.moved.first()?;
        Some(Error::TagsMoved {
            action: action.to_owned(),
            count: self.moved.len(),
            list: self.lines().join("\n  "),
            example: first.tag.clone(),
        })
    }
}

pub fn blocking(repo: &Repo) -> Result<Blocking> {
    let mut unfinished = leftovers::in_flight(repo);
    unfinished.extend(leftovers::leftovers(repo));
    Ok(Blocking {
        conflicts: unresolved(repo)?,
        moved: retag::moved(repo)?,
        unfinished,
        broken: check_store(&Snapshot::read(repo.git())?)?,
    })
}

/// Fails with every unresolved conflict and moved release tag listed when there is
/// any.
pub fn refuse_if_blocked(repo: &Repo, action: &str) -> Result<()> {
    match blocking(repo)?.refusal(action) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// `resolve <subject> --ours|--theirs [--field F]`: settles the conflicts of one
/// release (or milestone, freeze…), in every recorded merge.
pub fn resolve(repo: &Repo, subject: &str, field: Option<&str>, side: Side) -> Result<Settled> {
    let subject = subject.strip_prefix("tags/").unwrap_or(subject);
    let states = merge_state::read_all(repo.git())?;
    let matches = |c: &StoreConflict| {
        c.subject == subject
            && field.is_none_or(|f| c.at.iter().any(|s| *s == Step::Field(f.to_owned())))
    };
    let recorded = states.iter().any(|r| r.state.conflicts.iter().any(matches));
    if !recorded && field.is_none_or(|f| f == "tag") {
        // A release whose tag moved: --theirs puts the tag back where the release (as
        // shared) has it, --ours moves the release to the tag.
        let moved = retag::moved(repo)?;
        if moved.iter().any(|m| m.tag == subject) {
            let done = match side {
                Side::Theirs => retag::restore(repo, subject)?,
                Side::Ours => retag::follow(repo, subject)?,
            };
            return Ok(Settled {
                retagged: vec![done],
                ..Settled::default()
            });
        }
    }
    if !recorded {
        let mut known: Vec<String> = states
            .iter()
            .flat_map(|r| r.state.conflicts.iter().map(|c| c.subject.clone()))
            .chain(retag::moved(repo)?.into_iter().map(|m| m.tag))
            .collect();
        known.sort();
        known.dedup();
        let subject = match field {
            Some(f) => format!("{subject} → {f}"),
            None => subject.to_owned(),
        };
        return Err(Error::NoConflict { subject, known });
    }
    let mut settled = Settled::default();
    for recorded in &states {
        settled.extend(settle(repo, recorded, &matches, side)?);
    }
    Ok(settled)
}
