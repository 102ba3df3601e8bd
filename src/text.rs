//! Text from outside on its way to a terminal or a shell.
//!
//! Names, URLs, descriptions and paths can come from someone else's clone, an import
//! file or a server. Printed as they are, an escape sequence rewrites the screen, a
//! `\r` or `\n` forges a line, and a right-to-left override shows `\u{202e}gnp.exe` as
//! `exe.png`. Everything printed for people goes through `terminal` (one line) or
//! `terminal_lines` (text whose line breaks are its own), which show such characters
//! escaped, `\u{202e}`; `--json` output is exact and never goes through here.
//! Everything put in a command for someone to paste into a shell goes through
//! `shell_quote`.

use std::borrow::Cow;

use finl_unicode::categories::CharacterCategories;

/// Whether `c` must not reach a terminal as it is: a control character (C0, DEL, C1),
/// a Unicode format character (bidi embeddings, overrides and isolates, zero-width
/// characters, the invisible tag characters, U+FEFF, the soft hyphen, …), a line or
/// paragraph separator, an unassigned code point or a noncharacter.
pub fn is_hidden_or_control(c: char) -> bool {
    // `char::is_control` is Unicode's Cc; the trait names the other categories.
    c.is_control()
        || CharacterCategories::is_format(c)
        || c.is_separator_line()
        || c.is_separator_paragraph()
        || CharacterCategories::is_unassigned(c)
        || is_noncharacter(c)
}

/// U+FDD0..U+FDEF and the last two code points of every plane.
pub fn is_noncharacter(c: char) -> bool {
    let n = c as u32;
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

/// The bidirectional formatting characters: embeddings, overrides, isolates and the
/// direction marks. They reorder what follows them on screen, which is what makes a
/// name look like another one.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How `c` is shown escaped: `\n`, `\t`, `\r`, else `\u{…}` in hex, as Rust's `{:?}`
/// writes it.
pub fn escape_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\t' => "\\t".into(),
        '\r' => "\\r".into(),
        c => format!("\\u{{{:x}}}", c as u32),
    }
}

/// `text` for one line of a terminal: every character `is_hidden_or_control` names,
/// line breaks and tabs included, shown escaped.
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// `text` for a terminal, keeping its own line breaks and tabs (a release's
/// description); every other such character is shown escaped, `\r` included (it would
/// let a line overwrite itself).
pub fn terminal_lines(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hidden_or_control(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden_or_control(c) && !keep(c) {
            out.push_str(&escape_char(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as one word of a POSIX shell command: left as it is when every character is
/// plainly safe, else in single quotes, where no character is special (`x;$(touch y)`
/// becomes `'x;$(touch y)'`, a `'` inside becomes `'\''`). A NUL, which no shell
/// word can hold, is dropped: the command then names another file and fails, rather
/// than run anything.
pub fn shell_quote(text: &str) -> Cow<'_, str> {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./+@=:,".contains(&b))
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!(
        "'{}'",
        text.replace('\0', "").replace('\'', r"'\''")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_controls_and_format_characters_escaped() {
        assert_eq!(terminal("v1.0 – ünïcode ✓ 日本"), "v1.0 – ünïcode ✓ 日本");
        assert_eq!(terminal("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal("bidi \u{202e}gnp.exe"), "bidi \\u{202e}gnp.exe");
        assert_eq!(terminal("two\nlines\r"), "two\\nlines\\r");
        assert_eq!(
            terminal("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(terminal("tag\u{e0041}chars"), "tag\\u{e0041}chars");
        assert_eq!(terminal("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(terminal("line\u{2028}sep"), "line\\u{2028}sep");
        assert_eq!(terminal("non\u{fffe}char"), "non\\u{fffe}char");
        assert_eq!(terminal_lines("a\n\tb\rc\x07"), "a\n\tb\\rc\\u{7}");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn shell_quote_makes_one_inert_word() {
        assert_eq!(shell_quote("evidence/ab.json"), "evidence/ab.json");
        assert_eq!(shell_quote("x;$(touch y)"), "'x;$(touch y)'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("v1.0"), "v1.0");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a\0b"), "'ab'");
    }
}
