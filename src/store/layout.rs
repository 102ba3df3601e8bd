//! What a notes tree of ours may hold (docs/storage.md, "The layout, file by file"):
//! notes at any fanout git produces, `project.json`, `milestones.json`,
//! `freezes.json`, and the fanned-out, content-named `index/`, `evidence/`,
//! `artifacts/`, `deleted-tags/` and `packages/` entries. Anything else in a
//! remote's tree (a name such as `x;$(…)`, one with escape sequences, a stray blob)
//! is foreign to the store: a merge leaves it out and says so, `doctor` reports it in
//! ours.

use git2::{ObjectType, Repository, Tree};

use super::project_data::PROJECT_PATH;
use crate::error::{Error, Result};
use crate::model::freeze::FREEZES_PATH;
use crate::model::milestone::MILESTONES_PATH;

/// An entry of a notes tree that is not part of the store's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEntry {
    /// Its path in the tree (as git stores it; may hold any byte but `/` and NUL).
    pub path: String,
    pub kind: &'static str,
}

impl std::fmt::Display for UnknownEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Debug formatting escapes control characters and bidi overrides: the name
        // came from somebody else's repository.
        write!(f, "{} {:?}", self.kind, self.path)
    }
}

/// Whether `path` names a file of the store's layout (not a note).
pub fn is_known_file(path: &str) -> bool {
    if [PROJECT_PATH, MILESTONES_PATH, FREEZES_PATH].contains(&path) {
        return true;
    }
    let parts: Vec<&str> = path.split('/').collect();
    if let [dir, fan, digest, object] = parts.as_slice() {
        // `deleted-tags/<aa>/<sha256 of the tag>/<object id>` (`deleted_tags`).
        return *dir == super::DELETED_TAGS_DIR
            && fan.len() == 2
            && digest.len() == 64
            && is_lower_hex(digest)
            && digest.starts_with(fan)
            && object.len() == 40
            && is_lower_hex(object);
    }
    let [dir, fan, name] = parts.as_slice() else {
        return false;
    };
    let digest = |name: &str| name.len() == 64 && is_lower_hex(name) && name.starts_with(fan);
    fan.len() == 2
        && match *dir {
            "index" | "artifacts" => digest(name),
            crate::model::package::PACKAGES_DIR => name.strip_suffix(".json").is_some_and(digest),
            "evidence" => {
                let stem = name
                    .strip_suffix(".json")
                    .or_else(|| name.strip_suffix(".json.sig"));
                stem.is_some_and(digest)
            }
            _ => false,
        }
}

/// Every entry of `root` outside the layout, depth first. Fanout directories are
/// followed as far as git's notes code would (40 hex digits in all).
pub fn unknown_entries(repo: &Repository, root: &Tree<'_>) -> Result<Vec<UnknownEntry>> {
    let mut found = Vec::new();
    walk(repo, root, "", Level::Root, &mut found)?;
    Ok(found)
}

/// Where in the layout a tree sits.
#[derive(Clone, Copy)]
enum Level {
    Root,
    /// A notes fanout directory, after this many hex digits of the commit id.
    Fanout(usize),
    /// `index/`, `evidence/` or `artifacts/`.
    Files,
    /// Their two-hex-digit subdirectories.
    FilesFanout,
    /// `deleted-tags/<aa>/<sha256 of the tag>/`: one file per deleted object.
    DeletedTag,
}

fn walk(
    repo: &Repository,
    tree: &Tree<'_>,
    dir: &str,
    level: Level,
    found: &mut Vec<UnknownEntry>,
) -> Result<()> {
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        let path = format!("{dir}{name}");
        let hex = is_lower_hex(&name);
        let blob = entry.kind() == Some(ObjectType::Blob);
        let subtree = entry.kind() == Some(ObjectType::Tree);
        let next = match level {
            Level::Root | Level::Fanout(_) => {
                let before = match level {
                    Level::Fanout(n) => n,
                    _ => 0,
                };
                if hex && blob && before + name.len() == 40 {
                    continue;
                }
                if hex && subtree && name.len() == 2 && before + 2 < 40 {
                    Some(Level::Fanout(before + 2))
                } else if matches!(level, Level::Root) && blob && is_known_file(&path) {
                    continue;
                } else if matches!(level, Level::Root)
                    && subtree
                    && [
                        "index",
                        "evidence",
                        "artifacts",
                        super::DELETED_TAGS_DIR,
                        crate::model::package::PACKAGES_DIR,
                    ]
                    .contains(&name.as_str())
                {
                    Some(Level::Files)
                } else {
                    None
                }
            }
            Level::Files if hex && subtree && name.len() == 2 => Some(Level::FilesFanout),
            Level::FilesFanout if blob && is_known_file(&path) => continue,
            Level::FilesFanout
                if subtree
                    && path.starts_with(super::DELETED_TAGS_DIR)
                    && name.len() == 64
                    && hex =>
            {
                Some(Level::DeletedTag)
            }
            Level::DeletedTag if blob && is_known_file(&path) => continue,
            _ => None,
        };
        match next {
            Some(level) => {
                let sub = repo
                    .find_tree(entry.id())
                    .map_err(|e| Error::git(format!("cannot read notes subtree {path}"), e))?;
                walk(repo, &sub, &format!("{path}/"), level, found)?;
            }
            None => found.push(UnknownEntry {
                path,
                kind: if blob {
                    "file"
                } else if subtree {
                    "directory"
                } else {
                    "entry"
                },
            }),
        }
    }
    Ok(())
}

fn is_lower_hex(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
