//! Three-way merge of JSON values, field by field. Objects merge key by key; arrays
//! whose elements are all objects carrying an internal `key` (links, evidence,
//! milestones, freezes) merge element by element by that key, never by position or
//! by the small display `id`. Anything else changed differently on both sides is a
//! conflict, resolved by the chosen side and reported.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// Keep the local value on a conflict (and report it).
    #[default]
    Ours,
    Theirs,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// Where: e.g. `release v1.2 → name`.
    pub path: String,
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
        path: &str,
        base: Option<&Value>,
        ours: Option<&Value>,
        theirs: Option<&Value>,
    ) -> Option<Value> {
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
                Some(Value::Object(self.merge_objects(path, b, o, t)))
            }
            (Some(Value::Array(o)), Some(Value::Array(t))) if is_keyed(o) && is_keyed(t) => {
                let b = base.and_then(Value::as_array).filter(|b| is_keyed(b));
                Some(Value::Array(self.merge_keyed(
                    path,
                    b.map(Vec::as_slice),
                    o,
                    t,
                )))
            }
            // Changed on one side and deleted on the other: keep the change, so that
            // nothing edited is lost.
            (Some(o), None) => Some(o.clone()),
            (None, Some(t)) => Some(t.clone()),
            _ => {
                self.conflicts.push(Conflict {
                    path: path.to_owned(),
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
        path: &str,
        base: Option<&Map<String, Value>>,
        ours: &Map<String, Value>,
        theirs: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut keys: Vec<&String> = ours.keys().collect();
        keys.extend(theirs.keys().filter(|k| !ours.contains_key(*k)));
        let mut out = Map::new();
        for key in keys {
            let child = join(path, key);
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
        path: &str,
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
                &format!("{path}[{key}]"),
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

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path} → {key}")
    }
}

fn element_key(value: &Value) -> Option<&str> {
    value.get("key").and_then(Value::as_str)
}

/// An array merged by identity: every element an object with a `key` (an empty list
/// qualifies, so that "one side removed every link" merges too).
fn is_keyed(list: &[Value]) -> bool {
    list.iter().all(|v| element_key(v).is_some())
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
            .merge("", Some(&base), Some(&ours), Some(&theirs))
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
                "release v1",
                Some(&base),
                Some(&json!({"name": "b"})),
                Some(&json!({"name": "c"})),
            );
            assert_eq!(merged.unwrap()["name"], want);
            assert_eq!(m.conflicts.len(), 1);
            assert_eq!(m.conflicts[0].path, "release v1 → name");
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
            .merge("links", Some(&base), Some(&ours), Some(&theirs))
            .unwrap();
        assert_eq!(
            merged,
            json!([l("k1", "uno"), l("k2", "two"), l("k3", "three")])
        );
        // Deleted on one side, untouched on the other: deleted.
        let mut m = Merger::new(Prefer::Ours);
        let merged = m
            .merge(
                "links",
                Some(&ours),
                Some(&json!([l("k2", "two")])),
                Some(&ours),
            )
            .unwrap();
        assert_eq!(merged, json!([l("k2", "two")]));
    }
}
