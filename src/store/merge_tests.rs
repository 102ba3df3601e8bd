//! The store merge as a library (as jj tests its tree merge in
//! `lib/tests/test_merge_trees.rs`): stores built as notes commits from JSON
//! documents, merged with `merge_trees`, the result decoded and compared.

use git2::{Oid, Repository, Signature};
use serde_json::{Value, json};

use super::docs::Docs;
use super::flat;
use super::merge::{MergedTree, merge_trees};
use super::three_way::Prefer;
use super::tree_edit::TreeEdits;
use super::{ConflictKind, fanout};
use crate::Error;

pub(crate) struct TestStore {
    _dir: tempfile::TempDir,
    pub repo: Repository,
}

/// A commit id to hang notes on (any 40 hex digits do for a notes tree).
pub(crate) fn commit_hex(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}

pub(crate) fn release(name: &str, commit: &str) -> Value {
    json!({
        "id": 1,
        "name": name,
        "description": null,
        "created_at": "2024-01-01T00:00:00.000Z",
        "released_at": "2024-01-01T00:00:00.000Z",
        "author": {"name": "A", "email": "a@example.com"},
        "commit": commit,
        "tag_target": commit,
    })
}

pub(crate) fn link(key: u8, id: u64, name: &str, url: &str) -> Value {
    json!({
        "key": format!("{key:032x}"),
        "id": id,
        "name": name,
        "url": url,
        "link_type": "other",
        "created_at": "2024-01-01T00:00:00.000Z",
    })
}

pub(crate) fn milestone(key: u8, id: u64, title: &str) -> Value {
    json!({
        "key": format!("{key:032x}"),
        "id": id,
        "iid": id,
        "title": title,
        "description": null,
        "state": "active",
        "due_date": null,
        "start_date": null,
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": "2024-01-01T00:00:00.000Z",
    })
}

/// A note holding `releases` (tag → record).
pub(crate) fn note(releases: Value) -> Value {
    json!({"schema": 1, "releases": releases})
}

impl TestStore {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        TestStore { _dir: dir, repo }
    }

    /// A notes commit on `parents` whose tree holds `entries`: 40-hex names are notes
    /// (written at git's fanout), other names files; JSON values pretty-printed,
    /// strings as they are.
    pub(crate) fn commit(&self, parents: &[Oid], entries: &[(&str, Value)]) -> Oid {
        let mut edits = TreeEdits::default();
        for (name, value) in entries {
            let bytes = match value {
                Value::String(s) => s.clone().into_bytes(),
                other => super::docs::json_bytes(other),
            };
            let blob = self.repo.blob(&bytes).unwrap();
            if name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                edits.put(&fanout::note_path(name), blob);
            } else {
                edits.put(name, blob);
            }
        }
        let tree = edits.apply(&self.repo, None).unwrap();
        let tree = self.repo.find_tree(tree).unwrap();
        let sig = Signature::now("t", "t@example.com").unwrap();
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p).unwrap())
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.repo
            .commit(None, &sig, &sig, "test", &tree, &parents)
            .unwrap()
    }

    pub(crate) fn merge(&self, base: Oid, ours: Oid, theirs: Oid, prefer: Prefer) -> MergedTree {
        merge_trees(&self.repo, Some(base), Some(ours), theirs, prefer, "origin").unwrap()
    }

    /// The decoded documents of a merged tree.
    pub(crate) fn docs(&self, tree: Oid) -> Docs {
        let tree = self.repo.find_tree(tree).unwrap();
        let flat = flat::flatten_tree(&self.repo, &tree).unwrap();
        let mut docs = Docs::load(&self.repo, &flat).unwrap();
        docs.require_readable().unwrap();
        docs
    }

    pub(crate) fn file(&self, tree: Oid, path: &str) -> Option<Vec<u8>> {
        let tree = self.repo.find_tree(tree).unwrap();
        let entry = tree.get_path(std::path::Path::new(path)).ok()?;
        Some(self.repo.find_blob(entry.id()).unwrap().content().to_vec())
    }
}

#[test]
fn fields_changed_on_each_side_both_survive_without_conflict() {
    let s = TestStore::new();
    let c = commit_hex(1);
    let base = s.commit(&[], &[(&c, note(json!({"v1": release("one", &c)})))]);
    let mut named = release("uno", &c);
    named["description"] = json!("local words");
    let ours = s.commit(&[base], &[(&c, note(json!({"v1": named})))]);
    let mut theirs_record = release("one", &c);
    theirs_record["links"] = json!([link(1, 1, "bin", "https://example.com/bin")]);
    let theirs = s.commit(&[base], &[(&c, note(json!({"v1": theirs_record})))]);
    let merged = s.merge(base, ours, theirs, Prefer::Ours);
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    let docs = s.docs(merged.tree);
    let v1 = docs.release(&c, "v1").unwrap();
    assert_eq!(v1.name, "uno");
    assert_eq!(v1.description.as_deref(), Some("local words"));
    assert_eq!(v1.links.len(), 1);
    // The index is derived from the merged notes.
    assert!(s.file(merged.tree, &super::index_path("v1")).is_some());
}

#[test]
fn one_tag_on_two_commits_keeps_the_preferred_record_and_reports_it() {
    let s = TestStore::new();
    let (c1, c2) = (commit_hex(1), commit_hex(2));
    let base = s.commit(&[], &[]);
    let ours = s.commit(&[base], &[(&c1, note(json!({"v1": release("here", &c1)})))]);
    let theirs = s.commit(
        &[base],
        &[(&c2, note(json!({"v1": release("there", &c2)})))],
    );
    for (prefer, kept, dropped) in [(Prefer::Ours, &c1, &c2), (Prefer::Theirs, &c2, &c1)] {
        let merged = s.merge(base, ours, theirs, prefer);
        assert_eq!(merged.conflicts.len(), 1);
        let conflict = &merged.conflicts[0];
        assert_eq!(conflict.kind, ConflictKind::TagCommit);
        assert_eq!(conflict.subject, "v1");
        assert_eq!(conflict.ours.as_ref().unwrap()["commit"], json!(c1));
        assert_eq!(conflict.theirs.as_ref().unwrap()["name"], json!("there"));
        let docs = s.docs(merged.tree);
        assert!(docs.release(kept, "v1").is_some());
        assert!(docs.release(dropped, "v1").is_none());
        assert!(
            !docs.notes.contains_key(dropped.as_str()),
            "an emptied note goes"
        );
    }
}

#[test]
fn ids_handed_out_on_both_sides_are_renumbered_on_the_incoming_side() {
    let s = TestStore::new();
    let (c1, c2) = (commit_hex(1), commit_hex(2));
    let project = |n: u64| json!({"schema": 1, "last_ids": {"link": n, "release": 1}});
    let base = s.commit(&[], &[("project.json", project(0))]);
    let mut mine = release("one", &c1);
    mine["links"] = json!([link(1, 1, "mine", "https://example.com/a")]);
    let mut yours = release("two", &c2);
    yours["links"] = json!([link(2, 1, "yours", "https://example.com/b")]);
    // Unknown fields of a newer writer survive the rewrite the renumbering makes.
    yours["links"][0]["mirror"] = json!({"region": "eu"});
    let ours = s.commit(
        &[base],
        &[
            (&c1, note(json!({"v1": mine}))),
            ("project.json", project(1)),
        ],
    );
    let theirs = s.commit(
        &[base],
        &[
            (&c2, note(json!({"v2": yours}))),
            ("project.json", project(1)),
        ],
    );
    let merged = s.merge(base, ours, theirs, Prefer::Ours);
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    assert_eq!(
        merged.renumbered,
        [
            "release \"v2\": id 1 → 2".to_owned(),
            "link \"yours\": id 1 → 2".to_owned()
        ]
    );
    let docs = s.docs(merged.tree);
    assert_eq!(docs.release(&c1, "v1").unwrap().links[0].id, 1);
    let theirs_link = &docs.release(&c2, "v2").unwrap().links[0];
    assert_eq!(theirs_link.id, 2);
    assert_eq!(theirs_link.extra["mirror"], json!({"region": "eu"}));
    let counters = &docs.project.as_ref().unwrap().last_ids;
    assert_eq!(counters["link"], 2);
    assert_eq!(counters["release"], 2);
}

#[test]
fn a_newer_schema_from_the_other_side_refuses_the_merge() {
    let s = TestStore::new();
    let c = commit_hex(1);
    let base = s.commit(&[], &[("project.json", json!({"schema": 1}))]);
    let ours = s.commit(
        &[base],
        &[
            (&c, note(json!({"v1": release("one", &c)}))),
            ("project.json", json!({"schema": 1})),
        ],
    );
    for (path, value) in [
        ("project.json", json!({"schema": 99, "last_ids": {}})),
        ("milestones.json", json!({"schema": 2, "milestones": []})),
        (c.as_str(), json!({"schema": 3, "releases": {}})),
    ] {
        let theirs = s.commit(
            &[base],
            &[("project.json", json!({"schema": 1})), (path, value)],
        );
        let err = merge_trees(
            &s.repo,
            Some(base),
            Some(ours),
            theirs,
            Prefer::Ours,
            "origin",
        )
        .unwrap_err();
        assert!(matches!(err, Error::SchemaTooNew { .. }), "{path}: {err}");
        assert!(err.to_string().contains("fetched from origin"), "{err}");
    }
}

#[test]
fn entries_outside_the_layout_are_left_out_and_reported() {
    let s = TestStore::new();
    let c = commit_hex(1);
    let base = s.commit(&[], &[(&c, note(json!({"v1": release("one", &c)})))]);
    let sha = "ab".repeat(32);
    let theirs = s.commit(
        &[base],
        &[
            (&c, note(json!({"v1": release("one", &c)}))),
            ("x;$(touch pwned)", json!("junk")),
            ("esc\u{1b}[31mred", json!("junk")),
            ("evidence/zz/notes.txt", json!("junk")),
            (&format!("evidence/ab/{sha}.json"), json!({"id": 1})),
        ],
    );
    // Fast: ours is the base.
    let merged = s.merge(base, base, theirs, Prefer::Ours);
    let left: Vec<String> = merged.left_out.iter().map(|e| e.path.clone()).collect();
    assert_eq!(
        left,
        ["esc\u{1b}[31mred", "evidence/zz", "x;$(touch pwned)"],
        "{:?}",
        merged.left_out
    );
    assert!(
        merged.left_out[0].to_string().contains("\\u{1b}"),
        "escaped for people"
    );
    assert!(s.file(merged.tree, "x;$(touch pwned)").is_none());
    assert!(s.file(merged.tree, "evidence/zz/notes.txt").is_none());
    assert!(
        s.file(merged.tree, &format!("evidence/ab/{sha}.json"))
            .is_some()
    );
}

#[test]
fn a_blob_larger_than_any_document_is_refused_unread() {
    let s = TestStore::new();
    let c = commit_hex(1);
    let base = s.commit(&[], &[]);
    let big = format!(
        "{{\"schema\": 1, \"releases\": {{}}, \"pad\": \"{}\"}}",
        "x".repeat(super::docs::MAX_DOCUMENT_BYTES)
    );
    let theirs = s.commit(&[base], &[(&c, Value::String(big))]);
    let err = merge_trees(
        &s.repo,
        Some(base),
        Some(base),
        theirs,
        Prefer::Ours,
        "origin",
    )
    .unwrap_err();
    assert!(err.to_string().contains("it was not read"), "{err}");
}

#[test]
fn milestones_added_on_both_sides_merge_by_key_and_their_ids_are_renumbered() {
    let s = TestStore::new();
    let base = s.commit(&[], &[]);
    let file = |m: Value| json!({"milestones": [m]});
    let ours = s.commit(&[base], &[("milestones.json", file(milestone(1, 1, "M1")))]);
    let theirs = s.commit(&[base], &[("milestones.json", file(milestone(2, 1, "M2")))]);
    let merged = s.merge(base, ours, theirs, Prefer::Ours);
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    let docs = s.docs(merged.tree);
    let titles: Vec<(&str, u64, u64)> = docs
        .milestones
        .as_ref()
        .unwrap()
        .milestones
        .iter()
        .map(|m| (m.title.as_str(), m.id, m.iid))
        .collect();
    assert_eq!(titles, [("M1", 1, 1), ("M2", 2, 2)]);
}

/// Both clones added a link to v1 (base has v1 without links).
fn links_from_both_sides(
    ours_link: Value,
    theirs_link: Value,
    prefer: Prefer,
) -> (TestStore, MergedTree, String) {
    let s = TestStore::new();
    let c = commit_hex(1);
    let base = s.commit(&[], &[(&c, note(json!({"v1": release("one", &c)})))]);
    let with = |l: Value| {
        let mut r = release("one", &c);
        r["links"] = json!([l]);
        note(json!({"v1": r}))
    };
    let ours = s.commit(&[base], &[(&c, with(ours_link))]);
    let theirs = s.commit(&[base], &[(&c, with(theirs_link))]);
    let merged = s.merge(base, ours, theirs, prefer);
    (s, merged, c)
}

#[test]
fn the_same_link_added_by_two_clones_is_one_link() {
    let mut theirs = link(2, 1, "dup", "https://example.com/a");
    theirs["created_at"] = json!("2024-02-02T00:00:00.000Z");
    let (s, merged, c) = links_from_both_sides(
        link(1, 1, "dup", "https://example.com/a"),
        theirs,
        Prefer::Ours,
    );
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    assert!(merged.renumbered.is_empty(), "{:?}", merged.renumbered);
    let links = &s.docs(merged.tree).release(&c, "v1").unwrap().links.clone();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].key.to_string(), format!("{:032x}", 1));
}

#[test]
fn different_links_with_one_name_or_url_are_a_conflict_not_a_duplicate() {
    for (theirs, field) in [
        (link(2, 1, "dup", "https://example.com/b"), "url"),
        (link(2, 1, "other", "https://example.com/a"), "name"),
    ] {
        let ours = link(1, 1, "dup", "https://example.com/a");
        for prefer in [Prefer::Ours, Prefer::Theirs] {
            let (s, merged, c) = links_from_both_sides(ours.clone(), theirs.clone(), prefer);
            assert_eq!(merged.conflicts.len(), 1, "{:?}", merged.conflicts);
            let conflict = &merged.conflicts[0];
            assert_eq!(conflict.kind, ConflictKind::Duplicate);
            assert_eq!(conflict.subject, "v1");
            assert_eq!(conflict.path, "release v1 → links[\"dup\"]");
            let described = conflict.describe("origin");
            assert!(
                described.contains(&format!("{field}: local")),
                "{described}"
            );
            // The other side's content, under the local key: taking theirs replaces it.
            let their_value = conflict.theirs.as_ref().unwrap();
            assert_eq!(their_value["key"], json!(format!("{:032x}", 1)));
            assert_eq!(their_value[field], theirs[field]);
            let links = s.docs(merged.tree).release(&c, "v1").unwrap().links.clone();
            assert_eq!(links.len(), 1, "{field} {prefer:?}");
            let kept = match prefer {
                Prefer::Ours => &ours,
                Prefer::Theirs => &theirs,
            };
            assert_eq!(json!(links[0].url), kept["url"]);
            assert_eq!(json!(links[0].name), kept["name"]);
        }
    }
}

/// Both clones made a milestone titled M2 and a release in it.
fn milestones_from_both_sides(ours_m: Value, theirs_m: Value) -> (TestStore, MergedTree) {
    let s = TestStore::new();
    let (c1, c2) = (commit_hex(1), commit_hex(2));
    let base = s.commit(&[], &[]);
    let side = |m: &Value, c: &str, tag: &str| {
        let mut r = release(tag, c);
        r["milestones"] = json!([m["key"]]);
        vec![
            ("milestones.json".to_owned(), json!({"milestones": [m]})),
            (c.to_owned(), note(json!({tag: r}))),
        ]
    };
    let entries = |v: Vec<(String, Value)>| {
        s.commit(
            &[base],
            &v.iter()
                .map(|(p, v)| (p.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )
    };
    let ours = entries(side(&ours_m, &c1, "v1"));
    let theirs = entries(side(&theirs_m, &c2, "v2"));
    let merged = s.merge(base, ours, theirs, Prefer::Ours);
    (s, merged)
}

#[test]
fn the_same_milestone_made_by_two_clones_is_one_and_their_releases_follow_it() {
    let mut theirs = milestone(2, 1, "M2");
    theirs["created_at"] = json!("2024-03-03T00:00:00.000Z");
    let (s, merged) = milestones_from_both_sides(milestone(1, 1, "M2"), theirs);
    assert!(merged.conflicts.is_empty(), "{:?}", merged.conflicts);
    let docs = s.docs(merged.tree);
    let milestones = &docs.milestones.as_ref().unwrap().milestones;
    assert_eq!(milestones.len(), 1);
    let key = milestones[0].key;
    assert_eq!(key.to_string(), format!("{:032x}", 1));
    assert_eq!(
        docs.release(&commit_hex(2), "v2").unwrap().milestones,
        [key]
    );
    assert_eq!(
        docs.release(&commit_hex(1), "v1").unwrap().milestones,
        [key]
    );
}

#[test]
fn different_milestones_with_one_title_are_a_conflict_and_stay_one_milestone() {
    let mut theirs = milestone(2, 1, "M2");
    theirs["description"] = json!("theirs");
    let (s, merged) = milestones_from_both_sides(milestone(1, 1, "M2"), theirs);
    assert_eq!(merged.conflicts.len(), 1, "{:?}", merged.conflicts);
    let conflict = &merged.conflicts[0];
    assert_eq!(conflict.kind, ConflictKind::Duplicate);
    assert_eq!(conflict.subject, "milestone:M2");
    assert!(
        conflict
            .describe("origin")
            .contains("description: local null vs origin \"theirs\""),
        "{}",
        conflict.describe("origin")
    );
    let docs = s.docs(merged.tree);
    let milestones = &docs.milestones.as_ref().unwrap().milestones;
    assert_eq!(milestones.len(), 1);
    assert_eq!(milestones[0].description, None);
    let key = milestones[0].key;
    assert_eq!(
        docs.release(&commit_hex(2), "v2").unwrap().milestones,
        [key]
    );
}

#[test]
fn ids_and_counters_above_two_to_the_53_from_the_other_side_refuse_the_merge() {
    let s = TestStore::new();
    let c = commit_hex(1);
    let project = |n: u64| json!({"schema": 1, "last_ids": {"link": n}});
    let base = s.commit(&[], &[("project.json", project(0))]);
    let theirs = s.commit(&[base], &[("project.json", project(u64::MAX))]);
    let err = merge_trees(
        &s.repo,
        Some(base),
        Some(base),
        theirs,
        Prefer::Ours,
        "origin",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the link counter is 18446744073709551615"),
        "{err}"
    );
    let mut record = release("one", &c);
    record["links"] = json!([link(1, 1 << 53, "big", "https://example.com/big")]);
    let theirs = s.commit(&[base], &[(&c, note(json!({"v1": record})))]);
    let err = merge_trees(
        &s.repo,
        Some(base),
        Some(base),
        theirs,
        Prefer::Ours,
        "origin",
    )
    .unwrap_err();
    assert!(err.to_string().contains("has id 9007199254740992"), "{err}");
}

#[test]
fn the_layout_names_every_file_of_the_store_and_nothing_else() {
    use super::layout::is_known_file;
    let sha = "ab".repeat(32);
    for known in [
        "project.json".to_owned(),
        "milestones.json".to_owned(),
        "freezes.json".to_owned(),
        format!("index/ab/{sha}"),
        format!("evidence/ab/{sha}.json"),
        format!("evidence/ab/{sha}.json.sig"),
        format!("artifacts/ab/{sha}"),
    ] {
        assert!(is_known_file(&known), "{known}");
    }
    for unknown in [
        "x;$(touch pwned)".to_owned(),
        "project.json.bak".to_owned(),
        format!("index/cd/{sha}"),
        format!("evidence/ab/{sha}"),
        format!("artifacts/ab/{}", sha.to_uppercase()),
        format!("evidence/ab/{sha}.json/x"),
        "index/ab".to_owned(),
    ] {
        assert!(!is_known_file(&unknown), "{unknown}");
    }
}
