//! Tags: resolving them, and creating them with git2 the way `git tag` would.

use git2::{ErrorCode, ObjectType, Oid};

use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::git::repo::Repo;
use crate::model::TagName;

/// Where a tag points now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// The ref's direct target: the tag object (annotated) or the commit (lightweight).
    pub target: Oid,
    /// The commit it peels to.
    pub commit: Oid,
}

/// Resolves `refs/tags/<tag>`; `None` when the tag does not exist.
pub fn resolve(repo: &Repo, tag: &str) -> Result<Option<TagTarget>> {
    resolve_known(repo, tag, None)
}

/// Like `resolve`, but when the ref still points at `known.0` its commit is taken to
/// be `known.1` without reading any object: listing thousands of releases then costs
/// one ref lookup each, not an object read.
pub fn resolve_known(
    repo: &Repo,
    tag: &str,
    known: Option<(Oid, Oid)>,
) -> Result<Option<TagTarget>> {
    let git = repo.git();
    let reference = match git.find_reference(&format!("refs/tags/{tag}")) {
        Ok(r) => r,
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => {
            return Ok(None);
        }
        Err(e) => return Err(Error::git(format!("cannot read tag {tag:?}"), e)),
    };
    // Only a symbolic tag needs resolving (and resolving looks the name up again).
    let reference = if reference.kind() == Some(git2::ReferenceType::Symbolic) {
        reference
            .resolve()
            .map_err(|e| Error::git(format!("cannot resolve tag {tag:?}"), e))?
    } else {
        reference
    };
    let Some(target) = reference.target() else {
        return Ok(None);
    };
    if let Some((known_target, known_commit)) = known {
        if known_target == target {
            return Ok(Some(TagTarget {
                target,
                commit: known_commit,
            }));
        }
    }
    let object = git.find_object(target, None).map_err(|e| {
        Error::git(
            format!("tag {tag:?} points at a missing object {target}"),
            e,
        )
    })?;
    let commit = object.peel_to_commit().map_err(|_| Error::Refused {
        action: format!("using tag {tag:?}"),
        reason: format!("it points at {target}, which is not a commit"),
    })?;
    Ok(Some(TagTarget {
        target,
        commit: commit.id(),
    }))
}

/// Resolves any revision git understands (branch, tag, SHA, `HEAD~1`) to a commit.
pub fn resolve_commit(repo: &Repo, revision: &str) -> Result<Oid> {
    let object = repo
        .git()
        .revparse_single(revision)
        .map_err(|source| Error::UnknownRef {
            reference: revision.into(),
            source,
        })?;
    let commit = object
        .peel_to_commit()
        .map_err(|source| Error::UnknownRef {
            reference: revision.into(),
            source,
        })?;
    Ok(commit.id())
}

/// Writes an annotated tag object for `tag` on `commit` without creating the ref
/// (the ref is the commit point of a release creation). The tagger is resolved as git
/// does; the message is cleaned up as `git tag -m` does.
pub fn write_annotation(repo: &Repo, tag: &TagName, commit: Oid, message: &str) -> Result<Oid> {
    if repo.config_bool("tag.gpgSign") == Some(true) {
        return Err(Error::Refused {
            action: format!("creating tag {tag}"),
            reason: "tag.gpgSign is set, and git-release cannot sign tags \
                     (create it with `git tag -s`, then run git release create without --ref)"
                .into(),
        });
    }
    let git = repo.git();
    let tagger = Person::committer(repo)?.signature()?;
    let message = git2::message_prettify(message, Some(b'#'))
        .map_err(|e| Error::git("cannot clean up the tag message", e))?;
    let target = git
        .find_object(commit, Some(ObjectType::Commit))
        .map_err(|e| Error::git(format!("cannot read commit {commit}"), e))?;
    git.tag_annotation_create(tag.as_str(), &target, &tagger, &message)
        .map_err(|e| {
            Error::git(
                format!("cannot write the annotated tag object for {tag}"),
                e,
            )
        })
}

/// Creates `refs/tags/<tag>` → `target`, failing if the tag exists.
pub fn create_ref(repo: &Repo, tag: &TagName, target: Oid) -> Result<()> {
    let log = format!("git-release: create tag {tag}");
    // Compare-and-swap against the zero id: "create only if absent", checked under the
    // ref lock (libgit2's non-forced create checks before locking, which races).
    match repo
        .git()
        .reference_matching(&tag.ref_name(), target, true, Oid::ZERO_SHA1, &log)
    {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), ErrorCode::Exists | ErrorCode::Modified) => {
            let now = resolve(repo, tag.as_str())?
                .map(|t| t.target.to_string())
                .unwrap_or_default();
            Err(Error::TagExists {
                tag: tag.to_string(),
                target: now,
            })
        }
        Err(e) => Err(Error::git(format!("cannot create tag {tag}"), e)),
    }
}

/// Deletes `refs/tags/<tag>` if it still points at `expected`.
/// Moves `tag` from `expected` to `target` (compare-and-swap), e.g. to take another
/// clone's tag when a conflict is resolved in its favour.
pub fn move_ref(repo: &Repo, tag: &TagName, expected: Oid, target: Oid) -> Result<()> {
    let log = format!("git-release: move tag {tag}");
    repo.git()
        .reference_matching(&tag.ref_name(), target, true, expected, &log)
        .map(|_| ())
        .map_err(|e| Error::git(format!("cannot move tag {tag} to {target}"), e))
}

pub fn delete_ref(repo: &Repo, tag: &TagName, expected: Oid) -> Result<()> {
    let git = repo.git();
    let mut reference = match git.find_reference(&tag.ref_name()) {
        Ok(r) => r,
        Err(e) if e.code() == ErrorCode::NotFound => return Ok(()),
        Err(e) => return Err(Error::git(format!("cannot read tag {tag}"), e)),
    };
    if reference.target() != Some(expected) {
        return Err(Error::Refused {
            action: format!("deleting tag {tag}"),
            reason: "it changed while the release was being deleted".into(),
        });
    }
    reference
        .delete()
        .map_err(|e| Error::git(format!("cannot delete tag {tag}"), e))
}
