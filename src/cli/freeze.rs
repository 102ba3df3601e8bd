//! `git release freeze …`: deploy freeze periods, kept in freezes.json.

use super::Exit;

use clap::{Args, Subcommand};
use git_release::model::freeze::DEFAULT_ZONE;
use git_release::plan::freeze::{self, Change, Spec, Status};
use git_release::present::gitlab::FreezePeriodEntity;
use git_release::text::terminal;
use git_release::time::{self, Timestamp};
use git_release::{Error, Repo, Result};
use serde::Serialize;

use super::{Style, Ui, common, render};

/// Manage deploy freeze periods (GitLab's Freeze Periods).
///
/// A period is a recurring window between two cron expressions in a time zone, or a
/// one-off window.
/// A period is in force at time t when its most recent start at or before t is
/// followed by an end at or after t. Several periods may exist; overlaps merge.
#[derive(Args)]
pub struct FreezeArgs {
    #[command(subcommand)]
    pub command: FreezeCommand,
}

impl FreezeArgs {
    pub fn writes(&self) -> bool {
        matches!(
            self.command,
            FreezeCommand::Add(_) | FreezeCommand::Update(_) | FreezeCommand::Delete(_)
        )
    }
}

#[derive(Subcommand)]
pub enum FreezeCommand {
    /// Add a freeze period: --start CRON --end CRON [--timezone TZ], or --from ISO --until ISO.
    Add(AddArgs),
    /// List the freeze periods.
    List,
    /// Change a freeze period.
    #[command(visible_alias = "edit")]
    Update(UpdateArgs),
    /// Delete a freeze period.
    Delete(IdArgs),
    /// Say whether a freeze is in force, by which period, and when it ends or the next begins.
    Status(AtArgs),
    /// For scripts and CI: exit 0 when no freeze is in force, 1 when one is, 2 when
    /// it cannot tell (bad input, unreadable freezes).
    Check(CheckArgs),
}

#[derive(Args)]
pub struct AddArgs {
    /// When the freeze begins: a 5-field cron expression (minute hour day-of-month
    /// month day-of-week; ranges, lists, steps and names allowed), e.g. "0 23 * * fri".
    #[arg(long, value_name = "CRON", requires = "end", conflicts_with_all = ["from", "until"])]
    pub start: Option<String>,
    /// When the freeze ends: a 5-field cron expression, e.g. "0 7 * * mon".
    #[arg(long, value_name = "CRON", requires = "start")]
    pub end: Option<String>,
    /// The IANA time zone the cron expressions are read in (default UTC).
    #[arg(
        long,
        visible_alias = "cron-timezone",
        value_name = "TZ",
        requires = "start"
    )]
    pub timezone: Option<String>,
    /// Start of a one-off window (ISO 8601).
    #[arg(long, value_name = "ISO", requires = "until", value_parser = common::timestamp)]
    pub from: Option<Timestamp>,
    /// End of a one-off window (ISO 8601), inclusive.
    #[arg(long, value_name = "ISO", requires = "from", value_parser = common::timestamp)]
    pub until: Option<Timestamp>,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// The period's id (see `freeze list`).
    pub id: u64,
    /// New start cron expression.
    #[arg(long, value_name = "CRON", conflicts_with_all = ["from", "until"])]
    pub start: Option<String>,
    /// New end cron expression.
    #[arg(long, value_name = "CRON", conflicts_with_all = ["from", "until"])]
    pub end: Option<String>,
    /// New IANA time zone.
    #[arg(long, visible_alias = "cron-timezone", value_name = "TZ", conflicts_with_all = ["from", "until"])]
    pub timezone: Option<String>,
    /// New start of a one-off window (ISO 8601).
    #[arg(long, value_name = "ISO", value_parser = common::timestamp)]
    pub from: Option<Timestamp>,
    /// New end of a one-off window (ISO 8601).
    #[arg(long, value_name = "ISO", value_parser = common::timestamp)]
    pub until: Option<Timestamp>,
}

#[derive(Args)]
pub struct IdArgs {
    /// The period's id (see `freeze list`).
    pub id: u64,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The time to ask about (ISO 8601; default now).
    #[arg(long, value_name = "ISO", value_parser = common::timestamp)]
    pub at: Option<Timestamp>,
    /// Print `CI_DEPLOY_FREEZE=true` when frozen and nothing otherwise, as GitLab CI
    /// sets that variable (e.g. `eval "$(git release freeze check --env)"`).
    #[arg(long)]
    pub env: bool,
}

#[derive(Args)]
pub struct AtArgs {
    /// The time to ask about (ISO 8601; default now).
    #[arg(long, value_name = "ISO", value_parser = common::timestamp)]
    pub at: Option<Timestamp>,
}

fn at_or_now(args: &AtArgs) -> Result<Timestamp> {
    match args.at {
        Some(at) => Ok(at),
        None => Timestamp::now(),
    }
}

/// `freeze status --json`.
#[derive(Serialize)]
struct StatusJson {
    at: Timestamp,
    frozen: bool,
    /// Ids of the periods in force (empty when not frozen).
    periods: Vec<u64>,
    started_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    next_freeze: Option<NextJson>,
}

#[derive(Serialize)]
struct NextJson {
    period: u64,
    starts_at: Timestamp,
    ends_at: Timestamp,
}

impl From<&Status> for StatusJson {
    fn from(status: &Status) -> Self {
        StatusJson {
            at: status.at,
            frozen: status.active.is_some(),
            periods: status
                .active
                .as_ref()
                .map(|a| a.periods.clone())
                .unwrap_or_default(),
            started_at: status.active.as_ref().map(|a| a.started_at),
            ends_at: status.active.as_ref().map(|a| a.ends_at),
            next_freeze: status.next.as_ref().map(|n| NextJson {
                period: n.period,
                starts_at: n.window.start,
                ends_at: n.window.end,
            }),
        }
    }
}

/// One sentence: "frozen by period 1 since … until … (in 2 days)" or "not frozen; …".
fn describe(status: &Status) -> String {
    match (&status.active, &status.next) {
        (Some(active), _) => format!(
            "frozen by {} since {} until {} ({})",
            common::freeze_periods(&active.periods),
            render::date(active.started_at),
            render::date(active.ends_at),
            time::relative(active.ends_at, status.at)
        ),
        (None, Some(next)) => format!(
            "not frozen; the next freeze (period {}) begins {} ({}) and ends {}",
            next.period,
            render::date(next.window.start),
            time::relative(next.window.start, status.at),
            render::date(next.window.end)
        ),
        (None, None) => "not frozen; no freeze period begins again".to_owned(),
    }
}

/// Exit status 1 is reserved for "frozen": any error is reported with status 2, so a
/// script never mistakes a broken setup for a freeze (or for a green light).
fn check(repo: &Repo, args: &CheckArgs, ui: &Ui) -> Exit {
    let at = match args.at {
        Some(at) => Ok(at),
        None => Timestamp::now(),
    };
    let status = match at.and_then(|at| freeze::status(repo, at)) {
        Ok(status) => status,
        Err(e) => {
            ui.report(&e);
            return Exit::CannotTell;
        }
    };
    let frozen = status.active.is_some();
    let printed = if args.env {
        if frozen {
            println!("CI_DEPLOY_FREEZE=true");
        }
        Ok(())
    } else if ui.json {
        common::print_json(&StatusJson::from(&status))
    } else {
        if !ui.quiet {
            println!("{}", terminal(&describe(&status)));
        }
        Ok(())
    };
    if let Err(e) = printed {
        ui.report(&e);
        return Exit::CannotTell;
    }
    if frozen { Exit::Frozen } else { Exit::Success }
}

pub fn run(args: FreezeArgs, ui: &Ui) -> Result<Exit> {
    if let FreezeCommand::Check(a) = &args.command {
        // Even opening the repository failing is "cannot tell" here.
        return Ok(match Repo::open_from_env() {
            Ok(repo) => check(&repo, a, ui),
            Err(e) => {
                ui.report(&e);
                Exit::CannotTell
            }
        });
    }
    let repo = Repo::open_from_env()?;
    match args.command {
        FreezeCommand::Add(a) => {
            let period = freeze::add(&repo, spec_of(a)?)?;
            show(ui, "Added", &period)?;
        }
        FreezeCommand::List => list(&repo, ui)?,
        FreezeCommand::Update(a) => {
            let period = freeze::update(
                &repo,
                a.id,
                Change {
                    start: a.start,
                    end: a.end,
                    zone: a.timezone,
                    from: a.from,
                    until: a.until,
                },
            )?;
            show(ui, "Updated", &period)?;
        }
        FreezeCommand::Delete(a) => {
            let period = freeze::delete(&repo, a.id)?;
            show(ui, "Deleted", &period)?;
        }
        FreezeCommand::Status(a) => {
            let status = freeze::status(&repo, at_or_now(&a)?)?;
            if ui.json {
                common::print_json(&StatusJson::from(&status))?;
            } else {
                let text = describe(&status);
                let style = if status.active.is_some() {
                    Style::Yellow
                } else {
                    Style::Bold
                };
                println!("{}", ui.paint(style, &terminal(&text)));
            }
        }
        // Handled before the repository is opened (above); kept for the match.
        FreezeCommand::Check(a) => return Ok(check(&repo, &a, ui)),
    }
    Ok(Exit::Success)
}

/// `--start/--end [--timezone]` or `--from/--until`: the two kinds of freeze.
fn spec_of(a: AddArgs) -> Result<Spec> {
    Ok(match (a.start, a.end, a.from, a.until) {
        (Some(start), Some(end), _, _) => Spec::Cron {
            start,
            end,
            zone: a.timezone.unwrap_or_else(|| DEFAULT_ZONE.to_owned()),
        },
        (_, _, Some(from), Some(until)) => Spec::Once { from, until },
        _ => {
            return Err(Error::InvalidInput {
                what: "freeze period",
                value: String::new(),
                reason: "give --start CRON and --end CRON, or --from ISO and --until ISO".into(),
            });
        }
    })
}

fn show(ui: &Ui, verb: &str, period: &git_release::model::FreezePeriod) -> Result<()> {
    if ui.json {
        common::print_json(&FreezePeriodEntity::from(period))?;
    } else if !ui.quiet {
        println!(
            "{verb} freeze period {}: {}",
            period.id,
            terminal(&period.describe())
        );
    }
    Ok(())
}

fn list(repo: &Repo, ui: &Ui) -> Result<()> {
    let periods = freeze::list(repo)?;
    if ui.json {
        let entities: Vec<FreezePeriodEntity> =
            periods.iter().map(FreezePeriodEntity::from).collect();
        common::print_json(&entities)?;
    } else if periods.is_empty() {
        if !ui.quiet {
            eprintln!("No freeze periods.");
        }
    } else {
        let rows: Vec<Vec<String>> = periods
            .iter()
            .map(|p| match (&p.freeze_start, &p.freeze_end) {
                (Some(start), Some(end)) => vec![
                    p.id.to_string(),
                    start.clone(),
                    end.clone(),
                    p.cron_timezone.clone(),
                ],
                _ => vec![
                    p.id.to_string(),
                    p.from.map(render::date).unwrap_or_default(),
                    p.until.map(render::date).unwrap_or_default(),
                    "(one-off)".to_owned(),
                ],
            })
            .collect();
        print!(
            "{}",
            render::table(ui, &["ID", "START", "END", "TIMEZONE"], &rows)
        );
    }
    Ok(())
}
