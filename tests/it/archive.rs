//! `git release archive`: every format byte for byte equal to plain `git archive` (the
//! oracle), on a fixture repository with every edge case and on random trees.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git_release::archive::{self, Format, Mode};

use crate::support::{Env, Repo, git_archive, sha256};

const FORMATS: [&str; 4] = ["zip", "tar.gz", "tar.bz2", "tar"];

fn fixture(env: &Env) -> Repo<'_> {
    let dir = env.path().join("proj");
    let mut cmd = Command::new("bash");
    env.apply(&mut cmd);
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/archive-edge-cases.sh"))
        .arg(&dir);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "fixture failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.at(dir)
}

/// Asserts byte identity; on a difference, shows scripts/archive-diff's verdict.
fn assert_identical(ours: &[u8], git: &[u8], what: &str) {
    if ours == git {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("git"), dir.path().join("ours"));
    std::fs::write(&a, git).unwrap();
    std::fs::write(&b, ours).unwrap();
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/archive-diff");
    let detail = Command::new("python3")
        .arg(&tool)
        .arg(&a)
        .arg(&b)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    panic!(
        "{what}: our archive differs from git's ({} vs {} bytes)\n{detail}",
        ours.len(),
        git.len()
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn every_format_matches_git_for_annotated_lightweight_and_slashed_tags() {
    let env = Env::new();
    let repo = fixture(&env);
    for tag in ["v1.0", "v1.1-light", "release/2.0"] {
        let base = format!("proj-{}", tag.replace('/', "-"));
        let out_dir = env.path().join("out").join(tag.replace('/', "_"));
        let stdout = repo.release_ok([
            "archive",
            tag,
            "--format",
            "all",
            "--output-dir",
            out_dir.to_str().unwrap(),
        ]);
        for format in FORMATS {
            let path = out_dir.join(format!("{base}.{format}"));
            let ours = std::fs::read(&path).unwrap();
            assert_identical(
                &ours,
                &git_archive(&repo, format, &format!("{base}/"), tag),
                &format!("{tag} {format}"),
            );
            let line = format!("{}  {}", sha256(&ours), path.display());
            assert!(
                stdout.lines().any(|l| l == line),
                "missing {line:?} in:\n{stdout}"
            );
        }
        assert_eq!(
            files_in(&out_dir).len(),
            4,
            "only the four archives, no leftovers"
        );
    }
}

#[test]
fn prefixes_are_used_verbatim_like_git() {
    let env = Env::new();
    let repo = fixture(&env);
    // A doubled slash is collapsed only in the prefix's own directory entry; without a
    // trailing slash the prefix is glued to each name and has no entry.
    for prefix in ["p//", "glued-", "a/b/", ""] {
        let out = env.path().join("x.tar");
        let arg = format!("--prefix={prefix}");
        repo.release_ok([
            "archive",
            "v1.0",
            "--format=tar",
            &arg,
            "-o",
            out.to_str().unwrap(),
            "--force",
        ]);
        let ours = std::fs::read(&out).unwrap();
        assert_identical(
            &ours,
            &git_archive(&repo, "tar", prefix, "v1.0"),
            &format!("prefix {prefix:?}"),
        );
    }
}

#[test]
fn stdout_output_is_the_archive_alone() {
    let env = Env::new();
    let repo = fixture(&env);
    for (format, alias) in [("zip", "zip"), ("tar.bz2", "tbz2"), ("tar.gz", "tgz")] {
        let out = repo.release(["archive", "v1.0", "--format", alias, "-o", "-"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_identical(
            &out.stdout,
            &git_archive(&repo, format, "proj-v1.0/", "v1.0"),
            format,
        );
    }
    assert!(
        files_in(repo.path())
            .iter()
            .all(|n| !n.starts_with("proj-")),
        "-o - wrote a file"
    );
}

#[test]
fn default_format_is_tar_gz_named_after_project_and_tag() {
    let env = Env::new();
    let repo = fixture(&env);
    let out = repo.release(["archive", "v1.0"]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "no progress or notices off a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = std::fs::read(repo.path().join("proj-v1.0.tar.gz")).unwrap();
    assert_identical(
        &ours,
        &git_archive(&repo, "tar.gz", "proj-v1.0/", "v1.0"),
        "default",
    );
}

/// The configuration that changes git's output: autocrlf, info/attributes, a global
/// attributes file, tar.umask, and the time zone for zip times.
fn configure_locally(env: &mut Env, dir: &Path) {
    let global = env.path().join("global-attributes");
    std::fs::write(&global, "*.bin text\n").unwrap();
    {
        let repo = env.at(dir.to_path_buf());
        repo.git(["config", "core.autocrlf", "true"]);
        repo.git(["config", "tar.umask", "0022"]);
        std::fs::write(
            dir.join(".git/info/attributes"),
            "plain.txt eol=crlf\nrun.sh export-ignore\n",
        )
        .unwrap();
        repo.git(["config", "core.attributesFile", global.to_str().unwrap()]);
    }
    env.set("TZ", "Asia/Tokyo");
}

#[test]
fn canonical_archives_ignore_local_configuration_and_time_zone() {
    let mut env = Env::new();
    let repo = fixture(&env);
    let clean: Vec<_> = ["tar.gz", "zip"]
        .iter()
        .map(|f| git_archive(&repo, f, "proj-v1.0/", "v1.0"))
        .collect();
    let repo_dir = repo.path().to_path_buf();
    drop(repo);
    configure_locally(&mut env, &repo_dir);
    let repo = env.at(repo_dir);
    assert_ne!(
        git_archive(&repo, "zip", "proj-v1.0/", "v1.0"),
        clean[1],
        "the configuration matters to git"
    );
    for (format, clean) in ["tar.gz", "zip"].iter().zip(&clean) {
        let out = repo.release(["archive", "v1.0", "--format", format, "-o", "-"]);
        assert_identical(&out.stdout, clean, format);
    }
}

#[test]
fn local_config_archives_match_the_local_git() {
    let mut env = Env::new();
    let repo_dir = fixture(&env).path().to_path_buf();
    configure_locally(&mut env, &repo_dir);
    let repo = env.at(repo_dir);
    for format in ["tar", "zip"] {
        let out = repo.release([
            "archive",
            "v1.1-light",
            "--local-config",
            "--format",
            format,
            "-o",
            "-",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_identical(
            &out.stdout,
            &git_archive(&repo, format, "proj-v1.1-light/", "v1.1-light"),
            format,
        );
    }
}

#[test]
fn files_above_the_big_file_threshold_are_streamed_like_git() {
    let env = Env::new();
    let repo = env.repo("big");
    // Incompressible bytes: git deflates a streamed file even when that makes it larger.
    let mut x = 0x2545_f491_u32;
    let noise: Vec<u8> = (0..3000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let numbers: String = (1..2000).map(|n| format!("{n}\n")).collect();
    repo.write("noise.bin", &noise);
    repo.commit(
        "big",
        &[
            (".gitattributes", "*.txt eol=crlf\n"),
            ("numbers.txt", &numbers),
            ("small.txt", "a\nb\n"),
        ],
    );
    repo.git(["tag", "v1"]);
    repo.git(["config", "core.bigFileThreshold", "1000"]);
    for format in ["zip", "tar"] {
        let out = repo.release([
            "archive",
            "v1",
            "--local-config",
            "--format",
            format,
            "-o",
            "-",
        ]);
        assert_identical(
            &out.stdout,
            &git_archive(&repo, format, "big-v1/", "v1"),
            format,
        );
    }
}

#[test]
fn library_digests_equal_the_sha256_of_gits_archives() {
    let env = Env::new();
    let repo = fixture(&env);
    let lib_repo = git_release::Repo::discover(repo.path()).unwrap();
    let report = archive::digests(
        &lib_repo,
        "v1.0",
        "proj-v1.0/",
        Mode::Canonical,
        &Format::ALL,
    )
    .unwrap();
    assert_eq!(report.commit, repo.rev("v1.0^{commit}"));
    for written in &report.outputs {
        let git = git_archive(&repo, written.format.extension(), "proj-v1.0/", "v1.0");
        assert_eq!(written.sha256, sha256(&git), "{}", written.format);
        assert_eq!(written.size, git.len() as u64);
    }
    let tar = report.tar.expect("tar digest");
    assert_eq!(
        tar.sha256,
        sha256(&git_archive(&repo, "tar", "proj-v1.0/", "v1.0"))
    );
}

#[test]
fn checksums_file_lists_each_archive_by_name() {
    let env = Env::new();
    let repo = fixture(&env);
    let sums = env.path().join("SHA256SUMS");
    let out = env.path().join("dist");
    repo.release_ok([
        "archive",
        "v1.0",
        "--format=all",
        "--output-dir",
        out.to_str().unwrap(),
        "--checksums",
        sums.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&sums).unwrap();
    let expected: String = ["zip", "tar.gz", "tar.bz2", "tar"]
        .iter()
        .map(|f| {
            let name = format!("proj-v1.0.{f}");
            format!(
                "{}  {name}\n",
                sha256(&std::fs::read(out.join(&name)).unwrap())
            )
        })
        .collect();
    assert_eq!(text, expected);
}

#[test]
fn our_zip_reads_back_with_the_zip_crate() {
    let env = Env::new();
    let repo = fixture(&env);
    let out = repo.release(["archive", "v1.0", "--format", "zip", "-o", "-"]);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(out.stdout)).unwrap();
    let mut text = String::new();
    zip.by_name("proj-v1.0/script.bat")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "hello\r\nworld\r\n", "eol=crlf applied");
    let mut big = Vec::new();
    zip.by_name("proj-v1.0/big-text.txt")
        .unwrap()
        .read_to_end(&mut big)
        .unwrap();
    assert_eq!(big, repo.git_raw(["cat-file", "blob", "v1.0:big-text.txt"]));
}

#[test]
fn unknown_tag_fails_and_writes_nothing() {
    let env = Env::new();
    let repo = fixture(&env);
    let before = files_in(repo.path());
    let err = repo.release_err(1, ["archive", "v9.9"]);
    assert!(
        err.contains("\"v9.9\"") && err.contains("no such tag"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(files_in(repo.path()), before);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let env = Env::new();
    let repo = fixture(&env);
    let err = repo.release_err(2, ["archive", "v1.0", "--format", "rar"]);
    assert!(err.contains("unknown archive format \"rar\""), "{err}");
}

#[test]
fn existing_file_is_refused_without_force_and_left_untouched() {
    let env = Env::new();
    let repo = fixture(&env);
    let target = repo.path().join("proj-v1.0.zip");
    std::fs::write(&target, "precious").unwrap();
    let before = files_in(repo.path());
    let err = repo.release_err(1, ["archive", "v1.0", "--format", "zip"]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert_eq!(files_in(repo.path()), before, "no temporary file left");
    repo.release_ok(["archive", "v1.0", "--format", "zip", "--force"]);
    assert_identical(
        &std::fs::read(&target).unwrap(),
        &git_archive(&repo, "zip", "proj-v1.0/", "v1.0"),
        "forced",
    );
    assert_eq!(files_in(repo.path()), before);
}

#[test]
fn unwritable_output_fails_cleanly() {
    let env = Env::new();
    let repo = fixture(&env);
    let missing = env.path().join("no-such-dir").join("x.tar");
    let err = repo.release_err(1, ["archive", "v1.0", "-o", missing.to_str().unwrap()]);
    assert!(
        err.contains("cannot write") && err.contains("x.tar"),
        "{err}"
    );
    // A directory we cannot write into (unless running as root, who can).
    let ro = env.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::write(ro.join("keep"), "x").unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(&ro, perms).unwrap();
    let out = repo.release([
        "archive",
        "v1.0",
        "--format=all",
        "--output-dir",
        ro.to_str().unwrap(),
    ]);
    if !out.status.success() {
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
        assert_eq!(files_in(&ro), ["keep"]);
    }
}

#[test]
fn missing_object_fails_naming_the_path_and_leaves_no_file() {
    let env = Env::new();
    let repo = env.repo("broken");
    repo.commit(
        "one",
        &[("a.txt", "present\n"), ("gone.txt", "soon missing\n")],
    );
    repo.git(["tag", "v1"]);
    let blob = repo.rev("v1:gone.txt");
    std::fs::remove_file(
        repo.path()
            .join(".git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    let before = files_in(repo.path());
    let err = repo.release_err(1, ["archive", "v1", "--format", "all"]);
    assert!(err.contains(&blob) && err.contains("gone.txt"), "{err}");
    assert_eq!(
        files_in(repo.path()),
        before,
        "no archive or temporary file left"
    );
}

#[test]
fn an_unreadable_object_is_not_reported_as_missing() {
    let env = Env::new();
    let repo = env.repo("corrupt");
    repo.commit(
        "one",
        &[("a.txt", "present\n"), ("bad.txt", "soon corrupt\n")],
    );
    repo.git(["tag", "-a", "-m", "annotated", "v1"]);
    repo.git(["tag", "-a", "-m", "annotated", "v2"]);
    let objects = repo.path().join(".git/objects");
    let loose = |oid: &str| objects.join(&oid[..2]).join(&oid[2..]);
    // A blob whose bytes are garbage: an error reading it, named with libgit2's words.
    let blob = repo.rev("v1:bad.txt");
    let path = loose(&blob);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"not zlib at all").unwrap();
    let err = repo.release_err(1, ["archive", "v1", "--format", "tar", "-o", "-"]);
    assert!(err.contains(&blob) && err.contains("bad.txt"), "{err}");
    assert!(
        !err.contains("missing"),
        "a corrupt object is not a missing one: {err}"
    );
    // A tag whose tag object is gone: the tag exists, so it is not "no such tag".
    let tag_object = repo.rev("refs/tags/v2");
    std::fs::remove_file(loose(&tag_object)).unwrap();
    let err = repo.release_err(1, ["archive", "v2", "--format", "tar", "-o", "-"]);
    assert!(
        err.contains("refs/tags/v2 exists") && !err.contains("no such tag"),
        "{err}"
    );
}

#[test]
fn replaced_blobs_are_archived_as_git_archives_them() {
    let env = Env::new();
    let repo = env.repo("replaced");
    repo.commit("one", &[("a.txt", "original\n"), ("b.txt", "other\n")]);
    repo.git(["tag", "v1"]);
    // refs/replace/<a.txt's blob> -> b.txt's blob: git archive honours it.
    let (a, b) = (repo.rev("v1:a.txt"), repo.rev("v1:b.txt"));
    repo.git(["replace", &a, &b]);
    let out = repo.release([
        "archive", "v1", "--format", "tar", "--prefix", "x/", "-o", "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let git = git_archive(&repo, "tar", "x/", "v1");
    assert!(
        git.windows(6).any(|w| w == b"other\n"),
        "git used the replacement"
    );
    assert_identical(&out.stdout, &git, "replaced blob");
}

/// `git -c core.useReplaceRefs=false` turns replacements off for git archive, and for us.
#[test]
fn replace_refs_turned_off_by_git_dash_c_are_ignored_as_git_ignores_them() {
    let env = Env::new();
    let repo = env.repo("replaced");
    repo.commit("one", &[("a.txt", "original\n"), ("b.txt", "other\n")]);
    repo.git(["tag", "v1"]);
    let (a, b) = (repo.rev("v1:a.txt"), repo.rev("v1:b.txt"));
    repo.git(["replace", &a, &b]);
    let off = ["-c", "core.useReplaceRefs=false"];
    let run = |command: &[&str]| {
        let mut args = off.to_vec();
        args.extend(command);
        let out = repo.git_with_release(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let git = run(&["archive", "--format=tar", "--prefix=x/", "v1"]);
    assert!(git.windows(9).any(|w| w == b"original\n"), "git ignored it");
    let ours = run(&[
        "release", "archive", "v1", "--format", "tar", "--prefix", "x/", "-o", "-",
    ]);
    assert_identical(&ours, &git, "replacements off");
}

/// A partial clone's missing blobs are fetched on demand, as `git archive` fetches them,
/// whichever way the clone says it has a promisor remote: `remote.<name>.promisor` in
/// its file (what `git clone --filter` writes today), from `git -c`, or the
/// `extensions.partialClone` older gits wrote.
#[test]
fn a_partial_clone_archives_its_missing_blobs_as_git_does() {
    let env = Env::new();
    let origin = env.repo("origin");
    origin.commit("one", &[("a.txt", "alpha\n"), ("dir/b.txt", "beta\n")]);
    origin.git(["tag", "v1"]);
    origin.git(["config", "uploadpack.allowFilter", "true"]);
    let url = format!("file://{}", origin.path().display());
    let partial_clone = |name: &str| {
        let dir = env.path().join(name);
        origin.git([
            "clone",
            "-q",
            "--bare",
            "--filter=blob:none",
            &url,
            dir.to_str().unwrap(),
        ]);
        env.at(dir)
    };
    // Listed without fetching them (`cat-file -e` would fetch).
    let missing = |clone: &Repo| {
        clone
            .git(["rev-list", "--objects", "--missing=print", "v1"])
            .lines()
            .filter(|line| line.starts_with('?'))
            .count()
    };
    let archive = |clone: &Repo, git_args: &[&str], release: bool| {
        let mut args = git_args.to_vec();
        if release {
            args.extend([
                "release", "archive", "v1", "--format", "tar", "--prefix", "x/",
            ]);
            args.extend(["-o", "-"]);
        } else {
            args.extend(["archive", "--format=tar", "--prefix=x/", "v1"]);
        }
        let out = clone.git_with_release(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let reference = git_archive(&origin, "tar", "x/", "v1");

    let as_cloned = partial_clone("as-cloned");
    assert_eq!(
        as_cloned.git(["config", "remote.origin.promisor"]).trim(),
        "true"
    );
    assert_eq!(missing(&as_cloned), 2, "the blobs are not in the clone yet");
    assert_identical(&archive(&as_cloned, &[], true), &reference, "as cloned");
    assert_eq!(missing(&as_cloned), 0, "fetched on demand");

    let by_dash_c = partial_clone("by-dash-c");
    by_dash_c.git(["config", "--unset", "remote.origin.promisor"]);
    let promisor = ["-c", "remote.origin.promisor=true"];
    let ours = archive(&by_dash_c, &promisor, true);
    assert_identical(&ours, &archive(&by_dash_c, &promisor, false), "git -c");
    assert_identical(&ours, &reference, "git -c");

    let by_extension = partial_clone("by-extension");
    by_extension.git(["config", "--unset", "remote.origin.promisor"]);
    by_extension.git(["config", "extensions.partialClone", "origin"]);
    assert_eq!(missing(&by_extension), 2);
    assert_identical(&archive(&by_extension, &[], true), &reference, "extension");
}

#[test]
fn git_lfs_objects_replace_pointers_when_present() {
    let env = Env::new();
    let repo = env.repo("lfs");
    let real = b"the real large file\n".repeat(100);
    let oid = sha256(&real);
    let present = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {}\n",
        real.len()
    );
    let missing_oid = "0".repeat(64);
    let absent =
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{missing_oid}\nsize 5\n");
    repo.commit(
        "lfs",
        &[
            (
                ".gitattributes",
                "*.dat filter=lfs diff=lfs merge=lfs -text\n",
            ),
            ("a.dat", &present),
            ("b.dat", &absent),
        ],
    );
    repo.git(["tag", "v1"]);
    let dir: PathBuf = repo
        .path()
        .join(".git/lfs/objects")
        .join(&oid[0..2])
        .join(&oid[2..4]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&oid), &real).unwrap();

    let out = repo.release(["archive", "v1", "--format", "tar", "-o", "-"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("b.dat") && stderr.contains(&missing_oid),
        "{stderr}"
    );
    let mut contents = std::collections::HashMap::new();
    for entry in tar::Archive::new(&out.stdout[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        contents.insert(entry.path().unwrap().to_string_lossy().into_owned(), data);
    }
    assert_eq!(contents["lfs-v1/a.dat"], real);
    assert_eq!(contents["lfs-v1/b.dat"], absent.as_bytes());
}

mod random_trees {
    //! Random trees (names, modes, sizes, contents, symlinks, attributes) built with
    //! `git fast-import`, archived by git and by us.
    use proptest::prelude::*;

    use super::*;

    const DIRS: [&str; 5] = [
        "",
        "d/",
        "d/sub dir/",
        "ünï/",
        "a-very-long-directory-name-to-push-paths-past-one-hundred-bytes/and-another-level-of-it-too/",
    ];
    const NAMES: [&str; 8] = [
        "f",
        "-early",
        "Ünïcode ✓",
        "x.txt",
        "run.sh",
        "data.bin",
        "crlf.bat",
        "n",
    ];
    const ATTRS: [&str; 6] = [
        "*.txt text eol=crlf",
        "*.bat eol=crlf",
        "*.bin binary",
        "d/ export-ignore",
        "*.sh ident",
        "x.txt export-ignore",
    ];

    #[derive(Debug, Clone)]
    enum Node {
        File { exec: bool, content: Vec<u8> },
        Link(String),
        Gitlink,
    }

    fn content() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..3000),
            proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'$')],
                0..5000
            ),
            (0usize..40_000).prop_map(|n| b"line of text\n"
                .iter()
                .copied()
                .cycle()
                .take(n)
                .collect()),
        ]
    }

    fn node() -> impl Strategy<Value = Node> {
        prop_oneof![
            4 => (any::<bool>(), content()).prop_map(|(exec, content)| Node::File { exec, content }),
            1 => (1usize..160).prop_map(|n| Node::Link("t".repeat(n))),
            1 => Just(Node::Gitlink),
        ]
    }

    /// Directory index, name index, name variant, what the path holds.
    type Spec = (usize, usize, u8, Node);

    fn tree() -> impl Strategy<Value = (Vec<Spec>, Vec<bool>)> {
        (
            proptest::collection::vec((0..DIRS.len(), 0..NAMES.len(), 0u8..3, node()), 1..12),
            proptest::collection::vec(any::<bool>(), ATTRS.len()),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn random_trees_match_git((files, attrs) in tree()) {
            let env = Env::new();
            let repo = env.repo("rnd");
            let mut stream = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            let mut commands = Vec::new();
            let mut gitlinks = Vec::new();
            let attributes: String = ATTRS.iter().zip(&attrs).filter(|(_, on)| **on).map(|(a, _)| format!("{a}\n")).collect();
            commands.push(("100644".to_owned(), ".gitattributes".to_owned(), attributes.into_bytes()));
            for (dir, name, variant, node) in &files {
                let path = format!("{}{}{}", DIRS[*dir], NAMES[*name], if *variant == 0 { String::new() } else { variant.to_string() });
                if !seen.insert(path.clone()) {
                    continue;
                }
                match node {
                    Node::File { exec, content } => commands.push((if *exec { "100755" } else { "100644" }.to_owned(), path, content.clone())),
                    Node::Link(target) => commands.push(("120000".to_owned(), path, target.clone().into_bytes())),
                    Node::Gitlink => gitlinks.push(path),
                }
            }
            stream.extend_from_slice(b"commit refs/heads/main\ncommitter C <c@x> 1710135045 -0700\ndata 4\nrand\n");
            for (mode, path, data) in &commands {
                stream.extend_from_slice(format!("M {mode} inline \"{}\"\ndata {}\n", path.replace('\\', "\\\\").replace('"', "\\\""), data.len()).as_bytes());
                stream.extend_from_slice(data);
                stream.push(b'\n');
            }
            for path in &gitlinks {
                stream.extend_from_slice(format!("M 160000 {} \"{path}\"\n", "12".repeat(20)).as_bytes());
            }
            stream.extend_from_slice(b"\n");
            let mut cmd = repo.git_command(["fast-import", "--quiet"]);
            let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(&stream).unwrap();
            prop_assert!(child.wait().unwrap().success());
            repo.git(["tag", "-a", "-m", "t", "v1", "main"]);
            for format in FORMATS {
                let out = repo.release(["archive", "v1", "--format", format, "-o", "-", "--prefix", "r/"]);
                prop_assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                assert_identical(&out.stdout, &git_archive(&repo, format, "r/", "v1"), format);
            }
        }
    }
}

#[test]
fn archive_latest_and_configured_formats_and_download_sources_match_git() {
    let env = Env::new();
    let repo = env.repo("proj");
    repo.commit("one", &[("a.txt", "one\n"), ("bin/run.sh", "#!/bin/sh\n")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD"]);
    repo.commit("two", &[("b.txt", "two\n")]);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--tag-message", "Two"]);
    let git_archive = |format: &str, tag: &str| {
        repo.git_raw([
            "archive",
            &format!("--format={format}"),
            &format!("--prefix=proj-{tag}/"),
            tag,
        ])
    };

    // `latest` is v2; with archive.formats configured, those are the defaults.
    repo.git(["config", "release.archiveFormats", "zip,tar"]);
    repo.release_ok(["archive", "latest", "--output-dir", "out"]);
    assert_eq!(
        std::fs::read(repo.path().join("out/proj-v2.zip")).unwrap(),
        git_archive("zip", "v2")
    );
    assert_eq!(
        std::fs::read(repo.path().join("out/proj-v2.tar")).unwrap(),
        git_archive("tar", "v2")
    );
    assert!(!repo.path().join("out/proj-v2.tar.gz").exists());
    repo.git(["config", "--unset", "release.archiveFormats"]);
    repo.release_ok(["archive", "v1", "--output-dir", "out"]);
    assert_eq!(
        std::fs::read(repo.path().join("out/proj-v1.tar.gz")).unwrap(),
        git_archive("tar.gz", "v1")
    );

    // download --sources writes the four, as GitLab serves them.
    let out = repo.release_ok(["download", "v1", "--sources", "-D", "dl"]);
    for format in ["zip", "tar.gz", "tar"] {
        let path = repo.path().join(format!("dl/proj-v1.{format}"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            git_archive(format, "v1"),
            "{format}"
        );
    }
    let tar_bz2 = std::fs::read(repo.path().join("dl/proj-v1.tar.bz2")).unwrap();
    assert!(tar_bz2.starts_with(b"BZh9"));
    assert_eq!(out.lines().count(), 4, "{out}");
    // Existing files are refused without --force, and nothing is half written.
    let err = repo.release_err(1, ["download", "v1", "--sources", "-D", "dl"]);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    repo.release_ok(["download", "v1", "--sources", "-D", "dl", "--force"]);
}

/// Trees only hand-crafted objects can make: `..`, `.git` in any case. git archive
/// refuses them, and so do we (extracting them could write outside the archive).
#[test]
fn crafted_trees_with_dotdot_or_dotgit_are_refused_like_git() {
    let env = Env::new();
    let repo = env.repo("proj");
    let mktree = |lines: &str| {
        let mut child = repo
            .git_command(["mktree"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), lines.as_bytes()).unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned()
    };
    let blob = {
        let mut child = repo
            .git_command(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"pwned\n").unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned()
    };
    let inner = mktree(&format!("100644 blob {blob}\tpasswd\n"));
    for (tag, tree, bad) in [
        (
            "dotdot",
            mktree(&format!(
                "040000 tree {inner}\t..\n100644 blob {blob}\tok.txt\n"
            )),
            "../passwd",
        ),
        (
            "dotgit",
            mktree(&format!(
                "100644 blob {blob}\t.GIT\n100644 blob {blob}\tok.txt\n"
            )),
            ".GIT",
        ),
        (
            "nested",
            mktree(&format!(
                "040000 tree {}\tsub\n",
                mktree(&format!("100644 blob {blob}\t.git\n"))
            )),
            "sub/.git",
        ),
    ] {
        let commit = repo.git(["commit-tree", &tree, "-m", tag]);
        repo.git(["tag", tag, commit.trim()]);
        assert!(
            !repo
                .git_output(["archive", "--format=tar", tag])
                .status
                .success(),
            "git refuses {tag}"
        );
        let err = repo.release_err(
            1,
            ["archive", tag, "--format", "all", "--output-dir", "out"],
        );
        assert!(
            err.contains(&format!("cannot archive {bad:?}")) && err.contains("invalid path"),
            "{err}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(repo.path().join("out"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "no archive or temporary file left: {left:?}"
    );
}

/// A tree of 100,000 entries (slow in a debug build: run with
/// `cargo test --release --test it -- --ignored --exact archive::a_hundred_thousand_entry_tree_archives_like_git`).
#[test]
#[ignore = "long run: a 100,000-entry tree (minutes); docs/testing.md"]
fn a_hundred_thousand_entry_tree_archives_like_git() {
    let env = Env::new();
    let repo = env.repo("proj");
    let mut stream = Vec::new();
    stream.extend_from_slice(
        b"commit refs/heads/main\ncommitter C <c@example.com> 1710135045 +0000\ndata 4\nbig\n",
    );
    for i in 0..100_000u32 {
        let data = format!("{i}\n");
        stream.extend_from_slice(
            format!(
                "M 100644 inline d{:03}/e{:02}/f{i}.txt\ndata {}\n{data}\n",
                i % 997,
                i % 89,
                data.len()
            )
            .as_bytes(),
        );
    }
    stream.extend_from_slice(b"reset refs/tags/big\nfrom refs/heads/main\n\n");
    let mut child = repo
        .git_command(["fast-import", "--quiet"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &stream).unwrap();
    assert!(child.wait().unwrap().success());
    for format in ["tar", "zip"] {
        let ours = repo.release_ok([
            "archive",
            "big",
            "--format",
            format,
            "-o",
            &format!("big.{format}"),
        ]);
        assert!(ours.contains("big."), "{ours}");
        let want = repo.git_raw([
            "archive",
            &format!("--format={format}"),
            "--prefix=proj-big/",
            "big",
        ]);
        assert!(
            std::fs::read(repo.path().join(format!("big.{format}"))).unwrap() == want,
            "{format} differs"
        );
    }
}
