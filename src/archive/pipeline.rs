//! Wires the walk to the writers: threads, bounded queues, digests, error selection.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{Scope, ScopedJoinHandle};

use sha2::{Digest, Sha256};

use super::bz2;
use super::entry::Entry;
use super::objects;
use super::settings::Settings;
use super::tar::TarWriter;
use super::walk::{self, Reader};
use super::zip::{self, ZipWriter};
use super::{Format, Mode, Output, Progress, Report, Request, Written};
use crate::error::{Error, Result};
use crate::git::repo::Repo;

/// Bytes of converted content allowed in flight between the reader and the writers.
/// Every byte of it shows in peak memory (several times: the object as read, its
/// conversion, what the writers make of it), and 2 MiB keeps a tar as fast as 4 did:
/// the lanes read ahead of it, and a compressor is slower than the readers anyway.
const BUDGET: usize = 2 << 20;
/// Size of the tar chunks handed to the compressors: each compressor may have two
/// queued and one in hand, so this is paid several times over in peak memory, while
/// the cost of passing a chunk is the same whatever its size.
const CHUNK: usize = 256 << 10;

/// A thread's failure: its own error, or `None` when it stopped because the thread it
/// feeds went away (whose error is the one to report).
type Failure = Option<Error>;

pub(crate) fn run(
    repo: &Repo,
    commit: &git2::Commit<'_>,
    request: &Request<'_>,
    outputs: Vec<Output<'_>>,
    progress: &dyn Progress,
) -> Result<Report> {
    let git = repo.git();
    let mut job = Job::prepare(repo, commit, request)?;
    let from_git = std::mem::take(&mut job.from_git);
    let warnings = std::mem::take(&mut job.warnings);
    // tar.gz and tar.bz2 are bound by their compressor, whatever the buffers cost.
    let tight = |f: Format| matches!(f, Format::TarBz2 | Format::TarGz);
    if outputs.len() > 1 || outputs.iter().any(|o| tight(o.format)) {
        objects::return_big_buffers();
    }
    let targets = Targets::split(outputs, request.tar_digest);
    let order = targets.order.clone();
    let source = objects::Source::for_repo(repo);
    let blobs: Vec<&walk::Planned> = job.plan.iter().filter(|p| walk::reads_blob(p)).collect();
    let (settings, common_dir) = (&job.settings, job.common_dir.as_path());
    let convert = |p: &walk::Planned, raw| walk::convert(settings, common_dir, p, raw);
    let prefix = request.prefix.as_bytes();
    let zip_warnings = Mutex::new(Vec::new());

    let (results, produced, reader) = std::thread::scope(|scope| {
        let budget = Arc::new(Budget::default());
        let (senders, handles) = spawn_writers(scope, targets, &job, &zip_warnings);
        let mut reader = Reader {
            blobs: objects::start(scope, git.path(), source, &blobs, cores(), &convert),
            prefix,
            from_git,
            warnings,
            lfs_missing: Vec::new(),
        };
        let produced = produce(&mut reader, &job, prefix, &senders, &budget, progress);
        drop(senders);
        // Closes the lanes, which may be waiting to queue more if the walk stopped.
        let Reader {
            blobs,
            warnings,
            lfs_missing,
            ..
        } = reader;
        drop(blobs);
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Some(Error::Worker {
                        what: "an archive thread",
                    }))
                })
            })
            .collect();
        (results, produced, (warnings, lfs_missing))
    });

    let (mut written, tar) = collect(results, produced)?;
    written.sort_by_key(|w| order.iter().position(|f| *f == w.format));
    let (mut warnings, lfs_missing) = reader;
    warnings.extend(zip_warnings.into_inner().unwrap_or_else(|e| e.into_inner()));
    Ok(Report {
        commit: job.commit_hex,
        time: job.time,
        outputs: written,
        tar,
        warnings,
        ref_dependent: job.ref_dependent,
        lfs_missing,
    })
}

/// What the walk found and what the writers need to know, before any blob is read.
struct Job<'r> {
    commit_hex: String,
    time: i64,
    tree: git2::Tree<'r>,
    common_dir: PathBuf,
    settings: Settings,
    plan: Vec<walk::Planned>,
    /// export-subst (and filtered) files, as git archive made them.
    from_git: HashMap<Vec<u8>, Vec<u8>>,
    warnings: Vec<String>,
    ref_dependent: Vec<String>,
    /// `Request::digests`.
    digests: bool,
}

impl<'r> Job<'r> {
    fn prepare(repo: &'r Repo, commit: &git2::Commit<'r>, request: &Request<'_>) -> Result<Self> {
        let git = repo.git();
        let commit_hex = commit.id().to_string();
        let tree = commit
            .tree()
            .map_err(|e| objects::read_error(b"", commit.tree_id(), e))?;
        let common_dir = git.commondir().to_path_buf();
        let settings = match request.mode {
            Mode::Canonical => Settings::canonical(),
            Mode::LocalConfig => Settings::local(git.path(), &common_dir)?,
        };
        let mut plan = walk::plan(git, &tree, &settings)?;
        if let Some(path) = request.path {
            plan = walk::restrict(plan, path)?;
        }
        let mut job = Job {
            commit_hex,
            time: commit.committer().when().seconds(),
            tree,
            common_dir,
            settings,
            ref_dependent: ref_dependent_paths(git, &plan),
            digests: request.digests,
            plan,
            from_git: HashMap::new(),
            warnings: Vec::new(),
        };
        job.from_git = job.contents_from_git(git)?;
        Ok(job)
    }

    /// The files whose content only git makes (export-subst, filters, encodings).
    fn contents_from_git(&mut self, git: &git2::Repository) -> Result<HashMap<Vec<u8>, Vec<u8>>> {
        let needed: Vec<&walk::Conversion> = self
            .plan
            .iter()
            .filter_map(|p| p.conversion.as_ref().filter(|c| c.from_git))
            .collect();
        if needed.is_empty() {
            return Ok(HashMap::new());
        }
        // One pathspec per kind of file; none (the whole tree) when one kind has none.
        let selectors: Vec<&str> = if needed.iter().any(|c| c.git_selector.is_none()) {
            Vec::new()
        } else {
            let set: std::collections::BTreeSet<&str> = needed
                .iter()
                .filter_map(|c| c.git_selector.as_deref())
                .collect();
            set.into_iter().collect()
        };
        if self.settings.canonical && self.common_dir.join("info").join("attributes").is_file() {
            self.warnings.push(
                "export-subst files are expanded by git, which also applies $GIT_DIR/info/attributes to them"
                    .to_owned(),
            );
        }
        super::subst::contents_from_git(
            git.path(),
            git.workdir(),
            &self.commit_hex,
            &selectors,
            self.settings.canonical,
        )
    }

    /// The zip's DOS times: the archive time in UTC or in the local zone.
    fn zip_local_time(&self) -> chrono::NaiveDateTime {
        if self.settings.zip_utc {
            chrono::DateTime::from_timestamp(self.time, 0).map(|t| t.naive_utc())
        } else {
            use chrono::TimeZone;
            chrono::Local
                .timestamp_opt(self.time, 0)
                .single()
                .map(|t| t.naive_local())
        }
        .unwrap_or_default()
    }
}

/// The requested outputs, sorted by the writer that makes them.
struct Targets<'a> {
    /// tar, tar.gz, tar.bz2: all made from one tar stream.
    tar: Vec<Output<'a>>,
    zip: Option<Box<dyn Write + Send + 'a>>,
    /// The formats in the order asked for, which the report keeps.
    order: Vec<Format>,
    /// The tar stream is made (some tar format, or the tar digest, is wanted).
    want_tar: bool,
    tar_digest: bool,
}

impl<'a> Targets<'a> {
    fn split(outputs: Vec<Output<'a>>, tar_digest: bool) -> Self {
        let mut targets = Targets {
            tar: Vec::new(),
            zip: None,
            order: Vec::new(),
            want_tar: tar_digest,
            tar_digest,
        };
        for output in outputs {
            targets.order.push(output.format);
            if output.format == Format::Zip {
                targets.zip = Some(output.sink);
            } else {
                targets.want_tar = true;
                targets.tar.push(output);
            }
        }
        targets
    }
}

type Handle<'scope> = ScopedJoinHandle<'scope, std::result::Result<Produced, Failure>>;

/// Starts the tar and zip writers (and their compressors): where `produce` sends.
fn spawn_writers<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    targets: Targets<'env>,
    job: &'env Job<'_>,
    zip_warnings: &'env Mutex<Vec<String>>,
) -> (Vec<SyncSender<Arc<Tracked>>>, Vec<Handle<'scope>>) {
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    if targets.want_tar {
        let mut raw = None;
        let mut compressors = Vec::new();
        for output in targets.tar {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(2);
            match output.format {
                Format::Tar => {
                    raw = Some(Hashing::new(output.sink, job.digests));
                    continue;
                }
                Format::TarBz2 => handles.push(spawn_bz2(scope, rx, output.sink, job.digests)),
                format => {
                    let digests = job.digests;
                    handles.push(scope.spawn(move || gzip(format, rx, output.sink, digests)))
                }
            }
            compressors.push(tx);
        }
        let (tx, rx) = sync_channel(1024);
        senders.push(tx);
        let fanout = Fanout {
            raw,
            compressors,
            hash: targets.tar_digest.then(Sha256::new),
            size: 0,
            buf: Vec::with_capacity(CHUNK),
            failure: None,
        };
        let (commit_hex, time, umask) = (&job.commit_hex, job.time, job.settings.umask);
        handles.push(scope.spawn(move || tar_thread(rx, fanout, commit_hex, time, umask)));
    }
    if let Some(sink) = targets.zip {
        // Zip members are deflated independently, so they are compressed on as many
        // threads as there are cores and written back in order by one.
        let (tx, rx) = sync_channel::<Arc<Tracked>>(1024);
        senders.push(tx);
        let jobs = Arc::new(Mutex::new(rx));
        let (done_tx, done_rx) = sync_channel(1024);
        for _ in 0..cores() {
            let jobs = Arc::clone(&jobs);
            let done_tx = done_tx.clone();
            scope.spawn(move || zip_worker(&jobs, &done_tx));
        }
        let local_time = job.zip_local_time();
        let (commit_hex, time) = (&job.commit_hex, job.time);
        let sink = Hashing::new(sink, job.digests);
        handles.push(
            scope.spawn(move || {
                zip_thread(done_rx, sink, commit_hex, time, local_time, zip_warnings)
            }),
        );
    }
    (senders, handles)
}

/// bzip2 blocks are compressed on every core (see bz2.rs): a splitter cuts the tar
/// into blocks, workers compress them, and one thread splices them in order.
fn spawn_bz2<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    rx: Receiver<Arc<Vec<u8>>>,
    sink: Box<dyn Write + Send + 'env>,
    digests: bool,
) -> Handle<'scope> {
    let workers = cores();
    // One block queued beside the ones being compressed: each block is 900 kB of
    // input and each compressor 7 MB of sort arrays, so blocks waiting for a worker
    // are memory spent for nothing, while one queued block keeps the workers fed (the
    // splitter cuts a block in a fraction of the time a worker compresses it).
    let (job_tx, job_rx) = sync_channel::<(u64, Vec<u8>)>(1);
    let (done_tx, done_rx) = sync_channel(workers * 2);
    scope.spawn(move || split_bz2(&rx, &job_tx));
    let jobs = Arc::new(Mutex::new(job_rx));
    for _ in 0..workers {
        let jobs = Arc::clone(&jobs);
        let done_tx = done_tx.clone();
        scope.spawn(move || bz2_worker(&jobs, &done_tx));
    }
    scope.spawn(move || assemble_bz2(done_rx, sink, digests))
}

/// Every writer's result, or the first error (the walk's before the writers').
fn collect(
    results: Vec<std::result::Result<Produced, Failure>>,
    produced: std::result::Result<(), Failure>,
) -> Result<(Vec<Written>, Option<Written>)> {
    let mut first_error = produced.err().flatten();
    let mut written = Vec::new();
    let mut tar = None;
    for result in results {
        match result {
            Ok(list) => {
                for w in list {
                    match w {
                        (Some(format), w) => written.push(Written { format, ..w }),
                        (None, w) => tar = Some(w),
                    }
                }
            }
            Err(failure) => {
                if first_error.is_none() {
                    first_error = failure;
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((written, tar)),
    }
}

/// The export-subst files (in the plan) whose `$Format:…$` placeholders name refs.
fn ref_dependent_paths(git: &git2::Repository, plan: &[walk::Planned]) -> Vec<String> {
    plan.iter()
        .filter(|p| p.conversion.as_ref().is_some_and(|c| c.export_subst))
        .filter(|p| {
            git.find_blob(p.oid)
                .is_ok_and(|blob| super::subst::depends_on_refs(blob.content()))
        })
        .map(|p| String::from_utf8_lossy(&p.rel).into_owned())
        .collect()
}

/// The walk's second phase on the caller's thread: take each member's bytes, queue.
fn produce(
    reader: &mut Reader<'_>,
    job: &Job<'_>,
    prefix: &[u8],
    senders: &[SyncSender<Arc<Tracked>>],
    budget: &Arc<Budget>,
    progress: &dyn Progress,
) -> std::result::Result<(), Failure> {
    let mut seq = 0u64;
    let mut send = |entry: Entry| -> std::result::Result<(), Failure> {
        let weight = entry.weight();
        budget.acquire(weight);
        seq += 1;
        let tracked = Arc::new(Tracked {
            seq: seq - 1,
            entry,
            weight,
            budget: Arc::clone(budget),
        });
        for tx in senders {
            tx.send(Arc::clone(&tracked)).map_err(|_| None)?;
        }
        Ok(())
    };
    // archive.c: a prefix ending in `/` is itself a directory entry, written first
    // with repeated trailing slashes collapsed; its pax name uses the root tree id.
    if prefix.last() == Some(&b'/') {
        let mut len = prefix.len();
        while len > 1 && prefix[len - 2] == b'/' {
            len -= 1;
        }
        send(Entry {
            path: prefix[..len].to_vec(),
            kind: super::entry::Kind::Dir,
            mode: 0o040777,
            oid: job.tree.id(),
            data: Arc::default(),
            streamed: false,
            diff_binary: None,
        })?;
    }
    progress.start(job.plan.len() as u64);
    let (mut entries, mut bytes) = (0u64, 0u64);
    for planned in &job.plan {
        let entry = reader.entry(planned).map_err(Some)?;
        entries += 1;
        bytes += entry.data.len() as u64;
        send(entry)?;
        if entries % 64 == 0 {
            progress.update(entries, bytes);
        }
    }
    progress.update(entries, bytes);
    Ok(())
}

type Produced = Vec<(Option<Format>, Written)>;

fn tar_thread(
    rx: Receiver<Arc<Tracked>>,
    mut fanout: Fanout,
    commit_hex: &str,
    time: i64,
    umask: u32,
) -> std::result::Result<Produced, Failure> {
    let result = (|| -> io::Result<()> {
        let mut tar = TarWriter::new(&mut fanout, commit_hex, time, umask)?;
        for tracked in rx {
            tar.entry(&tracked.entry)?;
        }
        tar.finish()?;
        Ok(())
    })();
    if let Err(e) = result {
        return Err(fanout.failure.take().unwrap_or_else(|| {
            Some(Error::ArchiveOutput {
                format: "tar".into(),
                source: e,
            })
        }));
    }
    fanout.finish()
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8)
}

/// git's internal gzip: zlib level 6, no name, mtime 0, OS byte 3 (Unix).
fn gzip(
    format: Format,
    rx: Receiver<Arc<Vec<u8>>>,
    sink: Box<dyn Write + Send + '_>,
    digests: bool,
) -> std::result::Result<Produced, Failure> {
    let fail = |source| {
        Some(Error::ArchiveOutput {
            format: format.to_string(),
            source,
        })
    };
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Hashing::new(sink, digests), flate2::Compression::new(6));
    for chunk in rx {
        gz.write_all(&chunk).map_err(fail)?;
    }
    let written = gz.finish().map_err(fail)?.finish().map_err(fail)?;
    Ok(vec![(Some(format), written)])
}

fn split_bz2(rx: &Receiver<Arc<Vec<u8>>>, jobs: &SyncSender<(u64, Vec<u8>)>) {
    let mut splitter = bz2::Splitter::default();
    let mut seq = 0u64;
    let mut send = |block: Vec<u8>| {
        seq += 1;
        jobs.send((seq - 1, block))
            .map_err(|_| io::Error::other("bzip2 workers stopped"))
    };
    for chunk in rx {
        if splitter.feed(&chunk, &mut send).is_err() {
            return;
        }
    }
    let _ = splitter.finish(&mut send);
}

type Bz2Job = (u64, io::Result<Vec<u8>>);

fn bz2_worker(jobs: &Mutex<Receiver<(u64, Vec<u8>)>>, done: &SyncSender<Bz2Job>) {
    let mut arena = bz2::Arena::default();
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((seq, block)) = next else { return };
        if done
            .send((seq, bz2::compress_block(block, &mut arena)))
            .is_err()
        {
            return;
        }
    }
}

fn assemble_bz2(
    done: Receiver<Bz2Job>,
    sink: Box<dyn Write + Send + '_>,
    digests: bool,
) -> std::result::Result<Produced, Failure> {
    let fail = |source| {
        Some(Error::ArchiveOutput {
            format: "tar.bz2".into(),
            source,
        })
    };
    let mut assembler = bz2::Assembler::new(Hashing::new(sink, digests));
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0u64;
    for (seq, block) in done {
        waiting.insert(seq, block);
        while let Some(block) = waiting.remove(&next) {
            assembler.block(&block.map_err(fail)?).map_err(fail)?;
            next += 1;
        }
    }
    if !waiting.is_empty() {
        return Err(None);
    }
    let written = assembler.finish().map_err(fail)?.finish().map_err(fail)?;
    Ok(vec![(Some(Format::TarBz2), written)])
}

type ZipJob = (Arc<Tracked>, io::Result<zip::Prepared>);

fn zip_worker(jobs: &Mutex<Receiver<Arc<Tracked>>>, done: &SyncSender<ZipJob>) {
    let mut deflater = zip::Deflater::default();
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(tracked) = next else { return };
        let prepared = zip::prepare(&tracked.entry, &mut deflater);
        if done.send((tracked, prepared)).is_err() {
            return;
        }
    }
}

fn zip_thread(
    done: Receiver<ZipJob>,
    sink: Hashing<Box<dyn Write + Send + '_>>,
    commit_hex: &str,
    time: i64,
    local_time: chrono::NaiveDateTime,
    warnings: &Mutex<Vec<String>>,
) -> std::result::Result<Produced, Failure> {
    let fail = |source| {
        Some(Error::ArchiveOutput {
            format: "zip".into(),
            source,
        })
    };
    let mut writer = ZipWriter::new(sink, commit_hex, time, local_time);
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0u64;
    for (tracked, prepared) in done {
        waiting.insert(tracked.seq, (tracked, prepared));
        while let Some((tracked, prepared)) = waiting.remove(&next) {
            writer
                .entry(&tracked.entry, prepared.map_err(fail)?)
                .map_err(fail)?;
            next += 1;
        }
    }
    if !waiting.is_empty() {
        // Only when the producer stopped early; its error is the one to report.
        return Err(None);
    }
    warnings
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .append(&mut writer.warnings);
    let hashing = writer.finish().map_err(fail)?;
    Ok(vec![(Some(Format::Zip), hashing.finish().map_err(fail)?)])
}

/// An entry in flight; gives its bytes back to the budget when the last writer is done.
struct Tracked {
    /// Position in the archive, so parallel workers can be put back in order.
    seq: u64,
    entry: Entry,
    weight: usize,
    budget: Arc<Budget>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.budget.release(self.weight);
    }
}

#[derive(Default)]
struct Budget {
    /// Bytes in flight, and how many producers wait for room (a release wakes them
    /// only then: a wake is a system call, and there is one release per entry).
    used: Mutex<(usize, usize)>,
    freed: Condvar,
}

impl Budget {
    fn acquire(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        // One entry larger than the budget still goes, alone.
        while used.0 > 0 && used.0 + n > BUDGET {
            used.1 += 1;
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
            used.1 -= 1;
        }
        used.0 += n;
    }

    fn release(&self, n: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.0 = used.0.saturating_sub(n);
        if used.1 > 0 {
            self.freed.notify_all();
        }
    }
}

/// The tar stream's destinations: the .tar sink, the compressor threads, the digest.
struct Fanout<'a> {
    raw: Option<Hashing<Box<dyn Write + Send + 'a>>>,
    compressors: Vec<SyncSender<Arc<Vec<u8>>>>,
    hash: Option<Sha256>,
    size: u64,
    buf: Vec<u8>,
    failure: Option<Failure>,
}

impl Fanout<'_> {
    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        if let Some(hash) = &mut self.hash {
            hash.update(&chunk);
        }
        self.size += chunk.len() as u64;
        if let Some(raw) = &mut self.raw {
            if let Err(source) = raw.write_all(&chunk) {
                self.failure = Some(Some(Error::ArchiveOutput {
                    format: "tar".into(),
                    source,
                }));
                return Err(io::Error::other("tar output failed"));
            }
        }
        let chunk = Arc::new(chunk);
        for tx in &self.compressors {
            if tx.send(Arc::clone(&chunk)).is_err() {
                self.failure = Some(None);
                return Err(io::Error::other("a compressor stopped"));
            }
        }
        Ok(())
    }

    fn finish(mut self) -> std::result::Result<Produced, Failure> {
        if self.flush_chunk().is_err() {
            return Err(self.failure.take().flatten());
        }
        let mut out = Vec::new();
        if let Some(raw) = self.raw.take() {
            let w = raw.finish().map_err(|source| {
                Some(Error::ArchiveOutput {
                    format: "tar".into(),
                    source,
                })
            })?;
            out.push((Some(Format::Tar), w));
        }
        if let Some(hash) = self.hash.take() {
            out.push((
                None,
                Written {
                    format: Format::Tar,
                    sha256: crate::digest::hex(&hash.finalize()),
                    size: self.size,
                },
            ));
        }
        Ok(out)
    }
}

impl Write for Fanout<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush_chunk()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts (and, when digests are wanted, hashes) what passes through to the sink.
struct Hashing<W: Write> {
    inner: W,
    hash: Option<Sha256>,
    size: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W, digest: bool) -> Self {
        Hashing {
            inner,
            hash: digest.then(Sha256::new),
            size: 0,
        }
    }

    fn finish(mut self) -> io::Result<Written> {
        self.inner.flush()?;
        Ok(Written {
            format: Format::Tar,
            sha256: self
                .hash
                .map(|h| crate::digest::hex(&h.finalize()))
                .unwrap_or_default(),
            size: self.size,
        })
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        if let Some(hash) = &mut self.hash {
            hash.update(&data[..n]);
        }
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
