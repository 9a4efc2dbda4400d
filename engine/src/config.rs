//! Job configuration and the engine's error type.
//!
//! Base layer: imports only [`metrics`](crate::metrics) (the collector a job publishes into).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::metrics::{Collector, DEFAULT_SNAPSHOT_INTERVAL};

/// Default number of records per batch.
pub const DEFAULT_BATCH_SIZE: usize = 1024;
/// Default capacity of one exchange ring, in batches.
pub const DEFAULT_RING_CAPACITY: usize = 16;
/// Default time a partial batch may wait before it is flushed.
pub const DEFAULT_LATENCY_BUDGET: Duration = Duration::from_millis(1);

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
    /// How long a partial batch (or a watermark) may wait in an exchange before it is sent.
    pub latency_budget: Duration,
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
