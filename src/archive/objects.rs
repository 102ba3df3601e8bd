//! Blob contents, read and converted on every core, handed back in archive order.
//!
//! Reading blobs (inflating them, applying deltas) is most of the work of a tar, and
//! `git archive` does it on one thread. Here each of n lanes reads every n-th blob
//! on its own thread, through its own libgit2 object database (the pack files and
//! their delta base cache are shared by libgit2), converts it, and queues it; the
//! caller takes the lanes round-robin, which restores the order. In process there is
//! no pipe to copy every byte through, which is what a `git cat-file` reader costs.
//!
//! Two cases still read through `git cat-file --batch` (one process per lane), because
//! only git does what `git archive` does there: replace refs (`refs/replace/`), which
//! libgit2 ignores, and partial clones, whose missing blobs git fetches on demand.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdout};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::Scope;

use crate::error::{Error, Result};
use crate::git::{Repo, cat_file};

/// Bytes each lane may hold read ahead of the caller: enough to keep reading while a
/// writer takes a big file, little enough not to matter when a compressor is slower
/// than the readers (then everything upstream of it waits full).
const LANE_BUDGET: usize = 512 << 10;
/// Blobs each lane may hold read ahead of the caller, whatever their size.
const LANE_DEPTH: usize = 64;

/// Where a lane reads its blobs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// libgit2, in this process.
    Odb,
    /// `git cat-file --batch`, one process per lane.
    CatFile,
}

impl Source {
    /// libgit2 unless the repository needs git's own object reader (see the module doc).
    pub(crate) fn for_repo(repo: &Repo) -> Source {
        // git's `replace_refs_enabled`: on unless GIT_NO_REPLACE_OBJECTS or
        // `core.useReplaceRefs=false`; the refs live under GIT_REPLACE_REF_BASE.
        let use_replace = std::env::var_os("GIT_NO_REPLACE_OBJECTS").is_none()
            && repo.config().is_ok_and(|config| {
                config.bool("core.useReplaceRefs").ok().flatten() != Some(false)
            });
        let base = std::env::var("GIT_REPLACE_REF_BASE")
            .ok()
            .filter(|base| !base.is_empty())
            .unwrap_or_else(|| "refs/replace/".to_owned());
        let replaced = use_replace
            && repo
                .git()
                .references_glob(&format!("{}/*", base.trim_end_matches('/')))
                .is_ok_and(|mut refs| refs.next().is_some());
        let partial = repo
            .config()
            .is_ok_and(|config| config.has_promisor_remote());
        if replaced || partial {
            Source::CatFile
        } else {
            Source::Odb
        }
    }
}

/// Something a lane made of one blob, with the bytes it keeps queued.
pub(crate) trait Weighed {
    fn weight(&self) -> usize;
}

/// The receiving end: the lanes' results in archive order.
pub(crate) struct Lanes<T> {
    lanes: Vec<(Receiver<Result<T>>, Arc<Budget>)>,
    next: usize,
}

impl<T: Weighed> Lanes<T> {
    /// The next job's result (jobs are answered in the order they were given).
    pub(crate) fn next(&mut self) -> Result<T> {
        let (rx, budget) = &self.lanes[self.next];
        self.next = (self.next + 1) % self.lanes.len();
        let item = rx.recv().map_err(|_| Error::Worker {
            what: "an archive reader",
        })?;
        if let Ok(item) = &item {
            budget.release(item.weight());
        }
        item
    }
}

impl<T> Drop for Lanes<T> {
    fn drop(&mut self) {
        // A caller stopping early (an error elsewhere) must not leave a lane waiting.
        for (_, budget) in &self.lanes {
            budget.close();
        }
    }
}

/// What a lane needs to know of a job: the blob to read, and the path that names it
/// in an error. (The tree walk's plan entries are jobs; this module does not know
/// them, so that the walk can build on it.)
pub(crate) trait BlobJob {
    fn oid(&self) -> git2::Oid;
    fn path(&self) -> &[u8];
}

/// Starts `lanes` threads in `scope` that read the blob of every job and turn it into
/// a `T` with `work` (which runs on the lane's thread).
pub(crate) fn start<'scope, 'env, J, T, F>(
    scope: &'scope Scope<'scope, 'env>,
    git_dir: &'env Path,
    source: Source,
    jobs: &'env [&'env J],
    lanes: usize,
    work: &'env F,
) -> Lanes<T>
where
    J: BlobJob + Sync,
    T: Weighed + Send + 'env,
    F: Fn(&J, Vec<u8>) -> Result<T> + Sync,
{
    if source == Source::Odb {
        limit_pack_mappings();
    }
    let n = lanes.clamp(1, 8).min(jobs.len().max(1));
    let lanes = (0..n)
        .map(|lane| {
            let (tx, rx) = sync_channel(LANE_DEPTH);
            let budget = Arc::new(Budget::new(LANE_BUDGET));
            let lane_budget = Arc::clone(&budget);
            let share = move || jobs.iter().skip(lane).step_by(n).copied();
            scope.spawn(move || {
                let reader = Reader::open(git_dir, source, share().map(|job| job.oid()));
                let mut reader = match reader {
                    Ok(reader) => reader,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                for job in share() {
                    let item = reader
                        .read(job.oid(), job.path())
                        .and_then(|raw| work(job, raw));
                    if !send(&tx, &lane_budget, item) {
                        return;
                    }
                }
            });
            (rx, budget)
        })
        .collect();
    Lanes { lanes, next: 0 }
}

/// libgit2 maps pack files in 1 GiB windows and keeps up to 8 GiB mapped, so every
/// page of pack it touches while reading blobs stays in the resident set (as it does
/// in git archive's): smaller windows under a cap keep it flat whatever the size of
/// the pack, and reading stays as fast (the pages stay in the page cache).
fn limit_pack_mappings() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 reads these globals when it maps a window; they are set once,
        // before the lanes (this process's only concurrent libgit2 readers) start.
        unsafe {
            let _ = git2::opts::set_mwindow_size(16 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
        }
    });
}

/// Blobs, tar chunks and bzip2 blocks are allocated on one thread and freed on
/// another. glibc keeps such buffers in its per-thread arenas once it has raised its
/// mmap threshold (it does so after the first big free), so the arenas grow to the
/// high-water mark of every thread: tens of MiB that the archive no longer uses. A
/// fixed threshold gives buffers of 128 KiB and more back to the system when freed
/// (256 KiB left 2 MB more at the peak of `--format all`; below 64 KiB zlib's own
/// buffers would be mapped and unmapped for every zip member).
///
/// It costs time: every big blob is then mapped, faulted in and unmapped again (a
/// sixth of a plain tar's wall time), so the pipeline asks for it only where memory is
/// tight and the compressor sets the pace anyway: several formats at once, tar.gz and
/// tar.bz2.
pub(crate) fn return_big_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt takes glibc's arena locks; it only changes a tuning value.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
        });
    }
}

/// Queues one result; false when the caller has gone (or the lane must stop).
fn send<T: Weighed>(tx: &SyncSender<Result<T>>, budget: &Budget, item: Result<T>) -> bool {
    let failed = item.is_err();
    if let Ok(item) = &item {
        if !budget.acquire(item.weight()) {
            return false;
        }
    }
    tx.send(item).is_ok() && !failed
}

/// One lane's object reader.
enum Reader {
    Odb(git2::Repository),
    CatFile(CatFile),
}

impl Reader {
    fn open(
        git_dir: &Path,
        source: Source,
        oids: impl Iterator<Item = git2::Oid>,
    ) -> Result<Reader> {
        match source {
            Source::Odb => git2::Repository::open(git_dir)
                .map(Reader::Odb)
                .map_err(|e| Error::ArchiveTree {
                    path: "/".into(),
                    reason: format!("cannot open {} to read blobs: {e}", git_dir.display()),
                }),
            Source::CatFile => CatFile::start(git_dir, oids).map(Reader::CatFile),
        }
    }

    fn read(&mut self, oid: git2::Oid, path: &[u8]) -> Result<Vec<u8>> {
        match self {
            Reader::CatFile(cat) => cat.next(oid, path),
            Reader::Odb(repo) => {
                let odb = repo.odb().map_err(|e| read_error(path, oid, e))?;
                let object = odb.read(oid).map_err(|e| read_error(path, oid, e))?;
                if object.kind() != git2::ObjectType::Blob {
                    return Err(Error::ArchiveTree {
                        path: String::from_utf8_lossy(path).into_owned(),
                        reason: format!("object {oid} is a {}, not a blob", object.kind()),
                    });
                }
                Ok(object.data().to_vec())
            }
        }
    }
}

/// A failure to read an object: "missing" only when git says it is not there; any
/// other error (a corrupt pack, an I/O error) is reported as what it is.
pub(crate) fn read_error(path: &[u8], oid: git2::Oid, source: git2::Error) -> Error {
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        String::from_utf8_lossy(path).into_owned()
    };
    if source.code() == git2::ErrorCode::NotFound {
        Error::MissingObject {
            path,
            oid: oid.to_string(),
            source,
        }
    } else {
        Error::ArchiveTree {
            path,
            reason: format!("cannot read object {oid}: {}", source.message()),
        }
    }
}

/// Bytes held by a lane: it waits while it holds more than its share.
struct Budget {
    limit: usize,
    state: Mutex<BudgetState>,
    freed: Condvar,
}

#[derive(Default)]
struct BudgetState {
    held: usize,
    closed: bool,
    /// Whether the lane is waiting: a release wakes it only then (a wake is a system
    /// call, and there is one release per blob).
    waiting: bool,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget {
            limit,
            state: Mutex::new(BudgetState::default()),
            freed: Condvar::new(),
        }
    }

    /// Waits for room for `n` bytes (one item larger than the limit still goes,
    /// alone); false once closed.
    fn acquire(&self, n: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.closed && state.held > 0 && state.held + n > self.limit {
            state.waiting = true;
            state = self.freed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.waiting = false;
        state.held += n;
        !state.closed
    }

    fn release(&self, n: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.held = state.held.saturating_sub(n);
        if state.waiting {
            self.freed.notify_all();
        }
    }

    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.closed = true;
        self.freed.notify_all();
    }
}

struct CatFile {
    child: Child,
    stdout: BufReader<ChildStdout>,
    feeder: Option<std::thread::JoinHandle<()>>,
}

impl CatFile {
    /// Starts git and asks for every blob in `oids`, in that order.
    fn start(git_dir: &Path, oids: impl Iterator<Item = git2::Oid>) -> Result<Self> {
        // Keep each reader's memory flat however big the repository: small windows
        // under a cap and a 32 MiB delta cache read as fast as git's defaults (measured
        // on git/git and on long delta chains).
        let memory = cat_file::Memory {
            pack_window: "16m",
            pack_limit: "64m",
            delta_cache: "32m",
        };
        let cat_file::Batch {
            child,
            mut stdin,
            stdout,
        } = cat_file::start(git_dir, &memory, true)?;
        let mut requests = Vec::new();
        for oid in oids {
            requests.extend_from_slice(oid.to_string().as_bytes());
            requests.push(b'\n');
        }
        // git answers as it reads; feeding from another thread keeps both pipes moving.
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(&requests);
        });
        Ok(CatFile {
            child,
            stdout: BufReader::with_capacity(1 << 20, stdout),
            feeder: Some(feeder),
        })
    }

    fn next(&mut self, oid: git2::Oid, path: &[u8]) -> Result<Vec<u8>> {
        let fail = |reason: String| Error::MissingObject {
            path: String::from_utf8_lossy(path).into_owned(),
            oid: oid.to_string(),
            source: git2::Error::from_str(&reason),
        };
        let mut header = String::new();
        self.stdout
            .read_line(&mut header)
            .map_err(|e| fail(e.to_string()))?;
        let mut fields = header.trim_end().split(' ');
        let (id, kind, size) = (fields.next(), fields.next(), fields.next());
        if id != Some(oid.to_string().as_str()) || kind != Some("blob") {
            let reason = if kind == Some("missing") {
                "missing".to_owned()
            } else {
                format!("git cat-file said {header:?}")
            };
            return Err(fail(reason));
        }
        let size: usize = size
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| fail(format!("bad header {header:?}")))?;
        let mut data = Vec::with_capacity(size);
        let got = (&mut self.stdout)
            .take(size as u64)
            .read_to_end(&mut data)
            .map_err(|e| fail(e.to_string()))?;
        if got != size {
            return Err(fail(format!(
                "git cat-file ended after {got} of {size} bytes"
            )));
        }
        let mut newline = [0u8; 1];
        self.stdout
            .read_exact(&mut newline)
            .map_err(|e| fail(e.to_string()))?;
        Ok(data)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        // Stopping early (an error elsewhere) must not leave git blocked on a pipe.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(feeder) = self.feeder.take() {
            let _ = feeder.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn a_closed_budget_lets_a_waiting_lane_go() {
        let budget = std::sync::Arc::new(Budget::new(10));
        assert!(budget.acquire(8));
        let waiter = {
            let budget = std::sync::Arc::clone(&budget);
            std::thread::spawn(move || budget.acquire(8))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        budget.close();
        assert!(!waiter.join().unwrap());
    }
}
