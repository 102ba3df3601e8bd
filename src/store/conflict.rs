//! A conflict of a store merge: where it is (which document, which JSON path), both
//! values, and how it reads for people (`release v1 → links["linux"] → url`) and for
//! `resolve` (its subject: a tag, `milestone:<title>`, `freeze:<id>`, a path).

use git2::Oid;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::three_way::{self, Step};

/// Which document of the store a conflict is in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// The note on this commit (hex).
    Note(String),
    /// A file of the store (`milestones.json`, …).
    File(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// The same value changed differently on both sides (or added differently).
    Changed,
    /// Changed on one side, deleted on the other (`ours` or `theirs` is absent).
    ModifyDelete,
    /// One tag released on two different commits: `ours` holds the local record
    /// (with its commit), `theirs` the remote's record, which sits in `document`.
    TagCommit,
    /// A release here whose tag the remote holds on another object, with no release
    /// of its own there (deleted, or a plain tag): found by `share::remote::fetch`,
    /// not by the store merge. `ours`/`theirs` hold `commit` and `tag_target`.
    TagTarget,
    /// Two different objects with one name (a link's name, URL or direct asset path
    /// within a release; a milestone's title), one from each side: the local one
    /// stays (`at` is its place); `theirs` is the other's content under the local
    /// key, which taking their side puts in its place.
    Duplicate,
    /// A blob that is not our JSON (somebody's own note): `ours`/`theirs` are blob ids.
    Blob,
}

/// One conflict of a store merge, as reported and as recorded in the merge state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreConflict {
    /// What `resolve` takes to name it: a release's tag, `milestone:<title>`,
    /// `freeze:<id>`, or the store path of another file.
    pub subject: String,
    /// For people: `release v1 → name`.
    pub path: String,
    pub kind: ConflictKind,
    pub document: Document,
    pub at: Vec<Step>,
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
}

impl StoreConflict {
    /// `release v1 → name: local "a" vs origin "b"`.
    pub fn describe(&self, remote: &str) -> String {
        let show = |v: &Option<Value>| match v {
            None => "(deleted)".to_owned(),
            Some(v) => {
                let text = v.to_string();
                if text.chars().count() > 60 {
                    format!("{}…", text.chars().take(60).collect::<String>())
                } else {
                    text
                }
            }
        };
        match self.kind {
            ConflictKind::TagCommit => format!(
                "{}: released on commit {} here vs {} on {remote}",
                self.path,
                short(self.ours.as_ref().and_then(|o| o.get("commit"))),
                short(self.theirs.as_ref().and_then(|t| t.get("commit"))),
            ),
            ConflictKind::TagTarget => format!(
                "{}: tag on commit {} here vs {} on {remote}, which has no release on it",
                self.path,
                short(self.ours.as_ref().and_then(|o| o.get("commit"))),
                short(self.theirs.as_ref().and_then(|t| t.get("commit"))),
            ),
            ConflictKind::Duplicate => {
                let what = match self.document {
                    Document::Note(_) => "link named alike",
                    Document::File(_) => "milestone titled alike",
                };
                let differences = differences(self.ours.as_ref(), self.theirs.as_ref())
                    .into_iter()
                    .map(|(field, o, t)| {
                        format!("{field}: local {} vs {remote} {}", show(&o), show(&t))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                format!("{}: {remote} has another {what} ({differences})", self.path)
            }
            _ => format!(
                "{}: local {} vs {remote} {}",
                self.path,
                show(&self.ours),
                show(&self.theirs)
            ),
        }
    }

    /// The tag object the remote's side names (`tag_target`), for the conflicts that
    /// carry one (a release record, or a tag conflict's summary).
    pub fn their_tag_target(&self) -> Option<Oid> {
        self.theirs
            .as_ref()?
            .get("tag_target")?
            .as_str()
            .and_then(|t| Oid::from_str(t).ok())
    }

    /// Identity of the conflicting place: a later merge's conflict on the same
    /// place replaces an earlier one.
    pub fn place(&self) -> (&Document, &[Step]) {
        (&self.document, &self.at)
    }
}

/// The fields in which two objects differ, as (field, ours, theirs), identity and
/// bookkeeping left aside.
fn differences(
    ours: Option<&Value>,
    theirs: Option<&Value>,
) -> Vec<(String, Option<Value>, Option<Value>)> {
    let empty = serde_json::Map::new();
    let o = ours.and_then(Value::as_object).unwrap_or(&empty);
    let t = theirs.and_then(Value::as_object).unwrap_or(&empty);
    let mut fields: Vec<&String> = o.keys().collect();
    fields.extend(t.keys().filter(|k| !o.contains_key(*k)));
    fields
        .into_iter()
        .filter(|f| !["key", "id", "iid", "created_at", "updated_at"].contains(&f.as_str()))
        .filter(|f| o.get(*f).filter(|v| !v.is_null()) != t.get(*f).filter(|v| !v.is_null()))
        .map(|f| (f.clone(), o.get(f).cloned(), t.get(f).cloned()))
        .collect()
}

fn short(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .map_or("?".to_owned(), |s| s[..s.len().min(12)].to_owned())
}

/// Who a conflict belongs to, as `resolve` names it.
pub(crate) fn subject_of(doc: &Document, at: &[Step]) -> String {
    subject_of_value(doc, at, None, None)
}

pub(crate) fn subject_of_value(
    doc: &Document,
    at: &[Step],
    o: Option<&Value>,
    t: Option<&Value>,
) -> String {
    match (doc, at) {
        (Document::Note(_), [Step::Field(r), Step::Field(tag), ..]) if r == "releases" => {
            tag.clone()
        }
        (Document::Note(hex), _) => format!("note:{hex}"),
        (Document::File(path), [Step::Field(list), Step::Key(key), ..]) => {
            let element = [o, t].into_iter().flatten().find_map(|v| {
                three_way::get(v, &[Step::Field(list.clone()), Step::Key(key.clone())]).cloned()
            });
            let title = element
                .as_ref()
                .and_then(|e| e.get("title"))
                .and_then(Value::as_str);
            let id = element
                .as_ref()
                .and_then(|e| e.get("id"))
                .and_then(Value::as_u64);
            match (path.as_str(), title, id) {
                ("milestones.json", Some(title), _) => format!("milestone:{title}"),
                ("freezes.json", _, Some(id)) => format!("freeze:{id}"),
                _ => path.clone(),
            }
        }
        (Document::File(path), _) => path.clone(),
    }
}

pub(crate) fn describe_path(doc: &Document, at: &[Step]) -> String {
    describe_path_value(doc, at, None, None)
}

/// `release v1 → links["linux"] → url`, `milestone "M1" → due_date`.
pub(crate) fn describe_path_value(
    doc: &Document,
    at: &[Step],
    o: Option<&Value>,
    t: Option<&Value>,
) -> String {
    let mut out;
    let rest: &[Step];
    match (doc, at) {
        (Document::Note(_), [Step::Field(r), Step::Field(tag), tail @ ..]) if r == "releases" => {
            out = format!("release {tag}");
            rest = tail;
        }
        (Document::Note(hex), _) => {
            out = format!("the note on commit {}", &hex[..hex.len().min(12)]);
            rest = at;
        }
        (Document::File(_), [Step::Field(_), Step::Key(_), ..]) => {
            let subject = subject_of_value(doc, at, o, t);
            out = match subject.split_once(':') {
                Some((kind, name)) => format!("{kind} {name:?}"),
                None => subject,
            };
            rest = &at[2..];
        }
        (Document::File(path), _) => {
            out = path.clone();
            rest = at;
        }
    }
    // Within a record: name keyed elements by what people see.
    let mut walked: Vec<Step> = at[..at.len() - rest.len()].to_vec();
    for step in rest {
        walked.push(step.clone());
        match step {
            Step::Field(f) => out.push_str(&format!(" → {f}")),
            Step::Key(k) => {
                let element = [o, t]
                    .into_iter()
                    .flatten()
                    .find_map(|v| three_way::get(v, &walked).cloned());
                let name = element
                    .as_ref()
                    .and_then(|e| e.get("name").or_else(|| e.get("title")))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| k[..k.len().min(8)].to_owned());
                out.push_str(&format!("[{name:?}]"));
            }
        }
    }
    out
}
