//! `export` and `import`: GitLab's Releases API JSON in and out. Export writes what
//! `list --json` shows, every page; import reads what `GET /projects/:id/releases`
//! returns (one entity, an array, or several page arrays one after another) and
//! records the releases, keeping their times, authors, link and milestone ids.
//!
//! Import plans before it writes: the whole file is parsed and checked against the
//! repository first, so a bad file changes nothing; then every record is written in
//! one commit on the notes ref — pending, as `create` writes it, where its tag is
//! still to be made (only when asked) — and the missing tags are created, which
//! completes those records.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use git2::Oid;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::failpoint;
use crate::git::identity::Person;
use crate::git::repo::Repo;
use crate::git::tag::{self, TagTarget};
use crate::model::IdKind;
use crate::model::id_kind::MAX_ID;
use crate::model::milestone::{IssueStats, MILESTONES_PATH, parse_date, validate_title};
use crate::model::release::validate_description;
use crate::model::{
    GroupMilestoneRef, Key, Link, LinkDraft, LinkType, Milestone, MilestoneFile, MilestoneState,
    Pending, Release, TagName, UniqueLinks,
};
use crate::present::gitlab::{EntityContext, ReleaseEntity};
use crate::release::claim::{self, MarkedRecord, Marker, Operation};
use crate::release::group::GroupMilestones;
use crate::release::leftovers;
use crate::release::ordering::{self, Direction, OrderBy};
use crate::release::{self, Listing};
use crate::store::Store;
use crate::time::Timestamp;

/// Every release as GitLab's list JSON (`released_at desc`), with what could not be
/// exported.
pub struct Exported {
    pub entities: Vec<ReleaseEntity>,
    pub listing_problems: Vec<Error>,
    pub orphaned: Vec<String>,
}

pub fn export(repo: &Repo) -> Result<Exported> {
    let context = EntityContext::new(repo)?;
    let Listing {
        mut releases,
        orphaned,
        problems,
    } = release::list(repo)?;
    ordering::sort(&mut releases, OrderBy::ReleasedAt, Direction::Desc);
    let entities = releases
        .iter()
        .map(|f| context.release(f))
        .collect::<Result<Vec<_>>>()?;
    Ok(Exported {
        entities,
        listing_problems: problems,
        orphaned,
    })
}

/// One release read from the file, checked.
#[derive(Debug, Clone)]
struct Entry {
    tag: TagName,
    name: String,
    description: Option<String>,
    created_at: Timestamp,
    released_at: Timestamp,
    author: Option<Person>,
    commit: Option<Oid>,
    /// Newest first, as GitLab lists them, with the id GitLab showed.
    links: Vec<(Option<u64>, LinkDraft)>,
    milestones: Vec<MilestoneEntry>,
    evidences: usize,
}

#[derive(Debug, Clone)]
struct MilestoneEntry {
    id: Option<u64>,
    iid: Option<u64>,
    title: String,
    description: Option<String>,
    state: MilestoneState,
    due_date: Option<NaiveDate>,
    start_date: Option<NaiveDate>,
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    issue_stats: Option<IssueStats>,
    /// A group milestone (the entity has `group_id` where a project's has
    /// `project_id`): its group's id and, from its `web_url`, path.
    group: Option<GroupOf>,
}

#[derive(Debug, Clone)]
struct GroupOf {
    id: Option<u64>,
    path: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ImportOptions {
    /// Create a missing tag (lightweight) on the release's `commit.id`.
    pub create_tags_from_commit: bool,
}

#[derive(Debug, Default)]
pub struct Imported {
    /// Releases recorded, in the file's order.
    pub created: Vec<String>,
    /// Releases that already existed here: left as they are.
    pub skipped: Vec<String>,
    pub tags_created: Vec<String>,
    /// Milestones the releases named that did not exist here.
    pub milestones_created: Vec<String>,
    /// Things the file held that cannot be imported (evidence, issue lists), and ids
    /// that were taken and had to change.
    pub notices: Vec<String>,
}

/// Reads every release object from `text`: one object, an array, or several arrays
/// (pages) one after another.
fn release_objects(text: &str, source: &str) -> Result<Vec<Map<String, Value>>> {
    let bad = |reason: String| Error::invalid("import file", source, reason);
    let mut objects = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = value.map_err(|e| bad(format!("not valid JSON: {e}")))?;
        match value {
            Value::Object(object) => objects.push(object),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(object) => objects.push(object),
                        other => {
                            return Err(bad(format!(
                                "expected release objects in the array, found {}",
                                kind(&other)
                            )));
                        }
                    }
                }
            }
            other => {
                return Err(bad(format!(
                    "expected a release object or an array of them, found {}",
                    kind(&other)
                )));
            }
        }
    }
    if objects.is_empty() {
        return Err(bad("it holds no releases".into()));
    }
    Ok(objects)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field access that says which field was wrong.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn string(&self, field: &str) -> std::result::Result<Option<String>, String> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("\"{field}\" must be a string, not {}", kind(other))),
        }
    }

    fn id(&self, field: &str) -> std::result::Result<Option<u64>, String> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                // A larger id would end the id counter for good (issue #26).
                Some(id) if id > MAX_ID => Err(format!(
                    "\"{field}\" is {id}, above the largest id git-release takes ({MAX_ID})"
                )),
                Some(id) => Ok(Some(id)),
                None => Err(format!("\"{field}\" must be a positive integer")),
            },
            Some(other) => Err(format!("\"{field}\" must be a number, not {}", kind(other))),
        }
    }

    fn time(&self, field: &str) -> std::result::Result<Option<Timestamp>, String> {
        self.string(field)?
            .map(|t| {
                Timestamp::parse(&t)
                    .map_err(|_| format!("\"{field}\" is not an ISO 8601 time: {t:?}"))
            })
            .transpose()
    }

    fn date(&self, field: &'static str) -> std::result::Result<Option<NaiveDate>, String> {
        self.string(field)?
            .map(|t| parse_date(field, &t).map_err(|e| e.to_string()))
            .transpose()
    }

    fn object(&self, field: &str) -> std::result::Result<Option<Fields<'a>>, String> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(Fields(o))),
            Some(other) => Err(format!(
                "\"{field}\" must be an object, not {}",
                kind(other)
            )),
        }
    }

    fn array(&self, field: &str) -> std::result::Result<&'a [Value], String> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(format!("\"{field}\" must be an array, not {}", kind(other))),
        }
    }
}

fn objects_in<'a>(items: &'a [Value], what: &str) -> std::result::Result<Vec<Fields<'a>>, String> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(o) => Ok(Fields(o)),
            other => Err(format!(
                "{what} {} is {}, not an object",
                i + 1,
                kind(other)
            )),
        })
        .collect()
}

/// The direct asset path behind GitLab's `direct_asset_url`
/// (`<web_url>/-/releases/<tag>/downloads<path>`); none when it is the link's own URL.
fn path_from_direct_url(direct: &str, url: &str) -> Option<String> {
    if direct == url {
        return None;
    }
    let (_, after) = direct.split_once("/-/releases/")?;
    let (_, path) = after.split_once("/downloads/")?;
    Some(format!("/{path}"))
}

/// One release object of the file, checked; the error says which field was wrong.
fn parse_entry(object: &Map<String, Value>) -> std::result::Result<Entry, String> {
    let f = Fields(object);
    let tag_name = f.string("tag_name")?.ok_or("\"tag_name\" is missing")?;
    let tag = TagName::parse(&tag_name).map_err(|e| e.to_string())?;
    let description = f.string("description")?;
    if let Some(text) = &description {
        validate_description(text).map_err(|e| e.to_string())?;
    }
    let (created_at, released_at) = parse_times(&f)?;
    let links = match f.object("assets")? {
        Some(assets) => parse_links(&assets, &tag)?,
        None => Vec::new(),
    };
    let milestones = objects_in(f.array("milestones")?, "milestone")?
        .iter()
        .enumerate()
        .map(|(i, m)| parse_milestone(m).map_err(|e| format!("milestone {}: {e}", i + 1)))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    Ok(Entry {
        tag,
        name: f
            .string("name")?
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| tag_name.clone()),
        description,
        created_at,
        released_at,
        author: parse_author(&f)?,
        commit: parse_commit(&f)?,
        links,
        milestones,
        evidences: f.array("evidences")?.len(),
    })
}

/// `created_at` and `released_at`. GitLab's `released_at` defaults to `created_at`;
/// a file that only has the release date (older exports, hand-written files) was
/// created then too.
fn parse_times(f: &Fields<'_>) -> std::result::Result<(Timestamp, Timestamp), String> {
    match (f.time("created_at")?, f.time("released_at")?) {
        (Some(created), Some(released)) => Ok((created, released)),
        (Some(created), None) => Ok((created, created)),
        (None, Some(released)) => Ok((released, released)),
        (None, None) => Err("\"created_at\" and \"released_at\" are both missing".into()),
    }
}

/// The release's author; none without a name (the importer is the author then).
fn parse_author(f: &Fields<'_>) -> std::result::Result<Option<Person>, String> {
    let Some(a) = f.object("author")? else {
        return Ok(None);
    };
    let Some(name) = a.string("name")?.filter(|n| !n.trim().is_empty()) else {
        return Ok(None);
    };
    Ok(Some(Person {
        name,
        email: a.string("email")?.unwrap_or_default(),
        username: a.string("username")?.filter(|u| !u.is_empty()),
        id: a.id("id")?,
        state: a.string("state")?,
        avatar_url: a.string("avatar_url")?,
        web_url: a.string("web_url")?,
        when: None,
    }))
}

/// `commit.id`, the commit the release was made on.
fn parse_commit(f: &Fields<'_>) -> std::result::Result<Option<Oid>, String> {
    let Some(id) = f
        .object("commit")?
        .map(|c| c.string("id"))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    Oid::from_str(&id)
        .map(Some)
        .map_err(|_| format!("commit.id {id:?} is not an object id"))
}

/// `assets.links`, newest first as GitLab lists them, each with the id it showed;
/// names and paths unique within the release, as `link add` requires.
fn parse_links(
    assets: &Fields<'_>,
    tag: &TagName,
) -> std::result::Result<Vec<(Option<u64>, LinkDraft)>, String> {
    let mut links: Vec<(Option<u64>, LinkDraft)> = Vec::new();
    let mut unique = UniqueLinks::default();
    for (i, link) in objects_in(assets.array("links")?, "link")?
        .iter()
        .enumerate()
    {
        let at = |e: String| format!("link {}: {e}", i + 1);
        let draft = parse_link(link)
            .map_err(at)?
            .validated()
            .map_err(|e| e.to_string())?;
        unique
            .insert(tag.as_str(), &draft)
            .map_err(|e| e.to_string())?;
        links.push((link.id("id").map_err(at)?, draft));
    }
    Ok(links)
}

/// One link object, not yet validated (as `link add` validates its arguments).
fn parse_link(link: &Fields<'_>) -> std::result::Result<LinkDraft, String> {
    let name = link.string("name")?.ok_or("\"name\" is missing")?;
    let url = link.string("url")?.ok_or("\"url\" is missing")?;
    let path =
        match LinkDraft::pick_path(link.string("direct_asset_path")?, link.string("filepath")?)? {
            Some(p) => Some(p),
            None => link
                .string("direct_asset_url")?
                .and_then(|d| path_from_direct_url(&d, &url)),
        };
    let link_type = match link.string("link_type")? {
        Some(t) => t.parse::<LinkType>().map_err(|e| e.to_string())?,
        None => LinkType::default(),
    };
    Ok(LinkDraft {
        name,
        url,
        direct_asset_path: path,
        link_type,
        sha256: None,
        size: None,
    })
}

/// One milestone object of a release.
fn parse_milestone(m: &Fields<'_>) -> std::result::Result<MilestoneEntry, String> {
    let title = m.string("title")?.ok_or("\"title\" is missing")?;
    validate_title(&title).map_err(|e| e.to_string())?;
    let state = match m.string("state")?.as_deref() {
        None | Some("active") => MilestoneState::Active,
        Some("closed") => MilestoneState::Closed,
        Some(other) => return Err(format!("unknown state {other:?}")),
    };
    let issue_stats = match m.object("issue_stats")? {
        Some(stats) => {
            let total = stats.id("total")?.unwrap_or(0) as usize;
            let closed = stats.id("closed")?.unwrap_or(0) as usize;
            if closed > total {
                return Err(format!("issue_stats: {closed} closed of {total} issues"));
            }
            Some(IssueStats { total, closed })
        }
        None => None,
    };
    Ok(MilestoneEntry {
        id: m.id("id")?,
        iid: m.id("iid")?,
        title,
        description: m.string("description")?,
        state,
        due_date: m.date("due_date")?,
        start_date: m.date("start_date")?,
        created_at: m.time("created_at")?,
        updated_at: m.time("updated_at")?,
        issue_stats,
        group: match m.0.contains_key("group_id") && !m.0.contains_key("project_id") {
            true => Some(GroupOf {
                id: m.id("group_id")?,
                path: m.string("web_url")?.as_deref().and_then(group_path_of_url),
            }),
            false => None,
        },
    })
}

/// The group's path in a group milestone's `web_url`
/// (`https://host/groups/platform/tools/-/milestones/3` → `platform/tools`), when it
/// is a path of names.
fn group_path_of_url(url: &str) -> Option<String> {
    let (_, after) = url.split_once("/groups/")?;
    let (path, _) = after.split_once("/-/")?;
    crate::release::group_place::check_group_path(path).ok()?;
    Some(path.to_owned())
}

/// A release to write, with where its tag is (or will be).
struct Planned {
    entry: Entry,
    target: TagTarget,
    create_tag: bool,
}

/// Parses and checks `text` (named `source` in messages), then records its releases.
pub fn import(repo: &Repo, text: &str, source: &str, options: ImportOptions) -> Result<Imported> {
    let entries = read_entries(text, source)?;
    let mut imported = Imported::default();
    let planned = plan(repo, entries, options, source, &mut imported.skipped)?;
    for p in &planned {
        if p.entry.evidences > 0 {
            imported.notices.push(format!(
                "{}: {} evidence snapshot(s) not imported (their contents are not in the file)",
                p.entry.tag, p.entry.evidences
            ));
        }
    }
    if planned.is_empty() {
        return Ok(imported);
    }
    // Records first, as `create` writes them, every one pending under one claim; then
    // the missing tags (each made for the claim); then one commit drops the pending
    // marks, which is the import's commit point. A marker names what the import
    // writes, so that if it is killed before that commit, the next write takes it all
    // back — tags, records and the milestones it made (`leftovers::sweep`): a failed
    // import leaves nothing.
    let claim = claim::new_claim();
    let key = claim.key.expect("new claims have a key");
    let new_milestones = milestones_to_create(repo, &planned)?;
    let marker = Marker {
        operation: Operation::Import,
        claim: claim.clone(),
        records: planned
            .iter()
            .map(|p| MarkedRecord {
                tag: p.entry.tag.to_string(),
                commit: p.target.commit,
                target: p.target.target,
                creates_tag: p.create_tag,
            })
            .collect(),
        milestones: new_milestones.values().copied().collect(),
    };
    marker.write(repo)?;
    let result = match write_records(repo, &planned, &claim, &new_milestones) {
        Ok(result) => result,
        Err(e) => {
            marker.remove(repo);
            return Err(e);
        }
    };
    failpoint::reach(failpoint::IMPORT_RECORDS_WRITTEN);
    let made = match create_tags(repo, &planned, &result.created, &claim) {
        Ok(made) => made,
        Err(e) => {
            take_back(repo, &marker, key, &[]);
            return Err(e);
        }
    };
    if let Err(e) = finish_claims(repo, &planned, &claim) {
        take_back(repo, &marker, key, &made);
        return Err(e);
    }
    marker.remove(repo);
    imported.created = result.created;
    imported.skipped.extend(result.skipped);
    imported.milestones_created = result.milestones_created;
    imported.notices.extend(result.notices);
    imported.tags_created = made.iter().map(|(t, _)| t.to_string()).collect();
    Ok(imported)
}

/// Every release of the file, parsed and checked, each once (overlapping pages may
/// repeat one; the same object twice is fine, two different ones are an error).
fn read_entries(text: &str, source: &str) -> Result<Vec<Entry>> {
    let bad = |reason: String| Error::invalid("import file", source, reason);
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (i, object) in release_objects(text, source)?.into_iter().enumerate() {
        let entry = parse_entry(&object).map_err(|reason| {
            let tag = object
                .get("tag_name")
                .and_then(Value::as_str)
                .unwrap_or("?");
            bad(format!("release {} ({tag}): {reason}", i + 1))
        })?;
        if let Some(earlier) = seen.get(entry.tag.as_str()) {
            if *earlier != object {
                return Err(bad(format!(
                    "release {} ({}) appears twice with different contents",
                    i + 1,
                    entry.tag
                )));
            }
            continue;
        }
        seen.insert(entry.tag.to_string(), object);
        entries.push(entry);
    }
    Ok(entries)
}

/// What to do with one release of the file.
enum Plan {
    Write(Box<Planned>),
    /// Already released here: left as it is.
    Skip(String),
    /// Cannot be imported: the whole import is refused.
    Problem(String),
}

/// The releases to write, checked against the repository: any problem refuses the
/// whole import before anything is written. Releases that exist already go to
/// `skipped`.
fn plan(
    repo: &Repo,
    entries: Vec<Entry>,
    options: ImportOptions,
    source: &str,
    skipped: &mut Vec<String>,
) -> Result<Vec<Planned>> {
    let mut planned = Vec::new();
    let mut problems = Vec::new();
    for entry in entries {
        match plan_one(repo, entry, options)? {
            Plan::Write(p) => planned.push(*p),
            Plan::Skip(tag) => skipped.push(tag),
            Plan::Problem(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid(
            "import file",
            source,
            format!("nothing was imported: {}", problems.join("; ")),
        ));
    }
    Ok(planned)
}

fn plan_one(repo: &Repo, entry: Entry, options: ImportOptions) -> Result<Plan> {
    let tag_name = entry.tag.to_string();
    let Some(target) = tag::resolve(repo, &tag_name)? else {
        return Ok(plan_new_tag(repo, entry, options));
    };
    if let Some(commit) = entry.commit.filter(|c| *c != target.commit) {
        return Ok(Plan::Problem(format!(
            "tag {tag_name} points at commit {} here, but the release was made on {commit}",
            target.commit
        )));
    }
    match release::find(repo, &entry.tag) {
        Ok(_) => Ok(Plan::Skip(tag_name)),
        Err(Error::ReleaseNotFound { .. }) => Ok(Plan::Write(Box::new(Planned {
            entry,
            target,
            create_tag: false,
        }))),
        Err(e) => Err(e),
    }
}

/// A release whose tag does not exist here: its tag is made on `commit.id` when
/// asked and possible.
fn plan_new_tag(repo: &Repo, entry: Entry, options: ImportOptions) -> Plan {
    let tag_name = &entry.tag;
    if !options.create_tags_from_commit {
        return Plan::Problem(format!(
            "tag {tag_name} does not exist here (fetch the tags, or pass --create-tags-from-commit)"
        ));
    }
    // The rule `create` follows for a tag it makes (no `refs/heads/main`, which would
    // become the ambiguous refs/tags/refs/heads/main).
    if let Err(e) = TagName::parse_new(tag_name.as_str()) {
        return Plan::Problem(format!("tag {tag_name} cannot be created: {e}"));
    }
    let Some(commit) = entry.commit else {
        return Plan::Problem(format!(
            "tag {tag_name} does not exist here and the release names no commit.id to create it on"
        ));
    };
    if repo.git().find_commit(commit).is_err() {
        return Plan::Problem(format!(
            "tag {tag_name} cannot be created: commit {commit} is not in this repository"
        ));
    }
    Plan::Write(Box::new(Planned {
        entry,
        target: TagTarget {
            target: commit,
            commit,
        },
        create_tag: true,
    }))
}

/// The milestones the planned releases name that do not exist here, by title, each
/// with the key it will get (known before anything is written, for the marker).
fn milestones_to_create(repo: &Repo, planned: &[Planned]) -> Result<BTreeMap<String, Key>> {
    let existing = crate::store::Snapshot::read(repo.git())?.milestones()?;
    let mut out = BTreeMap::new();
    for m in planned.iter().flat_map(|p| &p.entry.milestones) {
        if m.group.is_none() && existing.find(&m.title).is_none() {
            out.entry(m.title.clone()).or_insert_with(Key::random);
        }
    }
    Ok(out)
}

/// Takes back an import that failed after writing: its tags (`made`, and any other
/// made for its claim), records and milestones.
fn take_back(repo: &Repo, marker: &Marker, key: Key, made: &[(TagName, Oid)]) {
    undo_tags(repo, made);
    let claim = key.to_string();
    for r in marker.records.iter().filter(|r| r.creates_tag) {
        if tag::made_for_claim(repo, &r.tag, r.target, &claim) {
            if let Ok(name) = TagName::parse(&r.tag) {
                let _ = tag::delete_ref(repo, &name, r.target);
            }
        }
    }
    // Should this write fail, the marker stays and the next write does it.
    if leftovers::undo_import(repo, marker, key).is_ok() {
        marker.remove(repo);
    }
}

/// Writes every planned record, pending (and the milestones they name that are
/// missing, with their keys from `new_milestones`) in one commit; a release recorded
/// meanwhile is skipped.
fn write_records(
    repo: &Repo,
    planned: &[Planned],
    claim: &Pending,
    new_milestones: &BTreeMap<String, Key>,
) -> Result<Imported> {
    let importer = Person::author(repo)?;
    // The project's group milestones, read once where a release names one.
    let names_group_milestones = planned
        .iter()
        .any(|p| p.entry.milestones.iter().any(|m| m.group.is_some()));
    let group = match names_group_milestones {
        true => GroupMilestones::load(repo)?,
        false => None,
    };
    let message = format!("import {} release(s)", planned.len());
    let written = Store::new(repo).update(&message, |tx| {
        let mut result = Imported::default();
        let file: MilestoneFile = tx.json_file(MILESTONES_PATH)?.unwrap_or_default();
        let milestones_before = file.milestones.len();
        let mut file = Milestones::new(file);
        for p in planned {
            let tag = p.entry.tag.as_str();
            let commit_hex = p.target.commit.to_string();
            if release::has_release_tx(tx, repo, tag, p.target.commit)? {
                result.skipped.push(tag.to_owned());
                continue;
            }
            let milestones = milestone_keys(tx, &mut file, &p.entry, new_milestones, &mut result)?;
            let links = import_links(tx, &p.entry, &mut result.notices)?;
            let release = Release {
                id: Some(tx.allocate_id(IdKind::Release, 0)?),
                name: p.entry.name.clone(),
                description: p.entry.description.clone(),
                created_at: p.entry.created_at,
                released_at: p.entry.released_at,
                author: p.entry.author.clone().unwrap_or_else(|| importer.clone()),
                commit: p.target.commit,
                tag_target: p.target.target,
                pending: Some(claim.clone()),
                links,
                evidences: Vec::new(),
                milestones,
                group_milestones: group_references(group.as_ref(), &p.entry, &mut result.notices),
                extra: Map::new(),
            };
            tx.doc(&commit_hex)?.set(tag, &release);
            tx.set_index(tag, release.commit);
            tx.forget_deleted_tag(tag)?;
            result.created.push(tag.to_owned());
        }
        if file.file.milestones.len() != milestones_before {
            tx.put_json_file(MILESTONES_PATH, &file.file)?;
        }
        Ok(result)
    });
    Ok(written?.value)
}

/// The milestones file, with what an import looks up for every release kept at hand
/// (keys by title, the highest ids), so that thousands of releases naming thousands
/// of milestones cost linear time.
struct Milestones {
    file: MilestoneFile,
    by_title: HashMap<String, Key>,
    highest_id: u64,
    highest_iid: u64,
}

impl Milestones {
    fn new(file: MilestoneFile) -> Self {
        Milestones {
            by_title: file
                .milestones
                .iter()
                .map(|m| (m.title.clone(), m.key))
                .collect(),
            highest_id: file.highest_id(),
            highest_iid: file.highest_iid(),
            file,
        }
    }

    fn push(&mut self, milestone: Milestone) {
        self.by_title.insert(milestone.title.clone(), milestone.key);
        self.highest_id = self.highest_id.max(milestone.id);
        self.highest_iid = self.highest_iid.max(milestone.iid);
        self.file.milestones.push(milestone);
    }
}

/// The keys of the milestones `entry` names: existing ones by title, the others
/// created in `file` (with the ids the file shows when they are free).
fn milestone_keys(
    tx: &mut crate::store::Transaction<'_, '_>,
    file: &mut Milestones,
    entry: &Entry,
    new_milestones: &BTreeMap<String, Key>,
    result: &mut Imported,
) -> Result<Vec<Key>> {
    let mut keys = Vec::new();
    for m in entry.milestones.iter().filter(|m| m.group.is_none()) {
        let key = match file.by_title.get(&m.title) {
            Some(existing) => *existing,
            None => {
                let key = new_milestones
                    .get(&m.title)
                    .copied()
                    .unwrap_or_else(Key::random);
                let milestone = new_milestone(tx, file, m, key, entry.created_at)?;
                if milestone.id != m.id.unwrap_or(milestone.id) {
                    result.notices.push(format!(
                        "milestone {:?} is id {} here (id {} was taken)",
                        m.title,
                        milestone.id,
                        m.id.unwrap_or_default()
                    ));
                }
                result.milestones_created.push(m.title.clone());
                let key = milestone.key;
                file.push(milestone);
                key
            }
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// What the release keeps of the group milestones `entry` names: each the project's
/// group's milestone of that title where the group's repository is here and has one;
/// else the file's milestone kept by title (a group milestone stays one: no project
/// milestone is made for it), with a notice.
fn group_references(
    group: Option<&GroupMilestones>,
    entry: &Entry,
    notices: &mut Vec<String>,
) -> Vec<GroupMilestoneRef> {
    let mut refs: Vec<GroupMilestoneRef> = Vec::new();
    for m in &entry.milestones {
        let Some(of) = &m.group else { continue };
        let found = group.and_then(|g| Some((g, g.file.as_ref()?.find(&m.title)?)));
        let reference = match found {
            Some((g, milestone)) => g.reference(milestone),
            None => {
                let place = match group {
                    Some(g) if g.at_hand() => format!(
                        "{} has no milestone of that title (the release lists it once the \
                         group has it and `update --milestone` names it)",
                        g.group.describe()
                    ),
                    Some(g) => format!("{} is not here", g.group.describe()),
                    None => "the project is in no group here".to_owned(),
                };
                notices.push(format!(
                    "{}: group milestone {:?}: {place}; kept by its title as the file shows it",
                    entry.tag, m.title
                ));
                let created_at = m.created_at.unwrap_or(entry.created_at);
                GroupMilestoneRef {
                    key: Key::random(),
                    group: of.path.clone(),
                    group_id: of.id,
                    id: m.id.unwrap_or(0),
                    iid: m.iid.unwrap_or(0),
                    title: m.title.clone(),
                    state: m.state,
                    due_date: m.due_date,
                    start_date: m.start_date,
                    created_at,
                    updated_at: m.updated_at.unwrap_or(created_at),
                    extra: Map::new(),
                }
            }
        };
        if !refs
            .iter()
            .any(|r| r.key == reference.key || r.title == reference.title)
        {
            refs.push(reference);
        }
    }
    refs
}

/// The links of `entry`, with the ids the file shows where they are free.
fn import_links(
    tx: &mut crate::store::Transaction<'_, '_>,
    entry: &Entry,
    notices: &mut Vec<String>,
) -> Result<Vec<Link>> {
    let tag = entry.tag.as_str();
    let count = entry.links.len() as i64;
    let mut links = Vec::with_capacity(entry.links.len());
    // Oldest first, so that ids kept from the file stay in their order.
    // Unique already (parse_links checked them).
    for (position, (id, draft)) in entry.links.iter().enumerate().rev() {
        let assigned = match id {
            Some(wanted) => tx.claim_id(IdKind::Link, *wanted, 0)?,
            None => tx.allocate_id(IdKind::Link, 0)?,
        };
        if id.is_some_and(|wanted| wanted != assigned) {
            notices.push(format!(
                "{tag}: link {:?} is id {assigned} here (id {} was taken)",
                draft.name,
                id.unwrap_or_default()
            ));
        }
        // GitLab lists links newest first and exports no link times: spacing them a
        // millisecond apart after the release keeps that order here.
        let offset = chrono::Duration::milliseconds(count - 1 - position as i64);
        let created_at = Timestamp::from_datetime(entry.created_at.datetime() + offset);
        links.push(draft.clone().into_link(Key::random(), assigned, created_at));
    }
    Ok(links)
}

/// Makes the missing tags of the releases recorded (`created`), each for the import's
/// claim. On a failure the tags made so far are taken back.
fn create_tags(
    repo: &Repo,
    planned: &[Planned],
    created: &[String],
    claim: &Pending,
) -> Result<Vec<(TagName, Oid)>> {
    let key = claim.key.map(|k| k.to_string()).unwrap_or_default();
    let mut made: Vec<(TagName, Oid)> = Vec::new();
    for p in planned
        .iter()
        .filter(|p| p.create_tag && created.iter().any(|t| t == p.entry.tag.as_str()))
    {
        if let Err(e) = tag::create_ref_claimed(repo, &p.entry.tag, p.target.target, &key) {
            undo_tags(repo, &made);
            return Err(e);
        }
        made.push((p.entry.tag.clone(), p.target.target));
        failpoint::reach(failpoint::IMPORT_TAG_CREATED);
    }
    Ok(made)
}

fn new_milestone(
    tx: &mut crate::store::Transaction<'_, '_>,
    file: &Milestones,
    m: &MilestoneEntry,
    key: Key,
    fallback_time: Timestamp,
) -> Result<Milestone> {
    let id = match m.id {
        Some(wanted) => tx.claim_id(IdKind::Milestone, wanted, file.highest_id)?,
        None => tx.allocate_id(IdKind::Milestone, file.highest_id)?,
    };
    let iid = match m.iid {
        Some(wanted) => tx.claim_id(IdKind::MilestoneIid, wanted, file.highest_iid)?,
        None => tx.allocate_id(IdKind::MilestoneIid, file.highest_iid)?,
    };
    let created_at = m.created_at.unwrap_or(fallback_time);
    Ok(Milestone {
        key,
        id,
        iid,
        title: m.title.clone(),
        description: m.description.clone(),
        state: m.state,
        due_date: m.due_date,
        start_date: m.start_date,
        created_at,
        updated_at: m.updated_at.unwrap_or(created_at),
        issues: Vec::new(),
        // The issues are not in GitLab's release JSON; their counts are.
        imported_issue_stats: m.issue_stats.filter(|s| s.total > 0),
        extra: Map::new(),
    })
}

/// The import's commit point: one commit drops the pending mark of every record it
/// wrote.
fn finish_claims(repo: &Repo, planned: &[Planned], claim: &Pending) -> Result<()> {
    let message = format!("import {} release(s): complete", planned.len());
    Store::new(repo).update(&message, |tx| {
        for p in planned {
            let tag = p.entry.tag.as_str();
            let commit_hex = p.target.commit.to_string();
            let doc = tx.doc(&commit_hex)?;
            let Ok(Some(mut release)) = doc.get(tag, &commit_hex) else {
                continue;
            };
            if release.pending.as_ref() != Some(claim) {
                continue;
            }
            release.pending = None;
            doc.set(tag, &release);
        }
        Ok(())
    })?;
    Ok(())
}

fn undo_tags(repo: &Repo, made: &[(TagName, Oid)]) {
    for (tag, target) in made {
        // Only if it still points where we put it.
        let _ = tag::delete_ref(repo, tag, *target);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_milestone_url_names_its_group() {
        assert_eq!(
            group_path_of_url("https://h/groups/platform/tools/-/milestones/3").as_deref(),
            Some("platform/tools")
        );
        for bad in [
            "https://h/groups/../x/-/milestones/1",
            "https://h/group/p/-/milestones/1",
            "https://h/groups/p/milestones/1",
        ] {
            assert_eq!(group_path_of_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn direct_asset_urls_give_back_their_paths() {
        assert_eq!(
            path_from_direct_url(
                "https://gl.example/g/p/-/releases/v1.0/downloads/bin/app",
                "https://cdn.example/app"
            )
            .as_deref(),
            Some("/bin/app")
        );
        assert_eq!(
            path_from_direct_url("https://cdn.example/app", "https://cdn.example/app"),
            None
        );
    }

    #[test]
    fn reads_objects_arrays_and_concatenated_pages() {
        let one = release_objects(r#"{"tag_name": "a"}"#, "f").unwrap();
        assert_eq!(one.len(), 1);
        let pages = release_objects(
            "[{\"tag_name\": \"a\"}]\n[{\"tag_name\": \"b\"}, {\"tag_name\": \"c\"}]",
            "f",
        )
        .unwrap();
        assert_eq!(pages.len(), 3);
        assert!(release_objects("[1]", "f").is_err());
        assert!(release_objects("", "f").is_err());
        assert!(release_objects("[{} ", "f").is_err());
    }
}
