//! `git release serve`: the real binary on a free loopback port, driven over HTTP by
//! ureq and by python-gitlab (a real GitLab client), with git as the oracle for what
//! was stored.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::serve::{Reply, Server, TOKEN, project, releases, start, store_state};
use crate::support::{Env, Repo, tools};

/// The server's JSON for a release is the CLI's `--json`, with its own base in URLs.
fn assert_same_as_cli(repo: &Repo, server: &Server, tag: &str, served: &Value) {
    let cli = repo.release_ok(["view", tag, "--json"]);
    let cli = cli.replace("https://gitlab.example.com", &server.base);
    let mut cli: Value = serde_json::from_str(&cli).unwrap();
    // The server has no issue, merge request or edit pages: it leaves those links out
    // (`edit_url` altogether, as GitLab leaves out an unknown one).
    for key in [
        "closed_issues_url",
        "closed_merge_requests_url",
        "merged_merge_requests_url",
        "opened_issues_url",
        "opened_merge_requests_url",
    ] {
        cli["_links"][key] = Value::Null;
    }
    cli["_links"].as_object_mut().unwrap().remove("edit_url");
    assert_eq!(&cli, served, "served JSON differs from `view --json`");
}

#[test]
fn serve_announces_its_port_answers_reads_and_stops_on_sigterm() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);

    let version = server.get("/api/v4/version");
    assert_eq!(version.status, 200);
    assert!(
        version.json()["version"]
            .as_str()
            .unwrap()
            .starts_with("17.")
    );

    for id in ["1", "group%2Fproj", "GROUP%2Fproj"] {
        let project = server.get(&format!("/api/v4/projects/{id}"));
        assert_eq!(project.status, 200, "{id}");
        let project = project.json();
        assert_eq!(project["id"], 1);
        assert_eq!(project["path_with_namespace"], "group/proj");
        assert_eq!(project["path"], "proj");
        assert_eq!(project["name"], "proj");
        assert_eq!(project["default_branch"], "main");
        assert_eq!(project["web_url"], format!("{}/group/proj", server.base));
    }
    let missing = server.get("/api/v4/projects/2");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_text(), "404 Project Not Found");
    assert_eq!(server.get("/api/v4/projects/other%2Fproj").status, 404);

    assert_eq!(server.get("/api/v4/user").status, 401);
    let user = server.call("GET", "/api/v4/user", Some(TOKEN), None);
    assert_eq!(user.status, 200);
    assert_eq!(user.json()["username"], "carl");
    assert_eq!(
        server
            .call("GET", "/api/v4/user", Some("nope"), None)
            .status,
        401
    );

    let release = server.get("/api/v4/projects/1/releases/v1.0");
    assert_eq!(release.status, 200);
    assert_same_as_cli(&repo, &server, "v1.0", &release.json());
    assert_eq!(server.get("/api/v4/nothing/here").status, 404);

    let (status, log) = server.stop();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(
        log.contains("\"GET /api/v4/projects/1/releases/v1.0\" 200"),
        "{log}"
    );
}

#[test]
fn quiet_serve_logs_nothing() {
    let env = Env::new();
    let repo = project(&env);
    let server = start(&repo, &["-q"]);
    assert_eq!(server.get("/api/v4/projects/1/releases").status, 200);
    let (status, log) = server.stop();
    assert!(status.success());
    assert_eq!(log, "");
}

#[test]
fn release_lists_page_as_gitlab_with_links_on_the_servers_base() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 5);
    let server = start(&repo, &[]);

    let page = server.get("/api/v4/projects/1/releases?per_page=2&page=2");
    assert_eq!(page.status, 200);
    let tags: Vec<String> = page
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tags, ["v1.2", "v1.1"]);
    assert_eq!(page.header("x-total"), "5");
    assert_eq!(page.header("x-total-pages"), "3");
    assert_eq!(page.header("x-page"), "2");
    assert_eq!(page.header("x-per-page"), "2");
    assert_eq!(page.header("x-next-page"), "3");
    assert_eq!(page.header("x-prev-page"), "1");
    let link = page.header("link").to_owned();
    let next = format!(
        "<{}/api/v4/projects/1/releases?page=3&per_page=2>; rel=\"next\"",
        server.base
    );
    assert!(link.contains(&next), "{link}");
    assert!(link.contains("rel=\"prev\"") && link.contains("rel=\"first\""));
    assert!(link.contains("page=3&per_page=2>; rel=\"last\""), "{link}");

    // Following `next` gives the last page, which has no next.
    let last = server.get("/api/v4/projects/1/releases?page=3&per_page=2");
    assert_eq!(last.json().as_array().unwrap().len(), 1);
    assert_eq!(last.header("x-next-page"), "");

    let asc = server.get("/api/v4/projects/1/releases?order_by=created_at&sort=asc&per_page=1");
    assert_eq!(asc.json()[0]["tag_name"], "v1.0");
    let html = server.get("/api/v4/projects/group%2Fproj/releases?include_html_description=true");
    assert_eq!(html.json()[0]["description_html"], "<p>n</p>\n");
    // Beyond the last page: an empty page, as GitLab answers.
    let beyond = server.get("/api/v4/projects/1/releases?page=9");
    assert_eq!(beyond.status, 200);
    assert_eq!(beyond.json(), json!([]));

    for (query, error) in [
        ("page=0", "page does not have a valid value"),
        ("page=x", "page does not have a valid value"),
        ("per_page=-1", "per_page does not have a valid value"),
        ("order_by=size", "order_by does not have a valid value"),
        ("sort=up", "sort does not have a valid value"),
        (
            "include_html_description=maybe",
            "include_html_description is invalid",
        ),
    ] {
        let reply = server.get(&format!("/api/v4/projects/1/releases?{query}"));
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.error_text(), error, "{query}");
    }

    // permalink/latest redirects to the latest release, keeping the suffix.
    let latest = server.get("/api/v4/projects/1/releases/permalink/latest/assets/links?x=1");
    assert_eq!(latest.status, 302);
    assert_eq!(
        latest.header("location"),
        format!(
            "{}/api/v4/projects/1/releases/v1.4/assets/links?x=1",
            server.base
        )
    );
    // GitLab's sorting preference for the permalink: released_at by default; here
    // v1.0 is re-dated to the future, so it is latest by released_at, not by created_at.
    repo.release_ok(["update", "v1.0", "--released-at", "2030-01-01T00:00:00Z"]);
    for (query, tag) in [
        ("", "v1.0"),
        ("?order_by=released_at", "v1.0"),
        ("?order_by=created_at", "v1.4"),
        ("?order_by=semver", "v1.4"),
    ] {
        let reply = server.get(&format!(
            "/api/v4/projects/1/releases/permalink/latest{query}"
        ));
        assert_eq!(reply.status, 302, "{query}");
        assert!(
            reply
                .header("location")
                .ends_with(&format!("/releases/{tag}{query}")),
            "{query}: {}",
            reply.header("location")
        );
    }
    let bad = server.get("/api/v4/projects/1/releases/permalink/latest?order_by=size");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_text(), "order_by does not have a valid value");

    // The latest release's evidence, through the permalink: the newest snapshot's
    // stored bytes, whose SHA-256 is the one the release lists.
    let latest =
        server.get("/api/v4/projects/1/releases/permalink/latest/evidence?order_by=created_at");
    assert_eq!(latest.status, 302);
    let target = latest
        .header("location")
        .strip_prefix(&server.base)
        .unwrap()
        .to_owned();
    let evidence = server.get(&target);
    assert_eq!(
        evidence.status,
        200,
        "{}",
        String::from_utf8_lossy(&evidence.body)
    );
    assert_eq!(evidence.header("content-type"), "application/json");
    let listed = server.get("/api/v4/projects/1/releases/v1.4").json();
    let sha = listed["evidences"][0]["sha"].as_str().unwrap();
    assert_eq!(crate::support::sha256(&evidence.body), sha);
    assert_eq!(
        evidence.body,
        repo.release_ok(["evidence", "show", "v1.4"]).into_bytes()
    );
    // An upcoming release has no snapshot to give.
    repo.release_ok([
        "create",
        "v2.0",
        "--ref",
        "HEAD",
        "--released-at",
        "2031-01-01T00:00:00Z",
    ]);
    let none = server.get("/api/v4/projects/1/releases/v2.0/evidence");
    assert_eq!(none.status, 404);
    assert_eq!(none.error_text(), "404 Evidence Not Found");
}

#[test]
fn base_url_replaces_the_host_in_every_url() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    let server = start(&repo, &["--base-url", "https://releases.example/mirror/"]);
    let release = server.get("/api/v4/projects/1/releases/v1.0").json();
    assert_eq!(
        release["_links"]["self"],
        "https://releases.example/mirror/group/proj/-/releases/v1.0"
    );
    assert_eq!(
        release["assets"]["sources"][0]["url"],
        "https://releases.example/mirror/group/proj/-/archive/v1.0/proj-v1.0.zip"
    );
    let list = server.get("/api/v4/projects/1/releases");
    assert!(
        list.header("link")
            .starts_with("<https://releases.example/mirror/api/v4/projects/1/releases?page=1")
    );
}

#[test]
fn writes_go_through_the_library_and_land_in_the_notes() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    repo.release_ok(["milestone", "create", "M1"]);
    let server = start(&repo, &[]);
    let releases = "/api/v4/projects/1/releases";

    let created = server.write(
        "POST",
        releases,
        json!({
            "tag_name": "release/2.0", "ref": "main", "name": "Two",
            "description": "*notes*", "tag_message": "annotated", "milestones": ["M1"],
            "released_at": "2024-05-01T00:00:00Z",
            "assets": {"links": [
                {"name": "app", "url": "https://example.com/app", "filepath": "/bin/app"}
            ]}
        }),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let created = created.json();
    assert_eq!(created["name"], "Two");
    assert_eq!(created["historical_release"], true);
    assert_eq!(created["milestones"][0]["title"], "M1");
    assert_eq!(
        repo.git(["cat-file", "-t", "refs/tags/release/2.0"]).trim(),
        "tag"
    );
    let note = repo.git(["notes", "--ref=releases", "show", "release/2.0^{commit}"]);
    assert!(note.contains("\"release/2.0\""), "{note}");
    assert_same_as_cli(&repo, &server, "release/2.0", &created);

    let path = format!("{releases}/release%2F2.0");
    let updated = server.write("PUT", &path, json!({"name": "Two!", "milestones": []}));
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["name"], "Two!");
    assert!(updated.json().get("milestones").is_none());

    // Links: list, create, get, update, delete.
    let links = format!("{path}/assets/links");
    let listed = server.get(&links).json();
    assert_eq!(listed[0]["name"], "app");
    assert_eq!(
        listed[0]["direct_asset_url"],
        format!(
            "{}/group/proj/-/releases/release/2.0/downloads/bin/app",
            server.base
        )
    );
    let link = server.write(
        "POST",
        &links,
        json!({"name": "docs", "url": "https://example.com/docs", "link_type": "runbook"}),
    );
    assert_eq!(link.status, 201);
    let id = link.json()["id"].as_u64().unwrap();
    let one = format!("{links}/{id}");
    assert_eq!(server.get(&one).json()["link_type"], "runbook");
    let renamed = server.write("PUT", &one, json!({"name": "manual"}));
    assert_eq!(renamed.json()["name"], "manual");
    assert_eq!(server.write("DELETE", &one, json!({})).status, 200);
    assert_eq!(server.get(&one).status, 404);
    assert_eq!(server.get(&format!("{links}/9999")).status, 404);

    // Evidence on demand.
    let evidence = server.write("POST", &format!("{path}/evidence"), json!({}));
    assert_eq!(
        evidence.status,
        201,
        "{}",
        String::from_utf8_lossy(&evidence.body)
    );
    let sha = evidence.json()["sha"].as_str().unwrap().to_owned();
    let listed = repo.release_ok(["evidence", "list", "release/2.0", "--json"]);
    assert!(listed.contains(&sha), "{listed}");

    // Delete keeps the tag, as GitLab does.
    let deleted = server.write("DELETE", &path, json!({}));
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json()["tag_name"], "release/2.0");
    assert_eq!(server.get(&path).status, 404);
    assert!(repo.ref_exists("refs/tags/release/2.0"));
    let log = repo.git(["log", "--format=%s", "refs/notes/releases"]);
    for message in [
        "create release/2.0",
        "update release/2.0",
        "delete release/2.0",
    ] {
        assert!(log.contains(message), "{log}");
    }
    repo.assert_fsck_clean();
}

#[test]
fn bad_input_gets_gitlabs_errors_and_changes_nothing() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let before = store_state(&repo);
    let releases = "/api/v4/projects/1/releases";
    let post = |body: &str| server.call("POST", releases, Some(TOKEN), Some(body));

    let cases: Vec<(&str, Reply, u16, &str)> = vec![
        ("unknown tag", server.get(&format!("{releases}/v7.7")), 404, "404 Release Not Found"),
        (
            "duplicate create",
            post(r#"{"tag_name": "v1.0"}"#),
            409,
            "Release already exists",
        ),
        ("bad JSON", post(r#"{"tag_name": "#), 400, "the JSON body is invalid"),
        ("not an object", post("[1]"), 400, "the JSON body must be an object"),
        ("wrong type", post(r#"{"tag_name": "v2", "ref": "main", "milestones": "M"}"#), 400, "invalid type"),
        ("missing tag_name", post(r#"{"ref": "main"}"#), 400, "tag_name is missing"),
        (
            "bad date",
            post(r#"{"tag_name": "v2", "ref": "main", "released_at": "yesterday"}"#),
            400,
            "released_at is invalid",
        ),
        ("no ref", post(r#"{"tag_name": "v2"}"#), 422, "Ref is not specified"),
        (
            "unknown ref",
            post(r#"{"tag_name": "v2", "ref": "nowhere"}"#),
            422,
            "cannot resolve ref",
        ),
        ("bad tag name", post(r#"{"tag_name": "a..b", "ref": "main"}"#), 400, "invalid tag name"),
        (
            "unknown milestone",
            post(r#"{"tag_name": "v2", "ref": "main", "milestones": ["nope"]}"#),
            400,
            "Milestone(s) not found: nope",
        ),
        (
            "bad link URL",
            post(r#"{"tag_name": "v2", "ref": "main", "assets": {"links": [{"name": "x", "url": "javascript:alert(1)"}]}}"#),
            400,
            "invalid link",
        ),
        (
            "missing token",
            server.call("POST", releases, None, Some(r#"{"tag_name": "v2", "ref": "main"}"#)),
            401,
            "401 Unauthorized",
        ),
        (
            "wrong token",
            server.call("DELETE", &format!("{releases}/v1.0"), Some("guess"), None),
            401,
            "401 Unauthorized",
        ),
        (
            "update with nothing",
            server.write("PUT", &format!("{releases}/v1.0"), json!({})),
            400,
            "at least one parameter must be provided",
        ),
        (
            "update unknown",
            server.write("PUT", &format!("{releases}/v7.7"), json!({"name": "x"})),
            404,
            "404 Release Not Found",
        ),
        (
            "milestone bad date",
            server.write("POST", "/api/v4/projects/1/milestones", json!({"title": "M", "due_date": "31/01/2030"})),
            400,
            "invalid due date",
        ),
        (
            "freeze bad cron",
            server.write("POST", "/api/v4/projects/1/freeze_periods", json!({"freeze_start": "* *", "freeze_end": "0 7 * * 1"})),
            400,
            "invalid cron expression",
        ),
        (
            "freeze bad zone",
            server.write("POST", "/api/v4/projects/1/freeze_periods", json!({"freeze_start": "0 23 * * 5", "freeze_end": "0 7 * * 1", "cron_timezone": "Mars/Olympus"})),
            400,
            "unknown time zone",
        ),
        (
            "link to an unknown release",
            server.write("POST", &format!("{releases}/v7.7/assets/links"), json!({"name": "a", "url": "https://e.x/a"})),
            404,
            "404 Release Not Found",
        ),
        (
            "escaping path",
            server.get("/group/proj/-/archive/..%2F..%2Fetc/passwd"),
            404,
            "404 Not Found",
        ),
        // A name that is not UTF-8 names nothing there is, as GitLab answers it.
        ("path not UTF-8", server.get("/api/v4/projects/%FF/releases"), 404, "404 Project Not Found"),
        (
            "tag not UTF-8",
            server.get("/api/v4/projects/1/releases/%FF%FE"),
            404,
            "404 Release Not Found",
        ),
        (
            "method not served",
            server.call("PATCH", "/api/v4/projects/1/milestones", Some(TOKEN), None),
            405,
            "405 Method Not Allowed",
        ),
        ("archive of nothing", server.get("/api/v4/projects/1/repository/archive.zip?sha=nope"), 404, "404 Tag Not Found"),
    ];
    for (what, reply, status, text) in &cases {
        assert_eq!(
            reply.status,
            *status,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let error = reply.error_text();
        assert!(error.contains(text), "{what}: {error:?} lacks {text:?}");
    }

    // A body over the limit is refused before it is read.
    let huge = format!(
        r#"{{"tag_name": "v3", "ref": "main", "description": "{}"}}"#,
        "x".repeat(9 * 1024 * 1024)
    );
    let reply = post(&huge);
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_text(), "413 Request Entity Too Large");

    assert_eq!(
        store_state(&repo),
        before,
        "a refused request changed the store"
    );
    assert!(!repo.ref_exists("refs/tags/v2"));
}

#[test]
fn read_only_and_tokenless_servers_refuse_every_write() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    let before = store_state(&repo);
    let body = json!({"tag_name": "v2", "ref": "main"});

    let tokenless = start(&repo, &[]);
    let reply = tokenless.write("POST", "/api/v4/projects/1/releases", body.clone());
    assert_eq!(reply.status, 403);
    assert_eq!(reply.error_text(), "403 Forbidden");
    assert_eq!(tokenless.get("/api/v4/projects/1/releases").status, 200);
    drop(tokenless);

    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let read_only = start(&repo, &["--read-only"]);
    for (method, path) in [
        ("POST", "/api/v4/projects/1/releases"),
        ("PUT", "/api/v4/projects/1/releases/v1.0"),
        ("DELETE", "/api/v4/projects/1/releases/v1.0"),
        ("POST", "/api/v4/projects/1/releases/v1.0/assets/links"),
        ("POST", "/api/v4/projects/1/milestones"),
        ("DELETE", "/api/v4/projects/1/freeze_periods/1"),
    ] {
        let reply = read_only.write(method, path, body.clone());
        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(reply.error_text(), "403 Forbidden");
    }
    assert_eq!(
        read_only.get("/api/v4/projects/1/releases/v1.0").status,
        200
    );
    drop(read_only);

    // Tokens from a file; reads need one with --require-token-for-reads.
    env.set("GIT_RELEASE_SERVE_TOKEN", "");
    let file = env.path().join("tokens");
    std::fs::write(&file, "# CI\nfile-token\n").unwrap();
    let locked = start(
        &repo,
        &[
            "--token-file",
            file.to_str().unwrap(),
            "--require-token-for-reads",
        ],
    );
    assert_eq!(locked.get("/api/v4/projects/1/releases").status, 401);
    let reply = locked.call(
        "GET",
        "/api/v4/projects/1/releases",
        Some("file-token"),
        None,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(store_state(&repo), before);
}

#[test]
fn milestones_and_freeze_periods_round_trip() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let milestones = "/api/v4/projects/1/milestones";

    let m = server.write(
        "POST",
        milestones,
        json!({"title": "1.0", "description": "first", "due_date": "2030-01-31"}),
    );
    assert_eq!(m.status, 201);
    let m = m.json();
    assert_eq!(m["project_id"], 1);
    assert_eq!(m["state"], "active");
    assert_eq!(m["due_date"], "2030-01-31");
    let one = format!("{milestones}/{}", m["id"]);
    let dup = server.write("POST", milestones, json!({"title": "1.0"}));
    assert_eq!(dup.status, 400);
    let closed = server.write("PUT", &one, json!({"state_event": "close", "due_date": ""}));
    assert_eq!(closed.json()["state"], "closed");
    assert_eq!(closed.json()["due_date"], Value::Null);
    assert_eq!(
        server.get(&format!("{milestones}?state=closed")).json()[0]["title"],
        "1.0"
    );
    assert_eq!(
        server.get(&format!("{milestones}?state=active")).json(),
        json!([])
    );
    // The CLI sees what the API wrote.
    let cli = repo.release_ok(["milestone", "view", "1.0", "--json"]);
    assert!(cli.contains("\"closed\""), "{cli}");
    assert_eq!(server.write("DELETE", &one, json!({})).status, 204);
    assert_eq!(server.get(&one).status, 404);

    let freezes = "/api/v4/projects/1/freeze_periods";
    let f = server.write(
        "POST",
        freezes,
        json!({"freeze_start": "0 23 * * 5", "freeze_end": "0 7 * * 1", "cron_timezone": "Europe/Berlin"}),
    );
    assert_eq!(f.status, 201);
    let id = f.json()["id"].as_u64().unwrap();
    let one = format!("{freezes}/{id}");
    // GitLab's Freeze Periods API needs a signed-in Reporter, even in a public project.
    assert_eq!(server.get(&one).status, 401);
    assert_eq!(
        server.call("GET", &one, Some(TOKEN), None).json()["cron_timezone"],
        "Europe/Berlin"
    );
    let changed = server.write("PUT", &one, json!({"freeze_end": "0 8 * * 1"}));
    assert_eq!(changed.json()["freeze_end"], "0 8 * * 1");
    assert_eq!(
        server
            .call("GET", freezes, Some(TOKEN), None)
            .header("x-total"),
        "1"
    );
    let listed = repo.release_ok(["freeze", "list", "--json"]);
    assert!(listed.contains("0 8 * * 1"), "{listed}");
    assert_eq!(server.write("DELETE", &one, json!({})).status, 204);
    assert_eq!(server.call("GET", &one, Some(TOKEN), None).status, 404);
    assert_eq!(
        server
            .call("GET", &format!("{freezes}/x"), Some(TOKEN), None)
            .status,
        404
    );
}

#[test]
fn archives_tags_and_web_paths_are_served_from_the_repository() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 2);
    repo.release_ok([
        "link",
        "add",
        "v1.1",
        "--name",
        "app",
        "--url",
        "https://example.com/app-1.1",
        "--direct-asset-path",
        "/bin/app",
    ]);
    let server = start(&repo, &[]);

    // The source archive URLs in release JSON give `git release archive`'s bytes.
    let release = server.get("/api/v4/projects/1/releases/v1.1").json();
    for source in release["assets"]["sources"].as_array().unwrap() {
        let url = source["url"].as_str().unwrap();
        let format = source["format"].as_str().unwrap();
        let served = server.get(url.strip_prefix(&server.base).unwrap());
        assert_eq!(served.status, 200, "{url}");
        let expected = repo
            .release_command()
            .args(["archive", "v1.1", "--format", format, "-o", "-"])
            .output()
            .unwrap()
            .stdout;
        assert!(served.body == expected, "{format} archive differs");
    }
    // The API archive of a tag is plain `git archive` (TZ=UTC, no configuration).
    let zip = server.get("/api/v4/projects/1/repository/archive.zip?sha=v1.0");
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), "application/zip");
    let git = repo.git_raw(["archive", "--format=zip", "--prefix=proj-v1.0/", "v1.0"]);
    assert!(zip.body == git, "API zip differs from git archive");
    // `path`: that directory or file only, as `git archive <rev> -- <path>`, named
    // as GitLab names it.
    for (path, pathspec, prefix) in [
        ("src", "src", "proj-v1.0-src/"),
        ("%2Fsrc%2F", "src", "proj-v1.0-src/"),
        ("src%2Flib.rs", "src/lib.rs", "proj-v1.0-src-lib.rs/"),
    ] {
        let reply = server.get(&format!(
            "/api/v4/projects/1/repository/archive.tar?sha=v1.0&path={path}"
        ));
        assert_eq!(reply.status, 200, "{path}");
        let git = repo.git_raw([
            "archive",
            "--format=tar",
            &format!("--prefix={prefix}"),
            "v1.0",
            "--",
            pathspec,
        ]);
        assert!(reply.body == git, "path={path}: differs from git archive");
        assert!(
            reply
                .header("content-disposition")
                .contains(&format!("{}.tar", prefix.trim_end_matches('/'))),
            "{}",
            reply.header("content-disposition")
        );
    }
    let missing = server.get("/api/v4/projects/1/repository/archive.zip?sha=v1.0&path=nope");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_text(), "404 File Not Found");
    for bad in ["..%2Fsecret", "src%2F..%2F..", "a%2F%2Fb"] {
        let reply = server.get(&format!(
            "/api/v4/projects/1/repository/archive.zip?sha=v1.0&path={bad}"
        ));
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.error_text(), "path is invalid");
    }
    let default = server.get("/api/v4/projects/1/repository/archive");
    assert_eq!(default.header("content-type"), "application/gzip");
    assert_eq!(
        server
            .get("/group/proj/-/archive/v1.0/other-v1.0.zip")
            .status,
        404
    );
    assert_eq!(
        server
            .get("/api/v4/projects/1/repository/archive.rar")
            .status,
        404
    );

    // Permanent download URLs redirect to the link.
    for path in [
        "/group/proj/-/releases/v1.1/downloads/bin/app",
        "/group/proj/-/releases/permalink/latest/downloads/bin/app",
        "/api/v4/projects/1/releases/v1.1/downloads/bin/app",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 302, "{path}");
        assert_eq!(reply.header("location"), "https://example.com/app-1.1");
    }
    assert_eq!(
        server
            .get("/group/proj/-/releases/v1.0/downloads/bin/app")
            .status,
        404
    );
    // The release's web URL is its page; a client asking only for JSON gets the entity.
    let page = server.get("/group/proj/-/releases/v1.1");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    let entity = server.call_with(
        "GET",
        "/group/proj/-/releases/v1.1",
        &[("accept", "application/json")],
    );
    assert_eq!(entity.json()["tag_name"], "v1.1");

    // Tags: the API and the tag_path of the release.
    let tags = server.get("/api/v4/projects/1/repository/tags?order_by=name&sort=asc");
    let names: Vec<String> = tags
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["v1.0", "v1.1"]);
    let tag = server.get("/api/v4/projects/1/repository/tags/v1.1").json();
    assert_eq!(tag["release"]["tag_name"], "v1.1");
    assert_eq!(tag["commit"]["id"], repo.rev("v1.1"));
    let tag_path = release["tag_path"].as_str().unwrap();
    assert_eq!(server.get(tag_path).json(), tag);
    assert_eq!(
        server.get("/api/v4/projects/1/repository/tags/v9").status,
        404
    );
}

#[test]
fn server_and_cli_writing_at_once_lose_nothing() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let server = start(&repo, &["-q"]);
    let home = env.path().to_path_buf();
    let vars = env.vars.borrow().clone();
    let dir = repo.path().to_path_buf();
    std::thread::scope(|scope| {
        for i in 0..6 {
            let server = &server;
            scope.spawn(move || {
                let reply = server.write(
                    "POST",
                    "/api/v4/projects/1/releases",
                    json!({"tag_name": format!("api-{i}"), "ref": "main"}),
                );
                assert_eq!(
                    reply.status,
                    201,
                    "{}",
                    String::from_utf8_lossy(&reply.body)
                );
            });
            let (home, vars, dir) = (home.clone(), vars.clone(), dir.clone());
            scope.spawn(move || {
                let env = Env::borrowed(home, vars);
                env.at(dir)
                    .release_ok(["create", &format!("cli-{i}"), "--ref", "main"]);
            });
        }
    });
    let listed = server.get("/api/v4/projects/1/releases?per_page=100");
    assert_eq!(listed.header("x-total"), "12");
    let notes = repo.git(["notes", "--ref=releases", "list"]);
    assert!(!notes.is_empty());
    repo.assert_fsck_clean();
}

#[test]
#[ignore = "needs python-gitlab (tests/requirements.txt); .ci/run runs it"]
fn python_gitlab_drives_the_server() {
    let venv = tools::venv("gitlab");
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 25);
    repo.env.set("GIT_RELEASE_NOW", "2024-02-01T10:00:00Z");
    repo.release_ok(["create", "release/2.0", "--ref", "HEAD"]);
    repo.env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);

    let archive = env.path().join("python-v1.0.zip");
    tools::python_client_checks(
        &venv,
        env.path(),
        "python_gitlab_check.py",
        &[&server.base, TOKEN, archive.to_str().unwrap()],
        &server,
    );
    let git = repo.git_raw(["archive", "--format=zip", "--prefix=proj-v1.0/", "v1.0"]);
    assert!(
        std::fs::read(&archive).unwrap() == git,
        "python-gitlab's archive differs"
    );

    // The `gitlab` command python-gitlab installs: one list, one create.
    let gitlab = |args: &[&str]| {
        let out = tools::python_command(&venv, "gitlab", env.path())
            .args([
                "--server-url",
                &server.base,
                "--private-token",
                TOKEN,
                "-o",
                "json",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "gitlab {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let listed = gitlab(&["project-release", "list", "--project-id", "1", "--get-all"]);
    assert_eq!(listed.as_array().unwrap().len(), 26);
    let created = gitlab(&[
        "project-release",
        "create",
        "--project-id",
        "group/proj",
        "--tag-name",
        "cli-made",
        "--ref",
        "main",
        "--name",
        "From the gitlab CLI",
    ]);
    assert_eq!(created["tag_name"], "cli-made");
    let shown = repo.release_ok(["view", "cli-made", "--json"]);
    assert!(shown.contains("From the gitlab CLI"), "{shown}");
    repo.assert_fsck_clean();
}

/// Every `href`/`src` of an HTML page, as written (entities `&amp;` decoded).
fn page_links(html: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let end = rest.find('"').unwrap();
            links.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    links
}

/// The release pages of `git release site`, served at GitLab's web paths by the one
/// renderer: the list (paged), each release's page, the feed, the JSON, the badge and
/// the stylesheet, every link among them answering, and URLs on the server's base.
#[test]
fn release_pages_are_served_at_gitlabs_web_paths() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 3);
    for i in 0..50 {
        repo.release_ok([
            "create",
            &format!("old/{i}"),
            "--ref",
            "HEAD",
            "--released-at",
            &format!("2020-01-01T00:00:{i:02}Z"),
            "--notes",
            "An <b>older</b> release.<script>alert(1)</script>",
        ]);
    }
    repo.release_ok([
        "link",
        "add",
        "v1.2",
        "--name",
        "app",
        "--url",
        "https://example.com/app",
    ]);
    repo.release_ok(["milestone", "create", "M1"]);
    repo.release_ok(["update", "v1.2", "--milestone", "M1"]);
    let server = start(&repo, &[]);
    let prefix = "/group/proj/-/releases";

    // Crawl from the list: every internal link answers 200, HTML pages are followed.
    let mut queue = vec![prefix.to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    let mut html_pages = 0;
    let mut listed = String::new();
    while let Some(path) = queue.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let mut reply = server.get(&path);
        if reply.status == 302 {
            // The project's and a milestone's web paths point on to their pages.
            let location = reply.header("location").to_owned();
            let target = location
                .strip_prefix(&server.base)
                .expect("a local redirect");
            reply = server.get(target);
        }
        assert_eq!(
            reply.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        if !reply.header("content-type").starts_with("text/html") {
            continue;
        }
        html_pages += 1;
        let html = String::from_utf8(reply.body).unwrap();
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(!html.contains("<script"), "{path} carries a script");
        if path.starts_with(&format!("{prefix}?")) || path == prefix {
            listed.push_str(&html);
        }
        for link in page_links(&html) {
            let internal = link
                .strip_prefix(&server.base)
                .map(str::to_owned)
                .or_else(|| link.starts_with('/').then(|| link.clone()));
            let Some(internal) = internal else {
                continue;
            };
            // Archives are checked byte for byte elsewhere; API URLs are JSON.
            if internal.contains("/-/archive/") || internal.starts_with("/api/") {
                continue;
            }
            queue.push(internal);
        }
    }
    // Two list pages (53 releases, 50 a page; the project's path redirects to the
    // first) and 53 release pages.
    assert_eq!(html_pages, 56, "{seen:#?}");
    let commit = format!("/group/proj/-/commit/{}", repo.rev("v1.2^{commit}"));
    assert!(seen.contains(&commit), "{seen:#?}");
    assert_eq!(server.get(&commit).json()["id"], repo.rev("v1.2^{commit}"));
    assert_eq!(server.get("/group/proj/-/commit/abc").status, 404);
    assert!(seen.contains("/group/proj/-/milestones/1"), "{seen:#?}");
    assert_eq!(server.get("/group/proj/-/milestones/2").status, 404);
    let blob = repo.rev("HEAD:README.md");
    assert_eq!(
        server.get(&format!("/group/proj/-/commit/{blob}")).status,
        404
    );
    for tag in ["v1.0", "v1.1", "v1.2", "old/0", "old/49"] {
        assert!(listed.contains(&format!(">{tag}<")), "{tag} not listed");
        assert!(
            seen.contains(&format!("{prefix}/{tag}")),
            "no page reached for {tag}"
        );
    }

    // The release page is the static site's page with GitLab's paths: same notes
    // rendering, the link, archives at the API's web path, URLs on the server's base.
    let page = String::from_utf8(server.get(&format!("{prefix}/v1.2")).body).unwrap();
    assert!(page.contains("https://example.com/app"), "{page}");
    assert!(
        page.contains("/group/proj/-/archive/v1.2/proj-v1.2.tar.gz"),
        "{page}"
    );
    let site = env.path().join("site");
    repo.release_ok(["site", "--output", site.to_str().unwrap()]);
    let static_page = std::fs::read_to_string(site.join("releases/old~2F7.html")).unwrap();
    let served_page = String::from_utf8(server.get(&format!("{prefix}/old/7")).body).unwrap();
    let notes = |html: &str| {
        let start = html.find("<div class=\"notes\">").expect("notes");
        let end = start + html[start..].find("</div>").unwrap();
        html[start..end].to_owned()
    };
    assert_eq!(notes(&served_page), notes(&static_page));

    // The feed, the JSON, the badge and the stylesheet.
    let feed = server.get(&format!("{prefix}.atom"));
    assert!(
        feed.header("content-type")
            .starts_with("application/atom+xml")
    );
    let feed = String::from_utf8(feed.body).unwrap();
    assert!(
        feed.contains(&format!(
            "<link href=\"{}/group/proj/-/releases.atom\" rel=\"self\"",
            server.base
        )) || feed.contains(&format!("{}/group/proj/-/releases.atom", server.base)),
        "{feed}"
    );
    let json = server.get(&format!("{prefix}.json")).json();
    assert_eq!(json.as_array().unwrap().len(), 53);
    assert_eq!(json[0]["tag_name"], "v1.2");
    let badge = server.get("/group/proj/-/badges/release.svg");
    assert_eq!(badge.header("content-type"), "image/svg+xml");
    assert!(String::from_utf8(badge.body).unwrap().contains("v1.2"));
    let css = server.get(&format!("{prefix}.css"));
    assert!(css.header("content-type").starts_with("text/css"));

    // Bad input: a page past the last, a page that is no number, a missing release.
    assert_eq!(server.get(&format!("{prefix}?page=3")).status, 404);
    let bad = server.get(&format!("{prefix}?page=x"));
    assert_eq!(bad.status, 400);
    assert!(bad.error_text().contains("page"), "{}", bad.error_text());
    let missing = server.get(&format!("{prefix}/v9"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_text(), "404 Release Not Found");
}

/// `repository/archive?path=` on nested directories, a near-miss sibling (`ab` beside
/// `a`) and an export-ignored file: the same bytes as `git archive <rev> -- <path>`.
#[test]
fn archive_of_a_subpath_is_git_archive_with_a_pathspec() {
    let env = Env::new();
    let repo = project(&env);
    repo.commit(
        "tree",
        &[
            ("a/x", "x\n"),
            ("a/b/y", "y\n"),
            ("a/b/c/z", "z\n"),
            ("a/b/c/ignored", "i\n"),
            ("ab/q", "q\n"),
            (".gitattributes", "a/b/c/ignored export-ignore\n"),
        ],
    );
    let server = start(&repo, &[]);
    for (path, prefix) in [
        ("a", "proj-main-a/"),
        ("a/b", "proj-main-a-b/"),
        ("a/b/c", "proj-main-a-b-c/"),
        ("a/b/c/z", "proj-main-a-b-c-z/"),
    ] {
        for format in ["tar", "zip"] {
            let reply = server.get(&format!(
                "/api/v4/projects/1/repository/archive.{format}?sha=main&path={}",
                path.replace('/', "%2F")
            ));
            assert_eq!(reply.status, 200, "{path} {format}");
            let git = repo.git_raw([
                "archive",
                &format!("--format={format}"),
                &format!("--prefix={prefix}"),
                "main",
                "--",
                path,
            ]);
            assert!(
                reply.body == git,
                "{path} {format}: differs from git archive"
            );
        }
    }
    // Only export-ignored content below the path: git archive refuses it too.
    let ignored =
        server.get("/api/v4/projects/1/repository/archive.tar?sha=main&path=a%2Fb%2Fc%2Fignored");
    assert_eq!(ignored.status, 404);
}

/// A client that hangs up halfway through a large archive costs that one response:
/// the server goes on answering and stops cleanly (no stuck worker). Socket writes
/// do not raise SIGPIPE on Linux; `serve` also ignores it for its helper pipes (git,
/// gpg), which this test does not reach.
#[test]
fn a_client_hanging_up_mid_download_does_not_stop_the_server() {
    use std::io::{Read, Write};
    let env = Env::new();
    let repo = project(&env);
    // 8 MiB that tar cannot shrink, far beyond the socket buffers.
    let mut state = 0x2545_f491_u32;
    let noise: String = (0..8 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    repo.commit("big", &[("big.txt", &noise)]);
    let server = start(&repo, &[]);
    let address = server.base.strip_prefix("http://").unwrap().to_owned();
    for _ in 0..3 {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /api/v4/projects/1/repository/archive.tar?sha=main HTTP/1.1\r\nHost: {address}\r\n\r\n"
        )
        .unwrap();
        let mut first = vec![0; 64 * 1024];
        stream.read_exact(&mut first).unwrap();
        assert!(first.starts_with(b"HTTP/1.1 200"), "{:?}", &first[..40]);
        drop(stream);
    }
    for _ in 0..5 {
        let reply = server.get("/api/v4/version");
        assert_eq!(reply.status, 200);
    }
    let whole = server.get("/api/v4/projects/1/repository/archive.tar?sha=main");
    assert_eq!(whole.status, 200);
    assert!(whole.body == repo.git_raw(["archive", "--format=tar", "--prefix=proj-main/", "main"]));
    let (status, _) = server.stop();
    assert!(status.success(), "{status:?}");
}

/// The served release pages pass the same browser checks as the static site (Debian's
/// chromium through playwright-core): every page and link answers, hostile notes run
/// nothing, no outside request, landmarks, dark scheme, phone width; screenshots in
/// target/serve-screenshots/.
#[test]
#[ignore = "needs chromium, node and playwright-core; .ci/run runs it"]
fn served_pages_pass_the_browser_checks() {
    let script = tools::browser_check();
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 3);
    repo.release_ok([
        "create",
        "hostile/\"<b>'",
        "--ref",
        "HEAD",
        "--name",
        "\"><script>alert('name')</script>",
        "--notes",
        "<script>alert(1)</script><img src=\"data:,\" onerror=\"alert(2)\"> [x](javascript:alert(3))",
    ]);
    repo.release_ok([
        "link",
        "add",
        "v1.2",
        "--name",
        "app",
        "--url",
        "https://example.com/app",
        "--filepath",
        "/bin/app",
    ]);
    let server = start(&repo, &[]);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/serve-screenshots");
    let url = format!("{}/group/proj/-/releases", server.base);
    let report = tools::run_browser_check(
        &script,
        std::ffi::OsStr::new(&url),
        &shots,
        "/group/proj/-/releases/v1.2",
        env.path(),
    );
    assert_eq!(report["releases"], 4, "{report}");
    assert_eq!(report["pages"], 5, "{report}");
}

/// The server keeps the release list between requests; a change by the CLI or by
/// plain git (a tag deleted, put back, moved) shows in the very next response.
#[test]
fn the_cached_list_follows_every_change_to_notes_and_tags() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 3);
    let server = start(&repo, &[]);
    let tags = |server: &Server| -> Vec<String> {
        server
            .get("/api/v4/projects/1/releases?order_by=created_at&sort=asc")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["tag_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(tags(&server), ["v1.0", "v1.1", "v1.2"]);
    assert_eq!(tags(&server), ["v1.0", "v1.1", "v1.2"]);
    repo.release_ok(["create", "v1.3", "--ref", "HEAD"]);
    assert_eq!(tags(&server), ["v1.0", "v1.1", "v1.2", "v1.3"]);
    let target = repo.rev("v1.1");
    repo.git(["tag", "-d", "v1.1"]);
    assert_eq!(tags(&server), ["v1.0", "v1.2", "v1.3"]);
    repo.git(["tag", "v1.1", &target]);
    assert_eq!(tags(&server), ["v1.0", "v1.1", "v1.2", "v1.3"]);
    repo.git(["pack-refs", "--all"]);
    assert_eq!(tags(&server), ["v1.0", "v1.1", "v1.2", "v1.3"]);
    repo.release_ok(["delete", "v1.0", "-y"]);
    assert_eq!(tags(&server), ["v1.1", "v1.2", "v1.3"]);
    // A tag moved to another commit: the list's commit follows the record, and the
    // tag's state is read anew (the CLI shows the same).
    repo.git(["tag", "-f", "v1.2", "HEAD~2"]);
    let served = server.get("/api/v4/projects/1/releases/v1.2").json();
    let listed = server.get("/api/v4/projects/1/releases").json();
    let in_list = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tag_name"] == "v1.2")
        .unwrap()
        .clone();
    assert_eq!(in_list, served);
    assert_same_as_cli(&repo, &server, "v1.2", &served);
}

/// serve's create makes the same signing decision as the CLI: a tag signed by a key
/// nobody here holds gets a release with unsigned evidence, not an error.
#[test]
fn serve_creates_a_release_on_a_tag_signed_by_a_deleted_key() {
    let env = Env::new();
    let repo = project(&env);
    let key = env.path().join("upstream_key");
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "up@example.com",
            "-f",
        ])
        .arg(&key)
        .output()
        .expect("ssh-keygen is installed");
    assert!(out.status.success());
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git(["config", "user.signingKey", key.to_str().unwrap()]);
    repo.git(["tag", "-s", "v1", "-m", "upstream"]);
    std::fs::remove_file(&key).unwrap();
    std::fs::remove_file(key.with_extension("pub")).unwrap();
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let created = server.write(
        "POST",
        "/api/v4/projects/1/releases",
        json!({"tag_name": "v1", "name": "One"}),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.json()["evidences"].as_array().unwrap().len(), 1);
    let listed = repo.release_ok(["evidence", "list", "v1", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&listed).unwrap()[0]["sha"],
        created.json()["evidences"][0]["sha"]
    );
}
