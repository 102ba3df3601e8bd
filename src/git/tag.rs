//! Tags: resolving them, and creating them the way `git tag` (`-a`, `-s`) would.

use git2::{ErrorCode, ObjectType, Oid};

use crate::error::{Error, Result};
use crate::git::identity::Person;
use crate::git::repo::Repo;
use crate::git::sign::Signer;
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
    let object = repo.git().revparse_single(revision).map_err(|source| {
        // A fresh `git init` has nothing to tag yet: say that, not "revspec not found".
        if repo.git().is_empty().unwrap_or(false) {
            Error::NoCommits {
                reference: revision.into(),
            }
        } else {
            Error::UnknownRef {
                reference: revision.into(),
                source,
            }
        }
    })?;
    let commit = object
        .peel_to_commit()
        .map_err(|source| Error::UnknownRef {
            reference: revision.into(),
            source,
        })?;
    Ok(commit.id())
}

/// Whether a new tag is to be signed: `--sign`/`-u` (`requested`), else
/// `tag.gpgSign`, else `tag.forceSignAnnotated` for an annotated tag, as `git tag`
/// decides. A malformed value is an error naming the setting.
pub fn wants_signature(repo: &Repo, requested: Option<bool>, annotated: bool) -> Result<bool> {
    if let Some(requested) = requested {
        return Ok(requested);
    }
    if let Some(sign) = repo.config_bool_strict("tag.gpgSign")? {
        return Ok(sign);
    }
    Ok(annotated && repo.config_bool_strict("tag.forceSignAnnotated")? == Some(true))
}

/// Writes an annotated tag object for `tag` on `commit` without creating the ref
/// (the ref is the commit point of a release creation), as `git tag -a`/`-s` writes
/// it: the tagger resolved as git does, the message cleaned up as `git tag -m` does,
/// and with `signer` the signature of those bytes appended (libgit2 cannot sign, so
/// the object is built here). Nothing is written when signing fails.
pub fn write_annotation(
    repo: &Repo,
    tag: &TagName,
    commit: Oid,
    message: &str,
    signer: Option<&Signer>,
) -> Result<Oid> {
    let git = repo.git();
    let tagger = Person::committer(repo)?.signature()?;
    let message = git2::message_prettify(message, Some(b'#'))
        .map_err(|e| Error::git("cannot clean up the tag message", e))?;
    git.find_object(commit, Some(ObjectType::Commit))
        .map_err(|e| Error::git(format!("cannot read commit {commit}"), e))?;
    let mut bytes = annotation_bytes(tag.as_str(), commit, &tagger, &message);
    if let Some(signer) = signer {
        let signature = signer.sign_git_object(&bytes)?;
        bytes.extend_from_slice(&signature);
    }
    let odb = git
        .odb()
        .map_err(|e| Error::git("cannot open the object database", e))?;
    odb.write(ObjectType::Tag, &bytes).map_err(|e| {
        Error::git(
            format!("cannot write the annotated tag object for {tag}"),
            e,
        )
    })
}

/// The bytes of a tag object as git writes them (`object`, `type`, `tag`, `tagger`,
/// a blank line, the cleaned-up message).
fn annotation_bytes(
    tag: &str,
    commit: Oid,
    tagger: &git2::Signature<'_>,
    message: &str,
) -> Vec<u8> {
    let when = tagger.when();
    let offset = when.offset_minutes();
    let sign = if offset < 0 || when.sign() == '-' {
        '-'
    } else {
        '+'
    };
    let offset = offset.abs();
    let mut bytes = format!("object {commit}\ntype commit\ntag {tag}\ntagger ",).into_bytes();
    bytes.extend_from_slice(tagger.name_bytes());
    bytes.extend_from_slice(b" <");
    bytes.extend_from_slice(tagger.email_bytes());
    bytes.extend_from_slice(
        format!(
            "> {} {sign}{:02}{:02}\n\n",
            when.seconds(),
            offset / 60,
            offset % 60
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(message.as_bytes());
    bytes
}

/// The signature of an annotated tag object, if it carries one: the payload it signs,
/// the signature, and the tagger's date (seconds), which SSH keys are checked at.
pub fn signature(repo: &Repo, object: Oid) -> Result<Option<TagSignature>> {
    let odb = repo
        .git()
        .odb()
        .map_err(|e| Error::git("cannot open the object database", e))?;
    let raw = odb
        .read(object)
        .map_err(|e| Error::git(format!("cannot read tag object {object}"), e))?;
    if raw.kind() != ObjectType::Tag {
        return Ok(None);
    }
    let data = raw.data();
    let Some((payload, signature)) = crate::git::sign::split_signed(data) else {
        return Ok(None);
    };
    let tagger_time = payload
        .split(|b| *b == b'\n')
        .take_while(|line| !line.is_empty())
        .find_map(|line| line.strip_prefix(b"tagger "))
        .and_then(|ident| {
            let text = String::from_utf8_lossy(ident);
            let mut words = text.rsplitn(3, ' ');
            let _tz = words.next();
            words.next().and_then(|s| s.parse::<i64>().ok())
        });
    Ok(Some(TagSignature {
        payload: payload.to_vec(),
        signature: signature.to_vec(),
        tagger_time,
    }))
}

#[derive(Debug, Clone)]
pub struct TagSignature {
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub tagger_time: Option<i64>,
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

/// The names of every tag (`refs/tags/*`), sorted.
pub fn names(repo: &Repo) -> Result<Vec<String>> {
    let names = repo
        .git()
        .tag_names(None)
        .map_err(|e| Error::git("cannot list tags", e))?;
    let mut names: Vec<String> = names
        .iter()
        .filter_map(|name| name.ok().flatten().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}
