//! The GitLab Release entity on the wire, pinned by decoding into test-only types
//! (unknown keys are errors) and by checking key order against docs/gitlab-compat.md.

use serde::Deserialize;
use serde_json::Value;

use crate::support::{AUTHOR_EMAIL, AUTHOR_NAME, COMMITTER_EMAIL, COMMITTER_NAME, Env};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
    name: String,
    tag_name: String,
    description: Option<String>,
    created_at: String,
    released_at: String,
    upcoming_release: bool,
    historical_release: bool,
    author: Author,
    commit: Commit,
    commit_path: Option<String>,
    tag_path: Option<String>,
    assets: Assets,
    evidences: Vec<Value>,
    #[serde(rename = "_links")]
    links: Links,
}

/// GitLab's `UserBasic`, plus our `email`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Author {
    id: Option<u64>,
    username: String,
    name: String,
    state: Option<String>,
    avatar_url: Option<String>,
    web_url: Option<String>,
    email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Commit {
    id: String,
    short_id: String,
    created_at: String,
    parent_ids: Vec<String>,
    title: String,
    message: String,
    author_name: String,
    author_email: String,
    authored_date: String,
    committer_name: String,
    committer_email: String,
    committed_date: String,
    web_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assets {
    count: usize,
    sources: Vec<Source>,
    links: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    format: String,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Links {
    closed_issues_url: Option<String>,
    closed_merge_requests_url: Option<String>,
    edit_url: Option<String>,
    merged_merge_requests_url: Option<String>,
    opened_issues_url: Option<String>,
    opened_merge_requests_url: Option<String>,
    #[serde(rename = "self")]
    self_url: Option<String>,
}

const KEY_ORDER: [&str; 15] = [
    "name",
    "tag_name",
    "description",
    "created_at",
    "released_at",
    "upcoming_release",
    "historical_release",
    "author",
    "commit",
    "commit_path",
    "tag_path",
    "assets",
    "evidences",
    "_links",
    // (description_html and milestones appear only when asked for / present)
    "",
];

fn keys(text: &str) -> Vec<String> {
    let v: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
    v.keys().cloned().collect()
}

#[test]
fn view_json_is_the_gitlab_release_entity() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00.250Z");
    let repo = env.repo("awesome-app");
    let parent = repo.commit("Initial commit", &[("a", "a")]);
    let commit = repo.commit("Add feature\n\nWith a body.", &[("b", "b")]);
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:root/awesome-app.git",
    ]);
    repo.release_ok([
        "create",
        "release/v0.1",
        "--ref",
        "HEAD",
        "--name",
        "Awesome app v0.1 alpha",
        "--notes",
        "## CHANGELOG",
    ]);
    let text = repo.release_ok(["view", "release/v0.1", "--json"]);
    let expected: Vec<&str> = KEY_ORDER
        .iter()
        .copied()
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(keys(&text), expected);

    let r: Release = serde_json::from_str(&text).unwrap();
    assert_eq!(r.name, "Awesome app v0.1 alpha");
    assert_eq!(r.tag_name, "release/v0.1");
    assert_eq!(r.description.as_deref(), Some("## CHANGELOG"));
    assert_eq!(r.created_at, "2024-06-01T12:00:00.250Z");
    assert_eq!(r.released_at, "2024-06-01T12:00:00.250Z");
    assert!(!r.upcoming_release && !r.historical_release);
    assert_eq!(
        (
            r.author.name.as_str(),
            r.author.email.as_str(),
            r.author.username.as_str()
        ),
        (AUTHOR_NAME, AUTHOR_EMAIL, "ada")
    );
    // A git identity gets GitLab's typed shape: an id derived from the email, state
    // active, a profile URL on the project's instance; no avatar.
    assert!(r.author.id.is_some_and(|id| id > 0 && id < (1 << 31)));
    assert_eq!(r.author.state.as_deref(), Some("active"));
    assert_eq!(
        r.author.web_url.as_deref(),
        Some("https://gitlab.example.com/ada")
    );
    assert!(r.author.avatar_url.is_none());

    assert_eq!(r.commit.id, commit);
    assert_eq!(r.commit.short_id, &commit[..8]);
    assert_eq!(r.commit.parent_ids, [parent]);
    assert_eq!(r.commit.title, "Add feature");
    assert_eq!(r.commit.message, "Add feature\n\nWith a body.\n");
    assert_eq!(
        (
            r.commit.author_name.as_str(),
            r.commit.author_email.as_str()
        ),
        (AUTHOR_NAME, AUTHOR_EMAIL)
    );
    assert_eq!(
        (
            r.commit.committer_name.as_str(),
            r.commit.committer_email.as_str()
        ),
        (COMMITTER_NAME, COMMITTER_EMAIL)
    );
    // 1710135045 = 2024-03-11T05:30:45Z
    assert_eq!(r.commit.created_at, "2024-03-11T05:30:45.000Z");
    assert_eq!(r.commit.authored_date, "2024-03-11T05:30:45.000Z");
    assert_eq!(r.commit.committed_date, "2024-03-11T05:30:45.000Z");
    let web = "https://gitlab.example.com/root/awesome-app";
    assert_eq!(r.commit.web_url, Some(format!("{web}/-/commit/{commit}")));
    assert_eq!(
        r.commit_path,
        Some(format!("/root/awesome-app/-/commit/{commit}"))
    );
    assert_eq!(
        r.tag_path.as_deref(),
        Some("/root/awesome-app/-/tags/release/v0.1")
    );

    assert_eq!(r.assets.count, 4);
    assert!(r.assets.links.is_empty());
    let formats: Vec<&str> = r.assets.sources.iter().map(|s| s.format.as_str()).collect();
    assert_eq!(formats, ["zip", "tar.gz", "tar.bz2", "tar"]);
    assert_eq!(
        r.assets.sources[1].url.as_deref(),
        Some(
            "https://gitlab.example.com/root/awesome-app/-/archive/release/v0.1/awesome-app-release-v0.1.tar.gz"
        )
    );
    // A normal release is snapshotted at create: GitLab's evidence entry, our sha.
    assert_eq!(r.evidences.len(), 1);
    let sha = r.evidences[0]["sha"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    // With a web URL, GitLab's filepath is a URL of the evidence file.
    assert_eq!(
        r.evidences[0]["filepath"].as_str().unwrap(),
        format!("{web}/-/releases/release/v0.1/evidences/{sha}.json")
    );
    let release_url = format!("{web}/-/releases/release/v0.1");
    assert_eq!(r.links.self_url.as_deref(), Some(release_url.as_str()));
    assert_eq!(r.links.edit_url, Some(format!("{release_url}/edit")));
    assert_eq!(
        r.links.opened_issues_url,
        Some(format!(
            "{web}/-/issues?release_tag=release/v0.1&scope=all&state=opened"
        ))
    );
    assert_eq!(
        r.links.merged_merge_requests_url,
        Some(format!(
            "{web}/-/merge_requests?release_tag=release/v0.1&scope=all&state=merged"
        ))
    );
    assert!(r.links.closed_issues_url.is_some() && r.links.closed_merge_requests_url.is_some());
    assert!(r.links.opened_merge_requests_url.is_some());
}

#[test]
fn urls_are_null_without_a_known_web_url_and_project_name_comes_from_config() {
    let env = Env::new();
    let repo = env.repo("local-only");
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    repo.commit("c", &[("a", "a")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let r: Release = serde_json::from_str(&repo.release_ok(["view", "v1", "--json"])).unwrap();
    assert!(r.commit_path.is_none() && r.tag_path.is_none() && r.commit.web_url.is_none());
    assert!(r.assets.sources.iter().all(|s| s.url.is_none()));
    assert!(r.links.self_url.is_none() && r.links.edit_url.is_none());

    repo.git([
        "config",
        "release.webUrl",
        "https://git.example.org/team/tool/",
    ]);
    repo.git(["config", "release.project", "tool"]);
    let r: Release = serde_json::from_str(&repo.release_ok(["view", "v1", "--json"])).unwrap();
    assert_eq!(
        r.assets.sources[0].url.as_deref(),
        Some("https://git.example.org/team/tool/-/archive/v1/tool-v1.zip")
    );
    assert_eq!(r.tag_path.as_deref(), Some("/team/tool/-/tags/v1"));
}

#[test]
fn project_file_names_the_project_and_a_malformed_one_is_an_error() {
    let env = Env::new();
    let repo = env.repo("dir-name");
    repo.commit(
        "c",
        &[(
            ".git-release.toml",
            "[project]\nname = \"fancy\"\nweb_url = \"https://h.example/g/fancy\"\n",
        )],
    );
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let r: Release = serde_json::from_str(&repo.release_ok(["view", "v1", "--json"])).unwrap();
    assert_eq!(
        r.assets.sources[3].url.as_deref(),
        Some("https://h.example/g/fancy/-/archive/v1/fancy-v1.tar")
    );
    repo.write(".git-release.toml", "[project\nname=");
    let err = repo.release_err(1, ["view", "v1", "--json"]);
    assert!(err.contains(".git-release.toml"), "{err}");
}

#[test]
fn list_json_is_an_array_of_entities() {
    let env = Env::new();
    let repo = env.repo("p");
    repo.commit("c", &[("a", "a")]);
    assert_eq!(repo.release_ok(["list", "--json"]).trim(), "[]");
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD",
        "--released-at",
        "2099-01-01T00:00:00Z",
    ]);
    let list: Vec<Release> = serde_json::from_str(&repo.release_ok(["list", "--json"])).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].tag_name, "v2");
    assert!(list[0].upcoming_release);
    let create: Release =
        serde_json::from_str(&repo.release_ok(["create", "v3", "--ref", "HEAD", "--json"]))
            .unwrap();
    assert_eq!(create.tag_name, "v3");
}
