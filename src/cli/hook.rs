//! `git release hook install|uninstall|pre-push`: the pre-push hook that refuses to
//! push tags during a deploy freeze or when a release's tag moved.

use super::Exit;
use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use git_release::audit::hook::{self, HooksDir, Installed, Uninstalled};
use git_release::audit::prepush::{self, ALLOW_FREEZE_VARIABLE, Policy};
use git_release::share::config::Config;
use git_release::time::Timestamp;
use git_release::{Error, Repo, Result};

use super::Ui;

/// Manage the pre-push hook that guards release tags.
///
/// The hook refuses to push tags while a deploy freeze is in force (set
/// GIT_RELEASE_ALLOW_FREEZE=1 to push anyway) and when the tag of a release no longer
/// points where the release recorded. With release.requireSignedTags=true it also
/// refuses a release tag that is unsigned or signed by a key that is not allowed
/// (checked as `git verify-tag` checks it). `git push --no-verify` skips it.
#[derive(Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

#[derive(Subcommand)]
pub enum HookCommand {
    /// Install the pre-push hook (core.hooksPath and worktrees respected). An existing
    /// pre-push hook is kept: moved to pre-push.git-release-chained and run after ours.
    Install(InstallArgs),
    /// Remove the pre-push hook and put back the hook it chained.
    Uninstall,
    /// What the hook runs: reads git's pre-push input on stdin and exits 1 to refuse.
    PrePush(PrePushArgs),
}

#[derive(Args)]
pub struct InstallArgs {
    /// Do not chain an existing pre-push hook: move it to pre-push.git-release-backup,
    /// where it no longer runs (`hook uninstall` puts it back).
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct PrePushArgs {
    /// The remote's name (or its URL when the push named no remote).
    pub remote: String,
    /// The remote's URL.
    pub url: Option<String>,
}

pub fn run(args: HookArgs, ui: &Ui) -> Result<Exit> {
    match args.command {
        HookCommand::Install(a) => install(a, ui),
        HookCommand::Uninstall => uninstall(ui),
        HookCommand::PrePush(a) => pre_push(a, ui),
    }
}

fn describe_dir(dir: &HooksDir, ui: &Ui) {
    let Some(configured) = &dir.configured else {
        return;
    };
    match &dir.in_work_tree {
        Some(relative) if dir.committed => ui.warn(&format!(
            "core.hooksPath is {configured:?}, a directory committed in this repository: the hook goes \
             into {}, where it is shared once you commit it (everyone pushing then needs git-release \
             on PATH); `git release hook uninstall` takes it out again",
            relative.join(hook::HOOK).display()
        )),
        Some(relative) => ui.notice(&format!(
            "core.hooksPath is {configured:?} inside the work tree ({}), perhaps managed by a hook \
             manager such as husky, which may regenerate it; if the hook disappears, have that \
             manager run `git release hook pre-push \"$@\"` from its pre-push hook",
            relative.display()
        )),
        None => ui.notice(&format!("core.hooksPath is {configured:?}")),
    }
}

fn install(args: InstallArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let done = hook::install(&repo, args.force)?;
    describe_dir(&done.dir, ui);
    let hook = done.hook.display();
    let aside = |name: &str| done.dir.path.join(name);
    match done.outcome {
        Installed::New => ui.notice(&format!("Installed the pre-push hook: {hook}")),
        Installed::Updated => ui.notice(&format!("Updated the pre-push hook: {hook}")),
        Installed::Unchanged => ui.notice(&format!("The pre-push hook is already installed: {hook}")),
        Installed::Chained => {
            let chained = aside(hook::CHAINED);
            ui.notice(&format!(
                "Installed the pre-push hook: {hook}\nYour previous pre-push hook is now {} and runs after git-release's checks, with the same input",
                chained.display()
            ));
            if hook::world_writable(&chained) {
                ui.warn(&format!(
                    "{} is writable by everyone: anyone could change what runs on push (chmod o-w it)",
                    chained.display()
                ));
            }
        }
        Installed::Replaced => ui.notice(&format!(
            "Installed the pre-push hook: {hook}\nYour previous pre-push hook was moved to {} and no longer runs",
            aside(hook::BACKUP).display()
        )),
    }
    Ok(Exit::Success)
}

fn uninstall(ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let done = hook::uninstall(&repo)?;
    match done.outcome {
        Uninstalled::NotInstalled => ui.notice(&format!(
            "No git-release pre-push hook in {}; nothing to do",
            done.dir.path.display()
        )),
        Uninstalled::Removed { restored: None } => ui.notice(&format!(
            "Removed the pre-push hook: {}",
            done.hook.display()
        )),
        Uninstalled::Removed {
            restored: Some(from),
        } => ui.notice(&format!(
            "Removed the pre-push hook and restored yours from {}",
            from.display()
        )),
    }
    Ok(Exit::Success)
}

fn pre_push(args: PrePushArgs, ui: &Ui) -> Result<Exit> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|source| Error::ReadFile {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
    let refs = prepush::parse_input(&input)?;
    // A push of neither tags nor the notes is decided before the repository is read.
    if refs
        .iter()
        .all(|r| r.pushed_tag().is_none() && !prepush::pushes_notes(r))
    {
        return Ok(Exit::Success);
    }
    let repo = Repo::open_from_env()?;
    let config = Config::resolve(&repo)?;
    let policy = Policy {
        freeze: config.hook_freeze.value,
        verify: config.hook_verify.value,
        allow_freeze: std::env::var(ALLOW_FREEZE_VARIABLE).is_ok_and(|v| v == "1"),
        require_signed_tags: repo.config_bool_strict("release.requireSignedTags")? == Some(true),
        now: Timestamp::now()?,
    };
    let verdict = prepush::check(&repo, &args.remote, &refs, policy)?;
    for notice in &verdict.notices {
        // Printed even with --quiet: an override should never go unnoticed.
        eprintln!("git-release: {notice}");
    }
    for warning in &verdict.warnings {
        ui.warn(warning);
    }
    if verdict.allowed() {
        return Ok(Exit::Success);
    }
    for refusal in &verdict.refusals {
        ui.error(&refusal.to_string(), None);
    }
    let frozen = verdict
        .refusals
        .iter()
        .any(|r| matches!(r, prepush::Refusal::Frozen { .. }));
    let mut hints = Vec::new();
    if frozen {
        hints.push(format!(
            "to push during the freeze anyway: {ALLOW_FREEZE_VARIABLE}=1 git push …"
        ));
    }
    if verdict.refusals.iter().any(|r| {
        matches!(
            r,
            prepush::Refusal::Protected { .. } | prepush::Refusal::Rules { .. }
        )
    }) {
        hints.push(
            "a protected tag is signed when it is made, with a key its rule allows \
             (`git release create <tag> --sign`); where the rule takes signed evidence, \
             `git release evidence collect <tag> --sign` signs the release of one already made; \
             `git release config` shows the rules and where they are read from"
                .into(),
        );
    }
    if verdict.refusals.iter().any(|r| {
        !matches!(
            r,
            prepush::Refusal::Frozen { .. }
                | prepush::Refusal::Unsettled { .. }
                | prepush::Refusal::Protected { .. }
                | prepush::Refusal::Rules { .. }
        )
    }) {
        hints.push(
            "put the tag back where its release was made, or delete the release \
             (`git release delete <tag>`), then push again"
                .into(),
        );
    }
    hints.push("`git push --no-verify` skips all pre-push hooks".into());
    for hint in hints {
        ui.notice(&format!("hint: {hint}"));
    }
    Ok(Exit::Failure)
}
