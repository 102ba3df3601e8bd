//! The release record as stored in a note (one per tag), and the parts it owns.

use git2::Oid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::{Key, Person};
// Links moved to their own module; this path keeps older imports working.
pub use crate::model::link::{Link, LinkType};
use crate::time::Timestamp;

/// GitLab limits descriptions to one million characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1_000_000;

/// Refuses a description over GitLab's limit, naming its start and its length.
pub fn validate_description(text: &str) -> Result<()> {
    let chars = text.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(Error::invalid(
            "description",
            format!("{}…", text.chars().take(40).collect::<String>()),
            format!("it has {chars} characters; the limit is {MAX_DESCRIPTION_CHARS}"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// GitLab's numeric release id (evidence names it), unique in the repository;
    /// records made before ids were handed out have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub released_at: Timestamp,
    pub author: Person,
    /// The commit the release was made on (the tag's peeled commit at the time).
    #[serde(with = "crate::model::oid")]
    pub commit: Oid,
    /// What `refs/tags/<tag>` pointed at when the release was made: the tag object for
    /// an annotated tag, the commit for a lightweight one.
    #[serde(with = "crate::model::oid")]
    pub tag_target: Oid,
    /// Present while the tag is being created with the release. The tag's creation is
    /// the commit point: until the tag points at `tag_target`, the record is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidences: Vec<EvidenceRef>,
    /// Keys of the milestones the release belongs to (keys, not titles, so that a
    /// renamed milestone stays attached).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<Key>,
    /// Milestones of the project's group (kept in the group's repository) the release
    /// belongs to, each with what a clone without that repository shows of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_milestones: Vec<GroupMilestoneRef>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A release's reference to a group milestone: its key (which stays when the
/// milestone is renamed) and, as of the last write made with the group repository at
/// hand, its group, ids, title and state, shown when that repository is not here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMilestoneRef {
    pub key: Key,
    /// The group's full path (`platform/tools`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
    pub id: u64,
    pub iid: u64,
    pub title: String,
    pub state: crate::model::MilestoneState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<chrono::NaiveDate>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Who is creating the tag and since when: a claim that expires, so that a record
/// left by a killed process is eventually replaced, while a live concurrent creator
/// is not trampled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// Wall-clock seconds since the epoch (never `GIT_RELEASE_NOW`: this is a lease).
    pub since: i64,
    pub pid: u32,
    pub host: String,
    /// Names the claim in the reflog of the tag its creator makes and in the marker
    /// of the unfinished command (`release::claim`); absent in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<crate::model::Key>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One evidence snapshot of a release; the bytes live at `filepath` in the notes tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub key: Key,
    pub sha: String,
    pub filepath: String,
    pub collected_at: Timestamp,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What `description` is when a release has no notes: the empty string, in every
/// JSON output (list, view, export, evidence) and after `update --notes ""`, as
/// GitLab's schema has it (a string, never null); `description_html` is then "" too.
pub const NO_DESCRIPTION: &str = "";

impl Release {
    /// The description as shown: [`NO_DESCRIPTION`] when there are no notes.
    pub fn description_text(&self) -> &str {
        self.description.as_deref().unwrap_or(NO_DESCRIPTION)
    }

    /// A release is upcoming while its release date lies in the future. "Now" is
    /// never before the record was made: a `now` read before a create (as the entity
    /// of the create's answer is prepared) does not make a release dated at its own
    /// creation look upcoming.
    pub fn is_upcoming(&self, now: Timestamp) -> bool {
        self.released_at > now.max(self.created_at)
    }

    /// The release's numeric id as GitLab shows it (`Release-<id>` to a Guest): the
    /// one it was given, or for a record made before ids were handed out, one derived
    /// from what never changes in it (the tag object and creation time it recorded):
    /// the same in every clone and every run, in `[2^52, 2^53)` where no counter gets
    /// to, and not a digest of the tag name, which would give the name away.
    pub fn display_id(&self) -> u64 {
        if let Some(id) = self.id {
            return id;
        }
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"git-release release id\0");
        hasher.update(self.tag_target.as_bytes());
        hasher.update(self.created_at.to_string().as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        const LOW: u64 = 1 << 52;
        LOW + u64::from_be_bytes(bytes) % LOW
    }

    /// Back-dated: released before the record was created.
    pub fn is_historical(&self) -> bool {
        self.released_at < self.created_at
    }
}
