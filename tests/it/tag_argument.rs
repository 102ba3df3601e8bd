//! One meaning for every tag argument: `latest` is the latest release, a leading
//! `tags/` is stripped once in every command (create included), so `tags/latest` is the
//! tag `latest` and a tag literally named `tags/foo` is written `tags/tags/foo`.

use serde_json::Value;

use crate::support::Env;

fn tag_of(repo: &crate::support::Repo, selector: &str) -> String {
    let v: Value = serde_json::from_str(&repo.release_ok(["view", selector, "--json"])).unwrap();
    v["tag_name"].as_str().unwrap().to_owned()
}

#[test]
fn a_tags_prefix_is_stripped_once_by_every_command() {
    let env = Env::new();
    let repo = env.repo("r");
    repo.commit("one", &[("f", "1")]);
    for tag in ["foo", "tags/foo", "latest", "v1"] {
        repo.git(["tag", tag]);
    }
    env.set("GIT_RELEASE_NOW", "2024-01-01T00:00:00Z");
    repo.release_ok(["create", "tags/foo", "--name", "plain foo"]);
    repo.release_ok(["create", "tags/tags/foo", "--name", "the tags/foo tag"]);
    repo.release_ok(["create", "tags/latest", "--name", "the latest tag"]);
    env.set("GIT_RELEASE_NOW", "2024-02-01T00:00:00Z");
    repo.release_ok(["create", "v1", "--name", "newest"]);

    assert_eq!(tag_of(&repo, "foo"), "foo");
    assert_eq!(tag_of(&repo, "tags/foo"), "foo");
    assert_eq!(tag_of(&repo, "tags/tags/foo"), "tags/foo");
    assert_eq!(tag_of(&repo, "tags/latest"), "latest");
    assert_eq!(tag_of(&repo, "latest"), "v1");

    // update edits the release create made for the same spelling.
    repo.release_ok(["update", "tags/foo", "--name", "renamed"]);
    let v: Value = serde_json::from_str(&repo.release_ok(["view", "foo", "--json"])).unwrap();
    assert_eq!(v["name"], "renamed");
    let v: Value =
        serde_json::from_str(&repo.release_ok(["view", "tags/tags/foo", "--json"])).unwrap();
    assert_eq!(v["name"], "the tags/foo tag");

    // delete tags/latest deletes the release of the tag `latest`, and no other.
    repo.release_ok(["delete", "tags/latest", "-y"]);
    let names = crate::support::tag_names(&repo.release_ok(["list", "--json"]));
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!names.contains(&"latest".to_owned()), "{names:?}");
    assert!(names.contains(&"v1".to_owned()), "{names:?}");
}

#[test]
fn latest_cannot_be_created_and_bad_names_are_usage_errors() {
    let env = Env::new();
    let repo = env.repo("r");
    repo.commit("one", &[("f", "1")]);
    let err = repo.release_err(2, ["create", "latest", "--ref", "HEAD"]);
    assert!(err.contains("tags/latest"), "{err}");
    assert!(!repo.ref_exists("refs/tags/latest"));
    repo.release_ok(["create", "tags/latest", "--ref", "HEAD"]);
    assert!(repo.ref_exists("refs/tags/latest"));
    for command in ["view", "update", "delete", "archive", "verify"] {
        let err = repo.release_err(2, [command, "a..b"]);
        assert!(err.contains("invalid tag name"), "{command}: {err}");
    }
}
