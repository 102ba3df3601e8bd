//! The architecture, checked: the layers of `src/` use only the layers below them
//! (scripts/check-layers.py reads the `crate::` paths), and the crate root keeps only
//! the entry points and the cross-cutting leaves.

use std::path::Path;
use std::process::Command;

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_or_layer_imports_one_that_imports_it_back() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-layers.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(src())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" 0 cycles"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::write(dir.path().join("a/mod.rs"), "pub mod x;\npub mod y;\n").unwrap();
    std::fs::write(
        dir.path().join("a/x.rs"),
        "use crate::a::y::Y;\npub struct X;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a/y.rs"),
        "pub struct Y;\nfn f(_: crate::a::x::X) {}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.rs"), "use crate::a::x::X;\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-layers.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("module cycle: a::x -> a::y"), "{stdout}");
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
