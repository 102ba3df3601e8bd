//! A release's packages: files uploaded to a generic package and linked from the
//! release in the same store commit (`package upload --release TAG`), as GitLab's
//! docs attach binaries: a link of type `package` to the package URL, with a
//! permanent path `/packages/<name>/<file>`. (The other way, a link resolved to the
//! package file its URL names, is `package::resolve_link`.)

use std::io::Read;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::link::check_direct_asset_path;
use crate::model::package::{
    PackageDoc, PackageFile, PackageFileName, PackageName, PackageVersion,
};
use crate::model::{Found, IdKind, Key, Link, LinkDraft, LinkType};
use crate::package::{self, PackageUrls, Upload, registry};
use crate::release::modify_release;
use crate::time::Timestamp;

/// One file to upload and link.
pub struct NewFile<'a> {
    pub file_name: PackageFileName,
    pub source: Box<dyn Read + 'a>,
}

/// What `upload_and_link` made.
pub struct Linked {
    pub release: Found,
    pub files: Vec<(PackageDoc, PackageFile, Link)>,
}

/// The permanent path a package file gets on a release: `/packages/<name>/<file>`,
/// when GitLab takes it as one (a `+` in a name does not go in a direct asset path).
pub fn direct_asset_path(name: &PackageName, file: &PackageFileName) -> Option<String> {
    let path = format!("/packages/{name}/{file}");
    check_direct_asset_path(&path).is_ok().then_some(path)
}

fn draft(
    urls: &PackageUrls,
    name: &PackageName,
    version: &PackageVersion,
    file: &PackageFileName,
) -> Result<LinkDraft> {
    let url = urls
        .url(name, version, file)
        .ok_or_else(|| Error::Refused {
            action: format!("linking package file {file} to a release"),
            reason: "the project has no web URL, so its package URLs are unknown \
                 (set one with `git config release.webUrl https://host/group/project`)"
                .into(),
        })?;
    LinkDraft {
        name: file.to_string(),
        url,
        direct_asset_path: direct_asset_path(name, file),
        link_type: LinkType::Package,
        sha256: None,
        size: None,
    }
    .validated()
}

/// Uploads `files` to package `name` `version` and links each from the release of
/// `tag`, in one commit of the store. Everything that can be checked is checked
/// before a byte is stored (the release exists; the links' names, URLs and paths are
/// free); a failure after that stores nothing that any record refers to.
pub fn upload_and_link(
    repo: &Repo,
    urls: &PackageUrls,
    tag: &str,
    name: &PackageName,
    version: &PackageVersion,
    files: Vec<NewFile<'_>>,
    limit: Option<u64>,
) -> Result<Linked> {
    let found = crate::release::find(repo, tag)?;
    let mut drafts = Vec::new();
    for file in &files {
        let draft = draft(urls, name, version, &file.file_name)?;
        draft.check_unique(tag, &found.release.links)?;
        // Two files of one upload must not clash with each other either.
        if let Some(other) = drafts.iter().find(|d: &&LinkDraft| d.name == draft.name) {
            return Err(Error::DuplicateLink {
                tag: tag.to_owned(),
                field: "name",
                value: draft.name.clone(),
                other: other.name.clone(),
            });
        }
        drafts.push(draft);
    }
    let mut stored = Vec::new();
    for (file, draft) in files.into_iter().zip(drafts) {
        let mut source = file.source;
        let upload = Upload {
            name,
            version,
            file_name: &file.file_name,
            status: None,
        };
        match package::store_bytes(repo, &upload, &mut source, limit) {
            Ok((bytes, key)) => stored.push((file.file_name, bytes, key, draft)),
            Err(error) => {
                for (_, bytes, _, _) in &stored {
                    package::discard(repo, &bytes.location);
                }
                return Err(error);
            }
        }
    }
    let now = Timestamp::now()?;
    let message = format!("package upload {name} {version} --release {tag}");
    let result = modify_release(repo, tag, &message, |found, tx| {
        let mut made = Vec::new();
        for (file_name, bytes, key, draft) in &stored {
            let (doc, file) = registry::record(
                tx,
                urls,
                &registry::NewFile {
                    name,
                    version,
                    file_name,
                    key: *key,
                    stored: bytes,
                    created_at: now,
                    status: None,
                },
            )?;
            let mut draft = draft.clone();
            draft.sha256 = Some(file.file_sha256.clone());
            draft.size = Some(file.size);
            draft.check_unique(tag, &found.release.links)?;
            let highest = found.release.links.iter().map(|l| l.id).max().unwrap_or(0);
            let link = draft.into_link(Key::random(), tx.allocate_id(IdKind::Link, highest)?, now);
            found.release.links.push(link.clone());
            made.push((doc, file, link));
        }
        // The package document as this commit writes it, with every file of the upload.
        if let Some((last, _, _)) = made.last() {
            let last = last.clone();
            for entry in made.iter_mut() {
                entry.0 = last.clone();
            }
        }
        Ok((found.clone(), made))
    });
    match result {
        Ok((release, files)) => Ok(Linked { release, files }),
        Err(error) => {
            for (_, bytes, _, _) in &stored {
                package::discard(repo, &bytes.location);
            }
            Err(error)
        }
    }
}
