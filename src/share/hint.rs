//! What to tell someone who finds no releases in a fresh clone: the releases live in
//! `refs/notes/releases`, which `git clone` does not bring.

use crate::git::repo::Repo;
use crate::share::remote;

/// A sentence pointing at `git release fetch` when this clone has no release notes at
/// all and has a remote to fetch them from; `None` when there is nothing to suggest.
pub fn fetch_hint(repo: &Repo) -> Option<String> {
    if repo.has_ref("refs/notes/releases") {
        return None;
    }
    let remotes = repo.remote_names();
    if remotes.is_empty() {
        return None;
    }
    let remote = remote::default_remote(repo);
    let remote = if remotes.contains(&remote) {
        remote
    } else {
        remotes[0].clone()
    };
    Some(if repo.has_ref(&remote::tracking_ref(&remote)) {
        format!("{remote} has releases: `git release fetch {remote}` brings them here.")
    } else {
        format!(
            "Releases are not fetched by git clone: if {remote} has some, \
             `git release fetch {remote}` brings them here."
        )
    })
}
