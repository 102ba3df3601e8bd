//! The architecture, checked: no file of `src/` uses one that uses it back, and the
//! layers use only the layers below them (scripts/check-layers.py resolves `crate::`,
//! `super::` and `self::` paths, nested `use` groups and re-exports); the crate root
//! keeps only the entry points and the cross-cutting leaves; the git module's doc says
//! who talks to git2.

use std::path::Path;
use std::process::Command;

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Runs the checker on `dir` with `args`: (exit code, stdout).
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-layers.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A source tree of `files` (path, text) in a temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn no_module_or_layer_imports_one_that_imports_it_back() {
    let (code, stdout) = check(&src(), &[]);
    assert!(code == Some(0) && stdout.contains(" 0 cycles"), "{stdout}");
}

#[test]
fn the_checker_sees_a_cycle_through_crate_paths() {
    let dir = tree(&[
        ("a/mod.rs", "pub mod x;\npub mod y;\n"),
        ("a/x.rs", "use crate::a::y::Y;\npub struct X;\n"),
        ("a/y.rs", "pub struct Y;\nfn f(_: crate::a::x::X) {}\n"),
        ("b.rs", "use crate::a::x::X;\n"),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("module cycle: a::x -> a::y"), "{stdout}");
}

/// The cycle the old checker could not see: two siblings using each other through
/// `super::`, one of them in a nested group, at depth two.
#[test]
fn the_checker_sees_a_cycle_through_super_paths() {
    let dir = tree(&[
        ("lib.rs", "pub mod top;\n"),
        ("top/mod.rs", "pub mod a;\n"),
        ("top/a/mod.rs", "mod walk;\nmod objects;\n"),
        (
            "top/a/walk.rs",
            "use super::{objects::{Lanes}, other};\npub struct Planned;\n",
        ),
        (
            "top/a/objects.rs",
            "pub struct Lanes;\n// super::walk::Planned in a comment is no use\nfn f(_: &self::super::walk::Planned) {}\n",
        ),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("module cycle: top::a::objects -> top::a::walk"),
        "{stdout}"
    );
    assert!(
        stdout.contains("top::a::walk uses top::a::objects: super::objects::Lanes"),
        "{stdout}"
    );

    // Written with `super::super::` from one level further down, the same.
    let dir = tree(&[
        ("a/mod.rs", "mod b;\nmod d;\n"),
        ("a/b/mod.rs", "mod c;\n"),
        ("a/b/c.rs", "pub fn c() { super::super::d::d() }\n"),
        ("a/d.rs", "pub fn d() {}\nfn g() { crate::a::b::c::c() }\n"),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("module cycle: a::b::c -> a::d"), "{stdout}");
}

/// Two folders that use each other through different files: no file uses one that
/// uses it back, but the layers do, and that is a cycle too (through `super::`
/// re-exports as well as `crate::` paths).
#[test]
fn the_checker_sees_a_cycle_between_folders() {
    let dir = tree(&[
        ("lib.rs", "pub mod store;\npub mod share;\n"),
        (
            "store/mod.rs",
            "mod notes;\nmod merge;\npub use merge::Merged;\n",
        ),
        ("store/notes.rs", "pub struct Note;\n"),
        (
            "store/merge.rs",
            "pub struct Merged;\nfn f(_: crate::share::Remote) {}\n",
        ),
        ("share/mod.rs", "mod remote;\npub use remote::Remote;\n"),
        (
            "share/remote.rs",
            "pub struct Remote;\nuse crate::store::Merged;\n",
        ),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("module cycle: share::remote -> store::merge"),
        "{stdout}"
    );
    assert!(stdout.contains("layer cycle: share -> store"), "{stdout}");

    // Folder to folder only: store/merge uses share/remote, share/other uses
    // store/notes; no file is in a cycle, the folders are.
    let dir = tree(&[
        ("store/mod.rs", "mod notes;\nmod merge;\n"),
        ("store/notes.rs", "pub struct Note;\n"),
        (
            "store/merge.rs",
            "fn f(_: crate::share::remote::Remote) {}\n",
        ),
        ("share/mod.rs", "mod remote;\nmod other;\n"),
        ("share/remote.rs", "pub struct Remote;\n"),
        ("share/other.rs", "use crate::store::notes::Note;\n"),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(!stdout.contains("module cycle"), "{stdout}");
    assert!(stdout.contains("layer cycle: share -> store"), "{stdout}");
    assert!(
        stdout.contains("store uses share: store::merge: ")
            && stdout.contains("share uses store: share::other: "),
        "{stdout}"
    );
}

/// A parent that declares and re-exports its children, and children that use the
/// parent's shared items, is the module tree; a parent that also uses a child's item
/// in its own code, while the child uses the parent's, is a cycle.
#[test]
fn the_module_tree_is_not_a_cycle_but_a_parent_and_child_using_each_other_are() {
    let dir = tree(&[
        (
            "a/mod.rs",
            "mod x;\nmod y;\npub use x::X;\npub use y::{self, Y};\npub struct Shared;\n",
        ),
        ("a/x.rs", "use super::Shared;\npub struct X(Shared);\n"),
        ("a/y.rs", "pub struct Y(super::Shared);\n"),
        ("b.rs", "use crate::a::X;\n"),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{stdout}");

    let dir = tree(&[
        (
            "a/mod.rs",
            "mod x;\npub use x::X;\npub struct Shared;\npub fn make() -> X { x::build() }\n",
        ),
        (
            "a/x.rs",
            "use super::Shared;\npub struct X(Shared);\npub fn build() -> X { X(Shared) }\n",
        ),
    ]);
    let (code, stdout) = check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("module cycle: a -> a::x"), "{stdout}");
}

/// The git module's doc names every layer outside it that uses git2 (by name or
/// through `Repo::git`), and only those, so that it cannot claim to be the only one
/// while others are.
#[test]
fn the_git_module_doc_names_every_layer_that_uses_git2() {
    let doc: String = std::fs::read_to_string(src().join("git/mod.rs"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        !doc.contains("the only layer") && !doc.contains("the only place"),
        "{doc}"
    );
    let mut users = std::collections::BTreeSet::new();
    for entry in walk(&src()) {
        let rel = entry
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&entry).unwrap();
        // git2 named, or the raw repository taken from `Repo::git`.
        if rel.starts_with("git/") || !(text.contains("git2::") || text.contains(".git()")) {
            continue;
        }
        users.insert(match rel.split_once('/') {
            Some((layer, _)) => format!("`{layer}/`"),
            None if rel == "error.rs" => "the error type".to_owned(),
            None => format!("`{rel}`"),
        });
    }
    assert!(users.len() > 3, "{users:?}");
    for layer in &users {
        assert!(
            doc.contains(layer.as_str()),
            "src/git/mod.rs does not name {layer}: {doc}"
        );
    }
    // And it names no layer that does not (a list kept true both ways).
    let named = doc.split('`').skip(1).step_by(2).filter(|code| {
        code.strip_suffix('/')
            .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase()))
    });
    for layer in named {
        let layer = format!("`{layer}`");
        assert!(
            users.contains(&layer),
            "src/git/mod.rs names {layer}, which does not use git2: {users:?}"
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_crate_root_holds_at_most_eight_files() {
    let mut files: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.len() <= 8, "{files:?}");
    for required in ["lib.rs", "main.rs", "error.rs"] {
        assert!(files.iter().any(|f| f == required), "{files:?}");
    }
}
