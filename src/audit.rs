//! Offline checks that a release still matches the repository. `check_release` is the
//! one place a release is audited: the pre-push hook runs it on every release tag
//! being pushed, and `verify` builds on it. Each check adds `Problem`s; a new kind of
//! check (evidence hashes, archives) adds a variant and a few lines here.

use std::fmt;

use git2::Oid;

use crate::lifecycle::{Found, TagState};
use crate::repo::Repo;

/// One way a release no longer matches the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The tag now peels to another commit than the release was made on.
    TagMoved {
        tag: String,
        recorded: String,
        now: String,
    },
    /// The tag was deleted.
    TagMissing { tag: String },
    /// Same commit, but the tag was re-created (another tag object, or annotated ↔
    /// lightweight): what the release recorded is gone.
    TagReplaced {
        tag: String,
        recorded: String,
        now: String,
    },
    /// The record itself is unreadable in a way that defeats the check.
    Corrupt { tag: String, reason: String },
}

impl Problem {
    pub fn tag(&self) -> &str {
        match self {
            Problem::TagMoved { tag, .. }
            | Problem::TagMissing { tag }
            | Problem::TagReplaced { tag, .. }
            | Problem::Corrupt { tag, .. } => tag,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::TagMoved { tag, recorded, now } => write!(
                f,
                "tag {tag} was moved: it points at commit {now}, but its release was made on {recorded}"
            ),
            Problem::TagMissing { tag } => write!(f, "tag {tag} of a release was deleted"),
            Problem::TagReplaced { tag, recorded, now } => write!(
                f,
                "tag {tag} was re-created: it is {now} now, but its release recorded {recorded} (same commit)"
            ),
            Problem::Corrupt { tag, reason } => write!(f, "release {tag}: {reason}"),
        }
    }
}

/// Where `refs/tags/<tag>` points now (the ref's direct target), if it exists.
fn tag_target(repo: &Repo, tag: &str) -> Option<Oid> {
    repo.git().refname_to_id(&format!("refs/tags/{tag}")).ok()
}

/// Every problem with one release. Cheap: ref lookups and the record, no archive work,
/// so that the pre-push hook stays fast.
pub fn check_release(repo: &Repo, found: &Found) -> Vec<Problem> {
    let tag = &found.tag;
    let release = &found.release;
    let mut problems = Vec::new();
    match &found.tag_state {
        TagState::Missing => problems.push(Problem::TagMissing { tag: tag.clone() }),
        TagState::Moved { commit } => problems.push(Problem::TagMoved {
            tag: tag.clone(),
            recorded: release.commit.clone(),
            now: commit.to_string(),
        }),
        TagState::Intact => {
            if let Some(now) = tag_target(repo, tag) {
                problems.extend(check_target(tag, &release.tag_target, now));
            }
        }
    }
    problems
}

/// Whether `pushed` (the object a push sends as `refs/tags/<tag>`, which need not be
/// the local tag) is what the release of `tag` recorded.
pub fn check_pushed_target(repo: &Repo, found: &Found, pushed: Oid) -> Vec<Problem> {
    let release = &found.release;
    if pushed.to_string() == release.tag_target {
        return Vec::new();
    }
    let commit = repo
        .git()
        .find_object(pushed, None)
        .and_then(|object| object.peel_to_commit())
        .map(|commit| commit.id().to_string());
    match commit {
        Ok(commit) if commit != release.commit => vec![Problem::TagMoved {
            tag: found.tag.clone(),
            recorded: release.commit.clone(),
            now: commit,
        }],
        _ => check_target(&found.tag, &release.tag_target, pushed),
    }
}

fn check_target(tag: &str, recorded: &str, now: Oid) -> Vec<Problem> {
    if Oid::from_str(recorded).is_err() {
        return vec![Problem::Corrupt {
            tag: tag.to_owned(),
            reason: format!("its recorded tag target {recorded:?} is not an object id"),
        }];
    }
    if now.to_string() == recorded {
        return Vec::new();
    }
    vec![Problem::TagReplaced {
        tag: tag.to_owned(),
        recorded: recorded.to_owned(),
        now: now.to_string(),
    }]
}
