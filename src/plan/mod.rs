//! Planning: milestones (with their issues) and deploy freeze periods.

pub mod freeze;
pub mod milestone;
