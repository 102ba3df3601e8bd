//! Configuration exactly as git resolves it: `git -c` (GIT_CONFIG_PARAMETERS),
//! GIT_CONFIG_COUNT/KEY/VALUE, `includeIf "hasconfig:remote.*.url:"`, GIT_CONFIG_GLOBAL,
//! checked against `git config --get` in the same environment.

use std::process::Output;

use crate::support::{Env, Repo};

/// Values with spaces, both quotes, `=`, a backslash and a leading/trailing blank: what
/// the shell quoting of `git -c` and the config file syntax have to carry.
const AWKWARD: &[&str] = &[
    "plain",
    "two words",
    "it's \"quoted\"",
    "a=b=c",
    "back\\slash",
    " padded ",
    "ünïcode ✓",
];

fn git_with_release(repo: &Repo, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = repo.git_with_release(args);
    cmd.envs(vars.iter().copied());
    cmd.output().unwrap()
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// What `git config --get release.description` prints and what `git release config
/// project.description` prints (a free-text setting: project names must be plain file
/// names), both run through git with `git_args` before the subcommand and `vars` in the
/// environment.
fn both(repo: &Repo, git_args: &[&str], vars: &[(&str, &str)]) -> (String, String) {
    let mut args: Vec<&str> = git_args.to_vec();
    args.extend(["config", "--get", "release.description"]);
    let git = stdout_ok(&git_with_release(repo, &args, vars));
    let mut args: Vec<&str> = git_args.to_vec();
    args.extend(["release", "config", "project.description"]);
    let ours = stdout_ok(&git_with_release(repo, &args, vars));
    (git, ours)
}

fn repo(env: &Env) -> Repo<'_> {
    let repo = env.repo("work");
    repo.commit("one", &[("f", "1")]);
    repo
}

#[test]
fn git_dash_c_values_are_read_as_git_config_reads_them() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["config", "release.description", "from-the-file"]);
    for value in AWKWARD {
        let setting = format!("release.description={value}");
        let (git, ours) = both(&repo, &["-c", &setting], &[]);
        assert_eq!(git, format!("{value}\n"), "git itself");
        assert_eq!(ours, git, "git -c {setting:?}");
    }
    // The key's case does not matter, the last -c wins, and -c wins over every file.
    let (git, ours) = both(
        &repo,
        &[
            "-c",
            "Release.Description=first",
            "-c",
            "RELEASE.description=second",
        ],
        &[],
    );
    assert_eq!((git.as_str(), ours.as_str()), ("second\n", "second\n"));
}

#[test]
fn git_config_count_values_are_read_and_git_dash_c_wins_over_them() {
    let env = Env::new();
    let repo = repo(&env);
    for value in AWKWARD {
        let vars = [
            ("GIT_CONFIG_COUNT", "2"),
            ("GIT_CONFIG_KEY_0", "release.description"),
            ("GIT_CONFIG_VALUE_0", "overridden"),
            ("GIT_CONFIG_KEY_1", "release.DESCRIPTION"),
            ("GIT_CONFIG_VALUE_1", value),
        ];
        let (git, ours) = both(&repo, &[], &vars);
        assert_eq!(git, format!("{value}\n"));
        assert_eq!(ours, git, "GIT_CONFIG_COUNT with {value:?}");
    }
    let vars = [
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "release.description"),
        ("GIT_CONFIG_VALUE_0", "from-env"),
    ];
    let (git, ours) = both(&repo, &["-c", "release.description=from-c"], &vars);
    assert_eq!((git.as_str(), ours.as_str()), ("from-c\n", "from-c\n"));
    // A count with a missing key: git refuses to run, and so do we.
    let out = repo
        .release_command()
        .env("GIT_CONFIG_COUNT", "1")
        .args(["config", "project.name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GIT_CONFIG_KEY_0"), "{err}");
}

/// GIT_CONFIG_PARAMETERS as older gits wrote it ('key=value') and as scripts write it.
#[test]
fn git_config_parameters_in_both_quoting_styles() {
    let env = Env::new();
    let repo = repo(&env);
    for parameters in [
        "'release.description=old style'",
        "'release.description'='new style'",
        "'release.description'='it'\\''s'",
        "'user.name'='x' 'release.description=a=b'",
    ] {
        let vars = [("GIT_CONFIG_PARAMETERS", parameters)];
        let (git, ours) = both(&repo, &[], &vars);
        assert_eq!(ours, git, "GIT_CONFIG_PARAMETERS={parameters}");
    }
    let out = repo
        .release_command()
        .env("GIT_CONFIG_PARAMETERS", "'release.project")
        .args(["config", "project.name"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("GIT_CONFIG_PARAMETERS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn include_if_hasconfig_remote_url_picks_the_file_git_picks() {
    let env = Env::new();
    let repo = repo(&env);
    std::fs::write(
        env.path().join("work.inc"),
        "[release]\n\tdescription = \"from work \\\"include\\\"\"\n[user]\n\tname = Work Person\n",
    )
    .unwrap();
    let global = env.path().join(".gitconfig");
    let mut text = std::fs::read_to_string(&global).unwrap();
    // Relative to the including file, as git resolves it.
    text.push_str("[includeIf \"hasconfig:remote.*.url:https://gitlab.example.com/work/**\"]\n\tpath = work.inc\n");
    std::fs::write(&global, text).unwrap();

    // No remote yet: nothing included (git config --get fails, ours falls back).
    let out = repo.git_output(["config", "--get", "release.description"]);
    assert!(!out.status.success());
    assert_eq!(
        repo.release(["config", "project.description"])
            .status
            .code(),
        Some(1),
        "unset, as for git"
    );

    repo.git([
        "remote",
        "add",
        "origin",
        "https://gitlab.example.com/work/group/proj.git",
    ]);
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!(git, "from work \"include\"\n");
    assert_eq!(ours, git);

    // A local value wins over the global include; -c wins over both.
    repo.git(["config", "release.description", "local"]);
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!((git.as_str(), ours.as_str()), ("local\n", "local\n"));
    repo.git(["config", "--unset", "release.description"]);

    // A URL that does not match the glob (`*` stops at `/`): not included.
    repo.git([
        "remote",
        "set-url",
        "origin",
        "https://gitlab.example.com/elsewhere/proj.git",
    ]);
    assert!(
        !repo
            .git_output(["config", "--get", "release.description"])
            .status
            .success()
    );
    assert_eq!(
        repo.release(["config", "project.description"])
            .status
            .code(),
        Some(1)
    );

    // The URL may come from the command line too, as git reads it.
    let (git, ours) = both(
        &repo,
        &[
            "-c",
            "remote.upstream.url=https://gitlab.example.com/work/x",
        ],
        &[],
    );
    assert_eq!(ours, git);
    assert_eq!(git, "from work \"include\"\n");
}

/// A file included by hasconfig may not set a remote URL: git refuses, and so do we.
#[test]
fn a_hasconfig_include_that_sets_a_remote_url_is_refused_as_git_refuses_it() {
    let env = Env::new();
    let repo = repo(&env);
    std::fs::write(
        env.path().join("bad.inc"),
        "[remote \"x\"]\n\turl = https://elsewhere/\n",
    )
    .unwrap();
    repo.git(["remote", "add", "origin", "https://host/proj.git"]);
    repo.git([
        "config",
        "--global",
        "includeIf.hasconfig:remote.*.url:https://host/**.path",
        "bad.inc",
    ]);
    assert!(
        !repo
            .git_output(["config", "--get", "user.name"])
            .status
            .success()
    );
    let err = repo.release_err(1, ["config", "project.name"]);
    assert!(err.contains("remote URLs cannot be configured"), "{err}");
}

#[test]
fn git_config_global_replaces_the_home_files() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["config", "--global", "release.description", "home"]);
    let other = env.path().join("other.gitconfig");
    std::fs::write(&other, "[release]\n\tdescription = elsewhere\n").unwrap();
    let other = other.to_str().unwrap();
    let (git, ours) = both(&repo, &[], &[("GIT_CONFIG_GLOBAL", other)]);
    assert_eq!(
        (git.as_str(), ours.as_str()),
        ("elsewhere\n", "elsewhere\n")
    );
}

/// `includeIf "gitdir:"` and `"onbranch:"` (libgit2 reads these itself; the reader must
/// keep doing so), with a relative path.
#[test]
fn include_if_gitdir_and_onbranch_still_apply() {
    let env = Env::new();
    let repo = repo(&env);
    std::fs::write(
        env.path().join("gitdir.inc"),
        "[release]\n\tdescription = by-gitdir\n",
    )
    .unwrap();
    std::fs::write(
        env.path().join("branch.inc"),
        "[release]\n\tdescription = by-branch\n",
    )
    .unwrap();
    repo.git([
        "config",
        "--global",
        "includeIf.gitdir:work/.path",
        "gitdir.inc",
    ]);
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!(
        (git.as_str(), ours.as_str()),
        ("by-gitdir\n", "by-gitdir\n")
    );
    repo.git([
        "config",
        "--global",
        "includeIf.onbranch:ma*.path",
        "branch.inc",
    ]);
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!(
        (git.as_str(), ours.as_str()),
        ("by-branch\n", "by-branch\n")
    );
    repo.git(["checkout", "-q", "-b", "topic"]);
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!(
        (git.as_str(), ours.as_str()),
        ("by-gitdir\n", "by-gitdir\n")
    );
}

/// The identity comes from `git -c user.name=…` as git takes it (when no GIT_AUTHOR_*
/// variable says otherwise).
#[test]
fn the_release_author_comes_from_git_dash_c() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["tag", "v1"]);
    // GIT_AUTHOR_* win over the configuration, as in git: remove them so user.* count.
    let out = stdout_ok(
        &repo
            .git_with_release(&[
                "-c",
                "user.name=Dash C 'Person'",
                "-c",
                "user.email=dash.c@example.com",
                "release",
                "create",
                "v1",
                "--json",
            ])
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .output()
            .unwrap(),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["author"]["name"], "Dash C 'Person'");
    assert_eq!(json["author"]["username"], "dash.c");
}

/// `core.logAllRefUpdates` from the command line decides whether the store's ref gets a
/// reflog exactly as it decides it for git's own notes refs (`git notes` is the oracle).
#[test]
fn the_store_reflog_follows_core_log_all_ref_updates_as_git_does() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["tag", "v1"]);
    repo.git(["tag", "v2"]);
    let logs = repo.path().join(".git/logs/refs/notes");
    let off = ["-c", "core.logAllRefUpdates=false"];
    let run = |git_args: &[&str], command: &[&str], vars: &[(&str, &str)]| {
        let mut args = git_args.to_vec();
        args.extend(command);
        stdout_ok(&git_with_release(&repo, &args, vars));
    };

    run(&off, &["notes", "--ref=oracle", "add", "-m", "x"], &[]);
    run(&off, &["release", "create", "v1"], &[]);
    assert!(!logs.join("oracle").exists(), "git made no reflog");
    assert!(!logs.join("releases").exists(), "nor do we");
    assert!(repo.ref_exists("refs/notes/releases"));

    // Unset (the default outside a bare repository): a reflog, for git and for us.
    run(&[], &["notes", "--ref=oracle2", "add", "-m", "x"], &[]);
    run(&[], &["release", "create", "v2"], &[]);
    assert!(logs.join("oracle2").exists());
    let log = std::fs::read_to_string(logs.join("releases")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");

    // A log that exists is appended to whatever the setting, as git's files backend does.
    run(
        &off,
        &["notes", "--ref=oracle2", "add", "-f", "-m", "y"],
        &[],
    );
    run(&off, &["release", "update", "v2", "--name", "Two"], &[]);
    let oracle = std::fs::read_to_string(logs.join("oracle2")).unwrap();
    assert_eq!(oracle.lines().count(), 2, "{oracle}");
    let log = std::fs::read_to_string(logs.join("releases")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
}

/// In a bare repository no reflog is made by default; `always` from GIT_CONFIG_COUNT
/// makes one, for git and for us.
#[test]
fn a_bare_repository_gets_a_reflog_only_when_git_config_count_says_always() {
    let env = Env::new();
    let work = repo(&env);
    work.git(["tag", "v1"]);
    work.git(["tag", "v2"]);
    let bare_dir = env.path().join("bare.git");
    work.git(["clone", "-q", "--bare", ".", bare_dir.to_str().unwrap()]);
    let bare = env.at(&bare_dir);
    let logs = bare_dir.join("logs/refs/notes");
    let run = |command: &[&str], vars: &[(&str, &str)]| {
        stdout_ok(&git_with_release(&bare, command, vars));
    };

    run(&["notes", "--ref=oracle", "add", "-m", "x", "v1"], &[]);
    run(&["release", "create", "v1"], &[]);
    assert!(!logs.join("oracle").exists() && !logs.join("releases").exists());

    let always = [
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "core.logAllRefUpdates"),
        ("GIT_CONFIG_VALUE_0", "always"),
    ];
    run(&["notes", "--ref=oracle2", "add", "-m", "x", "v2"], &always);
    run(&["release", "create", "v2"], &always);
    assert!(logs.join("oracle2").exists(), "git made a reflog");
    assert!(logs.join("releases").exists(), "and so do we");
}

/// A `core.logAllRefUpdates` git cannot read: git refuses to write, and so do we,
/// before anything is written.
#[test]
fn a_bad_core_log_all_ref_updates_is_refused_before_anything_is_written() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["tag", "v1"]);
    let bad = ["-c", "core.logAllRefUpdates=maybe"];
    let mut args = bad.to_vec();
    args.extend(["notes", "--ref=oracle", "add", "-m", "x"]);
    let git = git_with_release(&repo, &args, &[]);
    assert!(!git.status.success(), "git refuses it");
    let mut args = bad.to_vec();
    args.extend(["release", "create", "v1"]);
    let ours = git_with_release(&repo, &args, &[]);
    assert_eq!(ours.status.code(), Some(1));
    let err = String::from_utf8_lossy(&ours.stderr);
    assert!(
        err.contains("'maybe'") && err.to_lowercase().contains("core.logallrefupdates"),
        "{err}"
    );
    assert!(!repo.ref_exists("refs/notes/releases"));
    assert!(!repo.path().join(".git/logs/refs/notes/releases").exists());
}

/// Conditions git does not know (there is no `worktree:` one) include nothing, as in
/// git; `gitdir:` in a linked worktree matches the worktree's own git directory.
#[test]
fn unknown_include_conditions_are_false_and_gitdir_sees_a_linked_worktree() {
    let env = Env::new();
    let repo = repo(&env);
    std::fs::write(
        env.path().join("never.inc"),
        "[release]\n\tdescription = never\n",
    )
    .unwrap();
    std::fs::write(
        env.path().join("linked.inc"),
        "[release]\n\tdescription = linked\n",
    )
    .unwrap();
    repo.git(["config", "--global", "release.description", "plain"]);
    for condition in ["worktree:**", "worktree:work", "bogus:x", "GITDIR:**/work/"] {
        repo.git([
            "config",
            "--global",
            "--add",
            &format!("includeIf.{condition}.path"),
            "never.inc",
        ]);
    }
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!((git.as_str(), ours.as_str()), ("plain\n", "plain\n"));

    let linked_dir = env.path().join("linked");
    repo.git([
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        linked_dir.to_str().unwrap(),
    ]);
    repo.git([
        "config",
        "--global",
        "includeIf.gitdir:**/.git/worktrees/linked.path",
        "linked.inc",
    ]);
    let linked = env.at(&linked_dir);
    let (git, ours) = both(&linked, &[], &[]);
    assert_eq!((git.as_str(), ours.as_str()), ("linked\n", "linked\n"));
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!((git.as_str(), ours.as_str()), ("plain\n", "plain\n"));
}

/// The global file with one `includeIf` of `condition` appended, including a file that
/// sets release.description to "included" (the global file sets it to "base" first).
fn with_include(env: &Env, original: &str, condition: &str) {
    std::fs::write(
        env.path().join("cond.inc"),
        "[release]\n\tdescription = included\n",
    )
    .unwrap();
    let text = format!(
        "{original}[release]\n\tdescription = base\n[includeIf \"{condition}\"]\n\tpath = cond.inc\n"
    );
    std::fs::write(env.path().join(".gitconfig"), text).unwrap();
}

/// Every condition git knows (`gitdir:`, `gitdir/i:`, `onbranch:`, `hasconfig:remote.*.url:`),
/// in the forms git-config(1) documents — globs, `~/`, `./` (relative to the including
/// file), a trailing `/`, case folding — decides as `git config` decides; conditions git
/// does not know (there is no `worktree:`) include nothing.
#[test]
fn every_include_condition_decides_as_git_config_decides() {
    let env = Env::new();
    let repo = repo(&env);
    repo.git(["checkout", "-q", "-b", "feature/x"]);
    repo.git([
        "remote",
        "add",
        "origin",
        "https://Host.example/group/proj.git",
    ]);
    let original = std::fs::read_to_string(env.path().join(".gitconfig")).unwrap();
    let cases: &[(&str, bool)] = &[
        ("gitdir:work/", true),
        ("gitdir:WORK/", false),
        ("gitdir/i:WORK/", true),
        ("gitdir:**/work/.git", true),
        ("gitdir:**/work", false),
        ("gitdir:~/work/", true),
        ("gitdir:~/wo*/", true),
        ("gitdir:./work/", true),
        ("gitdir/i:./WORK/", true),
        ("gitdir:./", true),
        ("gitdir:./other/", false),
        ("gitdir:/nonexistent/", false),
        ("gitdir:*/work/", true),
        ("gitdir:/*/work/", false),
        ("onbranch:feature/", true),
        ("onbranch:feature/*", true),
        ("onbranch:feature", false),
        ("onbranch:Feature/x", false),
        ("onbranch:**", true),
        ("onbranch:feat*", false),
        ("hasconfig:remote.*.url:https://Host.example/**", true),
        ("hasconfig:remote.*.url:https://Host.example/*", false),
        ("hasconfig:remote.*.url:https://host.example/**", false),
        ("hasconfig:remote.*.url:*://Host.example/group/*.git", true),
        ("worktree:**", false),
        ("GITDIR:**", false),
    ];
    for (condition, expected) in cases {
        with_include(&env, &original, condition);
        let (git, ours) = both(&repo, &[], &[]);
        let want = if *expected { "included\n" } else { "base\n" };
        assert_eq!(git, want, "git itself, {condition:?}");
        assert_eq!(ours, git, "{condition:?}");
    }
    // A detached HEAD is on no branch.
    repo.git(["checkout", "-q", "--detach"]);
    with_include(&env, &original, "onbranch:**");
    let (git, ours) = both(&repo, &[], &[]);
    assert_eq!((git.as_str(), ours.as_str()), ("base\n", "base\n"));
}

/// `gitdir:~/link/` where `~/link` is a symbolic link: git matches the path as `$PWD`
/// spells it when run at the top of the work tree (its git directory is then `.git`,
/// relative), and the resolved path below it; so do we.
#[cfg(unix)]
#[test]
fn gitdir_through_a_symbolic_link_matches_as_git_matches_it() {
    let env = Env::new();
    let repo = repo(&env);
    std::fs::create_dir(repo.path().join("sub")).unwrap();
    std::os::unix::fs::symlink(env.path(), env.path().join("link")).unwrap();
    let original = std::fs::read_to_string(env.path().join(".gitconfig")).unwrap();
    with_include(&env, &original, "gitdir:~/link/");
    let run = |dir: &std::path::Path, args: &[&str]| {
        let mut cmd = repo.git_with_release(args);
        cmd.current_dir(dir).env("PWD", dir);
        stdout_ok(&cmd.output().unwrap())
    };
    for (dir, expected) in [
        (env.path().join("link/work"), "included\n"),
        (env.path().join("link/work/sub"), "base\n"),
        (env.path().join("work"), "base\n"),
    ] {
        let git = run(&dir, &["config", "--get", "release.description"]);
        let ours = run(&dir, &["release", "config", "project.description"]);
        assert_eq!(git, expected, "git itself in {}", dir.display());
        assert_eq!(ours, git, "in {}", dir.display());
    }
}

/// Once a `hasconfig:` include makes git collect the remote URLs, a URL set in any file an
/// `includeIf` brought in — `gitdir:`/`onbranch:` ones too, and `hasconfig:` files whose
/// glob does not match — is fatal; one from a plain `include.path` counts.
#[test]
fn remote_urls_in_conditional_includes_are_refused_as_git_refuses_them() {
    let env = Env::new();
    let repo = repo(&env);
    let original = std::fs::read_to_string(env.path().join(".gitconfig")).unwrap();
    std::fs::write(
        env.path().join("url.inc"),
        "[remote \"origin\"]\n\turl = https://host/x\n",
    )
    .unwrap();
    std::fs::write(
        env.path().join("hc.inc"),
        "[release]\n\tdescription = by-url\n",
    )
    .unwrap();
    let refused = [
        "[includeIf \"gitdir:**/work/\"]\n\tpath = url.inc\n\
         [includeIf \"hasconfig:remote.*.url:https://nomatch/*\"]\n\tpath = hc.inc\n",
        "[includeIf \"onbranch:main\"]\n\tpath = url.inc\n\
         [includeIf \"hasconfig:remote.*.url:https://host/*\"]\n\tpath = hc.inc\n",
        "[includeIf \"hasconfig:remote.*.url:https://nomatch/*\"]\n\tpath = url.inc\n",
    ];
    for text in refused {
        std::fs::write(env.path().join(".gitconfig"), format!("{original}{text}")).unwrap();
        let git = repo.git_output(["config", "--get", "release.description"]);
        assert!(!git.status.success(), "git refuses:\n{text}");
        assert!(
            String::from_utf8_lossy(&git.stderr).contains("remote URLs cannot be configured"),
            "{}",
            String::from_utf8_lossy(&git.stderr)
        );
        let err = repo.release_err(1, ["config", "project.description"]);
        assert!(
            err.contains("remote URLs cannot be configured"),
            "{text}\n{err}"
        );
    }
    let accepted = [
        "[include]\n\tpath = url.inc\n\
         [includeIf \"hasconfig:remote.*.url:https://host/*\"]\n\tpath = hc.inc\n",
        // Without a hasconfig include git collects nothing, and refuses nothing.
        "[includeIf \"gitdir:**/work/\"]\n\tpath = url.inc\n[release]\n\tdescription = by-url\n",
    ];
    for text in accepted {
        std::fs::write(env.path().join(".gitconfig"), format!("{original}{text}")).unwrap();
        let (git, ours) = both(&repo, &[], &[]);
        assert_eq!(
            (git.as_str(), ours.as_str()),
            ("by-url\n", "by-url\n"),
            "{text}"
        );
    }
}
