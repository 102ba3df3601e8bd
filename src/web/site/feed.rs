//! `releases.atom`: an Atom 1.0 feed (RFC 4287) of the latest releases, written by
//! atom_syndication. Entry ids are tag-based and stable: the release's GitLab URL
//! (`<web_url>/-/releases/<tag>`) when the project's web URL is known, else its page on
//! the site's base URL, else a `urn:git-release:` name of project and tag.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, WriteConfig};

use crate::error::{Error, Result};
use crate::git::project::Project;
use crate::model::text;
use crate::present::gitlab::ReleaseEntity;
use crate::time::Timestamp;
use crate::url::escape_path;

use super::routes::{Depth, Routes, Target};

/// Entries in the feed: the newest released ones.
pub const ENTRIES: usize = 50;

/// The feed of `releases` (in list order, notes HTML included): the first
/// [`ENTRIES`] that are not upcoming.
pub fn render<'e>(
    releases: impl IntoIterator<Item = &'e ReleaseEntity>,
    project_info: &Project,
    routes: &Routes,
) -> Result<String> {
    let project = project_info.name.as_str();
    // Relative links resolve against the feed's own URL, which sits at the site's root.
    let link = |to: Target<'_>| {
        routes
            .absolute(to, project)
            .or_else(|| routes.href(Depth::Root, to, project))
    };
    let web = project_info.web_url.as_deref();
    let mut entries = Vec::new();
    let mut newest: Option<Timestamp> = None;
    for entity in releases
        .into_iter()
        .filter(|e| !e.upcoming_release)
        .take(ENTRIES)
    {
        let tag = entity.tag_name.as_str();
        let updated = entity.released_at.max(entity.created_at);
        newest = newest.max(Some(updated));
        let id = entity
            .links
            .self_url
            .clone()
            .or_else(|| routes.absolute(Target::Release(tag), project))
            .unwrap_or_else(|| {
                format!(
                    "urn:git-release:{}:{}",
                    escape_path(project).replace('/', "%2F"),
                    escape_path(tag)
                )
            });
        // XML 1.0 has no place for NUL, ESC or noncharacters, which a record that came
        // by import, fetch or plain git notes may hold: they are dropped.
        let clean = |text: &str| text::clean(text).into_owned();
        let mut entry = Entry::default();
        entry.set_id(clean(&id));
        entry.set_title(clean(&entity.name));
        entry.set_updated(fixed(updated));
        entry.set_published(Some(fixed(entity.released_at)));
        if let Some(href) = link(Target::Release(tag)) {
            entry.set_links(vec![alternate(href, "text/html")]);
        }
        entry.set_authors(vec![Person {
            name: clean(&entity.author.name),
            email: Some(clean(&entity.author.email)),
            ..Person::default()
        }]);
        entry.set_content(Some(Content {
            value: Some(clean(
                entity.description_html.as_deref().unwrap_or_default(),
            )),
            content_type: Some("html".into()),
            ..Content::default()
        }));
        entries.push(entry);
    }
    let mut feed = Feed::default();
    feed.set_id(
        web.map(|w| format!("{w}/-/releases"))
            .or_else(|| routes.absolute(Target::Index(1), project))
            .unwrap_or_else(|| {
                format!(
                    "urn:git-release:{}",
                    escape_path(project).replace('/', "%2F")
                )
            }),
    );
    feed.set_title(text::clean(&format!("{project} releases")).into_owned());
    feed.set_updated(fixed(newest.unwrap_or_else(epoch)));
    let mut links = Vec::new();
    if let Some(href) = link(Target::Feed) {
        links.push(Link {
            href,
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Link::default()
        });
    }
    if let Some(href) = link(Target::Index(1)) {
        links.push(alternate(href, "text/html"));
    }
    feed.set_links(links);
    write(feed, entries)
}

/// A release of a group's feed: its project, its entity, and the URL of its page
/// (when the site's base URL is known).
pub struct GroupEntry<'e> {
    pub project: &'e str,
    pub entity: &'e ReleaseEntity,
    pub href: Option<String>,
}

/// A group's feed (`site --root`): the first [`ENTRIES`] released ones of `releases`
/// (newest first), each titled with its project. `page` and `feed` are the group
/// page's and the feed's own URLs, when the base URL is known.
pub fn render_group(
    title: &str,
    releases: &[GroupEntry<'_>],
    page: Option<String>,
    feed_url: Option<String>,
) -> Result<String> {
    let clean = |text: &str| text::clean(text).into_owned();
    let mut entries = Vec::new();
    let mut newest: Option<Timestamp> = None;
    for release in releases
        .iter()
        .filter(|r| !r.entity.upcoming_release)
        .take(ENTRIES)
    {
        let entity = release.entity;
        let updated = entity.released_at.max(entity.created_at);
        newest = newest.max(Some(updated));
        let id = release
            .href
            .clone()
            .or_else(|| entity.links.self_url.clone())
            .unwrap_or_else(|| {
                format!(
                    "urn:git-release:{}:{}",
                    escape_path(release.project).replace('/', "%2F"),
                    escape_path(&entity.tag_name)
                )
            });
        let mut entry = Entry::default();
        entry.set_id(clean(&id));
        entry.set_title(clean(&format!("{}: {}", release.project, entity.name)));
        entry.set_updated(fixed(updated));
        entry.set_published(Some(fixed(entity.released_at)));
        if let Some(href) = &release.href {
            entry.set_links(vec![alternate(href.clone(), "text/html")]);
        }
        entry.set_authors(vec![Person {
            name: clean(&entity.author.name),
            email: Some(clean(&entity.author.email)),
            ..Person::default()
        }]);
        entry.set_content(Some(Content {
            value: Some(clean(
                entity.description_html.as_deref().unwrap_or_default(),
            )),
            content_type: Some("html".into()),
            ..Content::default()
        }));
        entries.push(entry);
    }
    let mut feed = Feed::default();
    feed.set_id(page.clone().unwrap_or_else(|| {
        format!(
            "urn:git-release:group:{}",
            escape_path(title).replace('/', "%2F")
        )
    }));
    feed.set_title(clean(&format!("{title} releases")));
    feed.set_updated(fixed(newest.unwrap_or_else(epoch)));
    let mut links = Vec::new();
    if let Some(href) = feed_url {
        links.push(Link {
            href,
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Link::default()
        });
    }
    if let Some(href) = page {
        links.push(alternate(href, "text/html"));
    }
    feed.set_links(links);
    write(feed, entries)
}

fn write(mut feed: Feed, entries: Vec<Entry>) -> Result<String> {
    feed.set_generator(Some(Generator {
        value: "git-release".into(),
        uri: None,
        version: None,
    }));
    feed.set_lang(Some("en".to_owned()));
    feed.set_entries(entries);
    let config = WriteConfig {
        write_document_declaration: true,
        indent_size: Some(2),
    };
    let mut bytes = feed
        .write_with_config(Vec::new(), config)
        .map_err(|e| Error::Feed { source: e.into() })?;
    bytes.push(b'\n');
    String::from_utf8(bytes).map_err(|e| Error::Feed { source: e.into() })
}

fn alternate(href: String, mime_type: &str) -> Link {
    Link {
        href,
        rel: "alternate".into(),
        mime_type: Some(mime_type.into()),
        ..Link::default()
    }
}

fn fixed(at: Timestamp) -> FixedDateTime {
    at.datetime().fixed_offset()
}

fn epoch() -> Timestamp {
    Timestamp::from_datetime(chrono::DateTime::UNIX_EPOCH)
}
