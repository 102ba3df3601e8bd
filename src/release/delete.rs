//! Deleting a release, and with `--with-tag` its tag.

use git2::Oid;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag;
use crate::model::{Found, TagName};
use crate::release::evidence;
use crate::release::query::find_in;
use crate::store::Store;

#[derive(Debug)]
pub struct Deleted {
    pub found: Found,
    /// The tag deleted with the release, if asked for and present.
    pub deleted_tag: Option<Oid>,
}

pub fn delete(repo: &Repo, tag: &str, with_tag: bool) -> Result<Deleted> {
    let message = if with_tag {
        format!("delete {tag} with its tag")
    } else {
        format!("delete {tag}")
    };
    let written = Store::new(repo).update(&message, |tx| {
        let Some((at, found)) = find_in(tx.snapshot(), repo, tag)? else {
            return Err(Error::ReleaseNotFound {
                tag: tag.to_owned(),
            });
        };
        tx.doc(&at)?.remove(tag);
        tx.remove_index(tag);
        // The deletion of the tag travels with the store: pushes delete the remote's
        // tag (the object the release recorded, and the one the tag holds here), and
        // no clone brings it back. Deleting without it keeps the tag everywhere.
        tx.forget_deleted_tag(tag)?;
        if with_tag {
            tx.record_deleted_tag(tag, found.release.tag_target)?;
            if let Some(now) = found.tag_target.filter(|t| *t != found.release.tag_target) {
                tx.record_deleted_tag(tag, now)?;
            }
        }
        // An upcoming release deleted before its date never gets evidence.
        evidence::unschedule_tx(tx, tag)?;
        Ok(found)
    })?;
    let found = written.value;
    let mut deleted_tag = None;
    if with_tag {
        let name = TagName::parse(tag)?;
        if let Some(t) = tag::resolve(repo, tag)? {
            tag::delete_ref(repo, &name, t.target)?;
            deleted_tag = Some(t.target);
        }
    }
    Ok(Deleted { found, deleted_tag })
}
