//! A cheap look at whether a repository's tags or notes may have changed, without
//! opening it: what the files that hold those refs look like on disk. git (and
//! libgit2) write every ref through a lock file renamed into place, so any change to a
//! loose tag or notes ref changes the directory it is in, and a change to packed refs
//! (or to a reftable stack) changes `packed-refs` (or `reftable/`). Equal stamps taken
//! at two moments mean no such ref moved in between; a server keeping a release list
//! per repository checks a thousand of them this way in a few milliseconds, and opens
//! a repository only when its stamp changed.

use std::path::Path;
use std::time::SystemTime;

/// The stamp of one repository's tags and notes refs (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefStamp(Vec<Entry>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    path: std::path::PathBuf,
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// Directories below `refs/tags` and `refs/notes` deeper than this make no stamp (the
/// caller then reads the refs themselves).
const MAX_DIRECTORIES: usize = 256;

/// The stamp of the repository whose git directory is `git_dir`; `None` when one cannot
/// be taken (a linked worktree, whose refs live elsewhere; an unreadable directory):
/// the caller then reads the refs.
pub fn ref_stamp(git_dir: &Path) -> Option<RefStamp> {
    if git_dir.join("commondir").exists() {
        return None;
    }
    let mut entries = Vec::new();
    for file in ["packed-refs", "reftable", "reftable/tables.list"] {
        entries.push(entry(&git_dir.join(file)));
    }
    for top in ["refs/tags", "refs/notes"] {
        let mut pending = vec![git_dir.join(top)];
        while let Some(dir) = pending.pop() {
            if entries.len() > MAX_DIRECTORIES {
                return None;
            }
            entries.push(entry(&dir));
            let Ok(listing) = std::fs::read_dir(&dir) else {
                continue;
            };
            for child in listing.flatten() {
                if child.file_type().is_ok_and(|t| t.is_dir()) {
                    pending.push(child.path());
                }
            }
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Some(RefStamp(entries))
}

fn entry(path: &Path) -> Entry {
    match std::fs::metadata(path) {
        Ok(meta) => Entry {
            path: path.to_path_buf(),
            modified: meta.modified().ok(),
            len: meta.len(),
            inode: inode(&meta),
        },
        Err(_) => Entry {
            path: path.to_path_buf(),
            modified: None,
            len: 0,
            inode: 0,
        },
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.com")
            .env("GIT_COMMITTER_NAME", "a")
            .env("GIT_COMMITTER_EMAIL", "a@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn every_way_git_moves_a_tag_or_a_note_changes_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        git(d, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let git_dir = d.join(".git");
        let mut last = ref_stamp(&git_dir).unwrap();
        let mut changed = |what: &str, args: &[&str]| {
            // File times have a coarse clock on some file systems: step past it.
            std::thread::sleep(std::time::Duration::from_millis(20));
            git(d, args);
            let now = ref_stamp(&git_dir).unwrap();
            assert_ne!(now, last, "{what} left the stamp as it was");
            last = now;
        };
        changed("a new tag", &["tag", "v1"]);
        changed("a tag in a new directory", &["tag", "release/v1"]);
        changed("another tag in that directory", &["tag", "release/v2"]);
        changed("a note", &["notes", "--ref=releases", "add", "-m", "n"]);
        changed("packing", &["pack-refs", "--all"]);
        git(d, &["commit", "-q", "--allow-empty", "-m", "two"]);
        changed("a packed tag moved", &["tag", "-f", "v1"]);
        changed("a tag deleted", &["tag", "-d", "release/v2"]);
        let same = ref_stamp(&git_dir).unwrap();
        assert_eq!(same, ref_stamp(&git_dir).unwrap());
    }
}
