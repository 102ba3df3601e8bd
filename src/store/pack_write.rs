//! A store update's new objects, written as one pack file instead of a loose file each.
//!
//! One release write makes about a dozen small objects: the note, its fanout trees, the
//! index entry, the id counters, evidence, the commit. Written loose, each costs a file
//! creation and often a directory (`objects/ab/`), and on ordinary disks that is most of
//! the write: `create` on an existing tag took 3.5× what `git notes add` (four objects)
//! takes. Collected in memory (libgit2's mempack backend, on a second handle so that no
//! other write of the process can land there) and written as one pack before the ref
//! moves, they cost two files (`.pack`, `.idx`), whatever their number.
//!
//! Like `git fetch`, this leaves small packs for `git gc` to consolidate (git runs
//! `gc --auto` itself once gc.autoPackLimit packs exist); from that many packs on,
//! writes go loose again, so packs never pile up, and a repository whose objects live
//! somewhere the second handle would not see (object directories from the environment)
//! always writes loose.

use std::io::Write;
use std::path::Path;

use git2::{Mempack, ObjectType, Oid, Repository};

use crate::error::{Error, Result};

/// git's default gc.autoPackLimit: from this many packs on, `git gc --auto` repacks.
const AUTO_PACK_LIMIT: usize = 50;

/// Above every backend libgit2 adds (loose 1, packed 2): new objects go to memory.
pub(crate) const MEMPACK_PRIORITY: i32 = 1000;

/// A second handle on `git`'s repository for a store update to write through, or
/// `None` when writes should go loose (see the module doc).
pub(crate) fn writer_for(git: &Repository) -> Option<Repository> {
    let from_env = ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if from_env || pack_count(&git.commondir().join("objects").join("pack")) >= AUTO_PACK_LIMIT {
        return None;
    }
    Repository::open(git.path()).ok()
}

fn pack_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".pack"))
            .count()
    })
}

/// Writes the objects `commit` brought (itself, and everything its tree `new_tree`
/// holds that `old_tree`, the tree of its parent, does not hold at the same path) as one
/// pack into `git`'s object database, where every handle finds them; then empties
/// `mempack`. Objects staged but left out of the commit are dropped with it.
///
/// Only those objects, not what `git_mempack_dump` packs (the commit's whole tree,
/// tens of thousands of notes): all the rest is on disk already, reachable from the
/// parent. Nor through libgit2's packbuilder, which reads every tag of the repository
/// to order a pack (10,000 stat calls for a dozen objects).
pub(crate) fn flush(
    git: &Repository,
    writer: &Repository,
    mempack: &Mempack<'_>,
    old_tree: Option<Oid>,
    new_tree: Oid,
    commit: Oid,
) -> Result<()> {
    let fail = |e: git2::Error| Error::git("cannot write the new objects as a pack", e);
    let mut objects = vec![commit];
    changed_objects(writer, new_tree, old_tree, &mut objects).map_err(fail)?;
    let source = writer.odb().map_err(fail)?;
    let pack = encode_pack(&source, &objects).map_err(fail)?;
    let odb = git.odb().map_err(fail)?;
    let mut out = odb.packwriter().map_err(fail)?;
    out.write_all(&pack).map_err(|source| Error::Io {
        what: "cannot write the new objects as a pack".into(),
        source,
    })?;
    out.commit().map_err(fail)?;
    mempack.reset().map_err(fail)
}

/// A version 2 pack of `objects`, whole (no deltas: they are small and unrelated), as
/// git's pack format has it: "PACK", version, count; each object a type-and-size header
/// and its zlib stream; the SHA-1 of all that. libgit2's indexer checks it and writes
/// the index.
fn encode_pack(odb: &git2::Odb<'_>, objects: &[Oid]) -> std::result::Result<Vec<u8>, git2::Error> {
    use flate2::{Compression, write::ZlibEncoder};
    let mut pack = Vec::with_capacity(4096);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(objects.len() as u32).to_be_bytes());
    for id in objects {
        let object = odb.read(*id)?;
        let kind: u8 = match object.kind() {
            ObjectType::Commit => 1,
            ObjectType::Tree => 2,
            ObjectType::Blob => 3,
            ObjectType::Tag => 4,
            _ => return Err(git2::Error::from_str("not a packable object")),
        };
        let data = object.data();
        let mut size = data.len() as u64;
        let mut header = (kind << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            pack.push(header | 0x80);
            header = (size & 0x7f) as u8;
            size >>= 7;
        }
        pack.push(header);
        let mut zlib = ZlibEncoder::new(&mut pack, Compression::default());
        zlib.write_all(data)
            .and_then(|_| zlib.finish().map(|_| ()))
            .map_err(|e| git2::Error::from_str(&e.to_string()))?;
    }
    let trailer = <sha1::Sha1 as sha1::Digest>::digest(&pack);
    pack.extend_from_slice(&trailer);
    Ok(pack)
}

/// `tree` and what it holds that `old` (the tree at the same path before) does not.
fn changed_objects(
    git: &Repository,
    tree: Oid,
    old: Option<Oid>,
    out: &mut Vec<Oid>,
) -> std::result::Result<(), git2::Error> {
    if old == Some(tree) {
        return Ok(());
    }
    out.push(tree);
    let new = git.find_tree(tree)?;
    let old = match old {
        Some(id) => Some(git.find_tree(id)?),
        None => None,
    };
    for entry in new.iter() {
        let before = old
            .as_ref()
            .and_then(|t| t.get_name_bytes(entry.name_bytes()))
            .map(|e| (e.id(), e.kind()));
        if before.is_some_and(|(id, _)| id == entry.id()) {
            continue;
        }
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let old_subtree = before
                    .filter(|(_, kind)| *kind == Some(ObjectType::Tree))
                    .map(|(id, _)| id);
                changed_objects(git, entry.id(), old_subtree, out)?;
            }
            Some(ObjectType::Blob) => out.push(entry.id()),
            // Gitlinks name commits of other repositories; nothing to pack.
            _ => {}
        }
    }
    Ok(())
}
