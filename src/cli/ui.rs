//! How the binary talks to people: colour only on a terminal, messages on stderr,
//! `--quiet` silences notices (never errors or requested output). Messages name
//! things that may come from anyone's records (a tag, a URL, a server's answer): they
//! are printed through `text::terminal_lines`, which keeps their own line breaks and
//! shows every other control or format character escaped.

use git_release::text::terminal_lines;

use std::io::IsTerminal;

pub struct Ui {
    pub json: bool,
    pub quiet: bool,
    color_out: bool,
    color_err: bool,
    pub stdin_is_terminal: bool,
    pub stdout_is_terminal: bool,
}

pub enum Style {
    Bold,
    Dim,
    Yellow,
    Red,
    Cyan,
}

impl Ui {
    /// For the global options `--json`, `--quiet` and `--no-color`.
    pub fn new(json: bool, quiet: bool, no_color: bool) -> Self {
        let allowed = !no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ui {
            json,
            quiet,
            color_out: allowed && std::io::stdout().is_terminal(),
            color_err: allowed && std::io::stderr().is_terminal(),
            stdin_is_terminal: std::io::stdin().is_terminal(),
            stdout_is_terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Progress bars are drawn on stderr, only when it is a terminal and not --quiet.
    pub fn progress_allowed(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Paints `text` for stdout when stdout is a terminal.
    pub fn paint(&self, style: Style, text: &str) -> String {
        paint(self.color_out, style, text)
    }

    pub fn error(&self, message: &str, hint: Option<&str>) {
        let message = terminal_lines(message);
        eprintln!("{} {message}", paint(self.color_err, Style::Red, "error:"));
        if let Some(hint) = hint {
            let hint = terminal_lines(hint);
            eprintln!("{} {hint}", paint(self.color_err, Style::Cyan, "hint:"));
        }
    }

    /// A failed command's error: its message, then one "Caused by:" line for each
    /// error beneath it that the lines above do not already say, then its hint.
    pub fn report(&self, error: &git_release::Error) {
        let message = error.to_string();
        let causes = error.causes();
        let hint = super::hint(error);
        let message = terminal_lines(&message);
        eprintln!("{} {message}", paint(self.color_err, Style::Red, "error:"));
        for cause in causes {
            eprintln!("Caused by: {}", terminal_lines(&cause));
        }
        if let Some(hint) = hint {
            let hint = terminal_lines(&hint);
            eprintln!("{} {hint}", paint(self.color_err, Style::Cyan, "hint:"));
        }
    }

    pub fn warn(&self, message: &str) {
        let message = terminal_lines(message);
        eprintln!(
            "{} {message}",
            paint(self.color_err, Style::Yellow, "warning:")
        );
    }

    /// Something worth knowing that is not a problem (e.g. "--ref ignored").
    pub fn notice(&self, message: &str) {
        if !self.quiet {
            eprintln!("{}", terminal_lines(message));
        }
    }

    /// Asks a yes/no question on the terminal; `false` without one.
    pub fn confirm(&self, question: &str) -> bool {
        if !self.stdin_is_terminal {
            return false;
        }
        eprint!("{} [y/N] ", terminal_lines(question));
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES")
    }
}

fn paint(enabled: bool, style: Style, text: &str) -> String {
    if !enabled {
        return text.to_owned();
    }
    let code = match style {
        Style::Bold => "1",
        Style::Dim => "2",
        Style::Yellow => "33",
        Style::Red => "1;31",
        Style::Cyan => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
