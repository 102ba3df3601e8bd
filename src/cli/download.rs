use super::Exit;
use git_release::model::Selector;
use std::path::{Path, PathBuf};

use clap::Args;
use git_release::archive;
use git_release::git::project::Project;
use git_release::present::gitlab::EntityContext;
use git_release::release::download::{self, Downloader, Progress};
use git_release::text::terminal;
use git_release::{Error, Repo, Result};
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
/// fetched from the default remote, that one alone. A file is saved under the last segment of its direct asset path, else of its
/// link name.
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
    // `--sources` alone asks for the archives only; with paths or names, for both.
    let only_sources = args.sources && args.paths.is_empty() && args.name.is_empty();
    let links = if only_sources {
        Vec::new()
    } else {
        download::resolve(&found, &args.paths, &args.name)?
    };
    if links.is_empty() && !args.sources {
        return Err(Error::Refused {
            action: format!("downloading the assets of release {}", found.tag),
            reason: format!(
                "it has no asset links (`git release link add {}` adds one)",
                git_release::text::shell_quote(&found.tag)
            ),
        });
    }
    if args.url_only {
        let context = EntityContext::new(&repo)?;
        let sources: Vec<String> = if args.sources {
            let entity = context.release(&found)?;
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
        return Ok(Exit::Success);
    }

    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let planned = download::plan(&links, &dir, args.output.as_deref(), args.force)?;
    // The archives' names come from the project name: checked before any directory is made.
    let project = if args.sources {
        Some(Project::resolve(&repo)?)
    } else {
        None
    };
    if args.output.is_none() {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
    }
    if let Some(project) = &project {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
        write_sources(&repo, project, &found.tag, &dir, args.force, ui)?;
    }
    // A link to this project's package URL is read from the package store; a package
    // file not fetched here comes from the default remote.
    let remote = git_release::share::remote::default_remote(&repo);
    let downloader =
        Downloader::new(download::Limits::configured(&repo)?).with_packages(&repo, Some(remote))?;
    let mut bar = Bar::new(ui);
    let mut fetched = Vec::with_capacity(planned.len());
    for item in &planned {
        fetched.push(downloader.fetch(item, &mut bar)?);
    }
    let mut done = Vec::with_capacity(fetched.len());
    for (item, fetched) in planned.iter().zip(fetched) {
        let written = fetched.persist(args.force)?;
        if !ui.json && !ui.quiet {
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
        done.push(DownloadedEntity {
            id: item.link.id,
            name: item.link.name.clone(),
            url: item.link.url.clone(),
            path: written.path,
            size: written.size,
            sha256: written.sha256,
            verified: written.verified,
        });
    }
    if ui.json {
        common::print_json(&done)?;
    }
    Ok(Exit::Success)
}

/// The four source archives of `tag` into `dir`, named and laid out as GitLab's.
fn write_sources(
    repo: &Repo,
    project: &Project,
    tag: &str,
    dir: &Path,
    force: bool,
    ui: &Ui,
) -> Result<()> {
    let prefix = format!("{}/", archive::base_name(&project.name, tag));
    let request = archive::Request {
        rev: tag,
        prefix: &prefix,
        mode: archive::Mode::Canonical,
        tar_digest: false,
        digests: true,
        path: None,
    };
    let targets = archive::Format::ALL
        .iter()
        .map(|&format| Ok((format, archive::path_in(dir, &project.name, tag, format)?)))
        .collect::<Result<Vec<(archive::Format, PathBuf)>>>()?;
    let (report, files) = archive::write_files(repo, &request, &targets, force, &archive::Silent)?;
    for warning in &report.warnings {
        ui.warn(warning);
    }
    if !ui.json && !ui.quiet {
        for file in &files {
            println!("{}  {}", file.written.sha256, shown(&file.path));
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
