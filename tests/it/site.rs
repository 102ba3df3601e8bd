//! `git release site`: the static release pages, their feed, badge and JSON; escaping
//! of hostile input; stable bytes; paging; templates and their errors; archives equal
//! to `git archive`; and a real browser (Debian's chromium) over the result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use atom_syndication::Feed;

use crate::support::{Env, Repo, bzip2, git_archive, sha256, tools};

const NOW: &str = "2025-06-01T12:00:00Z";

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn text(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// A project with three releases: v1.0 (annotated, a link with a digest, a milestone,
/// evidence), `group/v2.0` (a slash in the tag) and v3.0 (upcoming).
fn project(env: &Env) -> Repo<'_> {
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.git([
        "config",
        "release.webUrl",
        "https://gitlab.example.com/group/proj",
    ]);
    repo.commit("one", &[("README.md", "hello\n"), ("src/a.txt", "alpha\n")]);
    repo.release_ok(["milestone", "create", "M1", "--description", "First"]);
    repo.release_ok([
        "create",
        "v1.0",
        "--ref",
        "HEAD",
        "--tag-message",
        "Version 1.0",
        "--released-at",
        "2025-01-10T10:00:00Z",
        "--milestone",
        "M1",
        "--notes",
        "## Highlights\n\n* fast\n* **safe**\n\nSee <https://example.com/docs>.",
    ]);
    repo.release_ok([
        "link",
        "add",
        "v1.0",
        "--name",
        "linux amd64",
        "--url",
        "https://example.com/app-linux",
        "--link-type",
        "package",
        "--sha256",
        &"ab".repeat(32),
    ]);
    // Back-dated, so not collected at create: on demand, with the archive digests the
    // release page shows.
    repo.release_ok(["evidence", "collect", "v1.0", "--archives"]);
    repo.commit("two", &[("src/b.txt", "beta\n")]);
    repo.release_ok([
        "create",
        "group/v2.0",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-03-01T00:00:00Z",
        "--notes",
        "Second release.",
    ]);
    repo.release_ok([
        "create",
        "v3.0",
        "--ref",
        "HEAD",
        "--released-at",
        "2030-01-01T00:00:00Z",
        "--notes",
        "Not yet.",
    ]);
    repo
}

fn build(repo: &Repo, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["site", "--output", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = repo.release(&args);
    assert!(
        out.status.success(),
        "site failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn site_has_an_index_a_page_per_release_a_feed_a_badge_and_json() {
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    let said = build(&repo, &out, &[]);
    assert!(said.contains("Wrote 3 releases"), "{said}");
    let names: Vec<String> = files(&out).into_keys().collect();
    let sha = repo.release_ok(["evidence", "list", "v1.0", "--json"]);
    let sha = serde_json::from_str::<serde_json::Value>(&sha).unwrap()[0]["sha"]
        .as_str()
        .unwrap()
        .to_owned();
    let evidence = format!("evidences/{sha}.json");
    assert_eq!(
        names,
        [
            "badges/latest.svg",
            evidence.as_str(),
            "index.html",
            "releases.atom",
            "releases.json",
            "releases/group~2Fv2.0.html",
            "releases/v1.0.html",
            "releases/v3.0.html",
            "style.css",
        ]
    );

    let index = text(&out, "index.html");
    assert!(
        index.starts_with("<!doctype html>\n<html lang=\"en\">"),
        "{index}"
    );
    for landmark in ["<header", "<nav", "<main", "<footer", "<h1>"] {
        assert!(index.contains(landmark), "{landmark} missing:\n{index}");
    }
    // Newest release date first (the list order), upcoming included and marked.
    let at = |needle: &str| {
        index
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}:\n{index}"))
    };
    assert!(at("releases/v3.0.html") < at("releases/group~2Fv2.0.html"));
    assert!(at("releases/group~2Fv2.0.html") < at("releases/v1.0.html"));
    assert!(index.contains("Upcoming release"), "{index}");
    assert!(
        index.contains("<p class=\"summary\">fast · safe</p>"),
        "{index}"
    );
    assert!(index.contains("<time datetime=\"2025-01-10T10:00:00.000Z\">2025-01-10</time>"));
    assert!(!index.contains("<script"), "{index}");
    assert!(!index.contains("://") || !index.contains("<link rel=\"stylesheet\" href=\"http"));

    let page = text(&out, "releases/v1.0.html");
    assert!(page.contains("<h1 id=\"s.title\">v1.0</h1>"), "{page}");
    assert!(page.contains("href=\"../style.css\""), "{page}");
    // Notes rendered exactly as `view --html` renders them.
    let view: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["view", "v1.0", "--html", "--json"])).unwrap();
    let notes_html = view["description_html"].as_str().unwrap();
    assert!(page.contains(notes_html), "{notes_html}\nnot in\n{page}");
    // The link with its type and recorded digest; the milestone; the commit and tag.
    assert!(page.contains("linux amd64"), "{page}");
    assert!(page.contains("<td>package</td>"), "{page}");
    assert!(page.contains(&"ab".repeat(32)), "{page}");
    assert!(
        page.contains("https://gitlab.example.com/group/proj/-/milestones/1\">M1</a>"),
        "{page}"
    );
    assert!(page.contains(&repo.rev("v1.0^{commit}")), "{page}");
    assert!(
        page.contains(&format!(
            "annotated tag object <code class=\"digest\">{}",
            repo.rev("v1.0")
        )),
        "{page}"
    );

    // Evidence taken at create: its SHA-256, checkable with plain git, and the
    // source archive digests it recorded, which equal git archive's.
    let evidence: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["evidence", "list", "v1.0", "--json"])).unwrap();
    let snapshot = &evidence.as_array().unwrap()[0];
    let sha = snapshot["sha"].as_str().unwrap();
    let filepath = snapshot["filepath"].as_str().unwrap();
    assert!(page.contains(sha), "{page}");
    let command = format!("git cat-file blob refs/notes/releases:{filepath} | sha256sum");
    assert!(page.contains(&command), "{page}");
    let blob = repo.git_raw([
        "cat-file",
        "blob",
        &format!("refs/notes/releases:{filepath}"),
    ]);
    assert_eq!(sha256(&blob), sha);
    for format in ["zip", "tar.gz", "tar"] {
        let bytes = git_archive(&repo, format, "proj-v1.0/", "v1.0");
        let digest = sha256(&bytes);
        assert!(
            page.contains(&digest),
            "{format} digest {digest} not in\n{page}"
        );
        assert!(page.contains(&format!("{} bytes", bytes.len())), "{page}");
    }
    // Without --with-archives, the sources link to GitLab's archive URLs.
    assert!(
        page.contains("gitlab.example.com/group/proj/-/archive/v1.0/proj-v1.0.zip"),
        "{page}"
    );

    let upcoming = text(&out, "releases/v3.0.html");
    assert!(upcoming.contains("Upcoming release"), "{upcoming}");
    assert!(upcoming.contains("it is taken when the release date arrives"));

    let badge = text(&out, "badges/latest.svg");
    assert!(
        badge.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{badge}"
    );
    assert!(badge.contains("latest release: v3.0"), "{badge}");

    let css = text(&out, "style.css");
    assert!(css.contains("prefers-color-scheme: dark"));
    assert!(css.len() < 8 * 1024, "the stylesheet stays small");
    assert!(!css.contains("url(") && !css.contains("@import"));
}

#[test]
fn releases_json_is_the_list_json() {
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    // The same entities, but evidence files are the site's own: `evidences[].filepath`
    // points where the site wrote each one (relative to releases.json without
    // --base-url), not at the project's web URL.
    let mut listed: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["list", "--json"])).unwrap();
    for release in listed.as_array_mut().unwrap() {
        for evidence in release["evidences"].as_array_mut().unwrap() {
            let sha = evidence["sha"].as_str().unwrap().to_owned();
            evidence["filepath"] = format!("evidences/{sha}.json").into();
            assert!(out.join(format!("evidences/{sha}.json")).is_file());
        }
    }
    let mut expected = serde_json::to_string_pretty(&listed).unwrap();
    expected.push('\n');
    assert_eq!(text(&out, "releases.json"), expected);
}

#[test]
fn feed_is_atom_with_stable_tag_ids_and_no_upcoming_release() {
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    build(
        &repo,
        &out,
        &["--base-url", "https://group.example.io/proj/"],
    );
    let xml = text(&out, "releases.atom");
    let feed = Feed::from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(feed.title().as_str(), "proj releases");
    assert_eq!(
        feed.id(),
        "https://gitlab.example.com/group/proj/-/releases"
    );
    let links: Vec<(&str, &str)> = feed.links().iter().map(|l| (l.rel(), l.href())).collect();
    assert_eq!(
        links,
        [
            ("self", "https://group.example.io/proj/releases.atom"),
            ("alternate", "https://group.example.io/proj/index.html"),
        ]
    );
    // The upcoming v3.0 is left out; the newest released one updates the feed.
    let ids: Vec<&str> = feed.entries().iter().map(|e| e.id()).collect();
    assert_eq!(
        ids,
        [
            "https://gitlab.example.com/group/proj/-/releases/group/v2.0",
            "https://gitlab.example.com/group/proj/-/releases/v1.0",
        ]
    );
    assert_eq!(feed.updated(), feed.entries()[0].updated());
    let entry = &feed.entries()[1];
    assert_eq!(entry.title().as_str(), "v1.0");
    assert_eq!(
        entry.published().unwrap().to_rfc3339(),
        "2025-01-10T10:00:00+00:00"
    );
    assert_eq!(
        entry.links()[0].href(),
        "https://group.example.io/proj/releases/v1.0.html"
    );
    assert_eq!(entry.links()[0].rel(), "alternate");
    assert_eq!(entry.authors()[0].name(), crate::support::AUTHOR_NAME);
    let content = entry.content().unwrap();
    assert_eq!(content.content_type(), Some("html"));
    assert!(content.value().unwrap().contains("<strong>safe</strong>"));

    // Once v3.0's date has come, it is in the feed, first.
    env.set("GIT_RELEASE_NOW", "2030-01-02T00:00:00Z");
    build(&repo, &out, &[]);
    let feed = Feed::from_str(&text(&out, "releases.atom")).unwrap();
    assert_eq!(feed.entries()[0].title().as_str(), "v3.0");
    // Without a base URL the links are relative to the feed, which sits at the root.
    assert_eq!(feed.entries()[0].links()[0].href(), "releases/v3.0.html");
    // A project with no known web URL still has stable, tag-based ids.
    repo.git(["config", "--unset", "release.webUrl"]);
    build(&repo, &out, &[]);
    let feed = Feed::from_str(&text(&out, "releases.atom")).unwrap();
    assert_eq!(feed.id(), "urn:git-release:proj");
    assert_eq!(feed.entries()[1].id(), "urn:git-release:proj:group/v2.0");
}

#[test]
fn same_repository_gives_the_same_bytes() {
    let env = Env::new();
    let repo = project(&env);
    let first = env.path().join("first");
    let second = env.path().join("second");
    build(&repo, &first, &["--with-archives"]);
    build(&repo, &second, &["--with-archives"]);
    let (a, b) = (files(&first), files(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between two runs");
    }
    // Rebuilding over an existing site replaces it in place, with the same bytes.
    build(&repo, &first, &["--with-archives"]);
    assert_eq!(files(&first), a);
}

#[test]
fn hostile_notes_names_and_tags_are_escaped() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.commit("one", &[("a.txt", "a\n")]);
    let tag = "x/\"'<b>&q";
    repo.release_ok([
        "create",
        tag,
        "--ref",
        "HEAD",
        "--name",
        "\"><script>alert('name')</script>",
        "--notes",
        "<script>alert(1)</script>\n\n<img src=\"data:,\" onerror=\"alert(2)\">\n\n[x](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">y</a>\n\n<svg onload=alert(5)></svg><iframe src=\"javascript:alert(6)\"></iframe>\n\n\"quoted\" & </main></body>",
    ]);
    // A web URL the repository sets for itself becomes no link unless it is http(s).
    repo.git(["config", "release.webUrl", "javascript:alert(8)//"]);
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    let all = files(&out);
    let stem = "x~2F~22~27~3Cb~3E~26q";
    assert!(
        all.contains_key(&format!("releases/{stem}.html")),
        "{:?}",
        all.keys()
    );
    for (name, bytes) in &all {
        let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        if name.ends_with(".json") {
            continue; // JSON carries the raw notes, as `list --json` does.
        }
        for bad in [
            "<script",
            "onerror=",
            "onload=",
            "javascript:",
            "<iframe",
            "</main></body>",
        ] {
            assert!(!text.contains(bad), "{bad} in {name}:\n{text}");
        }
    }
    let page = text(&out, &format!("releases/{stem}.html"));
    assert!(
        page.contains("&quot;&gt;&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;"),
        "{page}"
    );
    assert!(page.contains("x/&quot;&#39;&lt;b&gt;&amp;q"), "{page}");
    let index = text(&out, "index.html");
    assert!(
        index.contains(&format!("href=\"releases/{stem}.html\"")),
        "{index}"
    );
    // The feed stays well-formed XML, with the notes sanitized inside.
    let feed = Feed::from_str(&text(&out, "releases.atom")).unwrap();
    assert_eq!(
        feed.entries()[0].title().as_str(),
        "\"><script>alert('name')</script>"
    );
    let html = feed.entries()[0].content().unwrap().value().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("onerror"),
        "{html}"
    );
    let badge = text(&out, "badges/latest.svg");
    assert!(badge.contains("x/&quot;&#39;&lt;b&gt;&amp;q"), "{badge}");
}

#[test]
fn more_than_fifty_releases_are_paged() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.commit("one", &[("a.txt", "a\n")]);
    for i in 1..=120 {
        repo.release_ok([
            "create",
            &format!("v{i}"),
            "--ref",
            "HEAD",
            "--released-at",
            &format!("2024-01-01T00:{:02}:{:02}Z", i / 60, i % 60),
        ]);
    }
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    let all = files(&out);
    assert!(all.contains_key("page-2.html") && all.contains_key("page-3.html"));
    assert!(!all.contains_key("page-4.html"));
    let mut listed = Vec::new();
    for page in ["index.html", "page-2.html", "page-3.html"] {
        let html = text(&out, page);
        let tags: Vec<String> = html
            .split("<span class=\"tag\">")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].to_owned())
            .collect();
        assert!(tags.len() <= 50, "{page}: {}", tags.len());
        listed.extend(tags);
        assert!(
            html.contains("page 1 of 3") || html.contains("of 3."),
            "{html}"
        );
    }
    let expected: Vec<String> = (1..=120).rev().map(|i| format!("v{i}")).collect();
    assert_eq!(listed, expected);
    let second = text(&out, "page-2.html");
    assert!(
        second.contains("rel=\"prev\" href=\"index.html\""),
        "{second}"
    );
    assert!(
        second.contains("rel=\"next\" href=\"page-3.html\""),
        "{second}"
    );
    assert!(
        second.contains("<span aria-current=\"page\">2</span>"),
        "{second}"
    );
    assert_eq!(
        all.keys().filter(|k| k.starts_with("releases/")).count(),
        120
    );
}

#[test]
fn a_broken_template_names_its_file_and_line_and_writes_nothing() {
    let env = Env::new();
    let repo = project(&env);
    let templates = env.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("release.html"),
        "{% extends \"layout.html\" %}\n{% block main %}\n<p>{{ release.name </p>\n{% endblock %}\n",
    )
    .unwrap();
    let out = env.path().join("public");
    let err = repo.release_err(
        1,
        [
            "site",
            "-o",
            out.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    let file = templates.join("release.html");
    assert!(
        err.contains(&format!("template {} line 3:", file.display())),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(env.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("git-release-")
            })
            .count(),
        0,
        "no staging directory is left behind"
    );

    // An error while rendering (a filter that does not exist) leaves the previous
    // site exactly as it was.
    build(&repo, &out, &[]);
    let before = files(&out);
    std::fs::write(
        templates.join("index.html"),
        "{% extends \"layout.html\" %}\n{% block main %}\n\n{{ releases | nosuchfilter }}\n{% endblock %}\n",
    )
    .unwrap();
    std::fs::remove_file(templates.join("release.html")).unwrap();
    let err = repo.release_err(
        1,
        [
            "site",
            "-o",
            out.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert!(
        err.contains(&format!(
            "{} line 4",
            templates.join("index.html").display()
        )),
        "{err}"
    );
    assert_eq!(files(&out), before);
}

#[test]
fn templates_come_from_the_tree_at_head_or_a_directory() {
    let env = Env::new();
    let repo = project(&env);
    repo.commit(
        "site templates",
        &[
            (
                ".git-release/site/index.html",
                "{% extends \"layout.html\" %}{% block main %}<h1>Ours</h1>{% for r in releases %}[{{ r.tag }}]{% endfor %}{% endblock %}",
            ),
            (".git-release/site/style.css", "body { color: teal; }\n"),
        ],
    );
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    let index = text(&out, "index.html");
    assert!(
        index.contains("<h1>Ours</h1>[v3.0][group/v2.0][v1.0]"),
        "{index}"
    );
    assert_eq!(text(&out, "style.css"), "body { color: teal; }\n");
    // Files not overridden keep the built-in template.
    assert!(text(&out, "releases/v1.0.html").contains("Release notes"));

    // --templates wins over the tree, file by file.
    let dir = env.path().join("tpl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "dir: {{ page.total }} {{ site.project }}\n",
    )
    .unwrap();
    build(&repo, &out, &["--templates", dir.to_str().unwrap()]);
    assert_eq!(text(&out, "index.html"), "dir: 3 proj\n");
    assert_eq!(text(&out, "style.css"), "body { color: teal; }\n");
}

#[test]
fn with_archives_the_site_mirrors_git_archive() {
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    build(&repo, &out, &["--with-archives"]);
    for (tag, dir) in [("v1.0", "v1.0"), ("group/v2.0", "group~2Fv2.0")] {
        let base = format!("proj-{}", tag.replace('/', "-"));
        let page = text(&out, &format!("releases/{dir}.html"));
        for format in ["zip", "tar.gz", "tar.bz2", "tar"] {
            let path = format!("archives/{dir}/{base}.{format}");
            let ours = std::fs::read(out.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            let git = if format == "tar.bz2" {
                bzip2(&git_archive(&repo, "tar", &format!("{base}/"), tag))
            } else {
                git_archive(&repo, format, &format!("{base}/"), tag)
            };
            assert!(ours == git, "{path} differs from git archive");
            // The page links the file and shows its digest.
            assert!(
                page.contains(&format!("href=\"../archives/{dir}/{base}.{format}\"")),
                "{page}"
            );
            assert!(page.contains(&sha256(&git)), "{page}");
        }
    }
}

#[test]
fn output_that_is_not_a_site_is_refused_and_left_alone() {
    let env = Env::new();
    let repo = project(&env);
    let busy = env.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("precious.txt"), "keep me").unwrap();
    let err = repo.release_err(1, ["site", "-o", busy.to_str().unwrap()]);
    assert!(
        err.contains("not a release site") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(text(&busy, "precious.txt"), "keep me");
    build(&repo, &busy, &["--force"]);
    assert!(!busy.join("precious.txt").exists());
    assert!(busy.join("index.html").is_file());

    // A .git in the output (a Pages branch checked out there) survives a rebuild.
    let pages = env.path().join("pages");
    build(&repo, &pages, &[]);
    std::fs::write(pages.join(".git"), "gitdir: elsewhere\n").unwrap();
    build(&repo, &pages, &[]);
    assert_eq!(text(&pages, ".git"), "gitdir: elsewhere\n");

    // An output below a file cannot be written: a clear error, nothing made.
    let file = env.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = repo.release_err(1, ["site", "-o", file.join("site").to_str().unwrap()]);
    assert!(
        err.contains("plain-file") && err.contains("Not a directory"),
        "{err}"
    );
    let err = repo.release_err(1, ["site", "-o", file.to_str().unwrap()]);
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn an_empty_repository_gets_an_empty_site() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.commit("one", &[("a.txt", "a\n")]);
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    assert!(text(&out, "index.html").contains("No releases yet."));
    assert_eq!(text(&out, "releases.json"), "[]\n");
    let feed = Feed::from_str(&text(&out, "releases.atom")).unwrap();
    assert!(feed.entries().is_empty());
    assert!(text(&out, "badges/latest.svg").contains("latest release: none"));
}

/// Debian's chromium, headless, through playwright-core (tests/browser).
#[test]
#[ignore = "needs chromium, node and playwright-core; .ci/run runs it"]
fn pages_pass_the_browser_checks() {
    let script = tools::browser_check();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = Env::new();
    let repo = project(&env);
    repo.commit("three", &[("c.txt", "c\n")]);
    repo.release_ok([
        "create",
        "hostile/\"<b>'",
        "--ref",
        "HEAD",
        "--released-at",
        "2025-04-01T00:00:00Z",
        "--name",
        "\"><script>alert('name')</script>",
        "--notes",
        "# Payloads\n\n<script>alert(1)</script>\n\n<img src=\"data:,\" onerror=\"alert(2)\">\n\n[x](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">y</a>\n\n<svg onload=alert(5)></svg><iframe src=\"javascript:alert(6)\"></iframe><details open ontoggle=alert(7)><summary>s</summary>d</details>\n\n| a | b |\n|---|---|\n| `a-very-long-unbroken-identifier-that-must-not-push-the-page-sideways-on-a-phone` | 2 |\n",
    ]);
    for i in 0..55 {
        repo.release_ok([
            "create",
            &format!("old-{i}"),
            "--ref",
            "HEAD",
            "--released-at",
            &format!("2020-01-01T00:00:{i:02}Z"),
            "--notes",
            "An older release.",
        ]);
    }
    let out = env.path().join("public");
    build(&repo, &out, &["--with-archives"]);
    let shots: PathBuf = manifest.join("target/site-screenshots");
    let report = tools::run_browser_check(
        &script,
        out.as_os_str(),
        &shots,
        "/releases/v1.0.html",
        env.path(),
    );
    assert_eq!(report["releases"], 59);
    // Index pages (2) and release pages (59) were all reached through links.
    assert_eq!(report["pages"], 61, "{report}");
}

/// feedparser (from PyPI, in the test virtual environment .ci/run makes) reads the feed
/// as Atom 1.0 with nothing malformed, sanitizing nothing away that matters.
#[test]
#[ignore = "needs feedparser (tests/requirements.txt); .ci/run runs it"]
fn feedparser_reads_the_feed() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = tools::venv("feedparser").join("bin/python");
    let env = Env::new();
    let repo = project(&env);
    repo.release_ok([
        "update",
        "group/v2.0",
        "--notes",
        "<script>alert(1)</script>Second & \"final\" <b>release</b>.",
    ]);
    let out = env.path().join("public");
    build(
        &repo,
        &out,
        &["--base-url", "https://group.example.io/proj"],
    );
    let run = Command::new(&python)
        .arg(manifest.join("tests/browser/feed_check.py"))
        .arg(out.join("releases.atom"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "feedparser:\n{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["version"], "atom10");
    assert_eq!(
        report["links"]["self"],
        "https://group.example.io/proj/releases.atom"
    );
    let entries = report["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "the upcoming v3.0 is left out: {report}");
    assert_eq!(entries[0]["title"], "group/v2.0");
    assert_eq!(
        entries[0]["link"],
        "https://group.example.io/proj/releases/group~2Fv2.0.html"
    );
    assert_eq!(
        entries[0]["author"],
        format!(
            "{} ({})",
            crate::support::AUTHOR_NAME,
            crate::support::AUTHOR_EMAIL
        )
    );
    let content = entries[0]["content"].as_str().unwrap();
    assert!(
        content.contains("Second &amp; \"final\" <b>release</b>."),
        "{content}"
    );
    assert!(!content.contains("script"), "{content}");
}

#[test]
fn incremental_rewrites_only_what_changed() {
    use std::os::unix::fs::MetadataExt;
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    build(&repo, &out, &["--with-archives"]);
    let inode = |file: &str| std::fs::metadata(out.join(file)).unwrap().ino();
    let before: BTreeMap<String, u64> = files(&out).keys().map(|k| (k.clone(), inode(k))).collect();

    repo.release_ok([
        "update",
        "group/v2.0",
        "--notes",
        "Second release, revised.",
    ]);
    repo.release_ok(["delete", "v3.0", "-y"]);
    let said = build(&repo, &out, &["--with-archives", "--incremental"]);
    assert!(
        said.contains("rewritten") && said.contains("removed"),
        "{said}"
    );
    let after = files(&out);
    // The same bytes as a full build.
    let full = env.path().join("full");
    build(&repo, &full, &["--with-archives"]);
    assert_eq!(after, files(&full));
    // Only the changed files were replaced; the rest are the very same files.
    let replaced: Vec<&str> = after
        .keys()
        .filter(|k| before.get(*k) != Some(&inode(k)))
        .map(String::as_str)
        .collect();
    assert_eq!(
        replaced,
        [
            "badges/latest.svg",
            "index.html",
            "releases.atom",
            "releases.json",
            "releases/group~2Fv2.0.html",
        ]
    );
    assert!(!out.join("releases/v3.0.html").exists());
    assert!(!out.join("archives/v3.0").exists());

    // A broken template changes nothing, in place either.
    let templates = env.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("release.html"), "{% if %}").unwrap();
    repo.release_ok(["update", "v1.0", "--notes", "changed"]);
    repo.release_err(
        1,
        [
            "site",
            "-o",
            out.to_str().unwrap(),
            "--incremental",
            "--with-archives",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(files(&out), after);
}

#[test]
fn a_huge_description_renders_and_is_summarized() {
    let env = Env::new();
    env.set("GIT_RELEASE_NOW", NOW);
    let repo = env.repo("proj");
    repo.commit("one", &[("a.txt", "a\n")]);
    // GitLab's limit: one million characters, in one paragraph of words.
    let mut notes = "word ".repeat(199_999);
    notes.push_str("last");
    assert_eq!(notes.chars().count(), 999_999);
    let file = env.path().join("notes.md");
    std::fs::write(&file, &notes).unwrap();
    repo.release_ok([
        "create",
        "v1",
        "--ref",
        "HEAD",
        "--notes-file",
        file.to_str().unwrap(),
    ]);
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    let page = text(&out, "releases/v1.html");
    assert!(
        page.contains("word last</p>"),
        "the whole description is on its page"
    );
    let index = text(&out, "index.html");
    let summary = index
        .split("<p class=\"summary\">")
        .nth(1)
        .and_then(|s| s.split("</p>").next())
        .unwrap();
    assert!(
        summary.chars().count() <= 281 && summary.ends_with('…'),
        "{summary}"
    );
    assert!(
        index.len() < 10_000,
        "the list stays small: {}",
        index.len()
    );
}

/// 64-hex digests (evidence embeds the tool version) as `<sha256>`.
fn redact_sha256(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_hexdigit() && c.is_ascii_lowercase() || c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 64 { "<sha256>" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    // The evidence file's fan-out directory is the digest's first two digits.
    while let Some(at) = out.find("/<sha256>.json").filter(|&at| at >= 11) {
        out.replace_range(at - 11..at + 14, "evidence/<aa>/<sha256*json>");
    }
    out.replace("<sha256*json>", "<sha256>.json")
}

/// The pages people read, pinned whole: a change is a readable diff in
/// tests/it/snapshots/ (accept with `INSTA_UPDATE=always cargo test --test it site`).
#[test]
fn pages_are_pinned() {
    let env = Env::new();
    let repo = project(&env);
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    insta::assert_snapshot!("site_index", text(&out, "index.html"));
    insta::assert_snapshot!(
        "site_release",
        redact_sha256(&text(&out, "releases/v1.0.html"))
    );
    insta::assert_snapshot!("site_badge", text(&out, "badges/latest.svg"));
}

/// A later snapshot without archive digests (a plain `evidence collect`) does not hide
/// the digests an earlier `--archives` snapshot recorded: the page shows the newest
/// snapshot that has them.
#[test]
fn release_page_shows_digests_from_the_newest_snapshot_that_has_them() {
    let env = Env::new();
    let repo = project(&env);
    repo.env.set("GIT_RELEASE_NOW", "2031-01-01T00:00:00Z");
    repo.release_ok(["evidence", "collect", "v1.0"]);
    let evidence: serde_json::Value =
        serde_json::from_str(&repo.release_ok(["evidence", "list", "v1.0", "--json"])).unwrap();
    assert_eq!(evidence.as_array().unwrap().len(), 2, "{evidence}");
    let out = env.path().join("public");
    build(&repo, &out, &[]);
    let page = text(&out, "releases/v1.0.html");
    for format in ["zip", "tar.gz", "tar"] {
        let digest = sha256(&git_archive(&repo, format, "proj-v1.0/", "v1.0"));
        assert!(page.contains(&digest), "{format} digest missing:\n{page}");
    }
    // Both snapshots are listed, newest first or not, each with its own SHA-256.
    for snapshot in evidence.as_array().unwrap() {
        assert!(page.contains(snapshot["sha"].as_str().unwrap()), "{page}");
    }
}
