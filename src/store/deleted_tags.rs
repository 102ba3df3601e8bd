//! Tags deleted with their release (`delete --with-tag`), recorded in the store so the
//! deletion travels like the release did: the next push deletes the remote's tag
//! (under a lease on the deleted object), and no clone pushes the tag back or takes it
//! in again. One file per tag and object,
//! `deleted-tags/<aa>/<sha256 of the tag>/<object id>`, holding
//! `{"tag": …, "target": …}`: two clones that delete the same tag write the same
//! file, so merging deletions is a union and never a conflict.
//!
//! A record holds while the store has no release of that tag: a release made again
//! (`create`), or a deletion without `--with-tag`, drops it.

use git2::{ObjectType, Oid};
use serde::{Deserialize, Serialize};

use super::{NOTES_REF, Snapshot, Transaction};
use crate::digest::sha256_hex;
use crate::error::{Error, Result};

pub const DELETED_TAGS_DIR: &str = "deleted-tags";

/// One tag object deleted with its release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedTag {
    pub tag: String,
    #[serde(with = "crate::model::oid")]
    pub target: Oid,
}

fn tag_dir(tag: &str) -> String {
    let digest = sha256_hex(tag.as_bytes());
    format!("{DELETED_TAGS_DIR}/{}/{digest}", &digest[..2])
}

fn path(tag: &str, target: Oid) -> String {
    format!("{}/{target}", tag_dir(tag))
}

impl Snapshot<'_> {
    /// The objects of `tag` recorded as deleted with its release.
    pub fn deleted_tag_targets(&self, tag: &str) -> Result<Vec<Oid>> {
        let Some(tree) = &self.tree else {
            return Ok(Vec::new());
        };
        let dir = tag_dir(tag);
        let entry = match tree.get_path(std::path::Path::new(&dir)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::git(format!("cannot read {NOTES_REF}:{dir}"), e)),
        };
        if entry.kind() != Some(ObjectType::Tree) {
            return Ok(Vec::new());
        }
        let subtree = self
            .repo
            .find_tree(entry.id())
            .map_err(|e| Error::git(format!("cannot read {NOTES_REF}:{dir}"), e))?;
        Ok(subtree
            .iter()
            .filter_map(|e| e.name().ok().and_then(|n| Oid::from_str(n).ok()))
            .collect())
    }

    /// Every tag object recorded as deleted with its release.
    pub fn deleted_tags(&self) -> Result<Vec<DeletedTag>> {
        let Some(tree) = &self.tree else {
            return Ok(Vec::new());
        };
        let root = match tree.get_name(DELETED_TAGS_DIR) {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => entry.id(),
            _ => return Ok(Vec::new()),
        };
        let fail = |e| Error::git(format!("cannot read {NOTES_REF}:{DELETED_TAGS_DIR}"), e);
        let mut out = Vec::new();
        let root = self.repo.find_tree(root).map_err(fail)?;
        for fan in root.iter().filter(|e| e.kind() == Some(ObjectType::Tree)) {
            let fan = self.repo.find_tree(fan.id()).map_err(fail)?;
            for tag in fan.iter().filter(|e| e.kind() == Some(ObjectType::Tree)) {
                let tag = self.repo.find_tree(tag.id()).map_err(fail)?;
                for file in tag.iter().filter(|e| e.kind() == Some(ObjectType::Blob)) {
                    let bytes = self.blob(file.id(), DELETED_TAGS_DIR)?;
                    // A record that does not read is no deletion to carry out.
                    if let Ok(deleted) = serde_json::from_slice::<DeletedTag>(&bytes) {
                        out.push(deleted);
                    }
                }
            }
        }
        Ok(out)
    }
}

impl Transaction<'_, '_> {
    /// Records that `tag`, pointing at `target`, was deleted with its release.
    pub fn record_deleted_tag(&mut self, tag: &str, target: Oid) -> Result<()> {
        let record = DeletedTag {
            tag: tag.to_owned(),
            target,
        };
        self.put_json_file(&path(tag, target), &record)
    }

    /// Drops every deletion recorded for `tag` (a release of it is made again, or it
    /// is deleted keeping its tag).
    pub fn forget_deleted_tag(&mut self, tag: &str) -> Result<()> {
        for target in self.snapshot.deleted_tag_targets(tag)? {
            self.remove_file(&path(tag, target));
        }
        Ok(())
    }
}
