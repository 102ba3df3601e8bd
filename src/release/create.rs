//! Creating a release: plan everything (tag, links, milestones, notes, evidence), then
//! write a pending record, create the tag (the commit point), and settle the record.

use std::time::Duration;

use git2::Oid;
use serde_json::Map;

use crate::archive;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::git::repo::Repo;
use crate::git::sign::Signer;
use crate::git::tag;
use crate::model::IdKind;
use crate::model::Person;
use crate::model::evidence::signature_path;
use crate::model::release::validate_description;
use crate::model::{Found, Key, Link, LinkDraft, Pending, Release, TagName, TagState};
use crate::release::claim::{
    MarkedRecord, Marker, Operation, RecordState, new_claim, record_state,
};
use crate::release::evidence::{self, EvidenceSigner};
use crate::release::notes::{self, Generated};
use crate::release::query::{list, locate, settle_claims};
use crate::store::{Snapshot, Store, Transaction, note_location};
use crate::time::Timestamp;

/// How long a create waits for a concurrent creator of the same tag to finish.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(5);

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
    /// `--sign` (`Some(true)`), `--no-sign` (`Some(false)`), or as `tag.gpgSign` says.
    pub sign: Option<bool>,
    /// `-u/--local-user`: the key to sign with instead of `user.signingKey`.
    pub signing_key: Option<String>,
    /// Who the release is by, when not the git identity (a `serve` token's user).
    pub author: Option<Person>,
}

/// `--generate-notes [--notes-start-tag T]`.
#[derive(Debug, Default, Clone)]
pub struct NotesRequest {
    pub start_tag: Option<String>,
}

/// Notes text given by the user followed by generated notes.
pub(crate) fn combine_notes(given: Option<&str>, generated: &str) -> String {
    match given.map(str::trim_end).filter(|g| !g.is_empty()) {
        Some(given) => format!("{given}\n\n{generated}"),
        None => generated.to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewTag {
    Lightweight,
    Annotated,
    /// Annotated and signed, as `git tag -s` makes it.
    Signed,
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
    /// The key the tag and/or evidence were signed with.
    pub signed_with: Option<String>,
    /// The evidence taken at creation was left unsigned because the tag is signed by
    /// another key (named here), e.g. an upstream release's.
    pub evidence_unsigned_tag_signer: Option<String>,
}

/// Report files go into the snapshot taken at creation, which only a normal release
/// gets: for an upcoming or historical one, `--artifact` would be silently lost.
fn check_artifacts(tag: &TagName, request: &CreateRequest, now: Timestamp) -> Result<()> {
    let Some(first) = request.artifacts.first() else {
        return Ok(());
    };
    let released_at = request.released_at.unwrap_or(now);
    let kind = match released_at.cmp(&now) {
        std::cmp::Ordering::Greater => "upcoming",
        std::cmp::Ordering::Less => "historical",
        std::cmp::Ordering::Equal => return Ok(()),
    };
    Err(Error::invalid(
        "--artifact",
        first.display().to_string(),
        format!(
            "an {kind} release gets no evidence at creation, so there is nothing to attach \
             it to; attach it with `git release evidence collect {} --artifact FILE` \
             once the release is out",
            crate::text::shell_quote(tag.as_str())
        ),
    ))
}

/// Where the release's tag will point, and whether this create makes the tag.
struct TagPlan {
    target: Oid,
    commit: Oid,
    new_tag: Option<NewTag>,
    generated: Option<Generated>,
    /// Options that had no effect because the tag already existed.
    ignored: Vec<&'static str>,
    /// Who signs the evidence (the tag's signer when the new tag is signed).
    signer: Option<EvidenceSigner>,
    /// The existing tag is signed by a key other than the configured one (see
    /// `evidence::signer_for`): who signed it.
    tag_signed_by_other: Option<String>,
}

pub fn create(repo: &Repo, request: CreateRequest) -> Result<Created> {
    // Attaching to an existing tag is allowed whatever its name; a new one must not be
    // spelt like a ref.
    let tag = match tag::resolve(repo, &request.tag) {
        Ok(Some(_)) => TagName::parse(&request.tag)?,
        _ => TagName::parse_new(&request.tag)?,
    };
    crate::model::text::check_opt("name", request.name.as_deref())?;
    crate::model::text::check_opt("description", request.description.as_deref())?;
    crate::model::text::check_opt("tag message", request.tag_message.as_deref())?;
    if let Some(text) = &request.description {
        validate_description(text)?;
    }
    // Checked before anything is written (the write re-checks on its own snapshot).
    let (milestone_keys, group_milestones) = crate::release::group::resolve_release_milestones(
        repo,
        &Snapshot::read(repo.git())?.milestones()?,
        &request.milestones,
    )?;
    let now = Timestamp::now()?;
    let links = plan_links(&tag, &request.links, now)?;
    check_artifacts(&tag, &request, now)?;
    let author = match &request.author {
        Some(person) => person.clone(),
        None => Person::author(repo)?,
    };
    let with_digests = evidence::archives_by_default(repo)?;
    let plan = plan_tag(repo, &tag, &request)?;
    let description = match &plan.generated {
        Some(g) => Some(combine_notes(request.description.as_deref(), &g.markdown)),
        None => request.description.clone(),
    };
    let claim = plan.new_tag.map(|_| new_claim());
    let release = Release {
        id: None,
        name: release_name(&request, &tag),
        description,
        created_at: now,
        released_at: request.released_at.unwrap_or(now),
        author,
        commit: plan.commit,
        tag_target: plan.target,
        pending: claim.clone(),
        links,
        evidences: Vec::new(),
        milestones: milestone_keys,
        group_milestones,
        extra: Map::new(),
    };

    // A normal release is snapshotted in the very commit that creates it: a tree
    // snapshot, which reads no blob, unless the repository asks for archive digests.
    // What the snapshot needs is prepared before the write, whose closure may run
    // again on a lost race.
    let evidence = if !release.is_upcoming(now) && !release.is_historical() {
        let silent = archive::Silent;
        Some(evidence::prepare(
            repo,
            tag.as_str(),
            plan.target,
            plan.commit,
            &request.artifacts,
            now,
            with_digests.then_some(&silent as &dyn archive::Progress),
        )?)
    } else {
        None
    };
    // A marker of this unfinished create, so that a crash before the end is settled
    // by the next write (`leftovers::sweep`) rather than left pending.
    let marker = claim.as_ref().map(|claim| Marker {
        operation: Operation::Create,
        claim: claim.clone(),
        records: vec![MarkedRecord {
            tag: tag.to_string(),
            commit: plan.commit,
            target: plan.target,
            creates_tag: true,
        }],
        milestones: Vec::new(),
    });
    if let Some(marker) = &marker {
        marker.write(repo)?;
    }
    let written = write_waiting(
        repo,
        &tag,
        plan.new_tag,
        &release,
        evidence.as_ref().map(|e| (e, plan.signer.as_ref())),
        now,
    );
    let (replaced_stale, mut release) = match written {
        Ok(done) => done,
        Err(e) => {
            if let Some(marker) = &marker {
                marker.remove(repo);
            }
            return Err(e);
        }
    };
    if let Some(marker) = &marker {
        failpoint::reach(failpoint::CREATE_RECORD_WRITTEN);
        let made = create_tag(repo, &tag, &release, claim.as_ref());
        if made.as_ref().is_ok_and(|settled| *settled) || made.is_err() {
            marker.remove(repo);
        }
        made?;
    }
    release.pending = None;
    Ok(Created {
        found: Found {
            tag: tag.to_string(),
            release,
            tag_state: TagState::Intact,
            tag_target: Some(plan.target),
        },
        new_tag: plan.new_tag,
        ignored: plan.ignored,
        replaced_stale,
        generated: plan.generated,
        evidence_unsigned_tag_signer: plan.tag_signed_by_other.filter(|_| evidence.is_some()),
        signed_with: plan.signer.map(|s| s.signer().describe()),
    })
}

fn release_name(request: &CreateRequest, tag: &TagName) -> String {
    request
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| tag.to_string())
}

/// Every link is checked before anything is written (not even a tag object): a
/// rejected link changes nothing. Ids are handed out when the record is written.
fn plan_links(tag: &TagName, drafts: &[LinkDraft], now: Timestamp) -> Result<Vec<Link>> {
    let mut links: Vec<Link> = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let draft = draft.clone().validated()?;
        draft.check_unique(tag.as_str(), &links)?;
        links.push(draft.into_link(Key::random(), 0, now));
    }
    Ok(links)
}

/// Resolves the tag, or for a missing one the commit to create it on (writing the
/// annotation object, which nothing refers to until the ref exists), and generates
/// the notes, which need the commit.
fn plan_tag(repo: &Repo, tag: &TagName, request: &CreateRequest) -> Result<TagPlan> {
    if let Some(t) = tag::resolve(repo, tag.as_str())? {
        let mut ignored = Vec::new();
        if request.reference.is_some() {
            ignored.push("--ref");
        }
        if request.tag_message.is_some() {
            ignored.push("--tag-message");
        }
        // The tag exists: --sign, -u or release.signEvidence, or a tag signed with the
        // configured key, decide whether the evidence is signed.
        let signing =
            evidence::signer_for(repo, t.target, request.sign, request.signing_key.as_deref())?;
        return Ok(TagPlan {
            target: t.target,
            commit: t.commit,
            new_tag: None,
            generated: generated_for(repo, tag, t.commit, request)?,
            ignored,
            signer: signing.signer,
            tag_signed_by_other: signing.tag_signed_by_other,
        });
    }
    let reference = request
        .reference
        .as_deref()
        .ok_or_else(|| Error::RefNotSpecified {
            tag: tag.to_string(),
        })?;
    let commit = tag::resolve_commit(repo, reference)?;
    tag::check_available(repo, tag)?;
    let generated = generated_for(repo, tag, commit, request)?;
    let message = request
        .tag_message
        .as_deref()
        .filter(|m| !m.trim().is_empty());
    if tag::wants_signature(repo, request.sign, message.is_some())? {
        // A signed tag is annotated; without --tag-message its message is the
        // release's title, as no editor is opened.
        let signer = Signer::configured(repo, request.signing_key.as_deref())?;
        let title = release_name(request, tag);
        let message = message.unwrap_or(&title);
        let target = tag::write_annotation(repo, tag, commit, message, Some(&signer))?;
        return Ok(TagPlan {
            target,
            commit,
            new_tag: Some(NewTag::Signed),
            generated,
            ignored: Vec::new(),
            signer: Some(EvidenceSigner::new(signer)),
            tag_signed_by_other: None,
        });
    }
    // An unsigned new tag: release.signEvidence alone decides (`commit` has no
    // signature to look at).
    let signer = match request.sign {
        Some(false) => None,
        _ => evidence::signer_for(repo, commit, None, request.signing_key.as_deref())?.signer,
    };
    let (target, new_tag) = match message {
        Some(message) => (
            tag::write_annotation(repo, tag, commit, message, None)?,
            NewTag::Annotated,
        ),
        None => (commit, NewTag::Lightweight),
    };
    Ok(TagPlan {
        target,
        commit,
        new_tag: Some(new_tag),
        generated,
        ignored: Vec::new(),
        signer,
        tag_signed_by_other: None,
    })
}

/// Writes the record, waiting out another process that is between writing its record
/// of the same tag and creating the tag (a matter of milliseconds) rather than
/// reporting a limbo.
fn write_waiting(
    repo: &Repo,
    tag: &TagName,
    new_tag: Option<NewTag>,
    release: &Release,
    // The snapshot to take, and who signs it.
    evidence: Option<(&evidence::Prepared, Option<&EvidenceSigner>)>,
    now: Timestamp,
) -> Result<(bool, Release)> {
    let message = match new_tag {
        Some(_) => format!("create {tag} (tag pending)"),
        None => format!("create {tag}"),
    };
    let commit_hex = release.commit.to_string();
    let waiting_since = std::time::Instant::now();
    loop {
        match write_creation(repo, tag, &message, &commit_hex, release, evidence, now) {
            Err(Error::ReleaseBeingCreated { .. }) if waiting_since.elapsed() < IN_FLIGHT_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The commit point: creates the tag the pending record names (its reflog naming the
/// claim), then drops the claim. Returns whether the record is settled (else the
/// marker stays, and the next write settles it).
fn create_tag(
    repo: &Repo,
    tag: &TagName,
    release: &Release,
    claim: Option<&Pending>,
) -> Result<bool> {
    let key = claim.and_then(|c| c.key).map(|k| k.to_string());
    let made = match &key {
        Some(key) => tag::create_ref_claimed(repo, tag, release.tag_target, key),
        None => tag::create_ref(repo, tag, release.tag_target),
    };
    if let Err(error) = made {
        // The record is still pending (absent to every reader); take it back so it
        // does not wait out its lease. If even that fails, the next write does it.
        let _ = withdraw_claim(repo, tag, &release.commit.to_string(), claim);
        return Err(error);
    }
    failpoint::reach(failpoint::CREATE_TAG_CREATED);
    // The release is complete now. Dropping the claim keeps the record valid if the
    // tag is moved later; should this write fail, the next write does it.
    Ok(settle_claim(repo, tag, claim).is_ok())
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
    let generated = generate_notes(repo, tag.as_str(), commit, notes)?;
    validate_description(&combine_notes(
        request.description.as_deref(),
        &generated.markdown,
    ))?;
    Ok(Some(generated))
}

/// Notes for `tag` on `commit`, from `--notes-start-tag` or else the previous release.
pub(crate) fn generate_notes(
    repo: &Repo,
    tag: &str,
    commit: Oid,
    request: &NotesRequest,
) -> Result<Generated> {
    let since = match &request.start_tag {
        Some(start) => notes::start_at_tag(repo, start)?,
        None => notes::previous_release(repo, &list(repo)?.releases, tag, commit)?,
    };
    notes::generate(repo, tag, commit, since)
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
    evidence: Option<(&evidence::Prepared, Option<&EvidenceSigner>)>,
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
            match record_state(repo, tag.as_str(), &old, tag_now.as_ref()) {
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
        release.id = Some(tx.allocate_id(IdKind::Release, 0)?);
        for link in &mut release.links {
            link.id = tx.allocate_id(IdKind::Link, 0)?;
        }
        // A milestone deleted since the plan was made must not be written back.
        if !release.milestones.is_empty() {
            tx.milestones()?.check_keys(&release.milestones)?;
        }
        match evidence {
            Some((prepared, signer)) => {
                let evidence = evidence::stage(tx, prepared, &release, signer)?;
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
        tx.set_index(tag.as_str(), release.commit);
        // A release made again of a tag deleted with its release: the tag is wanted.
        tx.forget_deleted_tag(tag.as_str())?;
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
    match record_state(repo, tag, &old, tag_now.as_ref()) {
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
                tx.remove_file(&signature_path(&evidence.sha));
            }
            evidence::unschedule_tx(tx, tag.as_str())?;
        }
        Ok(())
    })?;
    Ok(())
}
