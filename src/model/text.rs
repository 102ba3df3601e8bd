//! Free text as it enters and leaves: release names and notes, tag messages, link
//! names, milestone titles and descriptions.
//!
//! A C0 control character other than tab, line feed and carriage return (NUL, ESC,
//! vertical tab…) or a Unicode noncharacter (U+FFFE, U+FDD0…) has no place in any of
//! them, and makes the Atom feed and the pages ill-formed (XML 1.0 forbids them), so
//! the CLI and the API refuse them with [`check`]. Records also arrive by `import`,
//! `fetch` and plain `git notes`, where they are kept as they are; what renders them
//! for others (feed, pages, badge) drops such characters with [`clean`]. (What is
//! printed to a terminal is escaped instead: `crate::text`.)

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Whether `c` is refused in free text: a C0 control other than `\t`, `\n`, `\r`, or a
/// noncharacter.
pub fn is_refused(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || is_noncharacter(c)
}

/// Unicode's 66 noncharacters: U+FDD0..U+FDEF and the last two code points of every
/// plane (U+FFFE, U+FFFF, U+1FFFE, …).
pub use crate::text::is_noncharacter;

/// Refuses `text` (the value of `field`) if it holds a refused character, naming the
/// first one and where it is.
pub fn check(field: &'static str, text: &str) -> Result<()> {
    let Some((at, c)) = text.char_indices().find(|&(_, c)| is_refused(c)) else {
        return Ok(());
    };
    let kind = if is_noncharacter(c) {
        "a Unicode noncharacter"
    } else {
        "a control character"
    };
    let position = text[..at].chars().count() + 1;
    Err(Error::invalid(
        field,
        excerpt(text),
        format!(
            "character {position} is U+{:04X}, {kind} (only tab, line feed and carriage return are allowed)",
            u32::from(c)
        ),
    ))
}

/// [`check`] on an optional value.
pub fn check_opt(field: &'static str, text: Option<&str>) -> Result<()> {
    text.map_or(Ok(()), |t| check(field, t))
}

/// `text` without the characters [`check`] refuses.
pub fn clean(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_refused) {
        Cow::Owned(text.chars().filter(|&c| !is_refused(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// The start of a long value, for an error message.
fn excerpt(text: &str) -> String {
    const SHOWN: usize = 40;
    if text.chars().count() <= SHOWN {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(SHOWN).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_other_than_tab_and_line_ends_and_noncharacters_are_refused() {
        for ok in [
            "plain",
            "tab\there",
            "lines\r\nand\n",
            "émoji 🎉",
            "\u{7f}del",
            "\u{fffd}",
        ] {
            assert!(check("name", ok).is_ok(), "{ok:?}");
            assert_eq!(clean(ok), ok);
        }
        for (bad, cleaned) in [
            ("a\u{0}b", "ab"),
            ("a\u{b}b", "ab"),
            ("\u{1b}[31mred", "[31mred"),
            ("x\u{fffe}", "x"),
            ("\u{ffff}", ""),
            ("\u{fdd0}y", "y"),
            ("z\u{10ffff}", "z"),
            ("\u{1fffe}", ""),
        ] {
            let err = check("name", bad).unwrap_err().to_string();
            assert!(err.contains("U+"), "{err}");
            assert_eq!(clean(bad), cleaned);
        }
        let err = check("description", &format!("{}\u{0}", "x".repeat(100)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("character 101 is U+0000"), "{err}");
        assert!(err.contains('…'), "{err}");
    }
}
