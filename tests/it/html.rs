//! `--html`: description_html is GitLab Flavored Markdown rendered and sanitized.

use serde_json::Value;

use crate::support::{Env, Repo};

const NOTES: &str = "# Big news\n\n\
| os | ok |\n|----|----|\n| linux | yes |\n\n\
- [x] shipped\n- [ ] documented\n\n\
~~old~~ see https://example.com/download\n\n\
<script>alert('x')</script>\n\n\
<img src=\"logo.png\" onerror=\"alert(1)\" onclick=\"alert(2)\">\n\n\
[click](javascript:alert(3)) <a href=\"jAvAsCrIpT:alert(4)\">raw</a>\n\n\
<details><summary>More</summary>kept</details>\n";

fn released_with_notes(env: &Env) -> Repo<'_> {
    env.set("GIT_RELEASE_NOW", "2024-06-01T12:00:00Z");
    let repo = env.repo("proj");
    repo.commit("first", &[("a.txt", "a\n")]);
    repo.release_ok(["create", "v1", "--ref", "HEAD", "--notes", NOTES]);
    repo
}

#[test]
fn view_html_renders_gfm_and_strips_dangerous_html() {
    let env = Env::new();
    let repo = released_with_notes(&env);
    let plain: Value = serde_json::from_str(&repo.release_ok(["view", "v1", "--json"])).unwrap();
    assert!(plain.get("description_html").is_none(), "only with --html");

    let entity: Value =
        serde_json::from_str(&repo.release_ok(["view", "v1", "--json", "--html"])).unwrap();
    let keys: Vec<&str> = entity
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let at = keys.iter().position(|k| *k == "description_html").unwrap();
    assert_eq!(keys[at - 1], "historical_release", "{keys:?}");
    assert_eq!(keys[at + 1], "author", "{keys:?}");
    let html = entity["description_html"].as_str().unwrap();
    assert_eq!(entity["description"], NOTES, "the Markdown is unchanged");

    assert!(html.contains("<h1 id=\"big-news\">"), "{html}");
    assert!(
        html.contains("href=\"#big-news\""),
        "heading anchor: {html}"
    );
    assert!(
        html.contains("<table>") && html.contains("<td>linux</td>"),
        "{html}"
    );
    assert!(html.contains("type=\"checkbox\""), "{html}");
    assert!(html.contains("checked"), "{html}");
    assert!(html.contains("<del>old</del>"), "{html}");
    assert!(
        html.contains("<a href=\"https://example.com/download\""),
        "{html}"
    );
    assert!(
        html.contains("<details>") && html.contains("kept"),
        "{html}"
    );

    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("alert('x')"), "{html}");
    assert!(
        !lower.contains("onerror") && !lower.contains("onclick"),
        "{html}"
    );
    assert!(!lower.contains("javascript:"), "{html}");
    assert!(
        html.contains("<img src=\"logo.png\">"),
        "safe attributes stay: {html}"
    );
}

#[test]
fn list_html_adds_description_html_to_every_entity() {
    let env = Env::new();
    let repo = released_with_notes(&env);
    repo.release_ok(["create", "v2", "--ref", "HEAD", "--notes", "**bold**"]);
    repo.release_ok(["create", "v3", "--ref", "HEAD"]);
    let list: Value = serde_json::from_str(&repo.release_ok(["list", "--json", "--html"])).unwrap();
    let by_tag = |tag: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["tag_name"] == tag)
            .unwrap()
            .clone()
    };
    assert_eq!(
        by_tag("v2")["description_html"],
        "<p><strong>bold</strong></p>\n"
    );
    assert_eq!(by_tag("v3")["description_html"], "");
    let list: Value = serde_json::from_str(&repo.release_ok(["list", "--json"])).unwrap();
    assert!(list[0].get("description_html").is_none());

    let human = repo.release_ok(["view", "v2", "--html"]);
    assert!(human.contains("<p><strong>bold</strong></p>"), "{human}");
}
