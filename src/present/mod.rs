//! Presentation: the GitLab entities (the JSON of `--json`, and of the web layer) and
//! Markdown rendered to sanitized HTML.

pub mod gitlab;
pub mod markdown;
pub mod package;
