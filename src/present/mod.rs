//! Presentation: the GitLab entities (the JSON of `--json`, and of the web layer; a
//! root's groups in `group`) and Markdown rendered to sanitized HTML.

pub mod gitlab;
pub mod group;
pub mod markdown;
pub mod package;
