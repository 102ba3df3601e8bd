//! Effective configuration: each setting from, first found, git config `release.*`
//! (per user or per clone), the committed `.git-release.toml`, what the remotes say,
//! and a built-in default — with where each value came from. Also `--setup-remote`,
//! which adds the refspec that fetches releases with every `git fetch`.

use std::process::Command;

use crate::error::{Error, Result};
use crate::git::project::{
    EVIDENCE_ARCHIVES_KEY, Identity, ProjectFile, Source, Sourced, bool_setting, evidence_archives,
    git_config_entry,
};
use crate::git::protection::Rules;
use crate::git::repo::Repo;
use crate::model::{ArchiveFormat, ProtectedTag, ProtectedTags};
use crate::release::group::{GROUP_PATH_KEY, GROUP_REPOSITORY_KEY};
use crate::share::remote::tracking_ref;
use crate::store::NOTES_REF;

/// What the pre-push hook does when a deploy freeze is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezePolicy {
    /// Refuse to push tags (the default).
    Refuse,
    /// Push, with a warning.
    Warn,
}

impl FreezePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            FreezePolicy::Refuse => "refuse",
            FreezePolicy::Warn => "warn",
        }
    }

    fn parse(text: &str, source: &Source) -> Result<Self> {
        match text.trim() {
            "refuse" => Ok(FreezePolicy::Refuse),
            "warn" => Ok(FreezePolicy::Warn),
            _ => Err(Error::invalid(
                "hook freeze policy",
                text,
                format!("from {source}: expected \"refuse\" or \"warn\""),
            )),
        }
    }
}

/// Every setting git-release reads, with its source.
#[derive(Debug, Clone)]
pub struct Config {
    pub project_id: Sourced<u64>,
    pub project_name: Sourced<String>,
    pub project_description: Sourced<Option<String>>,
    pub web_url: Sourced<Option<String>>,
    /// In the order given, without repeats.
    pub archive_formats: Sourced<Vec<ArchiveFormat>>,
    pub hook_freeze: Sourced<FreezePolicy>,
    pub hook_verify: Sourced<bool>,
    pub evidence_archives: Sourced<bool>,
    /// `release.signEvidence`: sign every evidence snapshot (git config only).
    pub evidence_sign: Sourced<bool>,
    /// `release.requireSignedTags`: the pre-push hook refuses unsigned or untrusted
    /// release tags (git config only).
    pub hook_require_signed_tags: Sourced<bool>,
    /// The protected-tag rules in force (`[[protected_tag]]`), read where the hook and
    /// `verify` read them.
    pub protected_tags: Rules,
    /// The work tree's own `[[protected_tag]]` rules when they differ from those in
    /// force (an edit not yet committed and pushed); read strictly all the same.
    pub pending_protected_tags: Option<ProtectedTags>,
    /// The project's group (`group.path`) and where its repository is
    /// (`group.repository`), each with where that came from (docs/groups.md).
    pub group_path: (Option<String>, String),
    pub group_repository: (Option<String>, String),
}

/// One line of `config --list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub key: &'static str,
    /// `None` when unset (e.g. no web URL is known).
    pub value: Option<String>,
    pub source: String,
}

/// The git configuration keys, for help and error messages.
pub const GIT_KEYS: [(&str, &str); 12] = [
    ("project.id", "release.projectId"),
    ("project.name", "release.project"),
    ("project.description", "release.description"),
    ("project.web_url", "release.webUrl"),
    ("archive.formats", "release.archiveFormats"),
    ("hook.freeze", "release.hookFreeze"),
    ("hook.verify", "release.hookVerify"),
    ("evidence.archives", EVIDENCE_ARCHIVES_KEY),
    ("evidence.sign", "release.signEvidence"),
    ("hook.require_signed_tags", "release.requireSignedTags"),
    ("group.path", GROUP_PATH_KEY),
    ("group.repository", GROUP_REPOSITORY_KEY),
];

/// The lines `config --list` shows for protected tags: how many rules and where from,
/// and one per rule (only in `.git-release.toml` or a pinned file: no git key).
pub const RULE_KEYS: [&str; 2] = ["protected_tags", "protected_tag"];

fn git_key(key: &str) -> &'static str {
    GIT_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, g)| g)
}

impl Config {
    pub fn resolve(repo: &Repo) -> Result<Self> {
        let file = ProjectFile::load(repo)?;
        Self::from_file(repo, &file)
    }

    pub fn from_file(repo: &Repo, file: &ProjectFile) -> Result<Self> {
        let identity = Identity::resolve(repo, file)?;
        let protected_tags = Rules::load(repo, &crate::share::remote::rules_choice(repo))?;
        let pending_protected_tags =
            Rules::work_tree(repo)?.filter(|local| local.rules != protected_tags.tags.rules);
        let (group_path, group_repository) = group_settings(repo, file);
        Ok(Config {
            group_path,
            group_repository,
            protected_tags,
            pending_protected_tags,
            project_id: identity.id,
            project_name: identity.name,
            project_description: identity.description,
            web_url: identity.web_url,
            archive_formats: archive_formats(repo, file)?,
            hook_freeze: hook_freeze(repo, file)?,
            hook_verify: hook_verify(repo, file)?,
            evidence_archives: evidence_archives(repo, file)?,
            evidence_sign: git_only_bool(repo, file, "evidence signing setting", "evidence.sign")?,
            hook_require_signed_tags: git_only_bool(
                repo,
                file,
                "signed tags setting",
                "hook.require_signed_tags",
            )?,
        })
    }

    pub fn entries(&self) -> Vec<Entry> {
        let entry = |key: &'static str, value: Option<String>, source: &Source| Entry {
            key,
            value,
            source: source.to_string(),
        };
        let mut entries = vec![
            entry(
                "project.id",
                Some(self.project_id.value.to_string()),
                &self.project_id.source,
            ),
            entry(
                "project.name",
                Some(self.project_name.value.clone()),
                &self.project_name.source,
            ),
            entry(
                "project.description",
                self.project_description.value.clone(),
                &self.project_description.source,
            ),
            entry(
                "project.web_url",
                self.web_url.value.clone(),
                &self.web_url.source,
            ),
            entry(
                "archive.formats",
                Some(
                    self.archive_formats
                        .value
                        .iter()
                        .map(|f| f.extension())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                &self.archive_formats.source,
            ),
            entry(
                "hook.freeze",
                Some(self.hook_freeze.value.as_str().to_owned()),
                &self.hook_freeze.source,
            ),
            entry(
                "hook.verify",
                Some(self.hook_verify.value.to_string()),
                &self.hook_verify.source,
            ),
            entry(
                "evidence.archives",
                Some(self.evidence_archives.value.to_string()),
                &self.evidence_archives.source,
            ),
            entry(
                "evidence.sign",
                Some(self.evidence_sign.value.to_string()),
                &self.evidence_sign.source,
            ),
            entry(
                "hook.require_signed_tags",
                Some(self.hook_require_signed_tags.value.to_string()),
                &self.hook_require_signed_tags.source,
            ),
            Entry {
                key: "group.path",
                value: self.group_path.0.clone(),
                source: self.group_path.1.clone(),
            },
            Entry {
                key: "group.repository",
                value: self.group_repository.0.clone(),
                source: self.group_repository.1.clone(),
            },
        ];
        let rules = &self.protected_tags;
        entries.push(Entry {
            key: "protected_tags",
            value: Some(format!("{} rule(s)", rules.tags.rules.len())),
            source: format!("{} ({})", rules.source.describe(), rules.source.reason()),
        });
        for rule in &rules.tags.rules {
            entries.push(Entry {
                key: "protected_tag",
                value: Some(describe_rule(rule)),
                source: format!("{} line {}", rules.tags.location, rule.line),
            });
        }
        entries
    }
}

/// One rule on one line: `v* role=maintainer signed=tag allowed_signers=… allowed_fingerprints=…`.
pub fn describe_rule(rule: &ProtectedTag) -> String {
    let mut text = format!(
        "{} role={} signed={}",
        rule.pattern.as_str(),
        rule.role.as_str(),
        rule.signed.as_str()
    );
    if let Some(path) = &rule.allowed_signers {
        text.push_str(&format!(" allowed_signers={path}"));
    }
    if !rule.allowed_fingerprints.is_empty() {
        text.push_str(&format!(
            " allowed_fingerprints={}",
            rule.allowed_fingerprints.join(",")
        ));
    }
    if !rule.has_keys() {
        text.push_str(" (no keys: enforced by serve only)");
    }
    text
}

/// A setting's raw text from git config, else from the project file, with its source.
fn raw(
    repo: &Repo,
    key: &str,
    from_file: Option<String>,
    file: &ProjectFile,
) -> Option<Sourced<String>> {
    let git = git_key(key);
    if let Some((value, scope)) = git_config_entry(repo, git) {
        return Some(Sourced {
            value,
            source: Source::GitConfig {
                key: git.to_owned(),
                scope,
            },
        });
    }
    from_file.map(|value| Sourced {
        value,
        source: file.source(key),
    })
}

/// The archive format `git release archive` writes when `archive.formats` is unset.
pub const DEFAULT_ARCHIVE_FORMAT: ArchiveFormat = ArchiveFormat::TarGz;

fn archive_formats(repo: &Repo, file: &ProjectFile) -> Result<Sourced<Vec<ArchiveFormat>>> {
    let from_file = file.archive.formats.as_ref().map(|list| list.join(","));
    let Some(raw) = raw(repo, "archive.formats", from_file, file) else {
        // What `git release archive` makes when nothing is configured: one tar.gz.
        return Ok(Sourced {
            value: vec![DEFAULT_ARCHIVE_FORMAT],
            source: Source::Default,
        });
    };
    let mut formats: Vec<ArchiveFormat> = Vec::new();
    for name in raw
        .value
        .split([',', ' '])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let format: ArchiveFormat = name.parse().map_err(|_| {
            Error::invalid(
                "archive format",
                name,
                format!("from {}: expected zip, tar.gz, tar.bz2 or tar", raw.source),
            )
        })?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if formats.is_empty() {
        return Err(Error::invalid(
            "archive formats",
            raw.value,
            format!("from {}: name at least one format", raw.source),
        ));
    }
    Ok(Sourced {
        value: formats,
        source: raw.source,
    })
}

fn hook_freeze(repo: &Repo, file: &ProjectFile) -> Result<Sourced<FreezePolicy>> {
    match raw(repo, "hook.freeze", file.hook.freeze.clone(), file) {
        None => Ok(Sourced {
            value: FreezePolicy::Refuse,
            source: Source::Default,
        }),
        Some(raw) => Ok(Sourced {
            value: FreezePolicy::parse(&raw.value, &raw.source)?,
            source: raw.source,
        }),
    }
}

fn hook_verify(repo: &Repo, file: &ProjectFile) -> Result<Sourced<bool>> {
    bool_setting(
        repo,
        "hook verify setting",
        git_key("hook.verify"),
        file,
        "hook.verify",
        file.hook.verify,
        true,
    )
}

/// The project's group path and group repository, each with its source, as
/// `release::group::locate` finds them; a bad setting is shown as such, not an error,
/// so that `config --list` still shows the rest.
type Shown = (Option<String>, String);
fn group_settings(repo: &Repo, file: &ProjectFile) -> (Shown, Shown) {
    let group = match crate::release::group::locate_with(repo, file) {
        Ok(group) => group,
        Err(e) => {
            let bad = (None, format!("invalid: {e}"));
            return (bad.clone(), bad);
        }
    };
    let Some(group) = group else {
        let none = (
            None,
            "default (the project is at the top of its root: in no group)".to_owned(),
        );
        return (none.clone(), none);
    };
    let path_source = if let Some((_, scope)) = git_config_entry(repo, GROUP_PATH_KEY) {
        format!("git config {GROUP_PATH_KEY} ({scope})")
    } else if file.group.path.as_deref().is_some_and(|p| !p.is_empty()) {
        file.source("group.path").to_string()
    } else if group.in_root_place {
        "the root's layout (the group's directory)".to_owned()
    } else if group.path.is_some() {
        format!("recorded by the group ({})", group.dir.display())
    } else {
        "unknown (the group repository records none)".to_owned()
    };
    let repository_source = if group.configured {
        let scope = git_config_entry(repo, GROUP_REPOSITORY_KEY).map_or("", |(_, s)| s);
        format!("git config {GROUP_REPOSITORY_KEY} ({scope})")
    } else if group.in_root_place {
        "the root's .git-release-root (registry.groupRepositories)".to_owned()
    } else if group.named {
        file.source("group.repository").to_string()
    } else {
        "default (.group.git beside the project's directory)".to_owned()
    };
    (
        (group.path.clone(), path_source),
        (Some(group.dir.display().to_string()), repository_source),
    )
}

/// A setting that only git config holds (signing policy is per user or per clone,
/// never something a commit can switch off): default false.
fn git_only_bool(
    repo: &Repo,
    file: &ProjectFile,
    what: &'static str,
    key: &'static str,
) -> Result<Sourced<bool>> {
    bool_setting(repo, what, git_key(key), file, key, None, false)
}

/// The fetch refspec that keeps a copy of `remote`'s releases on every `git fetch`.
pub fn fetch_refspec(remote: &str) -> String {
    format!("+{NOTES_REF}:{}", tracking_ref(remote))
}

/// What `setup_remote` changed.
#[derive(Debug, Default)]
pub struct SetupRemote {
    pub remote: String,
    /// Values added, as `key value` pairs; empty when everything was in place.
    pub added: Vec<(String, String)>,
    /// Fetch refspecs already configured that force-overwrite local release notes.
    pub dangerous: Vec<String>,
}

fn git_config_all(repo: &Repo, key: &str) -> Result<Vec<String>> {
    let out = git(repo, &["config", "--get-all", key])?;
    // Exit 1 means "no such key"; anything else is a real failure.
    match out.status.code() {
        Some(0) => Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()),
        Some(1) => Ok(Vec::new()),
        _ => Err(Error::GitCommand {
            command: format!("git config --get-all {key}"),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        }),
    }
}

fn git(repo: &Repo, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .arg("--git-dir")
        .arg(repo.git_dir())
        .args(args)
        .output()
        .map_err(|source| Error::Io {
            what: "cannot run git".into(),
            source,
        })
}

fn git_config_add(repo: &Repo, key: &str, value: &str) -> Result<()> {
    let out = git(repo, &["config", "--add", key, value])?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            command: format!("git config --add {key} {value}"),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// Adds (once) `remote.<r>.fetch +refs/notes/releases:refs/notes/remotes/<r>/releases`
/// to the repository's configuration (and not `notes.displayRef`: plain `git log`
/// stays free of release JSON).
/// The remote's notes land beside ours, never over them: `git release fetch` merges.
pub fn setup_remote(repo: &Repo, remote: &str) -> Result<SetupRemote> {
    if remote.is_empty() || remote.starts_with('-') || repo.git().find_remote(remote).is_err() {
        return Err(Error::invalid(
            "remote",
            remote,
            "no such remote in this repository (`git remote -v` lists them)",
        ));
    }
    let mut result = SetupRemote {
        remote: remote.to_owned(),
        ..SetupRemote::default()
    };
    let fetch_key = format!("remote.{remote}.fetch");
    let existing = git_config_all(repo, &fetch_key)?;
    result.dangerous = existing
        .iter()
        .filter(|spec| overwrites_local_notes(spec))
        .cloned()
        .collect();
    let spec = fetch_refspec(remote);
    if !existing.iter().any(|s| s.trim() == spec) {
        git_config_add(repo, &fetch_key, &spec)?;
        result.added.push((fetch_key, spec));
    }
    // notes.displayRef is deliberately left alone: our notes are JSON documents, and
    // with it every `git log` would print each release's whole record under its
    // commit. `git log --notes=releases` shows them when wanted.
    Ok(result)
}

/// A forced fetch refspec whose destination is the local release notes ref itself
/// (such as `+refs/notes/*:refs/notes/*`): a fetch then replaces unpushed local
/// releases. (Without `+`, git refuses the non-fast-forward update instead.)
pub fn overwrites_local_notes(spec: &str) -> bool {
    let Some(spec) = spec.trim().strip_prefix('+') else {
        return false;
    };
    let Some((_, dst)) = spec.split_once(':') else {
        return false;
    };
    dst == NOTES_REF || dst == "refs/notes/*" || dst == "refs/notes/releases*"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spots_refspecs_that_overwrite_local_notes() {
        assert!(overwrites_local_notes("+refs/notes/*:refs/notes/*"));
        assert!(overwrites_local_notes(
            "+refs/notes/releases:refs/notes/releases"
        ));
        assert!(!overwrites_local_notes(
            "refs/notes/releases:refs/notes/releases"
        ));
        assert!(!overwrites_local_notes(
            "+refs/notes/releases:refs/notes/remotes/origin/releases"
        ));
        assert!(!overwrites_local_notes(
            "+refs/heads/*:refs/remotes/origin/*"
        ));
    }
}
