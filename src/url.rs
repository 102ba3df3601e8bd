//! Percent-encoding for the URLs the GitLab entities and downloads build.

/// Percent-encodes what may not stand in a URL path segment (slashes are kept: GitLab
/// routes tags with slashes as they are).
pub fn escape_path(text: &str) -> String {
    escape(text, |b| {
        b.is_ascii_alphanumeric() || b"-._~/+@".contains(&b)
    })
}

pub fn escape_query(text: &str) -> String {
    escape(text, |b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
}

fn escape(text: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a whole path segment: a `/` in a tag becomes `%2F`, as GitLab's
/// API routes tags (its web routes keep slashes: `escape_path`).
pub fn escape_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL fit for a header (`Location`): bytes a URI may not hold (non-ASCII, spaces,
/// controls, `"<>\\^`{|}`) percent-encoded; everything else, escapes included, kept.
pub fn escape_uri(url: &str) -> String {
    escape(url, |b| {
        b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b)
    })
}

/// Decodes percent-encoding (a path segment, a query value); `None` when it is not UTF-8 or holds a
/// malformed escape.
pub fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip_through_percent_encoding() {
        for text in ["v1.0", "release/2.0", "a b+c%", "ünï"] {
            assert_eq!(unescape(&escape_segment(text)).as_deref(), Some(text));
        }
        assert_eq!(escape_segment("group/proj"), "group%2Fproj");
        assert_eq!(unescape("%zz"), None);
        assert_eq!(unescape("%2"), None);
    }
}
