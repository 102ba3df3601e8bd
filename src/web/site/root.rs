//! `git release site --root DIR`: one static site for every project under a root
//! (found as `serve --root` finds them), with a page and a feed for the root and for
//! each group. Each project's own pages are the ones `git release site` writes for it,
//! below `projects/`. Written into a temporary directory and swapped in at the end, as
//! a single project's site is.
//!
//! ```text
//! index.html                      the root: metrics, groups, projects, newest releases
//! releases.atom                   every project's newest releases
//! releases.json                   every release, newest first (each its project's entity)
//! groups/<group>/index.html       a group: metrics, subgroups, projects, releases
//! groups/<group>/releases.atom    the group's newest releases
//! projects/<project>/…            each project's site (index.html, releases/, feed, …)
//! style.css
//! ```
//!
//! Each segment of a group's or project's path is written as `routes::file_stem`
//! makes a tag safe, so that any directory name is one safe file and URL segment.

use std::path::PathBuf;

use serde::Serialize;

use super::routes::{Routes, Target, file_stem};
use super::templates::Templates;
use super::{Options, SiteWriter, Sources, check_output, swap_in};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::group::ids::Recording;
use crate::group::metrics::{self, GroupMetrics};
use crate::group::{Registry, Root};
use crate::model::Found;
use crate::present::gitlab::{EntityContext, ReleaseEntity};
use crate::release::ordering;

/// Releases a root's or group's page lists, newest first; the older ones are on each
/// project's pages.
pub const GROUP_PAGE_RELEASES: usize = 100;

/// What `git release site --root` was asked for.
#[derive(Debug, Clone)]
pub struct RootOptions {
    pub output: PathBuf,
    /// The site's public URL, for absolute links in the feeds.
    pub base_url: Option<String>,
    /// `--templates DIR` (each project's own `.git-release/site/` applies to its pages).
    pub templates: Option<PathBuf>,
    pub with_archives: bool,
    pub force: bool,
}

/// What was written.
#[derive(Debug, Default)]
pub struct BuiltRoot {
    pub projects: usize,
    pub groups: usize,
    pub releases: usize,
    /// Files written.
    pub files: usize,
    /// What was left out or passed over, and why.
    pub warnings: Vec<String>,
}

/// One project's part in the root's pages.
struct ProjectPart {
    path: String,
    group: Option<String>,
    /// Its site's directory below the output (`projects/a/b`).
    dir: String,
    releases: Vec<(Found, ReleaseEntity)>,
}

/// Writes the site of every project under `root` to `options.output`.
pub fn build(root: &Root, options: &RootOptions) -> Result<BuiltRoot> {
    let output = &options.output;
    check_output(output, options.force)?;
    let registry = Registry::scan(root, Recording::ReadOnly)?;
    let mut built = BuiltRoot {
        warnings: registry.notices.clone(),
        ..BuiltRoot::default()
    };
    let templates = Templates::load_without_repository(options.templates.as_deref())?;
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|source| Error::WriteFile {
        path: parent.clone(),
        source,
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".site-root.git-release-")
        .tempdir_in(&parent)
        .map_err(|source| Error::WriteFile {
            path: parent.clone(),
            source,
        })?;

    let mut parts = Vec::with_capacity(registry.projects.len());
    for project in &registry.projects {
        let dir = format!("projects/{}", stem_path(&project.path));
        let repo = Repo::open_exact(&project.dir)?;
        let site = Options {
            output: staging.path().join(&dir),
            base_url: options
                .base_url
                .as_ref()
                .map(|b| format!("{}/{dir}", b.trim_end_matches('/'))),
            templates: Sources {
                dir: options.templates.clone(),
                tree: true,
            },
            with_archives: options.with_archives,
            force: false,
            incremental: false,
        };
        let project_built = super::build(&repo, &site).map_err(|e| Error::InProject {
            project: project.path.clone(),
            source: Box::new(e),
        })?;
        built.files += project_built.files;
        for problem in project_built.problems {
            built
                .warnings
                .push(format!("{}: left out: {problem}", project.path));
        }
        built.warnings.extend(
            project_built
                .warnings
                .into_iter()
                .map(|w| format!("{}: {w}", project.path)),
        );
        let mut context = EntityContext::new(&repo)?;
        context.include_html = true;
        let mut releases = Vec::new();
        for found in crate::release::list(&repo)?.releases {
            let entity = context.release(&found)?;
            releases.push((found, entity));
        }
        built.releases += releases.len();
        parts.push(ProjectPart {
            path: project.path.clone(),
            group: project.group.clone(),
            dir,
            releases,
        });
    }
    built.projects = parts.len();
    built.groups = registry.groups.len();

    let mut counts = Known(&parts);
    let all = metrics::collect(&registry, &mut counts)?;
    let mut writer = SiteWriter {
        root: staging.path(),
        files: 0,
    };
    for group in &all {
        let depth = if group.full_path.is_empty() {
            0
        } else {
            1 + group.full_path.split('/').count()
        };
        let dir = if group.full_path.is_empty() {
            String::new()
        } else {
            format!("groups/{}/", stem_path(&group.full_path))
        };
        let page = GroupPage::new(&registry, &parts, &all, group, depth);
        writer.write(
            &format!("{dir}index.html"),
            templates.render("group.html", &page)?.as_bytes(),
        )?;
        let feed = group_feed(&parts, group, &dir, options.base_url.as_deref())?;
        writer.write(&format!("{dir}releases.atom"), feed.as_bytes())?;
    }
    // Every release of the root, newest first, as `GET /groups/:id/releases` lists a
    // group's (each its project's entity).
    let every: Vec<&ReleaseEntity> = newest_first(&parts, "")
        .into_iter()
        .map(|(_, (_, entity))| entity)
        .collect();
    let mut json = serde_json::to_vec_pretty(&every).map_err(|e| Error::json("the releases", e))?;
    json.push(b'\n');
    writer.write("releases.json", &json)?;
    writer.write("style.css", templates.stylesheet().as_bytes())?;
    built.files += writer.files;
    swap_in(staging, output)?;
    Ok(built)
}

/// `a/b` → `a/b` with each segment a safe file name.
fn stem_path(path: &str) -> String {
    path.split('/').map(file_stem).collect::<Vec<_>>().join("/")
}

/// Release counts from what was read for the pages.
struct Known<'p>(&'p [ProjectPart]);

impl metrics::ReleaseCounts for Known<'_> {
    fn releases(&mut self, project: &crate::group::ProjectEntry) -> Result<usize> {
        Ok(self
            .0
            .iter()
            .find(|p| p.path == project.path)
            .map_or(0, |p| p.releases.len()))
    }
}

fn in_group(part: &ProjectPart, group: &str) -> bool {
    group.is_empty()
        || part
            .group
            .as_deref()
            .is_some_and(|g| g == group || crate::group::registry::is_below(g, group))
}

/// The group's releases, newest first: (project part, release) pairs.
fn newest_first<'p>(
    parts: &'p [ProjectPart],
    group: &str,
) -> Vec<(&'p ProjectPart, &'p (Found, ReleaseEntity))> {
    let mut releases: Vec<(&ProjectPart, &(Found, ReleaseEntity))> = parts
        .iter()
        .filter(|p| in_group(p, group))
        .flat_map(|p| p.releases.iter().map(move |r| (p, r)))
        .collect();
    releases.sort_by(|(pa, a), (pb, b)| {
        ordering::by_released_at(&b.0, &a.0).then_with(|| pb.path.cmp(&pa.path))
    });
    releases
}

#[derive(Serialize)]
struct GroupPage {
    site: SiteLinks,
    group: GroupView,
    subgroups: Vec<SubgroupView>,
    projects: Vec<ProjectView>,
    releases: Vec<ReleaseView>,
    more: usize,
}

#[derive(Serialize)]
struct SiteLinks {
    index: String,
    stylesheet: String,
    feed: String,
}

#[derive(Serialize)]
struct GroupView {
    title: String,
    full_path: String,
    releases_count: usize,
    releases_percentage: u32,
    projects_count: usize,
    projects_with_releases: usize,
    ancestors: Vec<Ancestor>,
}

#[derive(Serialize)]
struct Ancestor {
    name: String,
    href: String,
}

#[derive(Serialize)]
struct SubgroupView {
    full_path: String,
    href: String,
    releases_count: usize,
    releases_percentage: u32,
}

#[derive(Serialize)]
struct ProjectView {
    path: String,
    href: String,
    releases_count: usize,
    latest: Option<String>,
    latest_href: Option<String>,
}

#[derive(Serialize)]
struct ReleaseView {
    project: String,
    project_href: String,
    tag: String,
    name: String,
    href: String,
    released_at: String,
    released_date: String,
    upcoming: bool,
}

fn group_href(up: &str, path: &str) -> String {
    if path.is_empty() {
        format!("{up}index.html")
    } else {
        format!("{up}groups/{}/index.html", stem_path(path))
    }
}

fn release_href(up: &str, part: &ProjectPart, tag: &str) -> String {
    let routes = Routes::Static {
        base_url: None,
        archives: false,
    };
    let file = routes
        .site_path(Target::Release(tag), "")
        .unwrap_or_default();
    format!("{up}{}/{file}", part.dir)
}

impl GroupPage {
    fn new(
        registry: &Registry,
        parts: &[ProjectPart],
        all: &[GroupMetrics],
        group: &GroupMetrics,
        depth: usize,
    ) -> Self {
        let up = "../".repeat(depth);
        let path = group.full_path.as_str();
        let mut ancestors = Vec::new();
        if !path.is_empty() {
            for ancestor in registry.ancestors(path).into_iter().rev() {
                ancestors.push(Ancestor {
                    name: ancestor.slug().to_owned(),
                    href: group_href(&up, &ancestor.path),
                });
            }
        }
        let direct_subgroups: Vec<&str> = if path.is_empty() {
            registry.top_level().map(|g| g.path.as_str()).collect()
        } else {
            registry.subgroups(path).map(|g| g.path.as_str()).collect()
        };
        let subgroups = all
            .iter()
            .filter(|m| direct_subgroups.contains(&m.full_path.as_str()))
            .map(|m| SubgroupView {
                full_path: m.full_path.clone(),
                href: group_href(&up, &m.full_path),
                releases_count: m.releases_count,
                releases_percentage: m.releases_percentage,
            })
            .collect();
        let projects = parts
            .iter()
            .filter(|p| p.group.as_deref().unwrap_or("") == path)
            .map(|p| {
                let latest = p
                    .releases
                    .iter()
                    .max_by(|a, b| ordering::by_released_at(&a.0, &b.0))
                    .map(|(found, _)| found.tag.clone());
                ProjectView {
                    path: p.path.clone(),
                    href: format!("{up}{}/index.html", p.dir),
                    releases_count: p.releases.len(),
                    latest_href: latest.as_deref().map(|tag| release_href(&up, p, tag)),
                    latest,
                }
            })
            .collect();
        let newest = newest_first(parts, path);
        let more = newest.len().saturating_sub(GROUP_PAGE_RELEASES);
        let releases = newest
            .into_iter()
            .take(GROUP_PAGE_RELEASES)
            .map(|(part, (found, entity))| ReleaseView {
                project: part.path.clone(),
                project_href: format!("{up}{}/index.html", part.dir),
                tag: found.tag.clone(),
                name: entity.name.clone(),
                href: release_href(&up, part, &found.tag),
                released_at: entity.released_at.to_string(),
                released_date: super::pages::date(entity.released_at),
                upcoming: entity.upcoming_release,
            })
            .collect();
        GroupPage {
            site: SiteLinks {
                index: format!("{up}index.html"),
                stylesheet: format!("{up}style.css"),
                feed: "releases.atom".to_owned(),
            },
            group: GroupView {
                title: if path.is_empty() {
                    "All projects".to_owned()
                } else {
                    path.to_owned()
                },
                full_path: path.to_owned(),
                releases_count: group.releases_count,
                releases_percentage: group.releases_percentage,
                projects_count: group.projects_count,
                projects_with_releases: group.projects_with_releases,
                ancestors,
            },
            subgroups,
            projects,
            releases,
            more,
        }
    }
}

/// The group's feed: its newest released releases, each linking to its project's page.
fn group_feed(
    parts: &[ProjectPart],
    group: &GroupMetrics,
    dir: &str,
    base_url: Option<&str>,
) -> Result<String> {
    let base = base_url.map(|b| b.trim_end_matches('/').to_owned());
    let entries: Vec<super::feed::GroupEntry<'_>> = newest_first(parts, &group.full_path)
        .into_iter()
        .map(|(part, (found, entity))| super::feed::GroupEntry {
            project: &part.path,
            entity,
            href: base
                .as_ref()
                .map(|b| format!("{b}/{}", release_href("", part, &found.tag))),
        })
        .collect();
    let title = if group.full_path.is_empty() {
        "All projects".to_owned()
    } else {
        group.full_path.clone()
    };
    let page = base.as_ref().map(|b| format!("{b}/{dir}index.html"));
    let feed = base.as_ref().map(|b| format!("{b}/{dir}releases.atom"));
    super::feed::render_group(&title, &entries, page, feed)
}
