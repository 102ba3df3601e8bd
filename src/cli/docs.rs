//! `completions` and `man`: generated from the clap definitions, so they never drift
//! from the real command line.

use super::Exit;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use clap_complete::Shell;
use git_release::{Error, Result};

use super::Ui;

/// Print shell completions.
///
/// The bash script also defines `_git_release`, which git's own completion calls for
/// `git release <TAB>`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

/// Print or install the man pages (`git release --help` opens `man git-release`).
///
/// With --install, the pages go where man looks for them: for the PATH directory
/// `<prefix>/bin` through which git finds git-release, into `<prefix>/share/man/man1`
/// (after `cargo install`, ~/.cargo/share/man/man1, which man searches when
/// ~/.cargo/bin is on PATH).
#[derive(Args)]
pub struct ManArgs {
    /// Write git-release.1 and one page per subcommand into DIR instead of printing
    /// git-release.1.
    #[arg(long, value_name = "DIR", conflicts_with = "install")]
    pub output_dir: Option<PathBuf>,
    /// Install the pages into <prefix>/share/man/man1 beside the <prefix>/bin on PATH
    /// that holds git-release.
    #[arg(long)]
    pub install: bool,
}

/// git's bash completion calls `_git_<command>` with `words`/`cword` describing the
/// whole `git … release …` line; hand the part from `release` on to clap's completer
/// as if `git-release` had been typed.
const GIT_BASH_BRIDGE: &str = r#"
_git_release() {
    local i start=0
    for ((i = 1; i < ${#words[@]}; i++)); do
        if [[ ${words[i]} == release ]]; then start=$i; break; fi
    done
    local COMP_WORDS=("git-release" "${words[@]:start+1}")
    local COMP_CWORD=$((cword - start))
    local COMP_LINE="${COMP_WORDS[*]}"
    local COMP_POINT=${#COMP_LINE}
    _git__release "git-release" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// Prints the completion script for `command`, the whole command line.
pub fn run_completions(
    args: CompletionsArgs,
    mut command: clap::Command,
    _ui: &Ui,
) -> Result<Exit> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "git-release", &mut out);
    if args.shell == Shell::Bash {
        // clap_complete's bash script spells the state of a hyphenated program two ways
        // (`git__release__subcmd__list` in its loop, `git__subcmd__release__subcmd__list`
        // in its case labels), so nothing after a subcommand completed; make them agree.
        let script = String::from_utf8_lossy(&out).replace("git__subcmd__release", "git__release");
        out = script.into_bytes();
        out.extend_from_slice(GIT_BASH_BRIDGE.as_bytes());
    }
    write_stdout(&out)
}

/// Prints or installs the man pages of `command`, the whole command line.
pub fn run_man(args: ManArgs, command: clap::Command, ui: &Ui) -> Result<Exit> {
    let output_dir = match (args.install, args.output_dir) {
        (true, _) => Some(install_dir()?),
        (false, dir) => dir,
    };
    match output_dir {
        None => {
            let mut out = Vec::new();
            render(&command, &mut out)?;
            write_stdout(&out)
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile {
                path: dir.clone(),
                source,
            })?;
            write_pages(&command, &dir, "git-release")?;
            ui.notice(&format!("wrote man pages to {}", dir.display()));
            if !args.install {
                ui.notice(&manpath_hint(&dir));
            }
            Ok(Exit::Success)
        }
    }
}

/// How man finds pages written to `dir`: man looks in `<entry>/man1` for each MANPATH
/// entry, so only a directory named `man1` has a parent to add.
fn manpath_hint(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    match (absolute.file_name(), absolute.parent()) {
        (Some(name), Some(parent)) if name == "man1" => format!(
            "for man to find them, add {} to MANPATH (e.g. export MANPATH=\"{}:$MANPATH\")",
            parent.display(),
            parent.display()
        ),
        _ => format!(
            "man finds pages only in a man1 directory of a MANPATH entry: write them with \
             --output-dir {} and add {} to MANPATH, or read one with `man -l {}`",
            absolute.join("man1").display(),
            absolute.display(),
            absolute.join("git-release.1").display()
        ),
    }
}

/// The first directory on PATH holding an executable `git-release`: the one git runs
/// for `git release` (git looks in its exec-path first, where no installer of ours
/// puts it).
pub fn bin_dir_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        // Kept as PATH spells it (not resolved through symlinks): man derives
        // `<dir>/../share/man` from the PATH entry itself.
        is_executable(&dir.join("git-release")).then(|| match dir.is_absolute() {
            true => dir.clone(),
            false => std::env::current_dir().map_or(dir.clone(), |cwd| cwd.join(&dir)),
        })
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `<prefix>/share/man/man1` for the `<prefix>/bin` git finds git-release in: man-db
/// derives its search path from PATH that way when MANPATH is unset.
fn install_dir() -> Result<PathBuf> {
    let Some(bin) = bin_dir_on_path() else {
        return Err(Error::Refused {
            action: "installing the man pages".into(),
            reason: "git-release is not on PATH, so git cannot run it as `git release` either; \
                     put its directory on PATH (cargo install uses ~/.cargo/bin), or give \
                     --output-dir DIR"
                .into(),
        });
    };
    match (bin.file_name(), bin.parent()) {
        (Some(name), Some(prefix)) if name == "bin" => Ok(prefix.join("share/man/man1")),
        _ => Err(Error::Refused {
            action: "installing the man pages".into(),
            reason: format!(
                "git finds git-release in {}, which is not a <prefix>/bin directory, so man \
                 has no matching <prefix>/share/man; give --output-dir DIR (a man1 directory \
                 on your MANPATH)",
                bin.display()
            ),
        }),
    }
}

/// Whether `man git-release` would find a page (`man -w` only looks it up).
pub fn man_page_installed() -> bool {
    std::process::Command::new("man")
        .args(["-w", "git-release"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<()> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|source| Error::Io {
            what: "cannot render the man page".into(),
            source,
        })
}

/// `git-release.1`, `git-release-create.1`, … (as git's own pages are split).
fn write_pages(command: &clap::Command, dir: &Path, name: &str) -> Result<()> {
    let page = command.clone().name(name.to_owned());
    let mut out = Vec::new();
    render(&page, &mut out)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, out).map_err(|source| Error::WriteFile { path, source })?;
    for sub in command.get_subcommands() {
        write_pages(sub, dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<Exit> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(Exit::Success),
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Exit::Success),
        Err(source) => Err(Error::Io {
            what: "cannot write to standard output".into(),
            source,
        }),
    }
}
