use super::Exit;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use git_release::git::project::Project;
use git_release::model::Selector;
use git_release::model::package::{PackageDoc, PackageFileName, PackageName, PackageVersion};
use git_release::package::{self, PackageUrls, Upload};
use git_release::present::gitlab::project_path;
use git_release::present::package as entity;
use git_release::release::download;
use git_release::release::packages::{self, NewFile};
use git_release::text::terminal;
use git_release::{Error, Repo, Result};

use super::download::Bar;
use super::{Ui, common, link::human_size, render};

/// Generic packages: the binaries of a release, stored with it (GitLab's generic
/// package registry, without a server).
///
/// A package is a name and a version holding files. Their bytes are kept in the
/// repository under refs/release-packages/ (fetched and pushed only when asked:
/// `fetch --packages`, `push --packages`), or in S3-compatible storage when
/// `release.packageStore` is `s3://bucket/prefix`; the release store records each
/// file's size and SHA-256, and every download is checked against them.
/// `serve` answers GitLab's generic package API with the same packages.
#[derive(Args)]
pub struct PackageArgs {
    #[command(subcommand)]
    pub command: PackageCommand,
}

impl PackageArgs {
    pub fn writes(&self) -> bool {
        matches!(
            self.command,
            PackageCommand::Upload(_) | PackageCommand::Delete(_) | PackageCommand::Migrate(_)
        )
    }
}

#[derive(Subcommand)]
pub enum PackageCommand {
    Upload(UploadArgs),
    #[command(visible_alias = "ls")]
    List(ListArgs),
    Download(DownloadArgs),
    #[command(visible_alias = "rm")]
    Delete(DeleteArgs),
    Migrate(MigrateArgs),
}

/// Upload files to a package (made when it does not exist yet).
///
/// Each file is stored under its own file name. A file name uploaded again is added
/// beside the earlier upload and becomes the one downloaded, as in GitLab; a file a
/// release links to is never replaced.
#[derive(Args)]
pub struct UploadArgs {
    /// The package's name: letters, digits, '.', '_', '-' and '+'.
    pub name: PackageName,
    /// The package's version (`1.2.3`, `1.0-rc1`): letters, digits, '_', '+', '.'
    /// and '-', no "..".
    #[arg(value_name = "VERSION")]
    pub package_version: PackageVersion,
    /// The files to upload.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also link each file from the release of TAG (link type `package`, permanent
    /// path /packages/<name>/<file>), in the same commit.
    #[arg(long, value_name = "TAG")]
    pub release: Option<Selector>,
}

/// List packages, the versions of one, or the files of one version.
#[derive(Args)]
pub struct ListArgs {
    /// Only the versions of this package.
    pub name: Option<PackageName>,
    /// Only this version: its files, newest first.
    #[arg(value_name = "VERSION")]
    pub package_version: Option<PackageVersion>,
}

/// Download a package's files, checked against their recorded SHA-256.
///
/// A file kept in the repository that this clone has not fetched is fetched from the
/// remote first, that file alone.
#[derive(Args)]
pub struct DownloadArgs {
    pub name: PackageName,
    #[arg(value_name = "VERSION")]
    pub package_version: PackageVersion,
    /// The file to download (the newest upload of that name); without, every file of
    /// the package.
    pub file: Option<PackageFileName>,
    /// Directory to write into (created if missing; default: the current directory).
    #[arg(long = "dir", short = 'D', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Write the one file to FILE (`-` for standard output).
    #[arg(
        long,
        short = 'o',
        value_name = "FILE",
        conflicts_with = "dir",
        requires = "file"
    )]
    pub output: Option<PathBuf>,
    /// The remote a file not fetched here comes from (default: the current branch's
    /// remote, else origin).
    #[arg(long)]
    pub remote: Option<String>,
    /// Overwrite existing files.
    #[arg(long, visible_alias = "clobber")]
    pub force: bool,
}

/// Delete a package, or the uploads of one of its files.
///
/// Its bytes are deleted too when no other record uses them. A release linking to a
/// deleted file keeps its link; `verify` then reports it missing.
#[derive(Args)]
pub struct DeleteArgs {
    pub name: PackageName,
    #[arg(value_name = "VERSION")]
    pub package_version: PackageVersion,
    /// Only the uploads of this file name.
    pub file: Option<PackageFileName>,
    /// Delete without asking.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// Move every package file kept in the repository to the S3-compatible store
/// `release.packageStore` names.
///
/// Each file is copied and checked there first; the records then point at the
/// copies in one commit, and the refs no record uses are deleted here.
#[derive(Args)]
pub struct MigrateArgs {}

pub fn run(args: PackageArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    match args.command {
        PackageCommand::Upload(args) => upload(&repo, args, ui),
        PackageCommand::List(args) => list(&repo, args, ui),
        PackageCommand::Download(args) => download(&repo, args, ui),
        PackageCommand::Delete(args) => delete(&repo, args, ui),
        PackageCommand::Migrate(_) => migrate(&repo, ui),
    }
}

/// The file name a local path is uploaded under: its last component.
fn file_name_of(path: &std::path::Path) -> Result<PackageFileName> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::InvalidInput {
            what: "package file",
            value: path.display().to_string(),
            reason: "it has no file name that is UTF-8 text".into(),
        })?;
    PackageFileName::parse(name)
}

fn open(path: &std::path::Path) -> Result<File> {
    File::open(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

fn upload(repo: &Repo, args: UploadArgs, ui: &Ui) -> Result<Exit> {
    let project = Project::resolve(repo)?;
    let urls = PackageUrls::for_project(&project);
    // Every file named and opened before anything is stored.
    let mut files = Vec::new();
    for path in &args.files {
        files.push((file_name_of(path)?, open(path)?, path.clone()));
    }
    let mut made = Vec::new();
    if let Some(selector) = &args.release {
        let tag = common::select_tag(repo, selector)?;
        let new = files
            .into_iter()
            .map(|(file_name, file, _)| NewFile {
                file_name,
                source: Box::new(file),
            })
            .collect();
        let linked = packages::upload_and_link(
            repo,
            &urls,
            tag.as_str(),
            &args.name,
            &args.package_version,
            new,
            None,
        )?;
        for (doc, file, link) in linked.files {
            if !ui.json && !ui.quiet {
                println!(
                    "Uploaded {} ({}) to package {} {}, linked from release {} (link {})",
                    terminal(&file.file_name),
                    human_size(file.size),
                    doc.name,
                    doc.version,
                    terminal(&linked.release.tag),
                    link.id
                );
            }
            made.push((doc, file));
        }
    } else {
        for (file_name, mut source, _) in files {
            let uploaded = package::upload(
                repo,
                &urls,
                &Upload {
                    name: &args.name,
                    version: &args.package_version,
                    file_name: &file_name,
                    status: None,
                },
                &mut source,
                None,
            )?;
            if !ui.json && !ui.quiet {
                println!(
                    "Uploaded {} ({}) to package {} {}",
                    terminal(&uploaded.file.file_name),
                    human_size(uploaded.file.size),
                    uploaded.package.name,
                    uploaded.package.version
                );
            }
            made.push((uploaded.package, uploaded.file));
        }
    }
    if ui.json {
        let entities: Vec<_> = made
            .iter()
            .map(|(doc, file)| entity::package_file(doc, file))
            .collect();
        common::print_json(&entities)?;
    }
    Ok(Exit::Success)
}

fn list(repo: &Repo, args: ListArgs, ui: &Ui) -> Result<Exit> {
    if let (Some(name), Some(version)) = (&args.name, &args.package_version) {
        let doc = package::find(repo, name, version)?;
        return list_files(&doc, ui);
    }
    let all = package::list(repo, args.name.as_ref())?;
    if ui.json {
        let project = Project::resolve(repo)?;
        let path = project_path(&project);
        let api_base = format!(
            "{}/api/v4/projects/{}",
            git_release::present::gitlab::EntityContext::new(repo)?
                .web_origin()
                .unwrap_or_default(),
            project.id
        );
        let place = entity::PackagePlace {
            project_path: &path,
            api_base: &api_base,
        };
        let entities: Vec<_> = all.iter().map(|doc| entity::package(&place, doc)).collect();
        common::print_json(&entities)?;
        return Ok(Exit::Success);
    }
    if all.is_empty() {
        ui.notice("no packages");
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|doc| {
            let size: u64 = doc.files.iter().map(|f| f.size).sum();
            vec![
                doc.id.to_string(),
                doc.name.clone(),
                // Hidden by an upload's `?status=hidden`: out of the served lists.
                match doc.status {
                    git_release::model::package::PackageStatus::Hidden => {
                        format!("{} (hidden)", doc.version)
                    }
                    git_release::model::package::PackageStatus::Default => doc.version.clone(),
                },
                doc.files.len().to_string(),
                human_size(size),
                doc.created_at().map(render::date).unwrap_or_default(),
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(
            ui,
            &["ID", "NAME", "VERSION", "FILES", "SIZE", "CREATED"],
            &rows
        )
    );
    Ok(Exit::Success)
}

fn list_files(doc: &PackageDoc, ui: &Ui) -> Result<Exit> {
    let mut files: Vec<_> = doc.files.iter().collect();
    files.sort_by_key(|f| std::cmp::Reverse((f.created_at, f.id)));
    if ui.json {
        let entities: Vec<_> = files.iter().map(|f| entity::package_file(doc, f)).collect();
        common::print_json(&entities)?;
        return Ok(Exit::Success);
    }
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            vec![
                f.id.to_string(),
                f.file_name.clone(),
                human_size(f.size),
                f.file_sha256.clone(),
                render::date(f.created_at),
                f.location.to_string(),
            ]
        })
        .collect();
    print!(
        "{}",
        render::table(
            ui,
            &["ID", "FILE", "SIZE", "SHA-256", "CREATED", "STORED IN"],
            &rows
        )
    );
    Ok(Exit::Success)
}

fn download(repo: &Repo, args: DownloadArgs, ui: &Ui) -> Result<Exit> {
    let doc = package::find(repo, &args.name, &args.package_version)?;
    let files: Vec<_> = match &args.file {
        Some(name) => vec![package::file_named(&doc, name.as_str())?.clone()],
        None => {
            let mut names: Vec<&str> = doc.files.iter().map(|f| f.file_name.as_str()).collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .map(|n| package::file_named(&doc, n).cloned())
                .collect::<Result<_>>()?
        }
    };
    let remote = args
        .remote
        .clone()
        .unwrap_or_else(|| git_release::share::remote::default_remote(repo));
    if args.output.as_deref() == Some(std::path::Path::new("-")) {
        let file = &files[0];
        let mut reader = download::open_package(repo, &doc, file, Some(&remote))?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        package::copy_checked(&mut reader, &mut out, &doc, file)?;
        out.flush().map_err(|source| Error::Io {
            what: "cannot write to standard output".into(),
            source,
        })?;
        return Ok(Exit::Success);
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let targets: Vec<PathBuf> = match &args.output {
        Some(path) => vec![path.clone()],
        None => files
            .iter()
            .map(|f| {
                git_release::model::paths::confine(&dir, &f.file_name).map_err(|reason| {
                    Error::Refused {
                        action: format!("saving package file {:?}", f.file_name),
                        reason,
                    }
                })
            })
            .collect::<Result<_>>()?,
    };
    if !args.force {
        if let Some(existing) = targets.iter().find(|t| t.symlink_metadata().is_ok()) {
            return Err(Error::FileExists {
                path: existing.clone(),
            });
        }
    }
    if args.output.is_none() {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
            path: dir.clone(),
            source,
        })?;
    }
    let mut bar = Bar::new(ui);
    let mut done = Vec::new();
    for (file, target) in files.iter().zip(&targets) {
        let written = download::save_package(
            repo,
            &doc,
            file,
            target,
            args.force,
            Some(&remote),
            &mut bar,
        )?;
        if !ui.json && !ui.quiet {
            println!(
                "Downloaded {} ({}, SHA-256 verified)",
                terminal(&written.path.display().to_string()),
                human_size(written.size)
            );
        }
        done.push(entity::package_file(&doc, file));
    }
    if ui.json {
        common::print_json(&done)?;
    }
    Ok(Exit::Success)
}

fn delete(repo: &Repo, args: DeleteArgs, ui: &Ui) -> Result<Exit> {
    let doc = package::find(repo, &args.name, &args.package_version)?;
    let what = match &args.file {
        Some(file) => format!("{file} of package {} {}", doc.name, doc.version),
        None => format!(
            "package {} {} ({} files)",
            doc.name,
            doc.version,
            doc.files.len()
        ),
    };
    common::confirm_destructive(ui, &what, args.yes)?;
    let (doc, removed) =
        package::delete(repo, &args.name, &args.package_version, args.file.as_ref())?;
    if ui.json {
        let entities: Vec<_> = removed
            .iter()
            .map(|f| entity::package_file(&doc, f))
            .collect();
        common::print_json(&entities)?;
    } else if !ui.quiet {
        println!("Deleted {what}");
    }
    Ok(Exit::Success)
}

fn migrate(repo: &Repo, ui: &Ui) -> Result<Exit> {
    let moved = package::migrate::migrate(repo, &mut |package, file| {
        if !ui.quiet && !ui.json {
            eprintln!(
                "copying {} of {package} ({})",
                terminal(&file.file_name),
                human_size(file.size)
            );
        }
    })?;
    if ui.json {
        let entities: Vec<_> = moved
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name, "version": m.version, "file_name": m.file_name,
                    "size": m.size, "from": m.from.to_string(), "to": m.to.to_string(),
                })
            })
            .collect();
        common::print_json(&entities)?;
    } else if !ui.quiet {
        if moved.is_empty() {
            println!("No package file is kept in the repository: nothing to move");
        }
        for m in &moved {
            println!(
                "Moved {} of {} {} to {}",
                terminal(&m.file_name),
                m.name,
                m.version,
                m.to
            );
        }
    }
    Ok(Exit::Success)
}
