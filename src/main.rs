//! `git-release`: parse the command line, dispatch to one command, print errors with
//! their hints, and map outcomes to exit codes (0 ok, 1 failure, 2 usage).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let ui = cli::Ui::new(&cli.global);
    for dir in &cli.global.directory {
        if let Err(e) = std::env::set_current_dir(dir) {
            ui.error(&format!("cannot change to {}: {e}", dir.display()), None);
            return ExitCode::from(1);
        }
    }
    match cli::run(cli.command, &ui) {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e.to_string(), e.hint().as_deref());
            ExitCode::from(1)
        }
    }
}
