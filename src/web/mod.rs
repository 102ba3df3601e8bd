//! The web layer: `serve` speaks GitLab's REST API v4 over the repository (`api`).
//! Everything it shows comes from `gitlab` (the presentation shared with `--json`),
//! everything it changes goes through the same library calls as the CLI.

pub mod api;
