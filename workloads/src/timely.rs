//! Nexmark and YSB on timely dataflow 0.32, written as a timely user would write them:
//! exchange pacts keyed by the grouping key, frontier-driven operators that hold one capability
//! per pending window and fire when the input frontier passes the window's end, and local
//! pre-aggregation before global (two-phase) aggregates.
//!
//! [`TimelyEngine`] is the runner's interface; a spec with a [`crate::cluster::TimelyCluster`]
//! runs as one process of a multi-process job. The harness (source, sink, metrics, outcome)
//! lives in `timely/harness.rs` and is shared with the differential adapter, which writes its
//! queries as a `Dataflows` of its own. Per-operator metrics come from timely's event log
//! (`timely/oplog.rs`), for both engines.

pub(crate) mod events;
pub(crate) mod harness;
pub(crate) mod shared;

pub(crate) mod sampling;
pub(crate) mod windows;

mod auctions;
mod control;
mod oplog;
pub(crate) mod partitioned;
pub(crate) mod per_bid;
mod pinning;
pub(crate) mod reports;
mod source;
mod stateless;
mod suite;
pub(crate) mod wire;
pub(crate) mod ysb;

#[doc(hidden)]
pub use control::PANIC_AFTER_EVENTS_ENV;

use std::sync::Arc;

use timely::worker::Worker;

use self::events::{Events, NexmarkEvent};
use self::harness::{Ctx, Launch, QueryFiles, ResultSlot, TIMELY_VERSION, launch};
use self::sampling::{Sampled, Sampler};
use self::source::{SourceSetup, event_source};
use crate::catalog::{EngineKind, Latency, Query, Reads, TimeDomain, Workload};
use crate::inputs::{EventFile, WorkerInput};
use crate::job::{Engine, Job, Result, RunError, RunSpec};
use crate::nexmark::{BidSplit, EventKind, NexmarkConfig, NexmarkSplit};
use crate::split::{Replay, Timestamped};

use crate::split::{InputIds, WorkerSplit};
use crate::ysb::{YsbConfig, YsbEvent, YsbSplit};

/// timely dataflow behind the runner's [`Engine`] interface.
#[derive(Debug, Clone, Copy)]
pub struct TimelyEngine;

impl Engine for TimelyEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Timely
    }

    fn version(&self) -> String {
        TIMELY_VERSION.to_string()
    }

    fn start(&self, spec: &RunSpec) -> Result<Job> {
        start_engine::<TimelyDataflows>(spec)
    }
}

/// How an engine built on timely workers (timely itself, differential) writes each query; the
/// source, sink and the rest of the run are the shared harness's.
pub(crate) trait Dataflows: 'static {
    /// The engine.
    const ENGINE: EngineKind;

    /// How `query`'s latency is observed on this engine (the catalog's rule unless the
    /// engine's plan cannot observe it).
    fn latency(query: Query) -> Latency {
        query.def().latency
    }

    /// Builds the Nexmark `query` over one worker's `events`, ending in a sink that fills
    /// `slot`.
    ///
    /// # Errors
    /// A [`RunError::Config`] when the engine has no dataflow for the query (the catalog and
    /// the adapter disagree: a bug the catalog tests catch).
    fn nexmark<E: NexmarkEvent>(
        query: Query,
        events: Events<'_, E>,
        ctx: &Ctx,
        slot: &ResultSlot,
    ) -> Result<()>;

    /// Builds the YSB query over one worker's events.
    fn ysb(events: Events<'_, YsbEvent>, ctx: &Ctx, slot: &ResultSlot);
}

/// The timely dataflows of the queries.
struct TimelyDataflows;

impl Dataflows for TimelyDataflows {
    const ENGINE: EngineKind = EngineKind::Timely;

    fn nexmark<E: NexmarkEvent>(
        query: Query,
        events: Events<'_, E>,
        ctx: &Ctx,
        slot: &ResultSlot,
    ) -> Result<()> {
        // Each module builds its own queries and hands the others on: a query lives in one
        // file, with its arm.
        let modules: [QueryBuilder<E>; 5] = [
            stateless::build,
            suite::build,
            reports::build,
            auctions::build,
            windows::build,
        ];
        build_first(&modules, query, events, ctx, slot)
            .map_err(|_| not_written(EngineKind::Timely, query))
    }

    fn ysb(events: Events<'_, YsbEvent>, ctx: &Ctx, slot: &ResultSlot) {
        ysb::timely(events, ctx, slot);
    }
}

/// A module's builder: builds `query` if the module has it, or hands the events back.
pub(crate) type QueryBuilder<E> =
    for<'s> fn(Query, Events<'s, E>, &Ctx, &ResultSlot) -> std::result::Result<(), Events<'s, E>>;

/// Builds `query` with the first of `modules` that has it; the events back if none has.
pub(crate) fn build_first<'s, E: NexmarkEvent>(
    modules: &[QueryBuilder<E>],
    query: Query,
    mut events: Events<'s, E>,
    ctx: &Ctx,
    slot: &ResultSlot,
) -> std::result::Result<(), Events<'s, E>> {
    for build in modules {
        match build(query, events, ctx, slot) {
            Ok(()) => return Ok(()),
            Err(back) => events = back,
        }
    }
    Err(events)
}

/// The error of a query the catalog lists for an engine whose adapter has no dataflow for it.
pub(crate) fn not_written(engine: EngineKind, query: Query) -> RunError {
    RunError::Config(format!(
        "the {engine} adapter has no dataflow for {} query '{query}' (the catalog and the \
         adapter disagree; please report it)",
        query.workload()
    ))
}

/// Starts `spec` on the timely-based engine `D`.
pub(crate) fn start_engine<D: Dataflows>(spec: &RunSpec) -> Result<Job> {
    let query = spec.query;
    let setup = Launch {
        engine: D::ENGINE,
        latency: D::latency(query),
    };
    if query.workload() == Workload::Ysb {
        let config = spec.ysb_config()?;
        return launch(spec, setup, move |worker, ctx| {
            ysb_dataflow::<D>(worker, ctx, &config)
        });
    }
    let config = spec.nexmark_config()?;
    // Read before the job starts, so that a bad file is a flag error (the runner has read it
    // once already: this is the process-wide parsed copy).
    let file = spec
        .input
        .as_deref()
        .map(EventFile::load)
        .transpose()
        .map_err(|e| RunError::Config(format!("--input {e}")))?;
    let files = QueryFiles {
        side_input: (query == Query::Q13)
            .then(|| per_bid::side_input(spec.side_input.as_deref()))
            .transpose()?,
        sink_dir: (query == Query::Q10)
            .then(|| partitioned::prepare_sink_dir(spec.sink_dir.as_deref(), D::ENGINE))
            .transpose()?
            .map(Arc::new),
    };
    launch(spec, setup, move |worker, ctx| {
        let ctx = Ctx {
            files: files.clone(),
            ..ctx.clone()
        };
        nexmark_dataflow::<D>(worker, &ctx, &config, query, file)
    })
}

fn ysb_dataflow<D: Dataflows>(worker: &mut Worker, ctx: &Ctx, config: &YsbConfig) -> ResultSlot {
    let slot = ResultSlot::default();
    let split = WorkerSplit::new(worker.index(), worker.peers())
        .expect("timely numbers its workers below peers");
    worker.dataflow::<u64, _, _>(|scope| {
        let ids = InputIds::every(split, config.events);
        let split = YsbSplit::new(config, split).expect("the configuration was validated");
        let setup = SourceSetup {
            split,
            out_of_orderness_ms: config.out_of_orderness_ms,
            base_time_ms: config.base_time_ms,
            sampler: None,
            ids,
        };
        let events = event_source(scope, ctx, setup, |e, _| e);
        D::ysb(events, ctx, &slot);
    });
    slot
}

/// The source of one worker's Nexmark split for `query`.
fn source_setup<S>(
    generator: S,
    config: &NexmarkConfig,
    query: Query,
    latency: Latency,
    split: WorkerSplit,
) -> SourceSetup<S> {
    SourceSetup {
        split: generator,
        // Queries whose results do not wait for event time run with no out-of-orderness
        // delay, so no operator (differential's arrangements) holds records back waiting for a
        // watermark the query does not use.
        out_of_orderness_ms: if query.def().time == TimeDomain::EventTime {
            config.out_of_orderness_ms
        } else {
            0
        },
        base_time_ms: config.base_time_ms,
        sampler: (latency == Latency::SampledRecords)
            .then(|| Sampler::new(split, config.events, Some(query.def().reads.kinds()))),
        ids: InputIds::new(split, config.events, |r| {
            query.def().reads.kinds().contains(&EventKind::of_id(r))
        }),
    }
}

/// The source of one worker's share of an `--input` file: replayed from memory, latency
/// samples at the positions the share lists.
fn replayed<E: Timestamped + Clone>(
    share: WorkerInput<E>,
    config: &NexmarkConfig,
    query: Query,
    latency: Latency,
    split: WorkerSplit,
) -> SourceSetup<Replay<E>> {
    let mut setup = source_setup(Replay::new(share.events, 0), config, query, latency, split);
    setup.sampler = (latency == Latency::SampledRecords).then(|| Sampler::listed(share.sampled));
    setup
}

/// Builds one worker's dataflow for `query` on the engine `D`, over the generator or over
/// its share of an `--input` file (the file's first `config.events` events).
fn nexmark_dataflow<D: Dataflows>(
    worker: &mut Worker,
    ctx: &Ctx,
    config: &NexmarkConfig,
    query: Query,
    file: Option<&'static EventFile>,
) -> ResultSlot {
    let slot = ResultSlot::default();
    let split = WorkerSplit::new(worker.index(), worker.peers())
        .expect("timely numbers its workers below peers");
    let latency = D::latency(query);
    let built = worker.dataflow::<u64, _, _>(|scope| {
        let reads = query.def().reads;
        if let Some(file) = file {
            // The file's share, replayed from memory.
            if reads == Reads::Bids {
                let share = file.worker_bids(config.events, split);
                let setup = replayed(share, config, query, latency, split);
                let events = event_source(scope, ctx, setup, Sampled::new);
                D::nexmark(query, events, ctx, &slot)
            } else {
                let share = file.worker_events(config.events, split, reads.kinds());
                let setup = replayed(share, config, query, latency, split);
                let events = event_source(scope, ctx, setup, Sampled::new);
                D::nexmark(query, events, ctx, &slot)
            }
        } else if reads == Reads::Bids {
            let generator = BidSplit::new(config, split).expect("the configuration was validated");
            let setup = source_setup(generator, config, query, latency, split);
            let events = event_source(scope, ctx, setup, Sampled::new);
            D::nexmark(query, events, ctx, &slot)
        } else {
            let generator = NexmarkSplit::new(config, split)
                .expect("the configuration was validated")
                .only(reads.kinds());
            let setup = source_setup(generator, config, query, latency, split);
            let events = event_source(scope, ctx, setup, Sampled::new);
            D::nexmark(query, events, ctx, &slot)
        }
    });
    if let Err(e) = built {
        ctx.shared.fail(e.to_string());
    }
    slot
}
