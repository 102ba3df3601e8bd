//! An attestation of a release for supply-chain tools: an in-toto Statement v1 whose
//! subjects are the release's four source archives (canonical mode, default prefix)
//! and every link that has a SHA-256, with the release predicate
//! (`https://in-toto.io/attestation/release/v0.1`: the purl of the release), wrapped in
//! a DSSE envelope signed with the release key.
//!
//! The DSSE signature is made over the envelope's pre-authentication encoding
//! (`DSSEv1 <len> <type> <len> <payload>`) by the program git signs with: an SSHSIG in
//! namespace `git-release`, or a detached armored OpenPGP signature. Its `sig` is the
//! base64 of that armored signature, so `base64 -d` gives a file `ssh-keygen -Y verify`
//! or `gpg --verify` checks against the PAE bytes.

use serde::Serialize;

use crate::archive::{self, Format, Mode};
use crate::error::{Error, Result};
use crate::git::project::Project;
use crate::git::repo::Repo;
use crate::git::sign::Signer;
use crate::model::TagState;
use crate::release;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/release/v0.1";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Debug, Serialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub kind: &'static str,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: &'static str,
    pub predicate: Predicate,
}

#[derive(Debug, Serialize)]
pub struct Subject {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    pub digest: Digest,
}

#[derive(Debug, Serialize)]
pub struct Digest {
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct Predicate {
    pub purl: String,
    #[serde(rename = "releaseId")]
    pub release_id: String,
}

#[derive(Debug, Serialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: &'static str,
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Serialize)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: String,
}

/// The statement for the release of `tag` (whose tag must still be where the release
/// was made).
pub fn statement(repo: &Repo, tag: &str) -> Result<Statement> {
    let found = release::find(repo, tag)?;
    if let TagState::Moved { commit } = found.tag_state {
        return Err(Error::Refused {
            action: format!("attesting release {tag:?}"),
            reason: format!(
                "its tag was moved to commit {commit}, but the release was made on {}",
                found.release.commit
            ),
        });
    }
    let project = Project::resolve(repo)?.name;
    let prefix = format!("{}/", archive::base_name(&project, tag));
    let report = archive::digests(
        repo,
        &found.release.commit.to_string(),
        &prefix,
        Mode::Canonical,
        &Format::ALL,
    )?;
    let mut subject: Vec<Subject> = report
        .outputs
        .iter()
        .map(|w| Subject {
            name: archive::file_name(&project, tag, w.format),
            uri: None,
            digest: Digest {
                sha256: w.sha256.clone(),
            },
        })
        .collect();
    for link in &found.release.links {
        let Some(sha256) = &link.sha256 else { continue };
        let name = link
            .direct_asset_path
            .as_deref()
            .and_then(|p| p.rsplit('/').find(|s| !s.is_empty()))
            .unwrap_or(&link.name)
            .to_owned();
        subject.push(Subject {
            name,
            uri: Some(link.url.clone()),
            digest: Digest {
                sha256: sha256.clone(),
            },
        });
    }
    Ok(Statement {
        kind: STATEMENT_TYPE,
        subject,
        predicate_type: PREDICATE_TYPE,
        predicate: Predicate {
            purl: purl(&project, tag),
            release_id: tag.to_owned(),
        },
    })
}

/// `pkg:generic/<project>@<tag>`, percent-encoded as the purl spec asks.
pub fn purl(project: &str, tag: &str) -> String {
    format!("pkg:generic/{}@{}", percent(project), percent(tag))
}

fn percent(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// DSSE's pre-authentication encoding of `payload` of `payload_type`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The statement of `tag` in a DSSE envelope signed by `signer`. Nothing is signed if
/// the statement cannot be made.
pub fn envelope(repo: &Repo, tag: &str, signer: &Signer) -> Result<Envelope> {
    let statement = statement(repo, tag)?;
    let payload = serde_json::to_vec(&statement).map_err(|e| Error::json("the statement", e))?;
    let keyid = signer.key_id()?;
    let signature = signer.sign_detached(&pae(PAYLOAD_TYPE, &payload))?;
    Ok(Envelope {
        payload_type: PAYLOAD_TYPE,
        payload: base64(&payload),
        signatures: vec![EnvelopeSignature {
            keyid,
            sig: base64(&signature),
        }],
    })
}

/// Standard base64 with padding (RFC 4648 §4), as DSSE encodes payloads and signatures.
/// Encoding only, a few lines: no dependency for it.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn purls_are_percent_encoded() {
        assert_eq!(
            purl("my proj", "v1.0/rc@1"),
            "pkg:generic/my%20proj@v1.0%2Frc%401"
        );
    }
}
