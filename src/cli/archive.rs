//! `git release archive`: write a release's source archives.

use super::Exit;
use git_release::model::Selector;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use git_release::archive::{self, Format, Mode, Request};
use git_release::git::project::Project;
use git_release::git::sign::Signer;
use git_release::share::config::Config;
use git_release::{Error, Repo, Result};

use super::{Ui, common};

/// Write the source archives of a tag: byte for byte what `git archive` makes.
///
/// Entries are under `<project>-<tag>/` and files are named `<project>-<tag>.<format>`.
/// Archives follow the archived tree's .gitattributes only (export-ignore, export-subst,
/// eol, ident), tar.umask 002 and UTC zip times, so plain `TZ=UTC git archive` with no
/// configuration reproduces them anywhere.
#[derive(clap::Args)]
pub struct Args {
    /// The tag to archive, or `latest` (the latest release's tag).
    pub tag: Selector,
    /// zip, tar.gz (tgz), tar.bz2 (tbz, tbz2, tb2, bz2), tar, or all four. Default:
    /// `archive.formats` from the configuration, else tar.gz.
    #[arg(short, long, value_parser = parse_format, value_name = "FORMAT")]
    pub format: Option<Formats>,
    /// Write to FILE instead of `<project>-<tag>.<format>`; `-` writes to stdout.
    #[arg(short, long, value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// Write the archives into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Put every entry under PREFIX (default `<project>-<tag>/`). Unlike git's, it
    /// may not leave the directory the archive is extracted in (no `/…`, `..` or `.git`).
    #[arg(long, value_name = "PREFIX/", value_parser = parse_prefix)]
    pub prefix: Option<String>,
    /// Also write the SHA-256 of each archive to FILE, in `sha256sum` format.
    #[arg(long, value_name = "FILE")]
    pub checksums: Option<PathBuf>,
    /// Sign the checksums file with the key git signs tags with: FILE.sig (SSHSIG,
    /// namespace `git-release`: `ssh-keygen -Y verify -n git-release …`) or FILE.asc
    /// (OpenPGP: `gpg --verify FILE.asc FILE`).
    #[arg(long, requires = "checksums")]
    pub sign: bool,
    /// Sign with KEY instead of user.signingKey (implies --sign).
    #[arg(
        long = "local-user",
        short = 'u',
        value_name = "KEY",
        requires = "checksums"
    )]
    pub local_user: Option<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// Follow the local git configuration as `git archive` would (core.autocrlf,
    /// info/attributes, tar.umask, the local time zone for zip times).
    #[arg(long)]
    pub local_config: bool,
}

/// Who signs the checksums file (`--sign`, `-u`), if anyone.
fn checksums_signer(repo: &Repo, args: &Args) -> Result<Option<Signer>> {
    if args.sign || args.local_user.is_some() {
        Ok(Some(Signer::configured(repo, args.local_user.as_deref())?))
    } else {
        Ok(None)
    }
}

fn write_checksums(
    repo: &Repo,
    ui: &Ui,
    args: &Args,
    path: &std::path::Path,
    sums: &[(String, String)],
) -> Result<()> {
    let signer = checksums_signer(repo, args)?;
    if let Some(signature) = archive::write_checksums(path, sums, args.force, signer.as_ref())? {
        ui.notice(&format!(
            "signed {} ({})",
            path.display(),
            signature.display()
        ));
    }
    Ok(())
}

/// `archive.formats` (git config or .git-release.toml; its default is tar.gz).
fn configured_formats(repo: &Repo) -> Result<Vec<Format>> {
    Ok(Config::resolve(repo)?.archive_formats.value)
}

fn parse_prefix(value: &str) -> std::result::Result<String, String> {
    git_release::model::paths::check_prefix(value).map(|()| value.to_owned())
}

/// The formats one `--format` value names (`all` names four).
#[derive(Clone)]
pub struct Formats(Vec<Format>);

fn parse_format(value: &str) -> std::result::Result<Formats, String> {
    Format::parse_list(value).map(Formats).ok_or_else(|| {
        format!("unknown archive format {value:?}: use zip, tar.gz, tar.bz2, tar or all")
    })
}

pub fn run(args: Args, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let project = Project::resolve(&repo)?;
    let tag = common::select_tag(&repo, &args.tag)?;
    let formats = match &args.format {
        Some(formats) => formats.0.clone(),
        None => configured_formats(&repo)?,
    };
    let base = archive::base_name(&project.name, &tag);
    let prefix = args.prefix.clone().unwrap_or_else(|| format!("{base}/"));
    let mode = if args.local_config {
        Mode::LocalConfig
    } else {
        Mode::Canonical
    };
    let request = Request {
        rev: &tag,
        prefix: &prefix,
        mode,
        tar_digest: false,
        // Printed for files written; to stdout, only --checksums wants them.
        digests: args.checksums.is_some() || args.output.as_deref() != Some(Path::new("-")),
        path: None,
    };
    let progress = TermProgress::new(ui);
    // Resolved before any archive is written: a signing setup that cannot work fails
    // the command before it starts.
    checksums_signer(&repo, &args)?;
    if args.output.as_deref() == Some(std::path::Path::new("-")) {
        return to_stdout(
            &repo,
            &request,
            &args,
            &project.name,
            &formats,
            ui,
            &progress,
        );
    }
    let targets = targets(&args, &tag, &project.name, &formats)?;
    let (report, files) = archive::write_files(&repo, &request, &targets, args.force, &progress)?;
    progress.finish();
    warn_all(ui, &report.warnings);
    if let Some(path) = &args.checksums {
        let sums: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let name = f
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (f.written.sha256.clone(), name)
            })
            .collect();
        write_checksums(&repo, ui, &args, path, &sums)?;
    }
    print_written(ui, &files, &report.commit)?;
    Ok(Exit::Success)
}

/// `-o -`: one archive, streamed to stdout.
fn to_stdout(
    repo: &Repo,
    request: &Request<'_>,
    args: &Args,
    project: &str,
    formats: &[Format],
    ui: &Ui,
    progress: &TermProgress,
) -> Result<Exit> {
    let [format] = formats[..] else {
        return Err(Error::InvalidInput {
            what: "output",
            value: "-".into(),
            reason: "stdout takes one archive: pick one --format".into(),
        });
    };
    let stdout = std::io::stdout();
    let report = archive::write_archives(
        repo,
        request,
        vec![archive::Output {
            format,
            sink: Box::new(std::io::BufWriter::with_capacity(1 << 20, stdout)),
        }],
        progress,
    )?;
    progress.finish();
    warn_all(ui, &report.warnings);
    if let Some(path) = &args.checksums {
        let name = archive::file_name(project, request.rev, format);
        let sums: Vec<_> = report
            .outputs
            .iter()
            .map(|w| (w.sha256.clone(), name.clone()))
            .collect();
        write_checksums(repo, ui, args, path, &sums)?;
    }
    Ok(Exit::Success)
}

/// The file each format goes to: `-o FILE` for one format, else
/// `<dir>/<project>-<tag>.<ext>` (the directory made when missing).
fn targets(
    args: &Args,
    tag: &str,
    project: &str,
    formats: &[Format],
) -> Result<Vec<(Format, PathBuf)>> {
    if let Some(path) = &args.output {
        let [format] = formats[..] else {
            return Err(Error::InvalidInput {
                what: "output",
                value: path.display().to_string(),
                reason: "-o names one file: use --output-dir for several formats".into(),
            });
        };
        return Ok(vec![(format, path.clone())]);
    }
    let dir = args.output_dir.clone().unwrap_or_default();
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
    }
    formats
        .iter()
        .map(|&f| Ok((f, archive::path_in(&dir, project, tag, f)?)))
        .collect()
}

/// `sha256  path` per file, as `sha256sum` prints; with `--json`, a list of objects.
fn print_written(ui: &Ui, files: &[archive::WrittenFile], commit: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let result = if ui.json {
        let list: Vec<_> = files
            .iter()
            .map(|f| {
                serde_json::json!({
                    "format": f.written.format.to_string(),
                    "path": f.path.display().to_string(),
                    "sha256": f.written.sha256,
                    "size": f.written.size,
                    "commit": commit,
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        )
    } else {
        files
            .iter()
            .try_for_each(|f| writeln!(out, "{}  {}", f.written.sha256, f.path.display()))
    };
    result.map_err(|source| Error::WriteFile {
        path: "<stdout>".into(),
        source,
    })
}

fn warn_all(ui: &Ui, warnings: &[String]) {
    for w in warnings {
        ui.warn(w);
    }
}

/// A progress bar on stderr for archives that take more than a second; nothing otherwise.
pub(super) struct TermProgress {
    enabled: bool,
    start: Instant,
    total: std::cell::Cell<u64>,
    bar: RefCell<Option<indicatif::ProgressBar>>,
}

impl TermProgress {
    pub(super) fn new(ui: &Ui) -> Self {
        TermProgress {
            enabled: !ui.quiet && std::io::stderr().is_terminal(),
            start: Instant::now(),
            total: std::cell::Cell::new(0),
            bar: RefCell::new(None),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
}

impl archive::Progress for TermProgress {
    fn start(&self, entries: u64) {
        self.total.set(entries);
    }

    fn update(&self, entries: u64, bytes: u64) {
        if !self.enabled || self.start.elapsed() < Duration::from_secs(1) {
            return;
        }
        let mut bar = self.bar.borrow_mut();
        let bar = bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(self.total.get());
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} archiving [{bar:30}] {pos}/{len} files, {msg} ({elapsed})",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_position(entries);
        // Reading runs ahead of compression by a bounded amount: once all is read the
        // bar stays full, spinning, until the last compressor is done.
        bar.set_message(indicatif::HumanBytes(bytes).to_string());
    }
}
