//! The knobs that change `git archive`'s bytes, fixed for canonical archives and read
//! from git's own view of the configuration for `--local-config` (docs/archive-format.md,
//! "One canonical mode").

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::convert::{AutoCrlf, CoreEol, EolConfig};
use crate::error::{Error, Result};

/// Which configuration an archive follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// As a server with no configuration makes it: attributes from the archived tree
    /// only, tar.umask 002, zip times in UTC, LFS objects included when present.
    #[default]
    Canonical,
    /// As the local `git archive` makes it: local, global and system configuration and
    /// attribute files, zip times in the local time zone.
    LocalConfig,
}

pub(crate) struct Settings {
    pub canonical: bool,
    pub eol: EolConfig,
    pub umask: u32,
    pub zip_utc: bool,
    pub big_file_threshold: u64,
    pub ignore_case: bool,
    /// `diff.<driver>.binary`.
    pub diff_binary: HashMap<String, bool>,
    /// Filter drivers with a smudge or process command: git runs them, so their files
    /// are taken from git.
    pub filter_drivers: HashSet<String>,
    pub global_attributes: Vec<PathBuf>,
    pub info_attributes: Option<PathBuf>,
}

const DEFAULT_BIG_FILE_THRESHOLD: u64 = 512 * 1024 * 1024;

impl Settings {
    pub(crate) fn canonical() -> Self {
        Settings {
            canonical: true,
            eol: EolConfig::default(),
            umask: 0o002,
            zip_utc: true,
            big_file_threshold: DEFAULT_BIG_FILE_THRESHOLD,
            ignore_case: false,
            diff_binary: HashMap::new(),
            filter_drivers: HashSet::new(),
            global_attributes: Vec::new(),
            info_attributes: None,
        }
    }

    /// Reads the configuration through `git config --list`, so that includes, `-c`,
    /// `GIT_CONFIG_*` and worktree configuration count exactly as for git.
    pub(crate) fn local(git_dir: &Path, common_dir: &Path) -> Result<Self> {
        let list = git_output(git_dir, &["config", "--list", "-z"])?;
        let mut config: HashMap<String, String> = HashMap::new();
        for item in list.split(|&b| b == 0).filter(|i| !i.is_empty()) {
            let item = String::from_utf8_lossy(item);
            let (key, value) = item.split_once('\n').unwrap_or((&item, ""));
            // Later settings win, as in git; keys are case-insensitive except the
            // subsection, which `git config --list` already prints as written.
            config.insert(lower_key(key), value.to_owned());
        }
        let get = |k: &str| config.get(k).map(String::as_str);
        let mut s = Settings::canonical();
        s.canonical = false;
        s.zip_utc = false;
        s.eol.autocrlf = match get("core.autocrlf") {
            Some(v) if v.eq_ignore_ascii_case("input") => AutoCrlf::Input,
            Some(v) if parse_bool(v) == Some(true) => AutoCrlf::True,
            _ => AutoCrlf::False,
        };
        s.eol.eol = match get("core.eol").map(str::to_ascii_lowercase).as_deref() {
            Some("lf") => CoreEol::Lf,
            Some("crlf") => CoreEol::Crlf,
            _ => CoreEol::Unset,
        };
        if let Some(v) = get("tar.umask") {
            s.umask = if v == "user" {
                process_umask()
            } else {
                parse_int(v).unwrap_or(0o002) as u32
            };
        }
        if let Some(v) = get("core.bigfilethreshold").and_then(parse_int) {
            s.big_file_threshold = v;
        }
        s.ignore_case = get("core.ignorecase").and_then(parse_bool).unwrap_or(false);
        for (key, value) in &config {
            if let Some(driver) = key
                .strip_prefix("diff.")
                .and_then(|k| k.strip_suffix(".binary"))
            {
                if let Some(b) = parse_bool(value) {
                    s.diff_binary.insert(driver.to_owned(), b);
                }
            }
            if let Some(rest) = key.strip_prefix("filter.") {
                let driver = rest
                    .strip_suffix(".smudge")
                    .or_else(|| rest.strip_suffix(".process"));
                if let Some(driver) = driver.filter(|_| !value.is_empty()) {
                    s.filter_drivers.insert(driver.to_owned());
                }
            }
        }
        if std::env::var_os("GIT_ATTR_NOSYSTEM")
            .is_none_or(|v| parse_bool(&v.to_string_lossy()) != Some(true))
        {
            if let Some(path) = git_var(git_dir, "GIT_ATTR_SYSTEM") {
                s.global_attributes.push(path);
            }
        }
        if let Some(path) = git_var(git_dir, "GIT_ATTR_GLOBAL") {
            s.global_attributes.push(path);
        }
        let info = common_dir.join("info").join("attributes");
        if info.is_file() {
            s.info_attributes = Some(info);
        }
        Ok(s)
    }
}

fn lower_key(key: &str) -> String {
    match (key.find('.'), key.rfind('.')) {
        (Some(first), Some(last)) if first != last => {
            format!(
                "{}{}{}",
                key[..first].to_ascii_lowercase(),
                &key[first..last],
                key[last..].to_ascii_lowercase()
            )
        }
        _ => key.to_ascii_lowercase(),
    }
}

fn git_output(git_dir: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::GitCommand {
            command: format!("git {}", args.join(" ")),
            reason: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(Error::GitCommand {
            command: format!("git {}", args.join(" ")),
            reason: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

fn git_var(git_dir: &Path, name: &str) -> Option<PathBuf> {
    let out = git_output(git_dir, &["var", name]).ok()?;
    let text = String::from_utf8(out).ok()?;
    let path = text.trim_end_matches('\n');
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// git's boolean spellings.
fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" | "" => Some(false),
        other => other.parse::<i64>().ok().map(|n| n != 0),
    }
}

/// git's integers: C base prefixes (`0` octal, `0x` hex) and k/m/g suffixes.
pub(crate) fn parse_int(v: &str) -> Option<u64> {
    let v = v.trim();
    let (digits, factor) = match v.chars().last()?.to_ascii_lowercase() {
        'k' => (&v[..v.len() - 1], 1024),
        'm' => (&v[..v.len() - 1], 1024 * 1024),
        'g' => (&v[..v.len() - 1], 1024 * 1024 * 1024),
        _ => (v, 1),
    };
    let n = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    n.checked_mul(factor)
}

#[cfg(target_os = "linux")]
fn process_umask() -> u32 {
    // umask can only be read by setting it; put the old value straight back.
    unsafe {
        let old = libc_umask(0o022);
        libc_umask(old);
        old
    }
}

#[cfg(target_os = "linux")]
unsafe extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

#[cfg(not(target_os = "linux"))]
fn process_umask() -> u32 {
    0o002
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_gits_parser() {
        assert_eq!(parse_int("002"), Some(2));
        assert_eq!(parse_int("0022"), Some(0o22));
        assert_eq!(parse_int("18"), Some(18));
        assert_eq!(parse_int("1k"), Some(1024));
        assert_eq!(parse_int("0x10"), Some(16));
        assert_eq!(lower_key("Diff.MyDriver.Binary"), "diff.MyDriver.binary");
    }
}
