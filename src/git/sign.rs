//! Signing and checking signatures as git does (`gpg-interface.c`): by running the
//! program git would run for `gpg.format` (openpgp → `gpg`, x509 → `gpgsm`, ssh →
//! `ssh-keygen`) with the key git would use (`-u`, `user.signingKey`, else the
//! committer's identity for OpenPGP/X.509 or `gpg.ssh.defaultKeyCommand` for SSH), so
//! keys held by agents and hardware tokens work. Tags are signed in the `git` SSH
//! namespace as `git tag -s` signs them; everything else git-release signs (evidence,
//! SHA256SUMS, attestations) uses the namespace [`NAMESPACE`], so a signature made for
//! one can never be replayed as the other.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::model::Person;

/// The SSH signature namespace of everything git-release signs that is not a git object.
pub const NAMESPACE: &str = "git-release";
/// The namespace git signs tags and commits in.
pub const GIT_NAMESPACE: &str = "git";

/// Where a committed allowed-signers file lives in the repository (read from HEAD).
pub const COMMITTED_ALLOWED_SIGNERS: &str = ".git-release/allowed_signers";

/// `gpg.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigFormat {
    OpenPgp,
    X509,
    Ssh,
}

impl SigFormat {
    pub fn name(self) -> &'static str {
        match self {
            SigFormat::OpenPgp => "openpgp",
            SigFormat::X509 => "x509",
            SigFormat::Ssh => "ssh",
        }
    }

    fn default_program(self) -> &'static str {
        match self {
            SigFormat::OpenPgp => "gpg",
            SigFormat::X509 => "gpgsm",
            SigFormat::Ssh => "ssh-keygen",
        }
    }

    /// The configuration key naming the program (the first one git reads).
    fn program_keys(self) -> &'static [&'static str] {
        match self {
            SigFormat::OpenPgp => &["gpg.openpgp.program", "gpg.program"],
            SigFormat::X509 => &["gpg.x509.program"],
            SigFormat::Ssh => &["gpg.ssh.program"],
        }
    }

    fn armors(self) -> &'static [&'static str] {
        match self {
            SigFormat::OpenPgp => &[
                "-----BEGIN PGP SIGNATURE-----",
                "-----BEGIN PGP MESSAGE-----",
            ],
            SigFormat::X509 => &["-----BEGIN SIGNED MESSAGE-----"],
            SigFormat::Ssh => &["-----BEGIN SSH SIGNATURE-----"],
        }
    }

    /// The format a signature is in, from its armor line.
    pub fn of_signature(signature: &[u8]) -> Option<SigFormat> {
        [SigFormat::OpenPgp, SigFormat::X509, SigFormat::Ssh]
            .into_iter()
            .find(|f| {
                f.armors()
                    .iter()
                    .any(|a| signature.starts_with(a.as_bytes()))
            })
    }

    /// The file-name extension a detached signature is given next to a file.
    pub fn extension(self) -> &'static str {
        match self {
            SigFormat::OpenPgp => "asc",
            SigFormat::X509 | SigFormat::Ssh => "sig",
        }
    }
}

/// `gpg.format` as configured (openpgp when unset); any other value is an error naming it.
pub fn configured_format(repo: &Repo) -> Result<SigFormat> {
    match repo.config_string("gpg.format") {
        None => Ok(SigFormat::OpenPgp),
        Some(value) => match value.as_str() {
            "openpgp" => Ok(SigFormat::OpenPgp),
            "x509" => Ok(SigFormat::X509),
            "ssh" => Ok(SigFormat::Ssh),
            _ => Err(Error::invalid(
                "value for gpg.format",
                value,
                "git knows openpgp, x509 and ssh",
            )),
        },
    }
}

/// The program git runs for `format`, and the setting that named it.
fn program(repo: &Repo, format: SigFormat) -> (String, &'static str) {
    format
        .program_keys()
        .iter()
        .find_map(|key| repo.config_string(key).map(|p| (p, *key)))
        .unwrap_or_else(|| {
            (
                format.default_program().to_owned(),
                format.program_keys()[0],
            )
        })
}

/// Who signs: the program git would run and the key it would pass.
#[derive(Debug, Clone)]
pub struct Signer {
    pub format: SigFormat,
    pub program: String,
    /// The setting the program comes from (for messages).
    setting: &'static str,
    /// The key as git passes it: a key id / user id (OpenPGP, X.509), a key file or a
    /// literal public key (`key::…`, `ssh-…`) for SSH.
    pub key: String,
}

impl Signer {
    /// The signer git would use: `gpg.format` and its program; the key from `key`
    /// (`-u`), else `user.signingKey`, else the committer's identity (OpenPGP, X.509)
    /// or the first key `gpg.ssh.defaultKeyCommand` prints (SSH).
    pub fn configured(repo: &Repo, key: Option<&str>) -> Result<Signer> {
        let format = configured_format(repo)?;
        let (program, setting) = program(repo, format);
        let key = match key
            .map(str::to_owned)
            .filter(|k| !k.is_empty())
            .or_else(|| repo.config_string("user.signingKey"))
        {
            Some(key) => key,
            None if format == SigFormat::Ssh => default_ssh_key(repo)?,
            None => {
                let person = Person::committer(repo)?;
                format!("{} <{}>", person.name, person.email)
            }
        };
        Ok(Signer {
            format,
            program,
            setting,
            key,
        })
    }

    /// A short description of the key for messages.
    pub fn describe(&self) -> String {
        match self.format {
            SigFormat::Ssh => match literal_ssh_key(&self.key) {
                Some(key) => format!("ssh key {}", abbreviate(key)),
                None => format!("ssh key {}", self.key),
            },
            format => format!("{} key {}", format.name(), self.key),
        }
    }

    /// A public identifier of the key (never a local path): the SSH key's `SHA256:…`
    /// fingerprint, the OpenPGP key's fingerprint, the X.509 key as configured.
    pub fn key_id(&self) -> Result<String> {
        let fail = |reason: String| Error::Signing {
            key: self.describe(),
            reason,
        };
        match self.format {
            SigFormat::Ssh => {
                let mut command = Command::new(&self.program);
                let literal = literal_ssh_key(&self.key);
                match literal {
                    Some(_) => command.args(["-l", "-f", "-"]),
                    None => command.args(["-l", "-f"]).arg(expand_home(&self.key)),
                };
                let output = run(
                    &mut command,
                    &self.program,
                    self.setting,
                    literal.map(str::as_bytes),
                )?;
                let stdout = String::from_utf8_lossy(&output.stdout);
                match stdout.split_whitespace().nth(1) {
                    Some(fingerprint) if output.status.success() => Ok(fingerprint.to_owned()),
                    _ => Err(fail(format!(
                        "failed to get the ssh fingerprint: {}",
                        String::from_utf8_lossy(&output.stderr).trim()
                    ))),
                }
            }
            SigFormat::OpenPgp => {
                let mut command = Command::new(&self.program);
                command.args(["--batch", "--with-colons", "--list-secret-keys", &self.key]);
                let output = run(&mut command, &self.program, self.setting, None)?;
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .find_map(|l| l.strip_prefix("fpr:"))
                    .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        fail(format!(
                            "gpg has no secret key for it: {}",
                            String::from_utf8_lossy(&output.stderr).trim()
                        ))
                    })
            }
            SigFormat::X509 => Ok(self.key.clone()),
        }
    }

    /// Whether `signature` (a git object's, over `payload`) was made with this signer's
    /// key, and which key made it (for messages). Anything that keeps us from telling
    /// (the key or the program missing) counts as "not ours": the caller then does not
    /// sign with a key it cannot show to be the tag's.
    pub fn made(&self, payload: &[u8], signature: &[u8]) -> SignedBy {
        let format = SigFormat::of_signature(signature);
        let key = match format {
            Some(SigFormat::Ssh) => self.ssh_signature_key(payload, signature),
            Some(format) => self.gpg_signature_key(format, payload, signature),
            None => None,
        };
        let ours = match (&key, format) {
            (Some(key), Some(format)) if format == self.format => match format {
                SigFormat::Ssh => self.key_id().is_ok_and(|own| &own == key),
                _ => self.own_fingerprints().iter().any(|fpr| {
                    fpr.eq_ignore_ascii_case(key)
                        || (key.len() >= 16
                            && fpr.len() >= key.len()
                            && fpr[fpr.len() - key.len()..].eq_ignore_ascii_case(key))
                }),
            },
            _ => false,
        };
        SignedBy { format, key, ours }
    }

    /// The `SHA256:…` fingerprint of the SSH key that made `signature` (read from the
    /// signature itself: no allowed-signers file is needed to know who signed).
    fn ssh_signature_key(&self, payload: &[u8], signature: &[u8]) -> Option<String> {
        let sig_file = temp_with(signature, ".git_vtag_tmp").ok()?;
        let mut command = Command::new(&self.program);
        command
            .args(["-Y", "check-novalidate", "-n", GIT_NAMESPACE, "-s"])
            .arg(&*sig_file);
        let output = run(&mut command, &self.program, self.setting, Some(payload)).ok()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        (output.status.success() && stdout.starts_with("Good"))
            .then(|| key_of(&stdout))
            .flatten()
    }

    /// The fingerprint (the key is in the keyring) or long key id (it is not) of the
    /// OpenPGP / X.509 key that made `signature`, from the program's status lines.
    fn gpg_signature_key(
        &self,
        format: SigFormat,
        payload: &[u8],
        signature: &[u8],
    ) -> Option<String> {
        let sig_file = temp_with(signature, ".git_vtag_tmp").ok()?;
        let mut command = Command::new(&self.program);
        if format == SigFormat::OpenPgp {
            command.arg("--keyid-format=long");
        }
        command
            .args(["--status-fd=1", "--verify"])
            .arg(&*sig_file)
            .arg("-");
        let output = run(&mut command, &self.program, self.setting, Some(payload)).ok()?;
        let status = String::from_utf8_lossy(&output.stdout);
        let word = |name: &str| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix("[GNUPG:] ")?.strip_prefix(name)?;
                rest.split_whitespace().next().map(str::to_owned)
            })
        };
        word("VALIDSIG ").or_else(|| word("ERRSIG "))
    }

    /// The fingerprints this signer's signatures are known by: the SSH key's
    /// `SHA256:…`, or the OpenPGP secret key's and its subkeys' fingerprints.
    pub fn fingerprints(&self) -> Result<Vec<String>> {
        match self.format {
            SigFormat::Ssh => Ok(vec![self.key_id()?]),
            SigFormat::OpenPgp => {
                let own = self.own_fingerprints();
                if own.is_empty() {
                    return Err(Error::Signing {
                        key: self.describe(),
                        reason: "gpg has no secret key for it".into(),
                    });
                }
                Ok(own)
            }
            SigFormat::X509 => Ok(vec![self.key.clone()]),
        }
    }

    /// The fingerprints of the secret key (and its subkeys) this signer names.
    fn own_fingerprints(&self) -> Vec<String> {
        let mut command = Command::new(&self.program);
        command.args([
            "--batch",
            "--with-colons",
            "--list-secret-keys",
            "--",
            &self.key,
        ]);
        let Ok(output) = run(&mut command, &self.program, self.setting, None) else {
            return Vec::new();
        };
        if !output.status.success() {
            return Vec::new();
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("fpr:"))
            .filter_map(|rest| rest.split(':').find(|f| !f.is_empty()))
            .map(str::to_owned)
            .collect()
    }

    /// Signs `payload` as `git tag -s` does (SSH namespace `git`); returns the armored
    /// signature to append to the object.
    pub fn sign_git_object(&self, payload: &[u8]) -> Result<Vec<u8>> {
        self.sign(payload, GIT_NAMESPACE)
    }

    /// A detached armored signature of `payload`: SSHSIG in namespace [`NAMESPACE`],
    /// or an OpenPGP / CMS detached signature.
    pub fn sign_detached(&self, payload: &[u8]) -> Result<Vec<u8>> {
        self.sign(payload, NAMESPACE)
    }

    fn sign(&self, payload: &[u8], namespace: &str) -> Result<Vec<u8>> {
        let signature = match self.format {
            SigFormat::OpenPgp | SigFormat::X509 => self.sign_gpg(payload)?,
            SigFormat::Ssh => self.sign_ssh(payload, namespace)?,
        };
        // As git: strip CRs (a signer on Windows).
        Ok(signature.into_iter().filter(|b| *b != b'\r').collect())
    }

    fn sign_gpg(&self, payload: &[u8]) -> Result<Vec<u8>> {
        let mut command = Command::new(&self.program);
        command.args(["--status-fd=2", "-bsau", &self.key]);
        let output = run(&mut command, &self.program, self.setting, Some(payload))?;
        let status = String::from_utf8_lossy(&output.stderr);
        let created = status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] SIG_CREATED "));
        if !output.status.success() || !created {
            let shown = if status.trim().is_empty() {
                "(no gpg output)".to_owned()
            } else {
                status.trim_end().to_owned()
            };
            return Err(Error::Signing {
                key: self.describe(),
                reason: format!("gpg failed to sign the data:\n{shown}"),
            });
        }
        Ok(output.stdout)
    }

    fn sign_ssh(&self, payload: &[u8], namespace: &str) -> Result<Vec<u8>> {
        let tmp = |what: &str, e: std::io::Error| {
            Error::io(format!("cannot create a temporary file for the {what}"), e)
        };
        let literal = literal_ssh_key(&self.key);
        let key_file = match literal {
            Some(key) => {
                let mut file = tempfile::Builder::new()
                    .prefix(".git_signing_key_tmp")
                    .tempfile()
                    .map_err(|e| tmp("signing key", e))?;
                file.write_all(key.as_bytes())
                    .map_err(|e| tmp("signing key", e))?;
                Some(file.into_temp_path())
            }
            None => None,
        };
        let key_path = match &key_file {
            Some(path) => path.to_path_buf(),
            None => expand_home(&self.key),
        };
        let mut buffer = tempfile::Builder::new()
            .prefix(".git_signing_buffer_tmp")
            .tempfile()
            .map_err(|e| tmp("data to sign", e))?;
        buffer
            .write_all(payload)
            .map_err(|e| tmp("data to sign", e))?;
        let buffer = buffer.into_temp_path();
        let mut signature_path = buffer.as_os_str().to_owned();
        signature_path.push(".sig");
        let signature_path = PathBuf::from(signature_path);
        let mut command = Command::new(&self.program);
        command
            .args(["-Y", "sign", "-n", namespace, "-f"])
            .arg(&key_path);
        if literal.is_some() {
            command.arg("-U");
        }
        command.arg(&*buffer);
        let output = run(&mut command, &self.program, self.setting, None);
        let signature = std::fs::read(&signature_path);
        let _ = std::fs::remove_file(&signature_path);
        let output = output?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let mut reason = stderr.trim_end().to_owned();
            if stderr.contains("usage:") {
                reason = format!(
                    "ssh-keygen -Y sign is needed for ssh signing (available in openssh version 8.2p1+)\n{reason}"
                );
            }
            if reason.is_empty() {
                reason = format!("{} exited with {}", self.program, output.status);
            }
            return Err(Error::Signing {
                key: self.describe(),
                reason,
            });
        }
        signature.map_err(|e| Error::Signing {
            key: self.describe(),
            reason: format!(
                "failed reading ssh signing data buffer from '{}': {e}",
                signature_path.display()
            ),
        })
    }
}

/// `key::<key>` or a bare `ssh-…` public key: the key text; else `None` (a file).
fn literal_ssh_key(key: &str) -> Option<&str> {
    key.strip_prefix("key::")
        .or_else(|| key.starts_with("ssh-").then_some(key))
}

fn abbreviate(key: &str) -> String {
    let mut parts = key.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(kind), Some(blob)) if blob.len() > 16 => {
            format!("{kind} …{}", &blob[blob.len() - 12..])
        }
        _ => key.to_owned(),
    }
}

/// `~/…` expanded as git's `interpolate_path` does.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The first key `gpg.ssh.defaultKeyCommand` prints, as git takes it.
fn default_ssh_key(repo: &Repo) -> Result<String> {
    let Some(command_line) = repo.config_string("gpg.ssh.defaultKeyCommand") else {
        return Err(Error::Signing {
            key: "(none)".into(),
            reason: "either user.signingkey or gpg.ssh.defaultKeyCommand needs to be configured"
                .into(),
        });
    };
    let argv = split_command_line(&command_line).ok_or_else(|| {
        Error::invalid(
            "value for gpg.ssh.defaultKeyCommand",
            command_line.clone(),
            "unbalanced quotes",
        )
    })?;
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::invalid(
            "value for gpg.ssh.defaultKeyCommand",
            command_line,
            "it is empty",
        ));
    };
    let mut command = Command::new(program);
    command.args(args);
    let output = run(&mut command, program, "gpg.ssh.defaultKeyCommand", None)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let first = stdout.lines().next().unwrap_or("").to_owned();
    if output.status.success() && literal_ssh_key(&first).is_some() {
        return Ok(first);
    }
    Err(Error::Signing {
        key: "(none)".into(),
        reason: format!(
            "gpg.ssh.defaultKeyCommand {}: {} {}",
            if output.status.success() {
                "succeeded but returned no keys"
            } else {
                "failed"
            },
            String::from_utf8_lossy(&output.stderr).trim(),
            stdout.trim()
        ),
    })
}

/// git's `split_cmdline`: whitespace-separated words, single and double quotes,
/// backslash escapes inside double quotes.
fn split_command_line(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                word.push(chars.next()?);
                in_word = true;
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// Runs a signing or verifying program, feeding it `stdin`; a program that cannot be
/// started is an error naming it and the setting that chose it.
fn run(
    command: &mut Command,
    program: &str,
    setting: &'static str,
    stdin: Option<&[u8]>,
) -> Result<std::process::Output> {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A program that exits without reading (gpg with a bad key) must not kill us with
    // SIGPIPE while we feed it: ignored for the while, as git does (sigchain_push).
    let _sigpipe = IgnoreSigpipe::new();
    let mut child = command.spawn().map_err(|e| Error::SigningProgram {
        program: program.to_owned(),
        setting,
        source: e,
    })?;
    // Feed stdin from another thread so a program that writes a lot before reading
    // everything cannot deadlock us; a program that exits without reading is no error.
    let writer = match (stdin, child.stdin.take()) {
        (Some(data), Some(mut pipe)) => {
            let data = data.to_vec();
            Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            }))
        }
        _ => None,
    };
    let output = child
        .wait_with_output()
        .map_err(|e| Error::SigningProgram {
            program: program.to_owned(),
            setting,
            source: e,
        })?;
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    Ok(output)
}

/// Ignores SIGPIPE until dropped, then restores the previous action.
struct IgnoreSigpipe {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl IgnoreSigpipe {
    fn new() -> Self {
        IgnoreSigpipe {
            // SAFETY: signal() with SIG_IGN installs no handler code; the previous
            // action is put back on drop.
            #[cfg(unix)]
            previous: unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) },
        }
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        // SAFETY: restores the action signal() returned.
        #[cfg(unix)]
        unsafe {
            libc::signal(libc::SIGPIPE, self.previous);
        }
    }
}

/// A signed git object (tag) split as git splits it: the payload, and the signature
/// that starts at the last line opening with a signature armor.
pub fn split_signed(object: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut start = 0;
    let mut found = None;
    while start < object.len() {
        if SigFormat::of_signature(&object[start..]).is_some() {
            found = Some(start);
        }
        match object[start..].iter().position(|b| *b == b'\n') {
            Some(n) => start += n + 1,
            None => break,
        }
    }
    found.map(|at| object.split_at(at))
}

/// Who made a signature, as far as this machine can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub format: Option<SigFormat>,
    /// The key's fingerprint (`SHA256:…`, an OpenPGP fingerprint or long key id).
    pub key: Option<String>,
    /// Made with the signer's own key.
    pub ours: bool,
}

impl SignedBy {
    /// `openpgp key …` or what is known of it.
    pub fn describe(&self) -> String {
        match (self.format, &self.key) {
            (Some(format), Some(key)) => format!("{} key {key}", format.name()),
            (Some(format), None) => format!("an {} key", format.name()),
            (None, _) => "a signature git does not know".into(),
        }
    }
}

/// What a signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Valid, by a key the allowed-signers file or the keyring vouches for.
    Good,
    /// Cryptographically valid (SSH) or not checkable (OpenPGP: key not in the
    /// keyring), by a key nobody listed.
    Untrusted,
    /// Does not verify: the data or the signature was changed, or another namespace.
    Bad,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub format: SigFormat,
    pub outcome: Outcome,
    /// The principal (SSH) or user id (OpenPGP) that signed, when known.
    pub signer: Option<String>,
    /// The key's fingerprint (`SHA256:…` for SSH, the OpenPGP fingerprint or key id).
    pub key: Option<String>,
    /// OpenPGP: the fingerprint of the primary key when a subkey signed (gpg's
    /// `VALIDSIG`); `None` otherwise.
    pub primary_key: Option<String>,
    /// What the program said, for messages.
    pub detail: String,
}

impl Checked {
    pub fn is_good(&self) -> bool {
        self.outcome == Outcome::Good
    }

    /// `signer (key)` or what is known of it.
    pub fn who(&self) -> String {
        match (&self.signer, &self.key) {
            (Some(s), Some(k)) => format!("{s} ({} key {k})", self.format.name()),
            (None, Some(k)) => format!("{} key {k}", self.format.name()),
            (Some(s), None) => s.clone(),
            (None, None) => format!("an unknown {} key", self.format.name()),
        }
    }
}

/// Checks signatures against what git trusts: `gpg.ssh.allowedSignersFile` (or the
/// repository's committed `.git-release/allowed_signers`) for SSH, the gpg keyring for
/// OpenPGP, gpgsm's for X.509.
pub struct Verifier {
    openpgp: (String, &'static str),
    x509: (String, &'static str),
    ssh: (String, &'static str),
    allowed_signers: Option<PathBuf>,
    /// `gpg.ssh.revocationFile`, passed to `ssh-keygen -Y verify -r` as git does.
    revocations: Option<PathBuf>,
    /// Which allowed-signers file is used, for messages.
    pub allowed_signers_source: Option<String>,
    /// Keeps a committed allowed-signers file written out for ssh-keygen.
    _committed: Option<tempfile::TempPath>,
}

impl Verifier {
    pub fn configured(repo: &Repo) -> Result<Verifier> {
        let mut verifier = Verifier {
            openpgp: program(repo, SigFormat::OpenPgp),
            x509: program(repo, SigFormat::X509),
            ssh: program(repo, SigFormat::Ssh),
            allowed_signers: None,
            revocations: repo.config_path("gpg.ssh.revocationFile"),
            allowed_signers_source: None,
            _committed: None,
        };
        if let Some(path) = repo.config_path("gpg.ssh.allowedSignersFile") {
            verifier.allowed_signers_source = Some(path.display().to_string());
            verifier.allowed_signers = Some(path);
        } else if let Some(bytes) = committed_allowed_signers(repo) {
            verifier.use_allowed_signers(&bytes, format!("HEAD:{COMMITTED_ALLOWED_SIGNERS}"))?;
        }
        Ok(verifier)
    }

    /// The programs git would run, checking SSH signatures against `allowed_signers`
    /// (the bytes of an allowed-signers file, named `source` in messages) instead of
    /// what git config names: a protected tag's own keys.
    pub fn with_allowed_signers(
        repo: &Repo,
        allowed_signers: &[u8],
        source: String,
    ) -> Result<Verifier> {
        let mut verifier = Verifier::configured(repo)?;
        verifier.use_allowed_signers(allowed_signers, source)?;
        Ok(verifier)
    }

    fn use_allowed_signers(&mut self, bytes: &[u8], source: String) -> Result<()> {
        let fail = |e| Error::io("cannot write the allowed signers to a file", e);
        let mut file = tempfile::Builder::new()
            .prefix(".git_release_allowed_signers")
            .tempfile()
            .map_err(fail)?;
        file.write_all(bytes).map_err(fail)?;
        let path = file.into_temp_path();
        self.allowed_signers = Some(path.to_path_buf());
        self.allowed_signers_source = Some(source);
        self._committed = Some(path);
        Ok(())
    }

    /// Checks `signature` over `payload`; `namespace` for SSH; `at` (seconds since the
    /// epoch) is the time the key must have been valid at (the tagger's date).
    pub fn check(
        &self,
        payload: &[u8],
        signature: &[u8],
        namespace: &str,
        at: Option<i64>,
    ) -> Result<Checked> {
        match SigFormat::of_signature(signature) {
            Some(SigFormat::Ssh) => self.check_ssh(payload, signature, namespace, at),
            Some(format) => self.check_gpg(format, payload, signature),
            None => Ok(Checked {
                format: SigFormat::OpenPgp,
                outcome: Outcome::Bad,
                signer: None,
                key: None,
                primary_key: None,
                detail: "not a signature git knows (no PGP, SSH or CMS armor)".into(),
            }),
        }
    }

    fn check_gpg(&self, format: SigFormat, payload: &[u8], signature: &[u8]) -> Result<Checked> {
        let (program, setting) = match format {
            SigFormat::X509 => &self.x509,
            _ => &self.openpgp,
        };
        let sig_file = temp_with(signature, ".git_vtag_tmp")?;
        let mut command = Command::new(program);
        if format == SigFormat::OpenPgp {
            command.arg("--keyid-format=long");
        }
        command
            .args(["--status-fd=1", "--verify"])
            .arg(&*sig_file)
            .arg("-");
        let output = run(&mut command, program, setting, Some(payload))?;
        let status = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut checked = Checked {
            format,
            outcome: Outcome::Bad,
            signer: None,
            key: None,
            primary_key: None,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        };
        let mut exclusive = 0;
        for line in status.lines() {
            let Some(line) = line.strip_prefix("[GNUPG:] ") else {
                continue;
            };
            let mut words = line.splitn(3, ' ');
            let (word, first, rest) = (words.next(), words.next(), words.next());
            match word {
                Some("GOODSIG") => {
                    exclusive += 1;
                    checked.outcome = Outcome::Good;
                    checked.key = first.map(str::to_owned);
                    checked.signer = rest.map(str::to_owned);
                }
                Some("BADSIG" | "EXPSIG" | "EXPKEYSIG" | "REVKEYSIG") => {
                    exclusive += 1;
                    checked.outcome = Outcome::Bad;
                    checked.key = first.map(str::to_owned);
                    checked.signer = rest.map(str::to_owned);
                }
                Some("ERRSIG") => {
                    exclusive += 1;
                    checked.key = first.map(str::to_owned);
                    // The key is not in the keyring: nobody vouches for it here.
                    checked.outcome = if status.contains("[GNUPG:] NO_PUBKEY ") {
                        Outcome::Untrusted
                    } else {
                        Outcome::Bad
                    };
                }
                Some("VALIDSIG") => {
                    checked.key = first.map(str::to_owned);
                    // `VALIDSIG <fpr> <date> <time> <expire> <version> <reserved>
                    // <pubkey-algo> <hash-algo> <class> <primary-key-fpr>`.
                    checked.primary_key = rest
                        .and_then(|r| r.split_whitespace().nth(8))
                        .map(str::to_owned);
                }
                _ => {}
            }
        }
        // No verdict, or several signatures in one (which git refuses too).
        if exclusive != 1 || (checked.outcome == Outcome::Good && !output.status.success()) {
            checked.outcome = Outcome::Bad;
        }
        if checked.outcome == Outcome::Untrusted {
            checked.detail = format!(
                "{} key {} is not in the keyring",
                format.name(),
                checked.key.as_deref().unwrap_or("?")
            );
        }
        Ok(checked)
    }

    fn check_ssh(
        &self,
        payload: &[u8],
        signature: &[u8],
        namespace: &str,
        at: Option<i64>,
    ) -> Result<Checked> {
        let sig_file = temp_with(signature, ".git_vtag_tmp")?;
        let verify_time = at
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|t| {
                format!(
                    "-Overify-time={}",
                    t.with_timezone(&chrono::Local).format("%Y%m%d%H%M%S")
                )
            });
        let mut checked = Checked {
            format: SigFormat::Ssh,
            outcome: Outcome::Bad,
            signer: None,
            key: None,
            primary_key: None,
            detail: String::new(),
        };
        let mut principals = Vec::new();
        if let Some(allowed) = &self.allowed_signers {
            let mut command = Command::new(&self.ssh.0);
            command
                .args(["-Y", "find-principals", "-f"])
                .arg(allowed)
                .arg("-s")
                .arg(&*sig_file);
            command.args(verify_time.iter());
            let output = run(&mut command, &self.ssh.0, self.ssh.1, None)?;
            if output.status.success() {
                principals = String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|l| l.trim_end_matches('\r').to_owned())
                    .filter(|l| !l.is_empty())
                    .collect();
            }
            for principal in &principals {
                let mut command = Command::new(&self.ssh.0);
                command
                    .args(["-Y", "verify", "-n", namespace, "-f"])
                    .arg(allowed)
                    .args(["-I", principal, "-s"])
                    .arg(&*sig_file);
                command.args(verify_time.iter());
                if let Some(revoked) = self.revocations.as_ref().filter(|p| p.exists()) {
                    command.arg("-r").arg(revoked);
                }
                let output = run(&mut command, &self.ssh.0, self.ssh.1, Some(payload))?;
                let stdout = String::from_utf8_lossy(&output.stdout);
                checked.detail = format!(
                    "{}{}",
                    stdout.trim(),
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                if output.status.success() && stdout.starts_with("Good") {
                    checked.outcome = Outcome::Good;
                    checked.signer = Some(principal.clone());
                    checked.key = key_of(&stdout);
                    return Ok(checked);
                }
            }
        }
        // No principal vouches for it: is it at least a valid signature, and by whom?
        let mut command = Command::new(&self.ssh.0);
        command
            .args(["-Y", "check-novalidate", "-n", namespace, "-s"])
            .arg(&*sig_file);
        command.args(verify_time.iter());
        let output = run(&mut command, &self.ssh.0, self.ssh.1, Some(payload))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if principals.is_empty() && output.status.success() && stdout.starts_with("Good") {
            checked.outcome = Outcome::Untrusted;
            checked.key = key_of(&stdout);
            checked.detail = match &self.allowed_signers_source {
                Some(source) => format!("the key is not in {source}"),
                None => "no allowed signers are configured (gpg.ssh.allowedSignersFile, or a committed .git-release/allowed_signers)".into(),
            };
        } else if checked.detail.is_empty() {
            checked.detail = format!(
                "{}{}",
                stdout.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(checked)
    }
}

/// The `SHA256:…` fingerprints (as `ssh-keygen -l` prints them) of the public keys
/// listed in an allowed-signers file (`principals [options] keytype base64 [comment]`
/// a line). Lines that hold no key are skipped.
pub fn allowed_signers_fingerprints(file: &[u8]) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    let text = String::from_utf8_lossy(file);
    let mut found = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let key = words.windows(2).find_map(|pair| {
            is_ssh_key_type(pair[0])
                .then(|| {
                    base64::engine::general_purpose::STANDARD
                        .decode(pair[1])
                        .ok()
                })
                .flatten()
        });
        if let Some(blob) = key {
            let digest = sha2::Sha256::digest(&blob);
            found.push(format!(
                "SHA256:{}",
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
            ));
        }
    }
    found
}

/// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `sk-ssh-ed25519@openssh.com`, `ssh-rsa`…
fn is_ssh_key_type(word: &str) -> bool {
    let word = word.strip_prefix("sk-").unwrap_or(word);
    word.starts_with("ssh-") || word.starts_with("ecdsa-sha2-")
}

/// `… with ED25519 key SHA256:…` → `SHA256:…`.
fn key_of(output: &str) -> Option<String> {
    let line = output.lines().next()?;
    line.rfind("key ")
        .map(|at| line[at + 4..].trim().to_owned())
}

fn temp_with(bytes: &[u8], prefix: &str) -> Result<tempfile::TempPath> {
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .tempfile()
        .map_err(|e| Error::io("cannot create a temporary file for a signature", e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("cannot write a signature to a temporary file", e))?;
    Ok(file.into_temp_path())
}

/// `.git-release/allowed_signers` as committed at HEAD, if any.
fn committed_allowed_signers(repo: &Repo) -> Option<Vec<u8>> {
    let git = repo.git();
    let tree = git.head().ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(Path::new(COMMITTED_ALLOWED_SIGNERS)).ok()?;
    let blob = git.find_blob(entry.id()).ok()?;
    Some(blob.content().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_signed_objects_at_the_last_armor() {
        let object = b"object 1\ntype commit\n\nmsg\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        let (payload, signature) = split_signed(object).unwrap();
        assert_eq!(payload, b"object 1\ntype commit\n\nmsg\n");
        assert!(signature.starts_with(b"-----BEGIN PGP SIGNATURE-----"));
        assert!(split_signed(b"object 1\n\nplain\n").is_none());
    }

    #[test]
    fn splits_command_lines_as_git() {
        assert_eq!(
            split_command_line("ssh-add -L").unwrap(),
            vec!["ssh-add", "-L"]
        );
        assert_eq!(
            split_command_line("sh -c 'echo \"a b\"'").unwrap(),
            vec!["sh", "-c", "echo \"a b\""]
        );
        assert!(split_command_line("sh 'open").is_none());
    }

    #[test]
    fn literal_ssh_keys() {
        assert_eq!(
            literal_ssh_key("key::ssh-ed25519 AAA"),
            Some("ssh-ed25519 AAA")
        );
        assert_eq!(literal_ssh_key("ssh-ed25519 AAA"), Some("ssh-ed25519 AAA"));
        assert_eq!(literal_ssh_key("~/.ssh/id_ed25519"), None);
    }
}
