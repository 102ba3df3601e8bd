//! The web layer, over the GitLab entities of `present/`: `serve` speaks GitLab's REST
//! API v4 over the repository (`api`), and the release pages are one renderer
//! (`site`), written out by `git release site` and served by `serve`. Everything it
//! changes goes through the same library calls as the CLI.

pub mod api;
pub mod site;
