//! Nexmark and YSB on differential dataflow 0.26: the queries as collections, with
//! `arrange`, `reduce`, `count`, `join` and windows as data (see `differential/queries.rs`).
//!
//! The harness (source, digest sink, metrics, outcome) is the timely adapter's: differential
//! runs on timely workers, with the same source split, timestamps and watermark capabilities.

mod auctions;
pub(crate) mod queries;
mod reports;
mod suite;
mod ysb;

use crate::catalog::{EngineKind, Latency, Query};
use crate::job::{Engine, Job, Result, RunSpec};

use crate::timely::events::{Events, NexmarkEvent};
use crate::timely::harness::{Ctx, DIFFERENTIAL_VERSION, ResultSlot};
use crate::timely::{Dataflows, QueryBuilder, build_first, not_written, start_engine};
use crate::ysb::YsbEvent;

/// differential dataflow behind the runner's [`Engine`] interface.
#[derive(Debug, Clone, Copy)]
pub struct DifferentialEngine;

impl Engine for DifferentialEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Differential
    }

    fn version(&self) -> String {
        DIFFERENTIAL_VERSION.to_string()
    }

    fn start(&self, spec: &RunSpec) -> Result<Job> {
        start_engine::<DifferentialDataflows>(spec)
    }
}

/// The differential dataflows of the queries.
struct DifferentialDataflows;

impl Dataflows for DifferentialDataflows {
    const ENGINE: EngineKind = EngineKind::Differential;

    /// q11's sessions are updated as bids arrive and never emitted when they close, so no
    /// result is tied to a watermark.
    fn latency(query: Query) -> Latency {
        match query {
            Query::Q11 => Latency::NotObserved(
                "differential updates its sessions as bids arrive; none is emitted when it closes",
            ),
            _ => query.def().latency,
        }
    }

    fn nexmark<E: NexmarkEvent>(
        query: Query,
        events: Events<'_, E>,
        ctx: &Ctx,
        slot: &ResultSlot,
    ) -> Result<()> {
        // Each module builds its own queries and hands the others on.
        let modules: [QueryBuilder<E>; 4] = [
            queries::build,
            suite::build,
            reports::build,
            auctions::build,
        ];
        build_first(&modules, query, events, ctx, slot)
            .map_err(|_| not_written(EngineKind::Differential, query))
    }

    fn ysb(events: Events<'_, YsbEvent>, ctx: &Ctx, slot: &ResultSlot) {
        ysb::ysb(events, ctx, slot);
    }
}
