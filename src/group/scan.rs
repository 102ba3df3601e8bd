//! Finding the repositories under a root directory, as gitweb's `$projectroot` scan
//! finds them (`git_get_projects_list`): every directory is looked at once, a
//! directory that is a repository is a project and is not looked into (so a work
//! tree's `.git/modules/…` or a checked-out submodule is never a project of its own),
//! and the directories on the way are the groups.
//!
//! A repository is a bare one (`HEAD`, `objects/` and `refs/`, as git's
//! `is_git_directory` asks) or a work tree with a `.git` (a directory, or a file
//! naming one). Names starting with `.` are skipped: they are not projects
//! (`<group>/.group.git` is the group's own repository, found here as such). A linked
//! worktree (`git worktree add`) shares its main repository's configuration and is
//! left out, as one repository is one project. Symbolic links are followed, as gitweb
//! follows them, each directory visited at most once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The repository a group keeps its milestones in, in the group's directory.
pub const GROUP_REPOSITORY: &str = ".group.git";

/// How deep the scan looks (gitweb's `$project_maxdepth` is a guard of the same kind).
pub const MAX_DEPTH: usize = 32;

/// A repository found under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRepository {
    /// Its path under the root, `/`-separated, without a trailing `.git`: the
    /// project's `path_with_namespace`.
    pub path: String,
    /// The directory found: the work tree, or the bare repository.
    pub dir: PathBuf,
    /// Its git directory (`dir/.git`, what a `.git` file names, or `dir`).
    pub git_dir: PathBuf,
}

/// A directory on the way to repositories: a group (or the root, path "").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDirectory {
    pub path: String,
    pub dir: PathBuf,
    /// Whether it holds a group repository (`.group.git`).
    pub has_group_repository: bool,
    /// When it last changed: a repository added, removed or renamed in it changes it.
    pub modified: Option<std::time::SystemTime>,
}

/// Everything one scan found.
#[derive(Debug, Default, Clone)]
pub struct Scan {
    /// Sorted by path.
    pub repositories: Vec<FoundRepository>,
    /// Every directory looked into that is not a repository, the root first, each
    /// before what it holds.
    pub directories: Vec<FoundDirectory>,
    /// What was passed over, and why (shown once by whoever scans).
    pub skipped: Vec<String>,
}

/// Scans `root` (see the module's documentation).
pub fn scan(root: &Path) -> Result<Scan> {
    let meta = std::fs::metadata(root)
        .map_err(|e| Error::io(format!("cannot read the root {}", root.display()), e))?;
    if !meta.is_dir() {
        return Err(Error::invalid(
            "root",
            root.display().to_string(),
            "it is not a directory",
        ));
    }
    let mut scan = Scan::default();
    let mut seen = Seen::default();
    visit(root, "", 0, &mut seen, &mut scan)?;
    scan.repositories.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(scan)
}

/// Whether `dir` itself is a git directory (git's `is_git_directory`).
fn is_git_directory(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// The git directory a `.git` file names (`gitdir: <path>`, relative to the file).
fn gitfile_target(file: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(file).ok()?;
    let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    let target = Path::new(target);
    Some(match file.parent() {
        Some(parent) if target.is_relative() => parent.join(target),
        _ => target.to_path_buf(),
    })
}

enum Kind {
    /// A repository, with its git directory.
    Repository(PathBuf),
    /// A linked worktree of another repository: passed over.
    LinkedWorktree,
    Directory,
}

fn kind(dir: &Path) -> Kind {
    let dot_git = dir.join(".git");
    let git_dir = if dot_git.is_dir() {
        Some(dot_git)
    } else if dot_git.is_file() {
        gitfile_target(&dot_git)
    } else if is_git_directory(dir) {
        return Kind::Repository(dir.to_path_buf());
    } else {
        None
    };
    match git_dir {
        // `commondir` marks a linked worktree's git directory.
        Some(git_dir) if git_dir.join("commondir").exists() => Kind::LinkedWorktree,
        Some(git_dir) if is_git_directory(&git_dir) => Kind::Repository(git_dir),
        _ => Kind::Directory,
    }
}

/// What the scan has met already: directories (by device and inode) and git
/// directories, so that a link does not make one repository two projects.
#[derive(Default)]
struct Seen {
    directories: HashSet<(u64, u64)>,
    git_dirs: HashSet<PathBuf>,
}

fn visit(dir: &Path, path: &str, depth: usize, seen: &mut Seen, scan: &mut Scan) -> Result<()> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
    if !seen.directories.insert(identity(&meta)) {
        scan.skipped.push(format!(
            "{}: already scanned through another link",
            dir.display()
        ));
        return Ok(());
    }
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        // A directory the server may not read holds nothing it could serve.
        Err(e) => {
            scan.skipped
                .push(format!("{}: cannot be read ({e})", dir.display()));
            return Ok(());
        }
    };
    for entry in listing.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            scan.skipped
                .push(format!("{}: the name is not UTF-8", entry.path().display()));
            continue;
        };
        entries.push((name.to_owned(), entry.path()));
    }
    entries.sort();
    let index = scan.directories.len();
    scan.directories.push(FoundDirectory {
        path: path.to_owned(),
        dir: dir.to_path_buf(),
        has_group_repository: false,
        modified: meta.modified().ok(),
    });
    let mut taken = HashSet::new();
    for (name, entry) in entries {
        if name == GROUP_REPOSITORY {
            scan.directories[index].has_group_repository = is_git_directory(&entry);
            continue;
        }
        if name.starts_with('.') || !entry.is_dir() {
            continue;
        }
        let child = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}/{name}")
        };
        match kind(&entry) {
            Kind::Repository(git_dir) => {
                let project = child.strip_suffix(".git").unwrap_or(&child).to_owned();
                if project.ends_with('/') || project.is_empty() {
                    scan.skipped.push(format!(
                        "{}: a repository needs a name besides .git",
                        entry.display()
                    ));
                    continue;
                }
                let canonical = git_dir.canonicalize().unwrap_or_else(|_| git_dir.clone());
                if !seen.git_dirs.insert(canonical) {
                    scan.skipped.push(format!(
                        "{}: a link to a repository found already",
                        entry.display()
                    ));
                    continue;
                }
                if !taken.insert(project.clone()) {
                    scan.skipped.push(format!(
                        "{}: another repository already has the path {project}",
                        entry.display()
                    ));
                    continue;
                }
                scan.repositories.push(FoundRepository {
                    path: project,
                    dir: entry,
                    git_dir,
                });
            }
            Kind::LinkedWorktree => scan.skipped.push(format!(
                "{}: a linked worktree (its repository is served where it is)",
                entry.display()
            )),
            Kind::Directory if depth + 1 >= MAX_DEPTH => scan.skipped.push(format!(
                "{}: deeper than {MAX_DEPTH} directories",
                entry.display()
            )),
            Kind::Directory => visit(&entry, &child, depth + 1, seen, scan)?,
        }
    }
    Ok(())
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    (0, NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The least a directory needs for git to take it for a bare repository.
    pub(crate) fn bare(path: &Path) {
        std::fs::create_dir_all(path.join("objects")).unwrap();
        std::fs::create_dir_all(path.join("refs")).unwrap();
        std::fs::write(path.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }

    #[test]
    fn finds_repositories_without_looking_into_them() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        bare(&r.join("top.git"));
        bare(&r.join("a/b/deep.git"));
        bare(&r.join("a/work/.git"));
        // Inside a repository: never a project of its own.
        bare(&r.join("a/work/.git/modules/sub"));
        bare(&r.join("a/work/vendor/inner.git"));
        bare(&r.join("a/.group.git"));
        bare(&r.join(".hidden.git"));
        bare(&r.join("a/.secret/x.git"));
        std::fs::create_dir_all(r.join("empty/dir")).unwrap();
        let scan = scan(r).unwrap();
        let paths: Vec<&str> = scan.repositories.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/b/deep", "a/work", "top"]);
        let work = &scan.repositories[1];
        assert_eq!(work.dir, r.join("a/work"));
        assert_eq!(work.git_dir, r.join("a/work/.git"));
        let dirs: Vec<(&str, bool)> = scan
            .directories
            .iter()
            .map(|d| (d.path.as_str(), d.has_group_repository))
            .collect();
        assert_eq!(
            dirs,
            [
                ("", false),
                ("a", true),
                ("a/b", false),
                ("empty", false),
                ("empty/dir", false)
            ]
        );
    }

    #[test]
    fn two_repositories_on_one_path_keep_the_first() {
        let root = tempfile::tempdir().unwrap();
        bare(&root.path().join("p.git"));
        bare(&root.path().join("p/.git"));
        let scan = scan(root.path()).unwrap();
        assert_eq!(scan.repositories.len(), 1);
        assert_eq!(scan.repositories[0].dir, root.path().join("p"));
        assert!(
            scan.skipped[0].contains("already has the path p"),
            "{:?}",
            scan.skipped
        );
    }

    #[test]
    fn linked_worktrees_are_left_out() {
        let root = tempfile::tempdir().unwrap();
        let main = root.path().join("main.git");
        bare(&main);
        let linked = main.join("worktrees/wt");
        bare(&linked);
        std::fs::write(linked.join("commondir"), "../..\n").unwrap();
        let wt = root.path().join("wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", linked.display())).unwrap();
        let scan = scan(root.path()).unwrap();
        let paths: Vec<&str> = scan.repositories.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["main"]);
    }
}
