//! Where notes sit in the notes tree. git stores the note for commit `abcdef…` at
//! `abcdef…`, `ab/cdef…`, `ab/cd/ef…` and so on (its fanout grows with the number of
//! notes); we read every level git produces and write at one level of fanout, which
//! keeps each tree under a few hundred entries up to tens of thousands of releases.
//! Non-note entries (`project.json`, `index/…`, `evidence/…`) have non-hex names at
//! the root and are never mistaken for notes.

use git2::{ObjectType, Oid, Repository, Tree};

use crate::error::{Error, Result};

/// Where a note for `commit` is written: `ab/cdef…`.
pub fn note_path(commit: &str) -> String {
    format!("{}/{}", &commit[..2], &commit[2..])
}

/// Every path holding a note for `commit`, at any fanout level (git concatenates
/// duplicates found at two levels, so a rewrite must remove them all).
pub fn locate_note(repo: &Repository, root: &Tree<'_>, commit: &str) -> Result<Vec<(String, Oid)>> {
    let mut found = Vec::new();
    let mut tree = Some(root.clone());
    let mut consumed = 0;
    let mut dir = String::new();
    while let Some(current) = tree.take() {
        let rest = &commit[consumed..];
        if let Some(entry) = current.get_name(rest) {
            if entry.kind() == Some(ObjectType::Blob) {
                found.push((format!("{dir}{rest}"), entry.id()));
            }
        }
        if rest.len() > 2 {
            if let Some(entry) = current.get_name(&rest[..2]) {
                if entry.kind() == Some(ObjectType::Tree) {
                    dir.push_str(&rest[..2]);
                    dir.push('/');
                    consumed += 2;
                    tree =
                        Some(repo.find_tree(entry.id()).map_err(|e| {
                            Error::git(format!("cannot read notes subtree {dir}"), e)
                        })?);
                }
            }
        }
    }
    Ok(found)
}

/// A note-bearing entry at the root of the notes tree: a note, or a fanout directory
/// with the notes under it. Listing them first lets the notes be read in parts.
#[derive(Debug, Clone)]
pub enum RootEntry {
    Note(String, Oid),
    Fanout(String, Oid),
}

/// The root's notes and fanout directories, in tree order.
pub fn root_entries(root: &Tree<'_>) -> Vec<RootEntry> {
    root.iter()
        .filter_map(|entry| {
            let name = entry.name().ok().filter(|n| is_lower_hex(n))?.to_owned();
            match entry.kind() {
                Some(ObjectType::Blob) if name.len() == 40 => {
                    Some(RootEntry::Note(name, entry.id()))
                }
                Some(ObjectType::Tree) if name.len() == 2 => {
                    Some(RootEntry::Fanout(name, entry.id()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Calls `f(commit_hex, blob_id)` for every note `entry` holds.
pub fn for_each_note_in(
    repo: &Repository,
    entry: &RootEntry,
    f: &mut dyn FnMut(String, Oid),
) -> Result<()> {
    match entry {
        RootEntry::Note(commit, blob) => {
            f(commit.clone(), *blob);
            Ok(())
        }
        RootEntry::Fanout(name, id) => {
            let subtree = repo
                .find_tree(*id)
                .map_err(|e| Error::git(format!("cannot read notes subtree {name}"), e))?;
            walk(repo, &subtree, name.clone(), f)
        }
    }
}

/// Calls `f(commit_hex, blob_id)` for every note in the tree, at any fanout.
pub fn for_each_note(
    repo: &Repository,
    root: &Tree<'_>,
    f: &mut dyn FnMut(String, Oid),
) -> Result<()> {
    walk(repo, root, String::new(), f)
}

fn walk(
    repo: &Repository,
    tree: &Tree<'_>,
    prefix: String,
    f: &mut dyn FnMut(String, Oid),
) -> Result<()> {
    let hex_len = 40;
    for entry in tree.iter() {
        let Ok(name) = entry.name() else { continue };
        if !is_lower_hex(name) {
            continue;
        }
        let full = prefix.len() + name.len();
        match entry.kind() {
            Some(ObjectType::Blob) if full == hex_len => f(format!("{prefix}{name}"), entry.id()),
            Some(ObjectType::Tree) if name.len() == 2 && full < hex_len => {
                let subtree = repo.find_tree(entry.id()).map_err(|e| {
                    Error::git(format!("cannot read notes subtree {prefix}{name}"), e)
                })?;
                walk(repo, &subtree, format!("{prefix}{name}"), f)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A name git's notes code may treat as a note or a fanout directory (hex digits);
/// everything else at the root is one of our files.
pub fn is_note_name(name: &str) -> bool {
    is_lower_hex(name)
}

fn is_lower_hex(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
