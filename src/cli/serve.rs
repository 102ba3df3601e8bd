use super::Exit;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use std::time::Duration;

use clap::Args;
use git_release::group::Root;
use git_release::web::api::{Limits, Options, Served, Server, Tokens};
use git_release::web::site::Sources;
use git_release::{Repo, Result};

use super::Ui;

/// Serve GitLab's Releases REST API (v4) from this repository (or, with --root, from
/// every repository under a directory, with its groups).
///
/// GitLab clients (python-gitlab, glab, curl, release-cli) work against it: releases,
/// asset links, evidence, milestones, freeze periods, tags and source archives, with
/// GitLab's parameters, pagination headers, status codes and JSON (the same JSON as
/// `--json`). The first line on stdout is `Listening on http://HOST:PORT`; each request
/// is logged on stderr (`-q` silences it). SIGINT or SIGTERM stops the server once the
/// requests in flight are answered.
///
/// Reads are open, as for a public GitLab project; --require-token-for-reads makes the
/// project private (every request needs a token of Guest or above). A token comes in
/// PRIVATE-TOKEN, Authorization: Bearer or JOB-TOKEN. --tokens FILE gives users with
/// GitLab's roles ([[token]] tables: token or token_sha256, username, name, email,
/// role = guest|reporter|developer|maintainer|owner): a Guest of a private project sees
/// releases without their tag, commit and sources (named Release-<id>); a Developer
/// creates and updates releases and links; a Maintainer deletes them, manages freeze
/// periods and works on protected tags ([[protected_tag]] in .git-release.toml). A
/// token equal to GIT_RELEASE_SERVE_TOKEN or a line of --token-file is a Maintainer
/// acting as the repository's git identity. A refusal is GitLab's 403; with no token
/// configured, or with --read-only, every write is refused. Writes go through the same
/// code as the commands, so the server and the CLI can change releases at once. See
/// docs/permissions.md.
///
/// URLs in responses are built on --base-url, else on the listening address; a Host
/// header is used only when it is one of --allowed-host. A wildcard address (0.0.0.0,
/// [::]) needs --base-url or --allowed-host. Connections are bounded: see the limits
/// below and docs/security.md.
#[derive(Args)]
pub struct ServeArgs {
    /// Address (or host name) and port to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Build the URLs in responses on URL (the address clients use, e.g. behind a
    /// proxy) instead of the listening address.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Build URLs on the request's Host header when it is HOST[:PORT] (repeatable).
    #[arg(long = "allowed-host", value_name = "HOST[:PORT]")]
    pub allowed_hosts: Vec<String>,
    /// Seconds a client has to send a request's headers, from their first byte.
    #[arg(long, default_value_t = 10, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Seconds a response may wait for a client that does not read it.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub write_timeout: u64,
    /// Seconds a client has to send a request's body (408 after).
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds the requests in flight get to finish on SIGINT/SIGTERM.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub shutdown_timeout: u64,
    /// Connections served at once (more wait to be accepted).
    #[arg(long, default_value_t = 1024, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Source archives made at once (503 with Retry-After beyond).
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_archive_streams: u64,
    /// Refuse every write (403).
    #[arg(long)]
    pub read_only: bool,
    /// Accept the tokens in FILE, one per line (blank lines and # comments skipped).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Users with GitLab's roles: a TOML file of [[token]] tables (token or
    /// token_sha256, username, name, email, role); a file with a bad line is refused
    /// at start, naming the line.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Make the project private: every request needs a token (Guest or above).
    #[arg(long)]
    pub require_token_for_reads: bool,
    /// Render the release pages (`/<path>/-/releases`) with the templates in DIR, each
    /// replacing the built-in one of its name (as `git release site --templates`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Serve every git repository under DIR instead of the current one: each is a
    /// project whose path is its path under DIR (without `.git`), directories are
    /// groups. Ids are recorded in each repository's config (docs/groups.md).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// With --root: keep the groups' milestones in DIR/<group>.git (made on a group's
    /// first write) instead of the place the root's .git-release-root says
    /// (registry.groupRepositories), or of <group>/.group.git. A place inside the root
    /// must be in a directory whose name starts with '.' (docs/groups.md).
    #[arg(long, value_name = "DIR", requires = "root")]
    pub group_repositories: Option<PathBuf>,
}

pub fn run(args: ServeArgs, ui: &Ui) -> Result<Exit> {
    ignore_sigpipe();
    let served = match &args.root {
        Some(dir) => Served::root(Root::open(dir, args.group_repositories.as_deref())?)?,
        None => Served::repository(&Repo::open_from_env()?)?,
    };
    if let Some(root) = served.as_root() {
        let registry = root.last_scan();
        for notice in &registry.notices {
            ui.notice(notice);
        }
    }
    let tokens = Tokens::load(args.token_file.as_deref(), args.tokens.as_deref())?;
    let limits = Limits {
        header_timeout: Duration::from_secs(args.header_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        write_timeout: Duration::from_secs(args.write_timeout),
        body_timeout: Duration::from_secs(args.body_timeout),
        shutdown_grace: Duration::from_secs(args.shutdown_timeout),
        max_connections: args.max_connections as usize,
        max_archives: args.max_archive_streams as usize,
        ..Limits::default()
    };
    let options = Options {
        listen: args.listen,
        base_url: args.base_url,
        allowed_hosts: args.allowed_hosts,
        limits,
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
    let server = Server::bind(served, options)?;
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
            "no token configured (GIT_RELEASE_SERVE_TOKEN, --token-file or --tokens): writes are refused",
        );
    }
    server.run()?;
    Ok(Exit::Success)
}

/// `ADDR:PORT` or `HOST:PORT` (`localhost:0`): a host name is resolved, its first
/// address taken.
fn parse_listen(text: &str) -> std::result::Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    use std::net::ToSocketAddrs;
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("expected ADDR:PORT or HOST:PORT ({e})"))?
        .collect();
    // IPv4 first: `localhost` is 127.0.0.1 wherever that is also an answer.
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("{text} resolves to no address"))
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
