//! Deleting a release, and with `--with-tag` its tag.

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::{Found, TagName};
use crate::release::claim::{RecordState, record_state};
use crate::release::evidence;
use crate::release::query::find_in;
use crate::store::{NoteContent, Snapshot, Store, note_location};

/// What becomes of the release's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagDeletion {
    /// The tag stays (GitLab's release delete).
    Keep,
    /// The tag goes too, unless it was moved since the release was made (then the tag
    /// is somebody else's now, as `verify` reports it).
    Delete,
    /// The tag goes even when it was moved (`--force`).
    DeleteEvenIfMoved,
}

#[derive(Debug)]
pub struct Deleted {
    pub found: Found,
    /// The tag deleted with the release, if asked for and present.
    pub deleted_tag: Option<Oid>,
}

pub fn delete(repo: &Repo, tag: &str, tag_deletion: TagDeletion) -> Result<Deleted> {
    if tag_deletion == TagDeletion::Delete {
        // Checked before anything is written: a refused delete changes nothing.
        let found = crate::release::query::find(repo, tag)?;
        if let crate::model::TagState::Moved { commit } = found.tag_state {
            return Err(Error::Refused {
                action: format!("deleting tag {tag} with its release"),
                reason: format!(
                    "the tag was moved to commit {commit} after the release was made on {} \
                     (`git release verify {tag}` reports it); pass --force to delete it anyway, \
                     or leave out --with-tag to delete only the release",
                    found.release.commit
                ),
            });
        }
    }
    let with_tag = tag_deletion != TagDeletion::Keep;
    let message = if with_tag {
        format!("delete {tag} with its tag")
    } else {
        format!("delete {tag}")
    };
    let written = Store::new(repo).update(&message, |tx| {
        let Some((at, found)) = find_in(tx.snapshot(), repo, tag)? else {
            return Err(Error::ReleaseNotFound {
                tag: tag.to_owned(),
            });
        };
        tx.doc(&at)?.remove(tag);
        tx.remove_index(tag);
        // The deletion of the tag travels with the store: pushes delete the remote's
        // tag (the object the release recorded, and the one the tag holds here), and
        // no clone brings it back. Deleting without it keeps the tag everywhere.
        tx.forget_deleted_tag(tag)?;
        if with_tag {
            tx.record_deleted_tag(tag, found.release.tag_target)?;
            if let Some(now) = found.tag_target.filter(|t| *t != found.release.tag_target) {
                tx.record_deleted_tag(tag, now)?;
            }
        }
        // An upcoming release deleted before its date never gets evidence.
        evidence::unschedule_tx(tx, tag)?;
        Ok(found)
    })?;
    let found = written.value;
    let mut deleted_tag = None;
    if with_tag {
        let name = TagName::parse(tag)?;
        if let Some(t) = tag::resolve(repo, tag)? {
            tag::delete_ref(repo, &name, t.target)?;
            deleted_tag = Some(t.target);
        }
    }
    Ok(Deleted { found, deleted_tag })
}

/// Deletes the record of `tag` in the note on commit `note` only (a full or
/// abbreviated commit id): when two notes claim one tag, the stray record goes and
/// the other stays, whichever the tag points at. The index then names the record
/// that is left where the tag points, else nothing (`doctor --repair` rebuilds it).
pub fn delete_record(repo: &Repo, tag: &str, note: &str) -> Result<Deleted> {
    let hex = note_commit(repo, note)?;
    let written = Store::new(repo).update(
        &format!("delete {tag} (the record on commit {})", &hex[..12]),
        |tx| {
            let location = note_location(&hex);
            let Some(release) = tx.doc(&hex)?.get(tag, &location)? else {
                return Err(Error::Refused {
                    action: format!("deleting the record of {tag} on commit {note}"),
                    reason: format!("{location} holds no release {tag}"),
                });
            };
            tx.doc(&hex)?.remove(tag);
            let tag_now = tag::resolve(repo, tag)?;
            if tx
                .index_entry(tag)?
                .is_some_and(|e| e.commit.to_string() == hex)
            {
                let other = tag_now.as_ref().map(|t| t.commit.to_string());
                match other.filter(|c| *c != hex) {
                    Some(c) if tx.doc(&c)?.contains(tag) => {
                        let commit = Oid::from_str(&c).expect("a commit id");
                        tx.set_index(tag, commit)
                    }
                    _ => tx.remove_index(tag),
                }
            }
            let tag_state = match record_state(repo, tag, &release, tag_now.as_ref()) {
                RecordState::Complete(state) => state,
                RecordState::InFlight(_) | RecordState::Abandoned => {
                    crate::model::TagState::Missing
                }
            };
            Ok(Found {
                tag: tag.to_owned(),
                tag_target: tag_now.map(|t| t.target),
                release,
                tag_state,
            })
        },
    )?;
    Ok(Deleted {
        found: written.value,
        deleted_tag: None,
    })
}

/// The commit whose note `text` names: a full id, a revision git resolves, or an
/// abbreviation of a commit that has a note (the commit itself may be missing here).
fn note_commit(repo: &Repo, text: &str) -> Result<String> {
    let text = text.trim();
    let bad = |reason: &str| Error::invalid("note commit", text, reason);
    if text.len() == 40 && Oid::from_str(text).is_ok() {
        return Ok(text.to_ascii_lowercase());
    }
    if let Ok(commit) = repo
        .git()
        .revparse_single(text)
        .and_then(|o| o.peel_to_commit())
    {
        return Ok(commit.id().to_string());
    }
    if text.len() < 4 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "not a commit of this repository nor an abbreviated commit id",
        ));
    }
    let prefix = text.to_ascii_lowercase();
    let snapshot = Snapshot::read(repo.git())?;
    let mut found = Vec::new();
    snapshot.for_each_note(&mut |hex, _| {
        if hex.starts_with(&prefix) {
            found.push(hex);
        }
    })?;
    match found.as_slice() {
        [one] => match snapshot.note(one)? {
            Some((NoteContent::Ours(_), _)) => Ok(one.clone()),
            _ => Err(bad(
                "the note on that commit was not written by git-release",
            )),
        },
        [] => Err(bad("no note of refs/notes/releases is on such a commit")),
        _ => Err(bad(
            "it names more than one commit with a note; give more digits",
        )),
    }
}
