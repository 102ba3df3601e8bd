use super::Exit;
use git_release::model::Selector;
use std::path::{Path, PathBuf};

use clap::Args;
use git_release::present::gitlab::EntityContext;
use git_release::release::download::{self, Progress};
use git_release::text::terminal;
use git_release::{Repo, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{Ui, common, link::human_size, render};

/// Download a release's assets.
///
/// Assets are chosen by direct asset path (`/bin/app`, or a permanent URL such as
/// `…/-/releases/<tag>/downloads/bin/app` or
/// `…/releases/permalink/latest/downloads/bin/app`) and by --name patterns; with
/// neither, every asset link is downloaded.
/// Each is fetched over http(s) following redirects, checked against its recorded
/// SHA-256 if it has one, and written atomically: all selected assets are written, or
/// none. A link to one of this project's packages (its URL is the package URL on the
/// project's instance) is read from the package store instead, offline, and checked
/// against the SHA-256 recorded with the package file; a package not fetched here is
/// fetched from the default remote, that one alone. A file is saved under the last
/// segment of its direct asset path, else of its link name.
#[derive(Args)]
pub struct DownloadArgs {
    /// The release's tag, or `latest`.
    pub tag: Selector,
    /// Direct asset paths (or permanent download URLs) of the assets to download.
    #[arg(value_name = "DIRECT_ASSET_PATH")]
    pub paths: Vec<String>,
    /// Download the assets whose link name matches GLOB (`*`, `?`, `[abc]`); may be
    /// given more than once.
    #[arg(long, short = 'n', value_name = "GLOB")]
    pub name: Vec<String>,
    /// Directory to write into (created if missing; default: the current directory).
    #[arg(long = "dir", short = 'D', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write the one selected asset to FILE.
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "dir")]
    pub output: Option<PathBuf>,
    /// Print the URLs the assets are downloaded from; download nothing.
    #[arg(long)]
    pub url_only: bool,
    /// Also write the four source archives (zip, tar.gz, tar.bz2, tar), made locally
    /// byte for byte as GitLab serves them; alone, only the archives.
    #[arg(long, conflicts_with = "output")]
    pub sources: bool,
    /// Overwrite existing files.
    #[arg(long, visible_alias = "clobber")]
    pub force: bool,
}

/// What `--json` prints for each downloaded asset.
#[derive(Serialize)]
struct DownloadedEntity {
    id: u64,
    name: String,
    url: String,
    path: PathBuf,
    size: u64,
    sha256: String,
    verified: bool,
}

pub fn run(args: DownloadArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let found = common::select_release(&repo, &args.tag)?;
    render::warn_tag_state(ui, &found);
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let remote = git_release::share::remote::default_remote(&repo);
    let request = download::Request {
        paths: &args.paths,
        names: &args.name,
        sources: args.sources,
        dir: &dir,
        output: args.output.as_deref(),
        force: args.force,
        // A package file not fetched here comes from the default remote.
        package_remote: Some(&remote),
    };
    if args.url_only {
        let links = request.links(&found)?;
        print_urls(&repo, &found, &links, args.sources, ui)?;
        return Ok(Exit::Success);
    }
    let done = download::download(&repo, &found, &request, &mut Bar::new(ui))?;
    for warning in &done.source_warnings {
        ui.warn(warning);
    }
    if ui.json {
        let entities: Vec<DownloadedEntity> = done
            .assets
            .into_iter()
            .map(|(link, written)| DownloadedEntity {
                id: link.id,
                name: link.name,
                url: link.url,
                path: written.path,
                size: written.size,
                sha256: written.sha256,
                verified: written.verified,
            })
            .collect();
        common::print_json(&entities)?;
    } else if !ui.quiet {
        for file in &done.sources {
            println!("{}  {}", file.written.sha256, shown(&file.path));
        }
        for (_, written) in &done.assets {
            let check = if written.verified {
                ", SHA-256 verified"
            } else {
                ""
            };
            println!(
                "Downloaded {} ({}{check})",
                shown(&written.path),
                human_size(written.size)
            );
        }
    }
    Ok(Exit::Success)
}

/// `--url-only`: the URLs the assets (and with --sources the archives) come from.
fn print_urls(
    repo: &Repo,
    found: &git_release::model::Found,
    links: &[&git_release::model::Link],
    sources: bool,
    ui: &Ui,
) -> Result<()> {
    let context = EntityContext::new(repo)?;
    let sources: Vec<String> = if sources {
        let entity = context.release(found)?;
        let urls: Vec<String> = entity
            .assets
            .sources
            .into_iter()
            .filter_map(|s| s.url)
            .collect();
        if urls.is_empty() {
            ui.warn("the source archives have no URL: the project's web URL is unknown (set release.webUrl)");
        }
        urls
    } else {
        Vec::new()
    };
    if ui.json {
        let entities: Vec<_> = links.iter().map(|l| context.link(&found.tag, l)).collect();
        common::print_json(&serde_json::json!({"links": entities, "sources": sources}))?;
    } else {
        // One URL a line, whatever a fetched record says: a `\n` in a URL is
        // shown escaped, never as a second line that a script would run.
        for url in links.iter().map(|l| &l.url).chain(&sources) {
            println!("{}", terminal(url));
        }
    }
    Ok(())
}

/// `./app` reads oddly; the plain file name is what the user knows.
fn shown(path: &Path) -> String {
    terminal(&path.strip_prefix(".").unwrap_or(path).display().to_string()).into_owned()
}

/// A progress bar on stderr when it is a terminal (and not --quiet), else nothing.
pub(super) enum Bar {
    Terminal(Option<ProgressBar>),
    Hidden,
}

impl Bar {
    pub(super) fn new(ui: &Ui) -> Self {
        if ui.progress_allowed() {
            Bar::Terminal(None)
        } else {
            Bar::Hidden
        }
    }
}

impl Progress for Bar {
    fn start(&mut self, name: &str, total: Option<u64>) {
        if let Bar::Terminal(slot) = self {
            let bar = match total {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
                None => ProgressBar::new_spinner().with_style(
                    ProgressStyle::with_template("{spinner} {msg} {bytes} {bytes_per_sec}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                ),
            };
            bar.set_message(terminal(name).into_owned());
            *slot = Some(bar);
        }
    }

    fn advance(&mut self, bytes: u64) {
        if let Bar::Terminal(Some(bar)) = self {
            bar.inc(bytes);
        }
    }

    fn finish(&mut self) {
        if let Bar::Terminal(slot) = self {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
