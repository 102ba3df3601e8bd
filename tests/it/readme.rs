//! The README and the docs pages say what the tool does: their command blocks are run
//! here exactly as written, where they stand. The README's install block and tour run
//! in a fresh repository; a docs page that says its `sh` blocks run (naming this file)
//! has them run, in order, in the repository the tour leaves.

use std::path::Path;
use std::process::Command;

use crate::support::{Env, Repo};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The ```sh blocks of a Markdown text, in order, each as its commands: one per line,
/// a line ending in a backslash continuing on the next, as in a shell.
fn sh_blocks(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("```sh\n") {
        let body = &rest[at + "```sh\n".len()..];
        let close = body.find("```").expect("the block's end");
        let mut commands = Vec::new();
        let mut current = String::new();
        for line in body[..close].lines() {
            if current.is_empty() && line.trim().is_empty() {
                continue;
            }
            current.push_str(line);
            current.push('\n');
            if !line.trim_end().ends_with('\\') {
                commands.push(std::mem::take(&mut current));
            }
        }
        assert!(current.is_empty(), "a block ends in a continued line");
        blocks.push(commands);
        rest = &body[close + 3..];
    }
    blocks
}

/// `git release` installed as `cargo install` leaves it, in `~/.cargo/bin` of the
/// test's home (a link to the binary cargo built); returns the PATH that finds it.
fn install(env: &Env) -> String {
    let bin = env.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin!("git-release"),
        bin.join("git-release"),
    )
    .unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs each command in `dir` as a user's shell would, with the PATH of [`install`];
/// a failure names `what`, the command and its output.
#[track_caller]
fn run(env: &Env, dir: &Path, path: &str, commands: &[String], what: &str) {
    for command in commands {
        let mut cmd = Command::new("sh");
        env.apply(&mut cmd);
        let out = cmd
            .current_dir(dir)
            .env("PATH", path)
            .env_remove("MANPATH")
            .env("PAGER", "cat")
            .env("MANPAGER", "cat")
            .args(["-c", command])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: command failed ({:?}):\n{command}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The tour's block.
fn tour() -> Vec<String> {
    let text = readme();
    let section = &text[text.find("## A short tour").expect("the tour")..];
    sh_blocks(section).swap_remove(0)
}

/// "A repository with a few commits", and the tour run in it, as a reader of a docs
/// page is assumed to have.
#[track_caller]
fn after_the_tour<'e>(env: &'e Env, path: &str) -> Repo<'e> {
    let repo = env.repo("awesome-app");
    repo.commit("Initial commit", &[("README", "app\n")]);
    repo.commit(
        "feat: the first feature",
        &[("src/main.c", "int main(){}\n")],
    );
    repo.commit("docs: usage", &[("README", "app\nusage\n")]);
    run(env, repo.path(), path, &tour(), "README tour");
    repo
}

#[test]
fn the_readme_tour_runs_as_written_in_a_fresh_repository() {
    let env = Env::new();
    let path = install(&env);
    assert!(tour().len() >= 15, "{:?}", tour());
    let repo = after_the_tour(&env, &path);
    // What the tour says it did.
    assert!(
        !repo.ref_exists("refs/tags/v1.2.0"),
        "deleted last, with its tag"
    );
    let listed = crate::support::tag_names(&repo.release_ok(["list", "--json"]));
    assert_eq!(listed, ["v2.0.0", "v1.3.0", "v1.1.0"]);
    for format in ["zip", "tar.gz", "tar.bz2", "tar"] {
        assert!(
            repo.path()
                .join(format!("dist/awesome-app-v1.2.0.{format}"))
                .exists()
        );
    }
    assert!(repo.path().join("dist/SHA256SUMS").exists());
    repo.assert_fsck_clean();
}

/// The README's command blocks are the install block, the test command (this very
/// run) and the tour: a new block needs a place in this file before it can land.
#[test]
fn every_readme_block_is_run_here() {
    let blocks = sh_blocks(&readme());
    let firsts: Vec<&str> = blocks
        .iter()
        .map(|b| {
            b[0].split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .map(|s| match s.as_str() {
            "cargo install" => "install",
            "cargo test" => "test",
            _ => "other",
        })
        .collect();
    assert_eq!(firsts, ["install", "test", "other"], "{blocks:#?}");
    assert_eq!(
        blocks[1],
        [
            "cargo test --locked           # the whole test suite (needs git, bzip2 and python3 on PATH)\n"
        ]
    );
    assert_eq!(blocks[2], tour());
}

/// The install block, run as a user would after a fresh checkout. `cargo install` itself
/// is the one line not run (it would build a release binary inside the test run): what it
/// leaves, the binary in `~/.cargo/bin`, is what [`install`] makes.
#[test]
fn the_readme_install_block_runs_as_written() {
    let env = Env::new();
    let path = install(&env);
    let repo = env.repo("any");
    repo.commit("one", &[("a", "a\n")]);
    let commands = sh_blocks(&readme()).swap_remove(0);
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert!(commands[0].starts_with("cargo install --path ."));
    run(
        &env,
        repo.path(),
        &path,
        &commands[1..],
        "README install block",
    );
    // What the comments say: the page is where man looks for ~/.cargo/bin.
    assert!(
        env.path()
            .join(".cargo/share/man/man1/git-release.1")
            .exists()
    );
}

/// The docs pages that say their `sh` blocks run.
fn runnable_pages() -> Vec<(String, String)> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.contains("`tests/it/readme.rs` runs") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            pages.push((name, text));
        }
    }
    pages.sort();
    pages
}

/// Every docs page that says its `sh` blocks run as written after the tour: run them,
/// in order, one page at a time in its own repository.
#[test]
fn docs_blocks_run_as_written_after_the_tour() {
    let pages = runnable_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "milestones-and-freezes.md",
        "packages.md",
        "sharing.md",
        "storage.md",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    std::thread::scope(|scope| {
        for (name, text) in &pages {
            scope.spawn(move || {
                let blocks = sh_blocks(text);
                assert!(
                    !blocks.is_empty(),
                    "{name} says it runs, but has no sh block"
                );
                let env = Env::new();
                let path = install(&env);
                let repo = after_the_tour(&env, &path);
                for block in &blocks {
                    run(&env, repo.path(), &path, block, &format!("docs/{name}"));
                }
                repo.assert_fsck_clean();
            });
        }
    });
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The headings of a Markdown file outside code blocks, as anchors.
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// The targets of the Markdown links `[text](target)` in `text`.
fn link_targets(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            let end = rest.find(')')?;
            let target = &rest[..end];
            (!target.contains(char::is_whitespace)).then_some(target)
        })
        .collect()
}

/// The README is a first page: what it links to (docs pages, their sections, images)
/// exists, and so does everything the docs pages link to among themselves.
#[test]
fn every_relative_link_of_the_readme_and_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, fragment) = target.split_once('#').unwrap_or((target, ""));
            let file = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !file.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
            } else if !fragment.is_empty()
                && !anchors(&std::fs::read_to_string(&file).unwrap())
                    .iter()
                    .any(|a| a == fragment)
            {
                broken.push(format!("{}: {target} (no such heading)", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    assert!(checked > 20, "only {checked} links seen");
}

/// Every docs page is reachable from the first page: a new topic gets its page and a
/// link in the README (its map of commands, or the line of topics after it).
#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let text = readme();
    let linked: Vec<&str> = link_targets(&text)
        .into_iter()
        .map(|t| t.split_once('#').map_or(t, |(file, _)| file))
        .collect();
    let mut missing = Vec::new();
    for page in files_under(&root().join("docs"), &["md"]) {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        if !linked.contains(&name.as_str()) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "README.md links none of {missing:?}");
}

/// Reference topics live in docs/: the README stays a first page.
#[test]
fn the_readme_stays_a_first_page() {
    let lines = readme().lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines: move reference text to docs/"
    );
}

/// Every file under `dir` (recursively) whose name ends in one of `extensions`.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path, extensions));
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            found.push(path);
        }
    }
    found
}

/// The code cites design notes that are in the repository: every `docs/<page>.md` it
/// names exists, and so does the section it names after it (`docs/storage.md,
/// "Scale"`); nothing points at documents outside the repository.
#[test]
fn the_code_cites_only_documents_in_the_repository() {
    let mut files = files_under(&root().join("src"), &["rs"]);
    files.extend(files_under(&root().join("tests/it"), &["rs"]));
    files.extend(files_under(&root().join("scripts"), &["py", "sh"]));
    files.push(root().join("Cargo.toml"));
    files.push(root().join(".ci/run"));
    let mut problems = Vec::new();
    let mut cited = 0;
    for file in files {
        let raw = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        if name == "tests/it/readme.rs" {
            continue;
        }
        for outside in [
            "../shared/",
            "shared/tools",
            "DESIGN.md",
            "ARCHIVE.md",
            "GITLAB.md",
            "DESIGN →",
        ] {
            if raw.contains(outside) {
                problems.push(format!("{name}: cites {outside:?}, outside the repository"));
            }
        }
        // The comments, a comment continued over lines read as one line.
        let text: String = raw
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("//") || l.starts_with('#'))
            .map(|l| l.trim_start_matches(['/', '!', '#']).trim())
            .collect::<Vec<_>>()
            .join(" ");
        for (at, _) in text.match_indices("docs/") {
            // A path of the repository, not part of a URL or another path.
            if text[..at].ends_with(|c: char| c == '/' || c.is_alphanumeric()) {
                continue;
            }
            let rest = &text[at + "docs/".len()..];
            let page: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.')
                .collect();
            let Some(page) = page
                .strip_suffix('.')
                .or(Some(&page))
                .filter(|p| p.ends_with(".md"))
            else {
                continue;
            };
            cited += 1;
            let path = root().join("docs").join(page);
            let Ok(doc) = std::fs::read_to_string(&path) else {
                problems.push(format!("{name}: docs/{page} does not exist"));
                continue;
            };
            if let Some(section) = rest[page.len()..].strip_prefix(", \"") {
                let heading = &section[..section.find('"').unwrap_or(section.len())];
                if !anchors(&doc).contains(&anchor(heading)) {
                    problems.push(format!("{name}: docs/{page} has no section {heading:?}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(cited >= 15, "only {cited} citations seen");
}
