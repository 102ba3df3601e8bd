//! Sharing releases with another repository through the user's own `git`
//! (`git::transport`): fetch takes exactly the remote's notes ref (into
//! `refs/notes/remotes/<remote>/releases`) and the tags of releases (into
//! `refs/release-remotes/<remote>/tags/`, see `remote_tags`), merges the notes, and
//! creates the release tags missing here — never moving or deleting a local tag;
//! push publishes the notes ref (never forced) with the release tags the remote lacks,
//! merging first when the remote moved.
//!
//! Nothing unchosen is published: a merge with conflicts nobody chose a side for is
//! recorded as unresolved (`store::merge_state`), and a release whose tag moved
//! (`release::retag`) waits for a choice too; until then nothing is pushed.

use std::collections::{BTreeMap, BTreeSet};

use git2::Oid;

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::git::repo::Repo;
use crate::git::transport::{self, Advertised};
use crate::release::{self, leftovers, retag};
use crate::share::kept_tags;
use crate::share::recompute;
use crate::share::remote_tags;
use crate::share::resolve::{self, Side};
use crate::store::merge_state::{self, MergeState};
use crate::store::three_way::Prefer;
use crate::store::three_way::Step;
use crate::store::{
    ConflictKind, Document, MergeOutcome, NOTES_REF, Snapshot, Store, StoreConflict,
};

/// How many times a push is retried after merging what the remote gained meanwhile.
const PUSH_ATTEMPTS: usize = 3;

/// How long a push waits for a command of this repository that is writing pending
/// records to finish.
const IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub fn tracking_ref(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/releases")
}

/// The name a remote's refs are kept under: its own name when it is a configured
/// remote with a name git accepts in a ref, else `url-<digest of the URL>`.
pub fn slug(repo: &Repo, remote: &str) -> String {
    let named = repo.git().find_remote(remote).is_ok()
        && git2::Reference::is_valid_name(&tracking_ref(remote))
        && !remote.contains('/');
    if named {
        remote.to_owned()
    } else {
        format!("url-{}", &sha256_hex(remote.as_bytes())[..16])
    }
}

/// The current branch's remote, else `origin`.
pub fn default_remote(repo: &Repo) -> String {
    let git = repo.git();
    let from_branch = git.head().ok().and_then(|head| {
        let branch = head.shorthand().ok()?.to_owned();
        repo.config_string(&format!("branch.{branch}.remote"))
    });
    from_branch
        .filter(|r| r != ".")
        .unwrap_or_else(|| "origin".into())
}

/// The protected-tag rules as the hook, `verify`, `config` and `serve` read them by
/// default: as git config pins them, else from the default remote's default branch as
/// last fetched (else HEAD's commit).
pub fn rules_choice(repo: &Repo) -> crate::git::protection::RulesChoice {
    crate::git::protection::RulesChoice::Configured {
        remote: default_remote(repo),
    }
}

/// What the remote advertises; a remote that cannot be asked stops `action`.
fn ask(repo: &Repo, remote: &str, action: &str) -> Result<Advertised> {
    transport::advertised(repo, remote, NOTES_REF)?.map_err(|message| Error::Refused {
        action: action.to_owned(),
        reason: format!("cannot ask {remote} for its refs:\n{message}"),
    })
}

/// Fetches exactly `refspecs` from `remote`.
fn fetch_exactly(repo: &Repo, remote: &str, refspecs: &[String]) -> Result<()> {
    transport::fetch(repo, remote, refspecs)?.map_err(|message| Error::Refused {
        action: format!("fetching releases from {remote}"),
        reason: format!("git fetch failed:\n{message}"),
    })
}

/// The kind of object `id` is, for messages ("a blob").
fn kind_of(repo: &Repo, id: Oid) -> String {
    match repo.git().find_object(id, None).ok().and_then(|o| o.kind()) {
        Some(git2::ObjectType::Blob) => "a blob".into(),
        Some(git2::ObjectType::Tree) => "a tree".into(),
        Some(git2::ObjectType::Tag) => "a tag object".into(),
        Some(git2::ObjectType::Commit) => "a commit".into(),
        _ => "an object that is not here".into(),
    }
}

/// `<remote>'s refs/notes/releases points at a blob (…), not a notes commit`.
fn not_a_notes_commit(repo: &Repo, remote: &str, id: Oid) -> String {
    format!(
        "{remote}'s {NOTES_REF} points at {} ({id}), not a notes commit",
        kind_of(repo, id)
    )
}

/// Brings in the remote's notes commit and the tags of releases (here or there),
/// each by its exact name, and forgets the remote's other tags. Returns the remote's
/// notes commit, checked to be a commit; `None` when it has no releases.
fn bring_in(repo: &Repo, remote: &str, slug: &str, advertised: &Advertised) -> Result<Option<Oid>> {
    let git = repo.git();
    let tracking = tracking_ref(slug);
    let known = remote_tags::known(repo, slug)?;
    let stale =
        |tag: &str, id: &Oid| known.get(tag) != Some(id) || git.find_object(*id, None).is_err();
    let ours = Snapshot::read(git)?;
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut specs = Vec::new();
    let before = git.refname_to_id(&tracking).ok();
    if let Some(notes) = advertised.notes {
        if before != Some(notes) || git.find_object(notes, None).is_err() {
            specs.push(format!("+{NOTES_REF}:{tracking}"));
        }
    }
    // First the notes, with the remote's tags that releases here are named after.
    for (tag, id) in &advertised.tags {
        if remote_tags::fetchable(tag) && ours.index_entry(tag).ok().flatten().is_some() {
            wanted.insert(tag.clone());
            if stale(tag, id) {
                specs.push(remote_tags::refspec(slug, tag));
            }
        }
    }
    fetch_exactly(repo, remote, &specs)?;
    let theirs = match advertised.notes {
        None => None,
        Some(notes) => {
            if git.find_commit(notes).is_err() {
                let reason = not_a_notes_commit(repo, remote, notes);
                // A failed fetch changes nothing: the tracking ref keeps what it held.
                let _ = match before {
                    Some(old) => git
                        .reference(&tracking, old, true, "git-release: not a notes commit")
                        .map(|_| ()),
                    None => git.find_reference(&tracking).and_then(|mut r| r.delete()),
                };
                return Err(Error::Refused {
                    action: format!("fetching releases from {remote}"),
                    reason,
                });
            }
            Some(notes)
        }
    };
    // Then the tags of the remote's releases.
    if let Some(theirs) = theirs {
        let store = Snapshot::at(git, theirs)?;
        let mut specs = Vec::new();
        for (tag, id) in &advertised.tags {
            if wanted.contains(tag) || !remote_tags::fetchable(tag) {
                continue;
            }
            if store.index_entry(tag).ok().flatten().is_some() {
                wanted.insert(tag.clone());
                if stale(tag, id) {
                    specs.push(remote_tags::refspec(slug, tag));
                }
            }
        }
        fetch_exactly(repo, remote, &specs)?;
    }
    remote_tags::prune(repo, slug, &wanted)?;
    Ok(theirs)
}

#[derive(Debug, Default)]
pub struct Fetched {
    /// `None` when the remote has no releases yet.
    pub merge: Option<MergeOutcome>,
    /// Conflicts recorded by an earlier fetch, settled now by the side chosen.
    pub settled: resolve::Settled,
    /// Every conflict still unresolved after this fetch (any remote), with its remote.
    pub unresolved: Vec<(String, StoreConflict)>,
    /// Tags of the remote that were not made local tags, and why.
    pub tag_notices: Vec<String>,
    /// Releases whose tag here is not the one they record, once the fetch is done.
    pub moved: Vec<retag::MovedTag>,
    /// Moved tags settled by the side chosen (`--theirs` restores, `--ours` follows).
    pub retagged: Vec<retag::MovedTag>,
}

/// Fetches the remote's release notes and the tags of releases, and merges the notes
/// into ours. With a side chosen, conflicts an earlier fetch from this remote
/// recorded are settled first, and new ones are settled that way; without, new
/// conflicts keep the local values and are recorded as unresolved. A local tag is
/// never moved or deleted, except by a side chosen.
pub fn fetch(repo: &Repo, remote: &str, choice: Option<Side>) -> Result<Fetched> {
    check_remote_name(remote)?;
    let slug = slug(repo, remote);
    let state_ref = merge_state::state_ref(&slug);
    // Read (and so checked) before anything changes: a corrupt state stops here.
    let states = merge_state::read_all(repo.git())?;
    let recorded = states.into_iter().find(|r| r.reference == state_ref);
    let mut fetched = Fetched::default();
    let advertised = ask(repo, remote, &format!("fetching releases from {remote}"))?;
    let theirs = bring_in(repo, remote, &slug, &advertised)?;
    failpoint::reach(failpoint::FETCH_REFS_FETCHED);

    let prefer = choice.map_or(Prefer::Ours, Side::prefer);
    let merge = match theirs {
        Some(theirs) => Some(Store::new(repo).merge_from(theirs, remote, prefer)?),
        None => None,
    };
    let new = merge
        .as_ref()
        .map(|m| m.conflicts.clone())
        .unwrap_or_default();
    if choice == Some(Side::Theirs) {
        for c in new.iter().filter(|c| c.kind == ConflictKind::TagCommit) {
            resolve::take_their_tag(repo, c)?;
        }
    }
    let known = remote_tags::known(repo, &slug)?;
    // What an earlier fetch recorded, looked at again against the remote as it is now
    // (a place this merge found in conflict again is reported once, as new).
    let earlier: Vec<StoreConflict> = recorded
        .as_ref()
        .map(|r| r.state.conflicts.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| !new.iter().any(|n| n.place() == c.place()))
        .collect();
    let standing = recompute::recompute(repo, &earlier, theirs, &known)?;

    let merged = Snapshot::read(repo.git())?;
    fetched.tag_notices = remote_tags::adopt(repo, remote, &merged, &known)?;
    let tag_conflicts: Vec<StoreConflict> = tag_conflicts(repo, &slug, theirs, &known)?
        .into_iter()
        .filter(|c| !standing.iter().any(|s| s.place() == c.place()))
        .collect();

    match choice {
        None => {
            let mut all = standing;
            all.extend(new.iter().cloned());
            all.extend(tag_conflicts.iter().cloned());
            write_state(
                repo,
                &state_ref,
                remote,
                recorded.as_ref(),
                theirs,
                merge.as_ref(),
                all,
            )?;
        }
        Some(side) => {
            // The side chosen settles every conflict there is now: those the merge
            // found (already settled that way by it), those still standing from
            // earlier, and the tag conflicts.
            let mut chosen = standing;
            chosen.extend(tag_conflicts.iter().cloned());
            match side {
                Side::Theirs => {
                    fetched.settled.renumbered = resolve::take_theirs(repo, remote, &chosen)?
                }
                Side::Ours => resolve::keep_ours(repo, &slug, &chosen)?,
            }
            fetched.settled.conflicts = chosen
                .into_iter()
                .filter(|c| !tag_conflicts.contains(c))
                .collect();
            if let Some(recorded) = &recorded {
                merge_state::remove(repo, &recorded.reference, Some(recorded.commit))?;
            }
            fetched.retagged = settle_moved_tags(repo, theirs, side)?;
        }
    }
    fetched.merge = merge.map(|mut m| {
        m.conflicts.extend(tag_conflicts.iter().cloned());
        m
    });
    let merged_something = fetched
        .merge
        .as_ref()
        .is_some_and(|m| m.kind != crate::store::MergeKind::UpToDate);
    if merged_something {
        fetched.tag_notices.extend(deleted_but_kept(repo)?);
    }
    fetched.moved = retag::moved(repo)?;
    fetched.unresolved = resolve::unresolved(repo)?;
    Ok(fetched)
}

/// Records `conflicts` as the unresolved state with the remote, replacing what was
/// recorded (deleting it when none is left): conflicts are recomputed on every fetch,
/// never carried over.
fn write_state(
    repo: &Repo,
    state_ref: &str,
    remote: &str,
    recorded: Option<&merge_state::Recorded>,
    theirs: Option<Oid>,
    merge: Option<&MergeOutcome>,
    conflicts: Vec<StoreConflict>,
) -> Result<()> {
    let expected = recorded.map(|r| r.commit);
    if conflicts.is_empty() {
        return match recorded {
            Some(r) => merge_state::remove(repo, &r.reference, expected),
            None => Ok(()),
        };
    }
    // A remote without releases has no notes commit: the state names the local one,
    // which holds the releases in conflict.
    let local = repo.git().refname_to_id(NOTES_REF).ok();
    let (theirs, base, merged) = match (theirs, merge) {
        (Some(t), Some(m)) => (t, m.base, m.commit.or(local)),
        (Some(t), None) => (t, None, local),
        (None, _) => match local {
            Some(l) => (l, None, Some(l)),
            None => return Ok(()),
        },
    };
    let state = MergeState {
        schema: 1,
        remote: remote.to_owned(),
        theirs: theirs.to_string(),
        base: base.map(|b| b.to_string()),
        merged: merged.unwrap_or(theirs).to_string(),
        conflicts,
    };
    merge_state::write(repo, state_ref, expected, &state)
}

/// Local tags the store records as deleted with their release (elsewhere): kept, as a
/// fetch never deletes a tag, and said.
fn deleted_but_kept(repo: &Repo) -> Result<Vec<String>> {
    let snapshot = Snapshot::read(repo.git())?;
    let mut notices = Vec::new();
    for deleted in snapshot.deleted_tags()? {
        let here = repo
            .git()
            .refname_to_id(&format!("refs/tags/{}", deleted.tag))
            .ok();
        if here == Some(deleted.target) && snapshot.index_entry(&deleted.tag)?.is_none() {
            notices.push(format!(
                "tag {} was deleted with its release; it is kept here, and not pushed \
                 (`git tag -d {}` deletes it)",
                deleted.tag,
                crate::text::shell_quote(&deleted.tag)
            ));
        }
    }
    Ok(notices)
}

/// With a side chosen, the releases whose tag here differs from the one the remote's
/// store records for them (the remote's value): `--theirs` moves the tag back to the
/// release, `--ours` moves the release to the tag. A release the remote does not
/// have is no disagreement with it, and is left to `retag`.
fn settle_moved_tags(repo: &Repo, theirs: Option<Oid>, side: Side) -> Result<Vec<retag::MovedTag>> {
    let Some(theirs) = theirs else {
        return Ok(Vec::new());
    };
    let store = Snapshot::at(repo.git(), theirs)?;
    let mut done = Vec::new();
    for moved in retag::moved(repo)? {
        if store.recorded_tag_target(&moved.tag)? != Some(moved.recorded) {
            continue;
        }
        done.push(match side {
            Side::Theirs => retag::restore(repo, &moved.tag)?,
            Side::Ours => retag::follow(repo, &moved.tag)?,
        });
    }
    Ok(done)
}

/// Tag conflicts with the remote (`ConflictKind::TagTarget`): a release here sits on
/// the local tag, and the remote holds a tag of that name elsewhere with no release
/// there (`theirs`: its notes commit, `None` when it has no releases at all). Not
/// when the local tag was already chosen against that very remote tag.
fn tag_conflicts(
    repo: &Repo,
    slug: &str,
    theirs: Option<Oid>,
    known: &BTreeMap<String, Oid>,
) -> Result<Vec<StoreConflict>> {
    let git = repo.git();
    let snapshot = Snapshot::read(git)?;
    let theirs_store = match theirs {
        Some(t) => Some(Snapshot::at(git, t)?),
        None => None,
    };
    let mut conflicts = Vec::new();
    for (tag, their_tag) in known {
        let Ok(here) = git.refname_to_id(&format!("refs/tags/{tag}")) else {
            continue;
        };
        if here == *their_tag {
            continue;
        }
        if snapshot.recorded_tag_target(tag)? != Some(here) {
            continue;
        }
        let released_there = match &theirs_store {
            Some(store) => store.index_entry(tag)?.is_some(),
            None => false,
        };
        if released_there || kept_tags::chosen_against(repo, slug, tag) == Some(*their_tag) {
            continue;
        }
        if let Some(c) = tag_conflict(repo, &snapshot, tag, here, *their_tag)? {
            conflicts.push(c);
        }
    }
    Ok(conflicts)
}

/// The conflict between the local release of `tag` (on tag object `here`) and the
/// remote's tag `theirs`, which has no release there.
fn tag_conflict(
    repo: &Repo,
    snapshot: &Snapshot<'_>,
    tag: &str,
    here: Oid,
    theirs: Oid,
) -> Result<Option<StoreConflict>> {
    let Some(entry) = snapshot.index_entry(tag)? else {
        return Ok(None);
    };
    let their_commit = repo
        .git()
        .find_object(theirs, None)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id().to_string())
        .ok();
    let ours_commit = entry.commit.to_string();
    Ok(Some(StoreConflict {
        subject: tag.to_owned(),
        path: format!("release {tag}"),
        kind: ConflictKind::TagTarget,
        document: Document::Note(ours_commit.clone()),
        at: vec![Step::Field("tags".into()), Step::Field(tag.to_owned())],
        ours: Some(serde_json::json!({"commit": ours_commit, "tag_target": here.to_string()})),
        theirs: Some(serde_json::json!({"commit": their_commit, "tag_target": theirs.to_string()})),
    }))
}

/// Release tags to push by force, each with a lease on the remote's value
/// (`advertised`): a tag conflict settled --ours (`kept_tags`) while the remote's tag
/// is still the one chosen against; and a tag whose release the local store moved (by
/// an explicit choice, here or in a clone merged here) from where the remote's store
/// — which the local one contains — records it.
fn tags_to_force(
    repo: &Repo,
    slug: &str,
    tags: &BTreeMap<String, Oid>,
    advertised: &Advertised,
) -> Result<BTreeMap<String, Oid>> {
    let git = repo.git();
    let mut out = BTreeMap::new();
    for (tag, lease) in kept_tags::all(repo, slug) {
        let Some(here) = tags.get(&tag) else { continue };
        if advertised.tags.get(&tag) == Some(&lease) && *here != lease {
            out.insert(tag, lease);
        }
    }
    let (Some(remote_notes), Ok(local)) = (advertised.notes, git.refname_to_id(NOTES_REF)) else {
        return Ok(out);
    };
    if git.find_commit(remote_notes).is_err() {
        // Not fetched yet: nothing is known of what the remote records.
        return Ok(out);
    }
    let contains_theirs = local == remote_notes
        || git
            .graph_descendant_of(local, remote_notes)
            .map_err(|e| Error::git("cannot compare notes commits", e))?;
    let theirs_store = Snapshot::at(git, remote_notes)?;
    let ours_store = Snapshot::read(git)?;
    for (tag, here) in tags {
        let Some(remote_tag) = advertised.tags.get(tag) else {
            continue;
        };
        if remote_tag == here || out.contains_key(tag) {
            continue;
        }
        let theirs_records = theirs_store.recorded_tag_target(tag)?;
        // The remote's own store records the local tag, and its tag is elsewhere (a
        // plain `git push` of the notes without the tag, over a tag pushed before):
        // its tag is put back where its release says.
        let remote_tag_astray = theirs_records == Some(*here);
        // The release moved here (by an explicit choice, here or in a clone merged
        // here) from where the remote's store — which the local one contains — has it.
        let moved_by_choice = contains_theirs
            && theirs_records == Some(*remote_tag)
            && ours_store.recorded_tag_target(tag)? == Some(*here);
        if remote_tag_astray || moved_by_choice {
            out.insert(tag.clone(), *remote_tag);
        }
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Pushed {
    /// The release tags sent (those the remote lacked or held elsewhere by choice).
    pub tags: Vec<String>,
    /// The remote's tags deleted, as their releases were here (`delete --with-tag`).
    pub deleted_tags: Vec<String>,
    /// Whether the notes ref was sent (false: the remote had it already).
    pub notes: bool,
    /// Merges made because the remote had moved.
    pub merges: Vec<MergeOutcome>,
}

/// How to push.
#[derive(Debug, Clone, Copy)]
pub struct PushOptions {
    pub choice: Option<Side>,
    /// One atomic push (the default); without, the tags go first and the notes after,
    /// for remotes that do not support atomic pushes.
    pub atomic: bool,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            choice: None,
            atomic: true,
        }
    }
}

/// What one push attempt is to send.
struct Plan {
    notes: bool,
    /// Tag → its local object.
    tags: BTreeMap<String, Oid>,
    /// Tag → the remote value the overwrite is leased on.
    forced: BTreeMap<String, Oid>,
    /// Tags deleted with their release: tag → the remote value the deletion is leased on.
    deletions: BTreeMap<String, Oid>,
}

impl Plan {
    fn is_empty(&self) -> bool {
        !self.notes && self.tags.is_empty() && self.deletions.is_empty()
    }

    fn tag_specs(&self) -> (Vec<String>, Vec<String>) {
        let options = self
            .forced
            .iter()
            .map(|(t, lease)| format!("--force-with-lease=refs/tags/{t}:{lease}"))
            .collect();
        // No `+` on the forced ones: it would override their lease.
        let specs = self
            .tags
            .keys()
            .map(|t| format!("refs/tags/{t}:refs/tags/{t}"))
            .collect();
        (options, specs)
    }

    fn deletion_specs(&self) -> (Vec<String>, Vec<String>) {
        let options = self
            .deletions
            .iter()
            .map(|(t, lease)| format!("--force-with-lease=refs/tags/{t}:{lease}"))
            .collect();
        let specs = self
            .deletions
            .keys()
            .map(|t| format!(":refs/tags/{t}"))
            .collect();
        (options, specs)
    }
}

/// Pushes `refs/notes/releases` and the release tags the remote lacks. Refuses while
/// a merge is unresolved or a release's tag moved; when the remote moved, fetches and
/// merges first (a conflict then stops the push, recorded, unless a side was chosen).
/// A refusal by the remote itself (a hook, a lock) is shown as git shows it.
pub fn push(repo: &Repo, remote: &str, options: PushOptions) -> Result<Pushed> {
    check_remote_name(remote)?;
    let action = format!("pushing releases to {remote}");
    // Pending records are never published: what an interrupted command left is settled
    // first, and a command still writing is waited for (a matter of milliseconds).
    leftovers::sweep(repo)?;
    let waiting_since = std::time::Instant::now();
    while !leftovers::in_flight(repo).is_empty() && waiting_since.elapsed() < IN_FLIGHT_WAIT {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    resolve::refuse_if_blocked(repo, &action)?;
    let slug = slug(repo, remote);
    let mut merges = Vec::new();
    // The previous attempt's rejection, with the local notes it pushed.
    let mut last_rejection: Option<(String, Oid)> = None;
    for attempt in 1..=PUSH_ATTEMPTS {
        let Ok(local_notes) = repo.git().refname_to_id(NOTES_REF) else {
            return Err(Error::Refused {
                action,
                reason: "there are no releases here yet".into(),
            });
        };
        let advertised = ask(repo, remote, &action)?;
        let plan = plan_push(repo, &slug, local_notes, &advertised)?;
        if plan.is_empty() {
            return Ok(Pushed {
                tags: Vec::new(),
                deleted_tags: Vec::new(),
                notes: false,
                merges,
            });
        }
        let outcome = if options.atomic {
            send_atomic(repo, remote, &plan)?
        } else {
            send_in_order(repo, remote, &plan)?
        };
        match outcome {
            Sent::Done => {
                failpoint::reach(failpoint::PUSH_SENT);
                remember_pushed(repo, &slug, local_notes, &plan)?;
                return Ok(Pushed {
                    tags: plan.tags.keys().cloned().collect(),
                    deleted_tags: plan.deletions.keys().cloned().collect(),
                    notes: plan.notes,
                    merges,
                });
            }
            Sent::Refused(error) => return Err(error),
            Sent::RemoteMoved(detail) if attempt == PUSH_ATTEMPTS => {
                return Err(Error::Refused {
                    action,
                    reason: format!(
                        "{remote} kept changing while pushing ({PUSH_ATTEMPTS} attempts): {detail}"
                    ),
                });
            }
            Sent::RemoteMoved(detail) => {
                let again = (detail, local_notes);
                if last_rejection.as_ref() == Some(&again) {
                    let detail = again.0;
                    // Fetching changed nothing here and the remote refused the same
                    // again: no retry will do better.
                    return Err(Error::Refused {
                        action,
                        reason: format!(
                            "{remote} refused it again after a fetch that found nothing to \
                             merge or settle: {detail}"
                        ),
                    });
                }
                last_rejection = Some(again);
            }
        }
        // The remote moved on: bring its notes and tags in, merge, and push the
        // merge — unless that left something to settle.
        let fetched = fetch(repo, remote, options.choice)?;
        merges.extend(fetched.merge);
        resolve::refuse_if_blocked(repo, &action)?;
    }
    unreachable!("the last attempt returns")
}

/// What to send: the notes unless the remote has them, and every release tag the
/// remote does not hold at the local value (forced, under a lease, where a choice
/// made here overrides the remote's).
fn plan_push(repo: &Repo, slug: &str, local_notes: Oid, advertised: &Advertised) -> Result<Plan> {
    let listing = release::list(repo)?;
    let mut local: BTreeMap<String, Oid> = BTreeMap::new();
    for found in &listing.releases {
        if let Some(target) = found.tag_target {
            local.insert(found.tag.clone(), target);
        }
    }
    let forced = tags_to_force(repo, slug, &local, advertised)?;
    let tags = local
        .into_iter()
        .filter(|(tag, here)| advertised.tags.get(tag) != Some(here))
        .collect();
    Ok(Plan {
        notes: advertised.notes != Some(local_notes),
        tags,
        forced,
        deletions: deletions_due(repo, advertised)?,
    })
}

/// The remote's tags to delete: recorded as deleted with their release (and no release
/// of that name here since), still on the remote at the very object deleted.
fn deletions_due(repo: &Repo, advertised: &Advertised) -> Result<BTreeMap<String, Oid>> {
    let snapshot = Snapshot::read(repo.git())?;
    let mut out = BTreeMap::new();
    for deleted in snapshot.deleted_tags()? {
        if advertised.tags.get(&deleted.tag) == Some(&deleted.target)
            && snapshot.index_entry(&deleted.tag)?.is_none()
        {
            out.insert(deleted.tag, deleted.target);
        }
    }
    Ok(out)
}

/// How one push went.
enum Sent {
    Done,
    /// The remote's notes or tags are not what the push was made against.
    RemoteMoved(String),
    /// Refused for good (by the remote, or git could not push): shown to the user.
    Refused(Error),
}

/// One atomic push: the notes are published with their tags or not at all. Were a tag
/// refused (the remote has another tag of that name) after the notes went, the remote
/// would hold a record whose tag points elsewhere.
fn send_atomic(repo: &Repo, remote: &str, plan: &Plan) -> Result<Sent> {
    let (mut options, mut specs) = plan.tag_specs();
    let (deletion_options, deletion_specs) = plan.deletion_specs();
    options.insert(0, "--atomic".into());
    options.extend(deletion_options);
    specs.extend(deletion_specs);
    if plan.notes {
        specs.insert(0, format!("{NOTES_REF}:{NOTES_REF}"));
    }
    let pushed = transport::push(repo, remote, &options, &specs)?;
    Ok(judge(remote, &pushed, true))
}

/// Without atomic pushes: the tags first, then the notes, so that the remote never
/// holds a record whose tag is not there. Should the notes be refused after the tags
/// went, the remote keeps tags without their releases (plain tags) until the next push.
fn send_in_order(repo: &Repo, remote: &str, plan: &Plan) -> Result<Sent> {
    let (options, specs) = plan.tag_specs();
    if !specs.is_empty() {
        let pushed = transport::push(repo, remote, &options, &specs)?;
        let sent = judge(remote, &pushed, false);
        if !matches!(sent, Sent::Done) {
            return Ok(sent);
        }
    }
    if plan.notes {
        let pushed = transport::push(repo, remote, &[], &[format!("{NOTES_REF}:{NOTES_REF}")])?;
        let sent = judge(remote, &pushed, false);
        if !matches!(sent, Sent::Done) {
            return Ok(sent);
        }
    }
    // Deleted tags last: the releases they belonged to are gone from the remote first.
    let (options, specs) = plan.deletion_specs();
    if !specs.is_empty() {
        let pushed = transport::push(repo, remote, &options, &specs)?;
        return Ok(judge(remote, &pushed, false));
    }
    Ok(Sent::Done)
}

/// Reads git's report of a push.
fn judge(remote: &str, pushed: &transport::Pushed, atomic: bool) -> Sent {
    if pushed.success {
        return Sent::Done;
    }
    let rejected: Vec<&transport::RefReport> = pushed
        .refs
        .iter()
        .filter(|r| r.rejected() && !r.rejected_with_the_others())
        .collect();
    let describe = |refs: &[&transport::RefReport]| {
        refs.iter()
            .map(|r| format!("{} {}", r.remote_ref, r.summary))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !rejected.is_empty() && rejected.iter().all(|r| r.remote_moved()) {
        return Sent::RemoteMoved(describe(&rejected));
    }
    if pushed.refs.is_empty() && atomic && pushed.message.contains("atomic") {
        return Sent::Refused(Error::AtomicPushUnsupported {
            remote: remote.to_owned(),
            message: pushed.message.clone(),
        });
    }
    Sent::Refused(Error::PushRefused {
        remote: remote.to_owned(),
        refs: describe(&rejected),
        message: pushed.message.clone(),
    })
}

/// After a push: the remote holds what was sent.
fn remember_pushed(repo: &Repo, slug: &str, local_notes: Oid, plan: &Plan) -> Result<()> {
    let git = repo.git();
    let _ = git.reference(
        &tracking_ref(slug),
        local_notes,
        true,
        "git-release: pushed",
    );
    for (tag, target) in &plan.tags {
        let _ = git.reference(
            &format!("{}{tag}", remote_tags::namespace(slug)),
            *target,
            true,
            "git-release: pushed",
        );
    }
    for tag in plan.forced.keys() {
        kept_tags::forget(repo, slug, tag)?;
    }
    for tag in plan.deletions.keys() {
        if let Ok(mut r) = git.find_reference(&format!("{}{tag}", remote_tags::namespace(slug))) {
            let _ = r.delete();
        }
    }
    Ok(())
}

/// A remote name or URL is handed to git as one argument; refuse what git would read
/// as an option.
fn check_remote_name(remote: &str) -> Result<()> {
    if remote.is_empty() || remote.starts_with('-') {
        return Err(Error::invalid(
            "remote",
            remote,
            "a remote name or URL cannot be empty or start with '-'",
        ));
    }
    Ok(())
}

/// The commit the remote-tracking notes ref holds, if any.
pub fn tracked(repo: &Repo, remote: &str) -> Option<Oid> {
    repo.git()
        .refname_to_id(&tracking_ref(&slug(repo, remote)))
        .ok()
}

/// Where sharing stands with one remote.
#[derive(Debug)]
pub struct Status {
    pub remote: String,
    pub unresolved: Vec<(String, StoreConflict)>,
    /// Releases whose tag moved: not published until settled.
    pub moved: Vec<retag::MovedTag>,
    /// Local notes commits the remote has not got (as last seen).
    pub unpushed: usize,
    /// The remote's notes commit now: `Ok(None)` when it has no releases, `Err`
    /// with git's message when it could not be asked (or its ref is no notes commit).
    pub remote_tip: std::result::Result<Option<Oid>, String>,
    /// Whether the remote holds notes commits not fetched here.
    pub unfetched: Option<bool>,
    /// Something wrong with the refs kept here for the remote.
    pub problems: Vec<String>,
}

pub fn status(repo: &Repo, remote: &str, ask_remote: bool) -> Result<Status> {
    check_remote_name(remote)?;
    let git2 = repo.git();
    let unresolved = resolve::unresolved(repo)?;
    let moved = retag::moved(repo)?;
    let local = git2.refname_to_id(NOTES_REF).ok();
    let tracking = tracking_ref(&slug(repo, remote));
    let mut problems = Vec::new();
    let seen = match git2.refname_to_id(&tracking).ok() {
        Some(id) if git2.find_commit(id).is_err() => {
            problems.push(format!(
                "{tracking} ({remote}'s {NOTES_REF} as last fetched) points at {} ({id}), not a \
                 notes commit: `git update-ref -d {}` forgets it",
                kind_of(repo, id),
                crate::text::shell_quote(&tracking)
            ));
            None
        }
        other => other,
    };
    let unpushed = match local {
        None => 0,
        Some(local) => {
            let walk_error = |e| Error::git("cannot walk the notes history", e);
            let mut walk = git2.revwalk().map_err(walk_error)?;
            walk.push(local).map_err(walk_error)?;
            if let Some(seen) = seen {
                walk.hide(seen).map_err(walk_error)?;
            }
            walk.count()
        }
    };
    let (remote_tip, unfetched) = if ask_remote {
        match transport::advertised(repo, remote, NOTES_REF)? {
            Ok(advertised) => match advertised.notes {
                Some(tip)
                    if git2.find_object(tip, None).is_ok() && git2.find_commit(tip).is_err() =>
                {
                    (Err(not_a_notes_commit(repo, remote, tip)), None)
                }
                tip => {
                    let unfetched = match (tip, local) {
                        (None, _) => false,
                        (Some(t), Some(l)) if t == l => false,
                        (Some(t), Some(l)) => {
                            git2.find_commit(t).is_err()
                                || !git2.graph_descendant_of(l, t).unwrap_or(false)
                        }
                        (Some(_), None) => true,
                    };
                    (Ok(tip), Some(unfetched))
                }
            },
            Err(message) => (Err(message), None),
        }
    } else {
        (Err("not asked (--offline)".into()), None)
    };
    Ok(Status {
        remote: remote.to_owned(),
        unresolved,
        moved,
        unpushed,
        remote_tip,
        unfetched,
        problems,
    })
}
