//! Finding and listing releases: where a record sits, and whether it counts.

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::{Found, Release, TagState};
use crate::release::claim::{RecordState, record_state};
use crate::release::ordering::{self, Direction, OrderBy};
use crate::time::Timestamp;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::fanout::{self, RootEntry};
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

/// A note in the releases ref that is no release record (not JSON at all, or JSON
/// without our keys): whatever release it held cannot be read, and it is named rather
/// than passed over in silence.
fn unreadable_note(commit: &str) -> Error {
    Error::corrupt(
        note_location(commit),
        format!(
            "the note is not a git-release record (not its JSON), so no release of this commit \
             can be read; see it with `git notes --ref=releases show {commit}`"
        ),
    )
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
    match record_state(repo, tag, &release, tag_now.as_ref()) {
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
        let tag_now = tag::resolve(repo, &tag)?;
        if matches!(
            record_state(repo, &tag, &release, tag_now.as_ref()),
            RecordState::Complete(_)
        ) && tag_now.is_some_and(|t| t.target == release.tag_target)
        {
            release.pending = None;
            doc.set(&tag, &release);
        }
    }
    Ok(())
}

/// The release of `tag`, wherever its record sits.
pub fn find(repo: &Repo, tag: &str) -> Result<Found> {
    // A name git could not store as a tag has no release (and is never looked up:
    // git2 fails on it with an error that is not "not found").
    if crate::model::TagName::parse(tag).is_err() {
        return Err(Error::ReleaseNotFound {
            tag: tag.to_owned(),
        });
    }
    let snapshot = Snapshot::read(repo.git())?;
    match find_in(&snapshot, repo, tag)? {
        Some((_, found)) if found.tag_state != TagState::Missing => Ok(found),
        _ => {
            // The index places a release of `tag` on a commit whose note is no record
            // of ours: the release is there but unreadable, which is not "not found".
            if let Some(entry) = snapshot.index_entry(tag)? {
                let commit = entry.commit.to_string();
                if let Some((NoteContent::Foreign, _)) = snapshot.note(&commit)? {
                    return Err(unreadable_note(&commit));
                }
            }
            Err(Error::ReleaseNotFound {
                tag: tag.to_owned(),
            })
        }
    }
}

/// The release of `tag` even when its tag was deleted (`TagState::Missing`): what an
/// audit needs, where every other command treats such a release as gone.
pub fn find_any(repo: &Repo, tag: &str) -> Result<Option<Found>> {
    if crate::model::TagName::parse(tag).is_err() {
        return Ok(None);
    }
    let snapshot = Snapshot::read(repo.git())?;
    Ok(find_in(&snapshot, repo, tag)?.map(|(_, found)| found))
}

/// From this many root entries (notes or fanout directories) on, `list` reads all tags
/// in one pass instead of one lookup each.
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

/// What `list` asks for: a filter, an order and a page, as GitLab's list endpoint
/// takes them.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest {
    /// Only releases whose release date is after `now`.
    pub upcoming: bool,
    /// Only back-dated releases.
    pub historical: bool,
    pub order: OrderBy,
    pub direction: Direction,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    pub now: Timestamp,
}

/// One page of the releases a [`ListRequest`] selects.
#[derive(Debug)]
pub struct ListPage {
    /// Every selected release, in order; the page is `releases[range]`. The rest are
    /// handed back too, so that a caller about to exit can leave them unfreed.
    pub releases: Vec<Found>,
    pub range: std::ops::Range<usize>,
    /// As in [`Listing`].
    pub orphaned: Vec<String>,
    pub problems: Vec<Error>,
}

impl ListPage {
    pub fn page(&self) -> &[Found] {
        &self.releases[self.range.clone()]
    }

    /// How many releases the filter selected, on every page.
    pub fn total(&self) -> usize {
        self.releases.len()
    }
}

/// The releases `request` selects, ordered, and which of them its page shows.
pub fn list_page(repo: &Repo, request: &ListRequest) -> Result<ListPage> {
    let listing = list(repo)?;
    let mut releases = listing.releases;
    if request.upcoming {
        releases.retain(|f| f.release.is_upcoming(request.now));
    }
    if request.historical {
        releases.retain(|f| f.release.is_historical());
    }
    ordering::sort(&mut releases, request.order, request.direction);
    let start = request
        .page
        .saturating_sub(1)
        .saturating_mul(request.per_page)
        .min(releases.len());
    let end = start.saturating_add(request.per_page).min(releases.len());
    Ok(ListPage {
        releases,
        range: start..end,
        orphaned: listing.orphaned,
        problems: listing.problems,
    })
}

pub fn list(repo: &Repo) -> Result<Listing> {
    let snapshot = Snapshot::read(repo.git())?;
    let entries = snapshot.note_entries();
    let mut listing = Listing::default();
    // Reading every tag once pays off from a few dozen releases on; below that (or in
    // a repository with far more tags than releases) one lookup per release is less.
    // The tags are read while the other cores read notes.
    let (table, decoded) = decode_all(repo, &entries, || {
        (entries.len() >= TAG_TABLE_FROM)
            .then(|| tag::TagTable::read(repo))
            .flatten()
    })?;
    for decoded in decoded {
        let records = match decoded {
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
            match record_state(repo, &tag, &release, tag_now.as_ref()) {
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

/// From this many root entries (notes or fanout directories, each holding one note or
/// more) on, `list` reads and decodes the notes on every core: inflating and parsing
/// thousands of small blobs is most of its time (`git cat-file --batch` does that work
/// on one). Below it, a thread costs more than it saves.
const PARALLEL_FROM: usize = 128;

/// Root entries a lane takes at a time: small enough to even out the lanes' shares.
const BATCH: usize = 4;

/// Reads and decodes every note under `entries`, in order: on this thread below
/// `PARALLEL_FROM`, else on every core, each lane through its own handle on the
/// repository (libgit2 handles are not shared between threads; the pack files are)
/// taking batches of entries as it goes. `beside` runs on this thread first, while
/// the other lanes start.
fn decode_all<T>(
    repo: &Repo,
    entries: &[RootEntry],
    beside: impl FnOnce() -> T,
) -> Result<(T, Vec<Decoded>)> {
    let lanes = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if entries.len() < PARALLEL_FROM || lanes < 2 {
        let besides = beside();
        return Ok((besides, read_entries(repo.git(), entries)?));
    }
    let next = AtomicUsize::new(0);
    let lane = |git: &git2::Repository| -> Result<Vec<(usize, Vec<Decoded>)>> {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= entries.len() {
                return Ok(done);
            }
            let end = (start + BATCH).min(entries.len());
            done.push((start, read_entries(git, &entries[start..end])?));
        }
    };
    let git_dir = repo.git().path();
    let mut batches = std::collections::BTreeMap::new();
    let besides = std::thread::scope(|scope| -> Result<T> {
        let handles: Vec<_> = (1..lanes)
            .map(|_| scope.spawn(|| git2::Repository::open(git_dir).ok().map(|git| lane(&git))))
            .collect();
        let besides = beside();
        batches.extend(lane(repo.git())?);
        for handle in handles {
            // A lane that could not open the repository took no batch; one that died
            // leaves its batches to the check below.
            if let Ok(Some(done)) = handle.join() {
                batches.extend(done?);
            }
        }
        Ok(besides)
    })?;
    let mut decoded = Vec::new();
    for start in (0..entries.len()).step_by(BATCH) {
        match batches.remove(&start) {
            Some(done) => decoded.extend(done),
            None => {
                let end = (start + BATCH).min(entries.len());
                decoded.extend(read_entries(repo.git(), &entries[start..end])?);
            }
        }
    }
    Ok((besides, decoded))
}

/// Reads and decodes the notes under `entries`; fails when a fanout directory cannot
/// be read.
fn read_entries(git: &git2::Repository, entries: &[RootEntry]) -> Result<Vec<Decoded>> {
    let mut decoded = Vec::new();
    for entry in entries {
        fanout::for_each_note_in(git, entry, &mut |commit, blob| {
            decoded.push(read_note(git, &commit, blob));
        })?;
    }
    Ok(decoded)
}

/// Reads and decodes one note straight from the blob's content (no copy).
fn read_note(git: &git2::Repository, commit: &str, blob: git2::Oid) -> Decoded {
    let location = note_location(commit);
    let blob = git
        .find_blob(blob)
        .map_err(|e| Error::git(format!("cannot read {location} (blob {blob})"), e))?;
    match NoteDoc::parse(blob.content(), &location)? {
        NoteContent::Ours(doc) => Ok(Some(
            doc.records(&location)
                .map(|(tag, record)| (tag.to_owned(), record))
                .collect(),
        )),
        NoteContent::Foreign => Err(unreadable_note(commit)),
    }
}
