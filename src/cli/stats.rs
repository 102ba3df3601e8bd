//! `git release stats`: release metrics per group.

use std::path::PathBuf;

use clap::Args;
use git_release::group::ids::Recording;
use git_release::group::metrics::{self, GroupMetrics, Listed};
use git_release::group::{Registry, Root};
use git_release::{Repo, Result};

use super::{Exit, Ui, common, render};

/// Show release metrics: per group, the number of releases and the percentage of its
/// projects with at least one release (GitLab's group release metrics).
///
/// With --root DIR: every repository under DIR, found as `serve --root` finds them,
/// and every group (a group counts its subgroups' projects too); the first row is the
/// whole root. Without: the current repository alone. Nothing is written (ids of
/// repositories `serve --root` has not seen yet are not recorded). --json prints a list
/// of {"full_path", "releases_count", "releases_percentage"}, GitLab's names (the root
/// is "").
#[derive(Args)]
pub struct StatsArgs {
    /// The directory of repositories (as `serve --root`).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(args: StatsArgs, ui: &Ui) -> Result<Exit> {
    let rows = match &args.root {
        Some(dir) => {
            let registry = Registry::scan(&Root::open(dir, None)?, Recording::ReadOnly)?;
            for notice in &registry.notices {
                ui.notice(notice);
            }
            metrics::collect(&registry, &mut Listed)?
        }
        None => {
            let repo = Repo::open_from_env()?;
            let project = git_release::git::project::Project::resolve(&repo)?;
            let path = git_release::present::gitlab::project_path(&project);
            metrics::of_repository(&repo, path)?
        }
    };
    if ui.json {
        common::print_json(&rows)?;
    } else {
        print!("{}", table(ui, &rows));
    }
    Ok(Exit::Success)
}

fn table(ui: &Ui, rows: &[GroupMetrics]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|m| {
            vec![
                if m.full_path.is_empty() {
                    "(all)".to_owned()
                } else {
                    m.full_path.clone()
                },
                m.projects_count.to_string(),
                m.projects_with_releases.to_string(),
                m.releases_count.to_string(),
                format!("{}%", m.releases_percentage),
            ]
        })
        .collect();
    render::table(
        ui,
        &["GROUP", "PROJECTS", "WITH RELEASES", "RELEASES", "PERCENT"],
        &rows,
    )
}
