//! Per-worker and per-operator counters (base layer: imports only [`time`](crate::time)).
//!
//! The hot path counts into plain `Cell`s, updated once per batch, never per record and never
//! through an atomic: a worker owns its counters, and the build context copies them into the
//! job's [`Collector`](crate::Collector) every snapshot interval and at the end. Every node that
//! moves records (ports, fused operators, exchanges, sources, sinks) shares these two types.

use std::cell::Cell;

use crate::time::Timestamp;

/// Records in and out of one operator on one worker.
#[derive(Debug, Default)]
pub(crate) struct OpCounters {
    pub(crate) records_in: Cell<u64>,
    pub(crate) records_out: Cell<u64>,
}

impl OpCounters {
    #[inline]
    pub(crate) fn add(&self, records_in: u64, records_out: u64) {
        self.records_in.set(self.records_in.get() + records_in);
        self.records_out.set(self.records_out.get() + records_out);
    }
}

/// A worker's plain counters.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    pub(crate) events_in: Cell<u64>,
    pub(crate) records_out: Cell<u64>,
    pub(crate) batches_sent: Cell<u64>,
    pub(crate) bytes_sent: Cell<u64>,
    pub(crate) late: Cell<u64>,
    pub(crate) dropped: Cell<u64>,
    pub(crate) busy_ns: Cell<u64>,
    pub(crate) idle_ns: Cell<u64>,
    pub(crate) backpressured_ns: Cell<u64>,
    /// The newest event time the worker's sources reported
    /// ([`Source::event_time`](crate::Source::event_time)).
    pub(crate) source_time: Cell<Option<Timestamp>>,
    /// Whether the worker has a table sink (then `table_inserts` / `table_retracts` are
    /// published).
    pub(crate) table_sink: Cell<bool>,
    pub(crate) table_inserts: Cell<u64>,
    pub(crate) table_retracts: Cell<u64>,
}

impl WorkerCounters {
    #[inline]
    pub(crate) fn add(cell: &Cell<u64>, n: u64) {
        cell.set(cell.get() + n);
    }
}
