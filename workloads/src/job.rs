//! What the runner asks an engine to do ([`RunSpec`]) and the handle of a running job
//! ([`Job`]): live snapshots through a [`Collector`], a stop request, and the final
//! [`RunReport`].
//!
//! Every engine adapter (weir, timely, differential, flink, sim) starts a job the same way, so
//! the console and `weir compare` treat them alike.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use weir_engine::Collector;

use crate::catalog::{EngineKind, Query, Support, Workload};
use crate::cluster::{ClusterError, TimelyCluster};
use crate::cpu::{CpuMark, CpuTime};
use crate::names::{UnknownName, name_enum};
use crate::nexmark::NexmarkConfig;
use crate::report::{
    CpuReport, DigestSummary, LatencySummary, Machine, RunReport, SCHEMA_VERSION, Versions,
    WorkerReport,
};
use crate::ysb::YsbConfig;

/// The environment variable that turns timely's and differential's per-operator metrics off
/// (`WEIR_TIMELY_OPERATORS=off`; `on`, the default, or unset keeps them on).
///
/// Those engines' operators are observed through timely's event log (every schedule start and
/// stop, every message on a channel), aggregated on each worker into plain counters. The log has a small cost; switching it off measures that cost (`scripts/
/// overhead.sh -e WEIR_TIMELY_OPERATORS=off`) and leaves the dataflow view empty for those
/// engines. weir's own operator metrics are part of its runtime and are not affected.
pub const TIMELY_OPERATORS_ENV: &str = "WEIR_TIMELY_OPERATORS";

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

impl From<UnknownName> for RunError {
    fn from(e: UnknownName) -> Self {
        RunError::Config(e.to_string())
    }
}

impl From<ClusterError> for RunError {
    fn from(e: ClusterError) -> Self {
        match e {
            ClusterError::Config(message) => RunError::Config(message),
            ClusterError::Io { context, source } => RunError::Io { context, source },
        }
    }
}

impl From<crate::catalog::UnknownQuery> for RunError {
    fn from(e: crate::catalog::UnknownQuery) -> Self {
        RunError::Config(e.to_string())
    }
}

name_enum!(
    /// How sources obtain their events (docs/BENCHMARKING.md).
    SourceMode, "source mode" {
        /// Events are generated on the fly inside the job.
        Generate = "generate",
        /// Events are generated into per-worker memory before the clock starts.
        Replay = "replay",
    }
);

name_enum!(
    /// The form in which a YSB source hands its events to the query (docs/WORKLOADS.md, YSB).
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
    /// The query (and with it the workload).
    pub query: Query,
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
    /// Write result rows as JSON lines here (an updating query: its final table).
    pub output: Option<PathBuf>,
    /// With `output`, an updating query writes its changelog instead of its final table: every
    /// insertion and retraction as a JSON line tagged `"op":"insert"` / `"op":"retract"`
    /// (`--changelog`; weir only).
    pub changelog: bool,
    /// Nexmark events from this file instead of the generator (`--input`: JSON lines or CSV as
    /// `weir gen` writes them, see [`crate::inputs::EventFile`]). The run's length must then be
    /// `Events(n)` with `n` at most the file's events (the first `n` are read), and the source
    /// `Replay` (the file is split into per-worker memory before the clock starts).
    pub input: Option<PathBuf>,
    /// q13's side table from this CSV file (`--side-input`) instead of the built-in one
    /// ([`crate::inputs::SideInput`]).
    pub side_input: Option<PathBuf>,
    /// q10's partitioned file sink writes under this directory (`--sink-dir`), which must not
    /// exist or be empty; `None`: under a fresh directory in the system's temporary directory
    /// that the engine removes after the run (docs/WORKLOADS.md, q10).
    pub sink_dir: Option<PathBuf>,
    /// The command line, recorded in the report.
    pub command: String,
    /// Flink only: the REST address (`HOST:PORT`) of the Flink cluster to run on; `None` runs
    /// a local MiniCluster.
    pub flink_cluster: Option<String>,
    /// timely's cluster mode: this process's place in a multi-process job (timely only).
    pub cluster: Option<TimelyCluster>,
    /// Observe the job's operators for the dataflow view where that costs the engine work it
    /// would not do otherwise: timely's and differential's event log (which
    /// [`TIMELY_OPERATORS_ENV`]`=off` also turns off). weir's operator metrics are part of its
    /// runtime and Flink's come from the metrics it keeps anyway: both report them regardless.
    /// `weir run` sets it (its console and summary show operators); `weir compare`'s runs do
    /// not: nothing there shows operators, and the log costs timely a few per cent of its
    /// throughput (docs/RESULTS.md, "What the profiling tools cost").
    pub operator_metrics: bool,
    /// Flink only, local MiniCluster: start its JVM with
    /// [`PRETOUCH_FLAG`](crate::flink::PRETOUCH_FLAG), which writes the whole heap before the
    /// job starts (`--pretouch`; the engines in the weir process are pre-touched by the `weir`
    /// command itself). Not applied on a Flink cluster, whose task managers the cluster starts.
    pub jvm_pretouch: bool,
}

impl RunSpec {
    /// A spec of `query` on `engine` with the defaults of a short test run: one worker, no
    /// pinning, 100,000 events at the suite's event rate, unpaced, generated, no output, no
    /// input or side-input file, operators observed.
    /// Set fields with struct update syntax (`RunSpec { workers: 2, ..RunSpec::new(..) }`).
    pub fn new(query: Query, engine: EngineKind) -> Self {
        Self {
            query,
            engine,
            workers: 1,
            pinning: false,
            length: RunLength::Events(100_000),
            rate: None,
            event_rate: crate::nexmark::DEFAULT_EVENT_RATE,
            source: SourceMode::Generate,
            format: EventFormat::Records,
            output: None,
            changelog: false,
            input: None,
            side_input: None,
            sink_dir: None,
            command: String::new(),
            cluster: None,
            flink_cluster: None,
            operator_metrics: true,
            jvm_pretouch: false,
        }
    }

    /// The query's workload.
    pub fn workload(&self) -> Workload {
        self.query.workload()
    }

    /// The input size: `--events N`, or `u64::MAX` for a timed run (the input then ends when
    /// the time is up).
    pub fn input_events(&self) -> u64 {
        match self.length {
            RunLength::Events(n) => n,
            RunLength::Duration(_) => u64::MAX,
        }
    }

    /// The Nexmark generator's configuration of this run (input size and event rate).
    ///
    /// # Errors
    /// A [`RunError::Config`] naming the flag when the configuration is invalid.
    pub fn nexmark_config(&self) -> Result<NexmarkConfig> {
        let config = NexmarkConfig {
            events: self.input_events(),
            event_rate: self.event_rate,
            ..NexmarkConfig::default()
        };
        config
            .validate()
            .map_err(|e| RunError::Config(e.to_string()))?;
        Ok(config)
    }

    /// The YSB generator's configuration of this run.
    ///
    /// # Errors
    /// A [`RunError::Config`] naming the flag when the configuration is invalid.
    pub fn ysb_config(&self) -> Result<YsbConfig> {
        let config = YsbConfig {
            events: self.input_events(),
            event_rate: self.event_rate,
            ..YsbConfig::default()
        };
        config
            .validate()
            .map_err(|e| RunError::Config(e.to_string()))?;
        Ok(config)
    }

    /// The events a run processed, the same rule for every engine: the input size when a
    /// bounded input ran to its end (whichever kinds the sources generated: bid-only queries
    /// skip persons and auctions without generating them), else what the sources produced.
    pub fn events_processed(&self, ran_to_end: bool, produced: u64) -> u64 {
        match self.length {
            RunLength::Events(n) if ran_to_end => n,
            _ => produced,
        }
    }
}

/// What an engine measured in one run: everything of the [`RunReport`] that only the engine
/// knows. The report itself is assembled in one place, [`Outcome::into_report`].
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// How many events the input had: the input size when it ran to its end, else what the
    /// sources produced.
    pub events: u64,
    /// Engine start-up (threads, JVM, job submission), seconds; not in `wall_s`.
    pub startup_s: f64,
    /// From the first source starting to the last result reaching the sink, seconds.
    pub wall_s: f64,
    /// Result latency, when the engine observed it (without the results fired by the end of
    /// input).
    pub latency: Option<LatencySummary>,
    /// Latency of the results fired by the end of input, when there were any and the engine
    /// observed them.
    pub end_of_input_latency: Option<LatencySummary>,
    /// The result digest.
    pub digest: DigestSummary,
    /// Records that arrived after their window closed.
    pub late: u64,
    /// Records dropped for any other reason.
    pub dropped: u64,
    /// Per worker, when the engine observes workers.
    pub per_worker: Vec<WorkerReport>,
    /// Workers in the whole job (cluster mode: every process's); `None` = the spec's.
    pub total_workers: Option<usize>,
    /// Whether every worker was pinned to its core.
    pub pinned: bool,
    /// Versions of the engine's own components (weir's are added by the assembly).
    pub versions: EngineVersions,
    /// CPU the engine used (see [`EngineCpu`]).
    pub cpu: EngineCpu,
}

/// Where a run's CPU time comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum EngineCpu {
    /// The engine runs in this process: the job measures the process's threads other than
    /// the one that started it ([`crate::cpu`]).
    #[default]
    InProcess,
    /// The adapter measured it (Flink: its JVM, from when the job ran).
    Measured(CpuTime),
    /// Not measurable (for example a job submitted to a remote cluster).
    Unknown,
}

/// Versions of a peer engine's components, as its adapter knows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineVersions {
    /// timely dataflow crate version.
    pub timely: Option<String>,
    /// differential-dataflow crate version.
    pub differential: Option<String>,
    /// Apache Flink version.
    pub flink: Option<String>,
    /// Java runtime version.
    pub java: Option<String>,
}

impl Outcome {
    /// The [`RunReport`] of `spec`'s run: the spec's settings, the engine's measurements,
    /// throughput, this machine and the versions. Every engine's report is made here.
    pub fn into_report(self, spec: &RunSpec) -> RunReport {
        let wall_s = self.wall_s.max(1e-9);
        let EngineVersions {
            timely,
            differential,
            flink,
            java,
        } = self.versions;
        RunReport {
            schema_version: SCHEMA_VERSION,
            engine: spec.engine.to_string(),
            workload: spec.workload().to_string(),
            query: spec.query.name().to_string(),
            workers: self.total_workers.unwrap_or(spec.workers),
            pinning: self.pinned,
            source: spec.source.to_string(),
            events: self.events,
            rate: spec.rate,
            event_rate: spec.event_rate,
            startup_s: self.startup_s,
            wall_s,
            throughput_eps: self.events as f64 / wall_s,
            latency_ns: self.latency,
            end_of_input_latency_ns: self.end_of_input_latency,
            digest: self.digest,
            late: self.late,
            dropped: self.dropped,
            per_worker: self.per_worker,
            cpu: match self.cpu {
                EngineCpu::Measured(cpu) => Some(CpuReport::new(cpu, self.events)),
                EngineCpu::InProcess | EngineCpu::Unknown => None,
            },
            machine: Machine::detect(),
            versions: Versions {
                timely,
                differential,
                flink,
                java,
                ..Versions::weir()
            },
            command: spec.command.clone(),
        }
    }
}

/// An engine adapter, in the spirit of hyperfine's `Executor`: it names itself, says which
/// queries it runs, and starts a [`RunSpec`] as a [`Job`]. The runner
/// (`crate::runner`) keeps the registry of the adapters a build has and is the only caller.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// Which engine this is.
    fn kind(&self) -> EngineKind;

    /// Its name on the command line and in reports.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The version of the engine itself (weir's crate version, the pinned timely or
    /// differential crate, the Flink release).
    fn version(&self) -> String;

    /// Whether it runs `query` (the catalog's entry, unless an adapter knows better).
    fn runs(&self, query: Query) -> Support {
        query.support(self.kind())
    }

    /// Checks what only this engine knows about a spec that passed the runner's own checks.
    ///
    /// # Errors
    /// A [`RunError::Config`] naming the flag.
    fn check(&self, spec: &RunSpec) -> Result<()> {
        let _ = spec;
        Ok(())
    }

    /// Starts `spec` (already checked by the runner).
    ///
    /// # Errors
    /// [`RunError::Setup`] when the engine needs installing, [`RunError::Io`] when an output
    /// cannot be created, [`RunError::Failed`] when the job cannot start.
    fn start(&self, spec: &RunSpec) -> Result<Job>;
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
    spec: RunSpec,
    handle: JoinHandle<Result<Outcome>>,
    /// Dropped with the job (an adapter's clean-up, e.g. ending an external process).
    guard: Option<Box<dyn std::any::Any + Send>>,
    /// The process's CPU when the job was started (see [`crate::cpu`]).
    cpu_mark: Option<CpuMark>,
}

impl Job {
    /// Wraps a thread that drives the engine of `spec` and returns what it measured.
    pub fn new(
        spec: &RunSpec,
        collector: Collector,
        stop: StopSignal,
        handle: JoinHandle<Result<Outcome>>,
    ) -> Self {
        Self {
            collector,
            stop,
            spec: spec.clone(),
            handle,
            guard: None,
            cpu_mark: None,
        }
    }

    /// Records the CPU mark taken just before the engine started (the runner does this).
    pub(crate) fn with_cpu_mark(mut self, mark: Option<CpuMark>) -> Self {
        self.cpu_mark = mark;
        self
    }

    /// The spec the job runs.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
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

    /// Waits for the job and returns its report, assembled from what the engine measured
    /// ([`Outcome::into_report`]).
    pub fn wait(self) -> Result<RunReport> {
        let mut outcome = self.handle.join().unwrap_or_else(|panic| {
            Err(RunError::Failed(format!(
                "the job's driver panicked: {}",
                panic_message(&*panic)
            )))
        })?;
        if outcome.cpu == EngineCpu::InProcess {
            outcome.cpu = self
                .cpu_mark
                .and_then(CpuMark::engine_since)
                .map_or(EngineCpu::Unknown, EngineCpu::Measured);
        }
        Ok(outcome.into_report(&self.spec))
    }
}

/// A new path `<system temp dir>/<prefix>-<process id>-<ns since the epoch>`: unique per
/// process and call, for the directories a run creates for itself (not created here).
pub fn fresh_temp_dir(prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()))
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
