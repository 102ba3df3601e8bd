//! Three-way merge of JSON values, field by field. Objects merge key by key; arrays
//! whose elements are all objects carrying an internal `key` (links, evidence,
//! milestones, freezes) merge element by element by that key, never by position or
//! by the small display `id`. Anything else changed differently on both sides —
//! including a change on one side and a deletion on the other — is a conflict: the
//! preferred side's value is kept and the conflict is returned, with the path where
//! it happened, for the caller to report (and, unresolved, to record).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// Keep the local value on a conflict (and report it).
    #[default]
    Ours,
    Theirs,
}

/// One step of a path into a JSON document: a field of an object, or the element of
/// a keyed list with that internal key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Field(String),
    Key(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Where, from the root of the merged document.
    pub at: Vec<Step>,
    /// The local value (`None`: absent, i.e. deleted here).
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
}

pub struct Merger {
    pub prefer: Prefer,
    pub conflicts: Vec<Conflict>,
}

impl Merger {
    pub fn new(prefer: Prefer) -> Self {
        Merger {
            prefer,
            conflicts: Vec::new(),
        }
    }

    /// Merges one value present (or not: `None`) in the base and on each side;
    /// `None` in the result means "absent".
    pub fn merge(
        &mut self,
        at: &[Step],
        base: Option<&Value>,
        ours: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Option<Value> {
        if ours == theirs {
            return ours.cloned();
        }
        // `null` is "not set": a side that set nothing does not conflict with one that
        // set a value.
        let (base, ours, theirs) = (unset(base), unset(ours), unset(theirs));
        if ours == theirs {
            return ours.cloned();
        }
        if base == ours {
            return theirs.cloned();
        }
        if base == theirs {
            return ours.cloned();
        }
        match (ours, theirs) {
            (Some(Value::Object(o)), Some(Value::Object(t))) => {
                let b = base.and_then(Value::as_object);
                Some(Value::Object(self.merge_objects(at, b, o, t)))
            }
            (Some(Value::Array(o)), Some(Value::Array(t))) if is_keyed(o) && is_keyed(t) => {
                let b = base.and_then(Value::as_array).filter(|b| is_keyed(b));
                Some(Value::Array(self.merge_keyed(
                    at,
                    b.map(Vec::as_slice),
                    o,
                    t,
                )))
            }
            // A display id given on both sides (renumbered on one of them): the larger
            // wins, the same on every clone; collisions are renumbered afterwards.
            (Some(Value::Number(o)), Some(Value::Number(t))) if is_display_id(at) => {
                let (o, t) = (o.as_u64().unwrap_or(0), t.as_u64().unwrap_or(0));
                Some(Value::from(o.max(t)))
            }
            // When something was last changed: the later time, on every clone (the
            // changes themselves conflict, or not, on their own fields).
            (Some(Value::String(o)), Some(Value::String(t))) if is_updated_at(at) => {
                Some(Value::String(o.clone().max(t.clone())))
            }
            // Everything else, including a change on one side and a deletion on the
            // other: a conflict.
            _ => {
                self.conflicts.push(Conflict {
                    at: at.to_vec(),
                    ours: ours.cloned(),
                    theirs: theirs.cloned(),
                });
                match self.prefer {
                    Prefer::Ours => ours.cloned(),
                    Prefer::Theirs => theirs.cloned(),
                }
            }
        }
    }

    fn merge_objects(
        &mut self,
        at: &[Step],
        base: Option<&Map<String, Value>>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut keys: Vec<&String> = ours.keys().collect();
        keys.extend(theirs.keys().filter(|k| !ours.contains_key(*k)));
        let mut out = Map::new();
        for key in keys {
            let child = child(at, Step::Field(key.clone()));
            let merged = self.merge(
                &child,
                base.and_then(|b| b.get(key)),
                ours.get(key),
                theirs.get(key),
            );
            if let Some(v) = merged {
                out.insert(key.clone(), v);
            }
        }
        out
    }

    fn merge_keyed(
        &mut self,
        at: &[Step],
        base: Option<&[Value]>,
        ours: &[Value],
        theirs: &[Value],
    ) -> Vec<Value> {
        let find =
            |list: &[Value], key: &str| list.iter().find(|v| element_key(v) == Some(key)).cloned();
        // Our order first, then elements only they have, in their order.
        let mut order: Vec<String> = ours
            .iter()
            .filter_map(element_key)
            .map(str::to_owned)
            .collect();
        for key in theirs.iter().filter_map(element_key) {
            if !order.iter().any(|k| k == key) {
                order.push(key.to_owned());
            }
        }
        let mut out = Vec::new();
        for key in order {
            let b = base.and_then(|b| find(b, &key));
            let o = find(ours, &key);
            let t = find(theirs, &key);
            if let Some(v) = self.merge(
                &child(at, Step::Key(key.clone())),
                b.as_ref(),
                o.as_ref(),
                t.as_ref(),
            ) {
                out.push(v);
            }
        }
        out
    }
}

fn unset(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn child(at: &[Step], step: Step) -> Vec<Step> {
    let mut path = at.to_vec();
    path.push(step);
    path
}

/// `id` or `iid` of an element of a keyed list, or a release's own `id` (in a note,
/// `releases.<tag>.id`).
fn is_display_id(at: &[Step]) -> bool {
    match at {
        [.., Step::Key(_), Step::Field(f)] => f == "id" || f == "iid",
        [Step::Field(r), Step::Field(_), Step::Field(f)] => r == "releases" && f == "id",
        // A package document's own id (two clones that made the same package).
        [Step::Field(f)] => f == "id",
        _ => false,
    }
}

fn is_updated_at(at: &[Step]) -> bool {
    matches!(at.last(), Some(Step::Field(f)) if f == "updated_at")
}

fn element_key(value: &Value) -> Option<&str> {
    value.get("key").and_then(Value::as_str)
}

/// An array merged by identity: every element an object with a `key` (an empty list
/// qualifies, so that "one side removed every link" merges too).
fn is_keyed(list: &[Value]) -> bool {
    list.iter().all(|v| element_key(v).is_some())
}

/// The value at `at` inside `root`, if any.
pub fn get<'v>(root: &'v Value, at: &[Step]) -> Option<&'v Value> {
    let mut current = root;
    for step in at {
        current = match step {
            Step::Field(name) => current.as_object()?.get(name)?,
            Step::Key(key) => current
                .as_array()?
                .iter()
                .find(|v| element_key(v) == Some(key))?,
        };
    }
    Some(current)
}

/// Sets (`Some`) or removes (`None`) the value at `at` inside `root`. Returns false
/// when a parent on the path is missing (then nothing changes).
pub fn set(root: &mut Value, at: &[Step], value: Option<Value>) -> bool {
    let Some((last, parents)) = at.split_last() else {
        match value {
            Some(v) => *root = v,
            None => *root = Value::Null,
        }
        return true;
    };
    let mut current = root;
    for step in parents {
        let next = match step {
            Step::Field(name) => current.as_object_mut().and_then(|m| m.get_mut(name)),
            Step::Key(key) => current
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|v| element_key(v) == Some(key))),
        };
        match next {
            Some(n) => current = n,
            None => return false,
        }
    }
    match last {
        Step::Field(name) => {
            let Some(map) = current.as_object_mut() else {
                return false;
            };
            match value {
                Some(v) => {
                    map.insert(name.clone(), v);
                }
                None => {
                    map.remove(name);
                }
            }
            true
        }
        Step::Key(key) => {
            let Some(list) = current.as_array_mut() else {
                return false;
            };
            let position = list.iter().position(|v| element_key(v) == Some(key));
            match (position, value) {
                (Some(i), Some(v)) => list[i] = v,
                (Some(i), None) => {
                    list.remove(i);
                }
                (None, Some(v)) => list.push(v),
                (None, None) => {}
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_changed_on_different_sides_both_survive() {
        let base = json!({"name": "a", "description": "x"});
        let ours = json!({"name": "b", "description": "x"});
        let theirs = json!({"name": "a", "description": "y"});
        let mut m = Merger::new(Prefer::Ours);
        let merged = m
            .merge(&[], Some(&base), Some(&ours), Some(&theirs))
            .unwrap();
        assert_eq!(merged, json!({"name": "b", "description": "y"}));
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn the_same_field_changed_differently_is_a_conflict_resolved_by_preference() {
        let base = json!({"name": "a"});
        for (prefer, want) in [(Prefer::Ours, "b"), (Prefer::Theirs, "c")] {
            let mut m = Merger::new(prefer);
            let merged = m.merge(
                &[],
                Some(&base),
                Some(&json!({"name": "b"})),
                Some(&json!({"name": "c"})),
            );
            assert_eq!(merged.unwrap()["name"], want);
            assert_eq!(m.conflicts.len(), 1);
            assert_eq!(m.conflicts[0].at, [Step::Field("name".into())]);
        }
    }

    #[test]
    fn keyed_lists_merge_by_key_not_position() {
        let l = |key: &str, name: &str| json!({"key": key, "id": 1, "name": name});
        let base = json!([l("k1", "one")]);
        let ours = json!([l("k1", "uno"), l("k2", "two")]);
        let theirs = json!([l("k3", "three"), l("k1", "one")]);
        let mut m = Merger::new(Prefer::Ours);
        let merged = m
            .merge(&[], Some(&base), Some(&ours), Some(&theirs))
            .unwrap();
        assert_eq!(
            merged,
            json!([l("k1", "uno"), l("k2", "two"), l("k3", "three")])
        );
        // Deleted on one side, untouched on the other: deleted.
        let mut m = Merger::new(Prefer::Ours);
        let merged = m
            .merge(
                &[],
                Some(&ours),
                Some(&json!([l("k2", "two")])),
                Some(&ours),
            )
            .unwrap();
        assert_eq!(merged, json!([l("k2", "two")]));
    }

    #[test]
    fn a_change_against_a_deletion_is_a_conflict_either_way() {
        let l = |name: &str| json!([{"key": "k1", "id": 1, "name": name}]);
        let base = json!({"links": l("one")});
        for (ours, theirs) in [
            (json!({"links": l("uno")}), json!({"links": []})),
            (json!({"links": []}), json!({"links": l("uno")})),
        ] {
            let mut m = Merger::new(Prefer::Ours);
            let merged = m.merge(&[], Some(&base), Some(&ours), Some(&theirs));
            assert_eq!(merged.as_ref(), Some(&ours), "local kept");
            assert_eq!(m.conflicts.len(), 1);
            assert_eq!(
                m.conflicts[0].at,
                [Step::Field("links".into()), Step::Key("k1".into())]
            );
        }
    }

    #[test]
    fn bookkeeping_fields_never_conflict() {
        let base = json!({"items": [{"key": "k", "id": 1, "updated_at": "2024-01-01T00:00:00Z"}]});
        let ours = json!({"items": [{"key": "k", "id": 3, "updated_at": "2024-01-02T00:00:00Z"}]});
        let theirs =
            json!({"items": [{"key": "k", "id": 2, "updated_at": "2024-01-03T00:00:00Z"}]});
        let mut m = Merger::new(Prefer::Ours);
        let merged = m
            .merge(&[], Some(&base), Some(&ours), Some(&theirs))
            .unwrap();
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(merged["items"][0]["id"], 3);
        assert_eq!(merged["items"][0]["updated_at"], "2024-01-03T00:00:00Z");
        // null is "not set".
        let mut m = Merger::new(Prefer::Ours);
        let merged = m.merge(
            &[],
            None,
            Some(&json!({"d": null})),
            Some(&json!({"d": "x"})),
        );
        assert!(m.conflicts.is_empty());
        assert_eq!(merged.unwrap()["d"], "x");
    }

    #[test]
    fn set_and_get_follow_keyed_paths() {
        let mut v = json!({"links": [{"key": "a", "url": "u"}]});
        let at = [
            Step::Field("links".into()),
            Step::Key("a".into()),
            Step::Field("url".into()),
        ];
        assert_eq!(get(&v, &at), Some(&json!("u")));
        assert!(set(&mut v, &at, Some(json!("w"))));
        assert_eq!(get(&v, &at), Some(&json!("w")));
        assert!(set(&mut v, &at[..2], None));
        assert_eq!(v, json!({"links": []}));
        assert!(
            !set(&mut v, &at, Some(json!("x"))),
            "a missing parent changes nothing"
        );
    }
}
