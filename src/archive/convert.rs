//! Checkout conversion as git's convert.c applies it to archived files: `ident` first
//! (hashing the blob as stored), then LF → CRLF where the `text`/`eol`/`crlf` attributes
//! and `core.autocrlf`/`core.eol` ask for it. gix-filter has these too, but only behind
//! its driver pipeline built on gix-object and gix-worktree; the two functions git uses
//! here are short enough to mirror line for line, which keeps their quirks visible.

use super::attributes::{Attrs, Value};

/// `core.autocrlf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum AutoCrlf {
    #[default]
    False,
    True,
    Input,
}

/// `core.eol`; `Unset` means native, which is LF everywhere this runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum CoreEol {
    #[default]
    Unset,
    Lf,
    Crlf,
}

/// git's `enum convert_crlf_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrlfAction {
    Undefined,
    Binary,
    Text,
    TextInput,
    TextCrlf,
    Auto,
    AutoInput,
    AutoCrlf,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EolConfig {
    pub autocrlf: AutoCrlf,
    pub eol: CoreEol,
}

impl EolConfig {
    fn text_eol_is_crlf(self) -> bool {
        match self.autocrlf {
            AutoCrlf::True => true,
            AutoCrlf::Input => false,
            AutoCrlf::False => self.eol == CoreEol::Crlf,
        }
    }

    /// convert.c `convert_attrs`: the `text` attribute, else the legacy `crlf`, refined
    /// by `eol`, then by the configuration.
    pub(crate) fn crlf_action(self, attrs: &Attrs) -> CrlfAction {
        let mut action = match check_crlf(&attrs.text) {
            CrlfAction::Undefined => check_crlf(&attrs.crlf),
            action => action,
        };
        if action != CrlfAction::Binary {
            let eol_lf = attrs.eol.is("lf");
            let eol_crlf = attrs.eol.is("crlf");
            action = match action {
                CrlfAction::Auto if eol_lf => CrlfAction::AutoInput,
                CrlfAction::Auto if eol_crlf => CrlfAction::AutoCrlf,
                _ if eol_lf => CrlfAction::TextInput,
                _ if eol_crlf => CrlfAction::TextCrlf,
                action => action,
            };
        }
        match action {
            CrlfAction::Text if self.text_eol_is_crlf() => CrlfAction::TextCrlf,
            CrlfAction::Text => CrlfAction::TextInput,
            CrlfAction::Undefined => match self.autocrlf {
                AutoCrlf::False => CrlfAction::Binary,
                AutoCrlf::True => CrlfAction::AutoCrlf,
                AutoCrlf::Input => CrlfAction::AutoInput,
            },
            action => action,
        }
    }

    fn output_is_crlf(self, action: CrlfAction) -> bool {
        match action {
            CrlfAction::Binary | CrlfAction::TextInput | CrlfAction::AutoInput => false,
            CrlfAction::TextCrlf | CrlfAction::Undefined | CrlfAction::AutoCrlf => true,
            CrlfAction::Text | CrlfAction::Auto => self.text_eol_is_crlf(),
        }
    }

    /// Applies `ident` and the end-of-line conversion; `None` when nothing changes.
    pub(crate) fn to_worktree(
        self,
        data: &[u8],
        blob_id: &str,
        action: CrlfAction,
        ident: bool,
    ) -> Option<Vec<u8>> {
        let after_ident = if ident {
            ident_to_worktree(data, blob_id)
        } else {
            None
        };
        let src = after_ident.as_deref().unwrap_or(data);
        match self.crlf_to_worktree(src, action) {
            Some(converted) => Some(converted),
            None => after_ident,
        }
    }

    fn crlf_to_worktree(self, src: &[u8], action: CrlfAction) -> Option<Vec<u8>> {
        if src.is_empty() || !self.output_is_crlf(action) {
            return None;
        }
        let stats = Stats::gather(src);
        if stats.lonelf == 0 {
            return None;
        }
        if matches!(action, CrlfAction::Auto | CrlfAction::AutoInput | CrlfAction::AutoCrlf)
            // Auto never touches a file that already has CRs, or looks binary.
            && (stats.lonecr > 0 || stats.crlf > 0 || stats.is_binary())
        {
            return None;
        }
        let mut out = Vec::with_capacity(src.len() + stats.lonelf);
        let mut prev = 0u8;
        for &c in src {
            if c == b'\n' && prev != b'\r' {
                out.push(b'\r');
            }
            out.push(c);
            prev = c;
        }
        Some(out)
    }
}

fn check_crlf(value: &Value) -> CrlfAction {
    match value {
        Value::Set => CrlfAction::Text,
        Value::Unset => CrlfAction::Binary,
        Value::Unspecified => CrlfAction::Undefined,
        Value::Text(v) if v == b"input" => CrlfAction::TextInput,
        Value::Text(v) if v == b"auto" => CrlfAction::Auto,
        Value::Text(_) => CrlfAction::Undefined,
    }
}

/// convert.c `struct text_stat`, counted exactly as `gather_stats` does.
#[derive(Default)]
struct Stats {
    nul: usize,
    lonecr: usize,
    lonelf: usize,
    crlf: usize,
    printable: usize,
    nonprintable: usize,
}

impl Stats {
    fn gather(buf: &[u8]) -> Self {
        let mut s = Stats::default();
        let mut i = 0;
        while i < buf.len() {
            let c = buf[i];
            if c == b'\r' {
                if buf.get(i + 1) == Some(&b'\n') {
                    s.crlf += 1;
                    i += 1;
                } else {
                    s.lonecr += 1;
                }
            } else if c == b'\n' {
                s.lonelf += 1;
            } else if c == 127 {
                s.nonprintable += 1;
            } else if c < 32 {
                match c {
                    // BS, HT, ESC and FF count as printable.
                    8 | 9 | 27 | 12 => s.printable += 1,
                    0 => {
                        s.nul += 1;
                        s.nonprintable += 1;
                    }
                    _ => s.nonprintable += 1,
                }
            } else {
                s.printable += 1;
            }
            i += 1;
        }
        // A trailing DOS end-of-file (^Z) is not held against the file.
        if buf.last() == Some(&0x1a) {
            s.nonprintable = s.nonprintable.wrapping_sub(1);
        }
        s
    }

    fn is_binary(&self) -> bool {
        self.lonecr > 0 || self.nul > 0 || (self.printable >> 7) < self.nonprintable
    }
}

/// convert.c `ident_to_worktree`: `$Id$` and git-style `$Id: … $` become
/// `$Id: <blob id> $`; `$Id: x y $` with inner spaces (another VCS's) is kept.
fn ident_to_worktree(src: &[u8], blob_id: &str) -> Option<Vec<u8>> {
    if count_ident(src) == 0 {
        return None;
    }
    let mut out = Vec::with_capacity(src.len() + 48);
    let mut rest = src;
    while let Some(dollar) = memchr(b'$', rest) {
        out.extend_from_slice(&rest[..=dollar]);
        rest = &rest[dollar + 1..];
        if rest.len() < 3 || &rest[..2] != b"Id" {
            continue;
        }
        if rest[2] == b'$' {
            rest = &rest[3..];
        } else if rest[2] == b':' {
            let Some(end) = memchr(b'$', &rest[3..]).map(|i| i + 3) else {
                break;
            };
            if rest[3..end].contains(&b'\n') {
                continue;
            }
            let inner_space = rest[4.min(end)..end]
                .iter()
                .position(|&c| c == b' ')
                .map(|i| i + 4);
            if inner_space.is_some_and(|spc| spc < end - 1) {
                continue;
            }
            rest = &rest[end + 1..];
        } else {
            continue;
        }
        out.extend_from_slice(b"Id: ");
        out.extend_from_slice(blob_id.as_bytes());
        out.extend_from_slice(b" $");
    }
    out.extend_from_slice(rest);
    Some(out)
}

fn count_ident(src: &[u8]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        i += 1;
        if c != b'$' {
            continue;
        }
        if src.len() - i < 3 {
            break;
        }
        if &src[i..i + 2] != b"Id" {
            continue;
        }
        let ch = src[i + 2];
        i += 3;
        if ch == b'$' {
            count += 1;
        }
        if ch != b':' {
            continue;
        }
        while i < src.len() {
            let c = src[i];
            i += 1;
            if c == b'$' {
                count += 1;
                break;
            }
            if c == b'\n' {
                break;
            }
        }
    }
    count
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&c| c == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789012345678901234567890123456789";

    #[test]
    fn ident_expands_and_replaces_git_style_ids_only() {
        let out = ident_to_worktree(b"a $Id$ b $Id: old $ c $Id: other vcs 1.2 $", ID).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("a $Id: {ID} $ b $Id: {ID} $ c $Id: other vcs 1.2 $")
        );
        assert!(ident_to_worktree(b"no ident $Id", ID).is_none());
    }

    #[test]
    fn auto_leaves_mixed_and_binary_files_alone() {
        let cfg = EolConfig::default();
        assert_eq!(
            cfg.crlf_to_worktree(b"a\nb\n", CrlfAction::TextCrlf)
                .unwrap(),
            b"a\r\nb\r\n"
        );
        assert_eq!(
            cfg.crlf_to_worktree(b"a\r\nb\n", CrlfAction::TextCrlf)
                .unwrap(),
            b"a\r\nb\r\n"
        );
        assert!(
            cfg.crlf_to_worktree(b"a\r\nb\n", CrlfAction::AutoCrlf)
                .is_none()
        );
        assert!(
            cfg.crlf_to_worktree(b"a\0\nb\n", CrlfAction::AutoCrlf)
                .is_none()
        );
        assert!(
            cfg.crlf_to_worktree(b"a\nb\n", CrlfAction::TextInput)
                .is_none()
        );
    }
}
