//! Release metrics per group, as GitLab shows them (Group > Analytics > CI/CD, and its
//! GraphQL `releaseStats`): the number of releases of the group's projects, and the
//! percentage of its projects with at least one release. A group counts the projects
//! of its subgroups too, as GitLab's do; the root itself is counted as a whole
//! (`full_path` ""), so that projects outside any group are in a figure as well.

use serde::Serialize;

use crate::error::Result;
use crate::group::Registry;

/// The metrics of one group, under GitLab's names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMetrics {
    /// The group's path; "" for the whole root.
    pub full_path: String,
    pub releases_count: usize,
    /// Projects with at least one release, in percent of the group's projects,
    /// rounded to the nearest integer (GitLab's is an integer); 0 for a group with no
    /// project.
    pub releases_percentage: u32,
    /// The projects counted, and how many have a release (shown to people; the JSON
    /// keeps to GitLab's three names).
    #[serde(skip)]
    pub projects_count: usize,
    #[serde(skip)]
    pub projects_with_releases: usize,
}

/// How many releases each project has, by the project's path.
pub trait ReleaseCounts {
    fn releases(&mut self, project: &crate::group::ProjectEntry) -> Result<usize>;
}

/// Counts by listing each project's releases (`release::list`).
pub struct Listed;

impl ReleaseCounts for Listed {
    fn releases(&mut self, project: &crate::group::ProjectEntry) -> Result<usize> {
        let repo = crate::git::Repo::open_exact(&project.dir)?;
        Ok(crate::release::list(&repo)?.releases.len())
    }
}

/// The root's metrics, then every group's, in path order.
pub fn collect(registry: &Registry, counts: &mut impl ReleaseCounts) -> Result<Vec<GroupMetrics>> {
    let mut per_project = Vec::with_capacity(registry.projects.len());
    for project in &registry.projects {
        per_project.push(counts.releases(project)?);
    }
    let figures = |in_group: &dyn Fn(&crate::group::ProjectEntry) -> bool, full_path: String| {
        let mut metrics = GroupMetrics {
            full_path,
            releases_count: 0,
            releases_percentage: 0,
            projects_count: 0,
            projects_with_releases: 0,
        };
        for (project, count) in registry.projects.iter().zip(&per_project) {
            if in_group(project) {
                metrics.projects_count += 1;
                metrics.releases_count += count;
                metrics.projects_with_releases += usize::from(*count > 0);
            }
        }
        metrics.releases_percentage =
            percentage(metrics.projects_with_releases, metrics.projects_count);
        metrics
    };
    let mut out = vec![figures(&|_| true, String::new())];
    for group in &registry.groups {
        let path = group.path.clone();
        out.push(figures(
            &|p| {
                p.group
                    .as_deref()
                    .is_some_and(|g| g == path || crate::group::registry::is_below(g, &path))
            },
            group.path.clone(),
        ));
    }
    Ok(out)
}

/// The metrics of the group at `path` alone (its subgroups' projects counted).
pub fn of_group(
    registry: &Registry,
    path: &str,
    counts: &mut impl ReleaseCounts,
) -> Result<GroupMetrics> {
    let mut metrics = GroupMetrics {
        full_path: path.to_owned(),
        releases_count: 0,
        releases_percentage: 0,
        projects_count: 0,
        projects_with_releases: 0,
    };
    for project in registry.projects_in(path, true) {
        let count = counts.releases(project)?;
        metrics.projects_count += 1;
        metrics.releases_count += count;
        metrics.projects_with_releases += usize::from(count > 0);
    }
    metrics.releases_percentage =
        percentage(metrics.projects_with_releases, metrics.projects_count);
    Ok(metrics)
}

/// The metrics of one repository on its own (`stats` outside `--root`): one row, for
/// the project at `full_path`.
pub fn of_repository(repo: &crate::git::Repo, full_path: String) -> Result<Vec<GroupMetrics>> {
    let count = crate::release::list(repo)?.releases.len();
    Ok(vec![GroupMetrics {
        full_path,
        releases_count: count,
        releases_percentage: percentage(usize::from(count > 0), 1),
        projects_count: 1,
        projects_with_releases: usize::from(count > 0),
    }])
}

/// `part` of `whole` in percent, rounded half up; 0 of nothing is 0.
pub fn percentage(part: usize, whole: usize) -> u32 {
    if whole == 0 {
        return 0;
    }
    ((part * 200 + whole) / (whole * 2)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(percentage(0, 0), 0);
        assert_eq!(percentage(1, 3), 33);
        assert_eq!(percentage(2, 3), 67);
        assert_eq!(percentage(1, 8), 13);
        assert_eq!(percentage(3, 3), 100);
    }
}
