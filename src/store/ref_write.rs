//! Moving `refs/notes/releases` with compare-and-swap, the way git's files backend
//! does: take `<ref>.lock` with O_EXCL, check the current value under the lock, write
//! the new value into the lock file and rename it over the ref, append the reflog.
//!
//! Why not libgit2's `reference_matching`: before every ref write it parses the whole
//! packed-refs file to check for directory/file name conflicts, so each release
//! write cost grew with the number of tags (two thirds of `create` at 10,000 tags).
//! The lock protocol is git's own, so git, libgit2 and this code exclude each other.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository, Signature};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::git::config::LogRefUpdates;

/// What a writer expects the ref to hold when it moves it (gitoxide's
/// `PreviousValue`): said as a type, never as a zero id meaning "absent".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The ref must not exist yet (the first write).
    MustNotExist,
    /// The ref must still hold this id (what the writer read).
    MustExistAndMatch(Oid),
}

impl Expected {
    /// What a writer that read `value` (`None`: no ref) expects to find.
    pub fn read_as(value: Option<Oid>) -> Self {
        match value {
            None => Expected::MustNotExist,
            Some(id) => Expected::MustExistAndMatch(id),
        }
    }

    /// The ref's value this expectation names (`None`: absent).
    pub fn previous(self) -> Option<Oid> {
        match self {
            Expected::MustNotExist => None,
            Expected::MustExistAndMatch(id) => Some(id),
        }
    }
}

/// What one compare-and-swap did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The ref now holds the new value.
    Updated,
    /// The ref does not hold what was expected: another writer moved it (to `actual`,
    /// `None` when it was deleted or never made).
    OutOfDate { actual: Option<Oid> },
    /// Another writer holds the ref's lock right now (a live one: a stale lock is an
    /// error, `Error::StaleLock`).
    Locked,
}

/// Removes the lock file when dropped unless it was committed by renaming it.
struct Lock {
    path: PathBuf,
    committed: bool,
}

impl Drop for Lock {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// How git writes a ref in this repository, as its configuration says.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Flush the ref to disk before renaming it into place: only when `core.fsync`
    /// names references, as git does. Its default leaves refs to the page cache, which
    /// a killed process does not lose; an fsync on every release write would cost
    /// more than the rest of the write.
    fsync: bool,
    /// `core.logAllRefUpdates`: whether a missing reflog is made.
    log: LogRefUpdates,
}

impl Settings {
    /// Reads them; a value git would refuse to run with is an error, so a writer reads
    /// them before making anything.
    pub fn read(repo: &Repo) -> Result<Self> {
        let config = repo.config()?;
        Ok(Self {
            fsync: config.fsyncs_references(),
            log: config.log_all_ref_updates(repo.git().is_bare())?,
        })
    }
}

/// Moves `name` from `expected` to `new`, under git's lock.
pub fn compare_and_swap(
    repo: &Repo,
    name: &str,
    expected: Expected,
    new: Oid,
    who: &Signature<'_>,
    message: &str,
) -> Result<Outcome> {
    let io = |what: &str, path: &Path, e: std::io::Error| Error::Io {
        what: format!("{what} {}", path.display()),
        source: e,
    };
    let Settings { fsync, log } = Settings::read(repo)?;
    let repo = repo.git();
    let common = repo.commondir();
    let ref_path = common.join(name);
    let lock_path = common.join(format!("{name}.lock"));
    if let Some(dir) = ref_path.parent() {
        fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    }
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock_path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            if lock_is_stale(&lock_path) {
                return Err(Error::StaleLock { path: lock_path });
            }
            return Ok(Outcome::Locked);
        }
        Err(e) => return Err(io("cannot lock", &lock_path, e)),
    };
    let mut lock = Lock {
        path: lock_path,
        committed: false,
    };

    let current = current_value(repo, name, &ref_path)?;
    if current != expected.previous() {
        return Ok(Outcome::OutOfDate { actual: current });
    }
    file.write_all(format!("{new}\n").as_bytes())
        .and_then(|()| if fsync { file.sync_all() } else { Ok(()) })
        .map_err(|e| io("cannot write", &lock.path, e))?;
    drop(file);
    fs::rename(&lock.path, &ref_path).map_err(|e| io("cannot update", &ref_path, e))?;
    lock.committed = true;

    // The ref has moved; a reflog that cannot be written does not undo that, and
    // git itself only warns in that case.
    let _ = append_reflog(
        repo,
        log,
        name,
        current.unwrap_or(Oid::ZERO_SHA1),
        new,
        who,
        message,
    );
    Ok(Outcome::Updated)
}

/// A writer holds the lock for microseconds (check, write, rename); one that has
/// existed this long was left by a process that died holding it. git leaves such
/// locks for the user to remove too, but says so instead of waiting.
const STALE_LOCK_AGE: std::time::Duration = std::time::Duration::from_secs(10);

fn lock_is_stale(path: &Path) -> bool {
    let Ok(modified) = fs::metadata(path).and_then(|m| m.modified()) else {
        return false;
    };
    modified.elapsed().is_ok_and(|age| age > STALE_LOCK_AGE)
}

/// The ref's value read under the lock: the loose file if there is one, else the
/// packed-refs entry (libgit2 looks that up by binary search, without parsing it all).
fn current_value(repo: &Repository, name: &str, ref_path: &Path) -> Result<Option<Oid>> {
    match fs::read_to_string(ref_path) {
        Ok(text) => {
            let hex = text.trim();
            return Oid::from_str(hex).map(Some).map_err(|_| {
                Error::corrupt(
                    name,
                    format!("the ref file holds {hex:?}, not an object id"),
                )
            });
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::Io {
                what: format!("cannot read {}", ref_path.display()),
                source: e,
            });
        }
    }
    match repo.find_reference(name) {
        Ok(r) => Ok(r.target()),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(Error::git(format!("cannot read {name}"), e)),
    }
}

/// Appends to `logs/<name>` when git would: the log exists already, or
/// `core.logAllRefUpdates` makes one for this ref (`always`, or true, the default
/// outside bare repositories, which covers `refs/notes/`).
fn append_reflog(
    repo: &Repository,
    log: LogRefUpdates,
    name: &str,
    old: Oid,
    new: Oid,
    who: &Signature<'_>,
    message: &str,
) -> std::io::Result<()> {
    let path = repo.commondir().join("logs").join(name);
    let wanted = path.exists() || log.creates_log_for(name);
    if !wanted {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let when = who.when();
    let offset = when.offset_minutes();
    let sign = if offset < 0 { '-' } else { '+' };
    let message = message.replace('\n', " ");
    let line = format!(
        "{old} {new} {} <{}> {} {sign}{:02}{:02}\t{message}\n",
        String::from_utf8_lossy(who.name_bytes()),
        String::from_utf8_lossy(who.email_bytes()),
        when.seconds(),
        offset.abs() / 60,
        offset.abs() % 60,
    );
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?
        .write_all(line.as_bytes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn init() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        (dir, repo)
    }

    /// A commit with an empty tree and `message` (different messages, different ids).
    pub(crate) fn commit(repo: &Repository, message: &str) -> Oid {
        let sig = Signature::now("t", "t@example.com").unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        repo.commit(None, &sig, &sig, message, &tree, &[]).unwrap()
    }

    fn swap(repo: &Repository, expected: Expected, new: Oid) -> Result<Outcome> {
        let sig = Signature::now("t", "t@example.com").unwrap();
        let repo = Repo::from_git2(Repository::open(repo.path()).unwrap());
        compare_and_swap(&repo, REF, expected, new, &sig, "test")
    }

    const REF: &str = "refs/notes/releases";

    #[test]
    fn must_not_exist_creates_the_ref_once() {
        let (_dir, repo) = init();
        let (a, b) = (commit(&repo, "a"), commit(&repo, "b"));
        assert_eq!(
            swap(&repo, Expected::MustNotExist, a).unwrap(),
            Outcome::Updated
        );
        assert_eq!(repo.refname_to_id(REF).unwrap(), a);
        assert_eq!(
            swap(&repo, Expected::MustNotExist, b).unwrap(),
            Outcome::OutOfDate { actual: Some(a) }
        );
        assert_eq!(repo.refname_to_id(REF).unwrap(), a);
        // The reflog records the creation as git does (from the zero id).
        let log = std::fs::read_to_string(repo.path().join("logs").join(REF)).unwrap();
        assert!(
            log.starts_with(&format!("{} {a} ", Oid::ZERO_SHA1)),
            "{log}"
        );
    }

    #[test]
    fn must_exist_and_match_moves_only_from_that_value() {
        let (_dir, repo) = init();
        let (a, b, c) = (commit(&repo, "a"), commit(&repo, "b"), commit(&repo, "c"));
        assert_eq!(
            swap(&repo, Expected::MustExistAndMatch(a), b).unwrap(),
            Outcome::OutOfDate { actual: None },
            "an absent ref does not match"
        );
        repo.reference(REF, a, true, "test").unwrap();
        assert_eq!(
            swap(&repo, Expected::MustExistAndMatch(c), b).unwrap(),
            Outcome::OutOfDate { actual: Some(a) }
        );
        assert_eq!(
            swap(&repo, Expected::MustExistAndMatch(a), b).unwrap(),
            Outcome::Updated
        );
        assert_eq!(repo.refname_to_id(REF).unwrap(), b);
    }

    /// A packed ref is read under the lock as well as a loose one.
    #[test]
    fn a_packed_ref_is_compared_too() {
        let (_dir, repo) = init();
        let (a, b) = (commit(&repo, "a"), commit(&repo, "b"));
        repo.reference(REF, a, true, "test").unwrap();
        std::fs::remove_file(repo.path().join(REF)).unwrap();
        std::fs::write(
            repo.path().join("packed-refs"),
            format!("# pack-refs with: peeled fully-peeled sorted \n{a} {REF}\n"),
        )
        .unwrap();
        assert_eq!(
            swap(&repo, Expected::MustNotExist, b).unwrap(),
            Outcome::OutOfDate { actual: Some(a) }
        );
        assert_eq!(
            swap(&repo, Expected::MustExistAndMatch(a), b).unwrap(),
            Outcome::Updated
        );
        assert_eq!(repo.refname_to_id(REF).unwrap(), b);
    }

    /// A held lock is told apart from a moved ref; a lock left long ago is an error
    /// naming the file, and neither touches the ref or the lock.
    #[test]
    fn a_held_lock_is_locked_and_an_old_one_is_stale() {
        let (_dir, repo) = init();
        let (a, b) = (commit(&repo, "a"), commit(&repo, "b"));
        repo.reference(REF, a, true, "test").unwrap();
        let lock = repo.path().join(format!("{REF}.lock"));
        std::fs::write(&lock, "").unwrap();
        assert_eq!(
            swap(&repo, Expected::MustExistAndMatch(a), b).unwrap(),
            Outcome::Locked
        );
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert!(matches!(
            swap(&repo, Expected::MustExistAndMatch(a), b),
            Err(Error::StaleLock { .. })
        ));
        assert!(lock.exists());
        assert_eq!(repo.refname_to_id(REF).unwrap(), a);
    }

    /// A writer that lost leaves no lock behind.
    #[test]
    fn the_lock_is_released_after_a_lost_swap() {
        let (_dir, repo) = init();
        let (a, b) = (commit(&repo, "a"), commit(&repo, "b"));
        repo.reference(REF, a, true, "test").unwrap();
        swap(&repo, Expected::MustNotExist, b).unwrap();
        assert!(!repo.path().join(format!("{REF}.lock")).exists());
    }
}
