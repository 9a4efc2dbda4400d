//! What a comparison runs: the [`ComparePlan`] the command line builds (workload, queries,
//! engines, rounds, the one setup every run shares) and the [`RunSlot`] that names one run of
//! it (query, engine, round, position), for the record, the observers and the failure list.
//!
//! **Layer.** Base: imports nothing from the crate.

use std::path::PathBuf;

use weir_workloads::catalog::{EngineKind, Query, Workload};
use weir_workloads::job::{EventFormat, RunLength, RunSpec, SourceMode};

/// What to compare.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparePlan {
    /// The workload.
    pub workload: Workload,
    /// Queries, in order.
    pub queries: Vec<Query>,
    /// Engines, in the order each round runs them.
    pub engines: Vec<EngineKind>,
    /// Measured runs (rounds) per engine and query.
    pub runs: usize,
    /// Whether each engine gets one unreported warm-up run per query first.
    pub warmup: bool,
    /// Workers for every engine.
    pub workers: usize,
    /// Pin worker *i* to core *i*.
    pub pinning: bool,
    /// Events per run (the same for every run, so digests are comparable).
    pub events: u64,
    /// Offered rate, events/s of wall time, the same for every engine; `None` = as fast as
    /// possible (or `load`).
    pub rate: Option<u64>,
    /// Offer each engine this fraction of its own maximum (`--load`), measured first by two
    /// calibration runs per engine and query ([`ComparePlan::probe_spec`],
    /// [`ComparePlan::steady_spec`]); `None` = `rate`.
    pub load: Option<f64>,
    /// Length of each paced run, seconds (`--duration`): its input is the offered rate times
    /// this; `None` = `events` events.
    pub duration_s: Option<f64>,
    /// Events per second of event time.
    pub event_rate: u64,
    /// Source mode, the same for every engine.
    pub source: SourceMode,
    /// YSB's event format (`--format`), the same for every engine.
    pub format: EventFormat,
    /// Nexmark events from this file instead of the generator (`--input`).
    pub input: Option<PathBuf>,
    /// q13's side table from this file (`--side-input`).
    pub side_input: Option<PathBuf>,
    /// The command line, recorded in every run and in the report.
    pub command: String,
    /// When the comparison started (RFC 3339, UTC).
    pub started_at: String,
    /// Where flink runs: a Flink cluster's REST address (`HOST:PORT`), or `None` for the local
    /// MiniCluster.
    pub flink_cluster: Option<String>,
    /// `--pretouch`: memory faulted in once before the first run ([`crate::pretouch`]).
    pub pretouch: crate::pretouch::Pretouch,
}

/// Seconds of event time a steady-state calibration run covers at least.
pub const CALIBRATION_MIN_S: f64 = 10.0;
/// Window periods a steady-state calibration run covers at least (so windows close in it).
pub const CALIBRATION_PERIODS: f64 = 3.0;

impl ComparePlan {
    /// Whether `--pretouch` touches memory in the weir process: it is on, and an engine that
    /// runs there (any but Flink) is compared.
    pub fn pretouches_in_process(&self) -> bool {
        self.pretouch.is_on() && self.engines.iter().any(|&e| e != EngineKind::Flink)
    }

    /// Whether each Flink run's JVM pre-touches its heap: `--pretouch`, with Flink compared on
    /// the local MiniCluster (a cluster's task managers are out of reach).
    pub fn pretouches_flink(&self) -> bool {
        self.pretouch.is_on()
            && self.flink_cluster.is_none()
            && self.engines.contains(&EngineKind::Flink)
    }

    /// The spec of one run of `query` on `engine` at the plan's rate (unpaced without one);
    /// with `--load` use [`ComparePlan::paced_spec`] with the engine's calibrated rate.
    pub fn spec(&self, query: Query, engine: EngineKind) -> RunSpec {
        match self.rate {
            Some(rate) => self.paced_spec(query, engine, rate),
            None => self.probe_spec(query, engine),
        }
    }

    /// A run offered `rate` events/s (event time advancing at the same rate), of `duration_s`
    /// seconds' worth of events when set, else `events` events.
    pub fn paced_spec(&self, query: Query, engine: EngineKind, rate: u64) -> RunSpec {
        let events = self
            .duration_s
            .map_or(self.events, |d| ((rate as f64 * d).round() as u64).max(1));
        RunSpec {
            rate: Some(rate),
            event_rate: rate,
            length: RunLength::Events(events),
            ..self.probe_spec(query, engine)
        }
    }

    /// An unpaced run of `events` events at the plan's event rate: the comparison's own runs
    /// without a rate, and the first calibration run of `--load`.
    pub fn probe_spec(&self, query: Query, engine: EngineKind) -> RunSpec {
        RunSpec {
            query,
            engine,
            workers: self.workers,
            pinning: self.pinning,
            length: RunLength::Events(self.events),
            rate: None,
            event_rate: self.event_rate,
            source: self.source,
            format: self.format,
            output: None,
            input: self.input.clone(),
            // Only q13 reads a side table; the other queries of the plan run without it.
            side_input: self.side_input.clone().filter(|_| query == Query::Q13),
            // q10 writes into a fresh temporary directory of its own.
            sink_dir: None,
            changelog: false,
            command: self.command.clone(),
            cluster: None,
            flink_cluster: self
                .flink_cluster
                .clone()
                .filter(|_| engine == EngineKind::Flink),
            // Nothing in a comparison shows operators: timely's event log would only cost
            // timely and differential throughput (docs/RESULTS.md).
            operator_metrics: false,
            // The weir process is pre-touched once before the first run; each local Flink
            // run's JVM pre-touches its own heap.
            jvm_pretouch: engine == EngineKind::Flink && self.pretouches_flink(),
        }
    }

    /// The second calibration run of `--load`: unpaced, with event time advancing at about the
    /// engine's own speed (`event_rate`, the first run's throughput), for
    /// [`ComparePlan::calibration_s`] of wall time, so that the state per window is about what
    /// a paced run near that rate holds and windows close several times (the cost of closing
    /// them is part of the maximum). Replay sources need a bounded input: they get the events
    /// of that span.
    pub fn steady_spec(&self, query: Query, engine: EngineKind, event_rate: u64) -> RunSpec {
        let seconds = Self::calibration_s(query);
        let length = match self.source {
            weir_workloads::job::SourceMode::Replay => {
                RunLength::Events(((event_rate as f64 * seconds) as u64).max(1))
            }
            weir_workloads::job::SourceMode::Generate => {
                RunLength::Duration(std::time::Duration::from_secs_f64(seconds))
            }
        };
        RunSpec {
            event_rate,
            length,
            ..self.probe_spec(query, engine)
        }
    }

    /// How long the steady-state calibration of `query` runs: three window periods, at least
    /// [`CALIBRATION_MIN_S`] seconds.
    pub fn calibration_s(query: Query) -> f64 {
        let periods = query
            .window_period_ms()
            .map_or(0.0, |ms| CALIBRATION_PERIODS * ms as f64 / 1e3);
        periods.max(CALIBRATION_MIN_S)
    }

    /// The rate a calibrated maximum of `max_eps` events/s is offered under `--load`.
    pub fn offered(&self, max_eps: f64) -> Option<u64> {
        self.load.map(|f| ((max_eps * f).round() as u64).max(1))
    }

    /// Runs in the whole comparison, warm-ups and calibrations included (for progress
    /// displays).
    pub fn total_runs(&self) -> usize {
        let before = if self.load.is_some() {
            2
        } else {
            usize::from(self.warmup)
        };
        self.queries.len() * self.engines.len() * (self.runs + before)
    }
}

/// Which run is going on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSlot {
    /// The query.
    pub query: String,
    /// The engine.
    pub engine: EngineKind,
    /// The round, from 1; `None` for the warm-up or a calibration run.
    pub round: Option<usize>,
    /// A calibration run of `--load` (measures the engine's maximum; not reported).
    pub calibration: bool,
    /// Position of this run in the whole comparison, from 1.
    pub index: usize,
    /// Runs planned in the whole comparison.
    pub total: usize,
}

impl RunSlot {
    /// "q5 weir round 2/5", "q5 weir warm-up" or "q5 weir calibration".
    pub fn label(&self, rounds: usize) -> String {
        match self.round {
            Some(r) => format!("{} {} round {r}/{rounds}", self.query, self.engine),
            None if self.calibration => format!("{} {} calibration", self.query, self.engine),
            None => format!("{} {} warm-up", self.query, self.engine),
        }
    }
}
