//! `git release download` against a real HTTP server on 127.0.0.1, run by the test in
//! a thread: plain downloads, redirects, 404, digest mismatches, `latest`, name
//! patterns, `--url-only`, existing files and hostile link names.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;

use crate::support::{Env, Repo, sha256};

/// A tiny HTTP/1.1 server: `/files/<name>` serves a file, `/redirect/<n>/<name>`
/// redirects n times before serving it, `/loop` redirects to itself, anything else is
/// 404. One connection at a time, closed after each response.
struct Server {
    base: String,
}

impl Server {
    fn start(files: &[(&str, &[u8])]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files: Arc<HashMap<String, Vec<u8>>> = Arc::new(
            files
                .iter()
                .map(|(name, bytes)| (name.to_string(), bytes.to_vec()))
                .collect(),
        );
        // The thread ends with the test process; a test never waits for it.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &files);
            }
        });
        Server { base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn serve(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let target = request_line.split(' ').nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let (status, location, body): (&str, Option<String>, Vec<u8>) =
        if let Some(name) = path.strip_prefix("/files/") {
            match files.get(name) {
                Some(bytes) => ("200 OK", None, bytes.clone()),
                None => ("404 Not Found", None, b"not found".to_vec()),
            }
        } else if let Some(rest) = path.strip_prefix("/redirect/") {
            let (n, name) = rest.split_once('/').unwrap();
            let n: u32 = n.parse().unwrap();
            let next = if n <= 1 {
                format!("/files/{name}")
            } else {
                format!("/redirect/{}/{name}", n - 1)
            };
            ("302 Found", Some(next), Vec::new())
        } else if path == "/loop" {
            ("302 Found", Some("/loop".into()), Vec::new())
        } else {
            ("404 Not Found", None, b"not found".to_vec())
        };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(location) = location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

const APP_V1: &[u8] = b"app version 1\n";
const APP_V2: &[u8] = b"app version 2, newer\n";

fn two_releases_with_links<'e>(env: &'e Env, server: &Server) -> Repo<'e> {
    // ureq honours the proxy variables; the test server is always reached directly.
    env.set("NO_PROXY", "127.0.0.1");
    env.set("no_proxy", "127.0.0.1");
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--link",
        &format!(
            "name=App,url={},path=/bin/app,sha256={}",
            server.url("/files/app1"),
            sha256(APP_V1)
        ),
        "--link",
        &format!("name=notes.txt,url={}", server.url("/files/notes")),
        "--link",
        &format!("name=pkg.deb,url={}", server.url("/redirect/3/deb")),
    ]);
    repo.commit("second", &[("b.txt", "b\n")]);
    env.set("GIT_RELEASE_NOW", "2024-07-01T12:00:00Z");
    repo.release_ok([
        "create",
        "v2.0",
        "--ref",
        "HEAD",
        "--link",
        &format!("name=App,url={},path=/bin/app", server.url("/files/app2")),
    ]);
    repo
}

fn standard_server() -> Server {
    Server::start(&[
        ("app1", APP_V1),
        ("app2", APP_V2),
        ("notes", b"release notes\n"),
        ("deb", b"debian package\n"),
    ])
}

/// Every entry of `dir`, to show that nothing else (no temporary file) is left.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn download_by_direct_asset_path_verifies_the_recorded_digest() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    let out = repo.release_ok(["download", "v1.0", "/bin/app", "-D", "out"]);
    assert_eq!(out, "Downloaded out/app (14 B, SHA-256 verified)\n");
    assert_eq!(std::fs::read(repo.path().join("out/app")).unwrap(), APP_V1);
    assert_eq!(entries(&repo.path().join("out")), ["app"]);

    // The permanent URL forms name the same asset.
    repo.release_ok([
        "download",
        "v1.0",
        "https://gitlab.example.com/g/p/-/releases/v1.0/downloads/bin/app",
        "-o",
        "copy",
    ]);
    assert_eq!(std::fs::read(repo.path().join("copy")).unwrap(), APP_V1);

    let err = repo.release_err(1, ["download", "v1.0", "/bin/nope"]);
    assert!(
        err.contains("release \"v1.0\" has no asset \"/bin/nope\"") && err.contains("/bin/app"),
        "{err}"
    );
}

#[test]
fn latest_resolves_as_gitlab_permalink() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    repo.release_ok([
        "download",
        "latest",
        "/-/releases/permalink/latest/downloads/bin/app",
        "-D",
        "dl",
    ]);
    assert_eq!(std::fs::read(repo.path().join("dl/app")).unwrap(), APP_V2);
    let out = repo.release_ok(["download", "latest", "--url-only"]);
    assert_eq!(out, format!("{}\n", server.url("/files/app2")));
}

#[test]
fn redirects_are_followed_and_loops_are_an_error() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    repo.release_ok(["download", "v1.0", "--name", "*.deb"]);
    assert_eq!(
        std::fs::read(repo.path().join("pkg.deb")).unwrap(),
        b"debian package\n"
    );

    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "looping",
        "--url",
        &server.url("/loop"),
    ]);
    let err = repo.release_err(1, ["download", "v1.0", "-n", "looping", "-D", "l"]);
    assert!(
        err.contains("cannot download link \"looping\"") && err.contains("redirect"),
        "{err}"
    );
    assert_eq!(entries(&repo.path().join("l")), Vec::<String>::new());
}

#[test]
fn not_found_is_a_clear_error_and_no_asset_is_written() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    let missing = server.url("/files/missing");
    repo.release_ok(["link", "add", "v1.0", "--name", "gone", "--url", &missing]);
    // With a good asset selected too: all selected assets are written, or none.
    let err = repo.release_err(
        1,
        [
            "download",
            "v1.0",
            "-n",
            "notes.txt",
            "-n",
            "gone",
            "-D",
            "out",
        ],
    );
    assert!(
        err.contains(&format!(
            "cannot download link \"gone\" from {missing}: the server answered 404 Not Found"
        )),
        "{err}"
    );
    assert_eq!(entries(&repo.path().join("out")), Vec::<String>::new());

    // Nothing listening: the connection error names the URL.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/x", closed.local_addr().unwrap());
    drop(closed);
    repo.release_ok(["link", "add", "v1.0", "--name", "dead", "--url", &dead]);
    let err = repo.release_err(1, ["download", "v1.0", "-n", "dead", "-D", "out"]);
    assert!(err.contains(&dead), "{err}");
    assert_eq!(entries(&repo.path().join("out")), Vec::<String>::new());
}

#[test]
fn digest_mismatch_is_an_error_and_leaves_no_file() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    repo.release_ok([
        "link",
        "update",
        "v1.0",
        "App",
        "--sha256",
        &sha256(b"something else"),
    ]);
    let err = repo.release_err(1, ["download", "v1.0", "/bin/app", "-D", "out"]);
    assert!(
        err.contains(&format!(
            "link \"App\" downloaded from {} has SHA-256 {}, but {} is recorded",
            server.url("/files/app1"),
            sha256(APP_V1),
            sha256(b"something else")
        )),
        "{err}"
    );
    assert_eq!(entries(&repo.path().join("out")), Vec::<String>::new());
}

#[test]
fn name_globs_select_links_and_url_only_downloads_nothing() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    let out = repo.release_ok([
        "download",
        "v1.0",
        "--name",
        "*.txt",
        "--name",
        "A?p",
        "--url-only",
    ]);
    assert_eq!(
        out,
        format!(
            "{}\n{}\n",
            server.url("/files/notes"),
            server.url("/files/app1")
        )
    );
    assert_eq!(entries(repo.path()), [".git", "a.txt", "b.txt"]);

    repo.release_ok(["download", "v1.0", "-n", "[np]*", "-D", "d"]);
    assert_eq!(entries(&repo.path().join("d")), ["notes.txt", "pkg.deb"]);

    // No pattern: every link of the release.
    repo.release_ok(["download", "v1.0", "-D", "all"]);
    assert_eq!(
        entries(&repo.path().join("all")),
        ["app", "notes.txt", "pkg.deb"]
    );

    let err = repo.release_err(1, ["download", "v1.0", "-n", "*.rpm"]);
    assert!(err.contains("has no asset \"*.rpm\""), "{err}");
    let err = repo.release_err(1, ["download", "v1.0", "-n", "*", "-o", "one"]);
    assert!(err.contains("names one file, but 3 assets"), "{err}");
}

#[test]
fn existing_files_are_kept_unless_forced() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    repo.write("out/app", "mine\n");
    let err = repo.release_err(1, ["download", "v1.0", "/bin/app", "-D", "out"]);
    assert!(
        err.contains("out/app already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(repo.path().join("out/app")).unwrap(),
        b"mine\n"
    );
    repo.release_ok(["download", "v1.0", "/bin/app", "-D", "out", "--force"]);
    assert_eq!(std::fs::read(repo.path().join("out/app")).unwrap(), APP_V1);
    assert_eq!(entries(&repo.path().join("out")), ["app"]);
}

#[test]
fn hostile_link_names_never_write_outside_the_target_directory() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    for (name, url) in [
        ("../../escape", "/files/notes"),
        ("/tmp/absolute", "/files/app1"),
        ("..", "/files/app2"),
        ("sub/../../x", "/files/deb"),
    ] {
        repo.release_ok([
            "link",
            "add",
            "v2.0",
            "--name",
            name,
            "--url",
            &server.url(&format!("{url}?{}", name.len())),
        ]);
        let err = repo.release_err(1, ["download", "v2.0", "-n", name, "-D", "out"]);
        assert!(
            err.contains(&format!("saving link {name:?} refused")) && err.contains("-o FILE"),
            "{name}: {err}"
        );
        assert!(!env.path().join("escape").exists());
        assert_eq!(entries(&repo.path().join("out")), Vec::<String>::new());
    }
    // A name with directories is saved under its last segment, inside the directory.
    repo.release_ok([
        "link",
        "add",
        "v2.0",
        "--name",
        "docs/notes.txt",
        "--url",
        &server.url("/files/notes"),
    ]);
    repo.release_ok(["download", "v2.0", "-n", "docs/*", "-D", "out"]);
    assert_eq!(entries(&repo.path().join("out")), ["notes.txt"]);
    // -o names the file explicitly, whatever the link is called.
    repo.release_ok(["download", "v2.0", "-n", "..", "-o", "out/safe"]);
    assert_eq!(std::fs::read(repo.path().join("out/safe")).unwrap(), APP_V2);
}

#[test]
fn ftp_links_resolve_but_are_not_downloaded() {
    let env = Env::new();
    let server = standard_server();
    let repo = two_releases_with_links(&env, &server);
    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "mirror",
        "--url",
        "ftp://ftp.example.com/app",
    ]);
    let out = repo.release_ok(["download", "v1.0", "-n", "mirror", "--url-only"]);
    assert_eq!(out, "ftp://ftp.example.com/app\n");
    let err = repo.release_err(1, ["download", "v1.0", "-n", "mirror"]);
    assert!(err.contains("ftp:// downloads are not supported"), "{err}");
}

#[test]
fn a_release_without_links_has_nothing_to_download() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    let err = repo.release_err(1, ["download", "v1"]);
    assert!(
        err.contains("release v1 refused: it has no asset links")
            && err.contains("git release link add v1"),
        "{err}"
    );
    let err = repo.release_err(1, ["download", "v1", "/bin/app"]);
    assert!(err.contains("has no asset \"/bin/app\""), "{err}");
    assert!(
        err.contains("hint: this release has no asset links"),
        "{err}"
    );
}
