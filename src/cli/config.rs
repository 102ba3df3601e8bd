//! `git release config`: the effective settings and where each came from, and
//! `--setup-remote`, which makes every `git fetch` bring the remote's releases.

use super::Exit;

use clap::Args;
use git_release::share::config::{self, Config, GIT_KEYS};
use git_release::{Error, Repo, Result, share::remote};

use super::{Ui, common, render};

/// Show the effective configuration and where each value comes from.
///
/// git config `release.*` (release.projectId, release.project, release.description,
/// release.webUrl, release.archiveFormats, release.hookFreeze, release.hookVerify,
/// release.evidenceArchives; and, only in git config, release.signEvidence and
/// release.requireSignedTags) wins
/// over the committed .git-release.toml ([project] id, name, description, web_url;
/// [archive] formats; [hook] freeze, verify), which wins over what the origin remote or
/// the directory name say, which win over the defaults (project id 1, archive format
/// tar.gz).
///
/// The project's group: group.path (git config release.group, [group] path, else what
/// the group records) and group.repository (git config release.groupRepository, the
/// root's registry.groupRepositories, [group] repository, else .group.git beside the
/// project); see docs/groups.md.
///
/// The protected tags ([[protected_tag]] tables) are listed as `protected_tag` lines,
/// read where the pre-push hook and `verify` read them: git config
/// release.protectedTagsFile or release.protectedTagsFrom, else the remote's default
/// branch as last fetched, else HEAD's commit (never the work tree, which anyone's
/// checkout can change; an edited work-tree file is checked strictly and said to be
/// pending). See docs/permissions.md.
#[derive(Args)]
pub struct ConfigArgs {
    /// Print only this setting's value (e.g. project.name, hook.freeze).
    #[arg(value_name = "KEY", conflicts_with_all = ["list", "setup_remote"])]
    pub key: Option<String>,
    /// List every setting with its value and source (the default).
    #[arg(long, short)]
    pub list: bool,
    /// Configure a remote (default: the branch's remote, else origin) so that
    /// `git fetch` keeps a copy of its releases in refs/notes/remotes/<remote>/releases.
    /// Idempotent. It does not set notes.displayRef, so plain `git log` never prints
    /// release JSON; `git log --notes=releases` shows the records when wanted.
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "")]
    pub setup_remote: Option<String>,
}

pub fn run(args: ConfigArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    if let Some(remote) = args.setup_remote {
        let remote = if remote.is_empty() {
            remote::default_remote(&repo)
        } else {
            remote
        };
        let done = config::setup_remote(&repo, &remote)?;
        for spec in &done.dangerous {
            ui.warn(&format!(
                "remote.{remote}.fetch has {spec:?}: a fetch with it overwrites your local release \
                 notes with the remote's, losing unpushed releases; remove it with \
                 `git config --fixed-value --unset remote.{remote}.fetch '{spec}'`"
            ));
        }
        if done.added.is_empty() {
            ui.notice(&format!("{remote} is already set up to fetch releases"));
        }
        for (key, value) in &done.added {
            ui.notice(&format!("git config --add {key} {value}"));
        }
        if !done.added.is_empty() {
            ui.notice(&format!(
                "`git fetch {remote}` now keeps {remote}'s releases in {}; `git release fetch` merges them into yours",
                remote::tracking_ref(&remote)
            ));
        }
        return Ok(Exit::Success);
    }
    if let Some(key) = &args.key {
        if !GIT_KEYS.iter().any(|(k, _)| k == key) && !config::RULE_KEYS.contains(&key.as_str()) {
            let mut known: Vec<&str> = GIT_KEYS.iter().map(|(k, _)| *k).collect();
            known.extend(config::RULE_KEYS);
            return Err(Error::InvalidInput {
                what: "setting",
                value: key.clone(),
                reason: format!("known settings: {}", known.join(", ")),
            });
        }
    }
    let config = Config::resolve(&repo)?;
    let entries = config.entries();
    if let Some(pending) = &config.pending_protected_tags {
        ui.notice(&format!(
            "{} has {} [[protected_tag]] rule(s) that differ from those in force ({}); they apply once \
             committed and pushed there",
            pending.location,
            pending.rules.len(),
            config.protected_tags.source.describe()
        ));
    }
    if args.key.as_deref() == Some("protected_tag") {
        let rules: Vec<_> = entries
            .iter()
            .filter(|e| e.key == "protected_tag")
            .collect();
        if ui.json {
            common::print_json(&rules)?;
        } else {
            for entry in &rules {
                println!("{}", entry.value.as_deref().unwrap_or_default());
            }
        }
        return Ok(Exit::Success);
    }
    if let Some(entry) = args
        .key
        .as_ref()
        .and_then(|key| entries.iter().find(|e| e.key == key))
    {
        if ui.json {
            common::print_json(entry)?;
        } else if let Some(value) = &entry.value {
            println!("{value}");
        } else {
            // Unset: nothing to print, and scripts can tell by the status.
            return Ok(Exit::Unset);
        }
        return Ok(Exit::Success);
    }
    if ui.json {
        common::print_json(&entries)?;
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.key.to_owned(),
                e.value.clone().unwrap_or_else(|| "(unset)".into()),
                e.source.clone(),
            ]
        })
        .collect();
    print!("{}", render::table(ui, &["KEY", "VALUE", "SOURCE"], &rows));
    Ok(Exit::Success)
}
