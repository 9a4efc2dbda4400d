//! The build context: everything a worker's dataflow is built into and run with (base layer:
//! imports only the other base modules).
//!
//! [`BuildCtx`] is one worker's registry of nodes. While the build closure runs, streams and
//! exchanges register their counters, their drivers (sources and exchange receivers, each with
//! its [`Gate`]), their exchange senders and their timer-driven operators here; the worker loop
//! then takes them out and runs them. [`JobShared`] is the part all workers of a job share: the
//! exchange ring [`Registry`], the wakers, the abort and stop flags, the collector and the sink
//! frontiers.
//!
//! The three traits here ([`Driver`], [`SenderDyn`], [`Timed`]) are how the loop drives nodes
//! whatever their record type. They are defined here, below both the nodes (stream, exchange,
//! worker's source driver) and the loop, so that the loop and the nodes never import each
//! other. The context also turns the plain counters into a
//! [`MetricsSnapshot`](crate::MetricsSnapshot) ([`BuildCtx::publish`]): once per snapshot
//! interval and at the end, never per record.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hdrhistogram::Histogram;

use crate::align::{Alignment, SourceWatermarks};
use crate::config::Config;
use crate::counters::{OpCounters, WorkerCounters};
use crate::gate::Gate;
use crate::metrics::{Collector, OperatorMetrics, TableMetrics, WorkerMetrics};
use crate::rings::Registry;
use crate::time::{Clock, END_OF_INPUT, NO_PROGRESS, Timestamp};
use crate::wake::Wakers;

/// State shared by all workers of one job.
#[derive(Debug)]
pub(crate) struct JobShared {
    pub(crate) registry: Registry,
    pub(crate) wakers: Arc<Wakers>,
    pub(crate) abort: AtomicBool,
    pub(crate) stop: Option<Arc<AtomicBool>>,
    pub(crate) collector: Option<Collector>,
    /// Per worker: the lowest watermark reaching its sinks.
    pub(crate) sink_frontiers: Vec<AtomicI64>,
    /// Per source (in build order), every worker's watermark of it, when sources are aligned.
    sources: Mutex<Vec<Arc<SourceWatermarks>>>,
    /// Whether idle workers spin briefly before parking: only when every worker can have a
    /// core of its own (oversubscribed, spinning steals time from the workers with work).
    pub(crate) spin: bool,
}

impl JobShared {
    pub(crate) fn new(config: &Config, cores: usize) -> Self {
        Self {
            spin: config.workers <= cores,
            registry: Registry::default(),
            wakers: Arc::new(Wakers::new(config.workers)),
            abort: AtomicBool::new(false),
            stop: config.stop.clone(),
            collector: config.collector.clone(),
            sink_frontiers: (0..config.workers)
                .map(|_| AtomicI64::new(NO_PROGRESS))
                .collect(),
            sources: Mutex::default(),
        }
    }

    /// The watermark table of the `k`-th source of every worker (made by the first to ask).
    pub(crate) fn source_watermarks(&self, k: usize, workers: usize) -> Arc<SourceWatermarks> {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        while sources.len() <= k {
            sources.push(Arc::new(SourceWatermarks::new(workers)));
        }
        Arc::clone(&sources[k])
    }
}

/// What one poll of a driver achieved.
#[derive(Debug, Default)]
pub(crate) struct DriverPoll {
    pub(crate) progress: bool,
    pub(crate) done: bool,
    pub(crate) wake_at: Option<u64>,
    /// A source that did not poll because its alignment holds it behind a slower peer.
    pub(crate) held: bool,
}

/// A source or an exchange receiver: something the loop polls to bring records in.
pub(crate) trait Driver {
    fn poll(&mut self, now_ns: u64, gate: &Gate) -> DriverPoll;
    /// The counters its polls are charged to (the source or the exchange it receives for).
    fn counters(&self) -> Rc<OpCounters>;
    /// Whether polling now would find input (checked before parking).
    fn has_work(&self) -> bool;
    /// The job is stopping: end the input now (sources only).
    fn stop(&mut self, now_ns: u64) -> bool {
        let _ = now_ns;
        false
    }
}

/// A driver and the gate that says whether it may run.
pub(crate) type DriverSlot = (Box<dyn Driver>, Rc<Gate>);

/// What the worker loop needs from a sender, whatever its record type.
pub(crate) trait SenderDyn {
    /// Retries pending messages; whether any went out.
    fn retry_pending(&mut self) -> bool;
    /// Sends all partial batches (watermarks go on as they arrive); whether anything was sent.
    fn flush_all(&mut self) -> bool;
    /// When the oldest unsent record arrived, if any.
    fn oldest_ns(&self) -> Option<u64>;
    /// Whether messages wait for ring space.
    fn is_pending(&self) -> bool;
    /// Whether a ring with pending messages has room now.
    fn can_retry(&self) -> bool;
    /// Raises `fill[to]` to this edge's ring occupancy towards `to` (0.0..=1.0).
    fn fill(&self, fill: &mut [f32]);
    /// The exchange operator's counters (its time and its edge's fill are charged there).
    fn counters(&self) -> Rc<OpCounters>;
}

/// Operators with processing-time timers, polled by the worker loop.
pub(crate) trait Timed {
    /// The counters its timers are charged to.
    fn counters(&self) -> Rc<OpCounters>;
    fn next_timer(&self) -> Option<u64>;
    fn fire(&mut self, now_ns: u64);
}

/// An operator as registered: its name, its inputs and its counters.
struct Registered {
    name: String,
    inputs: Vec<usize>,
    ops: Rc<OpCounters>,
}

/// Everything a worker's dataflow is built from and run with.
pub(crate) struct BuildCtx {
    pub(crate) index: usize,
    pub(crate) peers: usize,
    pub(crate) batch_size: usize,
    pub(crate) ring_capacity: usize,
    pub(crate) latency_budget_ns: u64,
    pub(crate) mini_batch_ns: u64,
    source_alignment: Option<Timestamp>,
    source_alignment_polls: u32,
    pub(crate) snapshot_interval_ns: u64,
    pub(crate) metrics: bool,
    pub(crate) clock: Clock,
    pub(crate) shared: Arc<JobShared>,
    pub(crate) wakers: Arc<Wakers>,
    pub(crate) counters: Rc<WorkerCounters>,
    operators: RefCell<Vec<Registered>>,
    pub(crate) drivers: RefCell<Vec<DriverSlot>>,
    pub(crate) senders: RefCell<Vec<Rc<RefCell<dyn SenderDyn>>>>,
    pub(crate) timers: RefCell<Vec<Rc<RefCell<dyn Timed>>>>,
    pub(crate) sink_frontiers: RefCell<Vec<Rc<Cell<Timestamp>>>>,
    latency: RefCell<Histogram<u64>>,
    /// Latency of the results fired by the end of input, apart from the stream's.
    end_latency: RefCell<Histogram<u64>>,
    edges: Cell<usize>,
    /// Sources built so far.
    sources: Cell<usize>,
}

impl BuildCtx {
    pub(crate) fn new(index: usize, config: &Config, clock: Clock, shared: Arc<JobShared>) -> Self {
        Self {
            index,
            peers: config.workers,
            batch_size: config.batch_size,
            ring_capacity: config.ring_capacity,
            latency_budget_ns: config.latency_budget.as_nanos() as u64,
            mini_batch_ns: u64::try_from(config.mini_batch.as_nanos()).unwrap_or(u64::MAX),
            source_alignment: config.source_alignment,
            source_alignment_polls: config.source_alignment_polls,
            snapshot_interval_ns: config.snapshot_interval.as_nanos() as u64,
            metrics: config.metrics,
            clock,
            wakers: Arc::clone(&shared.wakers),
            shared,
            counters: Rc::new(WorkerCounters::new(config.metrics.then_some(clock))),
            operators: RefCell::default(),
            drivers: RefCell::default(),
            senders: RefCell::default(),
            timers: RefCell::default(),
            sink_frontiers: RefCell::default(),
            latency: RefCell::new(Histogram::new(3).expect("3 significant digits is valid")),
            end_latency: RefCell::new(Histogram::new(3).expect("3 significant digits is valid")),
            edges: Cell::new(0),
            sources: Cell::new(0),
        }
    }

    /// Registers an operator's counters under `name`, fed by the operators `inputs` (the
    /// producers of its input streams; `None` for an input without one).
    pub(crate) fn operator(&self, name: &str, inputs: &[Option<usize>]) -> Rc<OpCounters> {
        let mut operators = self.operators.borrow_mut();
        let ops = Rc::new(OpCounters::new(operators.len()));
        // Each producer once: a union of a side output's two streams has one input operator.
        let mut producers: Vec<usize> = Vec::with_capacity(inputs.len());
        for &input in inputs.iter().flatten() {
            if !producers.contains(&input) {
                producers.push(input);
            }
        }
        operators.push(Registered {
            name: name.to_owned(),
            inputs: producers,
            ops: Rc::clone(&ops),
        });
        ops
    }

    pub(crate) fn add_driver(&self, driver: Box<dyn Driver>, gate: Rc<Gate>) {
        self.drivers.borrow_mut().push((driver, gate));
    }

    /// The next source's place in the job's source alignment, if sources are aligned.
    pub(crate) fn next_source_alignment(&self) -> Option<Alignment> {
        let k = self.sources.get();
        self.sources.set(k + 1);
        // One worker has no peer to wait for.
        let max_drift = self.source_alignment.filter(|_| self.peers > 1)?;
        let table = self.shared.source_watermarks(k, self.peers);
        Some(Alignment::new(
            table,
            self.index,
            max_drift,
            self.source_alignment_polls,
            Arc::clone(&self.wakers),
        ))
    }

    pub(crate) fn next_edge(&self) -> usize {
        let edge = self.edges.get();
        self.edges.set(edge + 1);
        edge
    }

    pub(crate) fn record_latency(&self, latency_ns: u64, count: u64) {
        record(&mut self.latency.borrow_mut(), latency_ns, count);
    }

    /// Records the latency of `count` results fired by the end of input.
    pub(crate) fn record_end_latency(&self, latency_ns: u64, count: u64) {
        record(&mut self.end_latency.borrow_mut(), latency_ns, count);
    }

    /// Copies the counters into the collector.
    pub(crate) fn publish(&self, now_ns: u64, senders: &[Rc<RefCell<dyn SenderDyn>>]) {
        let frontier = self
            .sink_frontiers
            .borrow()
            .iter()
            .map(|f| f.get())
            .min()
            // A worker without sinks holds nothing back.
            .unwrap_or(END_OF_INPUT);
        self.shared.sink_frontiers[self.index].store(frontier, Ordering::Relaxed);
        let Some(collector) = &self.shared.collector else {
            return;
        };
        // Sender fills first: each exchange operator's own fill is part of its metrics.
        let mut fill = vec![0.0_f32; self.peers];
        let mut edge = vec![0.0_f32; self.peers];
        for sender in senders {
            let sender = sender.borrow();
            edge.fill(0.0);
            sender.fill(&mut edge);
            for (total, e) in fill.iter_mut().zip(&edge) {
                *total = total.max(*e);
            }
            sender
                .counters()
                .fill
                .set(Some(edge.iter().copied().fold(0.0, f32::max)));
        }
        let c = &self.counters;
        let metrics = WorkerMetrics {
            events_in: c.events_in.get(),
            records_out: c.records_out.get(),
            batches_sent: c.batches_sent.get(),
            bytes_sent: c.bytes_sent.get(),
            late: c.late.get(),
            dropped: c.dropped.get(),
            busy_ns: c.busy_ns.get(),
            idle_ns: c.idle_ns.get(),
            backpressured_ns: c.backpressured_ns.get(),
            held_ns: c.held_ns.get(),
            operators: self
                .operators
                .borrow()
                .iter()
                .map(|r| OperatorMetrics {
                    name: r.name.clone(),
                    inputs: r.inputs.clone(),
                    records_in: Some(r.ops.records_in.get()),
                    records_out: Some(r.ops.records_out.get()),
                    busy_ns: r.ops.busy_ns.get(),
                    // Only exchange operators have rings, and each has its fill once published.
                    exchange: r.ops.fill.get().is_some(),
                    fill: r.ops.fill.get(),
                    state_records: r.ops.state_records.get(),
                })
                .collect(),
        };
        let mut latency = self.latency.borrow_mut();
        let mut end_latency = self.end_latency.borrow_mut();
        let source_time = c.source_time.get();
        let table = c
            .table_sink
            .get()
            .then(|| (c.table_inserts.get(), c.table_retracts.get()));
        let (index, peers, measured) = (self.index, self.peers, self.metrics);
        let shared = &self.shared;
        collector.update(|snapshot| {
            // The job frontier is read under the collector's lock, and every worker stores its
            // own frontier before taking that lock: so the last publisher sees every other
            // worker's latest frontier, and a publisher that read the frontiers earlier can no
            // longer overwrite a newer minimum with a stale one (the race that left the final
            // snapshot at `NO_PROGRESS` after a finished job). The maximum keeps it monotonic.
            let job_frontier = shared
                .sink_frontiers
                .iter()
                .map(|f| f.load(Ordering::Relaxed))
                .min()
                .unwrap_or(NO_PROGRESS);
            snapshot.elapsed_ns = snapshot.elapsed_ns.max(now_ns);
            if snapshot.workers.len() != peers {
                snapshot.workers.resize(peers, WorkerMetrics::default());
            }
            snapshot.workers[index] = metrics;
            let rows = snapshot
                .exchange_fill
                .get_or_insert_with(|| vec![vec![0.0; peers]; peers]);
            if rows.len() == peers {
                rows[index] = fill;
            }
            if measured {
                merge_into(&mut snapshot.latency_ns, &latency);
                if !end_latency.is_empty() {
                    merge_into(&mut snapshot.end_of_input_latency_ns, &end_latency);
                }
            }
            snapshot.watermark_ms = Some(
                snapshot
                    .watermark_ms
                    .map_or(job_frontier, |w| w.max(job_frontier)),
            );
            if let Some(t) = source_time {
                snapshot.source_time_ms = Some(snapshot.source_time_ms.map_or(t, |m| m.max(t)));
            }
            if let Some((inserts, retracts)) = table {
                let t = snapshot.table.get_or_insert_with(TableMetrics::default);
                t.inserts.resize(peers, 0);
                t.retracts.resize(peers, 0);
                t.inserts[index] = inserts;
                t.retracts[index] = retracts;
            }
        });
        latency.reset();
        end_latency.reset();
    }
}

/// Adds `histogram` to the job's `total` (its copy when there is none yet).
fn merge_into(total: &mut Option<Histogram<u64>>, histogram: &Histogram<u64>) {
    match total {
        // Same bounds on both sides (auto-resizing), so adding cannot fail.
        Some(total) => {
            let _ = total.add(histogram);
        }
        None => *total = Some(histogram.clone()),
    }
}

/// Records `count` samples of `latency_ns` (at least 1 ns). The histogram resizes itself to fit;
/// only a value beyond u64's range could fail, and that one is clamped rather than lost.
fn record(histogram: &mut Histogram<u64>, latency_ns: u64, count: u64) {
    if histogram.record_n(latency_ns.max(1), count).is_err() {
        histogram.saturating_record_n(latency_ns.max(1), count);
    }
}
