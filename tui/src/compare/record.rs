//! [`CompareReport`]: the record of a comparison, written as `report.json`.
//!
//! JSON is the canonical form (`schema_version` [`COMPARE_SCHEMA_VERSION`]); `report.csv` and
//! `report.md` render the same record. `runs` holds every measured run's [`RunReport`]
//! unchanged (its own schema); `series[i]` is the throughput-over-time of `runs[i]` (and
//! names its round); warm-ups and failures are listed, never silently dropped; `summary` is
//! recomputed from the runs after every run (by the loop: [`refresh`](super::refresh)).
//!
//! **Layer.** Data, above the base: imports [`plan`](super::plan) (what it records) and
//! [`summary`](super::summary) (the figures it carries); the code that computes the figures
//! ([`stats`](super::stats), [`baseline`](super::baseline)) sits above it.

use serde::{Deserialize, Serialize};
use weir_workloads::report::{DigestSummary, RunReport};

use super::plan::{ComparePlan, RunSlot};
use super::summary::Summary;

/// Version of the `report.json` schema written by `weir compare`. Bump on incompatible changes.
pub const COMPARE_SCHEMA_VERSION: u32 = 1;

/// The value of [`CompareReport::kind`], so a reader can tell a comparison from a single run.
pub const COMPARE_KIND: &str = "weir-compare";

/// A whole comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    /// [`COMPARE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Always [`COMPARE_KIND`].
    pub kind: String,
    /// What was asked for.
    pub plan: PlanRecord,
    /// Measured runs, in the order they ran (warm-ups excluded).
    pub runs: Vec<RunReport>,
    /// `series[i]`: round and throughput over time of `runs[i]`.
    pub series: Vec<RunSeries>,
    /// Warm-up runs: their digests are checked, their figures are not used.
    pub warmups: Vec<WarmupRecord>,
    /// Runs that did not produce a report (unsupported query, engine failure, interruption).
    pub failures: Vec<FailureRecord>,
    /// `--load`: how each engine's maximum was measured and what rate it was offered.
    #[serde(default)]
    pub calibrations: Vec<CalibrationRecord>,
    /// The physical ceiling measured beside the engines in every round (memory-read for
    /// replay sources, generator-only for generated ones).
    #[serde(default)]
    pub ceilings: Vec<CeilingRecord>,
    /// Whether the user stopped the comparison before the plan was complete.
    pub interrupted: bool,
    /// Figures derived from `runs` (recomputed after every run).
    pub summary: Summary,
}

impl CompareReport {
    /// An empty record for `plan`.
    pub fn new(plan: PlanRecord) -> Self {
        Self {
            schema_version: COMPARE_SCHEMA_VERSION,
            kind: COMPARE_KIND.to_string(),
            plan,
            runs: Vec::new(),
            series: Vec::new(),
            warmups: Vec::new(),
            failures: Vec::new(),
            calibrations: Vec::new(),
            ceilings: Vec::new(),
            interrupted: false,
            summary: Summary::default(),
        }
    }

    /// Whether the comparison failed: a digest disagreement, or a run that failed (an engine
    /// that does not support a query is not a failure).
    pub fn failed(&self) -> bool {
        !self.summary.digests_agree || self.failures.iter().any(|f| f.kind == "failed")
    }

    /// Reads a `report.json` written by `weir compare`.
    ///
    /// # Errors
    /// When the text is not a comparison report of a schema this build understands; the
    /// message says which.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        if value.get("kind").and_then(serde_json::Value::as_str) != Some(COMPARE_KIND) {
            return Err(format!(
                "not a `weir compare` report (no \"kind\": \"{COMPARE_KIND}\"); pass the report.json that `weir compare --out DIR` wrote"
            ));
        }
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(COMPARE_SCHEMA_VERSION)) {
            return Err(format!(
                "schema_version {} is not supported by this build (it reads {COMPARE_SCHEMA_VERSION})",
                version.map_or_else(|| "missing".to_string(), |v| v.to_string())
            ));
        }
        serde_json::from_value(value).map_err(|e| format!("unexpected content: {e}"))
    }
}

/// The plan, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// `nexmark` or `ysb`.
    pub workload: String,
    /// Queries, in order.
    pub queries: Vec<String>,
    /// Engines, in the order every round runs them.
    pub engines: Vec<String>,
    /// Measured runs per engine and query.
    pub runs: usize,
    /// Unreported warm-up runs per engine and query (0 or 1).
    pub warmup_runs: usize,
    /// How runs are ordered: always `round-robin` (A B C A B C ...).
    pub order: String,
    /// Workers for every engine.
    pub workers: usize,
    /// Whether workers were pinned to cores.
    pub pinning: bool,
    /// Events per run.
    pub events: u64,
    /// Offered rate, events/s; `None` = as fast as possible (or `load`).
    pub rate: Option<u64>,
    /// `--load`: each engine offered this fraction of its own measured maximum.
    #[serde(default)]
    pub load: Option<f64>,
    /// `--duration`: seconds of events per paced run.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Events per second of event time (paced runs: their offered rate).
    pub event_rate: u64,
    /// `generate` or `replay`.
    pub source: String,
    /// The exact command line.
    pub command: String,
    /// When the comparison started, RFC 3339 UTC.
    pub started_at: String,
    /// `--pretouch`: bytes faulted in before the first run, the size given rounded up to
    /// whole blocks (0: none).
    #[serde(default)]
    pub pretouch_bytes: u64,
    /// `--pretouch` with Flink on the local MiniCluster: each Flink run's JVM wrote its whole
    /// heap before its job started (`-XX:+AlwaysPreTouch`).
    #[serde(default)]
    pub flink_pretouch: bool,
}

impl PlanRecord {
    /// Records `plan`.
    pub fn from_plan(plan: &ComparePlan) -> Self {
        Self {
            workload: plan.workload.to_string(),
            queries: plan.queries.iter().map(ToString::to_string).collect(),
            engines: plan.engines.iter().map(ToString::to_string).collect(),
            runs: plan.runs,
            warmup_runs: usize::from(plan.warmup),
            order: "round-robin".to_string(),
            workers: plan.workers,
            pinning: plan.pinning,
            events: plan.events,
            rate: plan.rate,
            load: plan.load,
            duration_s: plan.duration_s,
            event_rate: plan.event_rate,
            source: plan.source.to_string(),
            command: plan.command.clone(),
            started_at: plan.started_at.clone(),
            pretouch_bytes: if plan.pretouches_in_process() {
                plan.pretouch.touched()
            } else {
                0
            },
            flink_pretouch: plan.pretouches_flink(),
        }
    }
}

/// Throughput over time of one measured run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSeries {
    /// The engine.
    pub engine: String,
    /// The query.
    pub query: String,
    /// The round, from 1.
    pub round: usize,
    /// Position of the run in the whole comparison (warm-ups count), from 1.
    pub order: usize,
    /// `[seconds since the job's clock started, events produced so far]`, about every 100 ms.
    pub samples: Vec<(f64, u64)>,
}

/// A warm-up run: checked for its digest, excluded from every figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WarmupRecord {
    /// The engine.
    pub engine: String,
    /// The query.
    pub query: String,
    /// Its wall time, seconds (for the record only).
    pub wall_s: f64,
    /// Its digest.
    pub digest: DigestSummary,
}

impl WarmupRecord {
    /// Keeps what matters of a warm-up run.
    pub fn from_run(run: &RunReport) -> Self {
        Self {
            engine: run.engine.clone(),
            query: run.query.clone(),
            wall_s: run.wall_s,
            digest: run.digest.clone(),
        }
    }
}

/// How `--load` measured one engine's maximum on one query, and what it offered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRecord {
    /// The engine.
    pub engine: String,
    /// The query.
    pub query: String,
    /// Throughput of the first, unpaced run (`--events` at `--event-rate`), events/s.
    pub probe_eps: f64,
    /// Event rate of the second, steady-state run (the first run's throughput).
    pub steady_event_rate: u64,
    /// Throughput of the steady-state run, events/s: the engine's maximum.
    pub max_eps: f64,
    /// Times the query's windows closed during the steady-state run, if it has windows.
    pub window_closings: Option<u64>,
    /// The rate offered to the measured runs: `load * max_eps`.
    pub offered_eps: u64,
}

/// One measurement of the physical ceiling of a query's input, taken once per round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CeilingRecord {
    /// The query.
    pub query: String,
    /// `memory-read` (replay: one pass over the replay buffers) or `generator-only` (generate:
    /// the query's source into a counting sink).
    pub kind: String,
    /// The round, from 1; 0: with `--load`, measured right after the query's calibration runs,
    /// before the first round: the machine's speed when the engines' maxima were measured.
    pub round: usize,
    /// Input events per second.
    pub throughput_eps: f64,
}

/// A run that produced no report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    /// The engine.
    pub engine: String,
    /// The query.
    pub query: String,
    /// The round, from 1; `None` for the warm-up (or a calibration run).
    pub round: Option<usize>,
    /// `unsupported` (the engine cannot run the query; not an error), `failed`, or
    /// `interrupted`.
    pub kind: String,
    /// The engine's message.
    pub message: String,
}

impl FailureRecord {
    /// A failure of the run in `slot`.
    pub fn new(slot: &RunSlot, kind: &str, message: &str) -> Self {
        Self {
            engine: slot.engine.to_string(),
            query: slot.query.clone(),
            round: slot.round,
            kind: kind.to_string(),
            message: message.to_string(),
        }
    }
}
