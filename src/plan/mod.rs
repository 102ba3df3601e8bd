//! Planning: milestones (with their issues, a project's and its group's) and deploy
//! freeze periods.

pub mod freeze;
pub mod group;
pub mod milestone;
