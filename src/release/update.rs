//! Changing a release: `update` and the read-modify-write every other edit goes through.

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::model::TagState;
use crate::model::release::validate_description;
use crate::model::{Found, TagName};
use crate::release::create::{NotesRequest, combine_notes, generate_notes};
use crate::release::evidence;
use crate::release::notes::Generated;
use crate::release::query::{find, find_in, settle_claims};
use crate::store::{Snapshot, Store, Transaction, note_location};
use crate::time::Timestamp;

#[derive(Debug, Clone)]
pub struct UpdateRequest {
    pub tag: TagName,
    pub name: Option<String>,
    pub description: Option<String>,
    pub released_at: Option<Timestamp>,
    /// New milestone titles; `Some(vec![])` clears them.
    pub milestones: Option<Vec<String>>,
    pub generate_notes: Option<NotesRequest>,
}

impl UpdateRequest {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.released_at.is_none()
            && self.milestones.is_none()
            && self.generate_notes.is_none()
    }
}

#[derive(Debug)]
pub struct Updated {
    pub found: Found,
    pub generated: Option<Generated>,
}

pub fn update(repo: &Repo, request: UpdateRequest) -> Result<Updated> {
    if request.is_empty() {
        return Err(Error::invalid(
            "update",
            request.tag.clone(),
            "nothing to change: give --name, --notes, --notes-file, --released-at, --milestone, \
             --clear-milestones or --generate-notes",
        ));
    }
    crate::model::text::check_opt("name", request.name.as_deref())?;
    crate::model::text::check_opt("description", request.description.as_deref())?;
    if let Some(text) = &request.description {
        validate_description(text)?;
    }
    // Group milestones live in another repository: resolved (and the kept titles
    // refreshed) once, before the write.
    let group_milestones = match &request.milestones {
        Some(titles) => Some(
            crate::release::group::resolve_release_milestones(
                repo,
                &Snapshot::read(repo.git())?.milestones()?,
                titles,
            )?
            .1,
        ),
        None => None,
    };
    let group = crate::release::group::GroupMilestones::load(repo)?.filter(|g| g.at_hand());
    // Generated from the commit the release was made on, before the write: reading
    // history is slow next to the write, and must not be repeated on a retry.
    let generated = match &request.generate_notes {
        Some(notes) => {
            let found = find(repo, &request.tag)?;
            let commit = found.release.commit;
            let generated = generate_notes(repo, &request.tag, commit, notes)?;
            Some(generated)
        }
        None => None,
    };
    let description = match &generated {
        Some(g) => Some(combine_notes(request.description.as_deref(), &g.markdown)),
        None => request.description.clone(),
    };
    if let Some(text) = &description {
        validate_description(text)?;
    }
    let now = Timestamp::now()?;
    let message = format!("update {}", request.tag);
    let found = modify_release(repo, &request.tag, &message, |found, tx| {
        if let Some(titles) = &request.milestones {
            // Re-read here: a project milestone deleted meanwhile is not found.
            let file = tx.milestones()?;
            let in_group = |t: &String| {
                group_milestones
                    .as_ref()
                    .is_some_and(|refs| refs.iter().any(|r| r.title == *t))
            };
            let mut keys = Vec::new();
            for title in titles {
                match file.find(title) {
                    Some(m) if !keys.contains(&m.key) => keys.push(m.key),
                    Some(_) => {}
                    None if in_group(title) => {}
                    None => {
                        return Err(Error::MilestoneNotFound {
                            title: title.clone(),
                        });
                    }
                }
            }
            found.release.milestones = keys;
        }
        if let Some(refs) = &group_milestones {
            found.release.group_milestones = refs.clone();
        } else if let Some(group) = &group {
            found.release.group_milestones = group.refresh(&found.release.group_milestones);
        }
        if let Some(name) = &request.name {
            found.release.name = if name.is_empty() {
                request.tag.to_string()
            } else {
                name.clone()
            };
        }
        if let Some(description) = &description {
            found.release.description = Some(description.clone());
        }
        if let Some(released_at) = request.released_at {
            found.release.released_at = released_at;
            evidence::reschedule_tx(tx, &found.release, &request.tag, now)?;
        }
        Ok(found.clone())
    })?;
    Ok(Updated { found, generated })
}

/// Read-modify-write of one release record as one commit with `message`: `change`
/// edits the record (and may stage other store files through the transaction); it
/// is re-run on a fresh snapshot if another writer got there first. Releases whose
/// tag was deleted are not found, as GitLab deletes them with the tag.
pub fn modify_release<R>(
    repo: &Repo,
    tag: &TagName,
    message: &str,
    mut change: impl FnMut(&mut Found, &mut Transaction<'_, '_>) -> Result<R>,
) -> Result<R> {
    let written = Store::new(repo).update(message, |tx| {
        let (at, mut found) = match find_in(tx.snapshot(), repo, tag)? {
            Some((at, found)) if found.tag_state != TagState::Missing => (at, found),
            _ => {
                return Err(Error::ReleaseNotFound {
                    tag: tag.to_string(),
                });
            }
        };
        let value = change(&mut found, tx)?;
        let doc = tx.note_doc(at)?;
        settle_claims(repo, doc, &note_location(&at.to_string()))?;
        doc.set(tag, &found.release);
        Ok(value)
    })?;
    Ok(written.value)
}

/// Brings what the releases keep of their group milestones (title, state, dates) up
/// to date from the group's repository, when it is here: the kept copy is what a clone
/// without that repository shows. One commit for all the releases that changed; the
/// tags refreshed. Nothing is written when nothing changed or the group's repository
/// is not here.
pub fn refresh_group_milestones(repo: &Repo) -> Result<Vec<TagName>> {
    let Some(group) = crate::release::group::GroupMilestones::load(repo)? else {
        return Ok(Vec::new());
    };
    if !group.at_hand() {
        return Ok(Vec::new());
    }
    let stale: Vec<TagName> = crate::release::query::list(repo)?
        .releases
        .into_iter()
        .filter(|f| {
            !f.release.group_milestones.is_empty()
                && group.refresh(&f.release.group_milestones) != f.release.group_milestones
        })
        .map(|f| f.tag)
        .collect();
    if stale.is_empty() {
        return Ok(stale);
    }
    let message = format!(
        "refresh the group milestones kept by {} release(s)",
        stale.len()
    );
    Store::new(repo).update(&message, |tx| {
        for tag in &stale {
            let Some((at, mut found)) = find_in(tx.snapshot(), repo, tag)? else {
                continue;
            };
            let fresh = group.refresh(&found.release.group_milestones);
            if found.tag_state == TagState::Missing || fresh == found.release.group_milestones {
                continue;
            }
            found.release.group_milestones = fresh;
            let doc = tx.note_doc(at)?;
            settle_claims(repo, doc, &note_location(&at.to_string()))?;
            doc.set(tag, &found.release);
        }
        Ok(())
    })?;
    Ok(stale)
}
