//! `export` and `import`: GitLab's Releases JSON out of one clone and into another.

use serde_json::{Value, json};

use crate::support::{Env, Repo};

fn list_json(repo: &Repo) -> Value {
    serde_json::from_str(&repo.release_ok(["list", "--json", "--per-page", "100"])).unwrap()
}

/// The list without evidence entries: the export file cannot carry evidence contents,
/// so an import does not bring the snapshots that `create` took in the seed.
fn list_json_without_evidence(repo: &Repo) -> Value {
    let mut list = list_json(repo);
    for release in list.as_array_mut().unwrap() {
        release["evidences"] = Value::Array(Vec::new());
    }
    list
}

fn import(repo: &Repo, text: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = repo.release_command();
    cmd.arg("import")
        .arg("-")
        .args(args)
        .write_stdin(text.to_owned());
    cmd.output().unwrap()
}

/// A repository with a committed `.git-release.toml` (so URLs are the same in every
/// clone) and three commits.
fn seed(env: &Env) -> Repo<'_> {
    let seed = env.repo("seed");
    seed.commit(
        "one",
        &[(
            ".git-release.toml",
            "[project]\nname = \"proj\"\nweb_url = \"https://gitlab.example.com/group/proj\"\n",
        )],
    );
    seed.commit("two", &[("f", "2")]);
    seed.commit("three", &[("f", "3")]);
    seed
}

#[test]
fn export_then_import_into_a_fresh_clone_reproduces_the_list() {
    let env = Env::new();
    let seed = seed(&env);
    env.set("GIT_RELEASE_NOW", "2024-02-01T10:00:00Z");
    seed.release_ok(["milestone", "create", "1.0", "--description", "first cut"]);
    seed.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD~2",
        "--notes",
        "first",
        "--milestone",
        "1.0",
        "--link",
        "name=linux,url=https://cdn.example.com/app-linux,path=/bin/app-linux,type=package",
    ]);
    env.set("GIT_RELEASE_NOW", "2024-02-02T10:00:00Z");
    seed.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "docs",
        "--url",
        "https://docs.example.com/v1",
    ]);
    env.set("GIT_AUTHOR_NAME", "Bea Builder");
    env.set("GIT_AUTHOR_EMAIL", "bea@example.org");
    seed.release_ok([
        "create",
        "v1.1",
        "--ref",
        "HEAD~1",
        "--tag-message",
        "v1.1",
        "--released-at",
        "2024-01-15T00:00:00Z",
    ]);
    env.set("GIT_RELEASE_NOW", "2024-02-03T10:00:00Z");
    seed.release_ok([
        "create",
        "v2.0",
        "--ref",
        "HEAD",
        "--name",
        "Two",
        "--released-at",
        "2030-01-01",
    ]);
    let exported = seed.release_ok(["export"]);
    assert_eq!(
        serde_json::from_str::<Value>(&exported).unwrap(),
        list_json(&seed)
    );

    // A clone has the tags but no releases; it imports at another time, as another person.
    seed.git(["clone", "-q", ".", "../fresh"]);
    let fresh = env.at(env.path().join("fresh"));
    env.set("GIT_RELEASE_NOW", "2025-06-01T00:00:00Z");
    env.set("GIT_AUTHOR_NAME", "Someone Else");
    env.set("GIT_AUTHOR_EMAIL", "else@example.net");
    let out = import(&fresh, &exported, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("created milestone \"1.0\""), "{err}");
    assert!(err.contains("Imported 3 release(s)"), "{err}");
    assert_eq!(
        list_json_without_evidence(&fresh),
        list_json_without_evidence(&seed)
    );
    fresh.assert_fsck_clean();

    // Importing again skips every release and writes nothing.
    let before = fresh.rev("refs/notes/releases");
    let out = import(&fresh, &exported, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("skipped v1.0: the release already exists here"),
        "{err}"
    );
    assert_eq!(fresh.rev("refs/notes/releases"), before);
}

#[test]
fn a_bad_import_file_changes_nothing() {
    let env = Env::new();
    let seed = seed(&env);
    seed.git(["tag", "v1.0", "HEAD~1"]);
    let good = json!({"tag_name": "v1.0", "name": "One", "created_at": "2024-01-01T00:00:00Z"});
    let bad_link = json!({
        "tag_name": "v1.0", "created_at": "2024-01-01T00:00:00Z",
        "assets": {"links": [{"name": "x", "url": "javascript:alert(1)"}]}
    });
    let missing_tag = json!({
        "tag_name": "v9.9", "created_at": "2024-01-01T00:00:00Z",
        "commit": {"id": seed.rev("HEAD")}
    });
    let cases = [
        (format!("[{good}, {bad_link}]"), "release 2 (v1.0)"),
        (
            format!("[{good}] [{missing_tag}]"),
            "tag v9.9 does not exist here",
        ),
        (format!("[{good}"), "not valid JSON"),
        ("[1]".to_owned(), "expected release objects"),
        (
            json!([{"tag_name": "v1.0", "created_at": "yesterday"}]).to_string(),
            "\"created_at\" is not an ISO 8601 time",
        ),
    ];
    for (text, message) in cases {
        let out = import(&seed, &text, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains(message), "{text}: {err}");
        assert!(!seed.ref_exists("refs/notes/releases"), "{text}");
        assert!(!seed.ref_exists("refs/tags/v9.9"));
    }

    // With --create-tags-from-commit the missing tag is made on commit.id.
    let out = import(
        &seed,
        &format!("[{good}] [{missing_tag}]"),
        &["--create-tags-from-commit"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("created tag v9.9"), "{err}");
    assert_eq!(seed.rev("refs/tags/v9.9"), seed.rev("HEAD"));
    let list = list_json(&seed);
    assert_eq!(list.as_array().unwrap().len(), 2);
    seed.assert_fsck_clean();
}

#[test]
fn imports_gitlab_shaped_json_with_links_and_new_milestones() {
    let env = Env::new();
    let seed = seed(&env);
    seed.git(["tag", "v1.0", "HEAD"]);
    let gitlab = json!([{
        "name": "Awesome app v1.0",
        "tag_name": "v1.0",
        "description": "## CHANGELOG\n\n- Remove limit.",
        "created_at": "2019-01-03T01:56:19.539Z",
        "released_at": "2019-01-03T01:56:19.539Z",
        "author": {"id": 1, "name": "Administrator", "username": "root", "state": "active"},
        "commit": {"id": seed.rev("HEAD"), "short_id": "f8d3d94c"},
        "milestones": [{"id": 51, "iid": 1, "project_id": 24, "title": "v1.0-rc", "description": "Voluptate",
                        "state": "closed", "created_at": "2019-07-12T19:45:44.256Z",
                        "updated_at": "2019-07-12T19:45:44.256Z", "due_date": "2019-08-16",
                        "start_date": "2019-07-30", "issue_stats": {"total": 2, "closed": 1}}],
        "assets": {"count": 6, "sources": [], "links": [
            {"id": 3, "name": "hoge", "url": "https://gitlab.example.com/root/awesome-app/-/tags/v0.11.1/binaries/linux-amd64",
             "direct_asset_url": "https://gitlab.example.com/root/awesome-app/-/releases/v1.0/downloads/binaries/linux-amd64",
             "link_type": "other"},
            {"id": 2, "name": "linux-amd64", "url": "https://gitlab.example.com/root/awesome-app/-/tags/v0.11.1/binaries/x",
             "direct_asset_url": "https://gitlab.example.com/root/awesome-app/-/tags/v0.11.1/binaries/x",
             "link_type": "package"}
        ]},
        "evidences": [{"sha": "760d6cdfb0879c3ffedec13af470e0f71cf52c6cde4d", "filepath": "x", "collected_at": "2019-01-03T01:56:19.539Z"}]
    }]);
    let out = import(&seed, &gitlab.to_string(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 evidence snapshot(s) not imported"), "{err}");
    let v: Value = serde_json::from_str(&seed.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_eq!(v["name"], "Awesome app v1.0");
    assert_eq!(v["created_at"], "2019-01-03T01:56:19.539Z");
    assert_eq!(v["author"]["name"], "Administrator");
    assert_eq!(v["author"]["username"], "root");
    assert_eq!(v["author"]["id"], 1);
    assert_eq!(v["author"]["state"], "active");
    // GitLab's counts are kept when the issues themselves cannot come along.
    assert_eq!(v["milestones"][0]["issue_stats"]["total"], 2);
    assert_eq!(v["milestones"][0]["issue_stats"]["closed"], 1);
    let links = v["assets"]["links"].as_array().unwrap();
    assert_eq!(links[0]["id"], 3);
    assert_eq!(links[0]["name"], "hoge");
    assert_eq!(
        links[0]["direct_asset_url"],
        "https://gitlab.example.com/group/proj/-/releases/v1.0/downloads/binaries/linux-amd64"
    );
    assert_eq!(links[1]["id"], 2);
    assert_eq!(links[1]["link_type"], "package");
    assert_eq!(v["milestones"][0]["title"], "v1.0-rc");
    assert_eq!(v["milestones"][0]["id"], 51);
    assert_eq!(v["milestones"][0]["state"], "closed");
    assert_eq!(v["milestones"][0]["due_date"], "2019-08-16");
}
