//! What the pre-push hook decides: git hands it one line per ref being pushed
//! (`<local ref> <local sha> <remote ref> <remote sha>`); pushing tags is refused
//! during a deploy freeze and when a release's tag no longer is what the release
//! recorded. Reads only: a push of `refs/notes/releases` may be in flight, and the
//! hook must be fast (ref lookups and small notes, no archive work, no network).

use git2::Oid;

use crate::audit::checks::{self, Problem};
use crate::audit::protected::{Finding, Guard};
use crate::audit::verify;
use crate::error::{Error, Result};
use crate::git::protection::RulesChoice;
use crate::git::repo::Repo;
use crate::git::sign::Verifier;
use crate::plan::freeze;
use crate::release;
use crate::share::config::FreezePolicy;
use crate::share::remote::tracking_ref;
use crate::share::resolve;
use crate::store::NOTES_REF;
use crate::time::Timestamp;

/// The environment variable that lets tags through a deploy freeze.
pub const ALLOW_FREEZE_VARIABLE: &str = "GIT_RELEASE_ALLOW_FREEZE";

/// One line of the hook's standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    /// All zeros when the remote ref is being deleted.
    pub local: Oid,
    pub remote_ref: String,
    pub remote: Oid,
}

impl PushedRef {
    pub fn is_deletion(&self) -> bool {
        self.local.is_zero()
    }

    /// The tag name when this pushes (not deletes) a tag.
    pub fn pushed_tag(&self) -> Option<&str> {
        if self.is_deletion() {
            return None;
        }
        self.remote_ref.strip_prefix("refs/tags/")
    }
}

/// Whether this line publishes (not deletes) the release notes.
pub fn pushes_notes(r: &PushedRef) -> bool {
    r.remote_ref == NOTES_REF && !r.is_deletion()
}

/// Parses git's pre-push input. Blank lines are ignored; anything else malformed is an
/// error naming the line.
pub fn parse_input(text: &str) -> Result<Vec<PushedRef>> {
    let mut refs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: &str| {
            Error::invalid(
                "pre-push input line",
                line,
                format!("line {}: {reason}", n + 1),
            )
        };
        let fields: Vec<&str> = line.split(' ').collect();
        let [local_ref, local, remote_ref, remote] = fields[..] else {
            return Err(bad(
                "expected `<local ref> <local sha> <remote ref> <remote sha>`",
            ));
        };
        let oid = |text: &str| Oid::from_str(text).map_err(|_| bad("not an object id"));
        refs.push(PushedRef {
            local_ref: local_ref.to_owned(),
            local: oid(local)?,
            remote_ref: remote_ref.to_owned(),
            remote: oid(remote)?,
        });
    }
    Ok(refs)
}

/// How the hook behaves (`hook.freeze`, `hook.verify`, the override variable).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub freeze: FreezePolicy,
    pub verify: bool,
    /// `GIT_RELEASE_ALLOW_FREEZE=1`.
    pub allow_freeze: bool,
    /// `release.requireSignedTags`: a release tag must carry a signature by an allowed
    /// key (checked as `git verify-tag` checks it).
    pub require_signed_tags: bool,
    pub now: Timestamp,
}

/// The hook's decision and what to tell the user.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Reasons to refuse the push; empty when it may go ahead.
    pub refusals: Vec<Refusal>,
    pub warnings: Vec<String>,
    /// Said even though nothing is wrong (e.g. a freeze overridden).
    pub notices: Vec<String>,
}

#[derive(Debug)]
pub enum Refusal {
    Frozen {
        freeze: freeze::Active,
        tags: Vec<String>,
    },
    Unverified(Problem),
    /// A release could not be read, so it could not be checked.
    Unreadable {
        tag: String,
        error: String,
    },
    /// Unresolved conflicts or moved release tags, while the notes are pushed.
    Unsettled {
        problems: Vec<String>,
    },
    /// A tag deleted with its release (`delete --with-tag`), pushed back.
    Deleted {
        tag: String,
    },
    /// A protected tag not signed by a key its rule allows.
    Protected {
        tag: String,
        rule: String,
        reason: String,
    },
    /// The protected-tag rules cannot be read, so no tag can be checked against them.
    Rules {
        error: String,
    },
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Decides on a push of `refs` to `remote` (a remote name, or a URL when git was given
/// one).
pub fn check(repo: &Repo, remote: &str, refs: &[PushedRef], policy: Policy) -> Result<Verdict> {
    let mut verdict = Verdict::default();
    // The notes ref carries merges: never one whose conflicts nobody settled, nor
    // releases whose tags moved (what `git release push` refuses, refused here for a
    // plain `git push` of the notes).
    if refs.iter().any(pushes_notes) {
        let blocking = resolve::blocking(repo)?;
        if !blocking.is_empty() {
            verdict.refusals.push(Refusal::Unsettled {
                problems: blocking.lines(),
            });
        }
    }
    let tags: Vec<(&str, Oid)> = refs
        .iter()
        .filter_map(|r| r.pushed_tag().map(|t| (t, r.local)))
        .collect();
    // Branch pushes and tag deletions are none of the hook's business.
    if tags.is_empty() {
        return Ok(verdict);
    }
    let names: Vec<String> = tags.iter().map(|(t, _)| (*t).to_owned()).collect();

    if let Some(active) = freeze::active_at(repo, policy.now)? {
        let periods = describe_periods(&active.periods);
        let summary = format!(
            "a deploy freeze is in force ({periods}, until {})",
            active.ends_at
        );
        if policy.allow_freeze {
            verdict.notices.push(format!(
                "{summary}; pushing tag(s) {} anyway because {ALLOW_FREEZE_VARIABLE}=1",
                names.join(", ")
            ));
        } else if policy.freeze == FreezePolicy::Warn {
            verdict.warnings.push(format!(
                "{summary}; pushing tag(s) {} anyway (hook.freeze = warn)",
                names.join(", ")
            ));
        } else {
            verdict.refusals.push(Refusal::Frozen {
                freeze: active,
                tags: names.clone(),
            });
        }
    }

    let snapshot = crate::store::Snapshot::read(repo.git())?;
    for (tag, pushed) in &tags {
        if snapshot.deleted_tag_targets(tag)?.contains(pushed)
            && snapshot.index_entry(tag)?.is_none()
        {
            verdict.refusals.push(Refusal::Deleted {
                tag: (*tag).to_owned(),
            });
        }
    }

    // Protected tags: every pushed tag a rule with keys matches must be signed by one
    // of them (the tag, or its release's evidence where the rule takes it).
    match Guard::load(
        repo,
        &RulesChoice::Configured {
            remote: remote.to_owned(),
        },
    ) {
        Err(e) => verdict.refusals.push(Refusal::Rules {
            error: e.to_string(),
        }),
        Ok(guard) => {
            for (tag, pushed) in &tags {
                if !guard.guards(tag) {
                    continue;
                }
                let found = release::find(repo, tag).ok();
                let release = found.as_ref().map(|f| (&snapshot, f));
                if let Some(Finding::Refused { rule, reason }) = guard.check(tag, *pushed, release)
                {
                    verdict.refusals.push(Refusal::Protected {
                        tag: (*tag).to_owned(),
                        rule,
                        reason,
                    });
                }
            }
        }
    }

    let mut release_tags = Vec::new();
    let mut verifier = None;
    for (tag, pushed) in &tags {
        let found = match release::find(repo, tag) {
            Ok(found) => found,
            Err(Error::ReleaseNotFound { .. }) => continue,
            Err(e) => {
                if policy.verify {
                    verdict.refusals.push(Refusal::Unreadable {
                        tag: (*tag).to_owned(),
                        error: e.to_string(),
                    });
                }
                continue;
            }
        };
        release_tags.push((*tag).to_owned());
        if policy.require_signed_tags {
            if verifier.is_none() {
                verifier = Some(Verifier::configured(repo)?);
            }
            let verifier = verifier.as_ref().expect("set above");
            if let Some(problem) =
                verify::check_required_tag_signature(repo, verifier, tag, *pushed)
            {
                verdict.refusals.push(Refusal::Unverified(problem));
            }
        }
        if !policy.verify {
            continue;
        }
        let mut problems = checks::check_release(repo, &found);
        if problems.is_empty() {
            problems = checks::check_pushed_target(repo, &found, *pushed);
        }
        verdict
            .refusals
            .extend(problems.into_iter().map(Refusal::Unverified));
    }

    if !release_tags.is_empty() && !notes_reach_remote(repo, remote, refs) {
        verdict.warnings.push(format!(
            "pushing release tag(s) {} to {remote}, but not {NOTES_REF}, and {remote} is not known \
             to have your releases: run `git release push {remote}` to share them",
            release_tags.join(", ")
        ));
    }
    Ok(verdict)
}

/// Whether the remote will have (or is known to have) our release notes: they are in
/// this push, or the remote-tracking copy already contains them.
fn notes_reach_remote(repo: &Repo, remote: &str, refs: &[PushedRef]) -> bool {
    if refs
        .iter()
        .any(|r| r.remote_ref == NOTES_REF && !r.is_deletion())
    {
        return true;
    }
    let git = repo.git();
    let Ok(local) = git.refname_to_id(NOTES_REF) else {
        return true;
    };
    // A URL is no valid ref component: then nothing is known about the remote.
    let Ok(tracked) = git.refname_to_id(&tracking_ref(remote)) else {
        return false;
    };
    tracked == local || git.graph_descendant_of(tracked, local).unwrap_or(false)
}

fn describe_periods(ids: &[u64]) -> String {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    match ids.len() {
        1 => format!("freeze period {}", list[0]),
        _ => format!("freeze periods {}", list.join(", ")),
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Frozen { freeze, tags } => write!(
                f,
                "pushing tag(s) {} refused: a deploy freeze is in force ({}, since {}, until {})",
                tags.join(", "),
                describe_periods(&freeze.periods),
                freeze.started_at,
                freeze.ends_at
            ),
            Refusal::Unverified(problem) => {
                write!(f, "pushing tag {} refused: {problem}", problem.tag())
            }
            Refusal::Unreadable { tag, error } => write!(
                f,
                "pushing tag {tag} refused: its release cannot be checked: {error}"
            ),
            Refusal::Deleted { tag } => write!(
                f,
                "pushing tag {tag} refused: it was deleted with its release \
                 (`git release delete --with-tag`); `git tag -d {}` deletes it here too",
                crate::text::shell_quote(tag)
            ),
            Refusal::Protected { tag, rule, reason } => write!(
                f,
                "pushing tag {tag} refused: it is protected by {rule}, and no key it allows signed it: {reason}"
            ),
            Refusal::Rules { error } => write!(
                f,
                "pushing tags refused: the protected-tag rules cannot be read: {error}"
            ),
            Refusal::Unsettled { problems } => write!(
                f,
                "pushing {NOTES_REF} refused: {} thing(s) to settle first (`git release status`; \
                 `git release resolve <tag> --ours|--theirs`, `git release retag <tag> \
                 --restore|--follow`):\n  {}",
                problems.len(),
                problems.join("\n  ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_pre_push_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let text =
            format!("refs/tags/v1 {a} refs/tags/v1 {zero}\n(delete) {zero} refs/tags/old {a}\n\n");
        let refs = parse_input(&text).unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].pushed_tag(), Some("v1"));
        assert!(refs[1].is_deletion());
        assert_eq!(refs[1].pushed_tag(), None);
        assert!(parse_input("refs/heads/main abc").is_err());
    }
}
