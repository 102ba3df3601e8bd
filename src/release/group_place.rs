//! Where a root's groups keep their repositories. By default each group's is
//! `<group>/.group.git`, in the group's directory; a root may say another place in its
//! `.git-release-root` (`registry.groupRepositories`, a path relative to the root), and
//! `serve`/`site --root` may override it (`--group-repositories`). The repository of
//! group `a/b` is then `<place>/a/b.git`.
//!
//! The place must not put group repositories among the projects: one inside the root
//! is refused unless the scan skips it (a directory starting with `.` on the way, as
//! `<root>/.groups`), and so is one holding the root. A group's path comes from
//! directory names; it is checked still, so that nothing (`..`) leads out of the place.
//!
//! A project's own commands find the same place: they walk up from the project to the
//! root's `.git-release-root` (`release::group::locate`). A server or site started
//! with `--group-repositories` remembers its root's place for the process, so that the
//! release writes it makes for the projects of that root agree with its group API.

use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::git::local_config;

/// The root file's key naming the place (relative to the root, or absolute).
pub const GROUP_REPOSITORIES_KEY: &str = "registry.groupRepositories";

/// The root's own file (`group::ids`), in git-config format.
const ROOT_FILE: &str = ".git-release-root";

/// How far up a project looks for its root.
const MAX_DEPTH: usize = 32;

/// The place `root` keeps its groups' repositories in: `flag` (a path given on the
/// command line, taken from the current directory), else what the root file says
/// (relative to the root); `None` for the default layout. Checked (see the module's
/// documentation), and returned absolute.
pub fn resolve(root: &Path, flag: Option<&Path>) -> Result<Option<PathBuf>> {
    let (place, source) = match flag {
        Some(flag) => {
            let place = if flag.is_absolute() {
                flag.to_path_buf()
            } else {
                std::env::current_dir()
                    .map_err(|e| Error::io("cannot read the current directory", e))?
                    .join(flag)
            };
            (place, "--group-repositories".to_owned())
        }
        None => {
            let file = root.join(ROOT_FILE);
            let Some(value) = local_config::get(&file, GROUP_REPOSITORIES_KEY)? else {
                return Ok(None);
            };
            if value.is_empty() {
                return Err(Error::invalid(
                    "group repositories",
                    value,
                    format!("{GROUP_REPOSITORIES_KEY} in {} is empty", file.display()),
                ));
            }
            (
                root.join(&value),
                format!("{GROUP_REPOSITORIES_KEY} in {}", file.display()),
            )
        }
    };
    check(root, &place).map(Some).map_err(|reason| {
        Error::invalid(
            "group repositories",
            place.display().to_string(),
            format!("{reason} (from {source})"),
        )
    })
}

/// `place` made absolute without links (its existing part resolved, the rest appended),
/// and refused where its repositories would be taken for projects of `root`.
fn check(root: &Path, place: &Path) -> std::result::Result<PathBuf, String> {
    let given_root = lexical(root);
    let given_place = lexical(place);
    let root = root
        .canonicalize()
        .map_err(|e| format!("the root {} cannot be read ({e})", root.display()))?;
    let place = resolve_links(place)?;
    if place.exists() && !place.is_dir() {
        return Err("it is not a directory".into());
    }
    if root.starts_with(&place) {
        return Err(format!(
            "it holds the root {}: a group's repository could land among the projects",
            root.display()
        ));
    }
    // Where it is, and where it is as written: a link inside the root to a place
    // elsewhere is followed by the scan all the same.
    for (place, root) in [(&place, &root), (&given_place, &given_root)] {
        let Ok(inside) = place.strip_prefix(root) else {
            continue;
        };
        let skipped = inside.components().any(|c| match c {
            Component::Normal(name) => name.to_str().is_some_and(|n| n.starts_with('.')),
            _ => false,
        });
        if !skipped {
            return Err(format!(
                "it is inside the root {}, where its repositories would be served as projects; \
                 put it outside the root, or in a directory whose name starts with '.' \
                 (`.groups`), which the scan skips",
                root.display()
            ));
        }
    }
    Ok(place)
}

/// `path` made absolute (from the current directory) with `.` and `..` taken as
/// written, links not followed.
fn lexical(path: &Path) -> PathBuf {
    let absolute = match path.is_absolute() {
        true => path.to_path_buf(),
        false => std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` with its longest existing part canonicalized and the rest (which may name
/// no `..`) appended.
fn resolve_links(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    let mut at = path;
    loop {
        if let Ok(found) = at.canonicalize() {
            let mut out = found;
            for name in rest.iter().rev() {
                out.push(name);
            }
            return Ok(out);
        }
        match at.components().next_back() {
            Some(Component::Normal(name)) => rest.push(name),
            Some(Component::CurDir) => {}
            Some(_) => {
                return Err("it goes up (`..`) through a directory that does not exist".to_owned());
            }
            None => return Err("it names no directory".to_owned()),
        }
        at = match at.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
    }
}

/// The repository of the group at `path` in `place`: `<place>/<path>.git`. The path is
/// names only (none empty, none starting with `.`, as the scan finds groups), so it
/// stays in the place.
pub fn repository(place: &Path, path: &str) -> Result<PathBuf> {
    let bad = path.is_empty()
        || path.contains('\0')
        || path
            .split('/')
            .any(|segment| segment.is_empty() || segment.starts_with('.'));
    if bad {
        return Err(Error::invalid(
            "group path",
            path,
            "a group's repository needs names (none empty, none starting with '.')",
        ));
    }
    Ok(place.join(format!("{path}.git")))
}

/// A group path: `/`-separated names, none empty, none starting with `.`, none a
/// name git or a file system would take for something else.
pub fn check_group_path(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("it is empty".into());
    }
    for segment in path.split('/') {
        if segment.is_empty() || segment.starts_with('.') {
            return Err(format!(
                "{segment:?} is not a group name (empty, or starting with '.')"
            ));
        }
        crate::model::paths::check_file_name(segment)?;
    }
    Ok(())
}

/// The root `dir` is in: the nearest directory at or above it with a
/// `.git-release-root`.
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    let mut at = Some(dir);
    for _ in 0..MAX_DEPTH {
        let here = at?;
        if here.join(ROOT_FILE).is_file() {
            return Some(here.to_path_buf());
        }
        at = here.parent();
    }
    None
}

/// The places this process was told for its roots (`serve`/`site --root`), by the
/// root's canonical path.
static REMEMBERED: Mutex<Vec<(PathBuf, Option<PathBuf>)>> = Mutex::new(Vec::new());

/// Remembers `place` as the place of `root` for this process.
pub fn remember(root: &Path, place: Option<&Path>) {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut remembered = REMEMBERED.lock().unwrap_or_else(|e| e.into_inner());
    remembered.retain(|(r, _)| *r != root);
    remembered.push((root, place.map(Path::to_path_buf)));
}

/// The place of the root at `root` (a canonical path): what this process was told,
/// else what its root file says.
pub fn of_root(root: &Path) -> Result<Option<PathBuf>> {
    {
        let remembered = REMEMBERED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, place)) = remembered.iter().find(|(r, _)| r == root) {
            return Ok(place.clone());
        }
    }
    resolve(root, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_among_the_projects_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("platform")).unwrap();
        std::fs::create_dir_all(root.join("x")).unwrap();
        let root = root.canonicalize().unwrap();
        let ok = |p: &Path| check(&root, p);
        assert!(ok(&dir.path().join("groups")).is_ok());
        assert!(ok(&root.join(".groups")).is_ok());
        assert!(ok(&root.join("platform/.milestones/x")).is_ok());
        assert_eq!(
            ok(&root.join("x/../.groups")).unwrap(),
            root.join(".groups"),
            "{:?}",
            ok(&root.join("x/../.groups"))
        );
        for bad in [
            root.join("groups"),
            root.join("platform"),
            root.clone(),
            root.join("."),
            dir.path().to_path_buf(),
            root.join(".groups/../platform"),
        ] {
            assert!(ok(&bad).is_err(), "{} accepted", bad.display());
        }
        std::fs::write(dir.path().join("file"), "").unwrap();
        assert!(ok(&dir.path().join("file")).is_err());
        // A link in the root to a place elsewhere: the scan would follow it.
        #[cfg(unix)]
        {
            std::fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
            std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("linked")).unwrap();
            assert!(ok(&root.join("linked")).is_err());
            assert!(ok(&root.join("linked/groups")).is_err());
            assert!(ok(&dir.path().join("elsewhere")).is_ok());
        }
    }

    #[test]
    fn a_group_path_stays_in_the_place() {
        let place = Path::new("/srv/groups");
        assert_eq!(
            repository(place, "platform/tools").unwrap(),
            Path::new("/srv/groups/platform/tools.git")
        );
        for bad in [
            "", "a//b", "../x", "a/../b", "/abs", ".hidden", "a/.b", "a/",
        ] {
            assert!(repository(place, bad).is_err(), "{bad:?} accepted");
        }
    }
}
