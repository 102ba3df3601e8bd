//! Edits to a git tree by path, applied so that only the trees on the edited paths are
//! rewritten: a write touches a handful of small trees however large the store grows.

use std::collections::BTreeMap;

use git2::{FileMode, Oid, Repository, Tree};

use crate::error::{Error, Result};

/// Path (split into components) → new blob id, or `None` to remove the entry.
#[derive(Default)]
pub struct TreeEdits {
    edits: BTreeMap<Vec<String>, Option<Oid>>,
}

impl TreeEdits {
    pub fn put(&mut self, path: &str, blob: Oid) {
        self.edits.insert(split(path), Some(blob));
    }

    pub fn remove(&mut self, path: &str) {
        self.edits.insert(split(path), None);
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Applies the edits to `base` (or an empty tree) and returns the new tree id.
    pub fn apply(&self, repo: &Repository, base: Option<&Tree<'_>>) -> Result<Oid> {
        let edits: Vec<(&[String], Option<Oid>)> = self
            .edits
            .iter()
            .map(|(path, blob)| (path.as_slice(), *blob))
            .collect();
        match apply_level(repo, base, &edits)? {
            Some(oid) => Ok(oid),
            None => {
                let empty = repo
                    .treebuilder(None)
                    .map_err(|e| Error::git("cannot build an empty tree", e))?;
                empty
                    .write()
                    .map_err(|e| Error::git("cannot write an empty tree", e))
            }
        }
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/').map(str::to_owned).collect()
}

/// Applies `edits` (paths relative to this level) to `base`; `None` when the resulting
/// tree is empty, so that emptied directories disappear as git's own do.
fn apply_level(
    repo: &Repository,
    base: Option<&Tree<'_>>,
    edits: &[(&[String], Option<Oid>)],
) -> Result<Option<Oid>> {
    let fail = |e| Error::git("cannot update the release notes tree", e);
    let mut builder = repo.treebuilder(base).map_err(fail)?;
    let mut i = 0;
    while i < edits.len() {
        let (path, blob) = edits[i];
        let first = &path[0];
        if path.len() == 1 {
            match blob {
                Some(oid) => {
                    builder
                        .insert(first, oid, FileMode::Blob.into())
                        .map_err(fail)?;
                }
                None => {
                    if builder.get(first).map_err(fail)?.is_some() {
                        builder.remove(first).map_err(fail)?;
                    }
                }
            }
            i += 1;
            continue;
        }
        // Every edit below the same directory is applied in one recursive call.
        let group_end = edits[i..]
            .iter()
            .position(|(p, _)| p.len() == 1 || &p[0] != first)
            .map_or(edits.len(), |n| i + n);
        let nested: Vec<(&[String], Option<Oid>)> = edits[i..group_end]
            .iter()
            .map(|(p, b)| (&p[1..], *b))
            .collect();
        let subtree = match builder.get(first).map_err(fail)? {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id()).map_err(fail)?)
            }
            _ => None,
        };
        match apply_level(repo, subtree.as_ref(), &nested)? {
            Some(oid) => {
                builder
                    .insert(first, oid, FileMode::Tree.into())
                    .map_err(fail)?;
            }
            None => {
                if builder.get(first).map_err(fail)?.is_some() {
                    builder.remove(first).map_err(fail)?;
                }
            }
        }
        i = group_end;
    }
    if builder.is_empty() {
        return Ok(None);
    }
    builder.write().map(Some).map_err(fail)
}
