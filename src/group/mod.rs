//! Groups: many repositories under one root directory, as GitLab has projects in
//! groups and subgroups. `scan` finds the repositories (as gitweb's project root scan
//! does), `ids` gives projects and groups ids that last, `registry` answers what a
//! server, the release metrics and the site ask of them, and `metrics` counts releases
//! per group. See docs/groups.md.

pub mod ids;
pub mod metrics;
pub mod registry;
pub mod releases;
pub mod scan;

pub use registry::{GroupEntry, ProjectEntry, Registry, Root};
