//! `git release site`: the release pages as a self-contained static site, for GitLab
//! Pages, GitHub Pages or any static host.
//!
//! The pages come from [`pages::Pages`], the one renderer `serve` uses too; this module
//! only decides file names and writes them. The whole site is written into a temporary
//! directory beside the output and swapped in at the end, so a failure (a broken
//! template, an unreadable object, a full disk) leaves the previous site as it was.
//!
//! ```text
//! index.html, page-2.html, …     every release, newest first, 50 a page
//! releases/<tag>.html            one page per release (see routes::file_stem)
//! releases.atom                  Atom 1.0 feed of the latest releases
//! releases.json                  the releases as `git release list --json` prints them
//! badges/latest.svg              latest-release badge
//! style.css                      the one stylesheet
//! archives/<tag>/<project>-<tag>.<format>   with --with-archives
//! ```

pub mod feed;
pub mod pages;
pub mod root;
pub mod routes;
pub mod templates;

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::archive::{self, Format, Mode, Request};
use crate::error::{Error, Result};
use crate::git::Repo;

pub use pages::Pages;
pub use routes::{Depth, Routes, Target};
pub use templates::{Sources, Templates};

/// What `git release site` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub output: PathBuf,
    /// The site's public URL, for absolute links in the feed.
    pub base_url: Option<String>,
    pub templates: Sources,
    pub with_archives: bool,
    /// Replace an output directory that does not look like a site we wrote.
    pub force: bool,
    /// Rewrite only the files whose bytes changed, in place.
    pub incremental: bool,
}

/// What was written.
#[derive(Debug)]
pub struct Built {
    pub releases: usize,
    pub pages: usize,
    /// Files written.
    pub files: usize,
    /// Files left as they were (`incremental`).
    pub unchanged: usize,
    /// Files removed because the site no longer has them (`incremental`).
    pub removed: usize,
    /// Records that could not be read (left out of the site).
    pub problems: Vec<Error>,
    /// Things to tell the user (e.g. an archive that depends on refs).
    pub warnings: Vec<String>,
}

/// Writes the site to `options.output`, replacing what was there only once every file
/// has been written (or with `incremental`, rewriting only the files that changed).
pub fn build(repo: &Repo, options: &Options) -> Result<Built> {
    let output = &options.output;
    check_output(output, options.force)?;
    let templates = Templates::load(repo, &options.templates)?;
    let mut pages = Pages::new(repo, templates, options.base_url.clone())?;
    let routes = Routes::Static {
        base_url: options.base_url.clone(),
        archives: options.with_archives,
    };
    if options.incremental && output.is_dir() {
        return build_in_place(repo, &mut pages, &routes, output);
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|source| Error::WriteFile {
        path: parent.clone(),
        source,
    })?;
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.git-release-"))
        .tempdir_in(&parent)
        .map_err(|source| Error::WriteFile {
            path: parent.clone(),
            source,
        })?;
    let mut writer = SiteWriter {
        root: staging.path(),
        files: 0,
    };
    let mut warnings = Vec::new();
    if options.with_archives {
        let tags: Vec<String> = pages.releases().iter().map(|f| f.tag.clone()).collect();
        for tag in tags {
            let (written, mut said) =
                write_archives(repo, &mut writer, &routes, pages.project(), &tag)?;
            warnings.append(&mut said);
            pages.set_archives(&tag, written);
        }
    }
    for (path, bytes) in render_all(&pages, &routes)? {
        writer.write(&path, &bytes)?;
    }
    let files = writer.files;
    swap_in(staging, output)?;
    Ok(Built {
        releases: pages.releases().len(),
        pages: pages.page_count(),
        files,
        unchanged: 0,
        removed: 0,
        problems: std::mem::take(&mut pages.problems),
        warnings,
    })
}

/// Every page and file of the site but the archives, by path, in a stable order.
fn render_all(pages: &Pages<'_>, routes: &Routes) -> Result<Vec<(String, Vec<u8>)>> {
    let project = pages.project();
    let mut out = Vec::new();
    for page in 1..=pages.page_count() {
        let html = pages
            .render_index(page, routes)?
            .expect("pages up to page_count exist");
        out.push((
            path_of(routes, Target::Index(page), project),
            html.into_bytes(),
        ));
    }
    for found in pages.releases() {
        let html = pages.render_found(found, routes)?;
        out.push((
            path_of(routes, Target::Release(&found.tag), project),
            html.into_bytes(),
        ));
    }
    out.push((
        path_of(routes, Target::Feed, project),
        pages.render_feed(routes)?.into_bytes(),
    ));
    out.push((
        path_of(routes, Target::Badge, project),
        pages.render_badge()?.into_bytes(),
    ));
    out.push((
        path_of(routes, Target::Json, project),
        pages.render_json()?.into_bytes(),
    ));
    out.push((
        path_of(routes, Target::Stylesheet, project),
        pages.stylesheet().as_bytes().to_vec(),
    ));
    for (tag, sha, bytes) in pages.evidence_files() {
        out.push((
            path_of(routes, Target::Evidence(&tag, &sha), project),
            bytes,
        ));
    }
    Ok(out)
}

/// `--incremental`: every page is rendered (in memory, so a template error still
/// changes nothing), then only files whose bytes differ are rewritten, each by a
/// rename; files the site no longer has are removed. Archives already there are
/// kept (their digests are read back), missing ones made.
fn build_in_place(
    repo: &Repo,
    pages: &mut Pages<'_>,
    routes: &Routes,
    output: &Path,
) -> Result<Built> {
    let mut warnings = Vec::new();
    let mut keep: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut made = 0;
    let tags: Vec<String> = if matches!(routes, Routes::Static { archives: true, .. }) {
        pages.releases().iter().map(|f| f.tag.clone()).collect()
    } else {
        Vec::new()
    };
    // Missing archives are added first (the pages show their digests); then every
    // page is rendered in memory before any is written, so a template error leaves
    // the pages as they were.
    for tag in &tags {
        let paths: Vec<String> = Format::ALL
            .iter()
            .map(|&f| path_of(routes, Target::Archive(tag, f), pages.project()))
            .collect();
        keep.extend(paths.iter().cloned());
        if let Some(written) = read_back(output, &paths)? {
            pages.set_archives(tag, written);
            continue;
        }
        let staging = tempfile::Builder::new()
            .prefix(".git-release-archives-")
            .tempdir_in(output)
            .map_err(|source| Error::WriteFile {
                path: output.to_owned(),
                source,
            })?;
        let mut writer = SiteWriter {
            root: staging.path(),
            files: 0,
        };
        let (written, mut said) = write_archives(repo, &mut writer, routes, pages.project(), tag)?;
        warnings.append(&mut said);
        for path in &paths {
            replace_file(&staging.path().join(path), &output.join(path))?;
            made += 1;
        }
        pages.set_archives(tag, written);
    }
    let rendered = render_all(pages, routes)?;
    let mut unchanged = 0;
    for (path, bytes) in &rendered {
        keep.insert(path.clone());
        let target = output.join(path);
        if fs::read(&target).is_ok_and(|old| old == *bytes) {
            unchanged += 1;
            continue;
        }
        let dir = target.parent().unwrap_or(output);
        fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
            path: dir.to_owned(),
            source,
        })?;
        let mut file = tempfile::Builder::new()
            .prefix(".git-release-")
            .tempfile_in(dir)
            .map_err(|source| Error::WriteFile {
                path: dir.to_owned(),
                source,
            })?;
        std::io::Write::write_all(&mut file, bytes).map_err(|source| Error::WriteFile {
            path: target.clone(),
            source,
        })?;
        file.persist(&target).map_err(|e| Error::WriteFile {
            path: target.clone(),
            source: e.error,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&target, fs::Permissions::from_mode(0o644));
        }
        made += 1;
    }
    let removed = remove_others(output, output, &keep)?;
    Ok(Built {
        releases: pages.releases().len(),
        pages: pages.page_count(),
        files: made,
        unchanged,
        removed,
        problems: std::mem::take(&mut pages.problems),
        warnings,
    })
}

/// The digests of archives already in the site, when all of them are there.
fn read_back(output: &Path, paths: &[String]) -> Result<Option<Vec<archive::Written>>> {
    let mut written = Vec::new();
    for (format, path) in Format::ALL.iter().zip(paths) {
        let Ok(bytes) = fs::read(output.join(path)) else {
            return Ok(None);
        };
        written.push(archive::Written {
            format: *format,
            sha256: crate::digest::sha256_hex(&bytes),
            size: bytes.len() as u64,
        });
    }
    Ok(Some(written))
}

fn replace_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
            path: dir.to_owned(),
            source,
        })?;
    }
    fs::rename(from, to).map_err(|source| Error::WriteFile {
        path: to.to_owned(),
        source,
    })
}

/// Removes the files below `dir` that the site no longer has (and directories left
/// empty); `.git` is never touched. Returns how many files went.
fn remove_others(
    root: &Path,
    dir: &Path,
    keep: &std::collections::BTreeSet<String>,
) -> Result<usize> {
    let mut removed = 0;
    let entries = fs::read_dir(dir).map_err(|source| Error::ReadFile {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadFile {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        if dir == root && entry.file_name() == ".git" {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            removed += remove_others(root, &path, keep)?;
            if fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none()) {
                let _ = fs::remove_dir(&path);
            }
        } else if !keep.contains(&relative) {
            fs::remove_file(&path).map_err(|source| Error::WriteFile {
                path: path.clone(),
                source,
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn path_of(routes: &Routes, to: Target<'_>, project: &str) -> String {
    routes
        .site_path(to, project)
        .expect("every page has a file in the static site")
}

struct SiteWriter<'a> {
    root: &'a Path,
    files: usize,
}

impl SiteWriter<'_> {
    fn create(&mut self, relative: &str) -> Result<(PathBuf, fs::File)> {
        // Page and archive names are made from tags and the project name (routes'
        // `file_stem`); each part must still be one plain file name
        // (`model::paths`, the rule every name from outside follows).
        for part in relative.split('/') {
            crate::model::paths::check_file_name(part).map_err(|reason| Error::Refused {
                action: format!("writing {relative:?} into the site"),
                reason,
            })?;
        }
        let path = self.root.join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
                path: dir.to_owned(),
                source,
            })?;
        }
        let file = fs::File::create(&path).map_err(|source| Error::WriteFile {
            path: path.clone(),
            source,
        })?;
        self.files += 1;
        Ok((path, file))
    }

    fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<()> {
        let (path, mut file) = self.create(relative)?;
        std::io::Write::write_all(&mut file, bytes)
            .map_err(|source| Error::WriteFile { path, source })
    }
}

/// The four source archives of `tag`, made by the archive module (so byte for byte
/// what `git archive` makes), with their digests.
fn write_archives(
    repo: &Repo,
    writer: &mut SiteWriter<'_>,
    routes: &Routes,
    project: &str,
    tag: &str,
) -> Result<(Vec<archive::Written>, Vec<String>)> {
    let mut outputs = Vec::new();
    for format in Format::ALL {
        let relative = path_of(routes, Target::Archive(tag, format), project);
        let (_, file) = writer.create(&relative)?;
        outputs.push(archive::Output {
            format,
            sink: Box::new(BufWriter::with_capacity(1 << 20, file)),
        });
    }
    let prefix = format!("{}/", archive::base_name(project, tag));
    let request = Request {
        rev: tag,
        prefix: &prefix,
        mode: Mode::Canonical,
        tar_digest: false,
        digests: true,
        path: None,
    };
    let report = archive::write_archives(repo, &request, outputs, &archive::Silent)?;
    let mut warnings = report.warnings.clone();
    if !report.ref_dependent.is_empty() {
        warnings.push(format!(
            "the archives of {tag:?} depend on refs (export-subst in {}): they change when refs change",
            report.ref_dependent.join(", ")
        ));
    }
    Ok((report.outputs, warnings))
}

/// An existing output directory is replaced only when it is empty or holds a site we
/// wrote (its index and feed), unless forced: `--output .` must not wipe a work tree.
fn check_output(output: &Path, force: bool) -> Result<()> {
    let metadata = match fs::symlink_metadata(output) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::ReadFile {
                path: output.to_owned(),
                source,
            });
        }
    };
    if !metadata.is_dir() {
        return Err(Error::Refused {
            action: format!("writing the site to {}", output.display()),
            reason: "it exists and is not a directory".into(),
        });
    }
    if force {
        return Ok(());
    }
    let mut entries = fs::read_dir(output).map_err(|source| Error::ReadFile {
        path: output.to_owned(),
        source,
    })?;
    let empty = entries.next().is_none();
    let ours = output.join("index.html").is_file() && output.join("releases.atom").is_file();
    if empty || ours {
        return Ok(());
    }
    Err(Error::Refused {
        action: format!("writing the site to {}", output.display()),
        reason: "the directory holds files that are not a release site (no index.html and releases.atom); pass --force to replace it, or choose an empty or new directory".into(),
    })
}

/// Moves the finished site into place: the old one (if any) aside, the new one in,
/// the old one removed. A `.git` in the old directory (a Pages branch checked out
/// there) is carried over.
fn swap_in(staging: tempfile::TempDir, output: &Path) -> Result<()> {
    let staged = staging.path().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile makes the directory private; a published site is readable.
        fs::set_permissions(&staged, fs::Permissions::from_mode(0o755)).map_err(|source| {
            Error::WriteFile {
                path: staged.clone(),
                source,
            }
        })?;
    }
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::WriteFile { path, source }
    };
    if !output.exists() {
        fs::rename(&staged, output).map_err(write_error(output))?;
        let _ = staging.keep();
        return Ok(());
    }
    let dot_git = output.join(".git");
    let carried = staged.join(".git");
    let has_git = fs::symlink_metadata(&dot_git).is_ok();
    if has_git {
        fs::rename(&dot_git, &carried).map_err(write_error(&dot_git))?;
    }
    let give_back = || {
        if has_git {
            let _ = fs::rename(&carried, &dot_git);
        }
    };
    let mut old = staged.clone().into_os_string();
    old.push(".old");
    let old = PathBuf::from(old);
    if let Err(source) = fs::rename(output, &old) {
        give_back();
        return Err(Error::WriteFile {
            path: output.to_owned(),
            source,
        });
    }
    if let Err(source) = fs::rename(&staged, output) {
        // Put the previous site back rather than leave nothing.
        let _ = fs::rename(&old, output);
        give_back();
        return Err(Error::WriteFile {
            path: output.to_owned(),
            source,
        });
    }
    let _ = staging.keep();
    fs::remove_dir_all(&old).map_err(write_error(&old))?;
    Ok(())
}
