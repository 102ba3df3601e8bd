//! Sharing releases with another repository through the user's own `git` (so their
//! credentials, SSH configuration and transports apply): fetch the remote's notes
//! into `refs/notes/remotes/<remote>/releases` and its tags into
//! `refs/release-remotes/<remote>/tags/`, adopt the tags missing here, and merge the
//! notes; push the notes ref (never forced) with the tags that have releases,
//! merging first when the remote moved. Arguments go to git as argv, never through a
//! shell.
//!
//! A merge with conflicts nobody chose a side for is recorded as unresolved
//! (`store::merge_state`); until it is settled, nothing is pushed.

use std::process::{Command, Output};

use git2::Oid;

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::release;
use crate::share::kept_tags;
use crate::share::resolve::{self, Side};
use crate::store::merge_state::{self, MergeState};
use crate::store::three_way::Prefer;
use crate::store::three_way::Step;
use crate::store::{ConflictKind, Document, MergeOutcome, NOTES_REF, Store, StoreConflict};

/// How many times a push is retried after merging what the remote gained meanwhile.
const PUSH_ATTEMPTS: usize = 3;

pub fn tracking_ref(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/releases")
}

/// Where the remote's tags are fetched to before they are adopted.
fn tags_namespace(slug: &str) -> String {
    format!("refs/release-remotes/{slug}/tags/")
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

fn git(repo: &Repo, args: &[&str]) -> Result<Output> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(repo.git_dir()).args(args);
    cmd.output().map_err(|source| Error::Io {
        what: "cannot run git".into(),
        source,
    })
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).trim().to_owned()
}

#[derive(Debug, Default)]
pub struct Fetched {
    /// `None` when the remote has no releases yet.
    pub merge: Option<MergeOutcome>,
    /// Conflicts recorded by an earlier fetch, settled now by the side chosen.
    pub settled: resolve::Settled,
    /// Every conflict still unresolved after this fetch (any remote), with its remote.
    pub unresolved: Vec<(String, StoreConflict)>,
    /// Tags of the remote that differ from the local ones (kept as they are).
    pub tag_notices: Vec<String>,
}

/// Fetches the remote's tags and release notes and merges the notes into ours.
/// With a side chosen, conflicts an earlier fetch from this remote recorded are
/// settled first, and new ones are settled that way; without, new conflicts keep
/// the local values and are recorded as unresolved.
pub fn fetch(repo: &Repo, remote: &str, choice: Option<Side>) -> Result<Fetched> {
    check_remote_name(remote)?;
    let slug = slug(repo, remote);
    let state_ref = merge_state::state_ref(&slug);
    // Read (and so checked) before anything changes: a corrupt state stops here.
    let states = merge_state::read_all(repo.git())?;
    let mut fetched = Fetched::default();
    if let Some(side) = choice {
        if let Some(recorded) = states.iter().find(|r| r.reference == state_ref) {
            fetched.settled = resolve::settle(repo, recorded, &|_| true, side)?;
        }
    }

    let tracking = tracking_ref(&slug);
    // The partial glob matches nothing (instead of failing) when the remote has no
    // releases yet; only `refs/notes/releases` itself is used.
    let notes_spec = format!("+refs/notes/releases*:{tracking}*");
    let tags_spec = format!("+refs/tags/*:{}*", tags_namespace(&slug));
    let out = git(
        repo,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            remote,
            &notes_spec,
            &tags_spec,
        ],
    )?;
    if !out.status.success() {
        return Err(Error::Refused {
            action: format!("fetching releases from {remote}"),
            reason: format!("git fetch failed: {}", stderr_of(&out)),
        });
    }
    fetched.tag_notices = adopt_tags(repo, &slug, remote)?;
    let theirs = match repo.git().refname_to_id(&tracking) {
        Ok(id) => id,
        Err(_) => {
            fetched.unresolved = resolve::unresolved(repo)?;
            return Ok(fetched);
        }
    };
    let prefer = choice.map_or(Prefer::Ours, Side::prefer);
    let mut merge = Store::new(repo).merge_from(theirs, remote, prefer)?;
    if choice == Some(Side::Theirs) {
        for c in merge
            .conflicts
            .iter()
            .filter(|c| c.kind == ConflictKind::TagCommit)
        {
            resolve::take_their_tag(repo, c)?;
        }
    }
    if choice.is_none() && !merge.conflicts.is_empty() {
        record(repo, &state_ref, remote, theirs, &merge, &merge.conflicts)?;
    }
    let (notices, tag_conflicts) = align_tags(repo, &slug, remote, theirs, fetched.tag_notices)?;
    fetched.tag_notices = notices;
    if !tag_conflicts.is_empty() {
        match choice {
            None => record(repo, &state_ref, remote, theirs, &merge, &tag_conflicts)?,
            Some(Side::Theirs) => {
                resolve::take_theirs(repo, remote, &tag_conflicts)?;
            }
            Some(Side::Ours) => resolve::keep_ours(repo, &slug, &tag_conflicts)?,
        }
    }
    merge.conflicts.extend(tag_conflicts);
    fetched.merge = Some(merge);
    fetched.unresolved = resolve::unresolved(repo)?;
    Ok(fetched)
}

/// Adds `found` (conflicts of `merge`, or the tag conflicts found beside it) to the
/// state recorded for the remote (a conflict on the same place replaces the earlier
/// one).
fn record(
    repo: &Repo,
    state_ref: &str,
    remote: &str,
    theirs: Oid,
    merge: &MergeOutcome,
    found: &[StoreConflict],
) -> Result<()> {
    let current = merge_state::read(repo.git(), state_ref)?;
    let mut conflicts = current
        .as_ref()
        .map(|c| c.state.conflicts.clone())
        .unwrap_or_default();
    for c in found {
        conflicts.retain(|e| e.place() != c.place());
        conflicts.push(c.clone());
    }
    let state = MergeState {
        schema: 1,
        remote: remote.to_owned(),
        theirs: theirs.to_string(),
        base: merge.base.map(|b| b.to_string()),
        merged: merge
            .commit
            .map(|c| c.to_string())
            .unwrap_or_else(|| theirs.to_string()),
        conflicts,
    };
    merge_state::write(repo, state_ref, current.map(|c| c.commit), &state)
}

/// Creates the remote's tags that are missing here; reports those that differ.
fn adopt_tags(repo: &Repo, slug: &str, remote: &str) -> Result<Vec<String>> {
    let git = repo.git();
    let prefix = tags_namespace(slug);
    let mut found = Vec::new();
    let refs = git
        .references_glob(&format!("{prefix}*"))
        .map_err(|e| Error::git("cannot list the fetched tags", e))?;
    for r in refs {
        let r = r.map_err(|e| Error::git("cannot list the fetched tags", e))?;
        if let (Ok(name), Some(target)) = (r.name(), r.target()) {
            if let Some(tag) = name.strip_prefix(&prefix) {
                found.push((tag.to_owned(), target));
            }
        }
    }
    let mut notices = Vec::new();
    for (tag, target) in found {
        let local = format!("refs/tags/{tag}");
        match git.refname_to_id(&local) {
            Ok(here) if here == target => {}
            Ok(here) => notices.push(format!(
                "tag {tag} is {} here but {} on {remote}; kept the local tag",
                &here.to_string()[..12],
                &target.to_string()[..12]
            )),
            Err(_) => {
                git.reference_matching(
                    &local,
                    target,
                    true,
                    Oid::ZERO_SHA1,
                    &format!("git-release: tag {tag} from {remote}"),
                )
                .map_err(|e| Error::git(format!("cannot create tag {tag}"), e))?;
            }
        }
    }
    Ok(notices)
}

/// Tags that differ from the remote's: where the merged store records the remote's
/// tag target for a release (the other clone's record won, by an explicit choice made
/// there or here), the local tag follows it. Where a release here sits on the local tag
/// and the remote has none for that name (`theirs` is the remote's notes commit), the
/// two are a tag conflict (`ConflictKind::TagTarget`), returned unless the local tag
/// was already chosen against that very remote tag. The others are reported and kept.
fn align_tags(
    repo: &Repo,
    slug: &str,
    remote: &str,
    theirs_notes: Oid,
    notices: Vec<String>,
) -> Result<(Vec<String>, Vec<StoreConflict>)> {
    if notices.is_empty() {
        return Ok((notices, Vec::new()));
    }
    let git = repo.git();
    let snapshot = crate::store::Snapshot::read(git)?;
    let theirs_store = crate::store::Snapshot::at(git, theirs_notes)?;
    let open = resolve::unresolved(repo)?;
    let prefix = tags_namespace(slug);
    let mut left = Vec::new();
    let mut conflicts = Vec::new();
    let refs = git
        .references_glob(&format!("{prefix}*"))
        .map_err(|e| Error::git("cannot list the fetched tags", e))?;
    let mut differing = Vec::new();
    for r in refs.flatten() {
        if let (Ok(name), Some(theirs)) = (r.name(), r.target()) {
            let tag = name.trim_start_matches(&prefix).to_owned();
            if let Ok(here) = git.refname_to_id(&format!("refs/tags/{tag}")) {
                if here != theirs {
                    differing.push((tag, here, theirs));
                }
            }
        }
    }
    for (tag, here, theirs) in differing {
        let settled = !open.iter().any(|(_, c)| c.subject == tag);
        let recorded = snapshot.recorded_tag_target(&tag)?;
        let name = crate::model::TagName::parse(&tag);
        if settled && recorded == Some(theirs) {
            if let Ok(name) = name {
                crate::git::tag::move_ref(repo, &name, here, theirs)?;
                continue;
            }
        }
        let released_here_only = settled
            && recorded == Some(here)
            && theirs_store.index_entry(&tag)?.is_none()
            && kept_tags::chosen_against(repo, slug, &tag) != Some(theirs);
        if released_here_only {
            if let Some(c) = tag_conflict(repo, &snapshot, &tag, here, theirs)? {
                conflicts.push(c);
                continue;
            }
        }
        left.push(format!(
            "tag {tag} is {} here but {} on {remote}; kept the local tag",
            &here.to_string()[..12],
            &theirs.to_string()[..12]
        ));
    }
    Ok((left, conflicts))
}

/// The conflict between the local release of `tag` (on tag object `here`) and the
/// remote's tag `theirs`, which has no release there.
fn tag_conflict(
    repo: &Repo,
    snapshot: &crate::store::Snapshot<'_>,
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

/// Release tags to push by force (with a lease on the remote's value): the remote's
/// tag differs, the remote's own store recorded that tag's release on it, and the
/// local store — which contains the remote's (it was merged) — records the local tag
/// instead: a conflict settled with --ours.
///
/// Also the tags whose conflict with a remote tag (no release there) was settled
/// --ours (`kept_tags`), while the remote's tag is still the one chosen against.
/// `tags` is sorted.
fn tags_to_force(repo: &Repo, slug: &str, tags: &[String]) -> Result<Vec<(String, Oid)>> {
    let git = repo.git();
    let mut out = Vec::new();
    // Choices are rare: list them once rather than look one up per release tag.
    for (tag, lease) in kept_tags::all(repo, slug) {
        if tags.binary_search(&tag).is_err() {
            continue;
        }
        let remote_tag = git
            .refname_to_id(&format!("{}{tag}", tags_namespace(slug)))
            .ok();
        let here = git.refname_to_id(&format!("refs/tags/{tag}")).ok();
        if remote_tag == Some(lease) && here.is_some_and(|h| h != lease) {
            out.push((tag, lease));
        }
    }
    let (Ok(tracked), Ok(local)) = (
        git.refname_to_id(&tracking_ref(slug)),
        git.refname_to_id(NOTES_REF),
    ) else {
        return Ok(out);
    };
    if !(local == tracked
        || git
            .graph_descendant_of(local, tracked)
            .map_err(|e| Error::git("cannot compare notes commits", e))?)
    {
        return Ok(out);
    }
    let theirs_store = crate::store::Snapshot::at(git, tracked)?;
    let ours_store = crate::store::Snapshot::read(git)?;
    for tag in tags {
        if out.iter().any(|(t, _)| t == tag) {
            continue;
        }
        let Ok(remote_tag) = git.refname_to_id(&format!("{}{tag}", tags_namespace(slug))) else {
            continue;
        };
        let Ok(here) = git.refname_to_id(&format!("refs/tags/{tag}")) else {
            continue;
        };
        if remote_tag == here {
            continue;
        }
        if theirs_store.recorded_tag_target(tag)? == Some(remote_tag)
            && ours_store.recorded_tag_target(tag)? == Some(here)
        {
            out.push((tag.clone(), remote_tag));
        }
    }
    Ok(out)
}

#[derive(Debug)]
pub struct Pushed {
    pub tags: Vec<String>,
    /// Merges made because the remote had moved.
    pub merges: Vec<MergeOutcome>,
}

/// Pushes `refs/notes/releases` and the tags that have releases. Refuses while a
/// merge is unresolved; when the remote moved, fetches and merges first (a conflict
/// then stops the push, recorded, unless a side was chosen).
pub fn push(repo: &Repo, remote: &str, choice: Option<Side>) -> Result<Pushed> {
    check_remote_name(remote)?;
    let action = format!("pushing releases to {remote}");
    resolve::refuse_if_unresolved(repo, &action)?;
    let listing = release::list(repo)?;
    let mut tags: Vec<String> = listing.releases.iter().map(|f| f.tag.clone()).collect();
    tags.sort();
    tags.dedup();
    let mut merges = Vec::new();
    let mut attempt = 0;
    loop {
        attempt += 1;
        if repo.git().refname_to_id(NOTES_REF).is_err() {
            return Err(Error::Refused {
                action,
                reason: "there are no releases here yet".into(),
            });
        }
        let forced = tags_to_force(repo, &slug(repo, remote), &tags)?;
        // Atomic: the notes are published with their tags or not at all. Were a tag
        // refused (the remote has another tag of that name) after the notes went, the
        // remote would hold a record whose tag points elsewhere.
        let mut args = vec!["push".to_owned(), "--porcelain".into(), "--atomic".into()];
        args.extend(
            forced
                .iter()
                .map(|(t, lease)| format!("--force-with-lease=refs/tags/{t}:{lease}")),
        );
        args.push(remote.to_owned());
        args.push(format!("{NOTES_REF}:{NOTES_REF}"));
        // No `+` on the forced ones: it would override their lease.
        args.extend(tags.iter().map(|t| format!("refs/tags/{t}:refs/tags/{t}")));
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = git(repo, &arg_refs)?;
        if out.status.success() {
            // What the remote now holds is what we pushed.
            let slug = slug(repo, remote);
            if let Ok(pushed) = repo.git().refname_to_id(NOTES_REF) {
                let _ =
                    repo.git()
                        .reference(&tracking_ref(&slug), pushed, true, "git-release: pushed");
            }
            for (tag, _) in &forced {
                kept_tags::forget(repo, &slug, tag)?;
            }
            return Ok(Pushed { tags, merges });
        }
        let report = String::from_utf8_lossy(&out.stdout);
        // Refused for its own sake, not only because another ref of the atomic push was.
        let rejected: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with('!') && !l.contains("atomic push failed"))
            .collect();
        // A tag refused is a remote tag not seen yet (or changed since the choice
        // to overwrite it): fetching finds it as a conflict, like moved notes.
        let moved_on = rejected
            .iter()
            .any(|l| l.contains(&format!("{NOTES_REF}:{NOTES_REF}")) || l.contains("\trefs/tags/"));
        if !moved_on || attempt == PUSH_ATTEMPTS {
            let detail = if rejected.is_empty() {
                stderr_of(&out)
            } else {
                rejected.join("; ")
            };
            return Err(Error::Refused {
                action,
                reason: format!("git push failed: {detail}"),
            });
        }
        // The remote moved on: bring its notes and tags in, merge, and push the
        // merge — unless that left conflicts to settle.
        let fetched = fetch(repo, remote, choice)?;
        merges.extend(fetched.merge);
        resolve::refuse_if_unresolved(repo, &action)?;
    }
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
    /// Local notes commits the remote has not got (as last seen).
    pub unpushed: usize,
    /// The remote's notes commit now: `Ok(None)` when it has no releases, `Err`
    /// with git's message when it could not be asked.
    pub remote_tip: std::result::Result<Option<Oid>, String>,
    /// Whether the remote holds notes commits not fetched here.
    pub unfetched: Option<bool>,
}

pub fn status(repo: &Repo, remote: &str, ask_remote: bool) -> Result<Status> {
    check_remote_name(remote)?;
    let git2 = repo.git();
    let unresolved = resolve::unresolved(repo)?;
    let local = git2.refname_to_id(NOTES_REF).ok();
    let seen = tracked(repo, remote);
    let unpushed = match local {
        None => 0,
        Some(local) => {
            let mut walk = git2
                .revwalk()
                .map_err(|e| Error::git("cannot walk the notes history", e))?;
            walk.push(local)
                .map_err(|e| Error::git("cannot walk the notes history", e))?;
            if let Some(seen) = seen {
                walk.hide(seen)
                    .map_err(|e| Error::git("cannot walk the notes history", e))?;
            }
            walk.count()
        }
    };
    let (remote_tip, unfetched) = if ask_remote {
        let out = git(repo, &["ls-remote", "--refs", remote, NOTES_REF])?;
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let tip = text
                .split_whitespace()
                .next()
                .and_then(|h| Oid::from_str(h).ok());
            let unfetched = match (tip, local) {
                (None, _) => false,
                (Some(t), Some(l)) if t == l => false,
                (Some(t), Some(l)) => {
                    git2.find_commit(t).is_err() || !git2.graph_descendant_of(l, t).unwrap_or(false)
                }
                (Some(_), None) => true,
            };
            (Ok(tip), Some(unfetched))
        } else {
            (Err(stderr_of(&out)), None)
        }
    } else {
        (Err("not asked (--offline)".into()), None)
    };
    Ok(Status {
        remote: remote.to_owned(),
        unresolved,
        unpushed,
        remote_tip,
        unfetched,
    })
}
