//! The kinds of object that get a small display id (`id` in GitLab's JSON), handed out
//! from one counter each in `project.json` and renumbered when clones merge.

/// The largest display id handed out or taken in: JavaScript's largest exact
/// integer (2^53 − 1), so that every GitLab client reads ids exactly, and far below
/// where a counter could run out. An import or a merge bringing a larger id or
/// counter is refused: one value near 2^64 would otherwise end a counter for good.
pub const MAX_ID: u64 = (1 << 53) - 1;

/// One counter of `project.json`'s `last_ids`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    Link,
    Milestone,
    /// A milestone's project-scoped `iid` (equal to its `id` unless imported).
    MilestoneIid,
    Issue,
    Freeze,
    /// A release's `id` (GitLab's evidence names it). Records carry it themselves, not
    /// in a list; a merge renumbers it like the others, keyed by the release's tag.
    Release,
    /// A generic package's `id` (one per name and version), keyed by its document's path.
    Package,
    /// A package file's `id`, keyed by the file's key.
    PackageFile,
}

impl IdKind {
    pub const ALL: [IdKind; 8] = [
        IdKind::Link,
        IdKind::Milestone,
        IdKind::MilestoneIid,
        IdKind::Issue,
        IdKind::Freeze,
        IdKind::Release,
        IdKind::Package,
        IdKind::PackageFile,
    ];

    /// The counter's name in `project.json` (the stored contract).
    pub fn counter(self) -> &'static str {
        match self {
            IdKind::Link => "link",
            IdKind::Milestone => "milestone",
            IdKind::MilestoneIid => "milestone_iid",
            IdKind::Issue => "issue",
            IdKind::Freeze => "freeze",
            IdKind::Release => "release",
            IdKind::Package => "package",
            IdKind::PackageFile => "package_file",
        }
    }

    /// The kind of the objects a stored list holds, by the list's field name
    /// (`links` in a release record, `milestones` in milestones.json, `issues` in a
    /// milestone, `freezes` in freezes.json); `None` for lists without display ids.
    pub fn of_list(field: &str) -> Option<IdKind> {
        match field {
            "links" => Some(IdKind::Link),
            "milestones" => Some(IdKind::Milestone),
            "issues" => Some(IdKind::Issue),
            "freezes" => Some(IdKind::Freeze),
            _ => None,
        }
    }
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.counter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_kind_has_its_own_counter() {
        let counters: std::collections::BTreeSet<_> =
            IdKind::ALL.iter().map(|k| k.counter()).collect();
        assert_eq!(counters.len(), IdKind::ALL.len());
        for (field, kind) in [
            ("links", IdKind::Link),
            ("milestones", IdKind::Milestone),
            ("issues", IdKind::Issue),
            ("freezes", IdKind::Freeze),
        ] {
            assert_eq!(IdKind::of_list(field), Some(kind));
        }
        assert_eq!(IdKind::of_list("evidences"), None);
    }
}
