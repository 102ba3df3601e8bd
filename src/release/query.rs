//! Finding and listing releases: where a record sits, and whether it counts.

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::{Found, Release, TagState};
use crate::release::claim::{RecordState, record_state};
use crate::store::{NoteContent, NoteDoc, Snapshot, note_location};

/// Finds the record of `tag` in a snapshot: on the commit the tag points at now, else
/// on the commit the index names (the tag moved or was deleted), else on `also` (where
/// a creation is about to write). Returns the commit it sits on.
pub(crate) fn locate(
    snapshot: &Snapshot<'_>,
    tag: &str,
    tag_now: Option<&TagTarget>,
    also: Option<&str>,
) -> Result<Option<(String, Release)>> {
    let mut candidates: Vec<String> = Vec::with_capacity(3);
    candidates.extend(tag_now.map(|t| t.commit.to_string()));
    candidates.extend(
        snapshot
            .index_entry(tag)?
            .map(|entry| entry.commit.to_string()),
    );
    candidates.extend(also.map(str::to_owned));
    for (i, commit) in candidates.iter().enumerate() {
        if candidates[..i].contains(commit) {
            continue;
        }
        if let Some(release) = record_on(snapshot, commit, tag)? {
            return Ok(Some((commit.clone(), release)));
        }
    }
    Ok(None)
}

fn record_on(snapshot: &Snapshot<'_>, commit: &str, tag: &str) -> Result<Option<Release>> {
    match snapshot.note(commit)? {
        Some((NoteContent::Ours(doc), _)) => doc.get(tag, &note_location(commit)),
        _ => Ok(None),
    }
}

/// Finds a release that exists (complete, tag present or not).
pub(crate) fn find_in(
    snapshot: &Snapshot<'_>,
    repo: &Repo,
    tag: &str,
) -> Result<Option<(String, Found)>> {
    let tag_now = tag::resolve(repo, tag)?;
    let Some((commit, release)) = locate(snapshot, tag, tag_now.as_ref(), None)? else {
        return Ok(None);
    };
    match record_state(&release, tag_now.as_ref()) {
        RecordState::Complete(tag_state) => Ok(Some((
            commit,
            Found {
                tag: tag.to_owned(),
                release,
                tag_state,
                tag_target: tag_now.map(|t| t.target),
            },
        ))),
        RecordState::InFlight(_) | RecordState::Abandoned => Ok(None),
    }
}

/// Records whose tag has been created since are complete: drop their claim when the
/// document is rewritten anyway, so stored JSON does not keep stale `pending` marks.
pub(crate) fn settle_claims(repo: &Repo, doc: &mut NoteDoc, location: &str) -> Result<()> {
    let tags: Vec<String> = doc.tags().map(str::to_owned).collect();
    for tag in tags {
        let Ok(Some(mut release)) = doc.get(&tag, location) else {
            continue;
        };
        if release.pending.is_none() {
            continue;
        }
        if let Some(t) = tag::resolve(repo, &tag)? {
            if t.target == release.tag_target {
                release.pending = None;
                doc.set(&tag, &release);
            }
        }
    }
    Ok(())
}

/// The release of `tag`, wherever its record sits.
pub fn find(repo: &Repo, tag: &str) -> Result<Found> {
    let snapshot = Snapshot::read(repo.git())?;
    match find_in(&snapshot, repo, tag)? {
        Some((_, found)) if found.tag_state != TagState::Missing => Ok(found),
        _ => Err(Error::ReleaseNotFound {
            tag: tag.to_owned(),
        }),
    }
}

/// The release of `tag` even when its tag was deleted (`TagState::Missing`): what an
/// audit needs, where every other command treats such a release as gone.
pub fn find_any(repo: &Repo, tag: &str) -> Result<Option<Found>> {
    let snapshot = Snapshot::read(repo.git())?;
    Ok(find_in(&snapshot, repo, tag)?.map(|(_, found)| found))
}

/// From this many notes on, `list` reads all tags in one pass instead of one lookup each.
const TAG_TABLE_FROM: usize = 32;

/// Every release whose tag exists, plus what could not be shown and why.
#[derive(Debug, Default)]
pub struct Listing {
    pub releases: Vec<Found>,
    /// Releases whose tag was deleted: not listed, as GitLab deletes them with the tag.
    pub orphaned: Vec<String>,
    /// Notes or records that could not be read; the rest are still listed.
    pub problems: Vec<Error>,
}

pub fn list(repo: &Repo) -> Result<Listing> {
    let snapshot = Snapshot::read(repo.git())?;
    let mut notes = Vec::new();
    snapshot.for_each_note(&mut |commit, blob| notes.push((commit, blob)))?;
    let mut listing = Listing::default();
    // Reading every tag once pays off from a few dozen releases on; below that (or in
    // a repository with far more tags than releases) one lookup per release is less.
    let table = (notes.len() >= TAG_TABLE_FROM)
        .then(|| tag::TagTable::read(repo))
        .flatten();
    for (commit, blob) in &notes {
        let records = match read_note(repo, commit, *blob) {
            Ok(Some(records)) => records,
            Ok(None) => continue,
            Err(e) => {
                listing.problems.push(e);
                continue;
            }
        };
        for (tag, record) in records {
            let release = match record {
                Ok(r) => r,
                Err(e) => {
                    listing.problems.push(e);
                    continue;
                }
            };
            let known = Some((release.tag_target, release.commit));
            let resolved = match &table {
                Some(table) => table.resolve_known(repo, &tag, known),
                None => tag::resolve_known(repo, &tag, known),
            };
            let tag_now = match resolved {
                Ok(t) => t,
                Err(e) => {
                    listing.problems.push(e);
                    continue;
                }
            };
            match record_state(&release, tag_now.as_ref()) {
                RecordState::Complete(TagState::Missing) => listing.orphaned.push(tag),
                RecordState::Complete(tag_state) => listing.releases.push(Found {
                    tag,
                    release,
                    tag_state,
                    tag_target: tag_now.map(|t| t.target),
                }),
                RecordState::InFlight(_) | RecordState::Abandoned => {}
            }
        }
    }
    Ok(listing)
}

/// A note's records, each decoded or the reason it could not be; `None` for a note
/// git-release did not write; an error when the note itself cannot be read.
type Decoded = Result<Option<Vec<(String, Result<Release>)>>>;

/// Reads and decodes one note straight from the blob's content (no copy).
fn read_note(repo: &Repo, commit: &str, blob: git2::Oid) -> Decoded {
    let location = note_location(commit);
    let blob = repo
        .git()
        .find_blob(blob)
        .map_err(|e| Error::git(format!("cannot read {location} (blob {blob})"), e))?;
    decode_note(blob.content(), &location)
}

fn decode_note(bytes: &[u8], location: &str) -> Decoded {
    match NoteDoc::parse(bytes, location)? {
        NoteContent::Ours(doc) => Ok(Some(
            doc.records(location)
                .map(|(tag, record)| (tag.to_owned(), record))
                .collect(),
        )),
        NoteContent::Foreign => Ok(None),
    }
}
