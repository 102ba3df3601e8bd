//! `release::create` as a library: one call makes the tag and its record together, or
//! neither, on a real repository, checked with plain git (the store's own write path
//! is tested in `store/write_tests.rs`).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::create::{CreateRequest, NewTag, create};
use super::query::find;
use crate::error::Error;
use crate::git::repo::Repo;

pub(crate) struct Fixture {
    dir: tempfile::TempDir,
    work: PathBuf,
}

/// A repository with an identity, no signing, and two commits, made by plain git.
pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("repo");
    let f = Fixture { dir, work };
    f.git(&["init", "-q", "-b", "main", f.work.to_str().unwrap()]);
    f.git(&["config", "user.name", "Create Test"]);
    f.git(&["config", "user.email", "create@example.com"]);
    // The library reads the configuration as git does, the developer's global file
    // included: settings that would change what these tests make are set here.
    f.git(&["config", "tag.gpgSign", "false"]);
    f.git(&["config", "release.signEvidence", "false"]);
    f.git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    f.git(&["commit", "-q", "--allow-empty", "-m", "two"]);
    f
}

impl Fixture {
    /// Plain git in the work tree, with no system or global configuration.
    #[track_caller]
    pub(crate) fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
    }

    pub(crate) fn git_output(&self, args: &[&str]) -> std::process::Output {
        std::fs::create_dir_all(&self.work).unwrap();
        Command::new("git")
            .args(args)
            .current_dir(&self.work)
            .env("HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .output()
            .unwrap()
    }

    pub(crate) fn repo(&self) -> Repo {
        Repo::discover(&self.work).unwrap()
    }

    pub(crate) fn notes_ref(&self) -> Option<String> {
        let out = self.git_output(&["rev-parse", "--verify", "-q", "refs/notes/releases"]);
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    pub(crate) fn tags(&self) -> String {
        self.git(&["tag", "-l"])
    }
}

pub(crate) fn request(tag: &str) -> CreateRequest {
    CreateRequest {
        tag: tag.parse().unwrap(),
        ..CreateRequest::default()
    }
}

/// A new annotated tag and its release, in one call: git sees the tag object on the
/// commit asked for and the note holding the record; the library finds it again.
#[test]
fn one_call_makes_the_tag_and_its_record() {
    let f = fixture();
    let first = f.git(&["rev-parse", "HEAD~1"]);
    let created = create(
        &f.repo(),
        CreateRequest {
            reference: Some("HEAD~1".into()),
            name: Some("First".into()),
            tag_message: Some("the first release".into()),
            ..request("v1.0")
        },
    )
    .unwrap();
    assert_eq!(created.new_tag, Some(NewTag::Annotated));
    assert_eq!(f.git(&["cat-file", "-t", "v1.0"]), "tag");
    assert_eq!(f.git(&["rev-parse", "v1.0^{commit}"]), first);
    assert_eq!(
        f.git(&["tag", "-l", "--format=%(contents:subject)", "v1.0"]),
        "the first release"
    );

    let note: Value =
        serde_json::from_str(&f.git(&["notes", "--ref=releases", "show", &first])).unwrap();
    let record = &note["releases"]["v1.0"];
    assert_eq!(record["name"], "First");
    assert_eq!(record["commit"], first.as_str());
    assert_eq!(record["tag_target"], f.git(&["rev-parse", "v1.0"]).as_str());
    assert!(
        record.get("pending").is_none(),
        "the claim is settled: {record}"
    );

    let found = find(&f.repo(), "v1.0").unwrap();
    assert_eq!(found.release.name, "First");
    assert_eq!(found.release.commit.to_string(), first);
    f.git(&["fsck", "--strict", "--no-dangling"]);
}

/// A release on a tag somebody made leaves the tag exactly as it was; options that
/// only shape a new tag are reported as ignored.
#[test]
fn a_release_on_an_existing_tag_leaves_the_tag_alone() {
    let f = fixture();
    f.git(&["tag", "v2", "HEAD~1"]);
    let before = f.git(&["for-each-ref", "refs/tags/"]);
    let created = create(
        &f.repo(),
        CreateRequest {
            tag_message: Some("would annotate a new tag".into()),
            ..request("v2")
        },
    )
    .unwrap();
    assert_eq!(created.new_tag, None);
    assert_eq!(created.ignored, ["--tag-message"]);
    assert_eq!(f.git(&["for-each-ref", "refs/tags/"]), before);
    assert_eq!(
        created.found.release.tag_target.to_string(),
        f.git(&["rev-parse", "HEAD~1"])
    );
}

/// A create refused for what it was asked (an unknown milestone, a revision that is
/// not there, a new tag with no place to go) makes neither the tag nor the store, and
/// the error names what was wrong.
#[test]
fn a_refused_create_makes_neither_tag_nor_record() {
    let f = fixture();
    let refusals = [
        (
            CreateRequest {
                reference: Some("HEAD".into()),
                milestones: vec!["no such milestone".into()],
                ..request("v1")
            },
            "no such milestone",
        ),
        (
            CreateRequest {
                reference: Some("no-such-branch".into()),
                ..request("v1")
            },
            "no-such-branch",
        ),
        (request("v1"), "does not exist"),
    ];
    for (asked, named) in refusals {
        let shown = format!("{asked:?}");
        let err = create(&f.repo(), asked).unwrap_err().to_string();
        assert!(err.contains(named), "{shown}: {err}");
        assert_eq!(f.tags(), "", "{shown}");
        assert_eq!(f.notes_ref(), None, "{shown}");
    }
}

/// The same tag twice: the second create is refused as a release that exists, and
/// neither the tag nor the store moves.
#[test]
fn a_second_release_of_a_tag_is_refused_and_changes_nothing() {
    let f = fixture();
    let first = CreateRequest {
        reference: Some("HEAD".into()),
        ..request("v1")
    };
    create(&f.repo(), first).unwrap();
    let (tag, store) = (f.git(&["rev-parse", "v1"]), f.notes_ref());
    let err = create(
        &f.repo(),
        CreateRequest {
            reference: Some("HEAD~1".into()),
            name: Some("again".into()),
            ..request("v1")
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::ReleaseExists { tag } if tag == "v1"),
        "{err}"
    );
    assert_eq!(f.git(&["rev-parse", "v1"]), tag);
    assert_eq!(f.notes_ref(), store);
}
