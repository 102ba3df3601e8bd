//! Integration tests: one binary, one module per area. Every test builds real
//! repositories with real git (see `support`) and compares against plain git.

mod archive;
mod support;
