//! The web layer, over the GitLab entities: the release pages (one renderer, written
//! out by `site` and served by `serve`).

pub mod site;
