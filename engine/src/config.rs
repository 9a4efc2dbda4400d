//! Job configuration and the engine's error type.
//!
//! [`Config::validate`] also refuses, before any thread starts, a worker count whose estimated
//! memory ([`Config::estimated_memory`]: a fixed cost per worker and a small one per pair of
//! workers, see [`MEMORY_PER_WORKER`] and [`MEMORY_PER_PAIR`]) exceeds what the machine has
//! available, naming the largest count that fits.
//!
//! Base layer: imports only [`metrics`](crate::metrics) (the collector a job publishes into) and
//! [`time`](crate::time) (the timestamp type).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::metrics::{Collector, DEFAULT_SNAPSHOT_INTERVAL};
use crate::time::Timestamp;

/// Default number of records per batch.
pub const DEFAULT_BATCH_SIZE: usize = 1024;
/// Default [`Config::source_alignment_polls`]: an aligned source may always run four of its
/// own polls ahead of the slowest peer.
pub const DEFAULT_SOURCE_ALIGNMENT_POLLS: u32 = 4;
/// Default capacity of one exchange ring, in batches.
pub const DEFAULT_RING_CAPACITY: usize = 16;
/// Default time a partial batch may wait before it is flushed.
pub const DEFAULT_LATENCY_BUDGET: Duration = Duration::from_millis(1);
/// Default time an updating operator collects its changes before emitting them
/// ([`Config::mini_batch`]).
pub const DEFAULT_MINI_BATCH: Duration = Duration::from_millis(10);
/// Resident memory one worker needs before many records flow: its thread (stack pages
/// touched, kernel task, allocator heap), build context, counters, latency histograms and
/// metrics. Measured: the peak RSS of `weir run nexmark --query q5 --events 1000` grows by
/// 2.05 MiB per worker from 16 to 256 workers (`scripts/rss-by-workers.sh`, docs/RESULTS.md,
/// "Memory by worker count").
pub const MEMORY_PER_WORKER: u64 = 2 * 1024 * 1024;
/// Resident memory per ordered pair of workers before any record flows: on each exchange edge
/// (a dataflow has a few; this assumes four) the producer's empty partial-batch, stamp and ring
/// slots (40 bytes), plus the snapshots' worker-by-worker fill matrix (4 bytes per copy, a few
/// copies). Rings and batches come on top, by need, as records flow.
pub const MEMORY_PER_PAIR: u64 = 4 * 40 + 4 * 4;

/// How to run a job: worker count, pinning, ring and batch sizes, metrics.
///
/// Build it with [`Config::new`] and the `with_*` methods; [`crate::execute`] validates it and
/// reports a bad value as [`EngineError::Config`] naming the setting.
///
/// ```
/// let config = weir_engine::Config::new(2).with_pinning(false).with_batch_size(256);
/// assert_eq!(config.workers, 2);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Number of worker threads (at least 1).
    pub workers: usize,
    /// Pin worker *i* to a core (core *i*, or `cores[i]`). Skipped with a warning when there are
    /// more workers than cores.
    pub pinning: bool,
    /// Explicit core ids for the workers, one per worker; `None` means cores `0..workers`.
    pub cores: Option<Vec<usize>>,
    /// Capacity of each exchange ring, in batches (at least 1).
    pub ring_capacity: usize,
    /// Records per batch (at least 1): sources are polled for at most this many, and exchange
    /// sends a batch once it holds this many.
    pub batch_size: usize,
    /// How long a partial batch may wait in an exchange before it is sent (a watermark never
    /// waits: it goes on at once, after the partial batches it must follow).
    pub latency_budget: Duration,
    /// How long the updating operators ([`crate::updating`]: `table_aggregate`, `top_n`,
    /// `keep_last`) collect changes before emitting them: a key changed many times within it
    /// emits one retraction and one insertion (as Flink's `table.exec.mini-batch.allow-latency`).
    /// Mini-batches end at multiples of the interval on the job clock, the same moments on every
    /// worker. Zero emits once per input batch.
    pub mini_batch: Duration,
    /// Source alignment: when set, no worker's source runs more than this much event time
    /// (in the sources' timestamp unit) ahead of the same source on the slowest worker; a
    /// source ahead waits (its worker parks when nothing else moves) until its peers catch
    /// up. It keeps each key's rows, which come from every worker's share of the input,
    /// arriving together: fewer updates split across mini-batches, less window state held for
    /// a late worker. Every worker must build the same sources in the same order (as with
    /// exchanges). `None` (the default): each source runs at its own pace.
    pub source_alignment: Option<Timestamp>,
    /// With source alignment, the lead a source may always have, in its own polls: the drift
    /// is widened to this many times the event time one of its polls covers (smoothed over its
    /// recent polls) when that is more. Without it, an input sparse in event time (a replay of
    /// hours of events at full speed, where one poll's batch spans seconds) would hold the
    /// workers to taking turns poll by poll, each waiting for the other's wake-up; a drift of
    /// a few polls keeps the rows of a key as close together, in batches, as a dense input's
    /// drift does. 0 keeps the drift exact. Default [`DEFAULT_SOURCE_ALIGNMENT_POLLS`].
    pub source_alignment_polls: u32,
    /// Interval between two metrics snapshots published to the collector.
    pub snapshot_interval: Duration,
    /// Where snapshots go; `None` keeps them internal.
    pub collector: Option<Collector>,
    /// Measure time (busy / idle / backpressured), latency and publish snapshots. Record counters
    /// are kept either way (they are what the accounting checks read).
    pub metrics: bool,
    /// When this flag becomes `true`, sources end early (as if their input ended): windows fire,
    /// results drain, and the job ends normally.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Config {
    /// A configuration with `workers` workers, pinning on and every other setting at its default.
    pub fn new(workers: usize) -> Self {
        Self {
            workers,
            pinning: true,
            cores: None,
            ring_capacity: DEFAULT_RING_CAPACITY,
            batch_size: DEFAULT_BATCH_SIZE,
            latency_budget: DEFAULT_LATENCY_BUDGET,
            mini_batch: DEFAULT_MINI_BATCH,
            source_alignment: None,
            source_alignment_polls: DEFAULT_SOURCE_ALIGNMENT_POLLS,
            snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
            collector: None,
            metrics: true,
            stop: None,
        }
    }

    /// Turns pinning on or off.
    #[must_use]
    pub fn with_pinning(mut self, pinning: bool) -> Self {
        self.pinning = pinning;
        self
    }

    /// Pins the workers to these cores (one per worker).
    #[must_use]
    pub fn with_cores(mut self, cores: Vec<usize>) -> Self {
        self.cores = Some(cores);
        self
    }

    /// Sets the exchange ring capacity in batches.
    #[must_use]
    pub fn with_ring_capacity(mut self, batches: usize) -> Self {
        self.ring_capacity = batches;
        self
    }

    /// Sets the batch size in records.
    #[must_use]
    pub fn with_batch_size(mut self, records: usize) -> Self {
        self.batch_size = records;
        self
    }

    /// Sets the latency budget for partial batches.
    #[must_use]
    pub fn with_latency_budget(mut self, budget: Duration) -> Self {
        self.latency_budget = budget;
        self
    }

    /// Sets how long the updating operators collect changes ([`Config::mini_batch`]).
    #[must_use]
    pub fn with_mini_batch(mut self, interval: Duration) -> Self {
        self.mini_batch = interval;
        self
    }

    /// Aligns the sources to at most `max_drift` of event time apart
    /// ([`Config::source_alignment`]).
    #[must_use]
    pub fn with_source_alignment(mut self, max_drift: Timestamp) -> Self {
        self.source_alignment = Some(max_drift);
        self
    }

    /// Sets the lead, in polls, an aligned source may always have
    /// ([`Config::source_alignment_polls`]).
    #[must_use]
    pub fn with_source_alignment_polls(mut self, polls: u32) -> Self {
        self.source_alignment_polls = polls;
        self
    }

    /// Sets the metrics snapshot interval.
    #[must_use]
    pub fn with_snapshot_interval(mut self, interval: Duration) -> Self {
        self.snapshot_interval = interval;
        self
    }

    /// Publishes snapshots into `collector`.
    #[must_use]
    pub fn with_collector(mut self, collector: Collector) -> Self {
        self.collector = Some(collector);
        self
    }

    /// Turns time measurement, latency and snapshot publishing on or off.
    #[must_use]
    pub fn with_metrics(mut self, metrics: bool) -> Self {
        self.metrics = metrics;
        self
    }

    /// Ends the sources early once `stop` becomes `true`.
    #[must_use]
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Checks every setting; `available_cores` is the list of core ids this process may use.
    pub(crate) fn validate(&self, available_cores: &[usize]) -> Result<(), EngineError> {
        if self.workers == 0 {
            return Err(EngineError::config(
                "workers",
                "must be at least 1 (use one worker per core for the best throughput)",
            ));
        }
        if self.ring_capacity == 0 {
            return Err(EngineError::config(
                "ring_capacity",
                "must be at least 1 batch (16 is a good default)",
            ));
        }
        if self.batch_size == 0 {
            return Err(EngineError::config(
                "batch_size",
                "must be at least 1 record (1024 is a good default)",
            ));
        }
        if self.snapshot_interval.is_zero() {
            return Err(EngineError::config(
                "snapshot_interval",
                "must be longer than zero (100 ms is the default)",
            ));
        }
        if self.source_alignment.is_some_and(|drift| drift < 0) {
            return Err(EngineError::config(
                "source_alignment",
                "must be a drift of at least 0 (sources at the same event time may both run)",
            ));
        }
        self.check_memory()?;
        if let Some(cores) = &self.cores {
            if cores.len() != self.workers {
                return Err(EngineError::config(
                    "cores",
                    format!(
                        "lists {} cores for {} workers; give exactly one core per worker",
                        cores.len(),
                        self.workers
                    ),
                ));
            }
            if let Some(missing) = cores.iter().find(|c| !available_cores.contains(c)) {
                return Err(EngineError::config(
                    "cores",
                    format!(
                        "core {missing} does not exist on this machine (available: {available_cores:?})"
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Config {
    /// Resident memory the job needs before any record flows, by the worker count alone
    /// ([`MEMORY_PER_WORKER`] per worker, [`MEMORY_PER_PAIR`] per ordered pair of workers).
    pub fn estimated_memory(&self) -> u64 {
        estimated_memory(self.workers)
    }

    /// Refuses a worker count whose [`Config::estimated_memory`] exceeds what the machine has
    /// available ([`available_memory`]), naming the largest count that fits. [`crate::execute`]
    /// runs it; callers that want to refuse a job before doing anything else can too.
    ///
    /// # Errors
    /// [`EngineError::Config`] naming `workers`.
    pub fn check_memory(&self) -> Result<(), EngineError> {
        self.check_memory_in(available_memory())
    }

    /// As [`Config::check_memory`] with `available` bytes (unknown: no check).
    fn check_memory_in(&self, available: Option<u64>) -> Result<(), EngineError> {
        let Some(available) = available else {
            return Ok(());
        };
        let needed = self.estimated_memory();
        if needed <= available {
            return Ok(());
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Err(EngineError::config(
            "workers",
            format!(
                "{} workers need about {} of memory before any record flows ({} per worker \
                 and {} bytes per pair of workers for the exchanges), but this machine has {} \
                 available: use at most {} workers (this machine has {cores} cores; one \
                 worker per core is the usual choice)",
                self.workers,
                bytes(needed),
                bytes(MEMORY_PER_WORKER),
                MEMORY_PER_PAIR,
                bytes(available),
                max_workers(available),
            ),
        ))
    }
}

fn estimated_memory(workers: usize) -> u64 {
    let w = workers as u64;
    w.saturating_mul(MEMORY_PER_WORKER)
        .saturating_add(w.saturating_mul(w).saturating_mul(MEMORY_PER_PAIR))
}

/// The largest worker count whose estimated memory fits in `available` bytes.
pub(crate) fn max_workers(available: u64) -> usize {
    // Start from the root of the quadratic, then correct for rounding.
    let (a, b) = (MEMORY_PER_WORKER as f64, MEMORY_PER_PAIR as f64);
    let mut w = ((-a + (a * a + 4.0 * b * available as f64).sqrt()) / (2.0 * b)) as usize;
    while w > 0 && estimated_memory(w) > available {
        w -= 1;
    }
    while estimated_memory(w + 1) <= available {
        w += 1;
    }
    w
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Memory this process may still use, bytes: the kernel's `MemAvailable`, lowered to the
/// room left under a cgroup (v2) memory limit when there is one; `None` when unknown.
pub fn available_memory() -> Option<u64> {
    let mut available = proc_kib("/proc/meminfo", "MemAvailable:")? * 1024;
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(format!("/sys/fs/cgroup/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    if let (Some(max), Some(current)) = (read("memory.max"), read("memory.current")) {
        available = available.min(max.saturating_sub(current));
    }
    Some(available)
}

/// The resident memory of this process in bytes (`VmRSS` of `/proc/self/status`); `None` where
/// that file cannot be read.
pub fn resident_memory() -> Option<u64> {
    Some(proc_kib("/proc/self/status", "VmRSS:")? * 1024)
}

/// The number on the line starting with `key` of a `/proc` file that counts in kB.
fn proc_kib(path: &str, key: &str) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

impl Default for Config {
    /// One worker per available core.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
    }
}

/// Why a job could not run or did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A configuration value is out of range; `setting` names the [`Config`] field.
    #[error("invalid setting `{setting}`: {message}")]
    Config {
        /// The offending setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A worker panicked (in the build closure or in an operator); the job was stopped.
    #[error("worker {worker} panicked: {message}")]
    WorkerPanicked {
        /// The worker's index.
        worker: usize,
        /// The panic message.
        message: String,
    },
    /// The operating system refused to start a worker thread.
    #[error("could not start worker {worker}: {message}")]
    Spawn {
        /// The worker's index.
        worker: usize,
        /// The OS error.
        message: String,
    },
}

impl EngineError {
    pub(crate) fn config(setting: &'static str, message: impl Into<String>) -> Self {
        Self::Config {
            setting,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, EngineError, estimated_memory, max_workers};

    #[test]
    fn the_largest_count_that_fits_is_named() {
        let available = 4 * 1024 * 1024 * 1024_u64;
        let w = max_workers(available);
        assert!(estimated_memory(w) <= available);
        assert!(estimated_memory(w + 1) > available);
        let refused = Config::new(w + 1).check_memory_in(Some(available));
        match refused {
            Err(EngineError::Config { setting, message }) => {
                assert_eq!(setting, "workers");
                assert!(
                    message.contains(&format!("use at most {w} workers")),
                    "{message}"
                );
                assert!(message.contains("4.0 GiB available"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(Config::new(w).check_memory_in(Some(available)).is_ok());
        assert!(Config::new(1_000_000).check_memory_in(None).is_ok());
    }
}
