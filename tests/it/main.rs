//! Integration tests: one binary, one module per area. Every test builds real
//! repositories with real git (see `support`) and compares against plain git.

mod concurrency;
mod download;
mod json;
mod lifecycle;
mod links;
mod places;
mod store;
mod support;
