//! Protected tags, checked offline: a tag matching a `[[protected_tag]]` rule that
//! names keys must carry a signature by one of them — on the tag object, or on an
//! evidence snapshot of its release, as the rule's `signed` says. The pre-push hook
//! asks this before a protected tag leaves the clone, `verify` for every release, and
//! `create`/`update`/`delete` to warn early.
//!
//! Signatures are checked by the programs git runs (`ssh-keygen -Y verify` against the
//! rule's allowed-signers file; `gpg --verify`, whose key must be in the keyring, with
//! its fingerprint then compared with the rule's), never by reading names from the
//! signature itself.

use std::cell::RefCell;
use std::collections::HashMap;

use git2::Oid;

use crate::audit::checks::check_evidence;
use crate::error::Result;
use crate::git::protection::{Rules, RulesChoice};
use crate::git::repo::Repo;
use crate::git::sign::{self, Outcome, SigFormat, Signer, Verifier};
use crate::model::evidence;
use crate::model::{Found, ProtectedTag};
use crate::store::Snapshot;

/// What the rules say of one protected tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Signed by a key a matching rule allows.
    Allowed {
        /// The rule, described with where it was read.
        rule: String,
        /// What carried the signature and whose it is.
        by: String,
    },
    /// No matching rule's key signed it.
    Refused { rule: String, reason: String },
}

/// The rules in force and the verifiers made for them (one per rule, made once).
pub struct Guard<'r> {
    repo: &'r Repo,
    pub rules: Rules,
    /// Per rule (by index): the verifier that checks against its allowed signers.
    ssh: RefCell<HashMap<usize, std::result::Result<std::rc::Rc<Verifier>, String>>>,
    openpgp: RefCell<Option<std::result::Result<std::rc::Rc<Verifier>, String>>>,
}

impl<'r> Guard<'r> {
    pub fn load(repo: &'r Repo, choice: &RulesChoice) -> Result<Guard<'r>> {
        Ok(Guard::new(repo, Rules::load(repo, choice)?))
    }

    pub fn new(repo: &'r Repo, rules: Rules) -> Guard<'r> {
        Guard {
            repo,
            rules,
            ssh: RefCell::default(),
            openpgp: RefCell::default(),
        }
    }

    /// The rules matching `tag` that name keys (the ones the offline checks can hold
    /// a tag to), with their index.
    fn keyed(&self, tag: &str) -> Vec<(usize, &ProtectedTag)> {
        self.rules
            .tags
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.pattern.matches(tag) && r.has_keys())
            .collect()
    }

    /// Whether any rule with keys protects `tag`.
    pub fn guards(&self, tag: &str) -> bool {
        !self.keyed(tag).is_empty()
    }

    /// Checks `tag` pointing at `object` (a tag object or a commit) against every
    /// matching rule that names keys; `release` is the tag's release with the store it
    /// was read from, whose evidence may carry the signature. `None` when no such rule
    /// matches: the tag is not protected offline.
    pub fn check(
        &self,
        tag: &str,
        object: Oid,
        release: Option<(&Snapshot<'_>, &Found)>,
    ) -> Option<Finding> {
        let keyed = self.keyed(tag);
        let (_, first) = *keyed.first()?;
        let mut reasons = Vec::new();
        for (index, rule) in &keyed {
            let mut why = Vec::new();
            if rule.signed.tag() {
                match self.tag_signature(*index, rule, object) {
                    Ok(by) => return Some(self.allowed(rule, by)),
                    Err(reason) => why.push(reason),
                }
            }
            if rule.signed.evidence() {
                match self.evidence_signature(*index, rule, object, release) {
                    Ok(by) => return Some(self.allowed(rule, by)),
                    Err(reason) => why.push(reason),
                }
            }
            reasons.push(why.join("; "));
        }
        let mut reason = reasons.first().cloned().unwrap_or_default();
        if keyed.len() > 1 {
            reason.push_str(&format!(
                " (nor does it satisfy the {} other rule(s) matching it)",
                keyed.len() - 1
            ));
        }
        Some(Finding::Refused {
            rule: self.rules.tags.describe(first),
            reason,
        })
    }

    fn allowed(&self, rule: &ProtectedTag, by: String) -> Finding {
        Finding::Allowed {
            rule: self.rules.tags.describe(rule),
            by,
        }
    }

    fn tag_signature(
        &self,
        index: usize,
        rule: &ProtectedTag,
        object: Oid,
    ) -> std::result::Result<String, String> {
        let signed = match crate::git::tag::signature(self.repo, object) {
            Err(e) => return Err(format!("the tag cannot be read: {e}")),
            Ok(None) => {
                let lightweight = self
                    .repo
                    .git()
                    .find_object(object, None)
                    .is_ok_and(|o| o.kind() != Some(git2::ObjectType::Tag));
                return Err(if lightweight {
                    "the tag is lightweight, so it carries no signature".into()
                } else {
                    "the tag is not signed".into()
                });
            }
            Ok(Some(signed)) => signed,
        };
        self.allowed_signature(
            index,
            rule,
            &signed.payload,
            &signed.signature,
            sign::GIT_NAMESPACE,
            signed.tagger_time,
        )
        .map(|who| format!("the tag, signed by {who}"))
        .map_err(|why| format!("the tag's signature: {why}"))
    }

    fn evidence_signature(
        &self,
        index: usize,
        rule: &ProtectedTag,
        object: Oid,
        release: Option<(&Snapshot<'_>, &Found)>,
    ) -> std::result::Result<String, String> {
        let Some((snapshot, found)) = release else {
            return Err("the tag has no release, so no evidence to carry a signature".into());
        };
        if found.release.tag_target != object {
            return Err(format!(
                "its release was made on tag object {}, not on this one, so its evidence does not vouch for it",
                found.release.tag_target
            ));
        }
        let mut last = "no evidence snapshot of its release is signed".to_owned();
        for reference in found.release.evidences.iter().rev() {
            // Evidence that no longer hashes right, or records another tag object,
            // vouches for nothing.
            let checked = check_evidence(self.repo, snapshot, found, reference);
            if !checked.problems.is_empty() || checked.evidence.is_none() {
                continue;
            }
            let signature = match snapshot.file(&evidence::signature_path(&reference.sha)) {
                Ok(Some(signature)) => signature,
                _ => continue,
            };
            let Ok(Some(bytes)) = snapshot.file(&reference.filepath) else {
                continue;
            };
            let short = &reference.sha[..reference.sha.len().min(12)];
            match self.allowed_signature(index, rule, &bytes, &signature, sign::NAMESPACE, None) {
                Ok(who) => return Ok(format!("evidence {short}, signed by {who}")),
                Err(why) => last = format!("evidence {short}'s signature: {why}"),
            }
        }
        Err(last)
    }

    /// Whether `signature` over `payload` is by a key `rule` allows: who signed, or
    /// why not.
    fn allowed_signature(
        &self,
        index: usize,
        rule: &ProtectedTag,
        payload: &[u8],
        signature: &[u8],
        namespace: &str,
        at: Option<i64>,
    ) -> std::result::Result<String, String> {
        match SigFormat::of_signature(signature) {
            Some(SigFormat::Ssh) => {
                if rule.allowed_signers.is_none() {
                    return Err(
                        "it is an SSH signature, and the rule allows OpenPGP keys only".into(),
                    );
                }
                let verifier = self.ssh_verifier(index, rule)?;
                let checked = verifier
                    .check(payload, signature, namespace, at)
                    .map_err(|e| e.to_string())?;
                let source = verifier.allowed_signers_source.clone().unwrap_or_default();
                match checked.outcome {
                    Outcome::Good => Ok(checked.who()),
                    Outcome::Untrusted => Err(format!(
                        "made by {}, which {source} does not list",
                        checked.who()
                    )),
                    Outcome::Bad => Err(format!("it does not verify: {}", checked.detail)),
                }
            }
            Some(SigFormat::OpenPgp) => {
                if rule.allowed_fingerprints.is_empty() {
                    return Err(
                        "it is an OpenPGP signature, and the rule allows SSH keys only".into(),
                    );
                }
                let verifier = self.openpgp_verifier()?;
                let checked = verifier
                    .check(payload, signature, namespace, at)
                    .map_err(|e| e.to_string())?;
                match checked.outcome {
                    Outcome::Good => {
                        let keys = [&checked.key, &checked.primary_key];
                        if keys
                            .iter()
                            .any(|k| k.as_deref().is_some_and(|k| rule.allows_fingerprint(k)))
                        {
                            Ok(checked.who())
                        } else {
                            Err(format!(
                                "made by {}, whose fingerprint is not in allowed_fingerprints",
                                checked.who()
                            ))
                        }
                    }
                    Outcome::Untrusted => Err(format!(
                        "made by OpenPGP key {}, which is not in the gpg keyring here, so it cannot be checked \
                         (import the public key)",
                        checked.key.as_deref().unwrap_or("?")
                    )),
                    Outcome::Bad => Err(format!("it does not verify: {}", checked.detail)),
                }
            }
            Some(SigFormat::X509) => {
                Err("it is an X.509 signature, which protected tags do not take".into())
            }
            None => Err("it is not a signature git knows".into()),
        }
    }

    fn ssh_verifier(
        &self,
        index: usize,
        rule: &ProtectedTag,
    ) -> std::result::Result<std::rc::Rc<Verifier>, String> {
        self.ssh
            .borrow_mut()
            .entry(index)
            .or_insert_with(|| {
                let (bytes, source) = self
                    .rules
                    .allowed_signers(self.repo, rule)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "the rule names no allowed-signers file".to_owned())?;
                Verifier::with_allowed_signers(self.repo, &bytes, source)
                    .map(std::rc::Rc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    fn openpgp_verifier(&self) -> std::result::Result<std::rc::Rc<Verifier>, String> {
        self.openpgp
            .borrow_mut()
            .get_or_insert_with(|| {
                Verifier::configured(self.repo)
                    .map(std::rc::Rc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Whether the signing key configured here (`-u KEY`, else `user.signingKey`…)
    /// is one a rule with keys protecting `tag` allows: `None` when it is (or no such
    /// rule protects the tag), else a sentence saying which rule and why not.
    pub fn configured_key_warning(
        &self,
        tag: &str,
        key: Option<&str>,
        change: Change,
    ) -> Option<String> {
        let keyed = self.keyed(tag);
        let (_, first) = *keyed.first()?;
        let rule_name = self.rules.tags.describe(first);
        let signer = match Signer::configured(self.repo, key) {
            Ok(signer) => signer,
            Err(e) => {
                return Some(format!(
                    "tag {tag} is protected by {rule_name}, and no signing key is configured here ({e})"
                ));
            }
        };
        let fingerprints = match signer.fingerprints() {
            Ok(fingerprints) => fingerprints,
            Err(e) => {
                return Some(format!(
                    "tag {tag} is protected by {rule_name}, and the signing key configured here cannot be read: {e}"
                ));
            }
        };
        for (_, rule) in &keyed {
            let allowed = match signer.format {
                SigFormat::Ssh => match self.rules.allowed_signers(self.repo, rule) {
                    Ok(Some((bytes, _))) => {
                        let listed = sign::allowed_signers_fingerprints(&bytes);
                        fingerprints.iter().any(|f| listed.contains(f))
                    }
                    _ => false,
                },
                SigFormat::OpenPgp => fingerprints.iter().any(|f| rule.allows_fingerprint(f)),
                SigFormat::X509 => false,
            };
            if allowed {
                return None;
            }
        }
        Some(format!(
            "tag {tag} is protected by {rule_name}, which does not allow your signing key ({}); {}",
            signer.describe(),
            change.consequence()
        ))
    }
}

/// A local change to the release on a protected tag, for what a key the rule does not
/// allow means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Update,
    Delete,
}

impl Change {
    fn consequence(self) -> &'static str {
        match self {
            Change::Update => {
                "evidence or tags you sign with it will not vouch for the release on this tag: \
                 the pre-push hook and `git release verify` accept only the keys the rule allows"
            }
            Change::Delete => {
                "the release on a protected tag is for the holders of the keys it allows to \
                 delete, and nothing offline records who deleted it: push only if they agree"
            }
        }
    }
}

/// The rules as the hook, `verify` and `serve` read them by default (see
/// [`crate::share::remote::rules_choice`]).
pub fn default_choice(repo: &Repo) -> RulesChoice {
    crate::share::remote::rules_choice(repo)
}

/// What `create` says after making a release on a protected tag: why the pre-push
/// hook would refuse the tag, if it would. Never an error: a rules file that cannot be
/// read is said too.
pub fn after_create(repo: &Repo, found: &Found) -> Option<String> {
    let guard = match Guard::load(repo, &default_choice(repo)) {
        Ok(guard) => guard,
        Err(e) => return Some(format!("the protected-tag rules cannot be read: {e}")),
    };
    let snapshot = Snapshot::read(repo.git()).ok();
    let release = snapshot.as_ref().map(|s| (s, found));
    match guard.check(&found.tag, found.release.tag_target, release)? {
        Finding::Allowed { .. } => None,
        Finding::Refused { rule, reason } => Some(format!(
            "tag {} is protected by {rule} and is not signed by a key it allows: {reason}; \
             the pre-push hook will refuse to push it and `git release verify` will report its release",
            found.tag
        )),
    }
}

/// What `update` and `delete` say about a release on a protected tag when the signing
/// key configured here is not one its rule allows.
pub fn configured_key_warning(repo: &Repo, tag: &str, change: Change) -> Option<String> {
    match Guard::load(repo, &default_choice(repo)) {
        Ok(guard) => guard.configured_key_warning(tag, None, change),
        Err(e) => Some(format!("the protected-tag rules cannot be read: {e}")),
    }
}
