//! Release descriptions as HTML: GitLab Flavored Markdown rendered by comrak (a port of
//! the cmark-gfm engine GitLab used), then sanitized by ammonia.
//!
//! GitLab lets safe raw HTML through (`<details>`, `<kbd>`, `<sub>`, …) and removes the
//! rest, so raw HTML is rendered and then cleaned by an allow-list: comrak's own safe
//! mode would drop every tag, and a hand-written filter would miss cases an HTML5
//! parser sees (that is why ammonia is a dependency).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};

use comrak::nodes::NodeValue;
use comrak::{Options, markdown_to_html};
use sha2::{Digest, Sha256};

use crate::model::text;

/// Containers nested deeper than this (block quotes, lists, raw HTML elements) are
/// not rendered: comrak and ammonia take time that grows with the square of the
/// depth, and no release note needs more.
pub const MAX_DEPTH: usize = 64;

/// Notes longer than this (in bytes) are not rendered either: a million characters
/// (GitLab's limit on a description) of up to four bytes each.
pub const MAX_BYTES: usize = 4_000_000;

/// Rendered notes with more elements than this are shown as text instead: ammonia
/// builds and serializes a tree of every element (a table row of 4 bytes of Markdown
/// becomes 5 elements), which is where a million characters take seconds.
pub const MAX_ELEMENTS: usize = 100_000;

/// The most work (bytes scanned) html5ever's serializer may do on the rendered notes.
/// It looks for the next `<` or `>` again after every `&` or U+0080..U+00BF it
/// escapes, so a long run of text with many of those and no `<`/`>` costs the run's
/// length for each one of them (a million `&#` took 4 s of CPU).
const MAX_SERIALIZING_COST: u64 = 2_000_000_000;

/// The number of elements in `html` (comrak's output), and an upper bound of what
/// serializing it after sanitizing will scan: for each stretch between `<`, `>`,
/// `&lt;` and `&gt;` (which become `<` and `>` in the tree), its length times the
/// number of `&` and 0xC2 bytes in it.
fn sanitizing_cost(html: &str) -> (usize, u64) {
    let bytes = html.as_bytes();
    let mut elements = 0;
    let mut cost: u64 = 0;
    let (mut start, mut escapes) = (0usize, 0u64);
    let mut i = 0;
    while i < bytes.len() {
        let stop = match bytes[i] {
            b'<' => {
                if bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
                    elements += 1;
                }
                1
            }
            b'>' => 1,
            b'&' if bytes[i..].starts_with(b"&lt;") || bytes[i..].starts_with(b"&gt;") => 4,
            b'&' | 0xC2 => {
                escapes += 1;
                0
            }
            _ => 0,
        };
        if stop > 0 {
            cost = cost.saturating_add(escapes.saturating_mul((i - start) as u64));
            escapes = 0;
            i += stop;
            start = i;
        } else {
            i += 1;
        }
    }
    cost = cost.saturating_add(escapes.saturating_mul((bytes.len() - start) as u64));
    (elements, cost)
}

/// Renders `markdown` to sanitized HTML: tables, task lists, strikethrough, autolinks
/// and heading anchors on; no scripts, event handlers or `javascript:` URLs survive;
/// characters no text field may hold (`model::text`) dropped.
///
/// Each distinct text is rendered once per process (kept by its SHA-256, shared by
/// the API, the pages and `site`). Text nested deeper than [`MAX_DEPTH`] or longer
/// than [`MAX_BYTES`] is shown as escaped plain text, with a note saying why.
///
/// Images load only from the project itself: an `<img>` keeps its `src` when it is a
/// relative URL or one on `origin` (the project's own `scheme://host[:port]`), and
/// loses it otherwise (its `alt` text stays), so that reading the notes tells no
/// outside server who reads them.
pub fn to_html(markdown: &str, origin: Option<&str>) -> String {
    let mut hash = Sha256::new();
    hash.update(origin.unwrap_or_default().as_bytes());
    hash.update([0]);
    hash.update(markdown.as_bytes());
    let key: [u8; 32] = hash.finalize().into();
    if let Some(html) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return html.to_string();
    }
    let html: Arc<str> = render(markdown, origin).into();
    CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .put(key, Arc::clone(&html));
    html.to_string()
}

/// What [`to_html`] makes of `markdown`, uncached.
fn render(markdown: &str, origin: Option<&str>) -> String {
    let markdown = text::clean(markdown);
    match assess(&markdown) {
        Assessment::Renderable => {
            let html = markdown_to_html(&markdown, &options());
            let (elements, cost) = sanitizing_cost(&html);
            if elements > MAX_ELEMENTS || cost > MAX_SERIALIZING_COST {
                return plain(
                    &markdown,
                    "These notes would make too large a page (too many elements, or text html5ever escapes slowly), so they are shown as plain text.",
                );
            }
            sanitizer(origin).clean(&html).to_string()
        }
        Assessment::TooDeep => plain(
            &markdown,
            &format!(
                "These notes nest quotes, lists or HTML elements more than {MAX_DEPTH} levels deep, so they are shown as plain text."
            ),
        ),
        Assessment::TooLong => plain(
            &markdown,
            &format!(
                "These notes are longer than {MAX_BYTES} bytes, so they are shown as plain text (cut)."
            ),
        ),
    }
}

/// The notes as escaped text in a `<pre>`, after a note saying why.
fn plain(markdown: &str, why: &str) -> String {
    let mut end = markdown.len().min(MAX_BYTES);
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "<p class=\"notes-unrendered\"><em>{why}</em></p>\n<pre class=\"notes-unrendered\">{}</pre>\n",
        escape(&markdown[..end])
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, PartialEq, Eq)]
enum Assessment {
    Renderable,
    TooDeep,
    TooLong,
}

/// Whether `markdown` can be rendered in time proportional to its length: at most
/// [`MAX_BYTES`], and nested at most [`MAX_DEPTH`] deep. The depth is an upper bound
/// found in one pass: Markdown containers opened at the start of a line (`>` and list
/// markers, with the indentation that nests list items) plus raw HTML elements still
/// open (as an HTML parser would close them, roughly).
fn assess(markdown: &str) -> Assessment {
    if markdown.len() > MAX_BYTES {
        return Assessment::TooLong;
    }
    if markdown_depth(markdown) + html_depth(markdown) > MAX_DEPTH {
        return Assessment::TooDeep;
    }
    Assessment::Renderable
}

/// The deepest container nesting a line opens: each `>` and list marker at the start
/// of a line is one level, and indentation before a marker nests list items (at
/// least two columns a level). Lines of fenced code blocks open nothing.
fn markdown_depth(markdown: &str) -> usize {
    let mut deepest = 0;
    let mut fence: Option<(u8, usize)> = None;
    for line in markdown.lines() {
        let bytes = line.as_bytes();
        let mut i = 0;
        let mut columns = 0;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            columns += if bytes[i] == b'\t' { 4 } else { 1 };
            i += 1;
        }
        // Inside a fenced code block only its closing fence matters.
        let run = |at: usize, c: u8| bytes[at..].iter().take_while(|&&b| b == c).count();
        if let Some((c, len)) = fence {
            if i < bytes.len() && bytes[i] == c && run(i, c) >= len {
                fence = None;
            }
            continue;
        }
        let mut markers = 0;
        loop {
            match bytes.get(i) {
                Some(b'>') => {
                    markers += 1;
                    i += 1;
                }
                Some(b'-' | b'+' | b'*')
                    if matches!(bytes.get(i + 1), Some(b' ' | b'\t') | None) =>
                {
                    markers += 1;
                    i += 1;
                }
                Some(b'0'..=b'9') => {
                    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                    if digits <= 9
                        && matches!(bytes.get(i + digits), Some(b'.' | b')'))
                        && matches!(bytes.get(i + digits + 1), Some(b' ' | b'\t') | None)
                    {
                        markers += 1;
                        i += digits + 1;
                    } else {
                        break;
                    }
                }
                Some(b' ' | b'\t') => i += 1,
                _ => break,
            }
        }
        if markers == 0 {
            if let Some(&c @ (b'`' | b'~')) = bytes.get(i)
                && run(i, c) >= 3
            {
                fence = Some((c, run(i, c)));
            }
            continue;
        }
        deepest = deepest.max(markers + columns / 2);
    }
    deepest
}

/// Elements that never hold others.
const VOID: [&str; 15] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen",
];

/// Elements an HTML parser closes when another of the same opens.
const SELF_CLOSING_SIBLINGS: [&str; 9] = ["p", "li", "dt", "dd", "option", "tr", "td", "th", "a"];

/// The deepest nesting of raw HTML elements, following start and end tags as a parser
/// would, roughly: void elements and `<x/>` hold nothing, an end tag closes up to the
/// element it names (and nothing if none is open), a `<p>` or `<li>` closes the one
/// open just before it. Code (fenced blocks, code spans) holds no elements. Counting
/// stops once past [`MAX_DEPTH`]; every step looks a bounded distance ahead, so the
/// whole is linear (code spans through a table of backtick runs, as cmark finds them).
fn html_depth(markdown: &str) -> usize {
    let bytes = markdown.as_bytes();
    let closers = BacktickRuns::new(bytes);
    let mut open: Vec<&str> = Vec::new();
    let mut deepest = 0;
    let mut fence: Option<(u8, usize)> = None;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        if line_start {
            line_start = false;
            let text = bytes[i..]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            let at = i + text;
            if let Some(&c @ (b'`' | b'~')) = bytes.get(at) {
                let run = bytes[at..].iter().take_while(|&&b| b == c).count();
                if run >= 3 {
                    fence = match fence {
                        None => Some((c, run)),
                        Some((open_c, open_run)) if open_c == c && run >= open_run => None,
                        still => still,
                    };
                    i = memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |e| at + e);
                    continue;
                }
            }
        }
        let b = bytes[i];
        if b == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if fence.is_some() {
            i += 1;
            continue;
        }
        if b == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            i = closers.after_closer(i + run, run).unwrap_or(i + run);
            continue;
        }
        if b != b'<' {
            i += 1;
            continue;
        }
        i += 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        // A tag name ends at a blank, `/` or `>`: `<https://…>` is an autolink.
        let ends_name = matches!(
            bytes.get(start + len),
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>')
        );
        if len == 0 || !bytes[start].is_ascii_alphabetic() || !ends_name {
            continue;
        }
        let name = &markdown[start..start + len];
        if closing {
            if let Some(at) = open.iter().rposition(|o| o.eq_ignore_ascii_case(name)) {
                open.truncate(at);
            }
            continue;
        }
        // `<x … />`: the tag's end, looked for no further than the next `<`.
        let rest = &bytes[start + len..bytes.len().min(start + len + 4096)];
        let end = rest
            .iter()
            .position(|&b| b == b'>' || b == b'<')
            .filter(|&e| rest[e] == b'>');
        let self_closed = end.is_some_and(|e| e > 0 && rest[e - 1] == b'/');
        let lower = name.to_ascii_lowercase();
        if self_closed || VOID.contains(&lower.as_str()) {
            continue;
        }
        if SELF_CLOSING_SIBLINGS.contains(&lower.as_str())
            && open.last().is_some_and(|o| o.eq_ignore_ascii_case(name))
        {
            open.pop();
        }
        open.push(name);
        deepest = deepest.max(open.len());
        if deepest > MAX_DEPTH {
            break;
        }
    }
    deepest
}

/// Where each run of backticks of each length starts, to find a code span's closer.
struct BacktickRuns {
    by_length: HashMap<usize, Vec<usize>>,
}

impl BacktickRuns {
    fn new(bytes: &[u8]) -> Self {
        let mut by_length: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'`' {
                let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                by_length.entry(run).or_default().push(i);
                i += run;
            } else {
                i += 1;
            }
        }
        BacktickRuns { by_length }
    }

    /// Just past the first run of exactly `length` backticks at or after `from`.
    fn after_closer(&self, from: usize, length: usize) -> Option<usize> {
        let starts = self.by_length.get(&length)?;
        let at = starts.partition_point(|&s| s < from);
        starts.get(at).map(|s| s + length)
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// Rendered notes by the SHA-256 of their Markdown, up to [`CACHE_BYTES`] of HTML;
/// the oldest go first.
static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(|| Mutex::new(Cache::default()));

const CACHE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct Cache {
    html: HashMap<[u8; 32], Arc<str>>,
    order: VecDeque<[u8; 32]>,
    bytes: usize,
}

impl Cache {
    fn get(&self, key: &[u8; 32]) -> Option<Arc<str>> {
        self.html.get(key).cloned()
    }

    fn put(&mut self, key: [u8; 32], html: Arc<str>) {
        if html.len() > CACHE_BYTES / 4 || self.html.contains_key(&key) {
            return;
        }
        self.bytes += html.len();
        self.html.insert(key, html);
        self.order.push_back(key);
        while self.bytes > CACHE_BYTES {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.html.remove(&oldest) {
                self.bytes -= gone.len();
            }
        }
    }
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
    let prefix = text::clean(&markdown[..end]);
    if assess(&prefix) != Assessment::Renderable {
        // Too deep to parse in time: the words as they stand, markers and all.
        return cut_at_word(&prefix.split_whitespace().collect::<Vec<_>>(), max_chars);
    }
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, &prefix, &options());
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
    cut_at_word(&words, max_chars)
}

/// `words` joined by spaces, at most `max_chars` characters, cut at a word with `…`.
fn cut_at_word(words: &[&str], max_chars: usize) -> String {
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

/// Whether an image at `src` may load: a relative URL, or one on `origin`. The URL is
/// read as a browser reads it: tabs and line breaks dropped, `\\` as `/`.
fn image_allowed(src: &str, origin: Option<&str>) -> bool {
    let src: String = src
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .trim_matches(|c: char| c <= ' ')
        .replace('\\', "/");
    let scheme_end = src.find(':');
    let path_start = src.find(['/', '?', '#']);
    let relative = !src.starts_with("//")
        && match (scheme_end, path_start) {
            (None, _) => true,
            (Some(colon), Some(slash)) => slash < colon,
            (Some(_), None) => false,
        };
    if relative {
        return true;
    }
    origin.is_some_and(|origin| {
        let origin = origin.trim_end_matches('/');
        src.len() > origin.len()
            && src.is_char_boundary(origin.len())
            && src[..origin.len()].eq_ignore_ascii_case(origin)
            && matches!(src.as_bytes()[origin.len()], b'/' | b'?' | b'#')
    })
}

fn sanitizer(origin: Option<&str>) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    let origin = origin.map(str::to_owned);
    builder.attribute_filter(move |element, attribute, value| {
        if element == "img" && attribute == "src" && !image_allowed(value, origin.as_deref()) {
            None
        } else {
            Some(value.into())
        }
    });
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

    fn to_html_plain(markdown: &str) -> String {
        to_html(markdown, None)
    }

    #[test]
    fn images_load_only_from_the_project() {
        let html = to_html(
            "![a](logo.png) ![b](/p/x.png) ![c](https://evil.example/t.gif) ![d](//evil.example/t.gif) <img src=\"/\\evil.example/x\"> <img src=\" /&#9;/evil.example/y\">\n\n\
             <img src=\"https://proj.example/ok.png\"> <img src=\"https://proj.example.evil/x.png\"> <img src=\"HTTPS://PROJ.EXAMPLE/up.png\">",
            Some("https://proj.example"),
        );
        assert!(html.contains("src=\"logo.png\""), "{html}");
        assert!(html.contains("src=\"/p/x.png\""), "{html}");
        assert!(
            html.contains("src=\"https://proj.example/ok.png\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"HTTPS://PROJ.EXAMPLE/up.png\""),
            "{html}"
        );
        assert!(!html.contains("evil"), "{html}");
        assert!(html.contains("alt=\"c\""), "{html}");
        let none = to_html("![c](https://proj.example/ok.png)", None);
        assert!(!none.contains("src="), "{none}");
    }

    #[test]
    fn gfm_features_render() {
        let html = to_html_plain(
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
    fn nesting_is_measured_before_parsing() {
        assert_eq!(markdown_depth("> a\n> > b\n- x\n  - y\n    1. z\n"), 3);
        assert_eq!(markdown_depth("```\n> > > > >\n```\n> a\n"), 1);
        assert_eq!(markdown_depth("a - b > c\n-not a list\n"), 0);
        assert_eq!(html_depth("<div><p>a<p>b<br><img/></div><span>"), 2);
        assert_eq!(html_depth("<b></i><b></i><b>"), 3);
        assert_eq!(html_depth("<li>a<li>b<li>c"), 1);
        assert_eq!(html_depth("a < b and 1<2 </x>"), 0);
        assert_eq!(html_depth("<https://example.com> <a:b>"), 0);
        assert_eq!(html_depth("`<div>` ``<div>`` <span>`x`"), 1);
        assert_eq!(
            html_depth("```\n<div><div>\n```\n<b>\n~~~~\n<i>\n~~~\n<u>\n~~~~\n"),
            1
        );
        assert!(html_depth(&format!("{}x", "<a".repeat(100_000))) <= 1);
        assert!(html_depth(&"<div>".repeat(100_000)) <= MAX_DEPTH + 1);
    }

    #[test]
    fn too_deep_or_too_long_notes_are_plain_text_with_a_note() {
        let deep = format!("{}<script>x</script>", "> ".repeat(100_000));
        let html = to_html_plain(&deep);
        assert!(
            html.starts_with("<p class=\"notes-unrendered\"><em>These notes nest"),
            "{}",
            &html[..200]
        );
        assert!(html.contains("&gt; &gt; &gt;"));
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script"));
        let divs = to_html_plain(&"<div>".repeat(150_000));
        assert!(divs.contains("&lt;div&gt;") && !divs.contains("<div>"));
        let nested = format!("{}x", "> ".repeat(MAX_DEPTH));
        assert!(to_html_plain(&nested).starts_with("<blockquote>"));
        let long = "word ".repeat(MAX_BYTES / 5 + 1);
        let html = to_html_plain(&long);
        assert!(html.contains("longer than"), "{}", &html[..200]);
        assert!(html.len() < MAX_BYTES + 1000);
        assert_eq!(summary(&"> ".repeat(5000), 20), "> > > > > > > > > >…");
    }

    #[test]
    fn notes_too_costly_to_sanitize_are_plain_text() {
        let entities = to_html_plain(&"&#".repeat(400_000));
        assert!(
            entities.contains("too large a page"),
            "{}",
            &entities[..200]
        );
        let dots = to_html_plain(&"\u{b7}".repeat(400_000));
        assert!(dots.contains("too large a page"), "{}", &dots[..200]);
        let rows = format!("| a | b |\n|---|---|\n{}", "|x|\n".repeat(100_000));
        assert!(to_html_plain(&rows).contains("too large a page"));
        assert_eq!(sanitizing_cost("<p>a &amp; b &lt; c</p>"), (1, 10));
        let ordinary = "Fixes & features, © 2024 — see <https://example.com>.\n\n".repeat(2000);
        assert!(!to_html_plain(&ordinary).contains("plain text"));
    }

    #[test]
    fn refused_characters_are_dropped_and_renderings_are_kept() {
        assert_eq!(to_html_plain("a\u{0}b\u{b}c\u{fffe}"), "<p>abc</p>\n");
        let once = to_html_plain("*kept* 1");
        let twice = to_html_plain("*kept* 1");
        assert_eq!(once, twice);
        assert!(!CACHE.lock().unwrap().html.is_empty());
    }

    #[test]
    fn dangerous_html_is_removed() {
        let html = to_html_plain(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3)) <a href=\"JaVaScRiPt:alert(4)\">y</a>\n\n<details><summary>s</summary>kept</details>\n",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(html.contains("<details>"), "{html}");
    }
}
