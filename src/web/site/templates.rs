//! The page templates: built-in defaults, overridden file by file by the repository's
//! `.git-release/site/` (in the tree at HEAD) or by a `--templates DIR`.
//!
//! minijinja escapes every `{{ … }}` for HTML (and XML, for the SVG badge) unless a
//! template marks a value `| safe`; only the sanitized release notes are. A broken
//! template is an error naming its file and line, found before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::Repo;

/// Where a repository keeps its own templates, in the tree at HEAD.
pub const TREE_DIR: &str = ".git-release/site";

/// The most a template may do to render one page (minijinja's fuel: about one unit
/// per instruction). The built-in templates use well under a tenth of it for a page of
/// 50 releases; a repository's template that loops without end stops here.
pub const FUEL: u64 = 20_000_000;

/// The largest page a template may write (notes of a million characters, escaped,
/// stay well below).
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

/// The templates the pages are made from, with the stylesheet they use.
pub const NAMES: [&str; 5] = [
    "layout.html",
    "index.html",
    "release.html",
    "badge.svg",
    "group.html",
];
pub const STYLESHEET: &str = "style.css";

const DEFAULTS: [(&str, &str); 6] = [
    ("layout.html", include_str!("templates/layout.html")),
    ("group.html", include_str!("templates/group.html")),
    ("index.html", include_str!("templates/index.html")),
    ("release.html", include_str!("templates/release.html")),
    ("badge.svg", include_str!("templates/badge.svg")),
    ("style.css", include_str!("templates/style.css")),
];

/// Where the templates come from, first found wins for each file.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--templates DIR`.
    pub dir: Option<PathBuf>,
    /// Whether to look in `.git-release/site/` in HEAD's tree.
    pub tree: bool,
}

/// The compiled templates, ready to render.
pub struct Templates {
    env: Environment<'static>,
    /// What each template name was read from, for error messages.
    origins: BTreeMap<String, String>,
    stylesheet: String,
}

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Self {
        Self::from_files(
            DEFAULTS
                .iter()
                .map(|(name, text)| {
                    (
                        (*name).to_owned(),
                        ((*text).to_owned(), format!("built-in {name}")),
                    )
                })
                .collect(),
        )
        .expect("the built-in templates compile")
    }

    /// The built-in templates, each replaced by the repository's or the directory's
    /// file of the same name where there is one.
    pub fn load(repo: &Repo, sources: &Sources) -> Result<Self> {
        let mut files: BTreeMap<String, (String, String)> = DEFAULTS
            .iter()
            .map(|(name, text)| {
                (
                    (*name).to_owned(),
                    ((*text).to_owned(), format!("built-in {name}")),
                )
            })
            .collect();
        if sources.tree {
            for (name, text) in from_tree(repo)? {
                let origin = format!("{TREE_DIR}/{name}");
                files.insert(name, (text, origin));
            }
        }
        if let Some(dir) = &sources.dir {
            for (name, text, path) in from_dir(dir)? {
                files.insert(name, (text, path.display().to_string()));
            }
        }
        Self::from_files(files)
    }

    /// The built-in templates, each replaced by the directory's file of the same name
    /// where there is one: the pages of a root and its groups, which belong to no one
    /// repository.
    pub fn load_without_repository(dir: Option<&Path>) -> Result<Self> {
        let mut files: BTreeMap<String, (String, String)> = DEFAULTS
            .iter()
            .map(|(name, text)| {
                (
                    (*name).to_owned(),
                    ((*text).to_owned(), format!("built-in {name}")),
                )
            })
            .collect();
        if let Some(dir) = dir {
            for (name, text, path) in from_dir(dir)? {
                files.insert(name, (text, path.display().to_string()));
            }
        }
        Self::from_files(files)
    }

    fn from_files(mut files: BTreeMap<String, (String, String)>) -> Result<Self> {
        let (stylesheet, _) = files
            .remove(STYLESHEET)
            .expect("the stylesheet has a default");
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("html" | "htm" | "xml" | "svg") => AutoEscape::Html,
            _ => AutoEscape::None,
        });
        // minijinja's HTML escaping also turns `/` into `&#x2f;`, which is safe but makes
        // every URL unreadable in the page source and in diffs of a site kept in git;
        // this escapes the five characters that matter in text and quoted attributes.
        env.set_formatter(|out, state, value| match value.as_str() {
            Some(text) if *state.auto_escape() == AutoEscape::Html && !value.is_safe() => out
                .write_str(&escape_html(text))
                .map_err(minijinja::Error::from),
            _ => minijinja::escape_formatter(out, state, value),
        });
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
        env.set_fuel(Some(FUEL));
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        let mut origins = BTreeMap::new();
        for (name, (text, origin)) in files {
            origins.insert(name.clone(), origin);
            if let Err(e) = env.add_template_owned(name.clone(), text) {
                return Err(template_error(&origins, &name, &e));
            }
        }
        let templates = Templates {
            env,
            origins,
            stylesheet,
        };
        // Resolve `extends`/`include` targets now, so that a template naming one that
        // does not exist fails before any page is written.
        for name in NAMES {
            templates
                .env
                .get_template(name)
                .map_err(|e| templates.error(name, &e))?;
        }
        Ok(templates)
    }

    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }

    /// Renders template `name` with `context`, within [`FUEL`] and [`MAX_OUTPUT`].
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        let mut out = Limited {
            bytes: Vec::new(),
            over: false,
        };
        let rendered = template
            .render_captured_to(
                minijinja::Value::from(minijinja::value::Serde(context)),
                &mut out,
            )
            .map(drop);
        if out.over {
            return Err(Error::Template {
                file: self.origin(name),
                line: None,
                reason: format!(
                    "the page would be larger than {} MiB",
                    MAX_OUTPUT / (1024 * 1024)
                ),
            });
        }
        rendered.map_err(|e| self.error(name, &e))?;
        String::from_utf8(out.bytes).map_err(|_| Error::Template {
            file: self.origin(name),
            line: None,
            reason: "the page is not UTF-8".into(),
        })
    }

    fn origin(&self, name: &str) -> String {
        self.origins
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    fn error(&self, rendering: &str, e: &minijinja::Error) -> Error {
        template_error(&self.origins, rendering, e)
    }
}

/// "template <file> line N: <what>", naming the file the failing template was read
/// from (an `extends`ed layout, not only the page being rendered).
fn template_error(
    origins: &BTreeMap<String, String>,
    rendering: &str,
    e: &minijinja::Error,
) -> Error {
    let name = e.name().unwrap_or(rendering);
    let file = origins
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_owned());
    if e.kind() == minijinja::ErrorKind::OutOfFuel {
        return Error::Template {
            file,
            line: e.line(),
            reason: format!("rendering took more than {FUEL} steps (a loop that does not end?)"),
        };
    }
    let mut reason = e.kind().to_string();
    if let Some(detail) = e.detail() {
        reason = format!("{reason}: {detail}");
    }
    Error::Template {
        file,
        line: e.line(),
        reason,
    }
}

/// What the templates of `sources` are made of, hashed (each file's name and text): the
/// same fingerprint renders the same pages.
pub fn fingerprint(repo: &Repo, sources: &Sources) -> Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut add = |origin: &str, name: &str, text: &str| {
        for part in [origin, name, text] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
    };
    if sources.tree {
        for (name, text) in from_tree(repo)? {
            add("tree", &name, &text);
        }
    }
    if let Some(dir) = &sources.dir {
        for (name, text, _) in from_dir(dir)? {
            add("dir", &name, &text);
        }
    }
    Ok(hash.finalize().into())
}

/// A page being written, refused past [`MAX_OUTPUT`].
struct Limited {
    bytes: Vec<u8>,
    over: bool,
}

impl std::io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::other("the page is too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `&`, `<`, `>`, `"` and `'` as character references; characters no text may hold
/// (`model::text`: NUL, ESC, noncharacters…, from a record that came by import, fetch
/// or plain git notes) dropped, so a page or badge is always well-formed.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if crate::model::text::is_refused(c) => {}
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

fn is_template_name(name: &str) -> bool {
    NAMES.contains(&name) || name == STYLESHEET || name.ends_with(".html")
}

/// The template files of `.git-release/site/` in HEAD's tree (none when there is no
/// HEAD yet, or no such directory).
fn from_tree(repo: &Repo) -> Result<Vec<(String, String)>> {
    let git = repo.git();
    let Ok(head) = git.head().and_then(|h| h.peel_to_tree()) else {
        return Ok(Vec::new());
    };
    let Ok(entry) = head.get_path(Path::new(TREE_DIR)) else {
        return Ok(Vec::new());
    };
    let Ok(tree) = entry.to_object(git).and_then(|o| o.peel_to_tree()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in tree.iter() {
        let Some(name) = item.name().ok().filter(|n| is_template_name(n)) else {
            continue;
        };
        let Ok(blob) = item.to_object(git).and_then(|o| o.peel_to_blob()) else {
            continue;
        };
        let text = String::from_utf8(blob.content().to_vec()).map_err(|_| Error::Template {
            file: format!("{TREE_DIR}/{name}"),
            line: None,
            reason: "not UTF-8 text".into(),
        })?;
        out.push((name.to_owned(), text));
    }
    Ok(out)
}

/// The template files of a directory given with `--templates`.
fn from_dir(dir: &Path) -> Result<Vec<(String, String, PathBuf)>> {
    let read_dir = std::fs::read_dir(dir).map_err(|source| Error::ReadFile {
        path: dir.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    for entry in read_dir {
        let entry = entry.map_err(|source| Error::ReadFile {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let Some(name) = entry
            .file_name()
            .to_str()
            .filter(|n| is_template_name(n))
            .map(str::to_owned)
        else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|source| Error::ReadFile {
            path: path.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Template {
            file: path.display().to_string(),
            line: None,
            reason: "not UTF-8 text".into(),
        })?;
        out.push((name, text, path));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_escape_html() {
        let templates = Templates::builtin();
        let html = templates
            .render(
                "badge.svg",
                &serde_json::json!({"badge": {"label": "<x>", "value": "\"&", "width": 1,
                    "label_width": 1, "value_width": 1, "colour": "#000"}}),
            )
            .unwrap();
        assert!(html.contains("&lt;x&gt;"), "{html}");
        assert!(html.contains("&quot;&amp;"), "{html}");
        let html = templates
            .render(
                "badge.svg",
                &serde_json::json!({"badge": {"label": "a/b", "value": "'", "width": 1,
                    "label_width": 1, "value_width": 1, "colour": "#000"}}),
            )
            .unwrap();
        assert!(html.contains(">a/b<") && html.contains("&#39;"), "{html}");
    }

    fn with_index(text: &str) -> Templates {
        let mut files: BTreeMap<String, (String, String)> = DEFAULTS
            .iter()
            .map(|(n, t)| ((*n).to_owned(), ((*t).to_owned(), format!("built-in {n}"))))
            .collect();
        files.insert("index.html".into(), (text.into(), "site/index.html".into()));
        Templates::from_files(files).unwrap()
    }

    #[test]
    fn endless_or_enormous_templates_stop() {
        let endless = with_index(
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}",
        );
        let e = endless
            .render("index.html", &serde_json::json!({}))
            .unwrap_err();
        assert!(e.to_string().contains("site/index.html"), "{e}");
        assert!(e.to_string().contains("steps"), "{e}");
        let enormous = with_index("{% for a in range(100000) %}{{ 'x' * 100000 }}{% endfor %}");
        let e = enormous
            .render("index.html", &serde_json::json!({}))
            .unwrap_err();
        assert!(e.to_string().contains("larger than 64 MiB"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let mut files: BTreeMap<String, (String, String)> = DEFAULTS
            .iter()
            .map(|(n, t)| ((*n).to_owned(), ((*t).to_owned(), format!("built-in {n}"))))
            .collect();
        files.insert(
            "index.html".into(),
            (
                "line one\nline two\n{% if %}\n".into(),
                "site/index.html".into(),
            ),
        );
        let Err(e) = Templates::from_files(files) else {
            panic!("a broken template compiled");
        };
        let text = e.to_string();
        assert!(text.contains("site/index.html line 3"), "{text}");
    }
}
