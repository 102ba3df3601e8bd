//! Releases whose tag moved: the tag here no longer points at the object the release
//! recorded (`git tag -f`, a tag re-created, or a remote's release fetched beside a
//! tag of that name made here — fetch never moves a local tag, as `git fetch` never
//! clobbers one). Such a release is never published until one of two things is done:
//! the tag goes back to the release (`restore`), or the release goes to the tag
//! (`follow`).

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::evidence::signature_path;
use crate::model::{Found, TagName, TagState};
use crate::release::evidence;
use crate::release::query::{find_in, list};
use crate::store::{Snapshot, Store};
use crate::time::Timestamp;

/// A release whose tag here is not the one it recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedTag {
    pub tag: TagName,
    /// What the release recorded: its tag object and commit.
    pub recorded: Oid,
    pub recorded_commit: Oid,
    /// Where the tag points now, and its commit.
    pub now: Oid,
    pub now_commit: Oid,
}

impl MovedTag {
    /// `release v1: tag v1 is on commit 1234… here, the release on 5678…`.
    pub fn describe(&self) -> String {
        let short = |id: Oid| id.to_string()[..12].to_owned();
        if self.now_commit == self.recorded_commit {
            format!(
                "release {}: tag {} was re-created here (object {}, the release recorded {})",
                self.tag,
                self.tag,
                short(self.now),
                short(self.recorded)
            )
        } else {
            format!(
                "release {}: tag {} moved to commit {} here, the release is on {}",
                self.tag,
                self.tag,
                short(self.now_commit),
                short(self.recorded_commit)
            )
        }
    }

    fn from_found(found: &Found) -> Option<MovedTag> {
        let now = found.tag_target?;
        if now == found.release.tag_target {
            return None;
        }
        let now_commit = match found.tag_state {
            TagState::Moved { commit } => commit,
            TagState::Intact => found.release.commit,
            TagState::Missing => return None,
        };
        Some(MovedTag {
            tag: found.tag.clone(),
            recorded: found.release.tag_target,
            recorded_commit: found.release.commit,
            now,
            now_commit,
        })
    }
}

/// Every release whose tag moved, by tag.
pub fn moved(repo: &Repo) -> Result<Vec<MovedTag>> {
    Ok(moved_in(&list(repo)?.releases))
}

/// The releases of a listing whose tag moved.
pub fn moved_in(releases: &[Found]) -> Vec<MovedTag> {
    let mut moved: Vec<MovedTag> = releases.iter().filter_map(MovedTag::from_found).collect();
    moved.sort_by(|a, b| a.tag.cmp(&b.tag));
    moved
}

/// The moved tag of the release of `tag`, or why there is none.
fn moved_one(repo: &Repo, tag: &TagName) -> Result<(MovedTag, Found)> {
    let snapshot = Snapshot::read(repo.git())?;
    let Some((_, found)) = find_in(&snapshot, repo, tag)? else {
        return Err(Error::ReleaseNotFound {
            tag: tag.to_string(),
        });
    };
    if found.tag_state == TagState::Missing {
        return Err(Error::Refused {
            action: format!("retagging release {tag}"),
            reason: format!("tag {tag} does not exist here"),
        });
    }
    match MovedTag::from_found(&found) {
        Some(moved) => Ok((moved, found)),
        None => Err(Error::Refused {
            action: format!("retagging release {tag}"),
            reason: format!("tag {tag} is where the release recorded it: nothing to settle"),
        }),
    }
}

/// Moves the tag back to the object the release recorded. Compare-and-swap: a tag that
/// changed meanwhile is left alone.
pub fn restore(repo: &Repo, tag: &TagName) -> Result<MovedTag> {
    let (moved, _) = moved_one(repo, tag)?;
    let name = TagName::parse(tag)?;
    if repo.git().find_object(moved.recorded, None).is_err() {
        return Err(Error::Refused {
            action: format!("moving tag {tag} back to its release"),
            reason: format!(
                "the tag object {} the release recorded is not in this repository any more \
                 (fetch it, or move the release to the tag with --follow)",
                moved.recorded
            ),
        });
    }
    tag::move_ref(repo, &name, moved.now, moved.recorded)?;
    Ok(moved)
}

/// Moves the release to the commit its tag points at now, recording the tag's object.
/// Its evidence snapshots described the old commit: they are taken out of the record
/// (the notes history keeps them), and a released release gets a new snapshot of
/// where it is now.
pub fn follow(repo: &Repo, tag: &TagName) -> Result<MovedTag> {
    let (moved, found) = moved_one(repo, tag)?;
    let now = Timestamp::now()?;
    let snapshot_again = !found.release.evidences.is_empty()
        && !found.release.is_upcoming(now)
        && !found.release.is_historical();
    let prepared = if snapshot_again {
        Some(evidence::prepare(
            repo,
            tag,
            moved.now,
            moved.now_commit,
            &[],
            now,
            None,
        )?)
    } else {
        None
    };
    let signer = match &prepared {
        Some(_) => evidence::signer_for(repo, moved.now, None, None)?.signer,
        None => None,
    };
    let message = format!(
        "retag {tag}: the release follows its tag to commit {}",
        moved.now_commit
    );
    Store::new(repo).update(&message, |tx| {
        let tag_now = tag::resolve(repo, tag)?;
        if tag_now.as_ref().map(|t: &TagTarget| t.target) != Some(moved.now) {
            return Err(Error::Refused {
                action: format!("moving release {tag} to its tag"),
                reason: "the tag changed meanwhile; run the command again".into(),
            });
        }
        let Some((at, found)) = find_in(tx.snapshot(), repo, tag)? else {
            return Err(Error::ReleaseNotFound {
                tag: tag.to_string(),
            });
        };
        let mut release = found.release;
        if release.tag_target != moved.recorded {
            return Err(Error::Refused {
                action: format!("moving release {tag} to its tag"),
                reason: "the release changed meanwhile; run the command again".into(),
            });
        }
        tx.note_doc(at)?.remove(tag);
        for old in std::mem::take(&mut release.evidences) {
            tx.remove_file(&old.filepath);
            tx.remove_file(&signature_path(&old.sha));
        }
        release.commit = moved.now_commit;
        release.tag_target = moved.now;
        if let Some(prepared) = &prepared {
            let staged = evidence::stage(tx, prepared, &release, signer.as_ref())?;
            release.evidences.push(staged);
        }
        tx.note_doc(moved.now_commit)?.set(tag, &release);
        tx.set_index(tag, moved.now_commit);
        Ok(())
    })?;
    Ok(moved)
}
