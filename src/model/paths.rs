//! Names from outside that become paths: the one set of rules for them.
//!
//! A project name (from `.git-release.toml`, git config or a remote URL), an archive
//! prefix, an asset's file name and the paths of a tree being archived can all come
//! from someone else's repository, record or server. Each is checked where it enters
//! (`check_file_name`, `check_prefix`, `verify_path`) and joined to a directory only
//! through `confine`, which refuses anything but one plain file name.

use std::path::{Component, Path, PathBuf};

/// Why `name` cannot be one file created inside a directory we were told to write to:
/// empty, `.` or `..`, a path separator (`/`, or `\` that Windows takes as one), a
/// control character, or an
/// invisible or reordering character (Unicode format characters such as U+202E, which
/// make `exe.png` of `\u{202e}gnp.exe`), or one of the names git refuses to check out
/// (`.git` in any spelling NTFS or HFS+ reads as `.git`).
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("{name:?} names a directory, not a file"));
    }
    if let Some(c) = name.chars().find(|c| matches!(c, '/' | '\\')) {
        return Err(format!(
            "it contains {c:?}, which would put the file in another directory"
        ));
    }
    if let Some(c) = name.chars().find(|&c| crate::text::is_hidden_or_control(c)) {
        return Err(format!(
            "it contains the invisible or control character {}",
            crate::text::escape_char(c)
        ));
    }
    if !verify_path(name.as_bytes(), FileMode::File) {
        return Err("git refuses it as a path (it is .git in some spelling)".into());
    }
    Ok(())
}

/// Why `prefix` cannot start every entry of an archive: an absolute path, a `..` or `.`
/// component, or a component `check_file_name` refuses — whatever the prefix, an
/// extracted archive stays inside the directory it is extracted in. (`git archive`
/// takes any prefix; ours may come from a fetched record.) A prefix without a trailing
/// `/` is glued to each path (`x-` gives `x-a.txt`), as git does; its last part is
/// checked as a file name all the same.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    if prefix.starts_with('/') || prefix.starts_with('\\') {
        return Err("it is absolute; an archive's entries must stay in its directory".into());
    }
    for part in prefix.split('/').filter(|p| !p.is_empty()) {
        check_file_name(part).map_err(|reason| format!("its part {part:?}: {reason}"))?;
    }
    Ok(())
}

/// `dir/name`, only when `name` is one plain file name (`check_file_name`); the one way
/// a name from outside is joined to a directory we write in.
pub fn confine(dir: &Path, name: &str) -> Result<PathBuf, String> {
    check_file_name(name)?;
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) => Ok(dir.join(name)),
        _ => Err("it is not a single file name".into()),
    }
}

/// The kind of tree entry a path names (git's `verify_path` treats symlinks apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    File,
    Symlink,
    /// A submodule (gitlink) entry.
    Gitlink,
}

/// Whether git accepts `path` (a full path of a tree, `/`-separated) as an index entry,
/// so `git archive` and `git checkout` work on the tree: git's `verify_path` with
/// both `core.protectNTFS` (git's default everywhere) and `core.protectHFS` (its
/// default on macOS) on, so that an archive extracted on any system cannot write a
/// `.git` directory or a `.gitmodules` symlink. Refused: empty components, `.` and
/// `..`, `.git` in any case; on NTFS, `.git` followed by dots, spaces or an
/// alternate data stream (`.git::$INDEX_ALLOCATION`) and its 8.3 name `git~1`, also
/// after a `\`; on HFS+, `.git` with ignorable characters inside (`.g\u{200c}it`);
/// and a symlink named `.gitmodules` in any of these spellings (`.gitmodules.`,
/// `GITMOD~1`, `gi7eba~3`).
pub fn verify_path(path: &[u8], mode: FileMode) -> bool {
    let symlink = mode == FileMode::Symlink;
    // Each component is checked at its start, against the rest of the path (git's
    // checks look at the rest up to the next separator).
    let mut start = 0;
    loop {
        let rest = &path[start..];
        if is_hfs_dot(rest, b"git") || (symlink && is_hfs_dot(rest, b"gitmodules")) {
            return false;
        }
        if is_ntfs_dotgit(rest) || (symlink && is_ntfs_dot(rest, b"gitmodules", b"gi7eba")) {
            return false;
        }
        match rest.first() {
            None | Some(b'/') => return false,
            Some(b'.') if !dotfile_allowed(&rest[1..], symlink) => return false,
            _ => {}
        }
        // Inside a component, a backslash starts another one on NTFS.
        let mut i = 0;
        loop {
            match rest.get(i) {
                None => return true,
                Some(b'/') => break,
                Some(b'\\') => {
                    let after = &rest[i + 1..];
                    if is_ntfs_dotgit(after)
                        || (symlink && is_ntfs_dot(after, b"gitmodules", b"gi7eba"))
                    {
                        return false;
                    }
                }
                Some(_) => {}
            }
            i += 1;
        }
        start += i + 1;
    }
}

fn is_separator(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b'/'))
}

/// After a leading `.`: `.` and `..`, `.git` in any case, and for a symlink
/// `.gitmodules` in any case, are refused (git's `verify_dotfile`).
fn dotfile_allowed(rest: &[u8], symlink: bool) -> bool {
    if is_separator(rest.first()) {
        return false;
    }
    if rest.first() == Some(&b'.') && is_separator(rest.get(1)) {
        return false;
    }
    if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"git") {
        let after = &rest[3..];
        if is_separator(after.first()) {
            return false;
        }
        if symlink
            && after.len() >= 7
            && after[..7].eq_ignore_ascii_case(b"modules")
            && is_separator(after.get(7))
        {
            return false;
        }
    }
    true
}

/// NTFS's names for `.git`: `.git` or `git~1` (any case), then only dots and spaces
/// up to the end of the component, which also ends at `\` or at `:` (a stream).
fn is_ntfs_dotgit(name: &[u8]) -> bool {
    let rest = if name.len() >= 4 && name[0] == b'.' && name[1..4].eq_ignore_ascii_case(b"git") {
        &name[4..]
    } else if name.len() >= 5 && name[..3].eq_ignore_ascii_case(b"git") && &name[3..5] == b"~1" {
        &name[5..]
    } else {
        return false;
    };
    for &c in rest {
        match c {
            b'\\' | b'/' | b':' => return true,
            b'.' | b' ' => {}
            _ => return false,
        }
    }
    true
}

/// NTFS's names for `.<dotted>` (here `.gitmodules`): the long name, its regular 8.3
/// short name (first six letters, `~1`…`~4`), or the hashed fall-back short name
/// (`short_prefix` then `~` and digits); each followed only by dots and spaces up to
/// the end of the name or a `:` (git's `is_ntfs_dot_generic`).
fn is_ntfs_dot(name: &[u8], dotted: &[u8], short_prefix: &[u8]) -> bool {
    let only_dots_and_spaces = |tail: &[u8]| {
        for &c in tail {
            match c {
                b':' => return true,
                b' ' | b'.' => {}
                _ => return false,
            }
        }
        true
    };
    // The name ends at the component's end: git looks at the whole rest of the path,
    // where a '/' is neither a dot nor a space, so it never matches across components.
    let n = dotted.len();
    if name.len() > n && name[0] == b'.' && name[1..=n].eq_ignore_ascii_case(dotted) {
        return only_dots_and_spaces(&name[n + 1..]);
    }
    if name.len() >= 8
        && name[..6].eq_ignore_ascii_case(&dotted[..6])
        && name[6] == b'~'
        && (b'1'..=b'4').contains(&name[7])
    {
        return only_dots_and_spaces(&name[8..]);
    }
    // Fall-back short name: up to six letters of `short_prefix`, `~`, a digit 1-9,
    // more digits, eight characters in all.
    let mut i = 0;
    let mut saw_tilde = false;
    while i < 8 {
        let Some(&c) = name.get(i) else {
            return false;
        };
        if saw_tilde {
            if !c.is_ascii_digit() {
                return false;
            }
        } else if c == b'~' {
            i += 1;
            match name.get(i) {
                Some(d) if (b'1'..=b'9').contains(d) => saw_tilde = true,
                _ => return false,
            }
        } else if i >= 6 || c >= 0x80 || c.to_ascii_lowercase() != short_prefix[i] {
            return false;
        }
        i += 1;
    }
    only_dots_and_spaces(&name[i..])
}

/// HFS+'s names for `.<needle>`: the same letters in any case, with the code points
/// HFS+ ignores (zero-width joiners, direction marks, U+FEFF, …) anywhere in between,
/// up to the end of the component (git's `is_hfs_dot_generic`).
fn is_hfs_dot(name: &[u8], needle: &[u8]) -> bool {
    // Invalid UTF-8 cannot be `.git` to HFS+.
    let text = match std::str::from_utf8(name) {
        Ok(text) => text,
        Err(e) => match std::str::from_utf8(&name[..e.valid_up_to()]) {
            Ok(valid) => valid,
            Err(_) => return false,
        },
    };
    let mut chars = text.chars().filter(|&c| !hfs_ignorable(c));
    if chars.next() != Some('.') {
        return false;
    }
    for &expected in needle {
        match chars.next() {
            Some(c) if c.is_ascii() && c.to_ascii_lowercase() as u8 == expected => {}
            _ => return false,
        }
    }
    // The component ends at a '/', at the path's end, or (as git reads it) at bytes
    // that are not UTF-8.
    chars.next().is_none_or(|c| c == '/')
}

/// The code points HFS+ drops when comparing names (as git's `next_hfs_char` lists them).
fn hfs_ignorable(c: char) -> bool {
    matches!(c,
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_path_refuses_what_git_refuses() {
        for bad in [
            &b".."[..],
            b".",
            b"",
            b"a//b",
            b"a/",
            b"/a",
            b"a/../b",
            b".git",
            b".GIT",
            b"sub/.Git/config",
            b".git. ",
            b"git~1",
            b"GIT~1/hooks",
            b".git::$INDEX_ALLOCATION/post-checkout",
            b"a\\.git",
            b"a\\git~1\\x",
            b".g\xe2\x80\x8cit",
            b".\xef\xbb\xbfgit/x",
        ] {
            assert!(
                !verify_path(bad, FileMode::File),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        for bad_link in [
            &b".gitmodules"[..],
            b".GITMODULES",
            b".gitmodules.",
            b".gitmodules ::$DATA",
            b"GITMOD~1",
            b"gitmod~4",
            b"gi7eba~9",
            b"gi7eb~12",
            b".g\xe2\x80\x8ditmodules",
            b"dir/.gitmodules",
        ] {
            assert!(
                !verify_path(bad_link, FileMode::Symlink),
                "{:?}",
                String::from_utf8_lossy(bad_link)
            );
            assert!(
                verify_path(bad_link, FileMode::File),
                "{:?} is fine as a file",
                String::from_utf8_lossy(bad_link)
            );
        }
        for good in [
            &b"a"[..],
            b"a/b",
            b".gitignore",
            b".github/workflows/ci.yml",
            b"git~2",
            b".gitx",
            b"a\\b",
            b"...",
            b".gitmodules/x",
            b"gitmod~5",
            b"\xff\xfe",
        ] {
            assert!(
                verify_path(good, FileMode::File),
                "{:?}",
                String::from_utf8_lossy(good)
            );
        }
        assert!(verify_path(b"gitmod~5", FileMode::Symlink));
        assert!(!verify_path(b".gitmodules/x", FileMode::Symlink));
    }

    #[test]
    fn file_names_are_one_plain_component() {
        for good in ["p-v1.0.tar.gz", "linux amd64", "é", ".hidden", "a..b"] {
            assert_eq!(check_file_name(good), Ok(()), "{good:?}");
            assert_eq!(
                confine(Path::new("dist"), good).unwrap(),
                Path::new("dist").join(good)
            );
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/abs",
            "a/b",
            "a\\b",
            "a\nb",
            "bidi \u{202e}gnp.exe",
            "zero\u{200b}width",
            ".git",
            "GIT~1",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
            assert!(confine(Path::new("dist"), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prefixes_stay_inside() {
        for good in ["p-v1/", "a/b/", "x-", "", "p//"] {
            assert_eq!(check_prefix(good), Ok(()), "{good:?}");
        }
        for bad in ["../", "/tmp/x/", "a/../../b/", "./", ".git/", "a\u{202e}/"] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
    }
}
