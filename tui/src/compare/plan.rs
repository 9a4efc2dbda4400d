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
    /// Offered rate, events/s of wall time; `None` = as fast as possible.
    pub rate: Option<u64>,
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
}

impl ComparePlan {
    /// The spec of one run of `query` on `engine`.
    pub fn spec(&self, query: Query, engine: EngineKind) -> RunSpec {
        RunSpec {
            query,
            engine,
            workers: self.workers,
            pinning: self.pinning,
            length: RunLength::Events(self.events),
            rate: self.rate,
            event_rate: self.event_rate,
            source: self.source,
            format: self.format,
            output: None,
            input: self.input.clone(),
            // Only q13 reads a side table; the other queries of the plan run without it.
            side_input: self.side_input.clone().filter(|_| query == Query::Q13),
            // q10 writes into a fresh temporary directory of its own.
            sink_dir: None,
            command: self.command.clone(),
            cluster: None,
            flink_cluster: self
                .flink_cluster
                .clone()
                .filter(|_| engine == EngineKind::Flink),
        }
    }

    /// Runs in the whole comparison, warm-ups included (for progress displays).
    pub fn total_runs(&self) -> usize {
        self.queries.len() * self.engines.len() * (self.runs + usize::from(self.warmup))
    }
}

/// Which run is going on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSlot {
    /// The query.
    pub query: String,
    /// The engine.
    pub engine: EngineKind,
    /// The round, from 1; `None` for the warm-up.
    pub round: Option<usize>,
    /// Position of this run in the whole comparison, from 1.
    pub index: usize,
    /// Runs planned in the whole comparison.
    pub total: usize,
}

impl RunSlot {
    /// "q5 weir round 2/5" or "q5 weir warm-up".
    pub fn label(&self, rounds: usize) -> String {
        match self.round {
            Some(r) => format!("{} {} round {r}/{rounds}", self.query, self.engine),
            None => format!("{} {} warm-up", self.query, self.engine),
        }
    }
}
