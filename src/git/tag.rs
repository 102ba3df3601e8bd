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

/// Every tag's direct target, read in one pass over `refs/tags/` (one read of
/// packed-refs and one walk of the loose tags) for a caller that resolves many tags:
/// one `find_reference` per tag stats the loose file and searches packed-refs each
/// time, a quarter of listing 10,000 releases.
pub struct TagTable {
    direct: std::collections::HashMap<String, Oid>,
    /// Symbolic tags, rare, resolved one by one as `resolve_known` does.
    symbolic: std::collections::HashSet<String>,
}

impl TagTable {
    /// `None` when the references cannot all be read: the caller then resolves tag
    /// by tag, which reports the broken one by name.
    pub fn read(repo: &Repo) -> Option<Self> {
        let mut table = TagTable {
            direct: std::collections::HashMap::new(),
            symbolic: std::collections::HashSet::new(),
        };
        for reference in repo.git().references_glob("refs/tags/*").ok()? {
            let reference = reference.ok()?;
            let Some(name) = reference
                .name()
                .ok()
                .and_then(|n| n.strip_prefix("refs/tags/"))
                .map(str::to_owned)
            else {
                // A name that is not UTF-8 is no tag a release can have.
                continue;
            };
            match reference.target() {
                Some(target) => {
                    table.direct.insert(name, target);
                }
                None => {
                    table.symbolic.insert(name);
                }
            }
        }
        Some(table)
    }

    /// `resolve_known` from the table: the same answer without a lookup per tag.
    pub fn resolve_known(
        &self,
        repo: &Repo,
        tag: &str,
        known: Option<(Oid, Oid)>,
    ) -> Result<Option<TagTarget>> {
        if self.symbolic.contains(tag) {
            return resolve_known(repo, tag, known);
        }
        let Some(&target) = self.direct.get(tag) else {
            return Ok(None);
        };
        match known {
            Some((known_target, commit)) if known_target == target => {
                Ok(Some(TagTarget { target, commit }))
            }
            // Moved since the record was written: peel it as `resolve_known` does.
            _ => resolve_known(repo, tag, known),
        }
    }
}

/// Resolves any revision git understands (branch, tag, SHA, `HEAD~1`) to a commit.
pub fn resolve_commit(repo: &Repo, revision: &str) -> Result<Oid> {
    let unknown = |reason: String| Error::UnknownRef {
        reference: revision.into(),
        reason,
    };
    let object = match repo.git().revparse_single(revision) {
        Ok(object) => object,
        // A fresh `git init` has nothing to tag yet: say that, not "revspec not found".
        Err(_) if repo.git().is_empty().unwrap_or(false) => {
            return Err(Error::NoCommits {
                reference: revision.into(),
            });
        }
        Err(_) => return Err(unknown(why_unresolved(repo, revision))),
    };
    match object.peel_to_commit() {
        Ok(commit) => Ok(commit.id()),
        Err(_) => {
            let tagged = object.as_tag().and_then(|tag| tag.target_type());
            let what = match (object.kind(), tagged) {
                (Some(ObjectType::Tree), _) => "a tree (a directory)",
                (Some(ObjectType::Blob), _) => "a blob (a file's content)",
                (_, Some(ObjectType::Tree)) => "a tag of a tree (a directory)",
                (_, Some(ObjectType::Blob)) => "a tag of a blob (a file's content)",
                _ => "something other than a commit",
            };
            Err(unknown(format!(
                "it is {what}, not a commit: give a branch, a tag or a commit"
            )))
        }
    }
}

/// Why git cannot resolve `revision`, in the terms it was typed in: a path missing from
/// a tree (`rev:path`), a walk past the first commit or to a parent a commit does not
/// have (`~n`, `^n`), or a name nothing has.
fn why_unresolved(repo: &Repo, revision: &str) -> String {
    if let Some((rev, path)) = revision.split_once(':') {
        if !rev.is_empty() && repo.git().revparse_single(rev).is_ok() {
            return format!("{rev} has no path {path:?}");
        }
    }
    if let Some(at) = revision.find(['~', '^']) {
        let base = &revision[..at];
        if !base.is_empty() {
            if let Ok(commit) = repo
                .git()
                .revparse_single(base)
                .and_then(|o| o.peel_to_commit())
            {
                let behind = first_parent_depth(&commit);
                return format!(
                    "{base} is commit {} and {} goes past it: that commit has {} first-parent \
                     ancestor{} and no such parent",
                    &commit.id().to_string()[..12],
                    &revision[at..],
                    behind,
                    if behind == 1 { "" } else { "s" }
                );
            }
        }
    }
    format!("no branch, tag or commit is called {revision:?}")
}

/// How many first-parent ancestors a commit has (bounded: only for a message).
fn first_parent_depth(commit: &git2::Commit<'_>) -> usize {
    let mut depth = 0;
    let mut current = commit.clone();
    while let Ok(parent) = current.parent(0) {
        depth += 1;
        if depth >= 10_000 {
            break;
        }
        current = parent;
    }
    depth
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
///
/// Through a ref transaction, which checks under the ref's lock that it is absent:
/// libgit2's `reference_create` would first parse every packed ref to check that the
/// name does not collide with another (a quarter of a create's time with git/git's
/// 2,000 tags). The collisions git refuses are checked here with lookups instead: a
/// ref at a parent path (`refs/tags/a` for `a/b`), or refs below this one (`a/…`).
pub fn create_ref(repo: &Repo, tag: &TagName, target: Oid) -> Result<()> {
    create_ref_logged(
        repo,
        tag,
        target,
        &format!("git-release: create tag {tag}"),
        false,
    )
}

/// As `create_ref`, for the tag a pending record claims (`claim`, the claim's key):
/// the tag's reflog says `(claim <key>)`. libgit2 appends the reflog entry under the
/// ref's lock before the ref itself is written, so a tag whose reflog names the claim
/// was made by that claim's creator — and a tag made later by somebody else, even on
/// the same commit, is not mistaken for it (`made_for_claim`).
pub fn create_ref_claimed(repo: &Repo, tag: &TagName, target: Oid, claim: &str) -> Result<()> {
    let log = format!("git-release: create tag {tag} (claim {claim})");
    create_ref_logged(repo, tag, target, &log, true)
}

/// Whether `tag` points at `target` by a creation `create_ref_claimed` made for `claim`.
pub fn made_for_claim(repo: &Repo, tag: &str, target: Oid, claim: &str) -> bool {
    let Ok(reflog) = repo.git().reflog(&format!("refs/tags/{tag}")) else {
        return false;
    };
    let mark = format!("(claim {claim})");
    reflog.iter().any(|entry| {
        entry.id_new() == target
            && entry
                .message()
                .ok()
                .flatten()
                .is_some_and(|m| m.contains(&mark))
    })
}

fn create_ref_logged(
    repo: &Repo,
    tag: &TagName,
    target: Oid,
    log: &str,
    keep_log: bool,
) -> Result<()> {
    let git = repo.git();
    let name = tag.ref_name();
    let failed = |e: git2::Error| Error::git(format!("cannot create tag {tag}"), e);
    let exists = |now: Option<Oid>| Error::TagExists {
        tag: tag.to_string(),
        target: now.map(|t| t.to_string()).unwrap_or_default(),
    };
    // Before locking: the lock would create the directories of a nested name.
    check_available(repo, tag)?;
    let mut tx = git.transaction().map_err(failed)?;
    tx.lock_ref(&name).map_err(failed)?;
    // Under the lock: no other writer can create it between this check and the commit.
    if let Some(now) = resolve(repo, tag.as_str())? {
        return Err(exists(Some(now.target)));
    }
    if keep_log {
        // Tags get no reflog by default (core.logAllRefUpdates covers branches): an
        // empty one makes libgit2 write the entry.
        git.reference_ensure_log(&name).map_err(failed)?;
    }
    // The reflog names the committer, as git's does; libgit2 has a fallback for
    // repositories with no identity, where a lightweight tag needs none.
    let who = Person::committer(repo).and_then(|p| p.signature()).ok();
    tx.set_target(&name, target, who.as_ref(), log)
        .map_err(failed)?;
    tx.commit().map_err(failed)
}

/// Refuses a tag name git could not create beside the refs that exist (`a/b` when `a`
/// is a tag, or `a` when `a/b` is): checked when planning a release, before anything
/// is written, and again when the tag is made.
pub fn check_available(repo: &Repo, tag: &TagName) -> Result<()> {
    match colliding_ref(repo, &tag.ref_name())? {
        Some(other) => Err(Error::Refused {
            action: format!("creating tag {tag}"),
            reason: format!("the ref {other} exists, and git cannot have both"),
        }),
        None => Ok(()),
    }
}

/// A ref that `name` cannot exist beside: one at a parent path, or one below it.
fn colliding_ref(repo: &Repo, name: &str) -> Result<Option<String>> {
    use bstr::ByteSlice;
    let git = repo.git();
    for (i, _) in name.match_indices('/').skip(1) {
        let parent = &name[..i];
        if git.find_reference(parent).is_ok() {
            return Ok(Some(parent.to_owned()));
        }
    }
    let below = format!("{name}/");
    let loose = git.commondir().join(&below);
    if loose.is_dir() {
        let mut refs = git
            .references_glob(&format!("{below}*"))
            .map_err(|e| Error::git(format!("cannot read the refs below {name}"), e))?;
        if let Some(Ok(reference)) = refs.next() {
            return Ok(Some(reference.name().unwrap_or(&below).to_owned()));
        }
    }
    // Packed refs: one line per ref, `<id> <name>`; a plain search is enough.
    let packed = match std::fs::read(git.commondir().join("packed-refs")) {
        Ok(bytes) => bytes,
        Err(_) => return Ok(None),
    };
    let needle = format!(" {below}");
    Ok(packed.find(needle.as_bytes()).map(|at| {
        let start = at + 1;
        let end = packed[start..]
            .find_byte(b'\n')
            .map_or(packed.len(), |n| start + n);
        String::from_utf8_lossy(&packed[start..end])
            .trim_end()
            .to_owned()
    }))
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
