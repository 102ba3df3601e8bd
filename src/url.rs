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
