//! The state of one timely run that the harness, the sources, the control dataflow and the
//! pinning share: per-worker counters ([`WorkerCell`]), the process-wide [`Shared`] (stop and
//! abort flags, the watermark log behind window latency, the merged latency histogram), what a
//! worker hands back ([`WorkerResult`]) and the context given to a query's builder ([`Ctx`]).
//!
//! A base module of the timely adapter: it imports nothing from the other `timely/` files.

use std::collections::VecDeque;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use weir_engine::OperatorMetrics;

use crate::catalog::Latency;
use crate::digest::Digest;
use crate::inputs::SideInput;
use crate::job::{RunLength, StopSignal};
use crate::split::WATERMARK_END;

/// Events a source emits per activation before it yields to the other operators.
pub(crate) const SOURCE_BATCH: usize = 4096;
/// Longest a worker parks before it looks at the stop signal and publishes again.
pub(crate) const PARK_AT_MOST: Duration = Duration::from_millis(20);

/// Version strings of the pinned peer engines (the root `Cargo.toml` pins them exactly).
pub(crate) const TIMELY_VERSION: &str = "0.32.0";
/// See [`TIMELY_VERSION`].
pub(crate) const DIFFERENTIAL_VERSION: &str = "0.26.0";

/// One worker's counters, written by that worker and read by the driver.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerCell {
    /// Set once every worker has built its dataflow: the source may start.
    pub(crate) go: AtomicBool,
    pub(crate) events_in: AtomicU64,
    pub(crate) records_out: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    pub(crate) idle_ns: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// The source's watermark (event-time ms; `u64::MAX` after the end of input).
    pub(crate) watermark: AtomicU64,
    /// The newest event timestamp the source produced.
    pub(crate) max_ts: AtomicU64,
    /// The frontier at this worker's sink (`u64::MAX` once empty).
    pub(crate) sink_frontier: AtomicU64,
    /// The query's operators as timely's log shows them (`oplog.rs`), copied by the worker
    /// on the publish interval; empty when they are not observed.
    pub(crate) operators: Mutex<Vec<OperatorMetrics>>,
}

/// When event time reached a result's time on every source ([`Shared::closed_at`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Closed {
    /// The instant the last source's watermark reached it.
    pub(crate) at: Instant,
    /// Whether a source's end of input is what reached it: the result was fired by the end of
    /// input, and its latency is kept apart from the stream's.
    pub(crate) by_end: bool,
}

/// State shared by the driver and the workers of this process.
pub(crate) struct Shared {
    /// Per local worker.
    pub(crate) workers: Vec<WorkerCell>,
    /// Per local worker: `(watermark, instant)` each time its source's watermark advanced.
    pub(crate) clocks: Vec<Mutex<VecDeque<(u64, Instant)>>>,
    /// When the first source started producing (the job's clock).
    pub(crate) clock_start: OnceLock<Instant>,
    /// Result latencies merged from the sinks, ns.
    pub(crate) latency: Mutex<Histogram<u64>>,
    /// Latencies of the results closed by the end of input, merged from the sinks, ns.
    pub(crate) end_latency: Mutex<Histogram<u64>>,
    /// Whether latency is observable in this run.
    pub(crate) latency_observable: bool,
    /// How latency is observed.
    pub(crate) latency_rule: Latency,
    /// Set when a worker failed: every worker leaves its loop.
    pub(crate) abort: AtomicBool,
    /// Set when the failure happened in this process (cluster mode tells the others).
    pub(crate) failed_here: AtomicBool,
    pub(crate) failure: Mutex<Option<String>>,
    /// This process's index in cluster mode.
    pub(crate) process: Option<usize>,
    /// Per local worker: the core it is pinned to, if pinning was asked for and is possible.
    pub(crate) pin_to: Vec<Option<core_affinity::CoreId>>,
    /// Local workers that were pinned.
    pub(crate) pinned: AtomicUsize,
    /// Failure injection (hidden, for tests): local worker 0's source panics after producing
    /// this many events.
    pub(crate) panic_after_events: Option<u64>,
    /// Set when a source ended before its split did (stop, duration limit, failure).
    pub(crate) stopped_early: AtomicBool,
    /// Raised by the user (or the duration limit): sources end their input.
    pub(crate) stop: StopSignal,
    /// The run's length.
    pub(crate) length: RunLength,
    /// Paced emission rate, events/s of wall time.
    pub(crate) rate: Option<u64>,
    /// Whether sources replay pre-generated events.
    pub(crate) replay: bool,
    /// Whether result rows are kept for `--output`.
    pub(crate) keep_rows: bool,
    /// Global index of this process's first worker.
    pub(crate) first_worker: usize,
    /// Whether workers observe their operators through timely's log.
    pub(crate) operator_metrics: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn local(&self, worker_index: usize) -> usize {
        worker_index - self.first_worker
    }

    pub(crate) fn elapsed_ns(&self) -> u64 {
        self.clock_start
            .get()
            .map_or(0, |s| s.elapsed().as_nanos() as u64)
    }

    /// The instant at which every source's watermark had reached `time`, if all have, and
    /// whether the end of input is what closed it (some source's watermark stayed below
    /// `time` until its input ended).
    pub(crate) fn closed_at(&self, time: u64) -> Option<Closed> {
        let mut latest: Option<Closed> = None;
        for clock in &self.clocks {
            let log = clock.lock().unwrap_or_else(PoisonError::into_inner);
            let i = log.partition_point(|&(wm, _)| wm < time);
            let &(wm, at) = log.get(i)?;
            let by_end = wm == WATERMARK_END;
            latest = Some(latest.map_or(Closed { at, by_end }, |l| Closed {
                at: l.at.max(at),
                by_end: l.by_end || by_end,
            }));
        }
        latest
    }

    /// Drops watermark log entries no sink can ask for any more.
    pub(crate) fn prune_clocks(&self) {
        let floor = self
            .workers
            .iter()
            .map(|w| w.sink_frontier.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        for clock in &self.clocks {
            let mut log = clock.lock().unwrap_or_else(PoisonError::into_inner);
            // Keep the first entry at or past the floor; everything before it is unreachable.
            let keep_from = log.partition_point(|&(wm, _)| wm < floor);
            log.drain(..keep_from);
        }
    }

    /// Records a failure of this process (the first one wins) and aborts every local worker.
    pub(crate) fn fail(&self, message: String) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if failure.is_none() {
            *failure = Some(message);
            self.failed_here.store(true, Ordering::Release);
        }
        self.abort.store(true, Ordering::Release);
    }

    /// Records the failure another process of the cluster reported (unless one is recorded).
    pub(crate) fn fail_remote(&self, message: &str) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert_with(|| {
            format!("another process of the timely cluster failed, so this one stopped: {message}")
        });
        self.abort.store(true, Ordering::Release);
    }

    /// Whether a failure was recorded (here or reported by another process).
    pub(crate) fn aborted(&self) -> bool {
        self.abort.load(Ordering::Acquire)
    }

    /// Whether the recorded failure happened in this process.
    pub(crate) fn failed_here(&self) -> bool {
        self.failed_here.load(Ordering::Acquire)
    }

    /// The recorded failure, if any.
    pub(crate) fn failure_message(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// This process's index in cluster mode.
    pub(crate) fn process(&self) -> Option<usize> {
        self.process
    }
}

/// What one worker hands back at the end.
#[derive(Debug, Default)]
pub(crate) struct WorkerResult {
    pub(crate) digest: Digest,
    /// `(json, diff)` of every result update, when `--output` was asked for.
    pub(crate) rows: Vec<(String, i64)>,
    pub(crate) events: u64,
}

/// Per-worker context given to a query's dataflow builder.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    /// What the query reads or writes besides its events.
    pub(crate) files: QueryFiles,
}

/// The files of a query besides its events, resolved before the job starts.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueryFiles {
    /// q13's side table.
    pub(crate) side_input: Option<&'static SideInput>,
    /// The directory q10 writes its partitions under.
    pub(crate) sink_dir: Option<Arc<SinkDir>>,
}

/// The directory q10 writes under for one run. A temporary one (the run was given no
/// `--sink-dir`) is removed, files and all, when its last holder drops it: after the job's
/// workers have ended, as `RunSpec::sink_dir` promises.
#[derive(Debug)]
pub(crate) struct SinkDir {
    path: PathBuf,
    temporary: bool,
}

impl SinkDir {
    /// `path`, removed on drop when `temporary`.
    pub(crate) fn new(path: PathBuf, temporary: bool) -> Self {
        Self { path, temporary }
    }
}

impl Deref for SinkDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl Drop for SinkDir {
    fn drop(&mut self) {
        if self.temporary {
            // Nothing to report to: the run is over, and a leftover directory in the temp dir
            // is harmless.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A worker-local slot the sink fills and the worker loop reads at the end.
pub(crate) type ResultSlot = std::rc::Rc<std::cell::RefCell<WorkerResult>>;
