//! `git release serve` against what a stranger sends: lenient input as GitLab takes it,
//! bad paths and names, tokens in every spelling, forged Host headers, slow and silent
//! clients, expensive content. Each case is answered with a 4xx (never a 5xx or the
//! server's internals), within the server's limits, and changes nothing it should not.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::serve::{Reply, Server, TOKEN, project, releases, start, store_state};
use crate::support::{Env, Repo};

/// `host:port` of the server.
fn address(server: &Server) -> String {
    server.base.strip_prefix("http://").unwrap().to_owned()
}

/// One request written as given on a fresh connection (`Connection: close`), and
/// everything the server answers: status, head, body.
fn raw(server: &Server, request: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(address(server)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let body = answer.get(split + 4..).unwrap_or_default().to_vec();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, body)
}

/// A POST with a form body and the token in a header.
fn post_form(server: &Server, path: &str, form: &str) -> Reply {
    let (status, head, body) = raw(
        server,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nPRIVATE-TOKEN: {TOKEN}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            address(server),
            form.len()
        ),
    );
    let mut headers = ureq::http::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((k, v)) = line.split_once(": ")
            && let (Ok(k), Ok(v)) = (
                ureq::http::HeaderName::from_bytes(k.as_bytes()),
                ureq::http::HeaderValue::from_str(v),
            )
        {
            headers.insert(k, v);
        }
    }
    Reply {
        status,
        headers,
        body: dechunk(&head, body),
    }
}

/// The body of a `Transfer-Encoding: chunked` response, unchunked.
fn dechunk(head: &str, body: Vec<u8>) -> Vec<u8> {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body;
    }
    let mut out = Vec::new();
    let mut rest = &body[..];
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&rest[end + 2..end + 2 + size]);
        rest = &rest[end + 2 + size + 2..];
    }
    out
}

/// What a response must never hold: the server's own paths, a helper's output.
fn assert_no_internals(repo: &Repo, what: &str, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    let home = repo.env.path().to_string_lossy().into_owned();
    assert!(!text.contains(&home), "{what}: a server path in {text}");
    for leak in ["/tmp/", "gpg:", "error: ", "panicked"] {
        assert!(!text.contains(leak), "{what}: {leak:?} in {text}");
    }
}

#[test]
fn input_is_taken_as_gitlab_takes_it() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    repo.release_ok(["milestone", "create", "M1"]);
    let server = start(&repo, &[]);
    let releases = "/api/v4/projects/1/releases";

    // Fields GitLab added later (sent by newer clients) are ignored, as GitLab
    // ignores fields it does not know; a number given for a text is that text.
    let created = server.write(
        "POST",
        releases,
        json!({"tag_name": "v1.0", "ref": "main", "name": 123,
               "legacy_catalog_publish": true, "direct_asset_link": {"x": 1}}),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert_eq!(created.json()["name"], "123");
    let updated = server.write(
        "PUT",
        &format!("{releases}/v1.0"),
        json!({"description": true, "colour": "red"}),
    );
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["description"], "true");
    let link = server.write(
        "POST",
        &format!("{releases}/v1.0/assets/links"),
        json!({"name": "a", "url": "https://e.x/a", "link_type": "other", "unknown": 1}),
    );
    assert_eq!(link.status, 201);
    let milestone = server.write(
        "POST",
        "/api/v4/projects/1/milestones",
        json!({"title": 2024, "state_event": "close", "ignored": []}),
    );
    assert_eq!(milestone.status, 201);
    assert_eq!(milestone.json()["title"], "2024");

    // A form body with Rack's nested keys, as curl --data and older clients send it.
    let form = post_form(
        &server,
        releases,
        "tag_name=v2.0&ref=main&name=Two+words&milestones[]=M1\
         &assets[links][][name]=linux&assets[links][][url]=https%3A%2F%2Fe.x%2Flinux\
         &assets[links][][name]=mac&assets[links][][url]=https%3A%2F%2Fe.x%2Fmac\
         &assets[links][][link_type]=package&legacy_catalog_publish=false",
    );
    assert_eq!(form.status, 201, "{}", String::from_utf8_lossy(&form.body));
    let form = form.json();
    assert_eq!(form["name"], "Two words");
    assert_eq!(form["milestones"][0]["title"], "M1");
    let mut links: Vec<(String, String, String)> = form["assets"]["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_owned(),
                l["url"].as_str().unwrap().to_owned(),
                l["link_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    links.sort();
    assert_eq!(
        links,
        [
            ("linux".into(), "https://e.x/linux".into(), "other".into()),
            ("mac".into(), "https://e.x/mac".into(), "package".into())
        ]
    );
    let cli: Value = serde_json::from_str(&repo.release_ok(["view", "v2.0", "--json"])).unwrap();
    assert_eq!(cli["assets"]["links"].as_array().unwrap().len(), 2);

    // What GitLab refuses stays refused: a list where a text goes, a text where a
    // list goes.
    for body in [
        json!({"tag_name": "v3", "ref": "main", "name": ["x"]}),
        json!({"tag_name": "v3", "ref": "main", "milestones": "M1"}),
    ] {
        let reply = server.write("POST", releases, body.clone());
        assert_eq!(reply.status, 400, "{body}");
    }
    assert!(!repo.ref_exists("refs/tags/v3"));
}

#[test]
fn bad_names_in_paths_and_bodies_are_4xx_without_internals() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let before = store_state(&repo);
    let long = "x".repeat(1024);
    let mut cases: Vec<(String, Reply, u16)> = Vec::new();
    for (path, status) in [
        ("/api/v4/projects/1/releases/%FF".to_owned(), 404),
        ("/api/v4/projects/1/releases/v1%00".to_owned(), 404),
        ("/api/v4/projects/1/releases/%00".to_owned(), 404),
        (format!("/api/v4/projects/1/releases/{long}"), 404),
        (
            format!("/api/v4/projects/1/releases/{long}/assets/links"),
            404,
        ),
        (format!("/api/v4/projects/1/releases/{long}/evidence"), 404),
        (format!("/api/v4/projects/1/repository/tags/{long}"), 404),
        ("/api/v4/projects/1/repository/tags/a%00b".to_owned(), 404),
        (format!("/group/proj/-/releases/{long}"), 404),
        (format!("/group/proj/-/tags/{long}"), 404),
        ("/group/proj/-/releases/a%00b".to_owned(), 404),
        (
            format!("/api/v4/projects/1/repository/archive.zip?sha={long}"),
            404,
        ),
        (
            "/api/v4/projects/1/repository/archive.zip?sha=a%00b".to_owned(),
            404,
        ),
        (format!("/group/proj/-/archive/{long}/proj-{long}.zip"), 404),
    ] {
        let reply = server.get(&path);
        cases.push((path, reply, status));
    }
    for (what, body) in [
        (
            "256-character tag",
            json!({"tag_name": "v".repeat(256), "ref": "main"}),
        ),
        (
            "NUL in the tag",
            json!({"tag_name": "a\u{0}b", "ref": "main"}),
        ),
        (
            "ref with NUL",
            json!({"tag_name": "v9", "ref": "ma\u{0}in"}),
        ),
        ("long ref", json!({"tag_name": "v9", "ref": long.clone()})),
    ] {
        let reply = server.write("POST", "/api/v4/projects/1/releases", body);
        let status = reply.status;
        cases.push((what.to_owned(), reply, status.clamp(400, 499)));
    }
    for (what, reply, status) in &cases {
        assert_eq!(
            reply.status,
            *status,
            "{what}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_no_internals(&repo, what, &reply.body);
    }
    let created = server.write(
        "POST",
        "/api/v4/projects/1/releases",
        json!({"tag_name": "v".repeat(256), "ref": "main"}),
    );
    assert_eq!(created.status, 400);
    assert!(
        created.error_text().contains("at most 255 bytes"),
        "{}",
        created.error_text()
    );
    assert_eq!(store_state(&repo), before);
}

#[test]
fn api_errors_do_not_name_cli_flags() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let freezes = "/api/v4/projects/1/freeze_periods";
    let once = server.write(
        "POST",
        freezes,
        json!({"from": "2030-01-01T00:00:00Z", "until": "2030-01-02T00:00:00Z"}),
    );
    assert_eq!(once.status, 201);
    let id = once.json()["id"].as_u64().unwrap();
    for (method, path, body) in [
        (
            "PUT",
            format!("{freezes}/{id}"),
            json!({"freeze_start": "0 1 * * *"}),
        ),
        (
            "PUT",
            format!("{freezes}/{id}"),
            json!({"until": "2029-01-01T00:00:00Z"}),
        ),
        (
            "PUT",
            format!("{freezes}/{id}"),
            json!({"freeze_start": "0 1 * * *", "from": "2030-01-01T00:00:00Z"}),
        ),
        (
            "POST",
            freezes.to_owned(),
            json!({"freeze_start": "0 1 * *", "freeze_end": "0 2 * * *"}),
        ),
        (
            "POST",
            freezes.to_owned(),
            json!({"from": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}),
        ),
    ] {
        let reply = server.write(method, &path, body.clone());
        assert_eq!(reply.status, 400, "{body}");
        let text = reply.error_text();
        assert!(!text.contains("--"), "{body}: {text}");
    }
}

#[test]
fn tokens_are_read_decoded_and_never_logged() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let secret_in_query = format!("private%5Ftoken={TOKEN}");
    let created = server.call(
        "POST",
        &format!("/api/v4/projects/1/releases?{secret_in_query}"),
        None,
        Some(r#"{"tag_name": "v2", "ref": "main"}"#),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let encoded: String = TOKEN.bytes().map(|b| format!("%{b:02X}")).collect();
    let listed = server.get(&format!(
        "/api/v4/projects/1/releases?per_page=1&job%5Ftoken={encoded}&PRIVATE_TOKEN={TOKEN}"
    ));
    assert_eq!(listed.status, 200);
    // Pagination links do not repeat credentials.
    assert!(
        !listed.header("link").contains(TOKEN),
        "{}",
        listed.header("link")
    );
    assert!(!listed.header("link").contains(&encoded));
    // An empty token is no token, whichever header carries it.
    for (name, value) in [
        ("PRIVATE-TOKEN", ""),
        ("Authorization", "Bearer "),
        ("JOB-TOKEN", " "),
    ] {
        let reply = server.call_with("GET", "/api/v4/projects/1/releases", &[(name, value)]);
        assert_eq!(reply.status, 200, "{name}: {value:?}");
    }
    let (_, log) = server.stop();
    assert!(log.contains("POST /api/v4/projects/1/releases?"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains(&encoded), "{log}");
}

#[test]
fn urls_are_built_on_the_servers_origin_not_the_host_header() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 2);
    let server = start(&repo, &["--allowed-host", "releases.example:8080"]);
    let addr = address(&server);
    for path in [
        "/api/v4/projects/1/releases/v1.0",
        "/api/v4/projects/1/releases?per_page=1",
        "/api/v4/projects/1/releases/permalink/latest",
        "/group/proj/-/releases.atom",
        "/group/proj/-/releases",
        "/group/proj",
    ] {
        let (status, head, body) = raw(
            &server,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: evil.example\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(status == 200 || status == 302, "{path}: {head}");
        let text = format!("{head}\n{}", String::from_utf8_lossy(&body));
        assert!(!text.contains("evil.example"), "{path}: {text}");
        assert!(text.contains(&addr), "{path}: {text}");
        let (_, head, body) = raw(
            &server,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: releases.example:8080\r\nConnection: close\r\n\r\n"
            ),
        );
        let text = format!("{head}\n{}", String::from_utf8_lossy(&body));
        assert!(
            text.contains("http://releases.example:8080/"),
            "{path}: {text}"
        );
    }
}

#[test]
fn a_wildcard_listen_address_needs_a_base_url_and_host_names_are_accepted() {
    let env = Env::new();
    let repo = project(&env);
    let out = repo
        .release_command()
        .args(["serve", "--listen", "0.0.0.0:0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--base-url"), "{err}");

    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("git-release"));
    repo.env.apply(&mut cmd);
    let mut child = cmd
        .current_dir(repo.path())
        .args(["serve", "--listen", "localhost:0", "-q"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("Listening on http://127.0.0.1:"), "{line}");
}

#[test]
fn headers_carry_only_encoded_names_and_pages_end() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 3);
    repo.release_ok(["create", "vé-ü", "--ref", "HEAD"]);
    repo.release_ok([
        "create",
        "v1%41",
        "--ref",
        "HEAD",
        "--released-at",
        "2020-01-01T00:00:00Z",
    ]);
    repo.release_ok([
        "link",
        "add",
        "vé-ü",
        "--name",
        "app",
        "--url",
        "https://e.x/dl/é",
        "--direct-asset-path",
        "/bin/app",
    ]);
    let server = start(&repo, &[]);
    for path in [
        "/api/v4/projects/1/releases/v%C3%A9-%C3%BC/downloads/bin/app",
        "/group/proj/-/releases/v%C3%A9-%C3%BC/downloads/bin/app",
    ] {
        let download = server.get(path);
        assert_eq!(download.status, 302, "{path}");
        assert_eq!(download.header("location"), "https://e.x/dl/%C3%A9");
    }
    let latest = server.get("/api/v4/projects/1/releases/permalink/latest/assets/links");
    assert_eq!(latest.status, 302);
    let location = latest.header("location").to_owned();
    assert!(
        location.is_ascii() && location.ends_with("/releases/v%C3%A9-%C3%BC/assets/links"),
        "{location}"
    );
    let archive = server.get("/api/v4/projects/1/repository/archive.zip?sha=v%C3%A9-%C3%BC");
    assert_eq!(archive.status, 200);
    let disposition = archive.header("content-disposition");
    assert!(disposition.is_ascii(), "{disposition:?}");
    assert!(
        disposition.contains("filename*=UTF-8''proj-v%C3%A9-%C3%BC.zip"),
        "{disposition}"
    );
    // A tag holding `%` is decoded once: `v%2541` is the tag `v%41`, not `vA`.
    let percent = server.get("/api/v4/projects/1/releases/v1%2541");
    assert_eq!(
        percent.status,
        200,
        "{}",
        String::from_utf8_lossy(&percent.body)
    );
    assert_eq!(percent.json()["tag_name"], "v1%41");
    let past = server.get("/api/v4/projects/1/releases?page=9&per_page=2");
    assert_eq!(past.status, 200);
    assert_eq!(past.json(), json!([]));
    assert_eq!(past.header("x-prev-page"), "");
    assert_eq!(past.header("x-next-page"), "");
}

/// Whether `xml` is well-formed, by Python's own XML parser (and feedparser, where
/// target/venv-site has it: `bozo` is its "ill-formed" flag).
fn assert_well_formed_feed(what: &str, xml: &[u8]) {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let site_python = manifest.join("target/venv-site/bin/python");
    let (python, script) = if std::process::Command::new(&site_python)
        .args(["-c", "import feedparser"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        (
            site_python.into_os_string(),
            "import sys, feedparser\nd = feedparser.parse(sys.stdin.buffer.read())\n\
             assert not d.bozo, repr(d.bozo_exception)\nprint(len(d.entries))",
        )
    } else {
        (
            "python3".into(),
            "import sys, xml.etree.ElementTree as E\nE.fromstring(sys.stdin.buffer.read())\nprint('ok')",
        )
    };
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(xml).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what} is ill-formed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Replaces the stored name of `tag`'s release with `name` through plain git notes, as
/// a record that came by fetch or was edited by hand.
fn set_name_by_hand(repo: &Repo, tag: &str, name: &str) {
    let target = format!("{tag}^{{commit}}");
    let note = repo.git(["notes", "--ref=releases", "show", &target]);
    let mut doc: Value = serde_json::from_str(&note).unwrap();
    doc["releases"][tag]["name"] = Value::from(name);
    let file = repo.env.path().join("note.json");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-F",
        file.to_str().unwrap(),
        &target,
    ]);
}

#[test]
fn control_characters_are_refused_in_and_dropped_out() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 2);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let before = store_state(&repo);
    let releases = "/api/v4/projects/1/releases";
    for (path, body) in [
        (
            releases.to_owned(),
            json!({"tag_name": "v9", "ref": "main", "name": "a\u{0}b"}),
        ),
        (
            releases.to_owned(),
            json!({"tag_name": "v9", "ref": "main", "description": "x\u{b}y"}),
        ),
        (
            releases.to_owned(),
            json!({"tag_name": "v9", "ref": "main", "name": "\u{fffe}"}),
        ),
        (
            releases.to_owned(),
            json!({"tag_name": "v9", "ref": "main", "tag_message": "\u{1b}[2J"}),
        ),
        (
            format!("{releases}/v1.0/assets/links"),
            json!({"name": "a\u{ffff}", "url": "https://e.x/a"}),
        ),
        (
            "/api/v4/projects/1/milestones".to_owned(),
            json!({"title": "M\u{fdd0}"}),
        ),
        (
            "/api/v4/projects/1/milestones".to_owned(),
            json!({"title": "M", "description": "\u{7}"}),
        ),
    ] {
        let reply = server.write("POST", &path, body.clone());
        assert_eq!(
            reply.status,
            400,
            "{body}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(reply.error_text().contains("U+"), "{}", reply.error_text());
    }
    let put = server.write(
        "PUT",
        &format!("{releases}/v1.0"),
        json!({"name": "a\u{1}"}),
    );
    assert_eq!(put.status, 400);
    // The CLI refuses the same.
    for args in [
        vec!["create", "v9", "--ref", "HEAD", "--name", "a\u{b}b"],
        vec!["update", "v1.0", "--notes", "\u{1b}]0;title\u{7}"],
        vec!["milestone", "create", "M\u{fffe}"],
    ] {
        let err = repo.release_err(1, &args);
        assert!(err.contains("U+"), "{args:?}: {err}");
    }
    assert_eq!(store_state(&repo), before);

    // A record that holds them anyway (plain git notes) still gives a well-formed feed,
    // pages and badge.
    set_name_by_hand(&repo, "v1.1", "evil\u{0}\u{b}\u{1b}[31m\u{fffe} name");
    let feed = server.get("/group/proj/-/releases.atom");
    assert_eq!(feed.status, 200);
    assert_well_formed_feed("served feed", &feed.body);
    let feed = String::from_utf8(feed.body).unwrap();
    assert!(feed.contains("evil[31m name"), "{feed}");
    for path in [
        "/group/proj/-/releases",
        "/group/proj/-/releases/v1.1",
        "/group/proj/-/badges/release.svg",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}");
        let text = String::from_utf8(reply.body).unwrap();
        assert!(
            !text
                .chars()
                .any(|c| c == '\u{0}' || c == '\u{b}' || c == '\u{1b}' || c == '\u{fffe}'),
            "{path}: {text:?}"
        );
    }
    let out = env.path().join("site");
    repo.release_ok(["site", "--output", out.to_str().unwrap()]);
    assert_well_formed_feed(
        "site feed",
        &std::fs::read(out.join("releases.atom")).unwrap(),
    );
}

#[test]
fn expensive_notes_are_shown_as_text_and_pages_are_cached() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    let quotes = env.path().join("quotes.md");
    std::fs::write(&quotes, format!("{}x", "> ".repeat(100_000))).unwrap();
    repo.release_ok(["update", "v1.0", "--notes-file", quotes.to_str().unwrap()]);
    let divs = env.path().join("divs.md");
    std::fs::write(&divs, "<div>".repeat(150_000)).unwrap();
    repo.release_ok([
        "create",
        "v2.0",
        "--ref",
        "HEAD",
        "--notes-file",
        divs.to_str().unwrap(),
    ]);
    let server = start(&repo, &[]);
    for tag in ["v1.0", "v2.0"] {
        let reply = server.get(&format!(
            "/api/v4/projects/1/releases/{tag}?include_html_description=true"
        ));
        assert_eq!(reply.status, 200);
        let html = reply.json()["description_html"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(html.contains("shown as plain text"), "{}", &html[..300]);
        assert!(!html.contains("<div>") && !html.contains("<blockquote>"));
    }
    let page = server.get("/group/proj/-/releases/v2.0");
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("shown as plain text"));
    // The same page twice is the same bytes (from the cache the second time), and a
    // change to the notes shows at once.
    let first = server.get("/group/proj/-/releases");
    let second = server.get("/group/proj/-/releases");
    assert_eq!(first.body, second.body);
    repo.release_ok(["update", "v2.0", "--notes", "now *short*"]);
    let third = server.get("/group/proj/-/releases");
    assert!(String::from_utf8_lossy(&third.body).contains("now short"));
    assert!(!String::from_utf8_lossy(&third.body).contains("&lt;div&gt;"));
}

#[test]
fn pages_load_nothing_from_elsewhere() {
    let env = Env::new();
    let repo = project(&env);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--notes",
        "![tracker](https://evil.example/t.gif) ![logo](logo.png) <img src=\"//evil.example/u.gif\">",
    ]);
    let server = start(&repo, &[]);
    let page = server.get("/group/proj/-/releases/v1.0");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("http"), "no outside origin: {csp}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let html = String::from_utf8_lossy(&page.body);
    assert!(!html.contains("evil.example"), "{html}");
    assert!(html.contains("src=\"logo.png\""), "{html}");
    let api = server.get("/api/v4/projects/1/releases/v1.0?include_html_description=true");
    assert_eq!(api.header("x-content-type-options"), "nosniff");
    assert!(
        !api.json()["description_html"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    // Links to pages the server does not have are left out.
    let links = &api.json()["_links"];
    assert!(
        links["opened_issues_url"].is_null() && links["edit_url"].is_null(),
        "{links}"
    );
    assert!(
        links["self"]
            .as_str()
            .unwrap()
            .ends_with("/group/proj/-/releases/v1.0")
    );
}

#[test]
fn archives_take_only_branches_tags_and_reachable_commits() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 2);
    let main = repo.rev("main");
    // A commit only the reflog knows, and a stash of a file never committed.
    repo.git(["checkout", "-q", "--detach"]);
    let unpushed = repo.commit("unpushed", &[("secret.txt", "unpushed\n")]);
    repo.git(["checkout", "-q", "main"]);
    repo.write("README.md", "stashed secret\n");
    repo.git(["stash", "-q"]);
    let stash = repo.rev("stash");
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let archive = |sha: &str| {
        server.get(&format!(
            "/api/v4/projects/1/repository/archive.tar?sha={}",
            crate::serve_hostile::encode(sha)
        ))
    };
    for refused in [
        "stash",
        "stash@{0}",
        "HEAD@{1}",
        "main@{1}",
        "HEAD",
        "main~1",
        "v1.1^",
        "refs/notes/releases",
        ":/unpushed",
        ":/first",
        "main:README.md",
        &unpushed,
        &unpushed[..12],
        &stash,
    ] {
        let reply = archive(refused);
        assert_eq!(
            reply.status,
            404,
            "{refused}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_no_internals(&repo, refused, &reply.body);
    }
    for (served, prefix) in [
        ("main", "proj-main/"),
        ("v1.0", "proj-v1.0/"),
        ("refs/heads/main", "proj-refs-heads-main/"),
        (main.as_str(), &format!("proj-{main}/") as &str),
        (&main[..10], &format!("proj-{}/", &main[..10]) as &str),
    ] {
        let reply = archive(served);
        assert_eq!(reply.status, 200, "{served}");
        let git = repo.git_raw([
            "archive",
            "--format=tar",
            &format!("--prefix={prefix}"),
            served,
        ]);
        assert!(reply.body == git, "{served}: differs from git archive");
    }
    // The same rule for a release's `ref`.
    let created = server.write(
        "POST",
        "/api/v4/projects/1/releases",
        json!({"tag_name": "v9", "ref": "stash"}),
    );
    assert_eq!(created.status, 422);
    let created = server.write(
        "POST",
        "/api/v4/projects/1/releases",
        json!({"tag_name": "v9", "ref": unpushed}),
    );
    assert_eq!(created.status, 422);
    assert!(!repo.ref_exists("refs/tags/v9"));
}

/// Percent-encodes a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn creates_without_a_date_are_not_upcoming() {
    let env = Env::new();
    let repo = project(&env);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    for i in 0..10 {
        let created = server.write(
            "POST",
            "/api/v4/projects/1/releases",
            json!({"tag_name": format!("v{i}"), "ref": "main"}),
        );
        assert_eq!(created.status, 201);
        let created = created.json();
        assert_eq!(created["upcoming_release"], false, "{created}");
        assert_eq!(created["released_at"], created["created_at"]);
    }
}

#[test]
fn templates_from_the_repository_are_bounded() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    repo.commit(
        "endless template",
        &[(
            ".git-release/site/index.html",
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
        )],
    );
    let server = start(&repo, &[]);
    let reply = server.get("/group/proj/-/releases");
    assert_eq!(reply.status, 500);
    assert_no_internals(&repo, "endless template", &reply.body);
    assert_eq!(server.get("/api/v4/projects/1/releases").status, 200);
    // Stopped while such pages are being rendered, the server still stops.
    let addr = address(&server);
    let busy: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = TcpStream::connect(&addr).unwrap();
            stream
                .write_all(b"GET /group/proj/-/releases HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, log) = server.stop();
    drop(busy);
    assert!(status.success(), "{status:?}");
    assert!(log.contains("steps"), "{log}");

    let out = env.path().join("site");
    let err = repo.release_err(1, ["site", "--output", out.to_str().unwrap()]);
    assert!(
        err.contains(".git-release/site/index.html") && err.contains("steps"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Reads from `stream` until the server closes it (EOF or reset), giving up after
/// `patience`; returns whether it closed and what was read.
fn until_closed(stream: &mut TcpStream, patience: Duration) -> (bool, Vec<u8>) {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = std::time::Instant::now() + patience;
    let mut read = Vec::new();
    let mut buf = [0; 64 * 1024];
    while std::time::Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return (true, read),
            Ok(n) => read.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (true, read),
        }
    }
    (false, read)
}

/// Keeps the kernel from taking in much for a client that does not read.
fn small_receive_buffer(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 4096;
    // SAFETY: setsockopt on a socket this test owns, with a c_int option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// A commit with `megabytes` of data tar cannot shrink, so that its archive is far
/// larger than the socket buffers.
fn big_commit(repo: &Repo, megabytes: usize) {
    let mut state = 0x2545_f491_u32;
    let noise: String = (0..megabytes * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    repo.commit("big", &[("big.txt", &noise)]);
}

#[test]
fn slow_and_silent_clients_are_cut_off() {
    let env = Env::new();
    let repo = project(&env);
    // Far more than the socket buffers and the server's queue of chunks hold.
    big_commit(&repo, 32);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(
        &repo,
        &[
            "--header-timeout",
            "1",
            "--idle-timeout",
            "1",
            "--write-timeout",
            "2",
            "--body-timeout",
            "1",
            "--max-archive-streams",
            "1",
        ],
    );
    let addr = address(&server);
    // Headers that never end, and headers sent a byte at a time.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /api/v4/version HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert!(
        until_closed(&mut half, Duration::from_secs(30)).0,
        "half-sent headers"
    );
    let mut dribble = TcpStream::connect(&addr).unwrap();
    let mut closed = false;
    for byte in b"GET /api/v4/version HTTP/1.1\r\nHost: x\r\nX-Slow: "
        .iter()
        .cycle()
        .take(400)
    {
        if dribble.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        closed || until_closed(&mut dribble, Duration::from_secs(30)).0,
        "dribbled headers"
    );
    // An idle keep-alive connection.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /api/v4/version HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (closed, answer) = until_closed(&mut idle, Duration::from_secs(30));
    assert!(closed, "idle keep-alive connection");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A body that does not arrive.
    let mut body = TcpStream::connect(&addr).unwrap();
    write!(
        body,
        "POST /api/v4/projects/1/releases HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"tag_"
    )
    .unwrap();
    let (_, answer) = until_closed(&mut body, Duration::from_secs(30));
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // An archive nobody reads holds the one archive place until the write timeout
    // closes it; meanwhile another archive is a 503 with Retry-After.
    let mut stalled = TcpStream::connect(&addr).unwrap();
    small_receive_buffer(&stalled);
    stalled
        .write_all(
            b"GET /api/v4/projects/1/repository/archive.tar?sha=main HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let busy = server.get("/api/v4/projects/1/repository/archive.zip?sha=main");
    assert_eq!(busy.status, 503, "{}", String::from_utf8_lossy(&busy.body));
    assert!(!busy.header("retry-after").is_empty());
    let mut stalled_closed = false;
    for _ in 0..60 {
        std::thread::sleep(Duration::from_millis(500));
        if server
            .get("/api/v4/projects/1/repository/archive.tar?sha=main")
            .status
            == 200
        {
            stalled_closed = true;
            break;
        }
    }
    assert!(stalled_closed, "the stalled download still holds its place");
    drop(stalled);
    // The server still answers, and a half-open connection does not keep it from
    // stopping.
    assert_eq!(server.get("/api/v4/version").status, 200);
    let mut hanging = TcpStream::connect(&addr).unwrap();
    hanging.write_all(b"GET /api/v4/vers").unwrap();
    let (status, _) = server.stop();
    assert!(status.success(), "{status:?}");
}

/// The HTTP input surface, fuzzed: random methods, paths (around the routes that
/// exist), queries, headers and bodies (JSON, forms, bytes), with and without a valid
/// token, against one server. Whatever comes, the answer is never a 5xx and never
/// names a server path. `SERVE_FUZZ_CASES` sets how many requests (default 300; a
/// longer run: `SERVE_FUZZ_CASES=20000 cargo test --test it -- serve_hostile::fuzz`).
#[test]
fn fuzzed_requests_never_get_a_5xx_or_internals() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 3);
    repo.release_ok(["milestone", "create", "M1"]);
    repo.release_ok([
        "freeze",
        "add",
        "--start",
        "0 23 * * 5",
        "--end",
        "0 7 * * 1",
    ]);
    repo.release_ok([
        "link",
        "add",
        "v1.1",
        "--name",
        "app",
        "--url",
        "https://e.x/app",
        "--direct-asset-path",
        "/bin/app",
    ]);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &["-q", "--max-archive-streams", "64"]);

    let segment = prop_oneof![
        Just("v1.0".to_owned()),
        Just("v1.1".to_owned()),
        Just("release%2F2.0".to_owned()),
        Just("permalink".to_owned()),
        Just("latest".to_owned()),
        Just("1".to_owned()),
        Just("group%2Fproj".to_owned()),
        Just("..".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("%00".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("x".repeat(300)),
        Just("18446744073709551616".to_owned()),
        "[a-z0-9._~-]{0,12}",
        proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
    ];
    let route = prop_oneof![
        Just("/api/v4/projects/{}/releases".to_owned()),
        Just("/api/v4/projects/1/releases/{}".to_owned()),
        Just("/api/v4/projects/1/releases/{}/assets/links".to_owned()),
        Just("/api/v4/projects/1/releases/v1.1/assets/links/{}".to_owned()),
        Just("/api/v4/projects/1/releases/{}/evidence".to_owned()),
        Just("/api/v4/projects/1/releases/{}/downloads/bin/app".to_owned()),
        Just("/api/v4/projects/1/releases/permalink/latest/{}".to_owned()),
        Just("/api/v4/projects/1/milestones/{}".to_owned()),
        Just("/api/v4/projects/1/freeze_periods/{}".to_owned()),
        Just("/api/v4/projects/1/repository/tags/{}".to_owned()),
        Just("/api/v4/projects/1/repository/{}".to_owned()),
        Just("/api/v4/projects/1/repository/archive.tar".to_owned()),
        Just("/group/proj/-/releases/{}".to_owned()),
        Just("/group/proj/-/archive/{}/proj-v1.0.zip".to_owned()),
        Just("/group/proj/-/{}".to_owned()),
        Just("/{}".to_owned()),
    ];
    let key = prop_oneof![
        Just("page"),
        Just("per_page"),
        Just("order_by"),
        Just("sort"),
        Just("sha"),
        Just("path"),
        Just("include_html_description"),
        Just("private%5Ftoken"),
        Just("search"),
        Just("state"),
        Just("tag_name"),
        Just("name"),
        Just("ref"),
        Just("assets[links][][name]"),
        Just("milestones[]"),
        Just("released_at"),
    ];
    let value = prop_oneof![
        Just("1".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("true".to_owned()),
        Just("main".to_owned()),
        Just("v1.0".to_owned()),
        Just("stash".to_owned()),
        Just("HEAD%40%7B1%7D".to_owned()),
        Just("%3A%2Fx".to_owned()),
        Just("%00".to_owned()),
        Just("..%2F..".to_owned()),
        "[a-zA-Z0-9%_.-]{0,20}",
    ];
    let query = proptest::collection::vec((key, value), 0..4).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    });
    let json_value = {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            Just(Value::from("main")),
            Just(Value::from("v9")),
            Just(Value::from("https://e.x/a")),
            Just(Value::from("a\u{0}b")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::vec(
                    (
                        prop_oneof![
                            Just("tag_name".to_owned()),
                            Just("name".to_owned()),
                            Just("ref".to_owned()),
                            Just("description".to_owned()),
                            Just("milestones".to_owned()),
                            Just("assets".to_owned()),
                            Just("links".to_owned()),
                            Just("url".to_owned()),
                            Just("released_at".to_owned()),
                            Just("title".to_owned()),
                            Just("freeze_start".to_owned()),
                            Just("from".to_owned()),
                            Just("state_event".to_owned()),
                            "[a-z_]{1,8}",
                        ],
                        inner,
                    ),
                    0..5,
                )
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    };
    let body = prop_oneof![
        Just((None, Vec::new())),
        json_value.prop_map(|v| (Some("application/json"), v.to_string().into_bytes())),
        proptest::collection::vec((any::<u8>(), any::<u8>()), 0..6).prop_map(|pairs| {
            let form = pairs
                .iter()
                .map(|(k, v)| format!("assets[links][][n{}]=%{v:02X}&tag_name=v{k}", k % 3))
                .collect::<Vec<_>>()
                .join("&");
            (Some("application/x-www-form-urlencoded"), form.into_bytes())
        }),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| (Some("application/json"), b)),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| (Some("multipart/form-data"), b)),
    ];
    let method = prop_oneof![
        Just("GET"),
        Just("GET"),
        Just("POST"),
        Just("PUT"),
        Just("DELETE"),
        Just("HEAD"),
        Just("PATCH"),
    ];
    let request = (
        method,
        route,
        segment,
        query,
        body,
        any::<bool>(),
        any::<bool>(),
    );
    let cases = std::env::var("SERVE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let home = env.path().to_string_lossy().into_owned();
    runner
        .run(
            &request,
            |(method, route, segment, query, (content_type, body), token, host)| {
                let path = route.replace("{}", &segment);
                let target = if query.is_empty() {
                    path
                } else {
                    format!("{path}?{query}")
                };
                let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
                head.push_str(if host {
                    "Host: evil.example\r\n"
                } else {
                    "Host: x\r\n"
                });
                if token {
                    head.push_str(&format!("PRIVATE-TOKEN: {TOKEN}\r\n"));
                }
                if let Some(content_type) = content_type {
                    head.push_str(&format!("Content-Type: {content_type}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                let mut stream = TcpStream::connect(address(&server)).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(120)))
                    .unwrap();
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(&body).unwrap();
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                let text = String::from_utf8_lossy(&answer);
                let status: u16 = text
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                prop_assert!(
                    (100..500).contains(&status),
                    "{method} {target}: status {status}\n{}",
                    &text[..text.len().min(2000)]
                );
                prop_assert!(
                    !text.contains(&home),
                    "{method} {target}: a server path\n{text}"
                );
                prop_assert!(
                    !text.contains("evil.example"),
                    "{method} {target}: the Host was used\n{text}"
                );
                Ok(())
            },
        )
        .unwrap();
    let (status, _) = server.stop();
    assert!(status.success());
}

#[test]
fn an_empty_repository_is_answered_without_errors() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.git([
        "remote",
        "add",
        "origin",
        "git@gitlab.example.com:group/proj.git",
    ]);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    for (path, status) in [
        ("/api/v4/projects/1", 200),
        ("/api/v4/projects/1/releases", 200),
        ("/api/v4/projects/1/repository/tags", 200),
        ("/api/v4/projects/1/milestones", 200),
        ("/api/v4/projects/1/releases/permalink/latest", 404),
        ("/api/v4/projects/1/releases/v1", 404),
        ("/api/v4/projects/1/repository/archive", 404),
        ("/api/v4/projects/1/repository/archive.zip?sha=main", 404),
        ("/group/proj/-/releases", 200),
        ("/group/proj/-/releases.atom", 200),
        ("/group/proj/-/badges/release.svg", 200),
    ] {
        let reply = server.get(path);
        assert_eq!(
            reply.status,
            status,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    for body in [
        json!({"tag_name": "v1", "ref": "main"}),
        json!({"tag_name": "v1"}),
    ] {
        let created = server.write("POST", "/api/v4/projects/1/releases", body.clone());
        assert_eq!(
            created.status,
            422,
            "{body}: {}",
            String::from_utf8_lossy(&created.body)
        );
        assert_no_internals(&repo, "create in an empty repository", &created.body);
    }
    assert_eq!(repo.git(["for-each-ref"]), "");
}

#[test]
fn signing_trouble_shows_no_helper_output_or_paths() {
    let env = Env::new();
    let repo = project(&env);
    releases(&repo, 1);
    // Tags are to be signed, with a key nobody has.
    repo.git(["config", "gpg.format", "ssh"]);
    repo.git([
        "config",
        "user.signingKey",
        env.path().join("no-such-key").to_str().unwrap(),
    ]);
    repo.git(["config", "tag.gpgSign", "true"]);
    env.set("GIT_RELEASE_SERVE_TOKEN", TOKEN);
    let server = start(&repo, &[]);
    let created = server.write(
        "POST",
        "/api/v4/projects/1/releases",
        json!({"tag_name": "v2", "ref": "main", "tag_message": "signed"}),
    );
    assert_ne!(created.status, 201);
    assert!(created.status < 600);
    assert_no_internals(&repo, "create with a missing key", &created.body);
    assert!(!String::from_utf8_lossy(&created.body).contains("ssh-keygen"));
    let evidence = server.write(
        "POST",
        "/api/v4/projects/1/releases/v1.0/evidence",
        json!({}),
    );
    assert_no_internals(&repo, "evidence with a missing key", &evidence.body);
    assert!(!repo.ref_exists("refs/tags/v2"));
    let (_, log) = server.stop();
    // The server's own log keeps the detail for its operator.
    assert!(log.contains("no-such-key") || log.contains("sign"), "{log}");
}
