//! Human-readable output: aligned tables and release views.

use git_release::model::{Found, TagState};
use git_release::text::terminal;
use git_release::time::{self, Timestamp};

use unicode_width::UnicodeWidthStr;

use super::{Style, Ui};

/// The abbreviated object id people read (12 hex digits, as GitLab shows).
pub fn short_id(oid: git2::Oid) -> String {
    let mut hex = oid.to_string();
    hex.truncate(12);
    hex
}

/// Warns when a release's tag has moved since the release was made.
pub fn warn_tag_state(ui: &Ui, found: &Found) {
    if let TagState::Moved { commit } = &found.tag_state {
        let was = short_id(found.release.commit);
        let now = commit.to_string();
        ui.warn(&format!(
            "tag {} was moved: the release was made on commit {was}, the tag now points at {}",
            found.tag,
            &now[..12]
        ));
    }
}

/// The marker shown beside upcoming and historical releases.
pub fn marker(found: &Found, now: Timestamp) -> &'static str {
    if found.release.is_upcoming(now) {
        "upcoming"
    } else if found.release.is_historical() {
        "historical"
    } else {
        ""
    }
}

pub fn date(at: Timestamp) -> String {
    at.datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An aligned table: a header row and data rows; columns padded to their widest
/// cell (by characters, so non-ASCII names align), the last column left unpadded.
///
/// Cells are data from anywhere (a fetched record, an import): each is shown through
/// `text::terminal`, so no cell can move the cursor, break the row or reorder it.
pub fn table(ui: &Ui, header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| terminal(cell).into_owned()).collect())
        .collect();
    let rows = &rows;
    let columns = header.len();
    // Columns are as wide as the terminal draws their text: an emoji or a CJK
    // character takes two cells, a combining mark none.
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.width());
        }
    }
    let line = |cells: Vec<String>, paint_header: bool| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = if i + 1 == columns {
                0
            } else {
                widths[i] - cell.width() + 2
            };
            let text = if paint_header {
                ui.paint(Style::Bold, cell)
            } else {
                cell.clone()
            };
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        }
        out.trim_end().to_owned()
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect(), true);
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.clone(), false));
        out.push('\n');
    }
    out
}

/// The widest a free-text cell (a release name, a milestone title) is drawn in a
/// table; `--json` always has the whole text.
pub const MAX_CELL_CHARS: usize = 40;

/// `text` cut to `max` characters, the cut marked with "…"; line breaks, tabs and
/// every other control or format character are shown escaped (`text::terminal`), so
/// one row stays one line.
pub fn truncate(text: &str, max: usize) -> String {
    let flat = terminal(text);
    if flat.chars().count() <= max {
        return flat.into_owned();
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

pub fn release_row(found: &Found, now: Timestamp) -> Vec<String> {
    let released = found.release.released_at;
    vec![
        found.tag.clone(),
        truncate(&found.release.name, MAX_CELL_CHARS),
        date(released),
        time::relative(released, now),
        marker(found, now).to_owned(),
    ]
}
