//! Integration tests: one binary, one module per area. Every test builds real
//! repositories with real git (see `support`) and compares against plain git.

mod archive;
mod concurrency;
mod config;
mod crash;
mod docs;
mod download;
mod evidence;
mod evidence_kinds;
mod freezes;
mod hooks;
mod hostile;
mod html;
mod json;
mod layers;
mod lifecycle;
mod links;
mod milestones;
mod notes;
mod places;
mod share;
mod snapshots;
mod store;
mod support;
mod transfer;
