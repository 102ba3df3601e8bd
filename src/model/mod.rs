//! Plain serde types for what the store holds, with their validation. Every type
//! keeps fields it does not know in `extra`, so a newer writer's data survives a
//! rewrite by this version (forward compatibility).

pub mod archive_format;
pub mod evidence;
pub mod found;
pub mod freeze;
pub mod id_kind;
pub mod key;
pub mod link;
pub mod milestone;
pub mod oid;
pub mod package;
pub mod paths;
pub mod person;
pub mod protected_tag;
pub mod release;
pub mod role;
pub mod tag_name;
pub mod text;

pub use archive_format::ArchiveFormat;
pub use found::{Found, TagState};
pub use freeze::{FreezeFile, FreezePeriod};
pub use id_kind::IdKind;
pub use key::Key;
pub use link::{Link, LinkDraft, LinkType, UniqueLinks};
pub use milestone::{Issue, IssueState, Milestone, MilestoneFile, MilestoneState};
pub use person::Person;
pub use protected_tag::{ProtectedTag, ProtectedTags};
pub use release::{EvidenceRef, GroupMilestoneRef, Pending, Release};
pub use role::Role;
pub use tag_name::{Selector, TagName};
