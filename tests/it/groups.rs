//! Groups: `serve --root` over a temporary root of real repositories (work trees, bare
//! mirrors, one without a `config` file, a submodule, hidden ones), read over HTTP by
//! ureq and by python-gitlab, with git as the oracle for ids and what was stored.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::serve::{Server, TOKEN, releases, start};
use crate::support::{Env, Repo, tools};

/// The root: `team/app` (a work tree with 2 releases and a submodule, so that
/// `.git/modules/…` exists), `team/sub/lib.git` (a bare mirror of it without a
/// `config` file), `top.git` (bare, no release), and what is not a project:
/// `.hidden.git`, `team/.cache/x.git`.
fn build_root(env: &Env) -> PathBuf {
    let root = env.path().join("root");
    std::fs::create_dir_all(root.join("team/sub")).unwrap();
    let vendored = env.repo("vendored");
    vendored.commit("vendored", &[("v.txt", "v\n")]);
    let app = env.at(root.join("team/app"));
    std::fs::create_dir_all(app.path()).unwrap();
    app.git(["init", "-q"]);
    app.commit("first", &[("README.md", "hello\n")]);
    app.git([
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        vendored.path().to_str().unwrap(),
        "vendor",
    ]);
    app.git(["commit", "-qm", "vendor"]);
    assert!(app.path().join(".git/modules/vendor/HEAD").exists());
    releases(&app, 2);
    let lib = root.join("team/sub/lib.git");
    app.git(["clone", "-q", "--mirror", ".", lib.to_str().unwrap()]);
    std::fs::remove_file(lib.join("config")).unwrap();
    for bare in ["top.git", ".hidden.git", "team/.cache/x.git"] {
        let dir = root.join(bare);
        std::fs::create_dir_all(&dir).unwrap();
        env.at(&dir).git(["init", "-q", "--bare"]);
    }
    root
}

fn serve_root<'e>(env: &'e Env, root: &Path) -> (Repo<'e>, Server) {
    let at = env.at(root);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&at, &["--root", root.to_str().unwrap()]);
    (at, server)
}

fn paths(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|p| p[key].as_str().unwrap().to_owned())
        .collect()
}

/// The id recorded in a repository's config, as git reads it.
fn recorded_id(env: &Env, git_dir: &Path) -> u64 {
    let out = Command::new("git")
        .args(["config", "--file"])
        .arg(git_dir.join("config"))
        .arg("release.projectId")
        .env("HOME", env.path())
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn serve_root_serves_every_repository_as_a_project_in_its_groups() {
    let env = Env::new();
    let root = build_root(&env);
    // A project whose name is not its path, as GitLab's may be.
    env.at(root.join("team/app"))
        .git(["config", "release.project", "application"]);
    let (_at, server) = serve_root(&env, &root);

    let listed = server.get("/api/v4/projects?order_by=path&sort=asc");
    assert_eq!(listed.status, 200);
    assert_eq!(
        paths(&listed.json(), "path_with_namespace"),
        ["team/app", "team/sub/lib", "top"],
        "no hidden repository, no submodule, no repository inside another"
    );
    assert_eq!(listed.header("x-total"), "3");
    let page = server.get("/api/v4/projects?per_page=2&page=2&order_by=path&sort=asc");
    assert_eq!(paths(&page.json(), "path_with_namespace"), ["top"]);
    assert_eq!(page.header("x-total-pages"), "2");
    assert_eq!(page.header("x-prev-page"), "1");

    // Every project under its path and its id, with its own releases.
    let mut ids = Vec::new();
    for (path, git_dir, count) in [
        ("team/app", root.join("team/app/.git"), 2),
        ("team/sub/lib", root.join("team/sub/lib.git"), 2),
        ("top", root.join("top.git"), 0),
    ] {
        let encoded = path.replace('/', "%2F");
        let project = server.get(&format!("/api/v4/projects/{encoded}")).json();
        assert_eq!(project["path_with_namespace"], path);
        assert_eq!(project["web_url"], format!("{}/{path}", server.base));
        let id = project["id"].as_u64().unwrap();
        assert_eq!(
            recorded_id(&env, &git_dir),
            id,
            "{path}: id recorded in its config"
        );
        ids.push(id);
        let by_id = server.get(&format!("/api/v4/projects/{id}/releases"));
        assert_eq!(by_id.status, 200, "{path}");
        assert_eq!(by_id.json().as_array().unwrap().len(), count, "{path}");
        if count > 0 {
            let release = server
                .get(&format!("/api/v4/projects/{encoded}/releases/v1.1"))
                .json();
            assert_eq!(
                release["_links"]["self"],
                format!("{}/{path}/-/releases/v1.1", server.base)
            );
            let page = server.get(&format!("/{path}/-/releases"));
            assert_eq!(page.status, 200, "{path}'s release page");
            assert!(String::from_utf8_lossy(&page.body).contains("v1.1"));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "ids are unique across the root");
    // GitLab's names: the groups' and the project's, which is not its path.
    let app = server.get("/api/v4/projects/team%2Fapp").json();
    assert_eq!(
        (&app["name"], &app["path"], &app["name_with_namespace"]),
        (
            &Value::from("application"),
            &Value::from("app"),
            &Value::from("team / application")
        )
    );
    let lib = server.get("/api/v4/projects/team%2Fsub%2Flib").json();
    assert_eq!(lib["name_with_namespace"], "team / sub / lib");

    // The mirror without a config file is bare, as git takes it: its archive is git's.
    let zip = server.get("/api/v4/projects/team%2Fsub%2Flib/repository/archive.zip?sha=v1.0");
    assert_eq!(zip.status, 200);
    let git = Command::new("git")
        .args(["archive", "--format=zip", "--prefix=lib-v1.0/", "v1.0"])
        .current_dir(root.join("team/sub/lib.git"))
        .env("HOME", env.path())
        .output()
        .unwrap();
    assert!(git.status.success());
    assert!(
        zip.body == git.stdout,
        "the served archive is `git archive`'s"
    );

    // Groups: the directories on the way to projects.
    let groups = server.get("/api/v4/groups?order_by=path");
    assert_eq!(paths(&groups.json(), "full_path"), ["team", "team/sub"]);
    let team = server.get("/api/v4/groups/team").json();
    assert_eq!(team["parent_id"], Value::Null);
    assert_eq!(
        paths(&team["projects"], "path_with_namespace"),
        ["team/app"]
    );
    let sub = server.get("/api/v4/groups/team%2Fsub").json();
    assert_eq!(sub["parent_id"], team["id"]);
    assert_eq!(sub["full_name"], "team / sub");
    let by_id = server.get(&format!("/api/v4/groups/{}", sub["id"])).json();
    assert_eq!(by_id["full_path"], "team/sub");
    for key in ["team".to_owned(), team["id"].to_string()] {
        let direct = server.get(&format!("/api/v4/groups/{key}/projects"));
        assert_eq!(paths(&direct.json(), "path_with_namespace"), ["team/app"]);
    }
    let all = server.get(&format!(
        "/api/v4/groups/{}/projects?include_subgroups=true&order_by=path&sort=asc&per_page=1",
        team["id"]
    ));
    assert_eq!(all.header("x-total"), "2");
    assert_eq!(all.header("x-next-page"), "2");
    let subgroups = server.get(&format!("/api/v4/groups/{}/subgroups", team["id"]));
    assert_eq!(paths(&subgroups.json(), "full_path"), ["team/sub"]);
    let top_level = server.get("/api/v4/groups?top_level_only=true");
    assert_eq!(paths(&top_level.json(), "full_path"), ["team"]);
    // A group's web_url leads somewhere: to its JSON.
    let web = server.get("/groups/team/sub");
    assert_eq!(web.status, 302);
    assert_eq!(
        web.header("location"),
        format!("{}/api/v4/groups/{}", server.base, sub["id"])
    );
    assert_eq!(sub["web_url"], format!("{}/groups/team/sub", server.base));
    assert_eq!(server.get("/groups/nope").status, 404);
    let missing = server.get("/api/v4/groups/999999");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_text(), "404 Group Not Found");
    assert_eq!(server.get("/api/v4/projects/team%2Fnope").status, 404);
    assert_eq!(server.get("/api/v4/projects/.hidden").status, 404);

    // A write goes to that project's repository and no other.
    let created = server.write(
        "POST",
        "/api/v4/projects/team%2Fsub%2Flib/releases",
        json!({"tag_name": "v5.0", "ref": "main"}),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let lib = env.at(root.join("team/sub/lib.git"));
    assert!(
        lib.git(["notes", "--ref=releases", "list"])
            .contains(&lib.rev("v5.0^{commit}"))
    );
    assert!(lib.ref_exists("refs/tags/v5.0"));
    let app = env.at(root.join("team/app"));
    assert!(!app.ref_exists("refs/tags/v5.0"));
    lib.assert_fsck_clean();
}

#[test]
fn a_repository_added_while_serving_appears_and_ids_survive_restarts_and_renames() {
    let env = Env::new();
    let root = build_root(&env);
    let (_at, server) = serve_root(&env, &root);
    let before = server.get("/api/v4/projects?per_page=100").json();
    let id_of = |list: &Value, path: &str| -> u64 {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["path_with_namespace"] == path)
            .unwrap_or_else(|| panic!("{path} not in {list}"))["id"]
            .as_u64()
            .unwrap()
    };
    let lib_id = id_of(&before, "team/sub/lib");
    let sub_id = server.get("/api/v4/groups/team%2Fsub").json()["id"].clone();

    // Added while serving, in a new group: seen by the next request.
    let added = root.join("team/new/added.git");
    std::fs::create_dir_all(&added).unwrap();
    env.at(&added).git(["init", "-q", "--bare"]);
    let project = server.get("/api/v4/projects/team%2Fnew%2Fadded");
    assert_eq!(
        project.status, 200,
        "a new repository is served without a restart"
    );
    let added_id = project.json()["id"].as_u64().unwrap();
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != added_id)
    );
    assert_eq!(server.get("/api/v4/groups/team%2Fnew").status, 200);
    drop(server);

    // Renamed while stopped: the project and its group keep their ids.
    std::fs::rename(root.join("team/sub"), root.join("team/lower")).unwrap();
    std::fs::remove_dir_all(root.join("top.git")).unwrap();
    let (_at, server) = serve_root(&env, &root);
    let after = server.get("/api/v4/projects?per_page=100").json();
    assert_eq!(id_of(&after, "team/lower/lib"), lib_id);
    assert_eq!(id_of(&after, "team/new/added"), added_id);
    assert_eq!(
        server.get("/api/v4/groups/team%2Flower").json()["id"],
        sub_id
    );
    let lib = server.get(&format!("/api/v4/projects/{lib_id}/releases"));
    assert_eq!(lib.json().as_array().unwrap().len(), 2);

    // A new repository never gets an id given before (top's is gone, not reused).
    let fresh = root.join("fresh.git");
    std::fs::create_dir_all(&fresh).unwrap();
    env.at(&fresh).git(["init", "-q", "--bare"]);
    let fresh_id = server.get("/api/v4/projects/fresh").json()["id"]
        .as_u64()
        .unwrap();
    assert!(
        before
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != fresh_id)
    );
    assert_ne!(fresh_id, added_id);
}

/// The bug this fixes: `serve` in a bare repository without a `config` file answered
/// 500 (libgit2 took the directory above for its work tree).
#[test]
fn serve_answers_from_a_bare_repository_without_a_config_file() {
    let env = Env::new();
    let app = env.repo("app");
    app.commit("first", &[("README.md", "hello\n")]);
    releases(&app, 2);
    let mirror = env.path().join("mirror.git");
    app.git(["clone", "-q", "--mirror", ".", mirror.to_str().unwrap()]);
    std::fs::remove_file(mirror.join("config")).unwrap();
    let bare = env.at(&mirror);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&bare, &[]);
    let listed = server.get("/api/v4/projects/1/releases");
    assert_eq!(listed.status, 200, "{}", server.log());
    assert_eq!(listed.json().as_array().unwrap().len(), 2);
    let project = server.get("/api/v4/projects/1").json();
    assert_eq!(
        project["name"], "mirror",
        "named after the repository, not its parent"
    );
    assert_eq!(server.get("/mirror/-/releases").status, 200);
    assert!(
        !mirror.join("config").exists(),
        "a plain serve writes nothing"
    );
}

#[test]
#[ignore = "needs python-gitlab (tests/requirements.txt); .ci/run runs it"]
fn python_gitlab_reads_a_root_of_projects_and_groups() {
    let venv = tools::venv("gitlab");
    let env = Env::new();
    let root = build_root(&env);
    let (_at, server) = serve_root(&env, &root);
    tools::python_client_checks(
        &venv,
        env.path(),
        "python_gitlab_groups.py",
        &[&server.base, TOKEN],
        &server,
    );
    let lib = env.at(root.join("team/sub/lib.git"));
    assert!(lib.ref_exists("refs/tags/v9.0"));
}

#[test]
fn group_releases_merge_the_projects_of_the_group_and_its_subgroups() {
    let env = Env::new();
    let root = build_root(&env);
    let (_at, server) = serve_root(&env, &root);
    let created = server.write(
        "POST",
        "/api/v4/projects/team%2Fsub%2Flib/releases",
        json!({"tag_name": "v2.0", "ref": "main", "released_at": "2024-03-01T00:00:00Z"}),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let tags = |reply: &crate::support::serve::Reply| paths(&reply.json(), "tag_name");
    let links = |reply: &crate::support::serve::Reply| -> Vec<String> {
        reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["_links"]["self"].as_str().unwrap().to_owned())
            .collect()
    };

    let team = server.get("/api/v4/groups/team/releases");
    assert_eq!(team.status, 200);
    assert_eq!(tags(&team), ["v2.0", "v1.1", "v1.1", "v1.0", "v1.0"]);
    assert_eq!(team.header("x-total"), "5");
    let mut newest = links(&team)[1..3].to_vec();
    newest.sort();
    assert_eq!(
        newest,
        [
            format!("{}/team/app/-/releases/v1.1", server.base),
            format!("{}/team/sub/lib/-/releases/v1.1", server.base),
        ],
        "both projects' releases, each with its own project's URLs"
    );
    let ascending = server.get("/api/v4/groups/team/releases?sort=asc");
    let mut reversed = links(&team);
    reversed.reverse();
    assert_eq!(links(&ascending), reversed);

    let page = server.get("/api/v4/groups/team/releases?per_page=2&page=2");
    assert_eq!(tags(&page), ["v1.1", "v1.0"]);
    assert_eq!(page.header("x-total-pages"), "3");
    assert_eq!(page.header("x-next-page"), "3");
    assert!(page.header("link").contains("rel=\"next\""));

    let sub = server.get("/api/v4/groups/team%2Fsub/releases");
    assert_eq!(tags(&sub), ["v2.0", "v1.1", "v1.0"]);

    let simple = server.get("/api/v4/groups/team/releases?simple=true&per_page=1");
    let first = &simple.json()[0];
    assert_eq!(first["tag_name"], "v2.0");
    assert_eq!(first["released_at"], "2024-03-01T00:00:00.000Z");
    assert!(
        first.get("commit").is_none() && first.get("assets").is_none(),
        "{first}"
    );

    // A full entity is the project's own, as its project list shows it.
    let full = &team.json()[0];
    let own = server
        .get("/api/v4/projects/team%2Fsub%2Flib/releases/v2.0")
        .json();
    assert_eq!(full, &own);

    // Changed behind the server's back, by the CLI and by plain git: the next list
    // sees it (the caches follow each repository's refs).
    let app = env.at(root.join("team/app"));
    app.env.set("GIT_RELEASE_NOW", "2024-04-01T00:00:00Z");
    app.release_ok(["create", "v3.0", "--ref", "HEAD"]);
    assert_eq!(
        tags(&server.get("/api/v4/groups/team/releases?per_page=2")),
        ["v3.0", "v2.0"]
    );
    let lib = env.at(root.join("team/sub/lib.git"));
    lib.git(["tag", "-d", "v2.0"]);
    let total = |path: &str| -> usize { server.get(path).header("x-total").parse().unwrap() };
    assert_eq!(
        total("/api/v4/groups/team/releases"),
        total("/api/v4/projects/team%2Fapp/releases")
            + total("/api/v4/projects/team%2Fsub%2Flib/releases"),
        "the group lists what its projects list, after a tag was deleted"
    );
    assert_eq!(server.get("/api/v4/groups/nope/releases").status, 404);
    assert_eq!(
        server.get("/api/v4/groups/team/releases?sort=up").status,
        400
    );
}

#[test]
fn stats_count_releases_per_group_on_a_mix_of_projects_and_write_nothing() {
    let env = Env::new();
    let root = build_root(&env);
    // A project without releases in `team`, beside `app` (2) and, below, `lib` (2).
    let empty = root.join("team/empty.git");
    std::fs::create_dir_all(&empty).unwrap();
    env.at(&empty).git(["init", "-q", "--bare"]);
    let at = env.at(env.path());
    let root_arg = root.to_str().unwrap();
    let out = at.release_ok(["stats", "--root", root_arg, "--json"]);
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        stats,
        json!([
            {"full_path": "", "releases_count": 4, "releases_percentage": 50},
            {"full_path": "team", "releases_count": 4, "releases_percentage": 67},
            {"full_path": "team/sub", "releases_count": 2, "releases_percentage": 100},
        ])
    );
    let human = at.release_ok(["stats", "--root", root_arg]);
    insta::assert_snapshot!("stats_root", human);
    assert!(
        !root.join(".git-release-root").exists(),
        "stats records no id"
    );
    assert!(!root.join("team/.git-release-group").exists());
    let config = std::fs::read_to_string(empty.join("config")).unwrap();
    assert!(!config.contains("projectId"), "{config}");

    // Inside one repository: that project alone.
    let app = env.at(root.join("team/app"));
    let one: Value = serde_json::from_str(&app.release_ok(["stats", "--json"])).unwrap();
    assert_eq!(one[0]["releases_count"], 2);
    assert_eq!(one[0]["releases_percentage"], 100);

    // Served, from the server's caches: the same figures.
    let (_at, server) = serve_root(&env, &root);
    let team = server.get("/api/v4/groups/team/release_stats");
    assert_eq!(team.status, 200);
    assert_eq!(team.json(), stats[1]);
    assert_eq!(
        server.get("/api/v4/groups/team%2Fsub/release_stats").json(),
        stats[2]
    );
    assert_eq!(server.get("/api/v4/groups/nope/release_stats").status, 404);

    let missing = at.release_err(1, ["stats", "--root", "does-not-exist"]);
    assert!(missing.contains("does-not-exist"), "{missing}");
}

#[test]
fn site_root_writes_each_project_and_a_page_and_feed_per_group() {
    let env = Env::new();
    let root = build_root(&env);
    let out = env.path().join("public");
    let at = env.at(env.path());
    at.release_ok([
        "site",
        "--root",
        root.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--base-url",
        "https://releases.example/all",
    ]);
    let read = |path: &str| {
        std::fs::read_to_string(out.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    // Each project's own site, as `git release site` writes it in that repository.
    for (path, count) in [("team/app", 2), ("team/sub/lib", 2), ("top", 0)] {
        let list: Value =
            serde_json::from_str(&read(&format!("projects/{path}/releases.json"))).unwrap();
        assert_eq!(list.as_array().unwrap().len(), count, "{path}");
    }
    assert!(read("projects/team/app/releases/v1.1.html").contains("v1.1"));
    // The root and each group: metrics, projects, releases linking to their pages.
    let index = read("index.html");
    assert!(
        index.contains("<dd class=\"releases-count\">4</dd>"),
        "{index}"
    );
    assert!(
        index.contains("67%"),
        "2 of 3 projects have releases: {index}"
    );
    assert!(index.contains("href=\"groups/team/index.html\""));
    assert!(index.contains("href=\"projects/top/index.html\""));
    let team = read("groups/team/index.html");
    assert!(
        team.contains("<dd class=\"releases-count\">4</dd>"),
        "{team}"
    );
    assert!(team.contains("100%"));
    assert!(
        team.contains("href=\"../../projects/team/app/releases/v1.1.html\""),
        "{team}"
    );
    assert!(team.contains("href=\"../../projects/team/sub/lib/releases/v1.0.html\""));
    assert!(
        team.contains("href=\"../../groups/team/sub/index.html\""),
        "its subgroup"
    );
    let sub = read("groups/team/sub/index.html");
    assert!(sub.contains("<dd class=\"releases-count\">2</dd>"), "{sub}");
    assert!(
        !sub.contains("team/app"),
        "a subgroup lists only its own: {sub}"
    );
    // Feeds: Atom, entries naming their project, links on the base URL.
    let feed = read("groups/team/sub/releases.atom");
    assert!(feed.starts_with("<?xml"));
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert!(feed.contains("<title>team/sub/lib: v1.1</title>"), "{feed}");
    assert!(feed.contains("https://releases.example/all/projects/team/sub/lib/releases/v1.1.html"));
    assert_eq!(read("releases.atom").matches("<entry>").count(), 4);
    let every: Value = serde_json::from_str(&read("releases.json")).unwrap();
    assert_eq!(paths(&every, "tag_name"), ["v1.1", "v1.1", "v1.0", "v1.0"]);
    assert!(
        !root.join(".git-release-root").exists(),
        "site records no id"
    );

    // Written again over itself: replaced whole.
    at.release_ok([
        "site",
        "--root",
        root.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(read("index.html").contains("team/sub/lib"));
    // A directory that is not a site is refused, and left alone.
    let other = env.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "mine").unwrap();
    at.release_err(
        1,
        [
            "site",
            "--root",
            root.to_str().unwrap(),
            "--output",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(other.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
#[ignore = "needs chromium and playwright-core (tests/browser); .ci/run runs it"]
fn site_root_pages_pass_the_browser_checks() {
    let script = tools::browser_check();
    let env = Env::new();
    let root = build_root(&env);
    let out = env.path().join("public");
    env.at(env.path()).release_ok([
        "site",
        "--root",
        root.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site-root-screenshots");
    let report = tools::run_browser_check(
        &script,
        out.as_os_str(),
        &shots,
        "/groups/team/index.html",
        env.path(),
    );
    assert_eq!(report["releases"], 4);
    assert!(report["pages"].as_u64().unwrap() >= 10, "{report}");
}

/// `GET /groups/:id/packages`: the packages of the group's projects (uploaded with the
/// command line, one of them into a bare repository), with GitLab's filters and orders.
#[test]
fn a_groups_packages_are_its_projects_packages() {
    let env = Env::new();
    let root = build_root(&env);
    let app = env.at(root.join("team/app"));
    let lib = env.at(root.join("team/sub/lib.git"));
    let (a, b) = (env.path().join("a.bin"), env.path().join("b.bin"));
    std::fs::write(&a, "app bytes\n").unwrap();
    std::fs::write(&b, "lib bytes\n").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    app.release_ok(["package", "upload", "tool", "1.0.0", a]);
    app.release_ok(["package", "upload", "other", "2.0", a]);
    lib.release_ok(["package", "upload", "tool", "1.0.0", b]);
    let (_at, server) = serve_root(&env, &root);
    let hidden = server.send(
        "PUT",
        "/api/v4/projects/team%2Fsub%2Flib/packages/generic/secret/1.0/s.bin?status=hidden",
        &[("PRIVATE-TOKEN", TOKEN)],
        b"hidden bytes\n",
    );
    assert_eq!(hidden.status, 201, "{}", server.log());
    let rows = |path: &str| -> Vec<(String, String, u64)> {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", server.log());
        reply
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["name"].as_str().unwrap().to_owned(),
                    p["project_path"].as_str().unwrap().to_owned(),
                    p["project_id"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let app_id = server.get("/api/v4/projects/team%2Fapp").json()["id"]
        .as_u64()
        .unwrap();
    let lib_id = server.get("/api/v4/projects/team%2Fsub%2Flib").json()["id"]
        .as_u64()
        .unwrap();
    let team = rows("/api/v4/groups/team/packages?order_by=project_path&sort=asc");
    assert_eq!(
        team,
        [
            ("tool".into(), "team/app".into(), app_id),
            ("other".into(), "team/app".into(), app_id),
            ("tool".into(), "team/sub/lib".into(), lib_id),
        ],
        "hidden packages are left out, as GitLab leaves them"
    );
    let names: Vec<String> = rows("/api/v4/groups/team/packages?order_by=name")
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    assert_eq!(names, ["other", "tool", "tool"]);
    assert_eq!(
        rows("/api/v4/groups/team/packages?exclude_subgroups=true&package_name=TOO"),
        [("tool".into(), "team/app".into(), app_id)]
    );
    assert_eq!(
        rows("/api/v4/groups/team%2Fsub/packages?status=hidden"),
        [("secret".into(), "team/sub/lib".into(), lib_id)]
    );
    let first = server.get("/api/v4/groups/team/packages?per_page=2&order_by=name");
    assert_eq!(first.header("x-total"), "3");
    assert_eq!(first.json().as_array().unwrap().len(), 2);
    // Each entry links to its own project's package API.
    let one = &server.get("/api/v4/groups/team%2Fsub/packages").json()[0];
    assert_eq!(
        one["_links"]["delete_api_path"],
        format!(
            "{}/api/v4/projects/{lib_id}/packages/{}",
            server.base, one["id"]
        )
    );
    // Bad input: GitLab's answers.
    assert_eq!(server.get("/api/v4/groups/nope/packages").status, 404);
    assert_eq!(
        server
            .get("/api/v4/groups/team/packages?order_by=size")
            .status,
        400
    );
    assert_eq!(
        server
            .get("/api/v4/groups/team/packages?package_type=npm")
            .json(),
        json!([])
    );
}
