//! Asset links: `create --assets-link/--link` and `link add|list|update|delete`, with
//! plain git as the oracle for what was stored, and GitLab's validation rules.

use serde_json::Value;

use crate::support::{Env, Repo};

const NOW: &str = "2024-06-01T12:00:00Z";
const WEB: &str = "https://gitlab.example.com/group/proj";

fn project_with_web_url(env: &Env) -> Repo<'_> {
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.git(["config", "release.webUrl", WEB]);
    repo.commit("first", &[("a.txt", "a\n")]);
    repo
}

fn record(repo: &Repo, tag: &str) -> Value {
    let text = repo.git([
        "notes",
        "--ref=releases",
        "show",
        &format!("{tag}^{{commit}}"),
    ]);
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["releases"][tag].clone()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn names(links: &Value) -> Vec<&str> {
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect()
}

#[test]
fn create_takes_release_cli_json_and_link_pairs() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--assets-link",
        r#"{"name":"docs","url":"  https://docs.example.com/v1  ","filepath":"/docs"}"#,
        "--assets-link",
        r#"[{"name":"deb","url":"https://e.com/a.deb","link_type":"package","filepath":"/pkg/a.deb","direct_asset_path":"/pkg/a.deb"},
            {"name":"runbook","url":"ftp://e.com/run","link_type":"runbook"}]"#,
        "--link",
        "name=App, linux,url=https://e.com/dl?a=1,2,path=/bin/app,type=image",
    ]);

    // Stored as the note on the tag's commit, readable with plain git.
    let links = record(&repo, "v1.0")["links"].clone();
    let stored: Vec<(u64, &str, &str, Option<&str>, &str)> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["key"].as_str().unwrap().len(), 32, "{l}");
            assert_eq!(l["created_at"], "2024-06-01T12:00:00.000Z");
            (
                l["id"].as_u64().unwrap(),
                l["name"].as_str().unwrap(),
                l["url"].as_str().unwrap(),
                l["direct_asset_path"].as_str(),
                l["link_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            (
                1,
                "docs",
                "https://docs.example.com/v1",
                Some("/docs"),
                "other"
            ),
            (
                2,
                "deb",
                "https://e.com/a.deb",
                Some("/pkg/a.deb"),
                "package"
            ),
            (3, "runbook", "ftp://e.com/run", None, "runbook"),
            (
                4,
                "App, linux",
                "https://e.com/dl?a=1,2",
                Some("/bin/app"),
                "image"
            ),
        ]
    );

    // The GitLab entity: count = links + 4 sources, links newest first, permanent URLs.
    let entity = json(&repo.release_ok(["view", "v1.0", "--json"]));
    assert_eq!(entity["assets"]["count"], 8);
    let links = &entity["assets"]["links"];
    assert_eq!(names(links), ["App, linux", "runbook", "deb", "docs"]);
    assert_eq!(
        links[0],
        serde_json::json!({
            "id": 4,
            "name": "App, linux",
            "url": "https://e.com/dl?a=1,2",
            "direct_asset_url": format!("{WEB}/-/releases/v1.0/downloads/bin/app"),
            "link_type": "image",
        })
    );
    assert_eq!(
        links[1]["direct_asset_url"], "ftp://e.com/run",
        "without a path the link's own URL"
    );
    let keys: Vec<&String> = links[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["id", "name", "url", "direct_asset_url", "link_type"],
        "GitLab's field order"
    );
    repo.assert_fsck_clean();
}

#[test]
fn a_rejected_link_on_create_writes_nothing_not_even_the_tag() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--link", "name=a,url=file:///etc/passwd"],
            "scheme \"file\"",
        ),
        (
            &["--link", "name=a,url=javascript:alert(1)"],
            "only http, https and ftp",
        ),
        (&["--link", "name=a,url=example.com/a"], "no scheme"),
        (&["--link", "name= ,url=https://e.com/a"], "name is empty"),
        (
            &[
                "--link",
                "name=a,url=https://e.com/a",
                "--link",
                "name=a,url=https://e.com/b",
            ],
            "already has a link with the name \"a\"",
        ),
        (
            &[
                "--link",
                "name=a,url=https://e.com/a",
                "--link",
                "name=b,url= https://e.com/a",
            ],
            "with the URL \"https://e.com/a\"",
        ),
        (
            &[
                "--link",
                "name=a,url=https://e.com/a,path=/bin/x",
                "--link",
                "name=b,url=https://e.com/b,path=/bin/x",
            ],
            "with the direct asset path \"/bin/x\"",
        ),
        (
            &["--link", "name=a,url=https://e.com/a,path=bin/x"],
            "must start with '/'",
        ),
        (
            &["--link", "name=a,url=https://e.com/a,path=/bin//x"],
            "'//'",
        ),
        (
            &["--link", "name=a,url=https://e.com/a,path=/bin/x/"],
            "end with a letter or digit",
        ),
        (
            &["--link", "name=a,url=https://e.com/a,path=/a/../b"],
            "'..' segment",
        ),
        (&["--link", "name=a,url=https://e.com/a,path=/a b"], "' '"),
        (
            &["--link", "name=a,url=https://e.com/a,type=binary"],
            "other, runbook, package, image",
        ),
        (&["--link", "url=https://e.com/a"], "name=… is missing"),
        (&["--assets-link", "{not json"], "not valid JSON"),
        (
            &[
                "--assets-link",
                r#"{"name":"a","url":"https://e.com/a","direct_assets_path":"/x"}"#,
            ],
            "unknown field \"direct_assets_path\"",
        ),
        (&["--assets-link", r#"{"name":"a"}"#], "\"url\" is missing"),
        (
            &["--link", "name=a,url=https://e.com/a,sha256=abc"],
            "64 hexadecimal digits",
        ),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["create", "v1.0", "--ref", "HEAD", "--tag-message", "m"];
        args.extend_from_slice(extra);
        let err = repo.release_err(1, &args);
        assert!(err.contains(expected), "{extra:?}: {err}");
        assert!(repo.notes_ref().is_none(), "{extra:?} wrote the notes ref");
        assert!(
            !repo.ref_exists("refs/tags/v1.0"),
            "{extra:?} created the tag"
        );
    }
    let long = format!("name=a,url=https://e.com/a,path=/{}", "a".repeat(128));
    let err = repo.release_err(1, ["create", "v1.0", "--ref", "HEAD", "--link", &long]);
    assert!(err.contains("the limit is 128"), "{err}");
    assert!(repo.notes_ref().is_none());
}

#[test]
fn link_add_list_update_delete_round_trip() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let asset = env.path().join("app.bin");
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&asset, &bytes).unwrap();
    let digest = git_release::digest::sha256_hex(&bytes);

    let out = repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "linux amd64",
        "--url",
        "https://e.com/app",
        "--direct-asset-path",
        "/bin/app",
        "--link-type",
        "package",
        "--file",
        asset.to_str().unwrap(),
    ]);
    assert_eq!(out, "Added link 1 \"linux amd64\" of release v1.0\n");
    let added = json(&repo.release_ok([
        "link",
        "add",
        "latest",
        "--name",
        "notes",
        "--url",
        "https://e.com/notes",
        "--json",
    ]));
    assert_eq!(
        added,
        serde_json::json!({"id": 2, "name": "notes", "url": "https://e.com/notes",
                           "direct_asset_url": "https://e.com/notes", "link_type": "other"})
    );

    let stored = record(&repo, "v1.0")["links"][0].clone();
    assert_eq!(stored["sha256"], digest.as_str());
    assert_eq!(stored["size"], 100_000);

    let table = repo.release_ok(["link", "list", "v1.0"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID  NAME"), "{table}");
    assert!(lines[1].starts_with("2   notes"), "newest first: {table}");
    assert!(
        lines[2].contains("linux amd64")
            && lines[2].contains("/bin/app")
            && lines[2].contains("97.7 KiB")
            && lines[2].contains(&digest),
        "{table}"
    );
    let listed = json(&repo.release_ok(["link", "list", "v1.0", "--json"]));
    assert_eq!(names(&listed), ["notes", "linux amd64"]);
    assert_eq!(
        listed[1]["direct_asset_url"],
        format!("{WEB}/-/releases/v1.0/downloads/bin/app")
    );

    // Update by id, then by name; clearing the path with "".
    repo.release_ok([
        "link",
        "update",
        "v1.0",
        "1",
        "--name",
        "Linux x86-64",
        "--link-type",
        "other",
    ]);
    repo.release_ok([
        "link",
        "update",
        "v1.0",
        "Linux x86-64",
        "--direct-asset-path",
        "",
        "--sha256",
        "",
    ]);
    let first = record(&repo, "v1.0")["links"][0].clone();
    assert_eq!(first["name"], "Linux x86-64");
    assert_eq!(first["link_type"], "other");
    assert!(first.get("direct_asset_path").is_none(), "{first}");
    assert!(
        first.get("sha256").is_none() && first.get("size").is_none(),
        "{first}"
    );
    assert_eq!(first["key"], stored["key"], "identity survives updates");

    // Deleted ids are never handed out again.
    repo.release_ok(["link", "delete", "v1.0", "notes"]);
    let out = repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "n2",
        "--url",
        "https://e.com/n2",
    ]);
    assert!(out.starts_with("Added link 3 "), "{out}");

    assert_eq!(
        repo.git(["log", "--format=%s", "refs/notes/releases"]),
        "link add v1.0 \"n2\"\nlink delete v1.0 \"notes\"\n\
         link update v1.0 \"Linux x86-64\"\nlink update v1.0 \"linux amd64\"\n\
         link add v1.0 \"notes\"\nlink add v1.0 \"linux amd64\"\n\
         create v1.0\ncreate v1.0 (tag pending)\n"
    );
    repo.assert_fsck_clean();
}

#[test]
fn link_ids_are_unique_across_releases() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--link",
        "name=a,url=https://e.com/a",
    ]);
    repo.commit("second", &[("b.txt", "b\n")]);
    repo.release_ok([
        "create",
        "v2",
        "--ref",
        "HEAD",
        "--link",
        "name=a,url=https://e.com/a",
    ]);
    assert_eq!(record(&repo, "v1")["links"][0]["id"], 1);
    assert_eq!(
        record(&repo, "v2")["links"][0]["id"],
        2,
        "same name and URL in another release is fine"
    );
}

#[test]
fn bad_link_changes_leave_the_notes_ref_unchanged() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--link",
        "name=a,url=https://e.com/a,path=/bin/a",
        "--link",
        "name=b,url=https://e.com/b",
    ]);
    let before = repo.notes_ref();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "a",
                "--url",
                "https://e.com/c",
            ],
            "with the name \"a\"",
        ),
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "c",
                "--url",
                " https://e.com/b\n",
            ],
            "with the URL",
        ),
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "c",
                "--url",
                "https://e.com/c",
                "--direct-asset-path",
                "/bin/a",
            ],
            "with the direct asset path",
        ),
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "c",
                "--url",
                "ssh://e.com/c",
            ],
            "scheme \"ssh\"",
        ),
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "c",
                "--url",
                "https://e.com/c",
                "--direct-asset-path",
                "/x/../y",
            ],
            "'..' segment",
        ),
        (
            &[
                "link",
                "add",
                "v1.0",
                "--name",
                "c",
                "--url",
                "https://e.com/c",
                "--file",
                "/no/such/file",
            ],
            "/no/such/file",
        ),
        (
            &[
                "link",
                "add",
                "v9",
                "--name",
                "c",
                "--url",
                "https://e.com/c",
            ],
            "release \"v9\" not found",
        ),
        (
            &["link", "update", "v1.0", "b", "--name", "a"],
            "with the name \"a\"",
        ),
        (
            &["link", "update", "v1.0", "b", "--url", "https://e.com/a"],
            "with the URL",
        ),
        (
            &[
                "link",
                "update",
                "v1.0",
                "b",
                "--direct-asset-path",
                "/bin/a",
            ],
            "with the direct asset path",
        ),
        (
            &["link", "update", "v1.0", "b", "--url", "file:///x"],
            "scheme \"file\"",
        ),
        (&["link", "update", "v1.0", "b"], "nothing to change"),
        (
            &["link", "update", "v1.0", "zzz", "--name", "q"],
            "has no link \"zzz\"",
        ),
        (&["link", "delete", "v1.0", "99"], "has no link \"99\""),
    ];
    for (args, expected) in cases {
        let err = repo.release_err(1, *args);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(repo.notes_ref(), before, "{args:?} changed the notes ref");
    }
    let err = repo.release_err(1, ["link", "delete", "v1.0", "zzz"]);
    assert!(err.contains("hint: `git release link list v1.0`"), "{err}");
    // A link may keep its own name, URL and path when updated.
    repo.release_ok([
        "link",
        "update",
        "v1.0",
        "a",
        "--name",
        "a",
        "--url",
        "https://e.com/a",
        "--direct-asset-path",
        "/bin/a",
    ]);
}

#[test]
fn bad_enum_values_are_usage_errors_that_change_nothing() {
    let env = Env::new();
    let repo = project_with_web_url(&env);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.release_ok(["milestone", "create", "1.0"]);
    let before = repo.notes_ref();
    let err = repo.release_err(
        2,
        [
            "link",
            "add",
            "v1.0",
            "--name",
            "x",
            "--url",
            "https://e.com/x",
            "--link-type",
            "binary",
        ],
    );
    assert!(err.contains("invalid value 'binary'"), "{err}");
    assert!(err.contains("runbook"), "names the possible values: {err}");
    let err = repo.release_err(
        2,
        [
            "milestone",
            "issue",
            "add",
            "1.0",
            "--title",
            "t",
            "--state",
            "resolved",
        ],
    );
    assert!(err.contains("invalid value 'resolved'"), "{err}");
    let err = repo.release_err(2, ["archive", "v1.0", "--format", "rar"]);
    assert!(err.contains("rar"), "{err}");
    assert_eq!(repo.notes_ref(), before, "nothing was written");
    // GitLab's alias for an open issue is still taken.
    repo.release_ok([
        "milestone",
        "issue",
        "add",
        "1.0",
        "--title",
        "t",
        "--state",
        "open",
    ]);
}
