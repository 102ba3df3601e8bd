//! The command line: global options, the subcommand enum, and dispatch. One file per
//! command holds its clap `Args` (whose doc comments are the help) and its `run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use git_release::Result;

mod archive;
// Parts of Ui serve commands built on other branches.
#[allow(dead_code)]
mod ui;

#[allow(unused_imports)]
pub use ui::{Style, Ui};

/// GitLab-style releases for any git repository, stored in refs/notes/releases.
#[derive(Parser)]
#[command(
    name = "git-release",
    bin_name = "git release",
    version,
    about,
    propagate_version = true
)]
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
    Archive(archive::Args),
}

pub fn run(command: Command, ui: &Ui) -> Result<ExitCode> {
    match command {
        Command::Archive(args) => archive::run(args, ui),
    }
}
