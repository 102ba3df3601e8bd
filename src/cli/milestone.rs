//! `git release milestone …`: the project's milestones, kept in milestones.json.

use super::Exit;

use clap::{Args, Subcommand, ValueEnum};
use git_release::git::project::Project;
use git_release::model::{IssueState, MilestoneState};
use git_release::plan::milestone::{self, IssueChange, MilestoneChange, NewIssue, NewMilestone};
use git_release::present::gitlab::{MilestoneEntity, instance_url};
use git_release::release::group::{self, GroupRepository};
use git_release::text::{terminal, terminal_lines};
use git_release::time::Timestamp;
use git_release::{Error, Repo, Result};

use super::{Style, Ui, common, render};

/// Manage milestones (GitLab's), which releases can belong to.
#[derive(Args)]
pub struct MilestoneArgs {
    /// The milestones of the project's group (kept in the group's repository:
    /// `release.groupRepository`, else `.group.git` beside the project), not its own.
    #[arg(long, global = true)]
    pub group: bool,
    #[command(subcommand)]
    pub command: MilestoneCommand,
}

impl MilestoneArgs {
    pub fn writes(&self) -> bool {
        !matches!(
            self.command,
            MilestoneCommand::List(_) | MilestoneCommand::View(_)
        )
    }
}

#[derive(Subcommand)]
pub enum MilestoneCommand {
    /// Create a milestone; titles are unique.
    Create(CreateArgs),
    /// List milestones (all states unless --state says otherwise).
    List(ListArgs),
    /// Show a milestone, its issues and the releases that belong to it.
    #[command(visible_alias = "show")]
    View(TitleArgs),
    /// Change a milestone's title, description or dates.
    #[command(visible_alias = "edit")]
    Update(UpdateArgs),
    /// Close a milestone.
    Close(TitleArgs),
    /// Reopen a closed milestone.
    Reopen(TitleArgs),
    /// Delete a milestone and detach it from every release (asks as `delete` does).
    Delete(DeleteArgs),
    /// Issues recorded on a milestone (they feed issue_stats and evidence).
    #[command(subcommand)]
    Issue(IssueCommand),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The milestone's title.
    pub title: String,
    /// Description (Markdown).
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// Due date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub due_date: Option<String>,
    /// Start date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub start_date: Option<String>,
}

#[derive(Args)]
pub struct ListArgs {
    /// Which milestones to list.
    #[arg(long, value_enum, default_value = "all")]
    pub state: StateArg,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StateArg {
    Active,
    Closed,
    All,
}

#[derive(Args)]
pub struct TitleArgs {
    /// The milestone's title.
    pub title: String,
}

#[derive(Args)]
pub struct DeleteArgs {
    /// The milestone's title.
    pub title: String,
    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// The milestone's current title.
    pub title: String,
    /// New title (releases stay attached).
    #[arg(long = "title", short = 't', value_name = "NEW_TITLE")]
    pub new_title: Option<String>,
    /// New description (an empty one clears it).
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// New due date (YYYY-MM-DD; an empty value clears it).
    #[arg(long, value_name = "DATE")]
    pub due_date: Option<String>,
    /// New start date (YYYY-MM-DD; an empty value clears it).
    #[arg(long, value_name = "DATE")]
    pub start_date: Option<String>,
}

#[derive(Subcommand)]
pub enum IssueCommand {
    /// Record an issue on a milestone (titles are unique on one milestone).
    Add(IssueAddArgs),
    /// Mark an issue closed.
    Close(IssueIdArgs),
    /// Mark a closed issue open again.
    Reopen(IssueIdArgs),
    /// Change an issue's title, state, URL or due date.
    #[command(visible_alias = "edit")]
    Update(IssueUpdateArgs),
    /// Remove an issue from a milestone.
    #[command(visible_alias = "rm")]
    Remove(IssueIdArgs),
}

#[derive(Args)]
pub struct IssueIdArgs {
    /// The milestone's title.
    pub milestone: String,
    /// The issue's id (`milestone view` lists them as #ID).
    #[arg(value_parser = parse_issue_id)]
    pub issue: u64,
}

#[derive(Args)]
pub struct IssueUpdateArgs {
    /// The milestone's title.
    pub milestone: String,
    /// The issue's id (`milestone view` lists them as #ID).
    #[arg(value_parser = parse_issue_id)]
    pub issue: u64,
    /// New title.
    #[arg(long)]
    pub title: Option<String>,
    /// New state.
    #[arg(long, value_enum)]
    pub state: Option<IssueState>,
    /// New URL (an empty value clears it).
    #[arg(long)]
    pub url: Option<String>,
    /// New due date (YYYY-MM-DD; an empty value clears it).
    #[arg(long, value_name = "DATE")]
    pub due_date: Option<String>,
}

/// `12` or `#12`.
fn parse_issue_id(text: &str) -> std::result::Result<u64, String> {
    text.trim_start_matches('#')
        .parse::<u64>()
        .map_err(|_| format!("{text:?} is not an issue id (a number, as `milestone view` shows)"))
}

#[derive(Args)]
pub struct IssueAddArgs {
    /// The milestone's title.
    pub milestone: String,
    /// The issue's title.
    #[arg(long)]
    pub title: String,
    /// The issue's state.
    #[arg(long, default_value = "opened", value_enum)]
    pub state: IssueState,
    /// Where the issue lives (http or https URL).
    #[arg(long)]
    pub url: Option<String>,
    /// The issue's due date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub due_date: Option<String>,
}

/// An empty value clears an optional field.
fn clearable(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (!v.trim().is_empty()).then_some(v))
}

/// What every milestone subcommand shares.
struct Context {
    /// The repository holding the milestones: the project's, or its group's.
    repo: Repo,
    /// With `--group`: the project's repository, whose releases may name them.
    project_repo: Option<Repo>,
    project: Project,
    group: Option<GroupRepository>,
    now: Timestamp,
}

impl Context {
    fn entity(&self, m: &git_release::model::Milestone) -> MilestoneEntity {
        match &self.group {
            Some(group) => {
                let instance = self.project.web_url.as_deref().and_then(instance_url);
                MilestoneEntity::of_group(m, group, instance.as_deref(), self.now)
            }
            None => MilestoneEntity::new(m, &self.project, self.now),
        }
    }

    fn show(&self, ui: &Ui, verb: &str, m: &git_release::model::Milestone) -> Result<()> {
        if ui.json {
            common::print_json(&self.entity(m))?;
        } else if !ui.quiet {
            println!(
                "{verb} milestone {:?} (id {}, iid {})",
                m.title, m.id, m.iid
            );
        }
        Ok(())
    }
}

pub fn run(args: MilestoneArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let project = Project::resolve(&repo)?;
    if let MilestoneCommand::Create(a) = &args.command {
        // Before a group's repository is made for it: bad input makes nothing.
        milestone::validate(&NewMilestone {
            title: a.title.clone(),
            description: a.description.clone(),
            due_date: a.due_date.clone(),
            start_date: a.start_date.clone(),
        })?;
    }
    let ctx = if args.group {
        let writes = args.writes();
        let group = group::locate(&repo)?.ok_or_else(|| Error::NoGroupRepository {
            what: "the project".into(),
            reason: "it is at the top of its root, in no group".into(),
        })?;
        let group_repo = if writes {
            group.open_or_create_here()?
        } else {
            group.open()?.ok_or_else(|| Error::NoGroupRepository {
                what: "the project".into(),
                reason: format!("{} does not exist", group.describe()),
            })?
        };
        Context {
            repo: group_repo,
            project_repo: Some(repo),
            project,
            group: Some(group),
            now: Timestamp::now()?,
        }
    } else {
        Context {
            repo,
            project_repo: None,
            project,
            group: None,
            now: Timestamp::now()?,
        }
    };
    match args.command {
        MilestoneCommand::Create(a) => {
            let m = milestone::create(
                &ctx.repo,
                NewMilestone {
                    title: a.title,
                    description: a.description,
                    due_date: a.due_date,
                    start_date: a.start_date,
                },
            )?;
            ctx.show(ui, "Created", &m)?;
        }
        MilestoneCommand::List(a) => list(&ctx, a, ui)?,
        MilestoneCommand::View(a) => view(&ctx, a, ui)?,
        MilestoneCommand::Update(a) => {
            let m = milestone::update(
                &ctx.repo,
                &a.title,
                MilestoneChange {
                    title: a.new_title,
                    description: clearable(a.description),
                    due_date: clearable(a.due_date),
                    start_date: clearable(a.start_date),
                    state: None,
                },
            )?;
            ctx.show(ui, "Updated", &m)?;
            refresh_kept(&ctx, ui);
        }
        MilestoneCommand::Close(a) => {
            let m = milestone::set_state(&ctx.repo, &a.title, MilestoneState::Closed)?;
            ctx.show(ui, "Closed", &m)?;
            refresh_kept(&ctx, ui);
        }
        MilestoneCommand::Reopen(a) => {
            let m = milestone::set_state(&ctx.repo, &a.title, MilestoneState::Active)?;
            ctx.show(ui, "Reopened", &m)?;
            refresh_kept(&ctx, ui);
        }
        MilestoneCommand::Delete(a) => delete(&ctx, a, ui)?,
        MilestoneCommand::Issue(command) => issue(&ctx, command, ui)?,
    }
    Ok(Exit::Success)
}

/// After a group milestone changed: what this project's releases keep of it follows.
fn refresh_kept(ctx: &Context, ui: &Ui) {
    if let Some(project_repo) = &ctx.project_repo {
        common::refresh_group_milestones(project_repo, ui);
    }
}

fn list(ctx: &Context, a: ListArgs, ui: &Ui) -> Result<()> {
    let milestones: Vec<_> = milestone::list(&ctx.repo)?
        .into_iter()
        .filter(|m| match a.state {
            StateArg::All => true,
            StateArg::Active => m.state == MilestoneState::Active,
            StateArg::Closed => m.state == MilestoneState::Closed,
        })
        .collect();
    if ui.json {
        let entities: Vec<_> = milestones.iter().map(|m| ctx.entity(m)).collect();
        common::print_json(&entities)?;
    } else if milestones.is_empty() {
        if !ui.quiet {
            eprintln!("No milestones.");
        }
    } else {
        let rows: Vec<Vec<String>> = milestones
            .iter()
            .map(|m| {
                let (total, closed) = m.issue_stats();
                vec![
                    m.iid.to_string(),
                    render::truncate(&m.title, render::MAX_CELL_CHARS),
                    m.state.as_str().to_owned(),
                    m.due_date.map(|d| d.to_string()).unwrap_or_default(),
                    if total == 0 {
                        String::new()
                    } else {
                        format!("{closed}/{total} closed")
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            render::table(ui, &["IID", "TITLE", "STATE", "DUE", "ISSUES"], &rows)
        );
    }
    Ok(())
}

fn view(ctx: &Context, a: TitleArgs, ui: &Ui) -> Result<()> {
    let mut viewed = milestone::view(&ctx.repo, &a.title)?;
    if let Some(project_repo) = &ctx.project_repo {
        // A group milestone's releases are the project's that name it.
        viewed.releases = group::releases_naming(project_repo, viewed.milestone.key)?;
    }
    let m = &viewed.milestone;
    if ui.json {
        let mut value =
            serde_json::to_value(ctx.entity(m)).map_err(|source| git_release::Error::Json {
                what: "the milestone".into(),
                source,
            })?;
        // Ours: the releases that belong to the milestone, by tag.
        value["releases"] = viewed
            .releases
            .iter()
            .map(|f| serde_json::Value::from(f.tag.to_string()))
            .collect();
        common::print_json(&value)?;
        return Ok(());
    }
    println!(
        "{}",
        ui.paint(
            Style::Bold,
            &format!("{} ({})", terminal(&m.title), m.state.as_str())
        )
    );
    println!("id        {} (iid {})", m.id, m.iid);
    if let Some(start) = m.start_date {
        println!("starts    {start}");
    }
    if let Some(due) = m.due_date {
        println!("due       {due}");
    }
    let (total, closed) = m.issue_stats();
    println!("issues    {closed} of {total} closed");
    for issue in &m.issues {
        let state = match issue.state {
            IssueState::Opened => "opened",
            IssueState::Closed => "closed",
        };
        match issue.url.as_deref() {
            Some(url) => println!(
                "          #{} [{state}] {} {}",
                issue.id,
                terminal(&issue.title),
                terminal(url)
            ),
            None => println!(
                "          #{} [{state}] {}",
                issue.id,
                terminal(&issue.title)
            ),
        }
    }
    if viewed.releases.is_empty() {
        println!("releases  none");
    } else {
        let tags: Vec<String> = viewed
            .releases
            .iter()
            .map(|f| terminal(&f.tag).into_owned())
            .collect();
        println!("releases  {}", tags.join(", "));
    }
    if let Some(d) = m.description.as_deref().filter(|d| !d.trim().is_empty()) {
        println!();
        println!("{}", terminal_lines(d.trim_end()));
    }
    Ok(())
}

fn delete(ctx: &Context, a: DeleteArgs, ui: &Ui) -> Result<()> {
    common::confirm_destructive(ui, &format!("milestone {:?}", a.title), a.yes)?;
    let deleted = milestone::delete(&ctx.repo, &a.title)?;
    if ui.json {
        common::print_json(&ctx.entity(&deleted.milestone))?;
    } else if !ui.quiet {
        println!("Deleted milestone {:?}", deleted.milestone.title);
        if !deleted.detached.is_empty() {
            println!("Detached from {}", terminal(&deleted.detached.join(", ")));
        }
    }
    Ok(())
}

fn issue(ctx: &Context, command: IssueCommand, ui: &Ui) -> Result<()> {
    match command {
        IssueCommand::Add(a) => {
            let issue = milestone::add_issue(
                &ctx.repo,
                &a.milestone,
                NewIssue {
                    title: a.title,
                    state: a.state,
                    url: a.url,
                    due_date: a.due_date,
                },
            )?;
            if ui.json {
                common::print_json(&issue)?;
            } else if !ui.quiet {
                println!(
                    "Added issue #{} {:?} to milestone {:?}",
                    issue.id, issue.title, a.milestone
                );
            }
        }
        IssueCommand::Close(a) => {
            let change = IssueChange {
                state: Some(IssueState::Closed),
                ..Default::default()
            };
            let issue = milestone::update_issue(&ctx.repo, &a.milestone, a.issue, change)?;
            show_issue(ui, "Closed", &issue, &a.milestone)?;
        }
        IssueCommand::Reopen(a) => {
            let change = IssueChange {
                state: Some(IssueState::Opened),
                ..Default::default()
            };
            let issue = milestone::update_issue(&ctx.repo, &a.milestone, a.issue, change)?;
            show_issue(ui, "Reopened", &issue, &a.milestone)?;
        }
        IssueCommand::Update(a) => {
            let change = IssueChange {
                title: a.title,
                state: a.state,
                url: clearable(a.url),
                due_date: clearable(a.due_date),
            };
            let issue = milestone::update_issue(&ctx.repo, &a.milestone, a.issue, change)?;
            show_issue(ui, "Updated", &issue, &a.milestone)?;
        }
        IssueCommand::Remove(a) => {
            let issue = milestone::remove_issue(&ctx.repo, &a.milestone, a.issue)?;
            show_issue(ui, "Removed", &issue, &a.milestone)?;
        }
    }
    Ok(())
}

fn show_issue(
    ui: &Ui,
    verb: &str,
    issue: &git_release::model::Issue,
    milestone: &str,
) -> Result<()> {
    if ui.json {
        common::print_json(issue)?;
    } else if !ui.quiet {
        let preposition = if verb == "Removed" { "from" } else { "on" };
        println!(
            "{verb} issue #{} {:?} {preposition} milestone {milestone:?}",
            issue.id, issue.title
        );
    }
    Ok(())
}
