//! Revisions as GitLab's API takes them (`sha`, `ref`): a tag name, a branch name or a
//! commit id, and nothing else git would understand — no reflog (`HEAD@{1}`), no
//! stash, no notes ref, no `:/` message search, no `~`/`^` arithmetic.
//!
//! A clone holds commits GitLab's server never has (a stash, unpushed work, a reflog
//! entry), so a commit id is served only when the commit is reachable from a branch or
//! a tag. Which commits are is worked out once (a walk of the history: about 1 s of CPU
//! for git/git's 85,000 commits) and kept; when refs move forward only the new commits
//! are walked.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use git2::{ErrorCode, ObjectType, Oid};

use crate::error::{Error, Result};
use crate::git::Repo;

/// The commit `rev` names, taken as GitLab takes a revision: the tag `rev`, else the
/// branch `rev` (or the full `refs/tags/…` / `refs/heads/…` name), else a commit id
/// (4 to 40 hex digits) of a commit reachable from a branch or tag.
pub fn served(repo: &Repo, rev: &str, reachable: &Reachable) -> Result<Oid> {
    let unknown = || Error::ArchiveRevision {
        rev: rev.to_owned(),
        reason: "no such branch, tag or commit".into(),
    };
    if rev.is_empty() || rev.len() > 1024 {
        return Err(unknown());
    }
    let git = repo.git();
    let by_ref = |name: &str| -> Result<Option<Oid>> {
        // A name git could not store (too long for a file name, control characters)
        // is not looked up: git2 fails on it with more than "not found".
        let short = name
            .strip_prefix("refs/tags/")
            .or_else(|| name.strip_prefix("refs/heads/"))
            .unwrap_or(name);
        if !git2::Reference::is_valid_name(name) || crate::model::TagName::parse(short).is_err() {
            return Ok(None);
        }
        match git.find_reference(name) {
            Ok(reference) => {
                let object = reference
                    .peel(ObjectType::Any)
                    .map_err(|e| Error::git(format!("cannot read what {name} points at"), e))?;
                match object.peel_to_commit() {
                    Ok(commit) => Ok(Some(commit.id())),
                    // A tag of a tree or a blob names no commit to archive.
                    Err(_) => Err(unknown()),
                }
            }
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {name}"), e)),
        }
    };
    let names: Vec<String> = if rev.starts_with("refs/heads/") || rev.starts_with("refs/tags/") {
        vec![rev.to_owned()]
    } else {
        vec![format!("refs/tags/{rev}"), format!("refs/heads/{rev}")]
    };
    for name in &names {
        if let Some(commit) = by_ref(name)? {
            return Ok(commit);
        }
    }
    let Some(commit) = commit_id(repo, rev)? else {
        return Err(unknown());
    };
    if reachable.contains(repo, commit)? {
        Ok(commit)
    } else {
        Err(unknown())
    }
}

/// The commit an id or unique id prefix names, if it is one.
fn commit_id(repo: &Repo, rev: &str) -> Result<Option<Oid>> {
    if !(4..=40).contains(&rev.len()) || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let git = repo.git();
    let prefix = Oid::from_str(rev).map_err(|e| Error::git("cannot read a commit id", e))?;
    let odb = git
        .odb()
        .map_err(|e| Error::git("cannot open the object database", e))?;
    let oid = match odb.exists_prefix(prefix, rev.len()) {
        Ok(oid) => oid,
        // Unknown, or more than one object starts so: names no one commit.
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Ambiguous) => {
            return Ok(None);
        }
        Err(e) => return Err(Error::git("cannot look up a commit id", e)),
    };
    Ok(git.find_commit(oid).ok().map(|c| c.id()))
}

/// The commits reachable from the branches and tags, kept while they do not move. When
/// they move forward (a push adds commits or tags), only the new commits are walked;
/// when one goes back or away, everything is walked again, so that commits only it
/// reached are no longer served.
#[derive(Default)]
pub struct Reachable {
    last: Mutex<Option<Arc<Known>>>,
}

/// The branches and tags (name → target) and the commits they reach.
struct Known {
    tips: BTreeMap<Vec<u8>, Oid>,
    commits: HashSet<Oid>,
}

impl Reachable {
    /// Whether `commit` is in the history of a branch or a tag.
    pub fn contains(&self, repo: &Repo, commit: Oid) -> Result<bool> {
        Ok(self.known(repo)?.commits.contains(&commit))
    }

    /// The reachable commits as of the refs now.
    fn known(&self, repo: &Repo) -> Result<Arc<Known>> {
        let tips = tips(repo)?;
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(last) = &last
            && last.tips == tips
        {
            return Ok(Arc::clone(last));
        }
        let commits = match &last {
            Some(last) => match advanced(repo, last, &tips)? {
                Some(commits) => commits,
                None => walk(repo, tips.values())?,
            },
            None => walk(repo, tips.values())?,
        };
        let known = Arc::new(Known { tips, commits });
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&known));
        Ok(known)
    }
}

/// Every branch and tag by name, with what it points at.
fn tips(repo: &Repo) -> Result<BTreeMap<Vec<u8>, Oid>> {
    let git = repo.git();
    let mut tips = BTreeMap::new();
    for glob in ["refs/heads/*", "refs/tags/*"] {
        let references = git
            .references_glob(glob)
            .map_err(|e| Error::git("cannot list the branches and tags", e))?;
        for reference in references {
            let reference = reference.map_err(|e| Error::git("cannot read a ref", e))?;
            if let Some(target) = reference.target() {
                tips.insert(reference.name_bytes().to_vec(), target);
            }
        }
    }
    Ok(tips)
}

/// The commit an object peels to (`None` for a tag of a tree or blob, or a missing
/// object).
fn peel(repo: &Repo, object: Oid) -> Option<Oid> {
    let object = repo.git().find_object(object, None).ok()?;
    object.peel_to_commit().ok().map(|c| c.id())
}

/// The commits `last` knew plus those the new and moved tips reach, when every tip
/// that moved or went away is still reached (refs only went forward); `None` when one
/// may not be.
fn advanced(
    repo: &Repo,
    last: &Known,
    tips: &BTreeMap<Vec<u8>, Oid>,
) -> Result<Option<HashSet<Oid>>> {
    let git = repo.git();
    let mut commits = last.commits.clone();
    let mut reached_known = HashSet::new();
    let mut queue: Vec<Oid> = tips
        .iter()
        .filter(|(name, target)| last.tips.get(*name) != Some(target))
        .filter_map(|(_, &target)| peel(repo, target))
        .collect();
    while let Some(commit) = queue.pop() {
        if last.commits.contains(&commit) {
            reached_known.insert(commit);
            continue;
        }
        if !commits.insert(commit) {
            continue;
        }
        let commit = git
            .find_commit(commit)
            .map_err(|e| Error::git("cannot walk the history", e))?;
        queue.extend(commit.parent_ids());
    }
    let current: HashSet<Oid> = tips.values().filter_map(|&t| peel(repo, t)).collect();
    let gone_unreached = last
        .tips
        .iter()
        .filter(|(name, target)| tips.get(*name) != Some(target))
        .filter_map(|(_, &target)| peel(repo, target))
        .any(|commit| !reached_known.contains(&commit) && !current.contains(&commit));
    Ok((!gone_unreached).then_some(commits))
}

/// Every commit in the history of `tips` (tags peeled; tags of trees or blobs skipped).
fn walk<'t>(repo: &Repo, tips: impl Iterator<Item = &'t Oid>) -> Result<HashSet<Oid>> {
    let mut walk = repo
        .git()
        .revwalk()
        .map_err(|e| Error::git("cannot walk the history", e))?;
    for &tip in tips {
        if let Some(commit) = peel(repo, tip) {
            walk.push(commit)
                .map_err(|e| Error::git("cannot walk the history", e))?;
        }
    }
    let mut set = HashSet::new();
    for oid in walk {
        set.insert(oid.map_err(|e| Error::git("cannot walk the history", e))?);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit on `parents` with an empty tree.
    fn commit(git: &git2::Repository, message: &str, parents: &[Oid]) -> Oid {
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let tree = git.treebuilder(None).unwrap().write().unwrap();
        let tree = git.find_tree(tree).unwrap();
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| git.find_commit(*p).unwrap())
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        git.commit(None, &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    #[test]
    fn reachable_commits_follow_refs_forward_and_back() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::from_git2(git2::Repository::init(dir.path()).unwrap());
        let git = repo.git();
        let a = commit(git, "a", &[]);
        let b = commit(git, "b", &[a]);
        let stray = commit(git, "stray", &[a]);
        git.reference("refs/heads/main", b, true, "").unwrap();
        git.reference("refs/notes/releases", stray, true, "")
            .unwrap();
        let reachable = Reachable::default();
        assert!(reachable.contains(&repo, a).unwrap());
        assert!(reachable.contains(&repo, b).unwrap());
        assert!(
            !reachable.contains(&repo, stray).unwrap(),
            "a notes ref reaches nothing"
        );

        // Forward: a new commit and a tag of the stray one.
        let c = commit(git, "c", &[b]);
        git.reference("refs/heads/main", c, true, "").unwrap();
        let tag = git
            .tag(
                "t",
                &git.find_object(stray, None).unwrap(),
                &git2::Signature::now("t", "t@x").unwrap(),
                "m",
                false,
            )
            .unwrap();
        assert!(reachable.contains(&repo, c).unwrap());
        assert!(
            reachable.contains(&repo, stray).unwrap(),
            "reached through an annotated tag {tag}"
        );

        // Back: the branch rewound and the tag gone; what only they reached is not served.
        git.reference("refs/heads/main", a, true, "").unwrap();
        git.find_reference("refs/tags/t").unwrap().delete().unwrap();
        assert!(reachable.contains(&repo, a).unwrap());
        for gone in [b, c, stray] {
            assert!(!reachable.contains(&repo, gone).unwrap(), "{gone}");
        }
    }

    #[test]
    fn only_tags_branches_and_commit_ids_are_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::from_git2(git2::Repository::init(dir.path()).unwrap());
        let git = repo.git();
        let a = commit(git, "a", &[]);
        let b = commit(git, "b", &[a]);
        git.reference("refs/heads/main", b, true, "").unwrap();
        git.reference("refs/tags/v1", a, true, "").unwrap();
        let reachable = Reachable::default();
        let short = &a.to_string()[..7];
        for (rev, expected) in [("main", b), ("v1", a), ("refs/heads/main", b), (short, a)] {
            assert_eq!(served(&repo, rev, &reachable).unwrap(), expected, "{rev}");
        }
        for refused in [
            "HEAD",
            "main~1",
            "main^",
            "main@{0}",
            ":/a",
            "refs/notes/x",
            "",
            "v1:",
            "ma",
        ] {
            assert!(served(&repo, refused, &reachable).is_err(), "{refused}");
        }
    }
}
