//! Bookkeeping a merge derives rather than merges: `project.json`'s
//! `pending_evidence`, the short list of upcoming releases whose evidence is still to
//! be collected. It follows from the releases (each upcoming release without a
//! snapshot yet), so two clones that scheduled, collected or unscheduled differently
//! are never a conflict for people to settle: both sides' lists are joined before the
//! three-way merge of `project.json`, and after it the list keeps the releases the
//! merged store still has waiting, each due when the release is released.

use serde_json::Value;

use super::docs::{Docs, Place};
use super::project_data::ProjectData;

/// Gives `ours` and `theirs` (`project.json` as JSON) one list of scheduled evidence:
/// both sides' entries, one per tag (ours first). A side that is not a readable
/// `project.json` is left as it is (the merge reports it).
pub(crate) fn join_schedules(
    ours: Option<Value>,
    theirs: Option<Value>,
) -> (Option<Value>, Option<Value>) {
    let parse = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|v| serde_json::from_value::<ProjectData>(v.clone()).ok())
    };
    let (Some(mut o), Some(mut t)) = (parse(&ours), parse(&theirs)) else {
        return (ours, theirs);
    };
    let mut joined = o.pending_evidence.clone();
    for entry in &t.pending_evidence {
        if !joined.iter().any(|e| e.tag == entry.tag) {
            joined.push(entry.clone());
        }
    }
    o.pending_evidence = joined.clone();
    t.pending_evidence = joined;
    let value = |p: ProjectData| serde_json::to_value(p).expect("project data serializes");
    (Some(value(o)), Some(value(t)))
}

/// Keeps the scheduled evidence of releases the merged store has waiting: present,
/// with no snapshot yet; each due at its release's `released_at`.
pub(crate) fn prune_schedules(docs: &mut Docs) {
    let Some(project) = &docs.project else {
        return;
    };
    let mut kept = Vec::with_capacity(project.pending_evidence.len());
    for entry in &project.pending_evidence {
        let waiting = docs
            .records()
            .find(|(tag, _, _)| *tag == entry.tag)
            .filter(|(_, _, release)| release.evidences.is_empty());
        if let Some((_, _, release)) = waiting {
            let mut entry = entry.clone();
            entry.due = release.released_at;
            kept.push(entry);
        }
    }
    if kept != project.pending_evidence {
        docs.project_mut().pending_evidence = kept;
        docs.mark(Place::Project);
    }
}
