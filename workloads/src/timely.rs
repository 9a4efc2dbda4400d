//! Nexmark and YSB on timely dataflow 0.32, written as a timely user would write them:
//! exchange pacts keyed by the grouping key, frontier-driven operators that hold one capability
//! per pending window and fire when the input frontier passes the window's end, and local
//! pre-aggregation before global (two-phase) aggregates.
//!
//! [`start`] runs a [`RunSpec`] in this process; [`start_cluster`] runs it as one process of a
//! multi-process job ([`TimelyCluster`]). The shared harness (source, sink, metrics, report)
//! lives in `timely/harness.rs` and is also used by the differential adapter.

pub(crate) mod events;
pub(crate) mod harness;
pub(crate) mod rows;
pub(crate) mod sampling;
pub(crate) mod windows;

mod cluster;
mod control;
mod pinning;
mod source;
mod stateless;
mod ysb;

pub use cluster::{DEFAULT_BASE_PORT, TimelyCluster};
#[doc(hidden)]
pub use control::PANIC_AFTER_EVENTS_ENV;

use timely::worker::Worker;

use self::events::{Events, NexmarkEvent};
use self::harness::{Ctx, LatencyRule, Launch, ResultSlot, launch};
use self::sampling::{Sampled, Sampler};
use self::source::{SourceSetup, event_source};
use crate::job::{EngineKind, Job, Result, RunError, RunLength, RunSpec, Workload};
use crate::nexmark::{BidSplit, EventKind, NexmarkConfig, NexmarkSplit};
use crate::split::WorkerSplit;
use crate::ysb::{YsbConfig, YsbSplit};

/// The queries the peer engines implement, by name.
pub const QUERIES: &[&str] = &["q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8", "q11", "q12"];

/// A query the peer engines run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Query {
    Q0,
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q7,
    Q8,
    Q11,
    Q12,
    Ysb,
}

impl Query {
    /// The query `spec` names.
    pub(crate) fn of(spec: &RunSpec) -> Result<Self> {
        let unknown = || {
            RunError::Config(format!(
                "{} cannot run {} query '{}'; it runs {}",
                spec.engine,
                spec.workload,
                spec.query,
                QUERIES.join(", ")
            ))
        };
        if spec.workload == Workload::Ysb {
            return match spec.query.to_ascii_lowercase().as_str() {
                "ysb" | "" => Ok(Query::Ysb),
                _ => Err(RunError::Config(format!(
                    "YSB has one query, 'ysb' (got '{}')",
                    spec.query
                ))),
            };
        }
        Ok(match spec.query.to_ascii_lowercase().as_str() {
            "q0" => Query::Q0,
            "q1" => Query::Q1,
            "q2" => Query::Q2,
            "q3" => Query::Q3,
            "q4" => Query::Q4,
            "q5" => Query::Q5,
            "q7" => Query::Q7,
            "q8" => Query::Q8,
            "q11" => Query::Q11,
            "q12" => Query::Q12,
            _ => return Err(unknown()),
        })
    }

    /// The event kinds the query reads (its source generates only those), `None` for bids
    /// only (the source then emits the smaller [`crate::nexmark::Bid`]).
    fn kinds(self) -> Option<&'static [EventKind]> {
        match self {
            Query::Q3 | Query::Q8 => Some(&[EventKind::Person, EventKind::Auction]),
            Query::Q4 => Some(&[EventKind::Auction, EventKind::Bid]),
            _ => None,
        }
    }

    /// How the latency of `engine`'s plan is observed: windowed results are emitted at the end
    /// of the window they close; the un-windowed q0-q3 carry the ingestion time of sampled
    /// input records. q4's updates (a result that is final only at the end of input) and q12's
    /// processing-time windows have neither; nor do differential's q11 sessions, which are
    /// updated as bids arrive and never emitted when they close.
    fn latency(self, engine: EngineKind) -> LatencyRule {
        match self {
            Query::Q5 | Query::Q7 | Query::Q8 | Query::Ysb => LatencyRule::Windows,
            Query::Q11 if engine == EngineKind::Timely => LatencyRule::Windows,
            Query::Q0 | Query::Q1 | Query::Q2 | Query::Q3 => LatencyRule::Sampled,
            _ => LatencyRule::None,
        }
    }

    /// Whether results depend on event-time completeness. The others (q0-q4, q12) need no
    /// watermark: their sources advance the frontier to the newest timestamp, without the
    /// out-of-orderness delay, so that no operator (differential's arrangements) holds records
    /// back waiting for a watermark the query does not use.
    fn event_time(self) -> bool {
        matches!(
            self,
            Query::Q5 | Query::Q7 | Query::Q8 | Query::Q11 | Query::Ysb
        )
    }
}

/// The generator configuration of a run.
pub(crate) fn nexmark_config(spec: &RunSpec) -> Result<NexmarkConfig> {
    let config = NexmarkConfig {
        events: match spec.length {
            RunLength::Events(n) => n,
            RunLength::Duration(_) => u64::MAX,
        },
        event_rate: spec.event_rate,
        ..NexmarkConfig::default()
    };
    config
        .validate()
        .map_err(|e| RunError::Config(e.to_string()))?;
    Ok(config)
}

/// Starts `spec` on timely dataflow in this process.
///
/// # Errors
/// A [`RunError::Config`] when the query is unknown or a flag is invalid.
pub fn start(spec: &RunSpec) -> Result<Job> {
    start_engine(spec, EngineKind::Timely, None)
}

/// Starts `spec` as process `cluster.process` of a timely cluster of `cluster.processes`
/// processes, each with `spec.workers` workers.
///
/// # Errors
/// As [`start`]; connection failures surface when the job is waited on.
pub fn start_cluster(spec: &RunSpec, cluster: &TimelyCluster) -> Result<Job> {
    start_engine(spec, EngineKind::Timely, Some(cluster.clone()))
}

/// Starts `spec` on `engine` (timely or differential).
pub(crate) fn start_engine(
    spec: &RunSpec,
    engine: EngineKind,
    cluster: Option<TimelyCluster>,
) -> Result<Job> {
    let query = Query::of(spec)?;
    let setup = Launch {
        engine,
        latency: query.latency(engine),
        cluster,
    };
    if query == Query::Ysb {
        let config = ysb_config(spec)?;
        return launch(spec, setup, move |worker, ctx| {
            ysb_dataflow(worker, ctx, &config, engine)
        });
    }
    let config = nexmark_config(spec)?;
    launch(spec, setup, move |worker, ctx| {
        nexmark_dataflow(worker, ctx, &config, query, engine)
    })
}

/// The YSB generator configuration of a run.
pub(crate) fn ysb_config(spec: &RunSpec) -> Result<YsbConfig> {
    let config = YsbConfig {
        events: match spec.length {
            RunLength::Events(n) => n,
            RunLength::Duration(_) => u64::MAX,
        },
        event_rate: spec.event_rate,
        ..YsbConfig::default()
    };
    config
        .validate()
        .map_err(|e| RunError::Config(e.to_string()))?;
    Ok(config)
}

fn ysb_dataflow(
    worker: &mut Worker,
    ctx: &Ctx,
    config: &YsbConfig,
    engine: EngineKind,
) -> ResultSlot {
    let slot = ResultSlot::default();
    let split = WorkerSplit::new(worker.index(), worker.peers())
        .expect("timely numbers its workers below peers");
    worker.dataflow::<u64, _, _>(|scope| {
        let split = YsbSplit::new(config, split).expect("the configuration was validated");
        let setup = SourceSetup {
            split,
            out_of_orderness_ms: config.out_of_orderness_ms,
            base_time_ms: config.base_time_ms,
            sampler: None,
        };
        let events = event_source(scope, ctx, setup, |e, _| e);
        if engine == EngineKind::Differential {
            ysb::differential(events, ctx, &slot);
        } else {
            ysb::timely(events, ctx, &slot);
        }
    });
    slot
}

/// The source of one worker's Nexmark split for `query`.
fn source_setup<S>(
    generator: S,
    config: &NexmarkConfig,
    query: Query,
    engine: EngineKind,
    split: WorkerSplit,
) -> SourceSetup<S> {
    SourceSetup {
        split: generator,
        out_of_orderness_ms: if query.event_time() {
            config.out_of_orderness_ms
        } else {
            0
        },
        base_time_ms: config.base_time_ms,
        sampler: (query.latency(engine) == LatencyRule::Sampled).then(|| {
            Sampler::new(
                split,
                config.events,
                Some(query.kinds().unwrap_or(&[EventKind::Bid][..])),
            )
        }),
    }
}

/// Builds one worker's dataflow for `query` on `engine`.
fn nexmark_dataflow(
    worker: &mut Worker,
    ctx: &Ctx,
    config: &NexmarkConfig,
    query: Query,
    engine: EngineKind,
) -> ResultSlot {
    let slot = ResultSlot::default();
    let split = WorkerSplit::new(worker.index(), worker.peers())
        .expect("timely numbers its workers below peers");
    worker.dataflow::<u64, _, _>(|scope| {
        if let Some(kinds) = query.kinds() {
            let generator = NexmarkSplit::new(config, split)
                .expect("the configuration was validated")
                .only(kinds);
            let setup = source_setup(generator, config, query, engine, split);
            let events = event_source(scope, ctx, setup, Sampled::new);
            plan(events, ctx, &slot, query, engine);
        } else {
            let generator = BidSplit::new(config, split).expect("the configuration was validated");
            let setup = source_setup(generator, config, query, engine, split);
            let events = event_source(scope, ctx, setup, Sampled::new);
            plan(events, ctx, &slot, query, engine);
        }
    });
    slot
}

fn plan<E: NexmarkEvent>(
    events: Events<'_, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
    query: Query,
    engine: EngineKind,
) {
    use crate::differential::queries as dd;
    if engine == EngineKind::Differential {
        match query {
            Query::Q0 => dd::q0(events, ctx, slot, false),
            Query::Q1 => dd::q0(events, ctx, slot, true),
            Query::Q2 => dd::q2(events, ctx, slot),
            Query::Q3 => dd::q3(events, ctx, slot),
            Query::Q4 => dd::q4(events, ctx, slot),
            Query::Q5 => dd::q5(events, ctx, slot),
            Query::Q7 => dd::q7(events, ctx, slot),
            Query::Q8 => dd::q8(events, ctx, slot),
            Query::Q11 => dd::q11(events, ctx, slot),
            Query::Q12 => dd::q12(events, ctx, slot),
            Query::Ysb => unreachable!("YSB has its own dataflow"),
        }
    } else {
        match query {
            Query::Q0 => stateless::q0(events, ctx, slot),
            Query::Q1 => stateless::q1(events, ctx, slot),
            Query::Q2 => stateless::q2(events, ctx, slot),
            Query::Q3 => stateless::q3(events, ctx, slot),
            Query::Q4 => stateless::q4(events, ctx, slot),
            Query::Q5 => windows::q5(events, ctx, slot),
            Query::Q7 => windows::q7(events, ctx, slot),
            Query::Q8 => windows::q8(events, ctx, slot),
            Query::Q11 => windows::q11(events, ctx, slot),
            Query::Q12 => stateless::q12(events, ctx, slot),
            Query::Ysb => unreachable!("YSB has its own dataflow"),
        }
    }
}
