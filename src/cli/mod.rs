//! The command line: global options, the subcommand enum, and dispatch. One file per
//! command holds its clap `Args` (whose doc comments are the help) and its `run`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};
use git_release::Result;

pub use exit::Exit;
pub use hint::hint;

mod archive;
mod attest;
mod common;
mod config;
mod create;
mod delete;
mod docs;
mod doctor;
mod download;
mod evidence;
mod exit;
mod freeze;
mod hint;
mod hook;
mod link;
mod list;
mod milestone;
mod package;
mod render;
mod resolve;
mod retag;
mod serve;
mod share;
mod site;
mod stats;
mod status;
mod transfer;
mod ui;
mod update;
mod verify;
mod view;

pub use ui::{Style, Ui};

/// GitLab-style releases for any git repository, stored in refs/notes/releases.
#[derive(Parser)]
#[command(name = "git-release", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct GlobalArgs {
    /// Run as if started in <PATH> (as `git -C`); may be given more than once.
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub directory: Vec<PathBuf>,
    /// Print GitLab-compatible JSON instead of human-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only what was asked for: no notices or progress.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Never colour the output (also honoured: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Subcommand)]
pub enum Command {
    Create(create::CreateArgs),
    List(list::ListArgs),
    #[command(visible_aliases = ["show", "get"])]
    View(view::ViewArgs),
    #[command(visible_alias = "edit")]
    Update(update::UpdateArgs),
    Delete(delete::DeleteArgs),
    Link(link::LinkArgs),
    Download(download::DownloadArgs),
    Archive(archive::Args),
    Evidence(evidence::EvidenceArgs),
    Verify(verify::VerifyArgs),
    Attest(attest::AttestArgs),
    Milestone(milestone::MilestoneArgs),
    Freeze(freeze::FreezeArgs),
    Package(package::PackageArgs),
    /// Push your releases (refs/notes/releases, never forced) and their tags.
    Push(share::PushArgs),
    /// Fetch the remote's releases and tags and merge them into yours.
    Fetch(share::ShareArgs),
    /// Fetch and merge, then push (not while conflicts are unresolved).
    Sync(share::PushArgs),
    Status(status::StatusArgs),
    Resolve(resolve::ResolveArgs),
    Retag(retag::RetagArgs),
    Doctor(doctor::DoctorArgs),
    Hook(hook::HookArgs),
    Config(config::ConfigArgs),
    Serve(serve::ServeArgs),
    Export(transfer::ExportArgs),
    Import(transfer::ImportArgs),
    Site(site::SiteArgs),
    Stats(stats::StatsArgs),
    Completions(docs::CompletionsArgs),
    Man(docs::ManArgs),
}

impl Command {
    /// Commands that write to the store: after one succeeds, evidence that has become
    /// due is collected (docs/evidence.md, "When a snapshot is taken"). Reading commands and the pre-push
    /// hook never write.
    fn writes(&self) -> bool {
        match self {
            Command::Create(_)
            | Command::Update(_)
            | Command::Delete(_)
            | Command::Fetch(_)
            | Command::Sync(_)
            | Command::Import(_)
            | Command::Resolve(_)
            | Command::Retag(_) => true,
            Command::Doctor(args) => args.repair,
            Command::Link(args) => args.writes(),
            Command::Milestone(args) => args.writes(),
            Command::Freeze(args) => args.writes(),
            Command::Package(args) => args.writes(),
            _ => false,
        }
    }
}

/// Parses the command line. Asked for `-h`/`--help` while `man git-release` finds no
/// page, the help ends by saying how to install it (`git release --help` is git's,
/// and opens the man page).
pub fn parse() -> Cli {
    use clap::FromArgMatches;
    let wants_help = std::env::args_os()
        .skip(1)
        .any(|a| a == "-h" || a == "--help");
    let mut command = Cli::command();
    if wants_help && !docs::man_page_installed() {
        command = command.after_help(
            "`git release --help` opens the man page, which is not installed: \
             `git release man --install` puts it where man looks.",
        );
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn run(command: Command, ui: &Ui) -> Result<Exit> {
    let writes = command.writes();
    if writes {
        sweep_leftovers(ui);
    }
    let code = dispatch(command, ui)?;
    if writes && code == Exit::Success {
        evidence::collect_due_quietly(ui);
    }
    Ok(code)
}

/// Before a write: what an interrupted command left (pending records, a half-done
/// import) is settled or taken back, so that nothing pending is ever built upon or
/// pushed. Not being able to is said, and left to the command itself to run into.
fn sweep_leftovers(ui: &Ui) {
    let Ok(repo) = git_release::Repo::open_from_env() else {
        return;
    };
    match git_release::release::leftovers::sweep(&repo) {
        Ok(done) => {
            for line in done {
                ui.notice(&line);
            }
        }
        Err(e) => ui.warn(&format!(
            "cannot settle what an interrupted command left: {e}"
        )),
    }
}

fn dispatch(command: Command, ui: &Ui) -> Result<Exit> {
    match command {
        Command::Create(args) => create::run(args, ui),
        Command::List(args) => list::run(args, ui),
        Command::View(args) => view::run(args, ui),
        Command::Update(args) => update::run(args, ui),
        Command::Delete(args) => delete::run(args, ui),
        Command::Push(args) => share::run_push(args, ui),
        Command::Fetch(args) => share::run_fetch(args, ui),
        Command::Sync(args) => share::run_sync(args, ui),
        Command::Status(args) => status::run(args, ui),
        Command::Resolve(args) => resolve::run(args, ui),
        Command::Retag(args) => retag::run(args, ui),
        Command::Doctor(args) => doctor::run(args, ui),
        Command::Completions(args) => docs::run_completions(args, Cli::command(), ui),
        Command::Man(args) => docs::run_man(args, Cli::command(), ui),
        Command::Link(args) => link::run(args, ui),
        Command::Download(args) => download::run(args, ui),
        Command::Milestone(args) => milestone::run(args, ui),
        Command::Freeze(args) => freeze::run(args, ui),
        Command::Package(args) => package::run(args, ui),
        Command::Hook(args) => hook::run(args, ui),
        Command::Config(args) => config::run(args, ui),
        Command::Serve(args) => serve::run(args, ui),
        Command::Export(args) => transfer::run_export(args, ui),
        Command::Import(args) => transfer::run_import(args, ui),
        Command::Archive(args) => archive::run(args, ui),
        Command::Evidence(args) => evidence::run(args, ui),
        Command::Verify(args) => verify::run(args, ui),
        Command::Site(args) => site::run(args, ui),
        Command::Stats(args) => stats::run(args, ui),
        Command::Attest(args) => attest::run(args, ui),
    }
}
