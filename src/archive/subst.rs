//! Files whose content only git itself can produce exactly: `export-subst` (git's
//! pretty formats, `%(describe)` expanded once per archive, `%d` decorated with every
//! ref, no signatures), and in `--local-config` mode files with a configured filter
//! driver or a `working-tree-encoding`. One `git archive` limited to those files gives
//! their final bytes (docs/archive-format.md, "Attributes, export-ignore,
//! export-subst and conversion"). The files are chosen by attribute pathspecs
//! (`:(attr:export-subst)`), never listed on the command line: a tree may have any
//! number of them under paths of any length ("Argument list too long"), and one
//! archive keeps git's rule that `%(describe)` expands once per archive.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Runs `git archive --format=tar <commit> -- <selectors>` (attribute pathspecs) and
/// returns each file's content by path. `canonical` pins the configuration that can
/// change the output to git's defaults, so that only the archived tree's attributes
/// decide.
pub(crate) fn contents_from_git(
    git_dir: &Path,
    work_dir: Option<&Path>,
    commit_hex: &str,
    selectors: &[&str],
    canonical: bool,
) -> Result<HashMap<Vec<u8>, Vec<u8>>> {
    let mut cmd = Command::new("git");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
    ] {
        cmd.env_remove(var);
    }
    cmd.arg("--git-dir").arg(git_dir);
    if canonical {
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_ATTR_NOSYSTEM", "1");
        for setting in [
            "core.autocrlf=false",
            "core.eol=lf",
            "core.abbrev=auto",
            "core.attributesFile=/dev/null",
            "core.bigFileThreshold=512m",
            "i18n.logOutputEncoding=UTF-8",
        ] {
            cmd.arg("-c").arg(setting);
        }
    }
    // The selectors are pathspec magic, which literal pathspecs would turn off.
    for var in [
        "GIT_LITERAL_PATHSPECS",
        "GIT_GLOB_PATHSPECS",
        "GIT_NOGLOB_PATHSPECS",
        "GIT_ICASE_PATHSPECS",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["archive", "--format=tar", commit_hex, "--"]);
    cmd.args(selectors);
    // git archive treats a run from a subdirectory as "archive that subdirectory".
    cmd.current_dir(work_dir.unwrap_or(git_dir));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = "git archive (for export-subst files)".to_owned();
    let mut child = cmd.spawn().map_err(|source| Error::GitCommand {
        command: what.clone(),
        reason: source.to_string(),
    })?;
    let mut stdout = child.stdout.take().ok_or_else(|| Error::GitCommand {
        command: what.clone(),
        reason: "no output pipe".into(),
    })?;
    let parsed = read_tar(&mut stdout);
    // Drain git's end-of-archive padding so it never blocks on a full pipe.
    let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    let output = child
        .wait_with_output()
        .map_err(|source| Error::GitCommand {
            command: what.clone(),
            reason: source.to_string(),
        })?;
    if !output.status.success() {
        return Err(Error::GitCommand {
            command: what,
            reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    parsed.map_err(|e| Error::GitCommand {
        command: what,
        reason: format!("unreadable output: {e}"),
    })
}

/// Whether export-subst content holds a `$Format:…$` placeholder whose expansion
/// depends on refs rather than on the commit alone: `%d`/`%D` (decorations) and
/// `%(describe…)` (the nearest tag). `%%` is a literal percent sign.
pub(crate) fn depends_on_refs(content: &[u8]) -> bool {
    const START: &[u8] = b"$Format:";
    let mut rest = content;
    while let Some(at) = find(rest, START) {
        let after = &rest[at + START.len()..];
        let Some(end) = after.iter().position(|&b| b == b'$') else {
            return false;
        };
        let format = &after[..end];
        let mut i = 0;
        while i < format.len() {
            if format[i] == b'%' {
                match format.get(i + 1) {
                    Some(b'%') => i += 1,
                    Some(b'd' | b'D') => return true,
                    Some(b'(') if format[i + 1..].starts_with(b"(describe") => return true,
                    _ => {}
                }
            }
            i += 1;
        }
        rest = &after[end + 1..];
    }
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn read_tar(input: &mut impl Read) -> std::io::Result<HashMap<Vec<u8>, Vec<u8>>> {
    let mut archive = tar::Archive::new(input);
    let mut out = HashMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path_bytes().into_owned();
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data)?;
        out.insert(path, data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::depends_on_refs;

    #[test]
    fn only_ref_placeholders_make_content_ref_dependent() {
        assert!(depends_on_refs(b"v: $Format:%d$\n"));
        assert!(depends_on_refs(b"$Format:%H$ $Format:%D$"));
        assert!(depends_on_refs(b"$Format:%(describe:tags)$"));
        assert!(!depends_on_refs(b"$Format:%H %cd$"));
        assert!(!depends_on_refs(b"$Format:%%d$"));
        assert!(!depends_on_refs(b"%d without a placeholder"));
        assert!(!depends_on_refs(b"$Format:%d"));
    }
}
