//! The git configuration as git itself resolves it, so that every setting the tool reads
//! is the value `git config --get` prints in the same environment (docs/configuration.md).
//!
//! libgit2 misses three of git's mechanisms: `git -c k=v` (passed to a subcommand in
//! `GIT_CONFIG_PARAMETERS`), `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`,
//! and `includeIf "hasconfig:remote.*.url:…"`; and, for a repository opened without the
//! environment, `GIT_CONFIG_GLOBAL`/`GIT_CONFIG_SYSTEM`/`GIT_CONFIG_NOSYSTEM`. So the
//! sequence of files is walked here as git's `do_git_config_sequence` walks it (system,
//! global, local, worktree, then the command line), libgit2 parsing each file and its
//! `include.path`s, and every `includeIf` condition evaluated here as git's config.c
//! does. The result is one ordered list of entries: the last one of a key wins, as in
//! git.

use std::path::{Path, PathBuf};

use bstr::ByteSlice;

use crate::error::{Error, Result};

/// Where a value was set, named as `git config --show-scope` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    System,
    Global,
    Local,
    Worktree,
    /// `git -c`, `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`.
    Command,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Global => "global",
            Scope::Local => "local",
            Scope::Worktree => "worktree",
            Scope::Command => "command",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `key = value` line as git sees it. `value` is `None` for git's implicit boolean
/// (`[core] bare` with no `=`, or `git -c core.bare`), which reads as true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Canonical: section and variable name lower-cased, subsection as written.
    pub key: String,
    pub value: Option<String>,
    pub scope: Scope,
    /// Whether it came from a file another one included (git reads some settings,
    /// the repository format's `extensions.*`, from the repository's own file only).
    pub included: bool,
}

/// The whole configuration, in git's order.
#[derive(Debug, Clone, Default)]
pub struct GitConfig {
    entries: Vec<Entry>,
}

/// What `includeIf` conditions are evaluated against.
struct Context {
    /// The repository's git directory (for a linked worktree, its own), no trailing slash.
    git_dir: Option<PathBuf>,
    /// The branch HEAD names (`main`), if HEAD is a branch.
    branch: Option<String>,
}

/// An entry, or the place of a `hasconfig:remote.*.url:` include whose condition needs
/// every remote URL first (git reads the whole configuration to find them).
enum Item {
    /// `conditional`: read from a file an `includeIf` brought in (directly or through
    /// its own includes), where git forbids remote URLs once a `hasconfig:` include
    /// makes it collect them.
    Entry { entry: Entry, conditional: bool },
    RemoteUrlInclude {
        glob: String,
        path: PathBuf,
        scope: Scope,
    },
}

/// git's include depth limit (`MAX_INCLUDE_DEPTH`).
const MAX_INCLUDE_DEPTH: usize = 10;

impl GitConfig {
    /// The configuration `git` would read for this repository in this process's
    /// environment.
    pub fn load(repo: &git2::Repository) -> Result<Self> {
        let git_dir = repo.path();
        let git_dir = git_dir
            .to_str()
            .map(|s| PathBuf::from(s.trim_end_matches('/')))
            .unwrap_or_else(|| git_dir.to_path_buf());
        let branch = repo
            .find_reference("HEAD")
            .ok()
            .and_then(|head| head.symbolic_target().ok().flatten().map(str::to_owned))
            .and_then(|target| target.strip_prefix("refs/heads/").map(str::to_owned));
        let context = Context {
            git_dir: Some(git_dir.clone()),
            branch,
        };
        let mut items = Vec::new();
        for (path, scope) in global_files() {
            read_file(&path, scope, &context, 0, false, &mut items)?;
        }
        let common = repo.commondir();
        read_file(
            &common.join("config"),
            Scope::Local,
            &context,
            0,
            false,
            &mut items,
        )?;
        if worktree_config_enabled(&items) {
            read_file(
                &git_dir.join("config.worktree"),
                Scope::Worktree,
                &context,
                0,
                false,
                &mut items,
            )?;
        }
        read_command_line(&context, &mut items)?;
        if !items
            .iter()
            .any(|item| matches!(item, Item::RemoteUrlInclude { .. }))
        {
            return Ok(Self::from_items(items));
        }
        // Second pass, as git's `include_by_remote_url`: the URLs of the whole
        // configuration. git collects them reading every `hasconfig:` file regardless
        // of its condition, and dies if any file an `includeIf` brought in (of any
        // condition, matching or not for `hasconfig:`) sets one.
        forbid_remote_urls(&items, &context)?;
        let urls: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Entry { entry, .. } if is_remote_url(&entry.key) => entry.value.clone(),
                _ => None,
            })
            .collect();
        let resolved = expand_remote_url_includes(items, &urls, &context, 1)?;
        Ok(Self::from_items(resolved))
    }

    /// A configuration of these entries only (for tests of the readers).
    pub fn from_entries(entries: Vec<Entry>) -> Self {
        Self { entries }
    }

    fn from_items(items: Vec<Item>) -> Self {
        let entries = items
            .into_iter()
            .filter_map(|item| match item {
                Item::Entry { entry, .. } => Some(entry),
                Item::RemoteUrlInclude { .. } => None,
            })
            .collect();
        Self { entries }
    }

    /// Every entry, in git's order (`git config --list`).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry `git config --get KEY` reads: the last one.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        let key = canonical_key(key)?;
        self.entries.iter().rev().find(|entry| entry.key == key)
    }

    /// Every value of a multi-valued key, in order (`git config --get-all`).
    pub fn all(&self, key: &str) -> Vec<&Entry> {
        let Some(key) = canonical_key(key) else {
            return Vec::new();
        };
        self.entries.iter().filter(|e| e.key == key).collect()
    }

    /// A string setting; empty (or an implicit boolean) counts as unset.
    pub fn string(&self, key: &str) -> Option<String> {
        self.entry(key)
            .and_then(|entry| entry.value.clone())
            .filter(|value| !value.is_empty())
    }

    /// A boolean setting read as `git config --type=bool` reads it; a value git would
    /// refuse is an error naming the setting.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        let Some(entry) = self.entry(key) else {
            return Ok(None);
        };
        parse_bool(entry.value.as_deref())
            .map(Some)
            .ok_or_else(|| Error::Config {
                reason: format!(
                    "bad boolean config value '{}' for '{key}' (use true or false)",
                    entry.value.as_deref().unwrap_or_default(),
                ),
            })
    }

    /// A path setting, `~/` expanded as git does.
    pub fn path(&self, key: &str) -> Option<PathBuf> {
        self.string(key).map(|value| expand_home(&value))
    }
}

/// `core.logAllRefUpdates` as git's `git_default_core_config` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRefUpdates {
    /// `false`: no new reflog is made (an existing one is still appended to).
    Never,
    /// `true`: reflogs for branches, remote-tracking refs, notes and HEAD.
    Normal,
    /// `always`: a reflog for every ref.
    Always,
}

impl LogRefUpdates {
    /// Whether git makes a reflog for `name` when it moves it and none exists yet
    /// (refs.c `should_autocreate_reflog`).
    pub fn creates_log_for(self, name: &str) -> bool {
        match self {
            LogRefUpdates::Never => false,
            LogRefUpdates::Always => true,
            LogRefUpdates::Normal => {
                name == "HEAD"
                    || ["refs/heads/", "refs/remotes/", "refs/notes/"]
                        .iter()
                        .any(|prefix| name.starts_with(prefix))
            }
        }
    }
}

/// git's `fsync_component_names`: a `core.fsync` word and whether it covers
/// references.
const FSYNC_COMPONENTS: &[(&str, bool)] = &[
    ("loose-object", false),
    ("pack", false),
    ("pack-metadata", false),
    ("commit-graph", false),
    ("index", false),
    ("objects", false),
    ("reference", true),
    ("derived-metadata", false),
    ("committed", true),
    ("added", true),
    ("all", true),
];

impl GitConfig {
    /// `core.logAllRefUpdates`; unset, git's default is `Normal` outside a bare
    /// repository and `Never` in one. A value git cannot read is an error, as git
    /// refuses to run with it.
    pub fn log_all_ref_updates(&self, bare: bool) -> Result<LogRefUpdates> {
        let Some(entry) = self.entry("core.logAllRefUpdates") else {
            return Ok(if bare {
                LogRefUpdates::Never
            } else {
                LogRefUpdates::Normal
            });
        };
        if entry
            .value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("always"))
        {
            return Ok(LogRefUpdates::Always);
        }
        Ok(match self.bool("core.logAllRefUpdates")? {
            Some(true) => LogRefUpdates::Normal,
            _ => LogRefUpdates::Never,
        })
    }

    /// Whether git flushes references to disk before renaming them into place:
    /// `core.fsync` names a component that covers them. As git's
    /// `parse_fsync_components`, a word matches every component it is a prefix of,
    /// `-word` removes components (none of git's defaults is a reference), an unknown
    /// word is ignored; the last `core.fsync` wins.
    pub fn fsyncs_references(&self) -> bool {
        let Some(value) = self.entry("core.fsync").and_then(|e| e.value.as_deref()) else {
            return false;
        };
        let mut references = false;
        let mut rest = value;
        loop {
            // git skips commas and blanks between words, then takes up to a comma.
            rest = rest.trim_start_matches([',', ' ', '\t', '\n', '\r']);
            let end = rest.find(',').unwrap_or(rest.len());
            let (word, after) = rest.split_at(end);
            rest = after;
            if word == "none" && rest.is_empty() {
                // Clears git's defaults, none of which is a reference.
                continue;
            }
            let (negated, word) = match word.strip_prefix('-') {
                Some(word) => (true, word),
                None => (false, word),
            };
            if word.is_empty() {
                // The end of the list (or a lone `-`, which git stops at too).
                break;
            }
            if !negated {
                references |= FSYNC_COMPONENTS
                    .iter()
                    .any(|(name, covers)| *covers && name.starts_with(word));
            }
        }
        references
    }

    /// Whether objects may be missing and fetched on demand, as in a partial clone:
    /// `extensions.partialClone` in the repository's own configuration file (git
    /// reads the repository format from that file alone, without includes or `-c`),
    /// or a remote marked `remote.<name>.promisor`.
    pub fn has_promisor_remote(&self) -> bool {
        let extension = self.entries.iter().any(|entry| {
            entry.key == "extensions.partialclone"
                && entry.scope == Scope::Local
                && !entry.included
                && entry.value.as_deref().is_some_and(|v| !v.is_empty())
        });
        extension
            || self.entries.iter().any(|entry| {
                entry.key.starts_with("remote.")
                    && entry.key.ends_with(".promisor")
                    && self.bool(&entry.key).ok().flatten() == Some(true)
            })
    }
}

/// git's `git_config_bool`: no value is true, empty is false, its words, else a number.
pub fn parse_bool(value: Option<&str>) -> Option<bool> {
    let Some(value) = value else {
        return Some(true);
    };
    if value.is_empty() {
        return Some(false);
    }
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => return Some(true),
        "false" | "no" | "off" => return Some(false),
        _ => {}
    }
    parse_int(value).map(|n| n != 0)
}

/// git's `git_parse_signed` for an `int`: decimal, octal or hex (strtoimax base 0) with an
/// optional k/m/g unit.
fn parse_int(text: &str) -> Option<i64> {
    let (number, factor) = match text.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&text[..i], 1024),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&text[..i], 1024 * 1024),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (&text[..i], 1024 * 1024 * 1024),
        _ => (text, 1),
    };
    let trimmed = number.trim_start();
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    let magnitude = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    let value = magnitude.checked_mul(factor)?;
    if value > i64::from(i32::MAX) {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// The files git reads before the repository's own: system, then global (the XDG file
/// and `~/.gitconfig`, or only `GIT_CONFIG_GLOBAL`), as git's `git_global_config_paths`.
fn global_files() -> Vec<(PathBuf, Scope)> {
    let mut files = Vec::new();
    let no_system = std::env::var("GIT_CONFIG_NOSYSTEM")
        .ok()
        .is_some_and(|v| parse_bool(Some(&v)) == Some(true));
    if !no_system {
        match std::env::var_os("GIT_CONFIG_SYSTEM") {
            Some(path) => files.push((PathBuf::from(path), Scope::System)),
            None => {
                if let Ok(path) = git2::Config::find_system() {
                    files.push((path, Scope::System));
                }
            }
        }
    }
    match std::env::var_os("GIT_CONFIG_GLOBAL") {
        Some(path) => files.push((PathBuf::from(path), Scope::Global)),
        None => {
            if let Some(path) = xdg_config() {
                files.push((path, Scope::Global));
            }
            if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
                files.push((Path::new(&home).join(".gitconfig"), Scope::Global));
            }
        }
    }
    files
}

/// `$XDG_CONFIG_HOME/git/config`, else `~/.config/git/config`.
fn xdg_config() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(Path::new(&xdg).join("git").join("config"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".config").join("git").join("config"))
}

/// Puts in the files of the `hasconfig:remote.*.url:` includes whose glob matches one of
/// `urls` (git's `include_by_remote_url`), recursively; such a file may not set a URL.
fn expand_remote_url_includes(
    items: Vec<Item>,
    urls: &[String],
    context: &Context,
    depth: usize,
) -> Result<Vec<Item>> {
    let mut resolved = Vec::with_capacity(items.len());
    for item in items {
        let Item::RemoteUrlInclude { glob, path, scope } = item else {
            resolved.push(item);
            continue;
        };
        if !urls.iter().any(|url| wildmatch(&glob, url, false)) {
            continue;
        }
        if depth > MAX_INCLUDE_DEPTH {
            return Err(include_depth_error(&path));
        }
        let mut included = Vec::new();
        read_file(&path, scope, context, depth, true, &mut included)?;
        resolved.extend(expand_remote_url_includes(
            included,
            urls,
            context,
            depth + 1,
        )?);
    }
    Ok(resolved)
}

/// git's URL-collecting pass (`populate_remote_urls` with `unconditional_remote_url`):
/// every `includeIf` file whose condition holds, and every `hasconfig:` file whether its
/// glob matches or not, is read with `forbid_remote_url`, so a remote URL in any of them
/// is fatal.
fn forbid_remote_urls(items: &[Item], context: &Context) -> Result<()> {
    fn refuse(entry: &Entry, file: Option<&Path>) -> Error {
        let place = match file {
            Some(file) => format!("{} sets {}", file.display(), entry.key),
            None => format!("{} is set in one", entry.key),
        };
        Error::Config {
            reason: format!(
                "remote URLs cannot be configured in file directly or indirectly included by \
                 includeIf.hasconfig:remote.*.url ({place})"
            ),
        }
    }
    fn probe(items: &[Item], context: &Context, depth: usize, file: Option<&Path>) -> Result<()> {
        for item in items {
            match item {
                Item::Entry { entry, conditional } => {
                    if (*conditional || file.is_some()) && is_remote_url(&entry.key) {
                        return Err(refuse(entry, file));
                    }
                }
                Item::RemoteUrlInclude { path, scope, .. } => {
                    if depth > MAX_INCLUDE_DEPTH {
                        return Err(include_depth_error(path));
                    }
                    let mut included = Vec::new();
                    read_file(path, *scope, context, depth, true, &mut included)?;
                    probe(&included, context, depth + 1, Some(path))?;
                }
            }
        }
        Ok(())
    }
    probe(items, context, 1, None)
}

fn include_depth_error(path: &Path) -> Error {
    Error::Config {
        reason: format!(
            "exceeded maximum include depth ({MAX_INCLUDE_DEPTH}) while including {}: do you have circular includes?",
            path.display()
        ),
    }
}

/// Whether the repository's configuration turns on `config.worktree`.
fn worktree_config_enabled(items: &[Item]) -> bool {
    items
        .iter()
        .rev()
        .find_map(|item| match item {
            Item::Entry { entry, .. }
                if entry.scope == Scope::Local && entry.key == "extensions.worktreeconfig" =>
            {
                Some(parse_bool(entry.value.as_deref()) == Some(true))
            }
            _ => None,
        })
        .unwrap_or(false)
}

/// Reads one file as git's `git_config_from_file` with includes: libgit2 parses it and
/// follows its `include.path`s (it leaves out every conditional include, having no
/// repository); the `includeIf`s are evaluated here, where the including file is known.
fn read_file(
    path: &Path,
    scope: Scope,
    context: &Context,
    depth: usize,
    conditional: bool,
    out: &mut Vec<Item>,
) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    if depth > MAX_INCLUDE_DEPTH {
        return Err(include_depth_error(path));
    }
    let config = git2::Config::open(path).map_err(|source| Error::Config {
        reason: format!("cannot read {}: {}", path.display(), source.message()),
    })?;
    let mut entries = config.entries(None).map_err(|source| Error::Config {
        reason: format!("cannot read {}: {}", path.display(), source.message()),
    })?;
    // The file each entry came from: libgit2 reports only the include depth, and an
    // included file's entries follow the `include.path` line that named it.
    let mut files: Vec<PathBuf> = vec![path.to_path_buf()];
    let mut last_include: Vec<Option<PathBuf>> = vec![None];
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|source| Error::Config {
            reason: format!("cannot read {}: {}", path.display(), source.message()),
        })?;
        let level = entry.include_depth() as usize;
        if level >= files.len() {
            let parent = last_include.get(level - 1).cloned().flatten();
            files.push(parent.unwrap_or_else(|| path.to_path_buf()));
            last_include.push(None);
        }
        files.truncate(level + 1);
        last_include.truncate(level + 1);
        let here = files[level].clone();
        let key = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        let value = entry
            .has_value()
            .then(|| String::from_utf8_lossy(entry.value_bytes()).into_owned());
        if key == "include.path" {
            last_include[level] = value.as_deref().map(|v| include_path(&here, v));
        }
        let include_if = key
            .strip_prefix("includeif.")
            .and_then(|rest| rest.strip_suffix(".path"))
            .map(str::to_owned);
        out.push(Item::Entry {
            entry: Entry {
                key,
                value: value.clone(),
                scope,
                included: depth + level > 0,
            },
            conditional,
        });
        if let (Some(condition), Some(value)) = (include_if, value) {
            let target = include_path(&here, &value);
            last_include[level] = Some(target.clone());
            conditional_include(
                &condition,
                target,
                Some(&here),
                scope,
                context,
                depth + level + 1,
                out,
            )?;
        }
    }
    Ok(())
}

/// Follows an `includeIf.<condition>.path` whose target is `target`.
fn conditional_include(
    condition: &str,
    target: PathBuf,
    including: Option<&Path>,
    scope: Scope,
    context: &Context,
    depth: usize,
    out: &mut Vec<Item>,
) -> Result<()> {
    if let Some(glob) = condition.strip_prefix("hasconfig:remote.*.url:") {
        out.push(Item::RemoteUrlInclude {
            glob: glob.to_owned(),
            path: target,
            scope,
        });
        return Ok(());
    }
    if include_condition_is_true(condition, including, context) {
        read_file(&target, scope, context, depth, true, out)?;
    }
    Ok(())
}

/// git's `include_condition_is_true` for the conditions that do not need the whole
/// configuration: `gitdir:`, `gitdir/i:` and `onbranch:`. Unknown conditions are false.
fn include_condition_is_true(condition: &str, including: Option<&Path>, context: &Context) -> bool {
    if let Some(pattern) = condition.strip_prefix("gitdir:") {
        return include_by_gitdir(pattern, including, context, false);
    }
    if let Some(pattern) = condition.strip_prefix("gitdir/i:") {
        return include_by_gitdir(pattern, including, context, true);
    }
    if let Some(pattern) = condition.strip_prefix("onbranch:") {
        let Some(branch) = &context.branch else {
            return false;
        };
        let mut pattern = pattern.to_owned();
        if pattern.ends_with('/') {
            pattern.push_str("**");
        }
        return wildmatch(&pattern, branch, false);
    }
    false
}

/// git's `include_by_path` on the git directory: `~/` expanded, `./` relative to the
/// including file, other relative patterns match anywhere (`**/`), a trailing `/` means
/// everything below; tried on the real path, then on the path as given.
fn include_by_gitdir(
    pattern: &str,
    including: Option<&Path>,
    context: &Context,
    icase: bool,
) -> bool {
    let Some(git_dir) = &context.git_dir else {
        return false;
    };
    let mut pattern = expand_home(pattern).to_string_lossy().into_owned();
    let mut prefix = 0;
    if let Some(rest) = pattern.strip_prefix("./") {
        let Some(including) = including else {
            return false;
        };
        let real = std::fs::canonicalize(including).unwrap_or_else(|_| including.to_path_buf());
        let dir = real.parent().unwrap_or(Path::new("/")).to_string_lossy();
        let dir = dir.trim_end_matches('/');
        prefix = dir.len() + 1;
        pattern = format!("{dir}/{rest}");
    } else if !pattern.starts_with('/') {
        pattern.insert_str(0, "**/");
    }
    if pattern.ends_with('/') {
        pattern.push_str("**");
    }
    let real = std::fs::canonicalize(git_dir).unwrap_or_else(|_| git_dir.clone());
    let absolute = logical_path(git_dir);
    [real, absolute].iter().any(|text| {
        let text = text.to_string_lossy();
        if prefix > 0 {
            let (Some(p), Some(t)) = (pattern.get(..prefix), text.get(..prefix)) else {
                return false;
            };
            let same = if icase {
                p.eq_ignore_ascii_case(t)
            } else {
                p == t
            };
            if !same {
                return false;
            }
        }
        match (pattern.get(prefix..), text.get(prefix..)) {
            (Some(p), Some(t)) => wildmatch(p, t, icase),
            _ => false,
        }
    })
}

/// The git directory as git's `strbuf_add_absolute_path` spells it when git holds it
/// relative to the working directory (run at the top of a work tree, git's directory is
/// `.git`): under `$PWD` when `$PWD` names the working directory by another path (a
/// symbolic link, as in `gitdir:~/work/` with `~/work` a link), else as it is.
fn logical_path(git_dir: &Path) -> PathBuf {
    let absolute = std::path::absolute(git_dir).unwrap_or_else(|_| git_dir.to_path_buf());
    let (Ok(cwd), Some(pwd)) = (std::env::current_dir(), std::env::var_os("PWD")) else {
        return absolute;
    };
    let pwd = PathBuf::from(pwd);
    let Ok(rest) = absolute.strip_prefix(&cwd) else {
        return absolute;
    };
    if pwd == cwd || !pwd.is_absolute() || !same_file(&pwd, &cwd) {
        return absolute;
    }
    if rest.as_os_str().is_empty() {
        pwd
    } else {
        pwd.join(rest)
    }
}

/// Whether two paths name the same file (git compares `st_dev` and `st_ino`).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
    }
}

/// git's `wildmatch` with `WM_PATHNAME` (a `*` stops at `/`, `**/` crosses them).
fn wildmatch(pattern: &str, text: &str, icase: bool) -> bool {
    let mut mode = gix_glob::wildmatch::Mode::NO_MATCH_SLASH_LITERAL;
    if icase {
        mode |= gix_glob::wildmatch::Mode::IGNORE_CASE;
    }
    gix_glob::wildmatch(
        pattern.as_bytes().as_bstr(),
        text.as_bytes().as_bstr(),
        mode,
    )
}

/// An include's target: `~/` from the home directory, a relative path from the
/// including file's directory.
fn include_path(including: &Path, value: &str) -> PathBuf {
    let path = expand_home(value);
    if path.is_absolute() {
        path
    } else {
        including.parent().unwrap_or(Path::new("")).join(path)
    }
}

/// `~/…` from `$HOME`, as git's `interpolate_path` (the `~user/` form is left as is).
fn expand_home(value: &str) -> PathBuf {
    match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(value),
    }
}

fn is_remote_url(key: &str) -> bool {
    key.strip_prefix("remote.")
        .and_then(|rest| rest.strip_suffix(".url"))
        .is_some_and(|name| !name.is_empty())
}

/// The command line's settings, as git's `git_config_from_parameters`: first
/// `GIT_CONFIG_COUNT` pairs, then `GIT_CONFIG_PARAMETERS` (so `git -c` wins).
fn read_command_line(context: &Context, out: &mut Vec<Item>) -> Result<()> {
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    if let Some(count) = std::env::var_os("GIT_CONFIG_COUNT") {
        let count = count.to_string_lossy();
        let n: usize = if count.is_empty() {
            0
        } else {
            count
                .parse()
                .ok()
                .filter(|n| *n <= i32::MAX as usize)
                .ok_or_else(|| Error::Config {
                    reason: format!("bogus count in GIT_CONFIG_COUNT: {count:?}"),
                })?
        };
        for i in 0..n {
            let key = std::env::var(format!("GIT_CONFIG_KEY_{i}")).map_err(|_| Error::Config {
                reason: format!("missing config key GIT_CONFIG_KEY_{i}"),
            })?;
            let value =
                std::env::var(format!("GIT_CONFIG_VALUE_{i}")).map_err(|_| Error::Config {
                    reason: format!("missing config value GIT_CONFIG_VALUE_{i}"),
                })?;
            pairs.push((key, Some(value)));
        }
    }
    if let Some(parameters) = std::env::var_os("GIT_CONFIG_PARAMETERS") {
        pairs.extend(parse_parameters(&parameters.to_string_lossy())?);
    }
    for (key, value) in pairs {
        let key = canonical_key(&key).ok_or_else(|| Error::Config {
            reason: format!("invalid key in the command-line configuration: {key:?}"),
        })?;
        let include_if = key
            .strip_prefix("includeif.")
            .and_then(|rest| rest.strip_suffix(".path"))
            .map(str::to_owned);
        let include = key == "include.path";
        out.push(Item::Entry {
            entry: Entry {
                key,
                value: value.clone(),
                scope: Scope::Command,
                included: false,
            },
            conditional: false,
        });
        let Some(value) = value else { continue };
        if !include && include_if.is_none() {
            continue;
        }
        // git: "relative config includes must come from files".
        let target = expand_home(&value);
        if !target.is_absolute() {
            return Err(Error::Config {
                reason: format!(
                    "relative config includes must come from files ({value:?} on the command line)"
                ),
            });
        }
        match include_if {
            Some(condition) => {
                conditional_include(&condition, target, None, Scope::Command, context, 1, out)?
            }
            None => read_file(&target, Scope::Command, context, 1, false, out)?,
        }
    }
    Ok(())
}

/// Parses `GIT_CONFIG_PARAMETERS` as git's `parse_config_env_list`: single-quoted words
/// (`'\''` and `'\!'` escapes) separated by spaces, each either the old `'key=value'`
/// or the new `'key'='value'` (`'key'=` alone is an implicit true).
pub fn parse_parameters(text: &str) -> Result<Vec<(String, Option<String>)>> {
    let bogus = || Error::Config {
        reason: format!("bogus format in GIT_CONFIG_PARAMETERS: {text:?}"),
    };
    let mut pairs = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = sq_dequote_step(rest).ok_or_else(bogus)?;
        rest = after;
        if rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            // Old style: 'key=value', split at the first '='.
            match key.split_once('=') {
                Some((k, v)) => pairs.push((k.to_owned(), Some(v.to_owned()))),
                None => pairs.push((key, None)),
            }
        } else if let Some(after_eq) = rest.strip_prefix('=') {
            if after_eq.starts_with('\'') {
                let (value, after) = sq_dequote_step(after_eq).ok_or_else(bogus)?;
                if !(after.is_empty() || after.starts_with(|c: char| c.is_ascii_whitespace())) {
                    return Err(bogus());
                }
                rest = after;
                pairs.push((key, Some(value)));
            } else if after_eq.is_empty() || after_eq.starts_with(|c: char| c.is_ascii_whitespace())
            {
                rest = after_eq;
                pairs.push((key, None));
            } else {
                return Err(bogus());
            }
        } else {
            return Err(bogus());
        }
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    for (key, _) in &pairs {
        if key.is_empty() {
            return Err(Error::Config {
                reason: format!("bogus config parameter in GIT_CONFIG_PARAMETERS: {text:?}"),
            });
        }
    }
    Ok(pairs)
}

/// git's `sq_dequote_step`: one single-quoted word, where `'\''` and `'\!'` stand for
/// the character; returns the word and what follows it.
fn sq_dequote_step(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut word = String::new();
    let bytes = text.as_bytes();
    let mut i = 1;
    loop {
        let c = text[i..].chars().next()?;
        if c != '\'' {
            word.push(c);
            i += c.len_utf8();
            continue;
        }
        // Out of the quotes: a backslashed ' or ! resumes them, anything else ends
        // the word.
        i += 1;
        if bytes.get(i) == Some(&b'\\')
            && matches!(bytes.get(i + 1), Some(b'\'' | b'!'))
            && bytes.get(i + 2) == Some(&b'\'')
        {
            word.push(bytes[i + 1] as char);
            i += 3;
            continue;
        }
        return Some((word, &text[i..]));
    }
}

/// git's `git_config_parse_key`: section and variable name lower-cased (and checked),
/// the subsection kept as written. `None` for a key git refuses.
pub fn canonical_key(key: &str) -> Option<String> {
    let first_dot = key.find('.')?;
    let last_dot = key.rfind('.')?;
    if first_dot == 0 || last_dot + 1 == key.len() {
        return None;
    }
    let section = &key[..first_dot];
    let name = &key[last_dot + 1..];
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if !section.chars().all(|c| is_key_char(c) || c == '.')
        || !name.chars().all(is_key_char)
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return None;
    }
    let middle = &key[first_dot..=last_dot];
    if middle.contains('\n') {
        return None;
    }
    Some(format!(
        "{}{middle}{}",
        section.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_new_and_old_style_with_git_quoting() {
        let parsed = parse_parameters(
            "'user.name'='Ada '\\''Quote'\\'' =x' 'core.bare' 'tag.gpgSign'= 'a.b=c=d' 'x.y'=''",
        )
        .unwrap();
        assert_eq!(
            parsed,
            vec![
                ("user.name".into(), Some("Ada 'Quote' =x".into())),
                ("core.bare".into(), None),
                ("tag.gpgSign".into(), None),
                ("a.b".into(), Some("c=d".into())),
                ("x.y".into(), Some(String::new())),
            ]
        );
    }

    #[test]
    fn parameters_git_would_refuse_are_errors() {
        for bad in ["'unterminated", "user.name=x", "'a.b'x", "'a.b'='c'd", "''"] {
            assert!(parse_parameters(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_are_canonical_as_git_makes_them() {
        assert_eq!(
            canonical_key("Remote.Origin.URL").as_deref(),
            Some("remote.Origin.url")
        );
        assert_eq!(canonical_key("tag.gpgSign").as_deref(), Some("tag.gpgsign"));
        assert_eq!(canonical_key("nodot"), None);
        assert_eq!(canonical_key("a.1b"), None);
        assert_eq!(canonical_key("a."), None);
    }

    fn config(pairs: &[(&str, Option<&str>)]) -> GitConfig {
        GitConfig::from_entries(
            pairs
                .iter()
                .map(|(key, value)| Entry {
                    key: canonical_key(key).unwrap(),
                    value: value.map(str::to_owned),
                    scope: Scope::Command,
                    included: false,
                })
                .collect(),
        )
    }

    /// git's parse_fsync_components: prefixes match, `-x` removes, an empty word stops
    /// the list, the last setting wins.
    #[test]
    fn core_fsync_covers_references_as_git_reads_it() {
        let cases: &[(&str, bool)] = &[
            ("reference", true),
            ("committed", true),
            ("added", true),
            ("all", true),
            ("ref", true),
            ("c", true),
            ("objects,pack", false),
            ("objects, reference", true),
            ("reference ", false),
            ("-reference", false),
            ("none", false),
            ("bogus,reference", true),
            ("-,reference", false),
            ("objects,,reference", true),
            (" ,\treference", true),
            ("none", false),
            ("none,reference", true),
            ("loose-object", false),
        ];
        for (value, expected) in cases {
            let config = config(&[("core.fsync", Some(value))]);
            assert_eq!(config.fsyncs_references(), *expected, "{value:?}");
        }
        assert!(!config(&[]).fsyncs_references());
        let last_wins = config(&[
            ("core.fsync", Some("reference")),
            ("core.fsync", Some("objects")),
        ]);
        assert!(!last_wins.fsyncs_references());
    }

    #[test]
    fn core_log_all_ref_updates_as_git_reads_it() {
        let read = |value: Option<&str>, bare| {
            config(&[("core.logAllRefUpdates", value)]).log_all_ref_updates(bare)
        };
        assert_eq!(read(Some("ALWAYS"), true).unwrap(), LogRefUpdates::Always);
        assert_eq!(read(Some("yes"), true).unwrap(), LogRefUpdates::Normal);
        assert_eq!(read(None, true).unwrap(), LogRefUpdates::Normal);
        assert_eq!(read(Some("0"), false).unwrap(), LogRefUpdates::Never);
        assert!(read(Some("maybe"), false).is_err());
        assert_eq!(
            config(&[]).log_all_ref_updates(false).unwrap(),
            LogRefUpdates::Normal
        );
        assert_eq!(
            config(&[]).log_all_ref_updates(true).unwrap(),
            LogRefUpdates::Never
        );
        assert!(LogRefUpdates::Normal.creates_log_for("refs/notes/releases"));
        assert!(!LogRefUpdates::Normal.creates_log_for("refs/tags/v1"));
        assert!(LogRefUpdates::Always.creates_log_for("refs/tags/v1"));
    }

    #[test]
    fn booleans_read_as_git_reads_them() {
        assert_eq!(parse_bool(None), Some(true));
        assert_eq!(parse_bool(Some("")), Some(false));
        assert_eq!(parse_bool(Some("YES")), Some(true));
        assert_eq!(parse_bool(Some("off")), Some(false));
        assert_eq!(parse_bool(Some("2")), Some(true));
        assert_eq!(parse_bool(Some("0x0")), Some(false));
        assert_eq!(parse_bool(Some("1k")), Some(true));
        assert_eq!(parse_bool(Some("maybe")), None);
    }
}
