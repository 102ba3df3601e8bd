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

#[test]
fn the_readme_install_block_installs_the_man_page() {
    let text = readme();
    let block = &text[text.find("cargo install --path .").unwrap()..];
    let block = &block[..block.find("```").unwrap()];
    assert!(block.contains("git release man --install"), "{block}");
}
