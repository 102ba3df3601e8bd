//! Integration tests: one binary, one module per area. Every test builds real
//! repositories with real git (see `support`) and compares against plain git.

mod archive;
mod concurrency;
mod config;
mod conflicts;
mod crash;
mod docs;
mod download;
mod evidence;
mod evidence_kinds;
mod freezes;
mod git_config;
mod hooks;
mod hostile;
mod html;
mod invariants;
mod json;
mod layers;
mod lifecycle;
mod links;
mod milestones;
mod model;
mod notes;
mod parity;
mod places;
mod readme;
mod schema;
mod serve;
mod share;
mod signing;
mod site;
mod snapshots;
mod store;
mod support;
mod transfer;
mod untrusted;
