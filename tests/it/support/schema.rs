//! A small JSON Schema checker for the subset `fixtures/gitlab/*.json` uses (see the
//! README there): enough to pin our JSON to GitLab's shapes without a large
//! dependency.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitlab")
}

fn load(name: &str) -> Value {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Panics with every violation of `schema` (a file in fixtures/gitlab) by `value`.
#[track_caller]
pub fn assert_valid(value: &Value, schema: &str) {
    let mut errors = Vec::new();
    check(&load(schema), value, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{schema}:\n  {}\nin {}",
        errors.join("\n  "),
        serde_json::to_string_pretty(value).unwrap()
    );
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn format_ok(format: &str, text: &str) -> bool {
    match format {
        // GitLab's API times: UTC with milliseconds.
        "date-time" => {
            text.len() == 24
                && text.ends_with('Z')
                && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        }
        "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() && text.len() == 10,
        "evidence-time" => {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S UTC").is_ok()
        }
        other => panic!("unknown format {other:?} in a schema"),
    }
}

fn check(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(Value::String(file)) = schema.get("$ref") {
        return check(&load(file), value, at, errors);
    }
    if let Some(kind) = schema.get("type") {
        let allowed: Vec<&str> = match kind {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => panic!("bad type in schema at {at}"),
        };
        let actual = type_name(value);
        let number_ok = actual == "integer" && allowed.contains(&"number");
        if !allowed.contains(&actual) && !number_ok {
            errors.push(format!("{at}: {actual}, expected {}", allowed.join(" or ")));
            return;
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum") {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let (Some(Value::String(format)), Value::String(text)) = (schema.get("format"), value) {
        if !format_ok(format, text) {
            errors.push(format!("{at}: {text:?} is not a {format}"));
        }
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !object.contains_key(key) {
                    errors.push(format!("{at}: \"{key}\" is missing"));
                }
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => check(sub, item, &format!("{at}.{key}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: \"{key}\" is not in GitLab's shape"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Value::Array(array)) = (schema.get("items"), value) {
        for (i, item) in array.iter().enumerate() {
            check(items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    let ok = serde_json::json!({"id": 1, "name": "a", "url": "https://x", "direct_asset_url": "https://x", "link_type": "other"});
    assert_valid(&ok, "link.json");
    let mut errors = Vec::new();
    let bad = serde_json::json!({"id": "1", "name": "a", "url": "https://x", "link_type": "exe", "extra": 1});
    check(&load("link.json"), &bad, "$", &mut errors);
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(format_ok("evidence-time", "2019-06-28 13:23:40 UTC"));
    assert!(!format_ok("date-time", "2019-06-28T13:23:40Z"));
}
