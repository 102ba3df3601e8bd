//! What the user can do about an error: the hint printed under it. Hints name
//! command-line flags and commands, so they live here, where the command line is, and
//! never reach the library's other callers (`serve`'s HTTP clients).

use git_release::Error;

/// A sentence telling the user how to get past `error`, where one exists.
pub fn hint(error: &Error) -> Option<String> {
    // Commands in hints are pasted into a shell: every name in them is quoted.
    let q = git_release::text::shell_quote;
    match error {
        Error::NotARepository { .. } => {
            Some("run git release inside a git repository, or pass -C <path>".into())
        }
        Error::RefNotSpecified { .. } => {
            Some("use --ref to say where to create the tag (a branch, tag or commit)".into())
        }
        Error::UnknownTag { tag } => Some(format!(
            "create the tag with `git tag {}`, or pass --ref to create it with the release",
            q(tag)
        )),
        Error::ReleaseExists { tag } => Some(format!(
            "use `git release update {0}` to change it, or `git release delete {0}` first",
            q(tag)
        )),
        Error::ReleaseBeingCreated { .. } => Some(
            "wait for the other process; if it was killed, its claim expires within a minute"
                .into(),
        ),
        Error::ReleaseNotFound { .. } | Error::NoReleases => {
            Some("`git release list` shows the releases that exist".into())
        }
        Error::MilestoneNotFound { .. } => {
            Some("`git release milestone list` shows the milestones that exist".into())
        }
        Error::MilestoneExists { title } => Some(format!(
            "milestone titles are unique: pick another title or use `git release milestone update {}`",
            q(title)
        )),
        Error::NoCommits { .. } => Some(
            "make a first commit (`git commit`), then create the release on it".into(),
        ),
        Error::IssueNotFound { milestone, .. } => Some(format!(
            "`git release milestone view {}` lists its issues with their ids",
            q(milestone)
        )),
        Error::IssueExists { milestone, id, .. } => Some(format!(
            "change that one with `git release milestone issue update {} {id}`",
            q(milestone)
        )),
        Error::FreezeNotFound { .. } => {
            Some("`git release freeze list` shows the freeze periods and their ids".into())
        }
        Error::InvalidCron { .. } => Some(
            "use 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 23 * * fri\""
                .into(),
        ),
        Error::UnknownTimeZone { .. } => Some(
            "use an IANA time zone name such as UTC, Europe/Berlin or America/New_York".into(),
        ),
        Error::SchemaTooNew { location, .. } if location.contains(" fetched from ") => Some(
            "upgrade git-release to take in that remote's releases; nothing was changed here"
                .into(),
        ),
        Error::SchemaTooNew { .. } => Some(
            "upgrade git-release: this version never rewrites what it cannot read".into(),
        ),
        Error::Corrupt { location, .. } if location.contains(" fetched from ") => Some(
            "the remote's release store is damaged; nothing was changed here (`git release doctor` in a clone that pushed it says how to repair it)"
                .into(),
        ),
        Error::Corrupt { location, .. }
            if ["project.json", "milestones.json", "freezes.json"]
                .iter()
                .any(|file| location == &format!("refs/notes/releases:{file}")) =>
        {
            Some(format!(
                "`git release doctor --repair` takes back the last readable version of {} from the notes history (`git release doctor` first shows what is wrong)",
                location.trim_start_matches("refs/notes/releases:")
            ))
        }
        Error::Corrupt { location, .. } if location.starts_with("refs/notes/releases") || location.starts_with("the note on commit") || location.starts_with("release ") => Some(
            "`git release doctor` says what is wrong and which command repairs it".into(),
        ),
        Error::FileExists { .. } => Some("pass --force to overwrite it".into()),
        Error::LinkNotFound { tag, .. } => Some(format!(
            "`git release link list {}` shows the links with their ids and names",
            q(tag)
        )),
        Error::AssetNotFound { known, .. } if known.is_empty() => {
            Some("this release has no asset links".into())
        }
        Error::AssetNotFound { known, .. } => Some(format!("known: {}", known.join(", "))),
        Error::DuplicateLink { .. } => {
            Some("names, URLs and direct asset paths must be unique within a release".into())
        }
        Error::DigestMismatch { .. } => Some(
            "the asset changed since its digest was recorded; if that is expected, record the new one with `git release link update --sha256`".into(),
        ),
        Error::ArchiveRevision { .. } => {
            Some("`git tag --list` shows the tags that exist".into())
        }
        Error::MissingObject { .. } => Some(
            "the repository lacks objects: fetch them again, and check it with `git fsck`"
                .into(),
        ),
        Error::EvidenceNotDue { .. } => Some(
            "`git release evidence collect --due` (run by every write command) collects it when released_at has passed"
                .into(),
        ),
        Error::EvidenceNotFound { tag, .. } => Some(format!(
            "`git release evidence list {0}` shows its snapshots; `git release evidence collect {0}` takes one",
            q(tag)
        )),
        Error::Contention {
            lock: Some(lock), ..
        } => Some(format!(
            "if no git or git-release process is running in this repository, {} was left \
             by one that died: remove it and try again; nothing was changed \
             (GIT_RELEASE_WRITE_TIMEOUT sets how many seconds to keep trying)",
            lock.display()
        )),
        Error::Contention { .. } => Some(
            "try again; nothing was changed (GIT_RELEASE_WRITE_TIMEOUT sets how many seconds to keep trying)"
                .into(),
        ),
        Error::StaleLock { path } => Some(format!(
            "if no git or git-release process is running in this repository, remove {} and try again",
            path.display()
        )),
        Error::CorruptMergeState { reference, .. } => Some(format!(
            "to abandon the recorded merge and keep the local values, delete it with \
             `git update-ref -d {}`, then fetch again",
            q(reference)
        )),
        Error::UnresolvedMerge { .. } => Some(
            "settle them first: `git release fetch --theirs` takes the remote's values, \
             `git release fetch --ours` keeps yours, `git release resolve <tag> --ours|--theirs` \
             settles one release; `git release status` lists them"
                .into(),
        ),
        Error::StoreBroken { .. } => Some(
            "publishing it would spread the damage to every clone: each finding names what \
             fixes it (`git release doctor` lists them again; `git release doctor --repair` \
             repairs those it can)"
                .into(),
        ),
        Error::TagsMoved { example, .. } => Some(format!(
            "`git release retag {0} --restore` moves the tag back to its release, \
             `git release retag {0} --follow` moves the release to the tag",
            q(example)
        )),
        Error::PushRefused { message, .. } if message.contains("cannot lock ref") => Some(
            "a git process on the remote holds the ref's lock, or one died there and left \
             its .lock file: once none runs, remove the file there and push again"
                .into(),
        ),
        Error::AtomicPushUnsupported { remote, .. } => Some(format!(
            "`git release push --no-atomic {}` pushes the tags first and the notes \
             after; should the notes be refused, the tags stay on {remote} without their \
             releases (plain tags) until the next push",
            q(remote)
        )),
        Error::NoConflict { .. } => {
            Some("`git release status` lists the unresolved conflicts".into())
        }
        Error::TagExists { tag, .. } => Some(format!(
            "the release can use the existing tag: run without --ref, or delete it with `git tag -d {}`",
            q(tag)
        )),
        Error::Template { .. } => Some(
            "fix the template, or remove it to use the built-in one".into(),
        ),
        Error::EvidenceUnsigned { tag, .. } => Some(format!(
            "`git release evidence collect {} --sign` takes a signed snapshot",
            q(tag)
        )),
        Error::SigningProgram { setting, .. } => Some(format!(
            "install it, or set {setting} to the program to run (as git does)"
        )),
        Error::EvidenceSigning { .. } => Some(
            "nothing was created; pass --no-sign to leave the evidence unsigned, or fix the key \
             (user.signingKey, gpg.format; `git tag -s` tries it)"
                .into(),
        ),
        Error::UnknownIdentity => Some(
            "set it with `git config user.name \"Your Name\"` and `git config user.email you@example.com`"
                .into(),
        ),
        Error::Signing { .. } => Some(
            "nothing was created; check the key with `git tag -s` (set user.signingKey, gpg.format)"
                .into(),
        ),
        Error::PackageNotFound { .. }
        | Error::PackageFileNotFound { .. }
        | Error::PackageFileIdNotFound { .. } => {
            Some("`git release package list` shows the packages that exist".into())
        }
        Error::PackageNotFetched { .. } => {
            Some("`git release fetch --packages` brings every package of the remote".into())
        }
        Error::PackageDuplicate { name, version, .. } => Some(format!(
            "upload it as a new version, or delete the old one first with \
             `git release package delete {} {}`",
            q(name),
            q(version)
        )),
        _ => None,
    }
}
