//! Per-worker and per-operator counters (base layer: imports only [`time`](crate::time)).
//!
//! The hot path counts into plain `Cell`s, updated once per batch, never per record and never
//! through an atomic: a worker owns its counters, and the build context copies them into the
//! job's [`Collector`](crate::Collector) every snapshot interval and at the end. Every node that
//! moves records (ports, fused operators, exchanges, sources, sinks) shares these two types.
//!
//! **Operator busy time.** Every operator's counters also hold its *self* time: the time spent
//! in its own code, without the operators it calls. Fused nodes call their consumers directly,
//! so a node's call covers its whole downstream chain; [`Profiler::time`] therefore keeps, per
//! worker, the time already charged to nested calls and charges each call its total minus that
//! (the way a sampling profiler splits inclusive from exclusive time). Invariant: the self times
//! of all operators of a worker sum to the time spent inside timed calls, never more, so shares
//! of the worker's busy time add up to at most 100 %. Whatever is not inside a timed call
//! (the loop's own bookkeeping) stays unattributed.
//!
//! Cost: two clock reads per timed call, and calls are per batch (a port delivering a batch or
//! a watermark, a driver poll that moved something, a timer firing, a sender flushing), never
//! per record. With metrics off ([`Config::metrics`](crate::Config::metrics)) nothing is timed.

use std::cell::Cell;

use crate::time::{Clock, Timestamp};

/// Records in and out of one operator on one worker, and the time spent in its own code.
#[derive(Debug, Default)]
pub(crate) struct OpCounters {
    /// The operator's index in its worker's build order (as in the metrics snapshot).
    pub(crate) id: usize,
    pub(crate) records_in: Cell<u64>,
    pub(crate) records_out: Cell<u64>,
    /// Records the operator holds in state, for operators that report it
    /// ([`Output::set_state_records`](crate::Output::set_state_records)).
    pub(crate) state_records: Cell<Option<u64>>,
    /// Self time, ns (see the module docs).
    pub(crate) busy_ns: Cell<u64>,
    /// Exchanges only: the fullest of this worker's rings on the edge at the last snapshot.
    pub(crate) fill: Cell<Option<f32>>,
}

impl OpCounters {
    pub(crate) fn new(id: usize) -> Self {
        Self {
            id,
            ..Self::default()
        }
    }

    #[inline]
    pub(crate) fn add(&self, records_in: u64, records_out: u64) {
        self.records_in.set(self.records_in.get() + records_in);
        self.records_out.set(self.records_out.get() + records_out);
    }
}

/// Splits a worker's time between its operators (see the module docs).
#[derive(Debug)]
pub(crate) struct Profiler {
    /// `None` when metrics are off: nothing is timed.
    clock: Option<Clock>,
    /// Time charged to calls nested in the current one so far, ns.
    nested_ns: Cell<u64>,
}

impl Profiler {
    pub(crate) fn new(clock: Option<Clock>) -> Self {
        Self {
            clock,
            nested_ns: Cell::new(0),
        }
    }

    /// Runs `f` and charges its self time to `ops`.
    #[inline]
    pub(crate) fn time<R>(&self, ops: &OpCounters, f: impl FnOnce() -> R) -> R {
        self.time_if(ops, f, |_| true)
    }

    /// Runs `f` and charges its self time to `ops` when `keep(&result)` says the call did
    /// work (a driver poll that found nothing is loop overhead, not the operator's time).
    #[inline]
    pub(crate) fn time_if<R>(
        &self,
        ops: &OpCounters,
        f: impl FnOnce() -> R,
        keep: impl FnOnce(&R) -> bool,
    ) -> R {
        let Some(clock) = self.clock else {
            return f();
        };
        let start = clock.now_ns();
        let outer = self.nested_ns.replace(0);
        let result = f();
        let total = clock.now_ns().saturating_sub(start);
        let nested = self.nested_ns.get();
        if keep(&result) {
            ops.busy_ns
                .set(ops.busy_ns.get() + total.saturating_sub(nested));
            self.nested_ns.set(outer + total);
        } else {
            // Nothing to charge: the caller's nested time grows only by what was charged inside.
            self.nested_ns.set(outer + nested);
        }
        result
    }
}

/// A worker's plain counters.
#[derive(Debug)]
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
    pub(crate) held_ns: Cell<u64>,
    /// The newest event time the worker's sources reported
    /// ([`Source::event_time`](crate::Source::event_time)).
    pub(crate) source_time: Cell<Option<Timestamp>>,
    /// Splits the busy time between the worker's operators.
    pub(crate) profiler: Profiler,
    /// Whether the worker has a table sink (then `table_inserts` / `table_retracts` are
    /// published).
    pub(crate) table_sink: Cell<bool>,
    pub(crate) table_inserts: Cell<u64>,
    pub(crate) table_retracts: Cell<u64>,
}

impl WorkerCounters {
    /// Zeroed counters; `clock` times operators (`None`: metrics off).
    pub(crate) fn new(clock: Option<Clock>) -> Self {
        Self {
            events_in: Cell::default(),
            records_out: Cell::default(),
            batches_sent: Cell::default(),
            bytes_sent: Cell::default(),
            late: Cell::default(),
            dropped: Cell::default(),
            busy_ns: Cell::default(),
            idle_ns: Cell::default(),
            backpressured_ns: Cell::default(),
            held_ns: Cell::default(),
            source_time: Cell::default(),
            profiler: Profiler::new(clock),
            table_sink: Cell::default(),
            table_inserts: Cell::default(),
            table_retracts: Cell::default(),
        }
    }

    #[inline]
    pub(crate) fn add(cell: &Cell<u64>, n: u64) {
        cell.set(cell.get() + n);
    }
}
