//! The release pages, rendered to bytes: the one rendering module behind `git release
//! site` (which writes them to files) and `git release serve` (which answers with
//! them). Every field comes from the GitLab entities (`gitlab::EntityContext`), so the
//! pages, the feed, `--json` and the API agree.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::archive::{self, Format, Written};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::Found;
use crate::model::evidence::{self, Facts};
use crate::present::gitlab::{EntityContext, EvidenceUrl, ReleaseEntity};
use crate::present::markdown;
use crate::release;
use crate::release::ordering::{self, Direction, OrderBy};
use crate::store::Snapshot;
use crate::text::shell_quote;
use crate::time::Timestamp;

use super::feed;
use super::routes::{Depth, Routes, Target};
use super::templates::Templates;

/// Releases on one page of the list.
pub const PER_PAGE: usize = 50;
/// Characters of each release's notes shown in the list.
pub const SUMMARY_CHARS: usize = 280;

/// Everything the pages are made from, read once.
pub struct Pages<'r> {
    context: EntityContext<'r>,
    /// In list order: newest release date first.
    releases: Vec<Found>,
    templates: Templates,
    /// Each release's GitLab entity (with its notes as HTML), made once.
    entities: BTreeMap<String, ReleaseEntity>,
    /// The newest evidence snapshot of each release that has one.
    facts: BTreeMap<String, Facts>,
    /// Digests of archives made with the pages (`site --with-archives`), by tag.
    archives: BTreeMap<String, Vec<Written>>,
    /// Records that could not be read, said as warnings by the caller.
    pub problems: Vec<Error>,
}

#[derive(Serialize)]
struct SiteContext<'a> {
    lang: &'static str,
    project: &'a str,
    web_url: Option<&'a str>,
    index: Option<String>,
    stylesheet: Option<String>,
    feed: Option<String>,
    json: Option<String>,
    badge: Option<String>,
}

#[derive(Serialize)]
struct IndexContext<'a> {
    site: SiteContext<'a>,
    page: PageInfo,
    releases: Vec<IndexItem<'a>>,
    latest: Option<&'a str>,
}

#[derive(Serialize)]
struct PageInfo {
    number: usize,
    count: usize,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
    links: Vec<PageLink>,
}

#[derive(Serialize)]
struct PageLink {
    number: usize,
    href: Option<String>,
    current: bool,
}

#[derive(Serialize)]
struct IndexItem<'a> {
    tag: &'a str,
    name: &'a str,
    href: Option<String>,
    released_at: Timestamp,
    released_date: String,
    upcoming: bool,
    historical: bool,
    summary: String,
}

#[derive(Serialize)]
struct ReleaseContext<'a> {
    site: SiteContext<'a>,
    release: &'a ReleaseEntity,
    released_date: String,
    created_date: String,
    sources: Vec<SourceItem>,
    links: Vec<LinkItem>,
    evidences: Vec<EvidenceItem>,
    /// The command that checks the latest snapshot with plain git, its path quoted
    /// (a fetched record's `filepath` is anybody's text).
    evidence_check: Option<String>,
    archive_check: Option<String>,
    tag_object: Option<String>,
    annotated: bool,
    commit_id: String,
}

#[derive(Serialize)]
struct SourceItem {
    format: &'static str,
    file_name: String,
    href: Option<String>,
    size: Option<u64>,
    size_text: String,
    sha256: Option<String>,
}

#[derive(Serialize)]
struct LinkItem {
    name: String,
    direct_asset_url: String,
    safe_url: bool,
    link_type: &'static str,
    sha256: Option<String>,
    size: Option<u64>,
}

#[derive(Serialize)]
struct EvidenceItem {
    sha: String,
    filepath: String,
    collected_at: Timestamp,
    /// `2025-06-01 12:00 UTC`.
    collected_text: String,
}

#[derive(Serialize)]
struct BadgeContext {
    badge: Badge,
}

#[derive(Serialize)]
struct Badge {
    label: &'static str,
    value: String,
    colour: &'static str,
    width: u32,
    label_width: u32,
    value_width: u32,
}

impl<'r> Pages<'r> {
    /// Reads the releases (in list order), their milestones and newest evidence.
    /// `base_url`: the site's public URL, where its evidence files are linked from.
    pub fn new(repo: &'r Repo, templates: Templates, base_url: Option<String>) -> Result<Self> {
        let mut context = EntityContext::new(repo)?;
        context.evidence_url = EvidenceUrl::Site { base_url };
        Self::with_context(repo, templates, context, release::list(repo)?)
    }

    /// Every evidence file of the releases (tag, sha, bytes as stored): `site` writes
    /// them where `evidences[].filepath` points. One that cannot be read (a record
    /// naming a file the notes do not hold) is left out: the pages do not depend on it,
    /// and `git release verify` names it.
    pub fn evidence_files(&self) -> Vec<(String, String, Vec<u8>)> {
        let mut files = Vec::new();
        for found in &self.releases {
            for evidence in &found.release.evidences {
                if let Ok((_, bytes)) =
                    crate::audit::evidence::show(self.context.repo, &found.tag, Some(&evidence.sha))
                {
                    files.push((found.tag.clone(), evidence.sha.clone(), bytes));
                }
            }
        }
        files
    }

    /// The pages of the project as served at `web_url` (`serve`), whose URLs the
    /// entities and pages are built on, made from `releases` as the server already
    /// holds them (its cached list).
    pub fn served(
        repo: &'r Repo,
        templates: Templates,
        web_url: String,
        releases: Vec<Found>,
    ) -> Result<Self> {
        Self::with_context(
            repo,
            templates,
            EntityContext::new(repo)?.served_at(web_url),
            release::Listing {
                releases,
                ..Default::default()
            },
        )
    }

    fn with_context(
        repo: &'r Repo,
        templates: Templates,
        mut context: EntityContext<'r>,
        listing: release::Listing,
    ) -> Result<Self> {
        context.include_html = true;
        // Every link to the project's pages derives from its web URL, which the
        // repository itself may set (`.git-release.toml`): only http(s) becomes a link.
        if context.project.web_url.as_deref().is_some_and(|url| {
            let lower = url.to_ascii_lowercase();
            !(lower.starts_with("https://") || lower.starts_with("http://"))
        }) {
            context.project.web_url = None;
        }
        let mut releases = listing.releases;
        ordering::sort(&mut releases, OrderBy::ReleasedAt, Direction::Desc);
        let snapshot = Snapshot::read(repo.git())?;
        let mut facts = BTreeMap::new();
        let mut problems = listing.problems;
        for found in &releases {
            match archive_facts(&snapshot, found) {
                Ok(Some(known)) => {
                    facts.insert(found.tag.clone(), known);
                }
                Ok(None) => {}
                Err(e) => problems.push(e),
            }
        }
        let entities = releases
            .iter()
            .map(|found| Ok((found.tag.clone(), context.release(found)?)))
            .collect::<Result<_>>()?;
        Ok(Pages {
            context,
            releases,
            templates,
            entities,
            facts,
            archives: BTreeMap::new(),
            problems,
        })
    }

    /// The releases, newest first.
    pub fn releases(&self) -> &[Found] {
        &self.releases
    }

    pub fn project(&self) -> &str {
        &self.context.project.name
    }

    pub fn now(&self) -> Timestamp {
        self.context.now
    }

    /// Pages of the list (at least one, which says there are no releases).
    pub fn page_count(&self) -> usize {
        self.releases.len().div_ceil(PER_PAGE).max(1)
    }

    /// Records the digests of archives written beside the pages, shown instead of
    /// the ones evidence recorded.
    pub fn set_archives(&mut self, tag: &str, written: Vec<Written>) {
        self.archives.insert(tag.to_owned(), written);
    }

    pub fn stylesheet(&self) -> &str {
        self.templates.stylesheet()
    }

    fn site(&self, routes: &Routes, from: Depth) -> SiteContext<'_> {
        let project = self.project();
        let href = |to| routes.href(from, to, project);
        SiteContext {
            lang: "en",
            project,
            web_url: self.context.project.web_url.as_deref(),
            index: href(Target::Index(1)),
            stylesheet: href(Target::Stylesheet),
            feed: href(Target::Feed),
            json: href(Target::Json),
            badge: href(Target::Badge),
        }
    }

    /// Page `page` (1-based) of the list. `None` past the last page.
    pub fn render_index(&self, page: usize, routes: &Routes) -> Result<Option<String>> {
        let count = self.page_count();
        if page == 0 || page > count {
            return Ok(None);
        }
        let project = self.project();
        let now = self.context.now;
        let href = |to| routes.href(Depth::Root, to, project);
        let releases = self
            .releases
            .iter()
            .skip((page - 1) * PER_PAGE)
            .take(PER_PAGE)
            .map(|found| IndexItem {
                tag: &found.tag,
                name: &found.release.name,
                href: href(Target::Release(&found.tag)),
                released_at: found.release.released_at,
                released_date: date(found.release.released_at),
                upcoming: found.release.is_upcoming(now),
                historical: found.release.is_historical(),
                summary: markdown::summary(
                    found.release.description.as_deref().unwrap_or_default(),
                    SUMMARY_CHARS,
                ),
            })
            .collect();
        let context = IndexContext {
            site: self.site(routes, Depth::Root),
            page: PageInfo {
                number: page,
                count,
                total: self.releases.len(),
                previous: (page > 1).then(|| href(Target::Index(page - 1))).flatten(),
                next: (page < count)
                    .then(|| href(Target::Index(page + 1)))
                    .flatten(),
                links: (1..=count)
                    .map(|number| PageLink {
                        number,
                        href: href(Target::Index(number)),
                        current: number == page,
                    })
                    .collect(),
            },
            releases,
            latest: self.releases.first().map(|f| f.tag.as_str()),
        };
        self.templates.render("index.html", &context).map(Some)
    }

    /// The page of the release of `tag`.
    pub fn render_release(&self, tag: &str, routes: &Routes) -> Result<String> {
        let found =
            self.releases
                .iter()
                .find(|f| f.tag == tag)
                .ok_or_else(|| Error::ReleaseNotFound {
                    tag: tag.to_owned(),
                })?;
        self.render_found(found, routes)
    }

    /// The page of one release of [`Pages::releases`].
    pub fn render_found(&self, found: &Found, routes: &Routes) -> Result<String> {
        let project = self.project();
        let tag = found.tag.as_str();
        let entity = self.entity(found)?;
        let facts = self.facts.get(tag);
        let made = self.archives.get(tag);
        let sources = Format::ALL
            .iter()
            .zip(&entity.assets.sources)
            .map(|(&format, source)| {
                let known = made
                    .and_then(|w| w.iter().find(|w| w.format == format))
                    .map(|w| (w.size, w.sha256.clone()))
                    .or_else(|| {
                        facts?
                            .archives
                            .digests
                            .as_ref()?
                            .files
                            .iter()
                            .find(|f| f.format == format.extension())
                            .map(|f| (f.size, f.sha256.clone()))
                    });
                SourceItem {
                    format: format.extension(),
                    file_name: archive::file_name(project, tag, format),
                    href: routes
                        .href(Depth::Release, Target::Archive(tag, format), project)
                        .or_else(|| source.url.clone()),
                    size: known.as_ref().map(|k| k.0),
                    size_text: known.as_ref().map(|k| size_text(k.0)).unwrap_or_default(),
                    sha256: known.map(|k| k.1),
                }
            })
            .collect();
        let links = entity
            .assets
            .links
            .iter()
            .map(|link| {
                let recorded = found.release.links.iter().find(|l| l.id == link.id);
                LinkItem {
                    name: link.name.clone(),
                    safe_url: is_web_url(&link.direct_asset_url),
                    direct_asset_url: link.direct_asset_url.clone(),
                    link_type: link.link_type.as_str(),
                    sha256: recorded.and_then(|l| l.sha256.clone()),
                    size: recorded.and_then(|l| l.size),
                }
            })
            .collect();
        // The file's path in the notes tree (what plain git reads), not the entity's
        // URL of it.
        let notes_path = |sha: &str| {
            found
                .release
                .evidences
                .iter()
                .find(|r| r.sha == sha)
                .map(|r| r.filepath.clone())
                .unwrap_or_default()
        };
        let evidences = entity
            .evidences
            .iter()
            .map(|e| EvidenceItem {
                sha: e.sha.clone(),
                filepath: notes_path(&e.sha),
                collected_at: e.collected_at,
                collected_text: e
                    .collected_at
                    .datetime()
                    .format("%Y-%m-%d %H:%M UTC")
                    .to_string(),
            })
            .collect();
        let evidence_check = entity.evidences.last().map(|e| {
            format!(
                "git fetch origin refs/notes/releases:refs/notes/releases\ngit cat-file blob {} | sha256sum",
                shell_quote(&format!("refs/notes/releases:{}", notes_path(&e.sha)))
            )
        });
        let archive_check = facts.and_then(|f| {
            let tar = f.archives.digests.as_ref()?.tar.as_ref()?;
            Some(format!(
                "TZ=UTC GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null \\\n  git archive --format=tar --prefix={} {} | sha256sum\n# expected: {}  ({} bytes)",
                shell_quote(&f.archives.prefix),
                shell_quote(tag),
                tar.sha256,
                tar.size
            ))
        });
        let tag_object = found.tag_target.map(|o| o.to_string());
        let annotated = found
            .tag_target
            .is_some_and(|object| object != found.release.commit);
        let context = ReleaseContext {
            site: self.site(routes, Depth::Release),
            released_date: date(entity.released_at),
            created_date: date(entity.created_at),
            release: entity,
            sources,
            links,
            evidences,
            evidence_check,
            archive_check,
            tag_object,
            annotated,
            commit_id: found.release.commit.to_string(),
        };
        self.templates.render("release.html", &context)
    }

    /// The GitLab entity of one release of [`Pages::releases`], notes HTML included.
    pub fn entity(&self, found: &Found) -> Result<&ReleaseEntity> {
        self.entities
            .get(&found.tag)
            .ok_or_else(|| Error::ReleaseNotFound {
                tag: found.tag.clone(),
            })
    }

    /// The Atom feed of the latest releases (upcoming ones left out until their date).
    pub fn render_feed(&self, routes: &Routes) -> Result<String> {
        let entities = self
            .releases
            .iter()
            .map(|found| self.entity(found))
            .collect::<Result<Vec<_>>>()?;
        feed::render(entities, &self.context.project, routes)
    }

    /// The latest-release badge (SVG): GitLab's latest, upcoming releases included.
    pub fn render_badge(&self) -> Result<String> {
        let value = self
            .releases
            .first()
            .map_or_else(|| "none".to_owned(), |f| f.tag.clone());
        let label = "latest release";
        let label_width = text_width(label);
        let value_width = text_width(&value);
        let context = BadgeContext {
            badge: Badge {
                label,
                colour: if self.releases.is_empty() {
                    "#9f9f9f"
                } else {
                    "#1f75cb"
                },
                value,
                width: label_width + value_width,
                label_width,
                value_width,
            },
        };
        self.templates.render("badge.svg", &context)
    }

    /// Every release as `git release list --json` prints them (pretty JSON, newline).
    pub fn render_json(&self) -> Result<String> {
        // As `list --json` without `--html`: the same entities, less the HTML.
        let entities = self
            .releases
            .iter()
            .map(|found| {
                let mut value =
                    serde_json::to_value(self.entity(found)?).map_err(|e| Error::Json {
                        what: "a release".into(),
                        source: e,
                    })?;
                if let Some(object) = value.as_object_mut() {
                    object.shift_remove("description_html");
                }
                Ok(value)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut text = serde_json::to_string_pretty(&entities).map_err(|e| Error::Json {
            what: "the releases".into(),
            source: e,
        })?;
        text.push('\n');
        Ok(text)
    }
}

/// What the release's evidence says of its archives: the newest snapshot that
/// recorded archive digests (`evidence collect --archives`), else the newest snapshot
/// (which still records how the archives are made). Snapshots are read newest first,
/// and only until one with digests is found.
fn archive_facts(snapshot: &Snapshot, found: &Found) -> Result<Option<Facts>> {
    let mut evidences: Vec<_> = found.release.evidences.iter().collect();
    evidences.sort_by_key(|e| std::cmp::Reverse(e.collected_at));
    let mut newest = None;
    for recorded in evidences {
        let bytes = snapshot.file(&recorded.filepath)?.ok_or_else(|| {
            Error::corrupt(
                format!("release {:?}", found.tag),
                format!("evidence {} is missing", recorded.filepath),
            )
        })?;
        let facts = evidence::parse(&bytes, &recorded.filepath)?.git_release;
        if facts.archives.digests.is_some() {
            return Ok(Some(facts));
        }
        newest.get_or_insert(facts);
    }
    Ok(newest)
}

/// `2024-03-11`.
pub(super) fn date(at: Timestamp) -> String {
    at.datetime().format("%Y-%m-%d").to_string()
}

/// `1.2 MiB (1,234,567 bytes)`-style, without the grouping.
fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {} ({bytes} bytes)", UNITS[unit])
}

fn is_web_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    ["http://", "https://", "ftp://"]
        .iter()
        .any(|s| lower.starts_with(s))
}

/// Approximate width in pixels of `text` in 11px Verdana, plus padding: as badge
/// services size theirs, without a font file.
fn text_width(text: &str) -> u32 {
    let chars: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 4,
            'f' | 'j' | 'r' | 't' | ' ' | '-' | '(' | ')' | '/' => 5,
            'm' | 'w' | 'M' | 'W' => 10,
            c if c.is_ascii_uppercase() => 8,
            c if c.is_ascii() => 7,
            _ => 11,
        })
        .sum();
    chars + 12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_quotes() {
        assert_eq!(size_text(10), "10 bytes");
        assert_eq!(size_text(2048), "2.0 KiB (2048 bytes)");
    }
}
