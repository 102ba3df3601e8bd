//! `git release milestone …`: the project's milestones, kept in milestones.json.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use git_release::git::project::Project;
use git_release::model::{IssueState, MilestoneState};
use git_release::plan::milestone::{self, MilestoneChange, NewIssue, NewMilestone};
use git_release::present::gitlab::MilestoneEntity;
use git_release::{Repo, Result};

use super::{Style, Ui, common, render};

/// Manage milestones (GitLab's), which releases can belong to.
#[derive(Args)]
pub struct MilestoneArgs {
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
    /// Delete a milestone and detach it from every release.
    Delete(TitleArgs),
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
    /// Record an issue on a milestone.
    Add(IssueAddArgs),
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

pub fn run(args: MilestoneArgs, ui: &Ui) -> Result<ExitCode> {
    let repo = Repo::open_from_env()?;
    let project = Project::resolve(&repo)?;
    let show = |ui: &Ui, verb: &str, m: &git_release::model::Milestone| -> Result<()> {
        if ui.json {
            common::print_json(&MilestoneEntity::new(m, &project))?;
        } else if !ui.quiet {
            println!(
                "{verb} milestone {:?} (id {}, iid {})",
                m.title, m.id, m.iid
            );
        }
        Ok(())
    };
    match args.command {
        MilestoneCommand::Create(a) => {
            let m = milestone::create(
                &repo,
                NewMilestone {
                    title: a.title,
                    description: a.description,
                    due_date: a.due_date,
                    start_date: a.start_date,
                },
            )?;
            show(ui, "Created", &m)?;
        }
        MilestoneCommand::List(a) => {
            let milestones: Vec<_> = milestone::list(&repo)?
                .into_iter()
                .filter(|m| match a.state {
                    StateArg::All => true,
                    StateArg::Active => m.state == MilestoneState::Active,
                    StateArg::Closed => m.state == MilestoneState::Closed,
                })
                .collect();
            if ui.json {
                let entities: Vec<_> = milestones
                    .iter()
                    .map(|m| MilestoneEntity::new(m, &project))
                    .collect();
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
                            m.title.clone(),
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
        }
        MilestoneCommand::View(a) => {
            let viewed = milestone::view(&repo, &a.title)?;
            let m = &viewed.milestone;
            if ui.json {
                let mut value = serde_json::to_value(MilestoneEntity::new(m, &project))
                    .map_err(|e| git_release::Error::Other(format!("cannot encode JSON: {e}")))?;
                // Ours: the releases that belong to the milestone, by tag.
                value["releases"] = viewed
                    .releases
                    .iter()
                    .map(|f| serde_json::Value::from(f.tag.clone()))
                    .collect();
                common::print_json(&value)?;
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{}",
                ui.paint(Style::Bold, &format!("{} ({})", m.title, m.state.as_str()))
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
                let url = issue.url.as_deref().unwrap_or_default();
                println!("          #{} [{state}] {} {url}", issue.id, issue.title);
            }
            if viewed.releases.is_empty() {
                println!("releases  none");
            } else {
                let tags: Vec<&str> = viewed.releases.iter().map(|f| f.tag.as_str()).collect();
                println!("releases  {}", tags.join(", "));
            }
            if let Some(d) = m.description.as_deref().filter(|d| !d.trim().is_empty()) {
                println!();
                println!("{}", d.trim_end());
            }
        }
        MilestoneCommand::Update(a) => {
            let m = milestone::update(
                &repo,
                &a.title,
                MilestoneChange {
                    title: a.new_title,
                    description: clearable(a.description),
                    due_date: clearable(a.due_date),
                    start_date: clearable(a.start_date),
                    state: None,
                },
            )?;
            show(ui, "Updated", &m)?;
        }
        MilestoneCommand::Close(a) => {
            let m = milestone::set_state(&repo, &a.title, MilestoneState::Closed)?;
            show(ui, "Closed", &m)?;
        }
        MilestoneCommand::Reopen(a) => {
            let m = milestone::set_state(&repo, &a.title, MilestoneState::Active)?;
            show(ui, "Reopened", &m)?;
        }
        MilestoneCommand::Delete(a) => {
            let deleted = milestone::delete(&repo, &a.title)?;
            if ui.json {
                common::print_json(&MilestoneEntity::new(&deleted.milestone, &project))?;
            } else if !ui.quiet {
                println!("Deleted milestone {:?}", deleted.milestone.title);
                if !deleted.detached.is_empty() {
                    println!("Detached from {}", deleted.detached.join(", "));
                }
            }
        }
        MilestoneCommand::Issue(IssueCommand::Add(a)) => {
            let issue = milestone::add_issue(
                &repo,
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
    }
    Ok(ExitCode::SUCCESS)
}
