use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use git_release::web::api::{Options, Server, Tokens};
use git_release::web::site::Sources;
use git_release::{Repo, Result};

use super::Ui;

/// Serve GitLab's Releases REST API (v4) from this repository.
///
/// GitLab clients (python-gitlab, glab, curl, release-cli) work against it: releases,
/// asset links, evidence, milestones, freeze periods, tags and source archives, with
/// GitLab's parameters, pagination headers, status codes and JSON (the same JSON as
/// `--json`). The first line on stdout is `Listening on http://HOST:PORT`; each request
/// is logged on stderr (`-q` silences it). SIGINT or SIGTERM stops the server once the
/// requests in flight are answered.
///
/// Reads are open; writes need a token (PRIVATE-TOKEN, Authorization: Bearer or
/// JOB-TOKEN) equal to GIT_RELEASE_SERVE_TOKEN or a line of --token-file. With no token
/// configured, or with --read-only, every write is refused (403). Writes go through the
/// same code as the commands, so the server and the CLI can change releases at once.
#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Build the URLs in responses on URL (when behind a proxy) instead of the
    /// request's Host header.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Refuse every write (403).
    #[arg(long)]
    pub read_only: bool,
    /// Accept the tokens in FILE, one per line (blank lines and # comments skipped).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Require a token for reads too (for anything but a loopback address).
    #[arg(long)]
    pub require_token_for_reads: bool,
    /// Render the release pages (`/<path>/-/releases`) with the templates in DIR, each
    /// replacing the built-in one of its name (as `git release site --templates`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

pub fn run(args: ServeArgs, ui: &Ui) -> Result<ExitCode> {
    ignore_sigpipe();
    let repo = Repo::open_from_env()?;
    let tokens = Tokens::load(args.token_file.as_deref())?;
    let options = Options {
        listen: args.listen,
        base_url: args.base_url,
        read_only: args.read_only,
        require_token_for_reads: args.require_token_for_reads,
        tokens,
        quiet: ui.quiet,
        templates: Sources {
            dir: args.templates,
            tree: true,
        },
    };
    let no_tokens = options.tokens.is_empty() && !options.read_only;
    let open_reads = !options.require_token_for_reads;
    let server = Server::bind(&repo, options)?;
    let addr = server.local_addr();
    println!("Listening on http://{addr}");
    let _ = std::io::stdout().flush();
    if !addr.ip().is_loopback() && open_reads {
        ui.warn(&format!(
            "listening on {}, which is not a loopback address: anyone who can reach it can read every release (use --require-token-for-reads)",
            addr.ip()
        ));
    }
    if no_tokens {
        ui.notice(
            "no token configured (GIT_RELEASE_SERVE_TOKEN or --token-file): writes are refused",
        );
    }
    server.run()?;
    Ok(ExitCode::SUCCESS)
}

/// `main` restores SIGPIPE's default so that `git release list | head` ends quietly;
/// a server must not die with a peer instead: a client that hangs up, or a helper
/// (git, gpg) that exits before reading all its input, is an error for that one
/// request (EPIPE), not the end of the process.
fn ignore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called before the server starts any thread; ignoring a signal has no
    // other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}
