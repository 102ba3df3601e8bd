//! Project and group ids under a root: unique across the root, stable across restarts
//! and renames, never handed out twice.
//!
//! An id is recorded where the thing it names lives, so that it travels with it:
//!
//! - a project's in its repository's own `config` file: `release.projectId` (the key
//!   every command already reads, so `git release view --json` in that repository
//!   shows the id the server shows) and `release.projectPath`, the path it was given
//!   under;
//! - a group's in its directory, in the git-config-format file `.git-release-group`:
//!   `group.id` and `group.path`.
//!
//! The root keeps the next free ids in `.git-release-root` (`registry.nextProjectId`,
//! `registry.nextGroupId`), so an id given to a repository that is later removed is
//! not given again. A renamed or moved repository (or directory) keeps its id: only
//! its recorded path is brought up to date. When two claim one id — a repository
//! copied with `cp -a`, which copies its `config` — the one still at the recorded path
//! keeps it (else the first by path), and the other gets a new id. Ids are assigned
//! under an exclusive lock on the root directory, so two processes scanning one root
//! at once agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::git::local_config;

pub const PROJECT_ID_KEY: &str = "release.projectId";
pub const PROJECT_PATH_KEY: &str = "release.projectPath";
pub const GROUP_FILE: &str = ".git-release-group";
pub const GROUP_ID_KEY: &str = "group.id";
pub const GROUP_PATH_KEY: &str = "group.path";
pub const ROOT_FILE: &str = ".git-release-root";
const NEXT_PROJECT_KEY: &str = "registry.nextProjectId";
const NEXT_GROUP_KEY: &str = "registry.nextGroupId";

/// Whether a scan records the ids it gives out (`serve`), or only reads them (`stats`,
/// `site`, which change nothing on disk and give unrecorded things ids for this run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    Record,
    ReadOnly,
}

/// Something that has (or needs) an id: its path now, and the file its id is kept in.
pub struct Holder<'a> {
    pub path: &'a str,
    pub file: PathBuf,
}

/// The ids of one scan, in the order the holders were given.
#[derive(Debug, Default)]
pub struct Assigned {
    pub projects: Vec<u64>,
    pub groups: Vec<u64>,
    /// What could not be recorded (the id then lasts only as long as this process).
    pub notices: Vec<String>,
}

struct Kind {
    id_key: &'static str,
    path_key: &'static str,
    next_key: &'static str,
}

const PROJECTS: Kind = Kind {
    id_key: PROJECT_ID_KEY,
    path_key: PROJECT_PATH_KEY,
    next_key: NEXT_PROJECT_KEY,
};
const GROUPS: Kind = Kind {
    id_key: GROUP_ID_KEY,
    path_key: GROUP_PATH_KEY,
    next_key: NEXT_GROUP_KEY,
};

/// Gives every project and group under `root` its id (see the module's documentation).
pub fn assign(
    root: &Path,
    projects: &[Holder<'_>],
    groups: &[Holder<'_>],
    recording: Recording,
) -> Result<Assigned> {
    let mut assigned = Assigned::default();
    // Held until the ids are written: another process scanning the root waits.
    let _lock = match recording {
        Recording::Record => match lock(root) {
            Ok(lock) => Some(lock),
            Err(e) => {
                assigned.notices.push(format!(
                    "cannot lock {} to record ids ({e}); ids not recorded yet last only while this runs",
                    root.display()
                ));
                None
            }
        },
        Recording::ReadOnly => None,
    };
    let record = recording == Recording::Record && _lock.is_some();
    let root_file = root.join(ROOT_FILE);
    assigned.projects = assign_kind(
        &root_file,
        &PROJECTS,
        projects,
        record,
        &mut assigned.notices,
    )?;
    assigned.groups = assign_kind(&root_file, &GROUPS, groups, record, &mut assigned.notices)?;
    Ok(assigned)
}

/// An exclusive `flock` on the root directory, released when the file is dropped.
#[cfg(unix)]
fn lock(root: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(root)?;
    // SAFETY: flock on a descriptor this function owns; no memory is passed.
    if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(dir)
}

#[cfg(not(unix))]
fn lock(root: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(root)
}

fn assign_kind(
    root_file: &Path,
    kind: &Kind,
    holders: &[Holder<'_>],
    record: bool,
    notices: &mut Vec<String>,
) -> Result<Vec<u64>> {
    // What each holder says of itself; an unreadable file counts as saying nothing.
    let recorded: Vec<(Option<u64>, Option<String>)> = holders
        .iter()
        .map(|h| {
            let id = local_config::get_id(&h.file, kind.id_key).unwrap_or(None);
            let path = local_config::get(&h.file, kind.path_key).unwrap_or(None);
            (id, path)
        })
        .collect();
    let mut claims: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, (id, _)) in recorded.iter().enumerate() {
        if let Some(id) = id {
            claims.entry(*id).or_default().push(i);
        }
    }
    let mut ids: Vec<Option<u64>> = vec![None; holders.len()];
    for (id, claimants) in &claims {
        let keeper = claimants
            .iter()
            .copied()
            .find(|&i| recorded[i].1.as_deref() == Some(holders[i].path))
            .unwrap_or(claimants[0]);
        ids[keeper] = Some(*id);
    }
    let highest = claims.keys().next_back().copied().unwrap_or(0);
    let stored_next = local_config::get_id(root_file, kind.next_key).unwrap_or(None);
    let mut next = stored_next.unwrap_or(1).max(highest + 1);
    let mut out = Vec::with_capacity(holders.len());
    for (i, holder) in holders.iter().enumerate() {
        let id = match ids[i] {
            Some(id) => id,
            None => {
                let id = next;
                next += 1;
                id
            }
        };
        out.push(id);
        let (old_id, old_path) = &recorded[i];
        if record && (*old_id != Some(id) || old_path.as_deref() != Some(holder.path)) {
            let id_text = id.to_string();
            if let Err(e) = local_config::set(
                &holder.file,
                &[(kind.id_key, &id_text), (kind.path_key, holder.path)],
            ) {
                notices.push(format!(
                    "{}: id {id} not recorded ({e}); it lasts only while this runs",
                    holder.path
                ));
            }
        }
    }
    if record && stored_next != Some(next) {
        if let Err(e) = local_config::set(root_file, &[(kind.next_key, &next.to_string())]) {
            notices.push(format!("the next free id is not recorded ({e})"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holders<'a>(dir: &Path, paths: &[&'a str]) -> Vec<Holder<'a>> {
        paths
            .iter()
            .map(|p| Holder {
                path: p,
                file: dir.join(p.replace('/', "_")).join("config"),
            })
            .collect()
    }

    fn prepare(dir: &Path, paths: &[&str]) {
        for p in paths {
            std::fs::create_dir_all(dir.join(p.replace('/', "_"))).unwrap();
        }
    }

    #[test]
    fn ids_are_recorded_kept_and_never_reused() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        prepare(r, &["a", "b", "c", "d"]);
        let first = assign(r, &holders(r, &["a", "b"]), &[], Recording::Record).unwrap();
        assert_eq!(first.projects, [1, 2]);
        assert!(first.notices.is_empty(), "{:?}", first.notices);
        // Scanned again with another before them: the recorded ids stay.
        prepare(r, &["0"]);
        let again = assign(r, &holders(r, &["0", "a", "b"]), &[], Recording::Record).unwrap();
        assert_eq!(again.projects, [3, 1, 2]);
        // b removed, a new one added: b's id is not given again.
        let later = assign(r, &holders(r, &["0", "a", "c"]), &[], Recording::Record).unwrap();
        assert_eq!(later.projects, [3, 1, 4]);
        // Read-only: nothing recorded, but every holder has an id for the run.
        let read = assign(
            r,
            &holders(r, &["0", "a", "c", "d"]),
            &[],
            Recording::ReadOnly,
        )
        .unwrap();
        assert_eq!(read.projects, [3, 1, 4, 5]);
        assert_eq!(
            local_config::get_id(&r.join("d/config"), PROJECT_ID_KEY).unwrap(),
            None
        );
    }

    #[test]
    fn a_copy_gets_a_new_id_and_a_move_keeps_its_own() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        prepare(r, &["a", "z"]);
        assign(r, &holders(r, &["a"]), &[], Recording::Record).unwrap();
        // `z` is a copy of `a` (its config says id 1, path a): `a` keeps 1.
        std::fs::copy(r.join("a/config"), r.join("z/config")).unwrap();
        let ids = assign(r, &holders(r, &["a", "z"]), &[], Recording::Record).unwrap();
        assert_eq!(ids.projects, [1, 2]);
        // `a` moved away to `m`: its config says path a, and it keeps its id.
        prepare(r, &["m"]);
        std::fs::rename(r.join("a/config"), r.join("m/config")).unwrap();
        let ids = assign(r, &holders(r, &["m", "z"]), &[], Recording::Record).unwrap();
        assert_eq!(ids.projects, [1, 2]);
        assert_eq!(
            local_config::get(&r.join("m/config"), PROJECT_PATH_KEY)
                .unwrap()
                .as_deref(),
            Some("m")
        );
    }
}
