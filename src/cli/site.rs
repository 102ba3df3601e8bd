//! `git release site`: write the release pages as a static site.

use super::Exit;
use std::path::PathBuf;

use git_release::group::Root;
use git_release::web::site::root::RootOptions;
use git_release::web::site::{self, Options, Sources};
use git_release::{Repo, Result};
use serde::Serialize;

use super::{Ui, common};

/// Write the releases as a static web site, with an Atom feed and a badge.
///
/// DIR gets `index.html` (every release, newest first, 50 a page: `page-2.html`, …),
/// `releases/<tag>.html` (notes, source archives and links with their SHA-256,
/// milestones, evidence and how to check it with plain git), `releases.atom`,
/// `releases.json` (as `list --json`), `badges/latest.svg` and `style.css`. No
/// JavaScript and no outside resources; the same repository gives the same bytes.
///
/// Templates (minijinja, HTML-escaped unless marked `| safe`): `layout.html`,
/// `index.html`, `release.html`, `badge.svg` and `style.css` are built in; a file of
/// the same name in `.git-release/site/` at HEAD, or in `--templates DIR`, replaces it.
///
/// The site is written beside DIR and swapped in when complete: on any error the
/// previous contents of DIR stay as they were.
#[derive(clap::Args)]
pub struct SiteArgs {
    /// Where to write the site (created if missing; an existing site there is replaced).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// The URL the site is published at, for absolute links in the feed
    /// (e.g. https://group.gitlab.io/project).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Take templates from DIR first (then `.git-release/site/` at HEAD, then the
    /// built-in ones).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Also write each release's four source archives (zip, tar.gz, tar.bz2, tar),
    /// byte for byte what `git archive` makes, under `archives/<tag>/`.
    #[arg(long)]
    pub with_archives: bool,
    /// Replace DIR even when it holds files that are not a release site.
    #[arg(long)]
    pub force: bool,
    /// Update an existing site in place: rewrite only the files whose content changed
    /// (each by a rename), remove those it no longer has, keep archives already there.
    #[arg(long, conflicts_with = "root")]
    pub incremental: bool,
    /// Write one site for every repository under DIR (found as `serve --root` finds
    /// them): an index and a page and Atom feed for each group (its projects, release
    /// metrics and releases, newest first), and each project's pages under
    /// `projects/<path>/` (docs/groups.md).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root: the groups' milestones are in DIR/<group>.git instead of the place
    /// the root's .git-release-root says (registry.groupRepositories), or of
    /// <group>/.group.git (docs/groups.md).
    #[arg(long, value_name = "DIR", requires = "root")]
    pub group_repositories: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    output: String,
    releases: usize,
    pages: usize,
    files: usize,
    unchanged: usize,
    removed: usize,
}

pub fn run(args: SiteArgs, ui: &Ui) -> Result<Exit> {
    if let Some(root) = &args.root {
        return run_root(&args, root, ui);
    }
    let repo = Repo::open_from_env()?;
    let options = Options {
        output: args.output.clone(),
        base_url: args.base_url.clone(),
        templates: Sources {
            dir: args.templates.clone(),
            tree: true,
        },
        with_archives: args.with_archives,
        force: args.force,
        incremental: args.incremental,
    };
    let built = site::build(&repo, &options)?;
    for problem in &built.problems {
        ui.warn(&format!("left out: {}", problem.with_causes()));
    }
    for warning in &built.warnings {
        ui.warn(warning);
    }
    if ui.json {
        common::print_json(&Report {
            output: args.output.display().to_string(),
            releases: built.releases,
            pages: built.pages,
            files: built.files,
            unchanged: built.unchanged,
            removed: built.removed,
        })?;
    } else if args.incremental {
        ui.notice(&format!(
            "Updated {}: {} release{}, {} files rewritten, {} unchanged, {} removed",
            args.output.display(),
            built.releases,
            if built.releases == 1 { "" } else { "s" },
            built.files,
            built.unchanged,
            built.removed
        ));
    } else {
        ui.notice(&format!(
            "Wrote {} release{} ({} files) to {}",
            built.releases,
            if built.releases == 1 { "" } else { "s" },
            built.files,
            args.output.display()
        ));
    }
    Ok(Exit::Success)
}

#[derive(Serialize)]
struct RootReport {
    output: String,
    projects: usize,
    groups: usize,
    releases: usize,
    files: usize,
}

fn run_root(args: &SiteArgs, root: &std::path::Path, ui: &Ui) -> Result<Exit> {
    let options = RootOptions {
        output: args.output.clone(),
        base_url: args.base_url.clone(),
        templates: args.templates.clone(),
        with_archives: args.with_archives,
        force: args.force,
    };
    let built = site::root::build(
        &Root::open(root, args.group_repositories.as_deref())?,
        &options,
    )?;
    for warning in &built.warnings {
        ui.warn(warning);
    }
    if ui.json {
        common::print_json(&RootReport {
            output: args.output.display().to_string(),
            projects: built.projects,
            groups: built.groups,
            releases: built.releases,
            files: built.files,
        })?;
    } else {
        ui.notice(&format!(
            "Wrote {} project{} in {} group{} ({} releases, {} files) to {}",
            built.projects,
            if built.projects == 1 { "" } else { "s" },
            built.groups,
            if built.groups == 1 { "" } else { "s" },
            built.releases,
            built.files,
            args.output.display()
        ));
    }
    Ok(Exit::Success)
}
