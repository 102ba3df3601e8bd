//! A notes tree as flat maps of blobs (notes by commit, other files by path), the
//! form merges and repairs work on, and the tree edits that turn one into another.

use std::collections::{BTreeMap, BTreeSet};

use git2::{ObjectType, Oid, Repository, Tree};

use super::fanout;
use super::tree_edit::TreeEdits;
use crate::error::{Error, Result};

/// Every blob of a notes tree: notes by commit (whatever their fanout) and other
/// files by path.
#[derive(Default, Clone, PartialEq, Eq)]
pub(crate) struct Flat {
    pub notes: BTreeMap<String, Oid>,
    pub files: BTreeMap<String, Oid>,
}

pub(crate) fn flatten<'r>(
    repo: &'r Repository,
    commit: Option<Oid>,
) -> Result<(Flat, Option<Tree<'r>>)> {
    let Some(commit) = commit else {
        return Ok((Flat::default(), None));
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| Error::git(format!("cannot read notes commit {commit}"), e))?;
    let flat = flatten_tree(repo, &tree)?;
    Ok((flat, Some(tree)))
}

/// Every blob of a notes tree, as `flatten`.
pub(crate) fn flatten_tree(repo: &Repository, tree: &Tree<'_>) -> Result<Flat> {
    let mut flat = Flat::default();
    fanout::for_each_note(repo, tree, &mut |hex, blob| {
        flat.notes.insert(hex, blob);
    })?;
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if fanout::is_note_name(name) {
            continue;
        }
        collect_files(repo, &entry, name.to_owned(), &mut flat.files)?;
    }
    Ok(flat)
}

fn collect_files(
    repo: &Repository,
    entry: &git2::TreeEntry<'_>,
    path: String,
    out: &mut BTreeMap<String, Oid>,
) -> Result<()> {
    match entry.kind() {
        Some(ObjectType::Blob) => {
            out.insert(path, entry.id());
        }
        Some(ObjectType::Tree) => {
            let tree = repo
                .find_tree(entry.id())
                .map_err(|e| Error::git(format!("cannot read {path}"), e))?;
            for child in tree.iter() {
                let Ok(name) = child.name() else { continue };
                collect_files(repo, &child, format!("{path}/{name}"), out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub(crate) const INDEX_DIR: &str = "index/";

/// The tree edits that turn `ours` (whose tree is `tree`) into `result`.
pub(crate) fn diff(
    repo: &Repository,
    ours: &Flat,
    tree: Option<&Tree<'_>>,
    result: &Flat,
) -> Result<TreeEdits> {
    let mut edits = TreeEdits::default();
    let hexes: BTreeSet<&String> = ours.notes.keys().chain(result.notes.keys()).collect();
    for hex in hexes {
        let (o, r) = (ours.notes.get(hex), result.notes.get(hex));
        if o == r {
            continue;
        }
        if let Some(tree) = tree {
            for (path, _) in fanout::locate_note(repo, tree, hex)? {
                edits.remove(&path);
            }
        }
        if let Some(id) = r {
            edits.put(&fanout::note_path(hex), *id);
        }
    }
    let paths: BTreeSet<&String> = ours.files.keys().chain(result.files.keys()).collect();
    for path in paths {
        let (o, r) = (ours.files.get(path), result.files.get(path));
        if o == r {
            continue;
        }
        match r {
            Some(id) => edits.put(path, *id),
            None => edits.remove(path),
        }
    }
    Ok(edits)
}
