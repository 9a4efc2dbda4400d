//! [`RunReport`]: the record of one run, the same for every engine.
//!
//! JSON is the canonical form (`schema_version` 1); CSV and Markdown exports render the same
//! record. A value an engine cannot observe is `null` (for example `latency_ns` for an engine
//! that cannot see its results' timing), never a made-up number.

use serde::{Deserialize, Serialize};

use crate::cpu::CpuTime;

/// Version of the [`RunReport`] JSON schema. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of one query on one engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// `weir`, `timely`, `differential`, `flink` (or `sim`, the deterministic fake).
    pub engine: String,
    /// `nexmark` or `ysb`.
    pub workload: String,
    /// Query name, for example `q5` (YSB's single query is `ysb`).
    pub query: String,
    /// Worker threads (Flink: parallelism).
    pub workers: usize,
    /// Whether workers were pinned to cores.
    pub pinning: bool,
    /// `generate` or `replay`.
    pub source: String,
    /// Events processed.
    pub events: u64,
    /// Offered rate in events/s of wall time; `None` = as fast as possible.
    pub rate: Option<u64>,
    /// Events per second of event time (the generator's timeline).
    pub event_rate: u64,
    /// Engine start-up (thread spawn, JVM start, job submission), seconds; not in `wall_s`.
    pub startup_s: f64,
    /// From the first source starting to the last result reaching the sink, seconds.
    pub wall_s: f64,
    /// `events / wall_s`.
    pub throughput_eps: f64,
    /// Result latency percentiles, nanoseconds; `None` when the engine cannot observe it.
    /// Results fired by the end of input are not in it: see `end_of_input_latency_ns`.
    pub latency_ns: Option<LatencySummary>,
    /// Latency percentiles (ns) of the results fired by the end of input, kept apart from
    /// `latency_ns`: the final watermark closes every window still open at once (q11: every
    /// bidder's session), so their latency is the time to emit the state left open, which a
    /// stream that never ends does not have. `None` when no result was fired by it, when the
    /// engine cannot observe it, and in reports written before this field.
    #[serde(default)]
    pub end_of_input_latency_ns: Option<LatencySummary>,
    /// The order-independent digest of the result multiset.
    pub digest: DigestSummary,
    /// Records that arrived after their window closed (counted, sent to the late output).
    pub late: u64,
    /// Records dropped for any other reason.
    pub dropped: u64,
    /// One entry per worker; empty when the engine cannot observe workers.
    pub per_worker: Vec<WorkerReport>,
    /// CPU the engine used for the run (its own threads, or the JVM for Flink, without
    /// start-up); `None` where it cannot be read. Missing in reports written before it existed.
    #[serde(default)]
    pub cpu: Option<CpuReport>,
    /// The machine the run used.
    pub machine: Machine,
    /// Versions of everything involved.
    pub versions: Versions,
    /// The exact command line that produced this run.
    pub command: String,
}

/// A paced run *sustained* its offered rate when it achieved at least this fraction of it
/// (`throughput_eps / rate`; `wall_s` includes the final flush after the last event, so a run
/// that kept up shows slightly below 1).
pub const SUSTAINED_FRACTION: f64 = 0.95;

/// A paced run had *no headroom* when its busiest worker was busy at least this fraction of its
/// time: at 80 % of a maximum measured earlier a worker should idle about a fifth of the run,
/// and one that did not was at its limit (the machine slower than when the maximum was
/// measured, or the maximum too high), so its results queued behind every slow spell.
pub const NO_HEADROOM_BUSY: f64 = 0.95;

impl RunReport {
    /// The busiest worker's share of its time spent working: `busy_s / (busy_s + idle_s +
    /// backpressured_s + held_s)`, the largest over the workers. `None` when no worker reported
    /// its times, and for Flink, whose per-worker times add up every task of a slot (they can
    /// exceed the run) rather than divide the slot's time between work and waiting.
    pub fn busiest_worker_share(&self) -> Option<f64> {
        // The report names its engine as text (`EngineKind::Flink`'s name): the report module
        // sits below the catalog and does not import it.
        if self.engine == "flink" {
            return None;
        }
        self.per_worker
            .iter()
            .filter_map(WorkerReport::busy_share)
            .reduce(f64::max)
    }

    /// Whether a paced run that kept up its rate had no headroom (its busiest worker busy at
    /// least [`NO_HEADROOM_BUSY`] of its time): its latency is then the engine at its limit, not
    /// at the offered fraction of it. `false` for a run that fell behind, which says more;
    /// `None` for an unpaced run and where the share is unknown
    /// ([`RunReport::busiest_worker_share`]).
    pub fn no_headroom(&self) -> Option<bool> {
        let kept_up = !self.fell_behind()?;
        self.busiest_worker_share()
            .map(|s| kept_up && s >= NO_HEADROOM_BUSY)
    }

    /// `throughput_eps / rate` of a paced run; `None` for an unpaced one.
    pub fn achieved_fraction(&self) -> Option<f64> {
        self.rate
            .filter(|&r| r > 0)
            .map(|r| self.throughput_eps / r as f64)
    }

    /// Whether a paced run fell behind its offered rate (achieved below
    /// [`SUSTAINED_FRACTION`] of it): its latency then grows with the run and describes an
    /// overload, not the engine at that rate. `None` for an unpaced run.
    pub fn fell_behind(&self) -> Option<bool> {
        self.achieved_fraction().map(|f| f < SUSTAINED_FRACTION)
    }
}

/// What a run cost in CPU: engines compared per core as well as per wall second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuReport {
    /// User-mode CPU seconds.
    pub user_s: f64,
    /// Kernel CPU seconds on the engine's behalf.
    pub system_s: f64,
    /// `events / (user_s + system_s)`; `None` when no CPU time was counted.
    pub events_per_cpu_s: Option<f64>,
    /// `(user_s + system_s) / events * 1e6`; `None` for a run without events.
    pub cpu_s_per_million_events: Option<f64>,
}

impl CpuReport {
    /// The figures of `cpu` spent on `events`.
    pub fn new(cpu: CpuTime, events: u64) -> Self {
        let total = cpu.total_s();
        Self {
            user_s: cpu.user_s,
            system_s: cpu.system_s,
            events_per_cpu_s: (total > 0.0).then(|| events as f64 / total),
            cpu_s_per_million_events: (events > 0).then(|| total / events as f64 * 1e6),
        }
    }

    /// User plus system seconds.
    pub fn total_s(&self) -> f64 {
        self.user_s + self.system_s
    }
}

/// Latency percentiles from an hdrhistogram with 3 significant digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Median, ns.
    pub p50: u64,
    /// 99th percentile, ns.
    pub p99: u64,
    /// 99.9th percentile, ns.
    pub p999: u64,
    /// Maximum, ns.
    pub max: u64,
    /// Number of latency samples.
    pub samples: u64,
}

impl LatencySummary {
    /// Summarises a histogram of nanoseconds; `None` when it holds no samples.
    pub fn from_histogram(h: &hdrhistogram::Histogram<u64>) -> Option<Self> {
        (!h.is_empty()).then(|| Self {
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            samples: h.len(),
        })
    }
}

/// The digest of a result multiset: row count and the sum of 128-bit row hashes mod 2^128,
/// printed as 32 lowercase hex digits (docs/WORKLOADS.md 7.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSummary {
    /// Result rows.
    pub rows: u64,
    /// Sum of row hashes mod 2^128, 32 hex digits.
    pub hash: String,
}

/// One worker's share of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Seconds spent running operators.
    pub busy_s: f64,
    /// Seconds spent idle (parked or polling empty inputs).
    pub idle_s: f64,
    /// Seconds spent blocked on full exchange rings.
    pub backpressured_s: f64,
    /// Seconds spent with nothing else to do while a source was held back by source alignment,
    /// waiting for a slower worker's share of the input (weir's aligned sources; 0 on engines
    /// whose sources are not aligned). Absent from reports written before it existed.
    #[serde(default)]
    pub held_s: f64,
    /// Events this worker's sources produced.
    pub records: u64,
}

impl WorkerReport {
    /// The seconds the worker's times account for: busy, idle, backpressured and held.
    pub fn accounted_s(&self) -> f64 {
        self.busy_s + self.idle_s + self.backpressured_s + self.held_s
    }

    /// The share of its accounted seconds the worker was busy; `None` when it accounts for none.
    pub fn busy_share(&self) -> Option<f64> {
        let total = self.accounted_s();
        (total > 0.0).then(|| self.busy_s / total)
    }
}

/// The machine a run used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gb: f64,
    /// Operating system and kernel.
    pub os: String,
}

/// Versions of the code involved; `None` for components the run did not use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// weir's crate version.
    pub weir: String,
    /// weir's git commit, if known at build time.
    pub weir_commit: Option<String>,
    /// rustc that built weir.
    pub rustc: Option<String>,
    /// timely dataflow crate version.
    pub timely: Option<String>,
    /// differential-dataflow crate version.
    pub differential: Option<String>,
    /// Apache Flink version.
    pub flink: Option<String>,
    /// Java runtime version (Flink runs).
    pub java: Option<String>,
}

impl Machine {
    /// Reads the CPU model, core count, memory and OS of this machine (Linux `/proc`; other
    /// systems report what the standard library knows).
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split(':').nth(1))
            })
            .map_or_else(
                || std::env::consts::ARCH.to_string(),
                |s| s.trim().to_string(),
            );
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kb: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let os = format!("{} {}", std::env::consts::OS, kernel.trim())
            .trim()
            .to_string();
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            memory_gb: (memory_kb / (1024.0 * 1024.0) * 10.0).round() / 10.0,
            os,
        }
    }
}

impl Versions {
    /// weir's own versions (crate, commit and rustc when the build recorded them); engine
    /// adapters fill in their engine's fields.
    pub fn weir() -> Self {
        Self {
            weir: env!("CARGO_PKG_VERSION").to_string(),
            weir_commit: option_env!("WEIR_GIT_COMMIT").map(str::to_string),
            rustc: option_env!("WEIR_RUSTC_VERSION").map(str::to_string),
            timely: None,
            differential: None,
            flink: None,
            java: None,
        }
    }
}
