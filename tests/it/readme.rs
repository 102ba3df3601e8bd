//! The README says what the tool does: its tour is run here exactly as written.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Env;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The commands of the first ```sh block under `heading`, one per entry: a line
/// ending in a backslash continues on the next, as in a shell.
pub fn sh_block(readme: &str, heading: &str) -> Vec<String> {
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("README has no {heading:?}"))..];
    let open = section.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let close = section[open..].find("```").expect("the block's end");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in section[open..open + close].lines() {
        if current.is_empty() && line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if !line.trim_end().ends_with('\\') {
            commands.push(std::mem::take(&mut current));
        }
    }
    assert!(current.is_empty(), "the block ends in a continued line");
    commands
}

/// The directory holding the built `git-release`, to put on PATH as `cargo install`
/// would, so that `git release` runs it.
pub fn bin_dir() -> PathBuf {
    Path::new(assert_cmd::cargo::cargo_bin!("git-release"))
        .parent()
        .unwrap()
        .to_owned()
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn the_readme_tour_runs_as_written_in_a_fresh_repository() {
    let env = Env::new();
    let repo = env.repo("awesome-app");
    repo.commit("Initial commit", &[("README", "app\n")]);
    repo.commit(
        "feat: the first feature",
        &[("src/main.c", "int main(){}\n")],
    );
    repo.commit("docs: usage", &[("README", "app\nusage\n")]);
    let commands = sh_block(&readme(), "## A short tour");
    assert!(commands.len() >= 15, "{commands:?}");
    let path = path_with(&bin_dir());
    for command in &commands {
        let mut cmd = Command::new("sh");
        env.apply(&mut cmd);
        let out = cmd
            .current_dir(repo.path())
            .env("PATH", &path)
            .args(["-c", command])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README tour command failed ({:?}):\n{command}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
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

/// The ```sh block that starts with `first`, as commands.
fn block_starting(text: &str, first: &str) -> Vec<String> {
    let at = text
        .find(&format!("```sh\n{first}"))
        .unwrap_or_else(|| panic!("no ```sh block starts with {first:?}"));
    sh_block(&text[at..], "```sh\n")
}

/// The install block, run as a user would after a fresh checkout. `cargo install` itself
/// is the one line not run (it would build a release binary inside the test run): what it
/// leaves, the binary in `~/.cargo/bin`, is made by linking the one cargo built.
#[test]
fn the_readme_install_block_runs_as_written() {
    let env = Env::new();
    let repo = env.repo("any");
    repo.commit("one", &[("a", "a\n")]);
    let bin = env.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin!("git-release"),
        bin.join("git-release"),
    )
    .unwrap();
    let commands = block_starting(&readme(), "cargo install --path .");
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert!(commands[0].starts_with("cargo install --path ."));
    let path = path_with(&bin);
    for command in &commands[1..] {
        let mut cmd = Command::new("sh");
        env.apply(&mut cmd);
        let out = cmd
            .current_dir(repo.path())
            .env("PATH", &path)
            .env_remove("MANPATH")
            .args(["-c", command])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README install command failed ({:?}):\n{command}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // What the comments say: the page is where man looks for ~/.cargo/bin.
    assert!(
        env.path()
            .join(".cargo/share/man/man1/git-release.1")
            .exists()
    );
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

/// Reference topics live in docs/: the README stays a first page.
#[test]
fn the_readme_stays_a_first_page() {
    let lines = readme().lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines: move reference text to docs/"
    );
}
