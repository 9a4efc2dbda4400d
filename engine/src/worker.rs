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
//! space), held (nothing moved and a source was held back by its alignment, waiting for a
//! slower peer) or idle.
//!
//! **Metrics.** Counters are plain `Cell`s updated per batch; every snapshot interval (and at
//! the end) the worker copies them into the job's [`Collector`](crate::Collector).
//!
//! **Layer.** Above [`stream`](crate::stream): the loop drives nodes only through the build
//! context's traits (`Driver`, `SenderDyn`, `Timed`), so it imports no exchange or operator
//! code, and [`Worker::source`] builds the first [`Stream`] of a chain. Only
//! [`execute`](fn@crate::execute) imports from here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::align::Alignment;
use crate::context::{BuildCtx, Driver, DriverPoll, DriverSlot, SenderDyn, Timed};
use crate::counters::{OpCounters, WorkerCounters};
use crate::gate::Gate;
use crate::port::Port;
use crate::source::{Source, SourcePoll};
use crate::stream::Stream;
use crate::time::{Clock, END_OF_INPUT, NO_PROGRESS, Timestamp, Watermark};

/// Checks for work (each after 64 spin-loop hints, a few microseconds in all) before parking.
const SPIN_CHECKS: usize = 32;
/// How long a worker parks at most when nothing says when to wake (safety net).
const MAX_PARK: Duration = Duration::from_millis(10);
/// How long to wait before polling a source again that is pending without a wake time.
const PENDING_SOURCE_PARK_NS: u64 = 1_000_000;

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

    /// Records per batch (from [`Config::batch_size`](crate::Config::batch_size)).
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
        let ops = self.ctx.operator("source", &[]);
        let from = Some(ops.id);
        let driver = SourceDriver {
            source,
            batch: Vec::with_capacity(self.ctx.batch_size),
            out: Rc::clone(&port),
            watermark: NO_PROGRESS,
            ops,
            counters: Rc::clone(&self.ctx.counters),
            batch_size: self.ctx.batch_size,
            ended: false,
            counted: 0,
            alignment: self.ctx.next_source_alignment(),
        };
        self.ctx.add_driver(Box::new(driver), Rc::clone(&gate));
        Stream {
            port,
            gates: vec![gate],
            ctx: Rc::clone(&self.ctx),
            from,
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
    /// Input events counted into `events_in` so far.
    counted: u64,
    /// This source's place in the job's source alignment, if sources are aligned.
    alignment: Option<Alignment>,
}

impl<S: Source> SourceDriver<S> {
    /// Counts the input events consumed since the last call: what the source says it consumed
    /// ([`Source::input_events`]), else the `emitted` records.
    fn count_input(&mut self, emitted: u64) {
        let consumed = self
            .source
            .input_events()
            .unwrap_or(self.counted + emitted)
            .max(self.counted);
        WorkerCounters::add(&self.counters.events_in, consumed - self.counted);
        self.counted = consumed;
    }

    fn advance(&mut self, watermark: Timestamp, now_ns: u64) -> bool {
        if watermark > self.watermark {
            self.watermark = watermark;
            let stamp = if watermark == END_OF_INPUT {
                now_ns
            } else {
                self.source.watermark_stamp_ns(now_ns).min(now_ns)
            };
            self.out.watermark(Watermark::new(watermark, stamp));
            if let Some(alignment) = &mut self.alignment {
                alignment.publish(watermark);
            }
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
    fn counters(&self) -> Rc<OpCounters> {
        Rc::clone(&self.ops)
    }

    fn poll(&mut self, now_ns: u64, _gate: &Gate) -> DriverPoll {
        if self.ended {
            return DriverPoll {
                done: true,
                ..DriverPoll::default()
            };
        }
        if let Some(alignment) = &mut self.alignment
            && alignment.must_wait(self.watermark)
        {
            // Ahead of a peer's share: the peer wakes this worker when it catches up.
            return DriverPoll {
                progress: false,
                done: false,
                wake_at: Some(now_ns + PENDING_SOURCE_PARK_NS),
                held: true,
            };
        }
        self.batch.clear();
        match self.source.poll(&mut self.batch, self.batch_size, now_ns) {
            SourcePoll::Ready { watermark } => {
                let n = self.batch.len() as u64;
                self.count_input(n);
                if n > 0 {
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
                    held: false,
                }
            }
            SourcePoll::Pending { watermark, wake_at } => {
                let advanced = self.advance(watermark, now_ns);
                DriverPoll {
                    progress: advanced,
                    done: false,
                    wake_at: Some(wake_at.unwrap_or(now_ns + PENDING_SOURCE_PARK_NS)),
                    held: false,
                }
            }
            SourcePoll::Done => {
                self.count_input(0);
                self.end(now_ns);
                DriverPoll {
                    progress: true,
                    done: true,
                    wake_at: None,
                    held: false,
                }
            }
        }
    }

    fn has_work(&self) -> bool {
        // A source held by its alignment has work once its peers have caught up.
        self.alignment
            .as_ref()
            .is_some_and(|a| a.released(self.watermark))
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
    /// Idle while a source was held by its alignment (waiting for a slower peer).
    Held,
}

impl Spent {
    /// The counter this kind of time is charged to.
    fn cell(self, counters: &WorkerCounters) -> &Cell<u64> {
        match self {
            Spent::Busy => &counters.busy_ns,
            Spent::Idle => &counters.idle_ns,
            Spent::Backpressured => &counters.backpressured_ns,
            Spent::Held => &counters.held_ns,
        }
    }
}

/// Runs the worker's dataflow to completion (or until the job aborts).
pub(crate) fn run(ctx: &Rc<BuildCtx>) -> Result<(), Aborted> {
    let mut drivers = std::mem::take(&mut *ctx.drivers.borrow_mut());
    let senders = std::mem::take(&mut *ctx.senders.borrow_mut());
    let timers = std::mem::take(&mut *ctx.timers.borrow_mut());
    let driver_ops: Vec<_> = drivers.iter().map(|(d, _)| d.counters()).collect();
    let timer_ops: Vec<_> = timers.iter().map(|t| t.borrow().counters()).collect();
    let sender_ops: Vec<_> = senders.iter().map(|s| s.borrow().counters()).collect();
    let nodes = Nodes {
        drivers: &mut drivers,
        driver_ops: &driver_ops,
        senders: &senders,
        sender_ops: &sender_ops,
        timers: &timers,
        timer_ops: &timer_ops,
    };
    let result = run_loop(ctx, nodes);
    // Break the reference cycles between nodes and the context before the thread ends.
    drop(timers);
    drop(senders);
    drop(drivers);
    ctx.sink_frontiers.borrow_mut().clear();
    result
}

/// What the loop runs: the worker's drivers, senders and timed operators, with the counters
/// their time is charged to.
struct Nodes<'a> {
    drivers: &'a mut [DriverSlot],
    driver_ops: &'a [Rc<OpCounters>],
    senders: &'a [Rc<RefCell<dyn SenderDyn>>],
    sender_ops: &'a [Rc<OpCounters>],
    timers: &'a [Rc<RefCell<dyn Timed>>],
    timer_ops: &'a [Rc<OpCounters>],
}

fn run_loop(ctx: &Rc<BuildCtx>, nodes: Nodes<'_>) -> Result<(), Aborted> {
    let Nodes {
        drivers,
        driver_ops,
        senders,
        sender_ops,
        timers,
        timer_ops,
    } = nodes;
    let profiler = &ctx.counters.profiler;
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
            let cell = spent.cell(&ctx.counters);
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
        for (sender, ops) in senders.iter().zip(sender_ops) {
            let mut sender = sender.borrow_mut();
            progress |= if sender.is_pending() {
                profiler.time_if(ops, || sender.retry_pending(), |sent| *sent)
            } else {
                sender.retry_pending()
            };
        }
        let mut wake_at = if ctx.metrics { next_publish } else { u64::MAX };
        let mut all_done = true;
        let mut held = false;
        for (i, ((driver, gate), ops)) in drivers.iter_mut().zip(driver_ops).enumerate() {
            if done[i] {
                continue;
            }
            all_done = false;
            if gate.blocked() {
                continue;
            }
            let poll = profiler.time_if(ops, || driver.poll(now, gate), |p| p.progress);
            progress |= poll.progress;
            held |= poll.held;
            done[i] = poll.done;
            if let Some(at) = poll.wake_at {
                wake_at = wake_at.min(at);
            }
        }
        for (timer, ops) in timers.iter().zip(timer_ops) {
            let next = timer.borrow().next_timer();
            match next {
                Some(at) if at <= now => {
                    profiler.time(ops, || timer.borrow_mut().fire(now));
                    progress = true;
                }
                Some(at) => wake_at = wake_at.min(at),
                None => {}
            }
        }
        for (sender, ops) in senders.iter().zip(sender_ops) {
            let mut sender = sender.borrow_mut();
            if let Some(oldest) = sender.oldest_ns() {
                let due = oldest + ctx.latency_budget_ns;
                if now >= due {
                    progress |= profiler.time_if(ops, || sender.flush_all(), |sent| *sent);
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
        for (sender, ops) in senders.iter().zip(sender_ops) {
            let mut sender = sender.borrow_mut();
            flushed |= profiler.time_if(ops, || sender.flush_all(), |sent| *sent);
        }
        if flushed {
            spent = Spent::Busy;
            continue;
        }
        spent = if pending {
            Spent::Backpressured
        } else if held {
            Spent::Held
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
        let cell = spent.cell(&ctx.counters);
        WorkerCounters::add(cell, now.saturating_sub(last_ns));
    }
    ctx.publish(now, senders);
    Ok(())
}
