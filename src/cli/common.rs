//! Pieces several commands share: choosing a release by `<tag|latest>`, reading
//! release notes from a file or stdin, printing JSON.

use std::io::Read;
use std::path::{Path, PathBuf};

use git_release::model::{Found, Selector, TagName};
use git_release::release;
use git_release::release::notes::Generated;
use git_release::time::Timestamp;
use git_release::{Error, Repo, Result, release::ordering};
use serde::Serialize;

/// The release a `<tag|latest>` argument names: `latest` is GitLab's
/// `permalink/latest`; a tag literally named `latest` is reached as `tags/latest`.
pub fn select_release(repo: &Repo, selector: &Selector) -> Result<Found> {
    match selector {
        Selector::Latest => {
            let listing = release::list(repo)?;
            ordering::latest(listing.releases).ok_or(Error::NoReleases)
        }
        Selector::Tag(tag) => release::find(repo, tag),
    }
}

/// The tag a `<tag|latest>` argument names, for commands that work on the tag.
pub fn select_tag(repo: &Repo, selector: &Selector) -> Result<TagName> {
    match selector {
        Selector::Latest => Ok(select_release(repo, selector)?.tag),
        Selector::Tag(tag) => Ok(tag.clone()),
    }
}

/// Release notes as `create` and `update` take them: given, read from a file, and/or
/// generated from the commits since the previous release.
#[derive(clap::Args)]
pub struct NotesArgs {
    /// Release notes (Markdown).
    #[arg(long, short = 'N', conflicts_with_all = ["notes_file", "description"])]
    pub notes: Option<String>,
    /// Read release notes from FILE ("-" for standard input).
    #[arg(long, short = 'F', value_name = "FILE", conflicts_with = "description")]
    pub notes_file: Option<PathBuf>,
    /// release-cli's spelling: the notes, or when it names an existing file, that
    /// file's contents.
    #[arg(long, value_name = "TEXT|FILE")]
    pub description: Option<String>,
    /// Write notes from the commits since the previous release (the nearest commit on
    /// the first-parent history that carries one), grouped as Features, Fixes and
    /// Other, with the contributors; added after --notes when both are given (on
    /// update without --notes, they replace the description).
    #[arg(long)]
    pub generate_notes: bool,
    /// Start the generated notes at tag T instead of the previous release.
    #[arg(long, value_name = "T", requires = "generate_notes", value_parser = TagName::parse)]
    pub notes_start_tag: Option<TagName>,
}

impl NotesArgs {
    /// The notes given with --notes or --notes-file, if any.
    pub fn read(&self) -> Result<Option<String>> {
        if let Some(description) = &self.description {
            let path = Path::new(description);
            if path.is_file() {
                return read_notes(None, Some(path));
            }
            return Ok(Some(description.clone()));
        }
        read_notes(self.notes.clone(), self.notes_file.as_deref())
    }

    pub fn generated(&self) -> Option<git_release::release::NotesRequest> {
        self.generate_notes
            .then(|| git_release::release::NotesRequest {
                start_tag: self.notes_start_tag.clone(),
            })
    }
}

/// `--notes TEXT` or `--notes-file FILE` (`-` for stdin).
pub fn read_notes(notes: Option<String>, notes_file: Option<&Path>) -> Result<Option<String>> {
    match (notes, notes_file) {
        (Some(text), _) => Ok(Some(text)),
        (None, Some(path)) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| Error::ReadFile {
                    path: PathBuf::from("<stdin>"),
                    source,
                })?;
            Ok(Some(text))
        }
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|source| Error::ReadFile {
                path: path.to_path_buf(),
                source,
            })?;
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::ReadFile {
                    path: path.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "the file is not UTF-8 text",
                    ),
                })
        }
        (None, None) => Ok(None),
    }
}

/// How every destructive command confirms (`delete`, `milestone delete`): `-y` skips
/// the question; on a terminal it is asked; without one the command refuses.
pub fn confirm_destructive(ui: &super::Ui, what: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !ui.stdin_is_terminal {
        return Err(Error::Refused {
            action: format!("deleting {what}"),
            reason: "no terminal to confirm on; pass -y to delete without asking".into(),
        });
    }
    if !ui.confirm(&format!("Delete {what}?")) {
        return Err(Error::Refused {
            action: format!("deleting {what}"),
            reason: "not confirmed".into(),
        });
    }
    Ok(())
}

pub fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| Error::Json {
        what: "the output".into(),
        source,
    })?;
    println!("{text}");
    Ok(())
}

/// "generated notes from v1.0.0..v1.1.0 (3 commits)", said on stderr.
pub fn describe_generated(generated: &Generated) -> String {
    let plural = if generated.commits == 1 { "" } else { "s" };
    match &generated.since {
        Some(_) => format!(
            "generated notes from {} ({} commit{plural})",
            generated.range, generated.commits
        ),
        None => format!(
            "generated notes from every commit up to {} ({} commit{plural}; no earlier release)",
            generated.range, generated.commits
        ),
    }
}

/// "period 2" / "periods 1, 3".
pub fn freeze_periods(ids: &[u64]) -> String {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    match ids.len() {
        1 => format!("period {}", list[0]),
        _ => format!("periods {}", list.join(", ")),
    }
}

/// The one line said when a release's evidence is left unsigned because its tag is
/// signed by somebody else's key (an upstream release's).
pub fn unsigned_evidence_notice(tag: &str, tag_signer: &str) -> String {
    format!(
        "tag {tag} is signed by {tag_signer}, not your signing key: its evidence is not signed \
         (--sign signs it with your key)"
    )
}

/// A time argument (`--at`, `--from`, `--until`) as a clap value parser: ISO 8601, so a
/// bad time is a usage error before any work.
pub fn timestamp(text: &str) -> std::result::Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| e.to_string())
}

/// `--released-at`, parsed at the edge (a clap value parser) as GitLab takes it: ISO
/// 8601, and a time without a UTC offset as UTC, which `take` says once so that nobody
/// is surprised by an hour's difference.
#[derive(Debug, Clone)]
pub struct ReleasedAt {
    at: Timestamp,
    /// The argument and the time it was taken as, when it had no UTC offset.
    assumed_utc: Option<(String, String)>,
}

impl ReleasedAt {
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if let Some((at, written)) = Timestamp::parse_without_offset(text) {
            return Ok(ReleasedAt {
                at,
                assumed_utc: Some((text.to_owned(), written)),
            });
        }
        Ok(ReleasedAt {
            at: timestamp(text)?,
            assumed_utc: None,
        })
    }

    /// The time, after the notice when no offset was written.
    pub fn take(self, ui: &super::Ui) -> Timestamp {
        if let Some((text, written)) = &self.assumed_utc {
            ui.notice(&format!(
                "--released-at {text} has no UTC offset: taken as UTC ({written})"
            ));
        }
        self.at
    }
}

/// Brings what the releases keep of their group milestones up to date where the
/// group's repository is here (the copy a clone without it shows). Done after a write
/// that already happened, or before a push: a failure is a notice, never an error.
pub fn refresh_group_milestones(repo: &Repo, ui: &super::Ui) {
    match git_release::release::update::refresh_group_milestones(repo) {
        Ok(tags) if !tags.is_empty() => ui.notice(&format!(
            "refreshed what {} release(s) keep of their group milestones",
            tags.len()
        )),
        Ok(_) => {}
        Err(e) => ui.notice(&format!(
            "what the releases keep of their group milestones was not refreshed: {e}"
        )),
    }
}
