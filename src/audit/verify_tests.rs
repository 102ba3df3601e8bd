//! The release audit as a library: a release made by `release::create`, then changed
//! behind its back (with plain git, or by a store write as another tool would make
//! it), and `check_release` naming exactly what changed — and nothing when nothing did.

use crate::audit::checks::{Problem, check_release};
use crate::digest::sha256_hex;
use crate::model::Found;
use crate::release::create::{CreateRequest, create};
use crate::release::create_tests::{Fixture, fixture, request};
use crate::release::query::find_any;
use crate::store::Store;

/// `v1`, an annotated tag on HEAD made with its release (which takes an evidence
/// snapshot at creation, as a release that is out now does).
fn released() -> Fixture {
    let f = fixture();
    create(
        &f.repo(),
        CreateRequest {
            reference: Some("HEAD".into()),
            tag_message: Some("v1".into()),
            ..request("v1")
        },
    )
    .unwrap();
    f
}

fn found(f: &Fixture) -> Found {
    find_any(&f.repo(), "v1")
        .unwrap()
        .expect("the release of v1")
}

fn problems(f: &Fixture) -> Vec<Problem> {
    check_release(&f.repo(), &found(f))
}

#[test]
fn an_untouched_release_has_no_problem() {
    let f = released();
    assert_eq!(found(&f).release.evidences.len(), 1);
    assert_eq!(problems(&f), []);
}

#[test]
fn a_tag_moved_to_another_commit_is_named_with_both_commits() {
    let f = released();
    let (recorded, now) = (
        f.git(&["rev-parse", "HEAD"]),
        f.git(&["rev-parse", "HEAD~1"]),
    );
    f.git(&["tag", "-f", "-a", "-m", "moved", "v1", "HEAD~1"]);
    assert_eq!(
        problems(&f),
        [Problem::TagMoved {
            tag: "v1".into(),
            recorded,
            now
        }]
    );
}

#[test]
fn a_deleted_tag_is_missing() {
    let f = released();
    f.git(&["tag", "-d", "v1"]);
    assert_eq!(problems(&f), [Problem::TagMissing { tag: "v1".into() }]);
}

/// Same commit, but the annotated tag made again as a lightweight one: the tag object
/// the release recorded is gone.
#[test]
fn a_tag_made_again_on_the_same_commit_is_replaced() {
    let f = released();
    let (object, commit) = (f.git(&["rev-parse", "v1"]), f.git(&["rev-parse", "v1^{}"]));
    f.git(&["tag", "-f", "v1", "HEAD"]);
    assert_eq!(
        problems(&f),
        [Problem::TagReplaced {
            tag: "v1".into(),
            recorded: object,
            now: commit
        }]
    );
}

/// The evidence file rewritten in the store, or removed from it: the audit says which,
/// with the hash the bytes have now.
#[test]
fn evidence_changed_or_removed_in_the_store_is_named() {
    let f = released();
    let evidence = found(&f).release.evidences[0].clone();
    let repo = f.repo();
    let forged = b"{\"forged\": true}\n".to_vec();
    Store::new(&repo)
        .update("forge", |tx| {
            tx.put_file(&evidence.filepath, forged.clone());
            Ok(())
        })
        .unwrap();
    assert_eq!(
        problems(&f),
        [Problem::EvidenceTampered {
            tag: "v1".into(),
            sha: evidence.sha.clone(),
            filepath: evidence.filepath.clone(),
            actual: sha256_hex(&forged),
        }]
    );

    Store::new(&repo)
        .update("remove", |tx| {
            tx.remove_file(&evidence.filepath);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        problems(&f),
        [Problem::EvidenceMissing {
            tag: "v1".into(),
            sha: evidence.sha,
            filepath: evidence.filepath,
        }]
    );
}
