//! Tag conflicts settled `--ours`: the local release's tag is to replace the one the
//! remote holds under that name (which has no release there). The choice is kept as
//! `refs/release-remotes/<remote>/ours/<tag>`, holding the remote's tag as it was when
//! the choice was made; the next push overwrites the remote's tag with a lease on that
//! value, so a tag that changed there since is never overwritten unseen. The push
//! that carries a choice out removes it.

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;

fn namespace(slug: &str) -> String {
    format!("refs/release-remotes/{slug}/ours/")
}

/// Keeps the choice to overwrite the remote's `tag`, which is `theirs` there now.
pub fn keep(repo: &Repo, slug: &str, tag: &str, theirs: Oid) -> Result<()> {
    repo.git()
        .reference(
            &format!("{}{tag}", namespace(slug)),
            theirs,
            true,
            &format!("git-release: keep the local tag {tag}"),
        )
        .map(|_| ())
        .map_err(|e| Error::git(format!("cannot record the choice for tag {tag}"), e))
}

/// The remote's tag value the choice for `tag` was made against, if one was made.
pub fn chosen_against(repo: &Repo, slug: &str, tag: &str) -> Option<Oid> {
    repo.git()
        .refname_to_id(&format!("{}{tag}", namespace(slug)))
        .ok()
}

/// Every choice kept for `slug`: (tag, the remote's tag value it was made against).
pub fn all(repo: &Repo, slug: &str) -> Vec<(String, Oid)> {
    let prefix = namespace(slug);
    let Ok(refs) = repo.git().references_glob(&format!("{prefix}*")) else {
        return Vec::new();
    };
    refs.flatten()
        .filter_map(|r| {
            let tag = r.name().ok()?.strip_prefix(&prefix)?.to_owned();
            Some((tag, r.target()?))
        })
        .collect()
}

/// Forgets the choice for `tag` (carried out, or overtaken).
pub fn forget(repo: &Repo, slug: &str, tag: &str) -> Result<()> {
    match repo
        .git()
        .find_reference(&format!("{}{tag}", namespace(slug)))
    {
        Ok(mut r) => r
            .delete()
            .map_err(|e| Error::git(format!("cannot remove the choice for tag {tag}"), e)),
        Err(_) => Ok(()),
    }
}
