//! Asset links of an existing release: add, update, delete. Each change is validated
//! in full before it is written and is one commit on the notes ref
//! (`link add v1.2.0 "linux amd64"`), so a rejected link changes nothing.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::model::Found;
use crate::model::IdKind;
use crate::model::TagName;
use crate::model::{Key, Link, LinkDraft, LinkType};
use crate::release::modify_release;
use crate::time::Timestamp;

/// SHA-256 and size of a local file, as `--file` records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub sha256: String,
    pub size: u64,
}

/// Hashes `path` in chunks: release assets can be far larger than memory.
pub fn digest_file(path: &Path) -> Result<FileDigest> {
    let read_error = |source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok(FileDigest {
        sha256: crate::digest::hex(&hasher.finalize()),
        size,
    })
}

/// Finds a link by its id (all digits) or, failing that, by its exact name.
pub fn select<'a>(links: &'a [Link], selector: &str) -> Option<&'a Link> {
    let by_id = selector
        .parse::<u64>()
        .ok()
        .and_then(|id| links.iter().find(|l| l.id == id));
    by_id.or_else(|| links.iter().find(|l| l.name == selector))
}

/// The link's name for the audit log's commit message (the selector may be an id).
fn label(repo: &Repo, tag: &TagName, selector: &str) -> String {
    crate::release::find(repo, tag)
        .ok()
        .and_then(|found| select(&found.release.links, selector).map(|l| l.name.clone()))
        .unwrap_or_else(|| selector.to_owned())
}

fn selected_index(found: &Found, selector: &str) -> Result<usize> {
    let links = &found.release.links;
    select(links, selector)
        .and_then(|link| links.iter().position(|l| l.key == link.key))
        .ok_or_else(|| Error::LinkNotFound {
            tag: found.tag.to_string(),
            link: selector.to_owned(),
        })
}

/// Adds a link to the release of `tag`; returns the release as written and the link.
pub fn add(repo: &Repo, tag: &TagName, draft: LinkDraft) -> Result<(Found, Link)> {
    let draft = draft.validated()?;
    let key = Key::random();
    let now = Timestamp::now()?;
    let message = format!("link add {tag} {:?}", draft.name);
    modify_release(repo, tag, &message, |found, tx| {
        draft.check_unique(tag, &found.release.links)?;
        let highest = found.release.links.iter().map(|l| l.id).max().unwrap_or(0);
        let link = draft
            .clone()
            .into_link(key, tx.allocate_id(IdKind::Link, highest)?, now);
        found.release.links.push(link.clone());
        Ok((found.clone(), link))
    })
}

/// What `link update` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LinkChanges {
    pub name: Option<String>,
    pub url: Option<String>,
    /// An empty path removes the direct asset path.
    pub direct_asset_path: Option<String>,
    pub link_type: Option<LinkType>,
    /// An empty digest removes the recorded SHA-256 and size.
    pub sha256: Option<String>,
    /// Digest and size of a local copy of the asset (`--file`).
    pub file: Option<FileDigest>,
}

impl LinkChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.url.is_none()
            && self.direct_asset_path.is_none()
            && self.link_type.is_none()
            && self.sha256.is_none()
            && self.file.is_none()
    }

    fn apply_to(&self, mut draft: LinkDraft) -> LinkDraft {
        if let Some(name) = &self.name {
            draft.name = name.clone();
        }
        if let Some(url) = &self.url {
            draft.url = url.clone();
        }
        if let Some(path) = &self.direct_asset_path {
            draft.direct_asset_path = Some(path.clone());
        }
        if let Some(link_type) = self.link_type {
            draft.link_type = link_type;
        }
        if let Some(sha256) = &self.sha256 {
            // A digest given alone says nothing about the size recorded for the old one.
            draft.sha256 = Some(sha256.clone());
            draft.size = None;
        }
        if let Some(file) = &self.file {
            draft.sha256 = Some(file.sha256.clone());
            draft.size = Some(file.size);
        }
        draft
    }
}

/// Changes the link `selector` (id or name) of the release of `tag`.
pub fn update(
    repo: &Repo,
    tag: &TagName,
    selector: &str,
    changes: &LinkChanges,
) -> Result<(Found, Link)> {
    if changes.is_empty() {
        return Err(Error::invalid(
            "link update",
            selector,
            "nothing to change: give --name, --url, --direct-asset-path, --link-type, --file or --sha256",
        ));
    }
    let message = format!("link update {tag} {:?}", label(repo, tag, selector));
    modify_release(repo, tag, &message, |found, _| {
        let index = selected_index(found, selector)?;
        let link = &found.release.links[index];
        let draft = changes.apply_to(LinkDraft::from(link)).validated()?;
        let others = found.release.links.iter().filter(|l| l.key != link.key);
        draft.check_unique(tag, others)?;
        found.release.links[index].apply(draft);
        Ok((found.clone(), found.release.links[index].clone()))
    })
}

/// Deletes the link `selector` (id or name) of the release of `tag`; its id is never
/// handed out again.
pub fn delete(repo: &Repo, tag: &TagName, selector: &str) -> Result<(Found, Link)> {
    let message = format!("link delete {tag} {:?}", label(repo, tag, selector));
    modify_release(repo, tag, &message, |found, _| {
        let index = selected_index(found, selector)?;
        let link = found.release.links.remove(index);
        Ok((found.clone(), link))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_file_matches_in_memory_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let digest = digest_file(&path).unwrap();
        assert_eq!(digest.sha256, crate::digest::sha256_hex(&bytes));
        assert_eq!(digest.size, 200_000);
        assert!(matches!(
            digest_file(&dir.path().join("missing")),
            Err(Error::ReadFile { .. })
        ));
    }
}
