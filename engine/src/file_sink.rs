//! The partitioned file sink: every record written as a line to a file of its partition
//! directory, partitions committed by event time (Nexmark q10; Flink's filesystem sink with
//! partition commit, Hive-style `key=value` directories).
//!
//! **Layout.** A record goes to the partition `partition(record) = (P, end)`, a directory
//! `dir_of(P)` under the sink's directory, complete once the frontier reaches `end` (q10: the
//! minute's directory `dt=<day>/hm=<HH:mm>`, complete at the end of the minute). Each worker
//! writes its own file per partition (one writer per worker: no lock on the record path), first
//! under a hidden temporary name `.part-<worker>-<n>.csv.inprogress`, renamed to
//! `part-<worker>-<n>.csv` once the worker's frontier passes `end`.
//!
//! **Commit.** A partition is committed, with an empty `_SUCCESS` file in its directory, once
//! every worker's frontier has passed its `end` and every worker's file of it has been renamed.
//! The workers share a small commit table (a mutex taken once per frontier advance, never per
//! record): each worker's frontier and, per partition not yet committed, its end and the number
//! of files still open. Whichever worker completes the condition writes `_SUCCESS`. At end of
//! input every partition commits.
//!
//! **What it keeps.** Per worker, the open files of the partitions its frontier has not passed
//! (with out-of-order input bounded by `B`, those of the last `B` ms or so); shared, the
//! partitions not yet committed. A partition's entries are freed when it commits.
//!
//! **Records** pass through unchanged once written, so the stream after the sink holds exactly
//! the rows in the files (the run's digest is over them). A record whose partition the worker's
//! frontier has already passed is late: it is not written (the partition may be committed),
//! not passed on, and counted in the worker's `late` metric. A write error does not stop the
//! job from the inside: the first one is kept and [`PartitionedFileSink::finish`] returns it.

use std::fs::{self, File};
use std::hash::Hash;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::operator::{Operator, Output};
use crate::stream::Stream;
use crate::time::{Timestamp, Watermark};
use crate::window::{FastMap, fast_map};

/// The marker file of a committed partition.
pub const SUCCESS_FILE: &str = "_SUCCESS";

/// Buffer of each open file.
const FILE_BUFFER: usize = 64 * 1024;

/// What went wrong with a partitioned file sink's directory or files.
#[derive(Debug, thiserror::Error)]
pub enum FileSinkError {
    /// The sink's directory cannot be created or written to.
    #[error("{dir}: cannot write files there ({source}); give a directory you can write to")]
    Unwritable {
        /// The sink's directory.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing, renaming or committing a file failed during the run.
    #[error("{path}: {action} failed ({source})")]
    Write {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Partitions were left uncommitted (the job ended before its input did).
    #[error("{count} partition(s) were never committed, the first {first}")]
    Uncommitted {
        /// How many.
        count: usize,
        /// The first one's directory.
        first: PathBuf,
    },
}

/// What a finished sink wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileSinkSummary {
    /// Data files written (and renamed to their final names).
    pub files: u64,
    /// Partitions committed (`_SUCCESS` written).
    pub partitions: u64,
    /// Lines written.
    pub rows: u64,
}

/// The commit table the workers share.
#[derive(Debug, Default)]
struct Commits {
    /// Each worker's frontier (grown to the number of workers on first use).
    frontiers: Vec<Timestamp>,
    /// Partitions not yet committed, by `(end, directory)`: files still open.
    pending: std::collections::BTreeMap<(Timestamp, PathBuf), usize>,
    summary: FileSinkSummary,
    error: Option<FileSinkError>,
}

/// A partitioned file sink's directory and shared commit state; attach it to a stream with
/// [`Stream::write_partitioned`] on every worker, call [`PartitionedFileSink::finish`] after
/// the job.
#[derive(Debug, Clone)]
pub struct PartitionedFileSink {
    dir: PathBuf,
    commits: Arc<Mutex<Commits>>,
}

impl PartitionedFileSink {
    /// A sink writing under `dir`, created if missing. Checks that files can be created there
    /// (by creating and removing a hidden probe file), so an unusable directory fails before
    /// the job starts.
    ///
    /// # Errors
    ///
    /// [`FileSinkError::Unwritable`] naming the directory.
    pub fn create(dir: &Path) -> Result<Self, FileSinkError> {
        let unwritable = |source| FileSinkError::Unwritable {
            dir: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(unwritable)?;
        let probe = dir.join(".weir-write-probe");
        File::create(&probe).map_err(unwritable)?;
        fs::remove_file(&probe).map_err(unwritable)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            commits: Arc::default(),
        })
    }

    /// The sink's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// After the job: what was written, or the first error (a write error, or partitions left
    /// uncommitted).
    ///
    /// # Errors
    ///
    /// A [`FileSinkError`] naming the file or partition.
    pub fn finish(&self) -> Result<FileSinkSummary, FileSinkError> {
        let mut commits = self.lock();
        if let Some(error) = commits.error.take() {
            return Err(error);
        }
        if let Some(((_, first), _)) = commits.pending.first_key_value() {
            return Err(FileSinkError::Uncommitted {
                count: commits.pending.len(),
                first: self.dir.join(first),
            });
        }
        Ok(commits.summary)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Commits> {
        // Every update leaves the table consistent, so a panicked worker's lock is usable.
        self.commits.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open data file of a worker.
#[derive(Debug)]
struct OpenFile {
    end: Timestamp,
    partition: PathBuf,
    temp: PathBuf,
    done: PathBuf,
    writer: Option<BufWriter<File>>,
    rows: u64,
}

/// The sink on one worker.
struct FileSinkOperator<T, P, FP, FD, FW> {
    sink: PartitionedFileSink,
    worker: usize,
    peers: usize,
    partition: FP,
    dir_of: FD,
    write: FW,
    open: FastMap<P, OpenFile>,
    /// Files this worker opened so far (their number in the name).
    opened: u64,
    frontier: Timestamp,
    line: String,
    /// The first error of this worker, handed to the shared table at the next frontier.
    error: Option<FileSinkError>,
    _record: std::marker::PhantomData<fn(T)>,
}

impl<T, P, FP, FD, FW> FileSinkOperator<T, P, FP, FD, FW>
where
    P: Hash + Eq + Clone,
    FD: Fn(&P) -> PathBuf,
{
    /// Opens this worker's file of `partition`, registering it in the commit table.
    fn open_file(&mut self, partition: &P, end: Timestamp) -> OpenFile {
        let rel = (self.dir_of)(partition);
        let dir = self.sink.dir.join(&rel);
        let name = format!("part-{}-{}.csv", self.worker, self.opened);
        self.opened += 1;
        let temp = dir.join(format!(".{name}.inprogress"));
        let writer = fs::create_dir_all(&dir)
            .and_then(|()| File::create(&temp))
            .map(|f| BufWriter::with_capacity(FILE_BUFFER, f))
            .map_err(|source| self.fail(&temp, "creating the file", source))
            .ok();
        *self
            .sink
            .lock()
            .pending
            .entry((end, rel.clone()))
            .or_default() += 1;
        OpenFile {
            end,
            partition: rel,
            done: dir.join(name),
            temp,
            writer,
            rows: 0,
        }
    }

    fn fail(&mut self, path: &Path, action: &'static str, source: std::io::Error) {
        self.error.get_or_insert(FileSinkError::Write {
            path: path.to_path_buf(),
            action,
            source,
        });
    }

    /// Flushes and renames the files of the partitions the frontier passed; returns them.
    fn close_passed(&mut self) -> Vec<(Timestamp, PathBuf, u64)> {
        let frontier = self.frontier;
        let passed: Vec<P> = self
            .open
            .iter()
            .filter(|(_, f)| f.end <= frontier)
            .map(|(p, _)| p.clone())
            .collect();
        let mut closed = Vec::with_capacity(passed.len());
        for p in passed {
            let Some(file) = self.open.remove(&p) else {
                continue;
            };
            if let Some(mut writer) = file.writer {
                if let Err(e) = writer.flush() {
                    self.fail(&file.temp, "writing the file", e);
                } else if let Err(e) = fs::rename(&file.temp, &file.done) {
                    self.fail(&file.temp, "renaming the finished file", e);
                }
            }
            closed.push((file.end, file.partition, file.rows));
        }
        closed
    }
}

impl<T, P, FP, FD, FW> Operator for FileSinkOperator<T, P, FP, FD, FW>
where
    T: 'static,
    P: Hash + Eq + Clone + 'static,
    FP: Fn(&T) -> (P, Timestamp) + 'static,
    FD: Fn(&P) -> PathBuf + 'static,
    FW: FnMut(&T, &mut String) + 'static,
{
    type In = T;
    type Out = T;

    fn on_batch(&mut self, input: &mut Vec<T>, out: &mut Output<'_, T>) {
        let mut late = 0;
        for record in input.drain(..) {
            let (partition, end) = (self.partition)(&record);
            if end <= self.frontier {
                late += 1;
                continue;
            }
            if !self.open.contains_key(&partition) {
                let file = self.open_file(&partition, end);
                self.open.insert(partition.clone(), file);
            }
            self.line.clear();
            (self.write)(&record, &mut self.line);
            let Some(file) = self.open.get_mut(&partition) else {
                continue;
            };
            file.rows += 1;
            let written = file
                .writer
                .as_mut()
                .map(|w| w.write_all(self.line.as_bytes()));
            if let Some(Err(e)) = written {
                let path = file.temp.clone();
                self.fail(&path, "writing the file", e);
            }
            out.push(record);
        }
        if late > 0 {
            out.count_late(late);
        }
    }

    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, T>) -> Timestamp {
        self.frontier = self.frontier.max(wm.time);
        let closed = self.close_passed();
        out.set_state_records(self.open.len() as u64);
        let error = self.error.take();
        let root = self.sink.dir.clone();
        let mut commits = self.sink.lock();
        let commits = &mut *commits;
        if commits.frontiers.len() < self.peers {
            commits.frontiers.resize(self.peers, Timestamp::MIN);
        }
        commits.frontiers[self.worker] = self.frontier;
        if let Some(error) = error {
            commits.error.get_or_insert(error);
        }
        for (end, partition, rows) in closed {
            commits.summary.files += 1;
            commits.summary.rows += rows;
            if let Some(open) = commits.pending.get_mut(&(end, partition)) {
                *open -= 1;
            }
        }
        let all = commits
            .frontiers
            .iter()
            .copied()
            .min()
            .unwrap_or(Timestamp::MIN);
        // Partitions in end order: commit those every worker has passed and closed.
        while let Some(entry) = commits.pending.first_entry() {
            let ((end, _), open) = (entry.key(), *entry.get());
            if *end > all || open > 0 {
                break;
            }
            let ((_, partition), _) = entry.remove_entry();
            let marker = root.join(&partition).join(SUCCESS_FILE);
            match File::create(&marker) {
                Ok(_) => commits.summary.partitions += 1,
                Err(source) => {
                    commits.error.get_or_insert(FileSinkError::Write {
                        path: marker,
                        action: "committing the partition",
                        source,
                    });
                }
            }
        }
        wm.time
    }
}

impl<T: Send + 'static> Stream<T> {
    /// Writes every record as a line (`write` appends it, newline included) to this worker's
    /// file of its partition (`partition(record) = (P, end)`, the directory `dir_of(P)` under
    /// `sink`'s), commits partitions as the frontier passes their `end` (see the module docs),
    /// and passes the written records on. Late records are counted, neither written nor passed
    /// on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use weir_engine::file_sink::PartitionedFileSink;
    /// use weir_engine::{Config, IterSource, execute};
    ///
    /// let dir = std::env::temp_dir().join(format!("weir-doc-sink-{}", std::process::id()));
    /// let sink = PartitionedFileSink::create(&dir).expect("writable");
    /// let passed = Arc::new(Mutex::new(0));
    /// let count = Arc::clone(&passed);
    /// execute(Config::new(2).with_pinning(false), |worker| {
    ///     let me = worker.index() as i64;
    ///     let times: Vec<i64> = (0..100).filter(|t| t % 2 == me).collect();
    ///     let count = Arc::clone(&count);
    ///     worker
    ///         .source(IterSource::new(times, |t: &i64| *t, 0))
    ///         .write_partitioned(
    ///             &sink,
    ///             |t| (t / 10, t / 10 * 10 + 10), // ten partitions of 10 ms
    ///             |p| format!("p={p}").into(),
    ///             |t, line| line.push_str(&format!("{t}\n")),
    ///         )
    ///         .for_each(move |_| *count.lock().expect("lock") += 1);
    /// })?;
    /// let summary = sink.finish().expect("no error");
    /// assert_eq!((summary.rows, summary.partitions), (100, 10));
    /// assert!(dir.join("p=3").join("_SUCCESS").exists());
    /// assert_eq!(*passed.lock().expect("lock"), 100);
    /// # std::fs::remove_dir_all(&dir).expect("clean up");
    /// # Ok::<(), weir_engine::EngineError>(())
    /// ```
    pub fn write_partitioned<P>(
        self,
        sink: &PartitionedFileSink,
        partition: impl Fn(&T) -> (P, Timestamp) + 'static,
        dir_of: impl Fn(&P) -> PathBuf + 'static,
        write: impl FnMut(&T, &mut String) + 'static,
    ) -> Stream<T>
    where
        P: Hash + Eq + Clone + 'static,
    {
        let op = FileSinkOperator {
            sink: sink.clone(),
            worker: self.worker_index(),
            peers: self.peers(),
            partition,
            dir_of,
            write,
            open: fast_map(),
            opened: 0,
            frontier: Timestamp::MIN,
            line: String::new(),
            error: None,
            _record: std::marker::PhantomData,
        };
        self.unary("partitioned_file_sink", op)
    }
}
