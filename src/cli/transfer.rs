//! `git release export` and `git release import`: GitLab's Releases API JSON.

use super::Exit;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use git_release::share::transfer::{self, ImportOptions};
use git_release::{Error, Repo, Result};

use super::{Ui, common};

/// Write every release as GitLab's list JSON (all pages, newest first).
///
/// The output is exactly what `list --json` shows for `GET /projects/:id/releases`.
/// JSON is the only format, so `--json` may be given or not.
#[derive(Args)]
pub struct ExportArgs {}

/// Import releases saved from GitLab's Releases API JSON.
///
/// The file holds what `GET /projects/:id/releases` returns: one release object, an
/// array, or several page arrays one after another. Names, descriptions, creation and
/// release times, authors, asset links and milestones (created here when missing) are
/// recorded. Releases that already exist are skipped. The whole file is checked first:
/// if anything in it is wrong, nothing is imported.
#[derive(Args)]
pub struct ImportArgs {
    /// The JSON file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Create each missing tag (lightweight) on the release's `commit.id`; without it a
    /// missing tag is an error.
    #[arg(long)]
    pub create_tags_from_commit: bool,
}

pub fn run_export(_args: ExportArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let exported = transfer::export(&repo)?;
    for problem in &exported.listing_problems {
        ui.warn(&format!("not exported: {}", problem.with_causes()));
    }
    if !exported.orphaned.is_empty() {
        ui.warn(&format!(
            "not exported, their tags were deleted: {}",
            exported.orphaned.join(", ")
        ));
    }
    common::print_json(&exported.entities)?;
    Ok(Exit::Success)
}

fn read_input(path: &Path) -> Result<String> {
    let bytes = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|source| Error::ReadFile {
                path: PathBuf::from("<stdin>"),
                source,
            })?;
        bytes
    } else {
        std::fs::read(path).map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?
    };
    String::from_utf8(bytes).map_err(|_| Error::ReadFile {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text",
        ),
    })
}

pub fn run_import(args: ImportArgs, ui: &Ui) -> Result<Exit> {
    let repo = Repo::open_from_env()?;
    let text = read_input(&args.file)?;
    let source = if args.file == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        args.file.display().to_string()
    };
    let imported = transfer::import(
        &repo,
        &text,
        &source,
        ImportOptions {
            create_tags_from_commit: args.create_tags_from_commit,
        },
    )?;
    for tag in &imported.tags_created {
        ui.notice(&format!("created tag {tag}"));
    }
    for title in &imported.milestones_created {
        ui.notice(&format!("created milestone {title:?}"));
    }
    for tag in &imported.skipped {
        ui.notice(&format!("skipped {tag}: the release already exists here"));
    }
    for notice in &imported.notices {
        ui.notice(notice);
    }
    ui.notice(&format!(
        "Imported {} release(s){}",
        imported.created.len(),
        if imported.skipped.is_empty() {
            String::new()
        } else {
            format!(", skipped {}", imported.skipped.len())
        }
    ));
    if ui.json {
        common::print_json(&serde_json::json!({
            "imported": imported.created,
            "skipped": imported.skipped,
            "tags_created": imported.tags_created,
            "milestones_created": imported.milestones_created,
        }))?;
    }
    Ok(Exit::Success)
}
