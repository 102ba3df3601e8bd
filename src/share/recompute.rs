//! Conflicts are recomputed, never replayed. A conflict recorded by an earlier fetch
//! names a place (a field, a record, a tag) where the two sides disagreed; on every
//! fetch each place is looked at again, in the local store and in the remote's as it
//! is now: where they agree now (the remote settled it, or came round to the local
//! value, or the local value changed), the conflict is gone; where they still differ,
//! it stands with both values as they are now — so that `--theirs` always takes the
//! remote's value now, never one it no longer holds.

use std::collections::BTreeMap;

use git2::Oid;
use serde_json::{Value, json};

use crate::error::Result;
use crate::git::repo::Repo;
use crate::store::three_way::{self, Step};
use crate::store::{ConflictKind, Document, PROJECT_PATH, Snapshot, StoreConflict};

/// The conflicts of `recorded` that still stand between the local store and the
/// remote's notes commit `theirs` (`None`: it has no releases), with their values now.
/// `remote_tags` are the remote's release tags as just fetched.
pub fn recompute(
    repo: &Repo,
    recorded: &[StoreConflict],
    theirs: Option<Oid>,
    remote_tags: &BTreeMap<String, Oid>,
) -> Result<Vec<StoreConflict>> {
    let git = repo.git();
    let ours = Snapshot::read(git)?;
    let theirs = match theirs {
        Some(t) => Some(Snapshot::at(git, t)?),
        None => None,
    };
    let mut standing = Vec::new();
    for c in recorded {
        if is_bookkeeping(c) {
            continue;
        }
        let now = match c.kind {
            ConflictKind::Changed | ConflictKind::ModifyDelete => {
                values(&ours, theirs.as_ref(), c)?
            }
            ConflictKind::Blob => blobs(&ours, theirs.as_ref(), c)?,
            ConflictKind::Duplicate => duplicate(&ours, theirs.as_ref(), c)?,
            ConflictKind::TagCommit => tag_commit(&ours, theirs.as_ref(), c)?,
            ConflictKind::TagTarget => tag_target(repo, &ours, theirs.as_ref(), c, remote_tags)?,
        };
        standing.extend(now);
    }
    Ok(standing)
}

/// Data the store derives (the evidence schedule): never a conflict for people.
fn is_bookkeeping(c: &StoreConflict) -> bool {
    matches!(&c.document, Document::File(p) if p == PROJECT_PATH)
        && matches!(c.at.first(), Some(Step::Field(f)) if f == "pending_evidence")
}

/// The whole document a conflict is in, as JSON; `None` when absent or not JSON.
fn document(snapshot: &Snapshot<'_>, doc: &Document) -> Result<Option<Value>> {
    let bytes = match doc {
        Document::Note(hex) => snapshot.note(hex)?.map(|(_, bytes)| bytes),
        Document::File(path) => snapshot.file(path)?,
    };
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

fn value_at(snapshot: Option<&Snapshot<'_>>, c: &StoreConflict) -> Result<Option<Value>> {
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    Ok(document(snapshot, &c.document)?.and_then(|d| three_way::get(&d, &c.at).cloned()))
}

/// A field or record: stands while the two values differ.
fn values(
    ours: &Snapshot<'_>,
    theirs: Option<&Snapshot<'_>>,
    c: &StoreConflict,
) -> Result<Option<StoreConflict>> {
    let (o, t) = (value_at(Some(ours), c)?, value_at(theirs, c)?);
    if o == t {
        return Ok(None);
    }
    let kind = if o.is_none() || t.is_none() {
        ConflictKind::ModifyDelete
    } else {
        ConflictKind::Changed
    };
    Ok(Some(StoreConflict {
        kind,
        ours: o,
        theirs: t,
        ..c.clone()
    }))
}

/// Two objects with one name (a link's name, a milestone's title): stands while the
/// remote still has an object of that name with other content. Their side is recorded
/// as it is now, under the local object's key (as the merge records it).
fn duplicate(
    ours: &Snapshot<'_>,
    theirs: Option<&Snapshot<'_>>,
    c: &StoreConflict,
) -> Result<Option<StoreConflict>> {
    let Some(local) = value_at(Some(ours), c)? else {
        return Ok(None);
    };
    let Some((Step::Key(key), list_at)) = c.at.split_last() else {
        return Ok(None);
    };
    let Some(theirs) = theirs else {
        return Ok(None);
    };
    // What two objects may not share: a milestone's title; a link's name, URL or
    // direct asset path.
    let unique: &[&str] = match &c.document {
        Document::File(_) => &["title"],
        Document::Note(_) => &["name", "url", "direct_asset_path"],
    };
    let clashes = |e: &Value| {
        unique.iter().any(|f| {
            let mine = local.get(*f);
            mine.is_some_and(|m| !m.is_null()) && e.get(*f) == mine
        })
    };
    let Some(list) = document(theirs, &c.document)?
        .and_then(|d| three_way::get(&d, list_at).cloned())
        .and_then(|l| l.as_array().cloned())
    else {
        return Ok(None);
    };
    let Some(mut other) = list
        .into_iter()
        .find(|e| clashes(e) && e.get("key").and_then(Value::as_str) != Some(key))
    else {
        return Ok(None);
    };
    // Content is what people wrote: the keys and display ids differ by nature.
    let content = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            for field in ["key", "id", "iid"] {
                map.remove(field);
            }
        }
        v
    };
    if content(&other) == content(&local) {
        return Ok(None);
    }
    other["key"] = Value::from(key.clone());
    Ok(Some(StoreConflict {
        ours: Some(local),
        theirs: Some(other),
        ..c.clone()
    }))
}

/// The blob at a conflict's place, by id.
fn blob_at(snapshot: Option<&Snapshot<'_>>, doc: &Document) -> Result<Option<Oid>> {
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    match doc {
        Document::File(path) => snapshot.file_id(path),
        Document::Note(hex) => Ok(snapshot
            .note(hex)?
            .and_then(|(_, bytes)| Oid::hash_object(git2::ObjectType::Blob, &bytes).ok())),
    }
}

fn blobs(
    ours: &Snapshot<'_>,
    theirs: Option<&Snapshot<'_>>,
    c: &StoreConflict,
) -> Result<Option<StoreConflict>> {
    let (o, t) = (
        blob_at(Some(ours), &c.document)?,
        blob_at(theirs, &c.document)?,
    );
    if o == t {
        return Ok(None);
    }
    let id = |b: Option<Oid>| b.map(|b| Value::from(b.to_string()));
    Ok(Some(StoreConflict {
        ours: id(o),
        theirs: id(t),
        ..c.clone()
    }))
}

/// One tag released on two commits: stands while the remote still has its release of
/// the tag on another commit than the local one.
fn tag_commit(
    ours: &Snapshot<'_>,
    theirs: Option<&Snapshot<'_>>,
    c: &StoreConflict,
) -> Result<Option<StoreConflict>> {
    let tag = &c.subject;
    let (Some(theirs), Some(local)) = (theirs, ours.index_entry(tag)?) else {
        return Ok(None);
    };
    let Some(remote) = theirs.index_entry(tag)? else {
        return Ok(None);
    };
    if remote.commit == local.commit {
        return Ok(None);
    }
    let hex = remote.commit.to_string();
    let their_record = match theirs.note(&hex)? {
        Some((crate::store::NoteContent::Ours(doc), _)) => doc.get_value(tag),
        _ => None,
    };
    let Some(their_record) = their_record else {
        return Ok(None);
    };
    let mut summary = json!({"commit": local.commit.to_string()});
    if let Some(target) = ours.recorded_tag_target(tag)? {
        summary["tag_target"] = Value::from(target.to_string());
    }
    Ok(Some(StoreConflict {
        document: Document::Note(hex),
        ours: Some(summary),
        theirs: Some(their_record),
        ..c.clone()
    }))
}

/// A local release against the remote's plain tag: stands while the remote has that
/// tag elsewhere and no release of it.
fn tag_target(
    repo: &Repo,
    ours: &Snapshot<'_>,
    theirs: Option<&Snapshot<'_>>,
    c: &StoreConflict,
    remote_tags: &BTreeMap<String, Oid>,
) -> Result<Option<StoreConflict>> {
    let tag = &c.subject;
    let Some(remote) = remote_tags.get(tag) else {
        return Ok(None);
    };
    let here = repo.git().refname_to_id(&format!("refs/tags/{tag}")).ok();
    let released_there = match theirs {
        Some(t) => t.index_entry(tag)?.is_some(),
        None => false,
    };
    if here == Some(*remote) || released_there || ours.index_entry(tag)?.is_none() {
        return Ok(None);
    }
    let their_commit = repo
        .git()
        .find_object(*remote, None)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id().to_string())
        .ok();
    Ok(Some(StoreConflict {
        theirs: Some(json!({"commit": their_commit, "tag_target": remote.to_string()})),
        ..c.clone()
    }))
}
