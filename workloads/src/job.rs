//! What the runner asks an engine to do ([`RunSpec`]) and the handle of a running job
//! ([`Job`]): live snapshots through a [`Collector`], a stop request, and the final
//! [`RunReport`].
//!
//! Every engine adapter (weir, timely, differential, flink, sim) starts a job the same way, so
//! the console and `weir compare` treat them alike.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use weir_engine::Collector;

use crate::report::RunReport;

/// Errors from starting or running a job.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The request itself is wrong (a flag value, a combination of flags).
    #[error("{0}")]
    Config(String),
    /// An engine needs something installed first; the message names the command that does it.
    #[error("{0}")]
    Setup(String),
    /// The job failed while running (a worker panicked, the JVM exited, ...).
    #[error("{0}")]
    Failed(String),
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Result type of the runner.
pub type Result<T, E = RunError> = std::result::Result<T, E>;

macro_rules! name_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used on the command line and in reports.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = RunError;
            fn from_str(s: &str) -> Result<Self> {
                $name::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
                    let valid: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    RunError::Config(format!("unknown {} '{s}'; valid values: {}", $what, valid.join(", ")))
                })
            }
        }
    };
}

name_enum!(
    /// A benchmark workload.
    Workload, "workload" {
        /// Nexmark (auctions, persons, bids).
        Nexmark = "nexmark",
        /// The Yahoo Streaming Benchmark.
        Ysb = "ysb",
    }
);

name_enum!(
    /// An engine that can run a workload.
    EngineKind, "engine" {
        /// weir-engine, in process.
        Weir = "weir",
        /// timely dataflow, in process (or across processes in cluster mode).
        Timely = "timely",
        /// differential dataflow, in process.
        Differential = "differential",
        /// Apache Flink in a JVM subprocess.
        Flink = "flink",
        /// A deterministic fake engine for tests and demos of the console.
        Sim = "sim",
    }
);

name_enum!(
    /// How sources obtain their events (BENCHMARKING.md).
    SourceMode, "source mode" {
        /// Events are generated on the fly inside the job.
        Generate = "generate",
        /// Events are generated into per-worker memory before the clock starts.
        Replay = "replay",
    }
);

name_enum!(
    /// The form in which a YSB source hands its events to the query (WORKLOADS.md section 3.3).
    #[derive(Default)]
    EventFormat, "event format" {
        /// In-memory records (the default).
        #[default]
        Records = "records",
        /// JSON lines, as the original benchmark reads them from Kafka: the query parses them
        /// inside the job (weir only).
        Json = "json",
    }
);

/// How long a run lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunLength {
    /// A fixed number of events (the digest is only comparable between equal counts).
    Events(u64),
    /// Until this much wall time has passed (the input then ends at whatever event was reached).
    Duration(Duration),
}

/// Everything an engine needs to run one query.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// The workload.
    pub workload: Workload,
    /// Query name (`q0`..`q12`, `ysb`).
    pub query: String,
    /// The engine.
    pub engine: EngineKind,
    /// Worker threads (Flink: parallelism).
    pub workers: usize,
    /// Pin worker *i* to core *i*.
    pub pinning: bool,
    /// How long the run lasts.
    pub length: RunLength,
    /// Offered rate in events/s of wall time; `None` = as fast as possible.
    pub rate: Option<u64>,
    /// Events per second of event time. When `rate` is set it must equal it (windows then close
    /// in real time).
    pub event_rate: u64,
    /// Where sources get events.
    pub source: SourceMode,
    /// The form of the source's events (YSB only; Nexmark runs use [`EventFormat::Records`]).
    pub format: EventFormat,
    /// Write result rows as JSON lines here.
    pub output: Option<PathBuf>,
    /// The command line, recorded in the report.
    pub command: String,
    /// Flink only: the REST address (`HOST:PORT`) of the Flink cluster to run on; `None` runs
    /// a local MiniCluster.
    pub flink_cluster: Option<String>,
}

/// A stop request shared between the runner and a job.
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal that has not been raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the job to end its input now; windows still fire and the report is still produced.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether a stop was requested.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A running job.
#[derive(Debug)]
pub struct Job {
    /// Live metrics, published by the engine every snapshot interval.
    pub collector: Collector,
    /// Raise to end the input early.
    pub stop: StopSignal,
    handle: JoinHandle<Result<RunReport>>,
    /// Dropped with the job (an adapter's clean-up, e.g. ending an external process).
    guard: Option<Box<dyn std::any::Any + Send>>,
}

impl Job {
    /// Wraps a thread that drives the engine and returns its report.
    pub fn new(
        collector: Collector,
        stop: StopSignal,
        handle: JoinHandle<Result<RunReport>>,
    ) -> Self {
        Self {
            collector,
            stop,
            handle,
            guard: None,
        }
    }

    /// Keeps `guard` alive as long as the job: dropping the [`Job`] (or finishing
    /// [`Job::wait`]) drops it. Adapters of external engines use it to end their process when
    /// the job is abandoned.
    #[must_use]
    pub fn with_guard(mut self, guard: impl std::any::Any + Send) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// Whether the job's driver has returned.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for the job and returns its report.
    pub fn wait(self) -> Result<RunReport> {
        self.handle.join().unwrap_or_else(|panic| {
            Err(RunError::Failed(format!(
                "the job's driver panicked: {}",
                panic_message(&*panic)
            )))
        })
    }
}

/// The message of a caught panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic with a non-string payload)".to_string()
    }
}
