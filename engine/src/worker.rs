//! A worker: the build-time handle ([`Worker`]) and the scheduling loop that runs the dataflow.
//!
//! **Loop.** Each iteration (1) retries exchange messages that found their ring full, (2) polls
//! every driver (source or exchange receiver) whose downstream senders are not backpressured,
//! (3) fires due processing-time timers, (4) flushes exchange buffers older than the latency
//! budget. An iteration that moved nothing flushes all partial batches (idle flush); if there
//! was nothing to flush either, the worker parks until a producer or consumer wakes it, a
//! timer or source is due, or a safety timeout passes. It never spins at 100 % without work.
//!
//! **Time.** The gap between two iteration starts is charged to what the earlier iteration
//! did: busy (it moved records), backpressured (nothing moved and a sender waited for ring
//! space) or idle.
//!
//! **Metrics.** Counters are plain `Cell`s updated per batch; every snapshot interval (and at
//! the end) the worker copies them into the job's [`Collector`](crate::Collector).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::config::Config;
use crate::exchange::{Registry, SenderDyn};
use crate::metrics::{Collector, OperatorMetrics, WorkerMetrics};
use crate::source::{Source, SourcePoll};
use crate::stream::{Gate, Port, Stream, Timed};
use crate::time::{Clock, END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark};
use crate::wake::Wakers;

/// Checks for work (each after 64 spin-loop hints, a few microseconds in all) before parking.
const SPIN_CHECKS: usize = 32;
/// How long a worker parks at most when nothing says when to wake (safety net).
const MAX_PARK: Duration = Duration::from_millis(10);
/// How long to wait before polling a source again that is pending without a wake time.
const PENDING_SOURCE_PARK_NS: u64 = 1_000_000;

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
        }
    }
}

/// Records in and out of one operator on one worker.
#[derive(Debug, Default)]
pub(crate) struct OpCounters {
    records_in: Cell<u64>,
    records_out: Cell<u64>,
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
    /// The newest event time the worker's sources reported ([`Source::event_time`]).
    pub(crate) source_time: Cell<Option<Timestamp>>,
}

impl WorkerCounters {
    #[inline]
    pub(crate) fn add(cell: &Cell<u64>, n: u64) {
        cell.set(cell.get() + n);
    }
}

/// What one poll of a driver achieved.
#[derive(Debug, Default)]
pub(crate) struct DriverPoll {
    pub(crate) progress: bool,
    pub(crate) done: bool,
    pub(crate) wake_at: Option<u64>,
}

/// A source or an exchange receiver: something the loop polls to bring records in.
pub(crate) trait Driver {
    fn poll(&mut self, now_ns: u64, gate: &Gate) -> DriverPoll;
    /// Whether polling now would find input (checked before parking).
    fn has_work(&self) -> bool;
    /// The job is stopping: end the input now (sources only).
    fn stop(&mut self, now_ns: u64) -> bool {
        let _ = now_ns;
        false
    }
}

/// A driver and the gate that says whether it may run.
type DriverSlot = (Box<dyn Driver>, Rc<Gate>);

/// Everything a worker's dataflow is built from and run with.
pub(crate) struct BuildCtx {
    pub(crate) index: usize,
    pub(crate) peers: usize,
    pub(crate) batch_size: usize,
    pub(crate) ring_capacity: usize,
    pub(crate) latency_budget_ns: u64,
    pub(crate) snapshot_interval_ns: u64,
    pub(crate) metrics: bool,
    pub(crate) clock: Clock,
    pub(crate) shared: Arc<JobShared>,
    pub(crate) wakers: Arc<Wakers>,
    pub(crate) counters: Rc<WorkerCounters>,
    operators: RefCell<Vec<(String, Rc<OpCounters>)>>,
    drivers: RefCell<Vec<DriverSlot>>,
    pub(crate) senders: RefCell<Vec<Rc<RefCell<dyn SenderDyn>>>>,
    pub(crate) timers: RefCell<Vec<Rc<RefCell<dyn Timed>>>>,
    pub(crate) sink_frontiers: RefCell<Vec<Rc<Cell<Timestamp>>>>,
    latency: RefCell<Histogram<u64>>,
    edges: Cell<usize>,
}

impl BuildCtx {
    pub(crate) fn new(index: usize, config: &Config, clock: Clock, shared: Arc<JobShared>) -> Self {
        Self {
            index,
            peers: config.workers,
            batch_size: config.batch_size,
            ring_capacity: config.ring_capacity,
            latency_budget_ns: config.latency_budget.as_nanos() as u64,
            snapshot_interval_ns: config.snapshot_interval.as_nanos() as u64,
            metrics: config.metrics,
            clock,
            wakers: Arc::clone(&shared.wakers),
            shared,
            counters: Rc::default(),
            operators: RefCell::default(),
            drivers: RefCell::default(),
            senders: RefCell::default(),
            timers: RefCell::default(),
            sink_frontiers: RefCell::default(),
            latency: RefCell::new(Histogram::new(3).expect("3 significant digits is valid")),
            edges: Cell::new(0),
        }
    }

    /// Registers an operator's counters under `name`.
    pub(crate) fn operator(&self, name: &str) -> Rc<OpCounters> {
        let counters = Rc::new(OpCounters::default());
        self.operators
            .borrow_mut()
            .push((name.to_owned(), Rc::clone(&counters)));
        counters
    }

    pub(crate) fn add_driver(&self, driver: Box<dyn Driver>, gate: Rc<Gate>) {
        self.drivers.borrow_mut().push((driver, gate));
    }

    pub(crate) fn next_edge(&self) -> usize {
        let edge = self.edges.get();
        self.edges.set(edge + 1);
        edge
    }

    pub(crate) fn record_latency(&self, latency_ns: u64, count: u64) {
        let mut histogram = self.latency.borrow_mut();
        // The histogram resizes itself to fit; only a value beyond u64's range could fail,
        // and that one is clamped rather than lost.
        if histogram.record_n(latency_ns.max(1), count).is_err() {
            histogram.saturating_record_n(latency_ns.max(1), count);
        }
    }

    /// Copies the counters into the collector.
    fn publish(&self, now_ns: u64, senders: &[Rc<RefCell<dyn SenderDyn>>]) {
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
            operators: self
                .operators
                .borrow()
                .iter()
                .map(|(name, ops)| OperatorMetrics {
                    name: name.clone(),
                    records_in: ops.records_in.get(),
                    records_out: ops.records_out.get(),
                })
                .collect(),
        };
        let mut fill = vec![0.0_f32; self.peers];
        for sender in senders {
            sender.borrow().fill(&mut fill);
        }
        let mut latency = self.latency.borrow_mut();
        let source_time = c.source_time.get();
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
                match &mut snapshot.latency_ns {
                    Some(total) => {
                        // Same bounds on both sides (auto-resizing), so adding cannot fail.
                        let _ = total.add(&*latency);
                    }
                    None => snapshot.latency_ns = Some(latency.clone()),
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
        });
        latency.reset();
    }
}

/// The build-time handle of one worker: every worker runs the same build closure with its own
/// `Worker` (SPMD) and gets its own share of the input.
pub struct Worker {
    pub(crate) ctx: Rc<BuildCtx>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.ctx.index)
            .field("peers", &self.ctx.peers)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// This worker's index, `0..peers`.
    pub fn index(&self) -> usize {
        self.ctx.index
    }

    /// The number of workers in the job.
    pub fn peers(&self) -> usize {
        self.ctx.peers
    }

    /// Records per batch (from [`Config::batch_size`]).
    pub fn batch_size(&self) -> usize {
        self.ctx.batch_size
    }

    /// The job clock shared by all workers (watermark stamps and latencies use it).
    pub fn clock(&self) -> Clock {
        self.ctx.clock
    }

    /// A handle to record latency samples into this worker's histogram (for per-record
    /// latency of un-windowed queries).
    pub fn latency(&self) -> LatencyRecorder {
        LatencyRecorder {
            ctx: Rc::clone(&self.ctx),
        }
    }

    /// Adds a source; the worker polls it for at most `batch_size` records at a time.
    pub fn source<S: Source>(&mut self, source: S) -> Stream<S::Item> {
        let gate = Rc::new(Gate::default());
        let port = Rc::new(Port::new(Rc::clone(&self.ctx.counters)));
        let driver = SourceDriver {
            source,
            batch: Vec::with_capacity(self.ctx.batch_size),
            out: Rc::clone(&port),
            watermark: NO_PROGRESS,
            ops: self.ctx.operator("source"),
            counters: Rc::clone(&self.ctx.counters),
            batch_size: self.ctx.batch_size,
            ended: false,
        };
        self.ctx.add_driver(Box::new(driver), Rc::clone(&gate));
        Stream {
            port,
            gates: vec![gate],
            ctx: Rc::clone(&self.ctx),
        }
    }
}

/// Records latency samples (ns) into the worker's histogram; see [`Worker::latency`].
pub struct LatencyRecorder {
    ctx: Rc<BuildCtx>,
}

impl LatencyRecorder {
    /// Records one sample of `latency_ns` nanoseconds (ignored when metrics are off).
    pub fn record(&self, latency_ns: u64) {
        if self.ctx.metrics {
            self.ctx.record_latency(latency_ns, 1);
        }
    }

    /// The job clock's current time in ns.
    pub fn now_ns(&self) -> u64 {
        self.ctx.clock.now_ns()
    }
}

impl std::fmt::Debug for LatencyRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyRecorder").finish_non_exhaustive()
    }
}

struct SourceDriver<S: Source> {
    source: S,
    batch: Vec<S::Item>,
    out: Rc<Port<S::Item>>,
    watermark: Timestamp,
    ops: Rc<OpCounters>,
    counters: Rc<WorkerCounters>,
    batch_size: usize,
    ended: bool,
}

impl<S: Source> SourceDriver<S> {
    fn advance(&mut self, watermark: Timestamp, now_ns: u64) -> bool {
        if watermark > self.watermark {
            self.watermark = watermark;
            let stamp = if watermark == END_OF_INPUT {
                now_ns
            } else {
                self.source.watermark_stamp_ns(now_ns).min(now_ns)
            };
            self.out.watermark(Watermark::new(watermark, stamp));
            true
        } else {
            false
        }
    }

    fn end(&mut self, now_ns: u64) {
        if !self.ended {
            self.ended = true;
            self.advance(END_OF_INPUT, now_ns);
        }
    }
}

impl<S: Source> Driver for SourceDriver<S> {
    fn poll(&mut self, now_ns: u64, _gate: &Gate) -> DriverPoll {
        if self.ended {
            return DriverPoll {
                done: true,
                ..DriverPoll::default()
            };
        }
        self.batch.clear();
        match self.source.poll(&mut self.batch, self.batch_size, now_ns) {
            SourcePoll::Ready { watermark } => {
                let n = self.batch.len() as u64;
                if n > 0 {
                    WorkerCounters::add(&self.counters.events_in, n);
                    self.ops.add(n, n);
                    self.out.push(&mut self.batch, 0);
                }
                if let Some(t) = self.source.event_time() {
                    let newest = &self.counters.source_time;
                    newest.set(Some(newest.get().map_or(t, |m| m.max(t))));
                }
                let advanced = self.advance(watermark, now_ns);
                DriverPoll {
                    progress: n > 0 || advanced,
                    done: false,
                    wake_at: (n == 0 && !advanced).then_some(now_ns + PENDING_SOURCE_PARK_NS),
                }
            }
            SourcePoll::Pending { watermark, wake_at } => {
                let advanced = self.advance(watermark, now_ns);
                DriverPoll {
                    progress: advanced,
                    done: false,
                    wake_at: Some(wake_at.unwrap_or(now_ns + PENDING_SOURCE_PARK_NS)),
                }
            }
            SourcePoll::Done => {
                self.end(now_ns);
                DriverPoll {
                    progress: true,
                    done: true,
                    wake_at: None,
                }
            }
        }
    }

    fn has_work(&self) -> bool {
        false
    }

    fn stop(&mut self, now_ns: u64) -> bool {
        // Ending the input is the only way to stop: the rest of the dataflow drains normally.
        let was = self.ended;
        self.end(now_ns);
        !was
    }
}

/// Why a worker's loop ended early.
pub(crate) struct Aborted;

#[derive(Clone, Copy)]
enum Spent {
    Busy,
    Idle,
    Backpressured,
}

/// Runs the worker's dataflow to completion (or until the job aborts).
pub(crate) fn run(ctx: &Rc<BuildCtx>) -> Result<(), Aborted> {
    let mut drivers = std::mem::take(&mut *ctx.drivers.borrow_mut());
    let senders = std::mem::take(&mut *ctx.senders.borrow_mut());
    let timers = std::mem::take(&mut *ctx.timers.borrow_mut());
    let result = run_loop(ctx, &mut drivers, &senders, &timers);
    // Break the reference cycles between nodes and the context before the thread ends.
    drop(timers);
    drop(senders);
    drop(drivers);
    ctx.sink_frontiers.borrow_mut().clear();
    result
}

fn run_loop(
    ctx: &Rc<BuildCtx>,
    drivers: &mut [DriverSlot],
    senders: &[Rc<RefCell<dyn SenderDyn>>],
    timers: &[Rc<RefCell<dyn Timed>>],
) -> Result<(), Aborted> {
    let shared = Arc::clone(&ctx.shared);
    let me = ctx.index;
    let clock = ctx.clock;
    let mut done = vec![false; drivers.len()];
    let mut stopped = false;
    let mut last_ns = clock.now_ns();
    let mut spent = Spent::Busy;
    let mut next_publish = last_ns + ctx.snapshot_interval_ns;
    loop {
        if shared.abort.load(Ordering::Relaxed) {
            return Err(Aborted);
        }
        let now = clock.now_ns();
        if ctx.metrics {
            let cell = match spent {
                Spent::Busy => &ctx.counters.busy_ns,
                Spent::Idle => &ctx.counters.idle_ns,
                Spent::Backpressured => &ctx.counters.backpressured_ns,
            };
            WorkerCounters::add(cell, now.saturating_sub(last_ns));
            if now >= next_publish {
                ctx.publish(now, senders);
                next_publish = now + ctx.snapshot_interval_ns;
            }
        }
        last_ns = now;

        let mut progress = false;
        if !stopped
            && shared
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
        {
            stopped = true;
            for (driver, _) in drivers.iter_mut() {
                progress |= driver.stop(now);
            }
        }
        for sender in senders {
            progress |= sender.borrow_mut().retry_pending();
        }
        let mut wake_at = if ctx.metrics { next_publish } else { u64::MAX };
        let mut all_done = true;
        for (i, (driver, gate)) in drivers.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            all_done = false;
            if gate.blocked() {
                continue;
            }
            let poll = driver.poll(now, gate);
            progress |= poll.progress;
            done[i] = poll.done;
            if let Some(at) = poll.wake_at {
                wake_at = wake_at.min(at);
            }
        }
        for timer in timers {
            let next = timer.borrow().next_timer();
            match next {
                Some(at) if at <= now => {
                    timer.borrow_mut().fire(now);
                    progress = true;
                }
                Some(at) => wake_at = wake_at.min(at),
                None => {}
            }
        }
        for sender in senders {
            let mut sender = sender.borrow_mut();
            if let Some(oldest) = sender.oldest_ns() {
                let due = oldest + ctx.latency_budget_ns;
                if now >= due {
                    progress |= sender.flush_all();
                } else {
                    wake_at = wake_at.min(due);
                }
            }
        }
        let pending = senders.iter().any(|s| s.borrow().is_pending());
        if all_done && done.iter().all(|d| *d) && !pending {
            if !senders.iter().any(|s| s.borrow_mut().flush_all()) {
                break;
            }
            continue;
        }
        if progress {
            spent = Spent::Busy;
            continue;
        }
        // Nothing moved: flush partial batches before going to sleep.
        let mut flushed = false;
        for sender in senders {
            flushed |= sender.borrow_mut().flush_all();
        }
        if flushed {
            spent = Spent::Busy;
            continue;
        }
        spent = if pending {
            Spent::Backpressured
        } else {
            Spent::Idle
        };
        let ready = |drivers: &[DriverSlot]| {
            shared.abort.load(Ordering::Relaxed)
                || drivers
                    .iter()
                    .zip(&done)
                    .any(|((driver, gate), done)| !done && !gate.blocked() && driver.has_work())
                || senders.iter().any(|s| s.borrow().can_retry())
        };
        // A short, bounded spin first: a peer that is mid-batch usually delivers (or frees
        // ring space) within microseconds, and a park/unpark round trip costs more than that.
        let mut spun = false;
        for _ in 0..if shared.spin { SPIN_CHECKS } else { 0 } {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            if ready(drivers) {
                spun = true;
                break;
            }
        }
        if spun {
            continue;
        }
        ctx.wakers.about_to_sleep(me);
        if !ready(drivers) {
            let now = clock.now_ns();
            let wait = Duration::from_nanos(wake_at.saturating_sub(now)).min(MAX_PARK);
            if !wait.is_zero() {
                std::thread::park_timeout(wait);
            }
        }
        ctx.wakers.done_sleeping(me);
    }
    let now = clock.now_ns();
    if ctx.metrics {
        let cell = match spent {
            Spent::Busy => &ctx.counters.busy_ns,
            Spent::Idle => &ctx.counters.idle_ns,
            Spent::Backpressured => &ctx.counters.backpressured_ns,
        };
        WorkerCounters::add(cell, now.saturating_sub(last_ns));
    }
    ctx.publish(now, senders);
    Ok(())
}
