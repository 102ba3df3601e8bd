//! The exit statuses, named: what a script that runs `git release` can rely on
//! (docs/releases.md says the same for people).

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done as asked.
    Success,
    /// 1: an error, or a check that found problems (`verify`, `doctor`, evidence that
    /// could not be collected, a pre-push hook refusing, something left to settle).
    Failure,
    /// 1 from `git release config KEY`: the key is unset, as `git config --get` says it.
    Unset,
    /// 1 from `freeze check`: a deploy freeze is in effect. Not an error: CI scripts
    /// branch on it.
    Frozen,
    /// 2: the command line is wrong (clap reports those itself, with this status).
    Usage,
    /// 2 from `freeze check`: it cannot tell (an unreadable freeze setting, no
    /// repository), so a broken setup is never read as "frozen" nor as "open".
    CannotTell,
}

impl Exit {
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure | Exit::Unset | Exit::Frozen => 1,
            Exit::Usage | Exit::CannotTell => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}
