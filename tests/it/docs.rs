//! Shell completions (also through git's own bash completion) and man pages.

use std::process::Command;

use crate::support::Env;

const GIT_BASH_COMPLETION: &str = "/usr/share/bash-completion/completions/git";

/// Completes `line` in bash with git's completion script and ours loaded; returns the
/// candidates.
fn complete(env: &Env, line: &str, function: &str) -> String {
    let repo = env.repo("p");
    let script = repo.release_ok(["completions", "bash"]);
    let path = env.path().join("git-release.bash");
    std::fs::write(&path, script).unwrap();
    let driver = format!(
        r#"source {GIT_BASH_COMPLETION}
source {}
COMP_LINE="$LINE"; read -ra COMP_WORDS <<< "$LINE"
[[ "$LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_POINT=${{#COMP_LINE}}
{function} "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        path.display()
    );
    let mut cmd = Command::new("bash");
    env.apply(&mut cmd);
    let out = cmd
        .current_dir(repo.path())
        .env("LINE", line)
        .args(["-c", &driver])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_works_as_git_release_and_as_git_dash_release() {
    assert!(
        std::path::Path::new(GIT_BASH_COMPLETION).exists(),
        "git's bash completion is missing"
    );
    let env = Env::new();
    assert_eq!(
        complete(&env, "git release cr", "__git_wrap__git_main").trim(),
        "create"
    );
    assert_eq!(
        complete(&env, "git release list --order", "__git_wrap__git_main").trim(),
        "--order-by"
    );
    assert_eq!(
        complete(&env, "git release list --order-by ", "__git_wrap__git_main")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["released_at", "created_at", "semver"]
    );
    assert_eq!(
        complete(&env, "git-release del", "_git__release").trim(),
        "delete"
    );
}

#[test]
fn completions_for_every_shell_and_a_clear_error_for_an_unknown_one() {
    let env = Env::new();
    let repo = env.repo("p");
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef git-release"),
        ("fish", "complete -c git-release"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion"),
    ] {
        let out = repo.release_ok(["completions", shell]);
        assert!(
            out.contains(marker),
            "{shell}: {}",
            &out[..out.len().min(200)]
        );
        assert!(out.contains("create"), "{shell}");
    }
    let err = repo.release_err(2, ["completions", "tcsh"]);
    assert!(err.contains("tcsh"), "{err}");
}

#[test]
fn man_pages_are_roff_for_the_tool_and_each_command() {
    let env = Env::new();
    let repo = env.repo("p");
    let page = repo.release_ok(["man"]);
    assert!(page.contains(".TH git-release 1"), "{}", &page[..200]);
    assert!(page.contains("create") && page.contains("GitLab"));
    let dir = env.path().join("man1");
    repo.release_ok(["man", "--output-dir", dir.to_str().unwrap()]);
    let create = std::fs::read_to_string(dir.join("git-release-create.1")).unwrap();
    assert!(
        create.contains(".TH git-release-create 1") && create.contains("tag\\-message"),
        "{create}"
    );
    assert!(dir.join("git-release-list.1").exists() && dir.join("git-release.1").exists());
}

/// A `<prefix>/bin` holding git-release (a link to the built binary), as `cargo install`
/// leaves `~/.cargo/bin`; and a PATH that starts with it.
fn installed_prefix(env: &Env) -> (std::path::PathBuf, String) {
    let prefix = env.path().join("prefix");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin!("git-release"),
        prefix.join("bin/git-release"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        prefix.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (prefix, path)
}

/// `git release …` through git, with PATH as given and MANPATH unset, so that man
/// derives its search path from PATH as it does for a user.
fn git_release(repo: &crate::support::Repo, path: &str, args: &[&str]) -> std::process::Output {
    repo.git_command(["release"].iter().chain(args))
        .env("PATH", path)
        .env_remove("MANPATH")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .unwrap()
}

#[test]
fn man_install_puts_the_page_where_git_release_help_finds_it() {
    assert!(
        Command::new("man").arg("--version").output().is_ok(),
        "man (man-db) is missing: .ci/run installs it"
    );
    let env = Env::new();
    let repo = env.repo("p");
    let (prefix, path) = installed_prefix(&env);

    // Before: `-h` says how to get the page `--help` would open.
    let out = git_release(&repo, &path, &["-h"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && help.contains("git release man --install"),
        "{help}"
    );

    let out = git_release(&repo, &path, &["man", "--install"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = prefix.join("share/man/man1/git-release.1");
    assert!(page.exists(), "no {}", page.display());
    assert!(prefix.join("share/man/man1/git-release-create.1").exists());

    // git turns `git release --help` into `man git-release`, which now finds it.
    let out = git_release(&repo, &path, &["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("NAME") && text.contains("git-release"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = git_release(&repo, &path, &["-h"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("man --install"));
}

#[test]
fn man_install_refuses_when_git_cannot_find_git_release() {
    let env = Env::new();
    let repo = env.repo("p");
    let out = repo
        .release_command()
        .args(["man", "--install"])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not on PATH") && err.contains("--output-dir"),
        "{err}"
    );
}
