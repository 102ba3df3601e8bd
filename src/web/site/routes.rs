//! Where each page lives: file names of the static site (relative links, so the site
//! works from `file://` and below any path of a static host), or GitLab's web paths
//! for `serve`.

use crate::archive::{self, Format};
use crate::url::escape_path;

/// A page or file of the release pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The list of releases, page N (1-based).
    Index(usize),
    /// One release's page.
    Release(&'a str),
    Stylesheet,
    Feed,
    Json,
    Badge,
    /// A source archive of a release.
    Archive(&'a str, Format),
    /// A release's evidence file: tag and sha.
    Evidence(&'a str, &'a str),
}

/// Where a page that links to others sits: at the root, or one directory down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Root,
    Release,
}

/// How pages name each other.
#[derive(Debug, Clone)]
pub enum Routes {
    /// `git release site`: `index.html`, `page-2.html`, `releases/<tag>.html`,
    /// `style.css`, `releases.atom`, `releases.json`, `badges/latest.svg`, and with
    /// `archives`, `archives/<tag>/<project>-<tag>.<format>`.
    Static {
        /// The site's public URL, for the feed's absolute links.
        base_url: Option<String>,
        /// Whether the site carries the source archives.
        archives: bool,
    },
    /// `git release serve`: GitLab's web paths below `prefix` (`/group/project`):
    /// `/-/releases[?page=N]`, `/-/releases/<tag>`, `/-/releases.atom`,
    /// `/-/releases.json`, `/-/releases.css`, `/-/badges/release.svg`,
    /// `/-/archive/<tag>/<project>-<tag>.<format>`.
    GitLab {
        /// The path the project is served at, without a trailing `/` (may be empty).
        prefix: String,
        /// The server's own base (`http://host:port`), for the feed's absolute links.
        base_url: Option<String>,
    },
}

impl Routes {
    /// The link to `to` from a page at `from`, with the project name for archive
    /// file names. `None`: the static site does not carry archives.
    pub fn href(&self, from: Depth, to: Target<'_>, project: &str) -> Option<String> {
        match self {
            Routes::Static { .. } => {
                let path = self.site_path(to, project)?;
                Some(match from {
                    Depth::Root => path,
                    Depth::Release => format!("../{path}"),
                })
            }
            Routes::GitLab { prefix, .. } => Some(match to {
                Target::Index(1) => format!("{prefix}/-/releases"),
                Target::Index(n) => format!("{prefix}/-/releases?page={n}"),
                Target::Release(tag) => format!("{prefix}/-/releases/{}", escape_path(tag)),
                Target::Stylesheet => format!("{prefix}/-/releases.css"),
                Target::Feed => format!("{prefix}/-/releases.atom"),
                Target::Json => format!("{prefix}/-/releases.json"),
                Target::Badge => format!("{prefix}/-/badges/release.svg"),
                Target::Evidence(tag, sha) => {
                    format!(
                        "{prefix}/-/releases/{}/evidences/{sha}.json",
                        escape_path(tag)
                    )
                }
                Target::Archive(tag, format) => format!(
                    "{prefix}/-/archive/{}/{}",
                    escape_path(tag),
                    escape_path(&archive::file_name(project, tag, format))
                ),
            }),
        }
    }

    /// The absolute URL of `to`, when the base is known (for the feed).
    pub fn absolute(&self, to: Target<'_>, project: &str) -> Option<String> {
        let base = match self {
            Routes::Static { base_url, .. } | Routes::GitLab { base_url, .. } => {
                base_url.as_deref()?.trim_end_matches('/')
            }
        };
        let href = self.href(Depth::Root, to, project)?;
        Some(match self {
            Routes::Static { .. } => format!("{base}/{href}"),
            Routes::GitLab { .. } => format!("{base}{href}"),
        })
    }

    /// The file of `to` in the static site, relative to its root.
    pub fn site_path(&self, to: Target<'_>, project: &str) -> Option<String> {
        Some(match to {
            Target::Index(1) => "index.html".into(),
            Target::Index(n) => format!("page-{n}.html"),
            Target::Release(tag) => format!("releases/{}.html", file_stem(tag)),
            Target::Stylesheet => "style.css".into(),
            Target::Feed => "releases.atom".into(),
            Target::Json => "releases.json".into(),
            Target::Badge => "badges/latest.svg".into(),
            // By sha alone: the sha names the bytes, whichever release they are of.
            Target::Evidence(_, sha) => format!("evidences/{sha}.json"),
            Target::Archive(tag, format) => {
                let Routes::Static { archives: true, .. } = self else {
                    return None;
                };
                format!(
                    "archives/{}/{}",
                    file_stem(tag),
                    file_stem(&archive::file_name(project, tag, format))
                )
            }
        })
    }
}

/// A tag as one safe file name: letters, digits and `-_.+@` stay, every other byte
/// (`/`, `%`, quotes, spaces, non-ASCII, …) becomes `~XX` (uppercase hex). git forbids
/// `~` in tag names, so this is one-to-one, and the result needs no escaping in a URL,
/// in HTML or on any common file system.
pub fn file_stem(tag: &str) -> String {
    let mut out = String::with_capacity(tag.len());
    for &b in tag.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.+@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("~{b:02X}"));
        }
    }
    // A leading dot would make a hidden file; git forbids it in tags, but not in a
    // project name that goes into an archive's name.
    if out.starts_with('.') {
        out.replace_range(0..1, "~2E");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_distinct() {
        assert_eq!(file_stem("v1.2.0"), "v1.2.0");
        assert_eq!(file_stem("group/v1"), "group~2Fv1");
        assert_eq!(file_stem("group-v1"), "group-v1");
        assert_eq!(file_stem("a\"<b>%"), "a~22~3Cb~3E~25");
        assert_eq!(file_stem("é"), "~C3~A9");
    }

    #[test]
    fn static_links_are_relative_to_the_page() {
        let routes = Routes::Static {
            base_url: Some("https://example.com/site/".into()),
            archives: false,
        };
        assert_eq!(
            routes.href(Depth::Release, Target::Index(1), "p").unwrap(),
            "../index.html"
        );
        assert_eq!(
            routes
                .href(Depth::Root, Target::Release("a/b"), "p")
                .unwrap(),
            "releases/a~2Fb.html"
        );
        assert_eq!(
            routes.absolute(Target::Feed, "p").unwrap(),
            "https://example.com/site/releases.atom"
        );
        assert_eq!(
            routes.href(Depth::Root, Target::Archive("v1", Format::Zip), "p"),
            None
        );
    }

    #[test]
    fn gitlab_paths() {
        let routes = Routes::GitLab {
            prefix: "/g/p".into(),
            base_url: Some("http://127.0.0.1:8080".into()),
        };
        assert_eq!(
            routes
                .href(Depth::Release, Target::Release("a/b c"), "p")
                .unwrap(),
            "/g/p/-/releases/a/b%20c"
        );
        assert_eq!(
            routes.absolute(Target::Index(2), "p").unwrap(),
            "http://127.0.0.1:8080/g/p/-/releases?page=2"
        );
    }
}
