//! `git-release`: parse the command line, dispatch to one command, print errors with
//! their causes and hints, and map outcomes to exit codes (`cli::Exit`).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
    git_release::git::repo::configure_libgit2();
    let cli = cli::parse();
    let global = &cli.global;
    let ui = cli::Ui::new(global.json, global.quiet, global.no_color);
    for dir in &cli.global.directory {
        if let Err(e) = std::env::set_current_dir(dir) {
            ui.error(&format!("cannot change to {}: {e}", dir.display()), None);
            return cli::Exit::Failure.into();
        }
    }
    match cli::run(cli.command, &ui) {
        Ok(exit) => exit.into(),
        Err(e) => {
            ui.report(&e);
            cli::Exit::Failure.into()
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`git release list | head`)
/// becomes an error and a panic in `println!`. Like git and other Unix tools, end
/// quietly instead.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists; setting a
    // signal's disposition to its default has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
