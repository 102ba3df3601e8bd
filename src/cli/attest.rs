use super::Exit;
use git_release::model::Selector;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use git_release::audit::attest;
use git_release::git::sign::Signer;
use git_release::{Error, Repo, Result};

use super::{Ui, common};

/// Write an in-toto attestation of a release, signed with the release key.
///
/// An in-toto Statement v1 whose subjects are the four source archives (canonical
/// mode, as `git release archive` makes them) and every link that has a SHA-256, with
/// predicate type https://in-toto.io/attestation/release/v0.1 and the release's purl
/// (pkg:generic/<project>@<tag>), in a DSSE envelope (payloadType
/// application/vnd.in-toto+json). The signature is made over DSSE's PAE by the program
/// git signs with (SSHSIG in namespace `git-release`, or a detached armored OpenPGP
/// signature); `sig` is its base64. To check it with no git-release:
///
///   jq -r .payload att.json | base64 -d > statement.json
///   jq -r '.signatures[0].sig' att.json | base64 -d > att.sig
///   printf 'DSSEv1 28 application/vnd.in-toto+json %s ' "$(wc -c < statement.json)" | cat - statement.json > pae
///   ssh-keygen -Y verify -n git-release -f allowed_signers -I you@example.com -s att.sig < pae
///   # or: gpg --verify att.sig pae
#[derive(Args)]
pub struct AttestArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// Write the envelope to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Sign with KEY instead of user.signingKey.
    #[arg(long = "local-user", short = 'u', value_name = "KEY")]
    pub local_user: Option<String>,
    /// Overwrite FILE.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: AttestArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let tag = common::select_tag(&repo, &args.tag)?;
    if let Some(path) = &args.output {
        if path.exists() && !args.force {
            return Err(Error::FileExists { path: path.clone() });
        }
    }
    let signer = Signer::configured(&repo, args.local_user.as_deref())?;
    let envelope = attest::envelope(&repo, &tag, &signer)?;
    let mut text = serde_json::to_string_pretty(&envelope).map_err(|source| Error::Json {
        what: "the envelope".into(),
        source,
    })?;
    text.push('\n');
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|source| Error::WriteFile {
                path: path.clone(),
                source,
            })?;
            ui.notice(&format!(
                "wrote the attestation of {tag} to {} (signed with {})",
                path.display(),
                signer.describe()
            ));
        }
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| Error::Io {
                what: "cannot write to standard output".into(),
                source: e,
            })?,
    }
    Ok(Exit::Success)
}
