//! Release descriptions as HTML: GitLab Flavored Markdown rendered by comrak (a port of
//! the cmark-gfm engine GitLab used), then sanitized by ammonia.
//!
//! GitLab lets safe raw HTML through (`<details>`, `<kbd>`, `<sub>`, …) and removes the
//! rest, so raw HTML is rendered and then cleaned by an allow-list: comrak's own safe
//! mode would drop every tag, and a hand-written filter would miss cases an HTML5
//! parser sees (that is why ammonia is a dependency).

use std::collections::HashSet;

use comrak::nodes::NodeValue;
use comrak::{Options, markdown_to_html};

/// Renders `markdown` to sanitized HTML: tables, task lists, strikethrough, autolinks
/// and heading anchors on; no scripts, event handlers or `javascript:` URLs survive.
pub fn to_html(markdown: &str) -> String {
    let html = markdown_to_html(markdown, &options());
    sanitizer().clean(&html).to_string()
}

/// The first words of `markdown` as plain text, at most `max_chars` characters (cut
/// at a word, with `…`): what a list of releases shows of each one's notes. Markup,
/// raw HTML and code blocks are left out; the caller escapes the text like any other.
pub fn summary(markdown: &str, max_chars: usize) -> String {
    // The first words are in the first few kilobytes; a million-character
    // description need not be parsed twice.
    let mut end = markdown.len().min(max_chars.saturating_mul(4).max(4096));
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, &markdown[..end], &options());
    let mut text = String::new();
    // The first block of text after any headings: a paragraph, a list (its items
    // joined with " · "), a quote or a table.
    for block in root.children() {
        if matches!(
            block.data.borrow().value,
            NodeValue::Heading(_)
                | NodeValue::CodeBlock(_)
                | NodeValue::HtmlBlock(_)
                | NodeValue::ThematicBreak
        ) {
            continue;
        }
        // Text between inline <script>/<style> tags is code, not words (the
        // sanitizer drops it from the HTML too).
        let mut in_raw = false;
        for node in block.descendants() {
            match &node.data.borrow().value {
                NodeValue::HtmlInline(html) => {
                    let lower = html.to_ascii_lowercase();
                    if lower.starts_with("<script") || lower.starts_with("<style") {
                        in_raw = true;
                    } else if lower.starts_with("</script") || lower.starts_with("</style") {
                        in_raw = false;
                    }
                }
                _ if in_raw => {}
                NodeValue::Text(t) => text.push_str(t),
                NodeValue::Code(c) => text.push_str(&c.literal),
                NodeValue::Item(_) if !text.trim().is_empty() => text.push_str(" · "),
                NodeValue::SoftBreak
                | NodeValue::LineBreak
                | NodeValue::Paragraph
                | NodeValue::TableCell => text.push(' '),
                _ => {}
            }
            if text.chars().count() > max_chars {
                break;
            }
        }
        if !text.trim().is_empty() {
            break;
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words.iter() {
        let extra = usize::from(!out.is_empty()) + word.chars().count();
        if out.chars().count() + extra > max_chars {
            if out.is_empty() {
                out = word.chars().take(max_chars).collect();
            }
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    // An empty prefix turns on heading ids with anchor links, as GitLab has.
    options.extension.header_id_prefix = Some(String::new());
    // Raw HTML is let through here only because ammonia cleans the result below.
    options.render.r#unsafe = true;
    options
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["input"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("a", ["id", "class", "aria-label", "aria-hidden"])
        .add_tag_attributes("code", ["class"])
        .add_tag_attributes("pre", ["lang"]);
    for heading in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        builder.add_tag_attributes(heading, ["id"]);
    }
    // Task-list boxes are display only, as GitLab renders them outside an editor.
    builder.set_tag_attribute_value("input", "disabled", "");
    let schemes: HashSet<&str> = ["http", "https", "ftp", "mailto", "irc", "ircs"]
        .into_iter()
        .collect();
    builder.url_schemes(schemes);
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gfm_features_render() {
        let html = to_html(
            "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ https://example.com\n",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
        assert!(html.contains("id=\"title\""), "{html}");
        assert!(html.contains("href=\"#title\""), "{html}");
    }

    #[test]
    fn summaries_are_plain_text_cut_at_a_word() {
        assert_eq!(
            summary(
                "# Big *news*\n\n<script>x()</script>\n\n```\ncode\n```\nSee `a` <script>y()</script>[b](http://c).",
                100
            ),
            "See a b."
        );
        assert_eq!(summary("one two three", 9), "one two…");
        assert_eq!(
            summary("## Changes\n\n* fast\n* `safe`\n\nMore.", 99),
            "fast · safe"
        );
        assert_eq!(summary("abcdefghij", 4), "abcd…");
        assert_eq!(summary("", 10), "");
    }

    #[test]
    fn dangerous_html_is_removed() {
        let html = to_html(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">y</a>\n\n<details><summary>s</summary>kept</details>\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains("<details>"), "{html}");
    }
}
