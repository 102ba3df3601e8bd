//! Package names and versions as ref name components. GitLab allows names git refuses
//! in a ref (`x.lock`, `.hidden`, `a..b` as a name, a trailing `.`), so each is
//! encoded: a `.` that would break git's rules (first, last, after another `.`, or
//! starting a final `.lock`) becomes `%2E`, as does any byte outside the characters
//! GitLab allows. `%` itself never appears in a valid name or version, so the encoding
//! is one to one and every result is a valid ref component.

use crate::model::package::{PackageName, PackageVersion};

/// Where package bytes kept in the repository live.
pub const PACKAGES_REF_PREFIX: &str = "refs/release-packages/";

/// `refs/release-packages/<name>/<version>/<sha256>`: one ref per distinct content
/// of a package file.
pub fn file_ref(name: &PackageName, version: &PackageVersion, sha256: &str) -> String {
    format!(
        "{PACKAGES_REF_PREFIX}{}/{}/{sha256}",
        encode(name.as_str()),
        encode(version.as_str())
    )
}

/// `refs/release-packages/<name>/<version>/`: the prefix of every ref of one package.
pub fn package_prefix(name: &PackageName, version: &PackageVersion) -> String {
    format!(
        "{PACKAGES_REF_PREFIX}{}/{}/",
        encode(name.as_str()),
        encode(version.as_str())
    )
}

fn keeps(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'+')
}

/// One ref name component for `text`.
pub fn encode(text: &str) -> String {
    let bytes = text.as_bytes();
    let lock_at = text
        .strip_suffix(".lock")
        .map(|stem| stem.len())
        .unwrap_or(usize::MAX);
    let mut out = String::with_capacity(text.len());
    for (i, &b) in bytes.iter().enumerate() {
        let dot_breaks_rule =
            b == b'.' && (i == 0 || i + 1 == bytes.len() || bytes[i - 1] == b'.' || i == lock_at);
        if keeps(b) && !dot_breaks_rule {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(text: &str) -> String {
        crate::url::unescape(text).unwrap()
    }

    #[test]
    fn names_git_refuses_are_encoded() {
        for (name, encoded) in [
            ("myawesomerelease", "myawesomerelease"),
            ("1.2.3", "1.2.3"),
            ("x.lock", "x%2Elock"),
            (".hidden", "%2Ehidden"),
            ("a..b", "a.%2Eb"),
            ("trailing.", "trailing%2E"),
            ("a+b_c-d", "a+b_c-d"),
            ("@", "%40"),
        ] {
            assert_eq!(encode(name), encoded, "{name}");
            assert_eq!(decode(&encode(name)), name);
            let full = format!("{PACKAGES_REF_PREFIX}{}/v", encode(name));
            assert!(git2::Reference::is_valid_name(&full), "{full}");
        }
    }

    proptest! {
        /// Every name GitLab allows becomes a valid ref component, and comes back.
        #[test]
        fn every_gitlab_name_is_a_valid_ref(name in "[A-Za-z0-9._+-]{1,40}") {
            let full = format!("{PACKAGES_REF_PREFIX}{}/{}/{}", encode(&name), encode(&name), "0".repeat(64));
            prop_assert!(git2::Reference::is_valid_name(&full), "{}", full);
            prop_assert_eq!(decode(&encode(&name)), name);
        }
    }
}
