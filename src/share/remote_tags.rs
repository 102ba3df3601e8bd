//! The remote's release tags as last seen, kept under
//! `refs/release-remotes/<remote>/tags/<tag>`: only tags of releases (here or there) are
//! fetched, each by its exact name, and only those git would let a fetch create are
//! made local tags — never one spelt like a ref, never one named like a branch, never
//! over a local tag (`git fetch` refuses to clobber a tag, and so does this).

use std::collections::{BTreeMap, BTreeSet};

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::TagName;
use crate::store::Snapshot;

/// Where the remote's tags are kept before (and after) they are adopted.
pub fn namespace(slug: &str) -> String {
    format!("refs/release-remotes/{slug}/tags/")
}

/// Every tag kept for `slug`: name → the remote's object, as last fetched.
pub fn known(repo: &Repo, slug: &str) -> Result<BTreeMap<String, Oid>> {
    let prefix = namespace(slug);
    let mut out = BTreeMap::new();
    let refs = repo
        .git()
        .references_glob(&format!("{prefix}*"))
        .map_err(|e| Error::git("cannot list the fetched tags", e))?;
    for r in refs {
        let r = r.map_err(|e| Error::git("cannot list the fetched tags", e))?;
        if let (Ok(name), Some(target)) = (r.name(), r.target()) {
            if let Some(tag) = name.strip_prefix(&prefix) {
                out.insert(tag.to_owned(), target);
            }
        }
    }
    Ok(out)
}

/// The remote's value of `tag` as last fetched.
pub fn seen(repo: &Repo, slug: &str, tag: &str) -> Option<Oid> {
    repo.git()
        .refname_to_id(&format!("{}{tag}", namespace(slug)))
        .ok()
}

/// The refspec that fetches the remote's `tag` into the namespace (forced: it mirrors
/// the remote, whatever happened there).
pub fn refspec(slug: &str, tag: &str) -> String {
    format!("+refs/tags/{tag}:{}{tag}", namespace(slug))
}

/// Whether a remote tag may be fetched at all: a name git accepts for a new tag (not
/// `refs/…`, which would make `refs/tags/refs/heads/main`).
pub fn fetchable(tag: &str) -> bool {
    TagName::parse_new(tag).is_ok() && git2::Reference::is_valid_name(&format!("refs/tags/{tag}"))
}

/// Forgets the tags the remote no longer has (or that are not release tags any more),
/// so that the namespace says what the remote holds.
pub fn prune(repo: &Repo, slug: &str, keep: &BTreeSet<String>) -> Result<()> {
    let prefix = namespace(slug);
    for (tag, _) in known(repo, slug)? {
        if keep.contains(&tag) {
            continue;
        }
        if let Ok(mut r) = repo.git().find_reference(&format!("{prefix}{tag}")) {
            r.delete()
                .map_err(|e| Error::git(format!("cannot forget {prefix}{tag}"), e))?;
        }
    }
    Ok(())
}

/// Why a remote tag was not made a local tag.
pub fn adoption_refused(repo: &Repo, tag: &str) -> Option<String> {
    if !fetchable(tag) {
        return Some(format!("tag {tag:?} is spelt like a ref; not created here"));
    }
    let git = repo.git();
    for (kind, prefix) in [
        ("branch", "refs/heads/"),
        ("remote-tracking branch", "refs/remotes/"),
    ] {
        if git.find_reference(&format!("{prefix}{tag}")).is_ok() {
            return Some(format!(
                "tag {tag} is named like the {kind} {tag}, which it would shadow; not created here"
            ));
        }
    }
    None
}

/// Creates the local tags of the releases in `merged` that are missing here, from the
/// remote's (`fetched`), when the remote's tag is the one the release recorded. Never
/// touches a tag that exists. Returns what to tell the user.
pub fn adopt(
    repo: &Repo,
    remote: &str,
    merged: &Snapshot<'_>,
    fetched: &BTreeMap<String, Oid>,
) -> Result<Vec<String>> {
    let mut notices = Vec::new();
    for (tag, theirs) in fetched {
        if tag::resolve(repo, tag)?.is_some() {
            continue;
        }
        let Some(recorded) = merged.recorded_tag_target(tag)? else {
            continue;
        };
        if recorded != *theirs {
            notices.push(format!(
                "tag {tag} on {remote} is not the one release {tag} recorded; not created here"
            ));
            continue;
        }
        if let Some(reason) = adoption_refused(repo, tag) {
            notices.push(reason);
            continue;
        }
        let name = TagName::parse(tag)?;
        if repo.git().find_object(*theirs, None).is_err() {
            continue;
        }
        match tag::create_ref(repo, &name, *theirs) {
            Ok(()) | Err(Error::TagExists { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(notices)
}
