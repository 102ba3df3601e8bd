//! The release lifecycle: create, find, list, update, delete. Each operation plans
//! (validates every input, resolves tags and refs) before it writes, and writes
//! through the store's compare-and-swap so that concurrent writers never lose data.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git2::Oid;
use serde_json::Map;

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::release::MAX_DESCRIPTION_CHARS;
use crate::model::{Key, Link, LinkDraft, Pending, Release, TagName};
use crate::release::notes::{self, Generated};
use crate::store::{NoteContent, NoteDoc, Snapshot, Store, Transaction, note_location};
use crate::time::Timestamp;
use crate::{audit::evidence, plan::milestone};

/// How long a tag-creation claim protects an unfinished record from being replaced.
/// Tag creation follows the record write within milliseconds; the lease only has to
/// outlive a slow machine, and lets a killed creator's record be replaced later.
const PENDING_LEASE: Duration = Duration::from_secs(60);

/// How long a create waits for a concurrent creator of the same tag to finish.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);

/// Where a release's tag stands compared with what the record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagState {
    /// The tag peels to the commit the release was made on.
    Intact,
    /// The tag was moved to another commit after the release was made.
    Moved { commit: Oid },
    /// The tag no longer exists (GitLab deletes a release with its tag).
    Missing,
}

/// A release as found in the store, with the state of its tag.
#[derive(Debug, Clone)]
pub struct Found {
    pub tag: String,
    pub release: Release,
    pub tag_state: TagState,
    /// What `refs/tags/<tag>` points at now (tag object or commit), as read when the
    /// release was found; `None` when the tag is gone. Audits compare it with the
    /// record's `tag_target` without reading the ref again.
    pub tag_target: Option<Oid>,
}

/// What a record amounts to, given where its tag points now.
enum RecordState {
    Complete(TagState),
    /// Its tag is being created by a live process.
    InFlight(Pending),
    /// Written by a creator that never created the tag: treated as absent.
    Abandoned,
}

fn record_state(release: &Release, tag_now: Option<&TagTarget>) -> RecordState {
    if let Some(pending) = &release.pending {
        return match tag_now {
            Some(t) if t.target.to_string() == release.tag_target => {
                RecordState::Complete(TagState::Intact)
            }
            _ if claim_is_live(pending) => RecordState::InFlight(pending.clone()),
            _ => RecordState::Abandoned,
        };
    }
    RecordState::Complete(match tag_now {
        None => TagState::Missing,
        Some(t) if t.commit.to_string() == release.commit => TagState::Intact,
        Some(t) => TagState::Moved { commit: t.commit },
    })
}

fn wall_clock_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn new_claim() -> Pending {
    Pending {
        since: wall_clock_seconds(),
        pid: std::process::id(),
        host: host_name(),
        extra: Map::new(),
    }
}

/// A claim is live while its lease runs, unless its process is known to be gone (same
/// host, and that pid no longer exists).
fn claim_is_live(claim: &Pending) -> bool {
    let age = wall_clock_seconds().saturating_sub(claim.since);
    if age < 0 || age as u64 >= PENDING_LEASE.as_secs() {
        return false;
    }
    let proc_fs = std::path::Path::new("/proc/self").exists();
    if proc_fs && !claim.host.is_empty() && claim.host == host_name() {
        return std::path::Path::new(&format!("/proc/{}", claim.pid)).exists();
    }
    true
}

/// Finds the record of `tag` in a snapshot: on the commit the tag points at now, else
/// on the commit the index names (the tag moved or was deleted), else on `also` (where
/// a creation is about to write). Returns the commit it sits on.
fn locate(
    snapshot: &Snapshot<'_>,
    tag: &str,
    tag_now: Option<&TagTarget>,
    also: Option<&str>,
) -> Result<Option<(String, Release)>> {
    let mut candidates: Vec<String> = Vec::with_capacity(3);
    candidates.extend(tag_now.map(|t| t.commit.to_string()));
    candidates.extend(snapshot.index_entry(tag)?.map(|entry| entry.commit));
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
fn find_in(snapshot: &Snapshot<'_>, repo: &Repo, tag: &str) -> Result<Option<(String, Found)>> {
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
fn settle_claims(repo: &Repo, doc: &mut NoteDoc, location: &str) -> Result<()> {
    let tags: Vec<String> = doc.tags().map(str::to_owned).collect();
    for tag in tags {
        let Ok(Some(mut release)) = doc.get(&tag, location) else {
            continue;
        };
        if release.pending.is_none() {
            continue;
        }
        if let Some(t) = tag::resolve(repo, &tag)? {
            if t.target.to_string() == release.tag_target {
                release.pending = None;
                doc.set(&tag, &release);
            }
        }
    }
    Ok(())
}

fn validate_description(description: Option<&str>) -> Result<()> {
    if let Some(text) = description {
        let chars = text.chars().count();
        if chars > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(
                "description",
                format!("{}…", text.chars().take(40).collect::<String>()),
                format!("it has {chars} characters; the limit is {MAX_DESCRIPTION_CHARS}"),
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct CreateRequest {
    pub tag: String,
    /// Where to create the tag when it does not exist (any revision git understands).
    pub reference: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Makes a new tag annotated; ignored when the tag exists.
    pub tag_message: Option<String>,
    pub released_at: Option<Timestamp>,
    /// Asset links (`--assets-link`, `--link`), in the order given.
    pub links: Vec<LinkDraft>,
    /// Titles of milestones to attach; each must exist.
    pub milestones: Vec<String>,
    /// Generate notes from the commits since the previous release (added after
    /// `description` when both are given).
    pub generate_notes: Option<NotesRequest>,
    /// Report files for the evidence snapshot taken at creation.
    pub artifacts: Vec<std::path::PathBuf>,
}

/// `--generate-notes [--notes-start-tag T]`.
#[derive(Debug, Default, Clone)]
pub struct NotesRequest {
    pub start_tag: Option<String>,
}

/// Notes text given by the user followed by generated notes.
fn combine_notes(given: Option<&str>, generated: &str) -> String {
    match given.map(str::trim_end).filter(|g| !g.is_empty()) {
        Some(given) => format!("{given}\n\n{generated}"),
        None => generated.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewTag {
    Lightweight,
    Annotated,
}

#[derive(Debug)]
pub struct Created {
    pub found: Found,
    pub new_tag: Option<NewTag>,
    /// Options that had no effect because the tag already existed.
    pub ignored: Vec<&'static str>,
    /// A record left by a deleted tag or a killed creator that this one replaced.
    pub replaced_stale: bool,
    /// What was generated with `--generate-notes`.
    pub generated: Option<Generated>,
}

pub fn create(repo: &Repo, request: CreateRequest) -> Result<Created> {
    // Attaching to an existing tag is allowed whatever its name; a new one must not be
    // spelt like a ref.
    let tag = match tag::resolve(repo, &request.tag) {
        Ok(Some(_)) => TagName::parse(&request.tag)?,
        _ => TagName::parse_new(&request.tag)?,
    };
    validate_description(request.description.as_deref())?;
    // Checked before anything is written (the write re-checks on its own snapshot).
    let milestone_keys = milestone::resolve_titles(
        &milestone::load(&Snapshot::read(repo.git())?)?,
        &request.milestones,
    )?;
    let now = Timestamp::now()?;
    // Every link is checked before anything is written (not even a tag object): a
    // rejected link changes nothing. Ids are handed out when the record is written.
    let mut links: Vec<Link> = Vec::with_capacity(request.links.len());
    for draft in &request.links {
        let draft = draft.clone().validated()?;
        draft.check_unique(tag.as_str(), &links)?;
        links.push(draft.into_link(Key::random(), 0, now));
    }
    if !request.artifacts.is_empty() {
        let released_at = request.released_at.unwrap_or(now);
        let kind = if released_at > now {
            Some("upcoming")
        } else if released_at < now {
            Some("historical")
        } else {
            None
        };
        if let Some(kind) = kind {
            return Err(Error::invalid(
                "--artifact",
                request.artifacts[0].display().to_string(),
                format!(
                    "an {kind} release gets no evidence at creation, so there is nothing to attach \
                     it to; attach it with `git release evidence collect {tag} --artifact FILE` \
                     once the release is out"
                ),
            ));
        }
    }
    let author = repo.author()?;
    let existing = tag::resolve(repo, tag.as_str())?;

    let mut ignored = Vec::new();
    let (target, commit, new_tag, generated) = match &existing {
        Some(t) => {
            if request.reference.is_some() {
                ignored.push("--ref");
            }
            if request.tag_message.is_some() {
                ignored.push("--tag-message");
            }
            let generated = generated_for(repo, &tag, t.commit, &request)?;
            (t.target, t.commit, None, generated)
        }
        None => {
            let reference = request
                .reference
                .as_deref()
                .ok_or_else(|| Error::RefNotSpecified {
                    tag: tag.to_string(),
                })?;
            let commit = tag::resolve_commit(repo, reference)?;
            // Generated notes need the commit; the annotation object is not yet written.
            let generated = generated_for(repo, &tag, commit, &request)?;
            let target = match request
                .tag_message
                .as_deref()
                .filter(|m| !m.trim().is_empty())
            {
                Some(message) => (
                    tag::write_annotation(repo, &tag, commit, message)?,
                    commit,
                    Some(NewTag::Annotated),
                ),
                None => (commit, commit, Some(NewTag::Lightweight)),
            };
            (target.0, target.1, target.2, generated)
        }
    };
    let description = match &generated {
        Some(g) => Some(combine_notes(request.description.as_deref(), &g.markdown)),
        None => request.description.clone(),
    };
    let claim = new_tag.map(|_| new_claim());
    let release = Release {
        id: None,
        name: request
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| tag.to_string()),
        description,
        created_at: now,
        released_at: request.released_at.unwrap_or(now),
        author,
        commit: commit.to_string(),
        tag_target: target.to_string(),
        pending: claim.clone(),
        links,
        evidences: Vec::new(),
        milestones: milestone_keys,
        extra: Map::new(),
    };

    // A normal release is snapshotted in the very commit that creates it. The archives
    // depend only on the commit and the project name, so they are made before the
    // write, whose closure may run again on a lost race.
    let evidence = if !release.is_upcoming(now) && !release.is_historical() {
        Some(evidence::prepare(
            repo,
            tag.as_str(),
            target,
            commit,
            &request.artifacts,
            now,
        )?)
    } else {
        None
    };

    let commit_hex = commit.to_string();
    let message = match new_tag {
        Some(_) => format!("create {tag} (tag pending)"),
        None => format!("create {tag}"),
    };
    let waiting_since = std::time::Instant::now();
    let (written, release) = loop {
        let attempt = write_creation(
            repo,
            &tag,
            &message,
            &commit_hex,
            &release,
            evidence.as_ref(),
            now,
        );
        match attempt {
            // Another process is between writing its record and creating the tag, a
            // matter of milliseconds: wait for its outcome rather than report a limbo.
            Err(Error::ReleaseBeingCreated { .. }) if waiting_since.elapsed() < IN_FLIGHT_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => break other?,
        }
    };

    if new_tag.is_some() {
        if let Err(error) = tag::create_ref(repo, &tag, target) {
            // The record is still pending (absent to every reader); take it back so it
            // does not wait out its lease. If even that fails, the lease expires.
            let _ = withdraw_claim(repo, &tag, &commit_hex, claim.as_ref());
            return Err(error);
        }
        // The release is complete now. Dropping the claim keeps the record valid if the
        // tag is moved later; should this write fail, the next rewrite of the note does it.
        let _ = settle_claim(repo, &tag, claim.as_ref());
    }
    let mut release = release;
    release.pending = None;
    Ok(Created {
        found: Found {
            tag: tag.to_string(),
            release,
            tag_state: TagState::Intact,
            tag_target: Some(target),
        },
        new_tag,
        ignored,
        replaced_stale: written,
        generated,
    })
}

fn generated_for(
    repo: &Repo,
    tag: &TagName,
    commit: Oid,
    request: &CreateRequest,
) -> Result<Option<Generated>> {
    let Some(notes) = &request.generate_notes else {
        return Ok(None);
    };
    let generated = notes::generate(repo, tag.as_str(), commit, notes.start_tag.as_deref())?;
    validate_description(Some(&combine_notes(
        request.description.as_deref(),
        &generated.markdown,
    )))?;
    Ok(Some(generated))
}

/// Writes the record of a release being created (pending when its tag is still to be
/// made); refuses when the tag already has a release. Returns whether a stale record
/// (deleted tag, killed creator) was replaced, and the record as written (its links
/// numbered).
fn write_creation(
    repo: &Repo,
    tag: &TagName,
    message: &str,
    commit_hex: &str,
    release: &Release,
    evidence: Option<&evidence::Prepared>,
    now: Timestamp,
) -> Result<(bool, Release)> {
    let written = Store::new(repo).update(message, |tx| {
        let tag_now = tag::resolve(repo, tag.as_str())?;
        let mut replaced_stale = false;
        if let Some((at, old)) = locate(
            tx.snapshot(),
            tag.as_str(),
            tag_now.as_ref(),
            Some(commit_hex),
        )? {
            match record_state(&old, tag_now.as_ref()) {
                RecordState::Complete(TagState::Missing) | RecordState::Abandoned => {
                    tx.doc(&at)?.remove(tag.as_str());
                    replaced_stale = true;
                }
                RecordState::Complete(_) => {
                    return Err(Error::ReleaseExists {
                        tag: tag.to_string(),
                    });
                }
                RecordState::InFlight(claim) => {
                    let since = chrono::DateTime::from_timestamp(claim.since, 0)
                        .map_or_else(|| claim.since.to_string(), |t| t.to_rfc3339());
                    return Err(Error::ReleaseBeingCreated {
                        tag: tag.to_string(),
                        since,
                    });
                }
            }
        }
        let mut release = release.clone();
        release.id = Some(tx.allocate_id("release", 0)?);
        for link in &mut release.links {
            link.id = tx.allocate_id("link", 0)?;
        }
        // A milestone deleted since the plan was made must not be written back.
        milestone::check_keys_tx(tx, &release.milestones)?;
        match evidence {
            Some(prepared) => {
                let evidence = evidence::stage(tx, prepared, &release)?;
                release.evidences.push(evidence);
            }
            // Historical releases get evidence only when asked for (`collect`).
            None if release.is_upcoming(now) => {
                evidence::schedule_tx(tx, tag.as_str(), release.released_at)?
            }
            None => evidence::unschedule_tx(tx, tag.as_str())?,
        }
        let doc = tx.doc(commit_hex)?;
        settle_claims(repo, doc, &note_location(commit_hex))?;
        doc.set(tag.as_str(), &release);
        tx.set_index(tag.as_str(), commit_hex);
        Ok((replaced_stale, release))
    })?;
    Ok(written.value)
}

/// Within a store transaction, before writing a new record of `tag` on `commit_hex`:
/// whether a complete release of `tag` exists (the caller then leaves it alone). A
/// stale record (its tag deleted, or its creator gone) is removed so that the new one
/// takes its place, as `create` does.
pub fn has_release_tx(
    tx: &mut Transaction<'_, '_>,
    repo: &Repo,
    tag: &str,
    commit_hex: &str,
) -> Result<bool> {
    let tag_now = tag::resolve(repo, tag)?;
    let Some((at, old)) = locate(tx.snapshot(), tag, tag_now.as_ref(), Some(commit_hex))? else {
        return Ok(false);
    };
    match record_state(&old, tag_now.as_ref()) {
        RecordState::Complete(TagState::Missing) | RecordState::Abandoned => {
            tx.doc(&at)?.remove(tag);
            tx.remove_index(tag);
            Ok(false)
        }
        RecordState::Complete(_) => Ok(true),
        RecordState::InFlight(claim) => Err(Error::ReleaseBeingCreated {
            tag: tag.to_owned(),
            since: chrono::DateTime::from_timestamp(claim.since, 0)
                .map_or_else(|| claim.since.to_string(), |t| t.to_rfc3339()),
        }),
    }
}

/// Clears the claim this process wrote for `tag`, once its tag exists.
fn settle_claim(repo: &Repo, tag: &TagName, claim: Option<&Pending>) -> Result<()> {
    Store::new(repo).update(&format!("create {tag}"), |tx| {
        let tag_now = tag::resolve(repo, tag.as_str())?;
        let Some((at, mut release)) = locate(tx.snapshot(), tag.as_str(), tag_now.as_ref(), None)?
        else {
            return Ok(());
        };
        if release.pending.is_some() && release.pending.as_ref() == claim {
            release.pending = None;
            tx.doc(&at)?.set(tag.as_str(), &release);
        }
        Ok(())
    })?;
    Ok(())
}

/// Removes the pending record this process wrote for `tag`, if it is still ours.
fn withdraw_claim(repo: &Repo, tag: &TagName, commit: &str, claim: Option<&Pending>) -> Result<()> {
    Store::new(repo).update(&format!("abandon create {tag}"), |tx| {
        let Some((at, release)) = locate(tx.snapshot(), tag.as_str(), None, Some(commit))? else {
            return Ok(());
        };
        if release.pending.as_ref() == claim {
            tx.doc(&at)?.remove(tag.as_str());
            tx.remove_index(tag.as_str());
            // Snapshots of a release that never came to be describe nothing.
            for evidence in &release.evidences {
                tx.remove_file(&evidence.filepath);
            }
            evidence::unschedule_tx(tx, tag.as_str())?;
        }
        Ok(())
    })?;
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
    for (commit, blob) in notes {
        let location = note_location(&commit);
        let doc = match snapshot
            .blob(blob, &location)
            .and_then(|bytes| NoteDoc::parse(&bytes, &location))
        {
            Ok(NoteContent::Ours(doc)) => doc,
            Ok(NoteContent::Foreign) => continue,
            Err(e) => {
                listing.problems.push(e);
                continue;
            }
        };
        for (tag, record) in doc.records(&location) {
            let release = match record {
                Ok(r) => r,
                Err(e) => {
                    listing.problems.push(e);
                    continue;
                }
            };
            let known = Oid::from_str(&release.tag_target)
                .ok()
                .zip(Oid::from_str(&release.commit).ok());
            let tag_now = match tag::resolve_known(repo, tag, known) {
                Ok(t) => t,
                Err(e) => {
                    listing.problems.push(e);
                    continue;
                }
            };
            match record_state(&release, tag_now.as_ref()) {
                RecordState::Complete(TagState::Missing) => listing.orphaned.push(tag.to_owned()),
                RecordState::Complete(tag_state) => listing.releases.push(Found {
                    tag: tag.to_owned(),
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

#[derive(Debug, Default, Clone)]
pub struct UpdateRequest {
    pub tag: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub released_at: Option<Timestamp>,
    /// New milestone titles; `Some(vec![])` clears them.
    pub milestones: Option<Vec<String>>,
    pub generate_notes: Option<NotesRequest>,
}

impl UpdateRequest {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.released_at.is_none()
            && self.milestones.is_none()
            && self.generate_notes.is_none()
    }
}

#[derive(Debug)]
pub struct Updated {
    pub found: Found,
    pub generated: Option<Generated>,
}

pub fn update(repo: &Repo, request: UpdateRequest) -> Result<Updated> {
    if request.is_empty() {
        return Err(Error::invalid(
            "update",
            request.tag.clone(),
            "nothing to change: give --name, --notes, --notes-file, --released-at, --milestone, \
             --clear-milestones or --generate-notes",
        ));
    }
    validate_description(request.description.as_deref())?;
    if let Some(titles) = &request.milestones {
        milestone::resolve_titles(&milestone::load(&Snapshot::read(repo.git())?)?, titles)?;
    }
    // Generated from the commit the release was made on, before the write: reading
    // history is slow next to the write, and must not be repeated on a retry.
    let generated = match &request.generate_notes {
        Some(notes) => {
            let found = find(repo, &request.tag)?;
            let commit = Oid::from_str(&found.release.commit).map_err(|_| {
                Error::corrupt(
                    format!("release {}", request.tag),
                    format!("commit {:?} is not an object id", found.release.commit),
                )
            })?;
            let generated =
                notes::generate(repo, &request.tag, commit, notes.start_tag.as_deref())?;
            Some(generated)
        }
        None => None,
    };
    let description = match &generated {
        Some(g) => Some(combine_notes(request.description.as_deref(), &g.markdown)),
        None => request.description.clone(),
    };
    validate_description(description.as_deref())?;
    let now = Timestamp::now()?;
    let message = format!("update {}", request.tag);
    let found = modify_release(repo, &request.tag, &message, |found, tx| {
        if let Some(titles) = &request.milestones {
            found.release.milestones = milestone::resolve_titles_tx(tx, titles)?;
        }
        if let Some(name) = &request.name {
            found.release.name = if name.is_empty() {
                request.tag.clone()
            } else {
                name.clone()
            };
        }
        if let Some(description) = &description {
            found.release.description = Some(description.clone());
        }
        if let Some(released_at) = request.released_at {
            found.release.released_at = released_at;
            evidence::reschedule_tx(tx, &found.release, &request.tag, now)?;
        }
        Ok(found.clone())
    })?;
    Ok(Updated { found, generated })
}

/// Read-modify-write of one release record as one commit with `message`: `change`
/// edits the record (and may stage other store files through the transaction); it
/// is re-run on a fresh snapshot if another writer got there first. Releases whose
/// tag was deleted are not found, as GitLab deletes them with the tag.
pub fn modify_release<R>(
    repo: &Repo,
    tag: &str,
    message: &str,
    mut change: impl FnMut(&mut Found, &mut Transaction<'_, '_>) -> Result<R>,
) -> Result<R> {
    let written = Store::new(repo).update(message, |tx| {
        let (at, mut found) = match find_in(tx.snapshot(), repo, tag)? {
            Some((at, found)) if found.tag_state != TagState::Missing => (at, found),
            _ => {
                return Err(Error::ReleaseNotFound {
                    tag: tag.to_owned(),
                });
            }
        };
        let value = change(&mut found, tx)?;
        let doc = tx.doc(&at)?;
        settle_claims(repo, doc, &note_location(&at))?;
        doc.set(tag, &found.release);
        Ok(value)
    })?;
    Ok(written.value)
}

#[derive(Debug)]
pub struct Deleted {
    pub found: Found,
    /// The tag deleted with the release, if asked for and present.
    pub deleted_tag: Option<Oid>,
}

pub fn delete(repo: &Repo, tag: &str, with_tag: bool) -> Result<Deleted> {
    let written = Store::new(repo).update(&format!("delete {tag}"), |tx| {
        let Some((at, found)) = find_in(tx.snapshot(), repo, tag)? else {
            return Err(Error::ReleaseNotFound {
                tag: tag.to_owned(),
            });
        };
        tx.doc(&at)?.remove(tag);
        tx.remove_index(tag);
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
