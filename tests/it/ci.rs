//! The CI setup, checked: the tests that need outside tools are ignored by a plain
//! `cargo test` and run by `.ci/run` by name, and `.ci/run` hides no failure.

use std::collections::BTreeSet;
use std::path::Path;

const MARK: &str = ".ci/run runs it\"]";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ci_run() -> String {
    std::fs::read_to_string(root().join(".ci/run")).unwrap()
}

/// Every test module's source, as (module path, text).
fn test_sources() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for dir in ["tests/it", "tests/it/support"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let module = match dir {
                "tests/it" => stem,
                _ => format!("support::{stem}"),
            };
            found.push((module, std::fs::read_to_string(&path).unwrap()));
        }
    }
    found
}

/// The tests marked `#[ignore = "needs …; .ci/run runs it"]`, as `module::name`.
fn tool_tests() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (module, text) in test_sources() {
        let mut lines = text.lines().map(str::trim);
        while let Some(line) = lines.next() {
            if !(line.starts_with("#[ignore") && line.ends_with(MARK)) {
                continue;
            }
            let signature = lines
                .find(|l| l.starts_with("fn "))
                .expect("a test function after its #[ignore]");
            let name: String = signature[3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.insert(format!("{module}::{name}"));
        }
    }
    names
}

/// The test names `.ci/run` passes after `--ignored --exact`.
fn named_in_ci_run() -> BTreeSet<String> {
    let text = ci_run();
    let start = text
        .find("--ignored --exact")
        .expect(".ci/run runs the tool tests by name");
    text[start..]
        .lines()
        .skip(1)
        .map(|line| line.trim().trim_end_matches('\\').trim())
        .take_while(|line| line.contains("::"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn ci_runs_every_tool_test_by_name_and_nothing_else() {
    let marked = tool_tests();
    assert!(marked.len() >= 6, "{marked:?}");
    assert_eq!(named_in_ci_run(), marked);
}

#[test]
fn no_test_passes_by_skipping_itself() {
    for (module, text) in test_sources() {
        if module == "ci" {
            continue;
        }
        for pattern in ["\"skipped:", "var_os(\"CI\")", "var(\"CI\")"] {
            assert!(
                !text.contains(pattern),
                "tests/it/{module}.rs: {pattern:?}: mark the test #[ignore = \"needs …; .ci/run runs it\"] and use support::tools"
            );
        }
    }
}

#[test]
fn ci_run_installs_once_and_hides_no_failure() {
    let text = ci_run();
    let commands: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let count = |needle: &str| commands.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("apt-get update"), 1, "one apt step");
    assert_eq!(count("python3 -m venv"), 1, "one virtual environment");
    assert_eq!(count("pip install"), 1);
    assert!(
        commands
            .iter()
            .any(|l| l.contains("pip install") && l.contains("-r tests/requirements.txt"))
    );
    assert_eq!(count("|| true"), 0, "no failure hidden");
    assert_eq!(
        count("--include-ignored"),
        0,
        "that would start the long runs"
    );
    // Every requirement is pinned to one version.
    let requirements = std::fs::read_to_string(root().join("tests/requirements.txt")).unwrap();
    for line in requirements.lines() {
        let line = line.split('#').next().unwrap().trim();
        if !line.is_empty() {
            assert!(line.contains("=="), "not pinned: {line}");
        }
    }
}

/// Test modules share helpers through `support` only: a helper one module imports from
/// another belongs in support.rs (where it is found, and kept `#[track_caller]`).
#[test]
fn test_modules_share_helpers_only_through_support() {
    let modules: Vec<String> = test_sources()
        .into_iter()
        .filter(|(m, _)| !m.starts_with("support"))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(
        without_strings("use crate::serve::start; f(\"crate::\\\"share::\", 1)"),
        "use crate::serve::start; f(\"\", 1)\n"
    );
    let mut found = Vec::new();
    for (module, text) in test_sources() {
        // Paths inside string literals are fixtures (the layer guard's test crates),
        // not imports.
        let code = without_strings(&text);
        for other in &modules {
            if other != &module && code.contains(&format!("crate::{other}::")) {
                found.push(format!("tests/it/{module}.rs uses crate::{other}::"));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// `text` with the contents of its one-line string literals (`"…"`, escapes kept
/// inside) left out.
fn without_strings(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let mut inside = false;
        let mut escaped = false;
        for c in line.chars() {
            if inside {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        inside = false;
                        code.push(c);
                    }
                    _ => {}
                }
            } else {
                if c == '"' {
                    inside = true;
                }
                code.push(c);
            }
        }
        code.push('\n');
    }
    code
}
