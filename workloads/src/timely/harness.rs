//! The harness shared by the timely and differential adapters: starting workers from a
//! [`RunSpec`], the source operator of each worker, the digest sink, metrics publishing and the
//! final [`RunReport`].
//!
//! # Time
//!
//! The timely timestamp of every record is its event time in milliseconds (`u64`). Each worker's
//! source holds one capability and downgrades it to its split's watermark (`max timestamp -
//! out-of-orderness`) after every batch, and drops it at the end of input (the frontier becomes
//! empty: +infinity). A record at time `t >= watermark` is sent under a capability delayed to
//! `t`. Downstream, an operator input's frontier is the minimum watermark over all splits, so a
//! window `[start, end)` is complete exactly when the frontier is at or past `end`, the same rule
//! as the references. Records can never be late: timely does not deliver a record at a time the
//! frontier has passed, so `late` is structurally zero and reported as such.
//!
//! # Latency
//!
//! Each source logs `(watermark, instant)` whenever its watermark advances. A windowed result at
//! time `t` (its window's end) is complete when the last split's watermark reached `t`; its
//! latency is the sink's wall clock minus that instant. This needs every source in this process,
//! so it is observed in single-process runs only, and only for queries whose results are tied to
//! a closing time (the adapter says which).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::generic::operator::source;
use timely::dataflow::{Scope, Stream};
use timely::worker::Worker;
use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};

use super::cluster::TimelyCluster;
use crate::digest::{ResultRow, RowEncoder};
use crate::job::{
    Job, Result, RunError, RunLength, RunSpec, SourceMode, StopSignal, panic_message,
};
use crate::report::{DigestSummary, LatencySummary, Machine, RunReport, Versions, WorkerReport};
use crate::split::{Replay, Split, Timestamped, WATERMARK_END};

/// Events a source emits per activation before it yields to the other operators.
pub(crate) const SOURCE_BATCH: usize = 4096;
/// How often workers copy their counters out and the driver publishes a snapshot.
const PUBLISH_EVERY: Duration = weir_engine::metrics::DEFAULT_SNAPSHOT_INTERVAL;
/// Longest a worker parks before it looks at the stop signal and publishes again.
const PARK_AT_MOST: Duration = Duration::from_millis(20);

/// Version strings of the pinned peer engines (the root `Cargo.toml` pins them exactly).
pub(crate) const TIMELY_VERSION: &str = "0.32.0";
/// See [`TIMELY_VERSION`].
pub(crate) const DIFFERENTIAL_VERSION: &str = "0.26.0";

/// How a worker's source was set up: its split of the input and its watermark rule.
pub(crate) struct SourceSetup<S> {
    /// The split's events (generated on the fly; the harness records them first in replay mode).
    pub(crate) split: S,
    /// Out-of-orderness subtracted from the maximum timestamp to give the watermark, ms.
    pub(crate) out_of_orderness_ms: u64,
    /// The generator's base time (epoch ms of event 0), for pacing.
    pub(crate) base_time_ms: u64,
}

/// One worker's counters, written by that worker and read by the driver.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerCell {
    /// Set once every worker has built its dataflow: the source may start.
    go: AtomicBool,
    events_in: AtomicU64,
    records_out: AtomicU64,
    busy_ns: AtomicU64,
    idle_ns: AtomicU64,
    dropped: AtomicU64,
    /// The source's watermark (event-time ms; `u64::MAX` after the end of input).
    watermark: AtomicU64,
    /// The newest event timestamp the source produced.
    max_ts: AtomicU64,
    /// The frontier at this worker's sink (`u64::MAX` once empty).
    sink_frontier: AtomicU64,
}

/// State shared by the driver and the workers of this process.
pub(crate) struct Shared {
    /// Per local worker.
    pub(crate) workers: Vec<WorkerCell>,
    /// Per local worker: `(watermark, instant)` each time its source's watermark advanced.
    clocks: Vec<Mutex<VecDeque<(u64, Instant)>>>,
    /// When the first source started producing (the job's clock).
    clock_start: OnceLock<Instant>,
    /// Result latencies merged from the sinks, ns.
    latency: Mutex<Histogram<u64>>,
    /// Whether latency is observable in this run.
    pub(crate) latency_observable: bool,
    /// Set when a worker failed: every worker leaves its loop.
    abort: AtomicBool,
    failure: Mutex<Option<String>>,
    /// Set when a source ended before its split did (stop, duration limit, failure).
    stopped_early: AtomicBool,
    /// Raised by the user (or the duration limit): sources end their input.
    stop: StopSignal,
    /// The run's length.
    length: RunLength,
    /// Paced emission rate, events/s of wall time.
    rate: Option<u64>,
    /// Whether sources replay pre-generated events.
    replay: bool,
    /// Whether result rows are kept for `--output`.
    pub(crate) keep_rows: bool,
    /// Global index of this process's first worker.
    first_worker: usize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn local(&self, worker_index: usize) -> usize {
        worker_index - self.first_worker
    }

    fn elapsed_ns(&self) -> u64 {
        self.clock_start
            .get()
            .map_or(0, |s| s.elapsed().as_nanos() as u64)
    }

    /// The instant at which every source's watermark had reached `time`, if all have.
    fn closed_at(&self, time: u64) -> Option<Instant> {
        let mut latest: Option<Instant> = None;
        for clock in &self.clocks {
            let log = clock.lock().unwrap_or_else(PoisonError::into_inner);
            let i = log.partition_point(|&(wm, _)| wm < time);
            let at = log.get(i)?.1;
            latest = Some(latest.map_or(at, |l| l.max(at)));
        }
        latest
    }

    /// Drops watermark log entries no sink can ask for any more.
    fn prune_clocks(&self) {
        let floor = self
            .workers
            .iter()
            .map(|w| w.sink_frontier.load(Ordering::Relaxed))
            .min()
            .unwrap_or(0);
        for clock in &self.clocks {
            let mut log = clock.lock().unwrap_or_else(PoisonError::into_inner);
            // Keep the first entry at or past the floor; everything before it is unreachable.
            let keep_from = log.partition_point(|&(wm, _)| wm < floor);
            log.drain(..keep_from);
        }
    }

    fn fail(&self, message: String) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert(message);
        self.abort.store(true, Ordering::Release);
    }
}

/// The order-independent digest with signed multiplicities: a retraction subtracts its row's
/// hash, so folding a changelog gives the digest of its final multiset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SignedDigest {
    /// Net rows.
    pub(crate) rows: i64,
    /// Sum of `diff * hash` mod 2^128.
    pub(crate) sum: u128,
}

impl SignedDigest {
    /// Adds `diff` copies of a row whose hash is `hash`.
    pub(crate) fn add(&mut self, hash: u128, diff: i64) {
        self.rows += diff;
        self.sum = self
            .sum
            .wrapping_add(hash.wrapping_mul(i128::from(diff) as u128));
    }

    /// Merges another worker's digest.
    pub(crate) fn merge(&mut self, other: SignedDigest) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }
}

/// What one worker hands back at the end.
#[derive(Debug, Default)]
pub(crate) struct WorkerResult {
    digest: SignedDigest,
    /// `(json, diff)` of every result update, when `--output` was asked for.
    rows: Vec<(String, i64)>,
    events: u64,
}

/// Per-worker context given to a query's dataflow builder.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
}

/// A worker-local slot the sink fills and the worker loop reads at the end.
pub(crate) type ResultSlot = std::rc::Rc<std::cell::RefCell<WorkerResult>>;

/// The source operator of one worker: emits its split's events at their timestamps and holds a
/// capability at the split's watermark (`max timestamp emitted - out-of-orderness`).
pub(crate) fn event_source<'s, S>(
    scope: Scope<'s, u64>,
    ctx: &Ctx,
    setup: SourceSetup<S>,
) -> Stream<'s, u64, Vec<S::Event>>
where
    S: Split + 'static,
    S::Event: Timestamped + Clone + 'static,
{
    let shared = Arc::clone(&ctx.shared);
    let local = shared.local(scope.index());
    let SourceSetup {
        split,
        out_of_orderness_ms,
        base_time_ms,
    } = setup;
    // Replay: generate the split into memory now, before the clock starts.
    let mut input: Input<S> = if shared.replay {
        let mut split = split;
        Input::Replay(Replay::record(&mut split, out_of_orderness_ms))
    } else {
        Input::Generate(split)
    };
    let limit = match shared.length {
        RunLength::Events(_) => None,
        RunLength::Duration(d) => Some(d),
    };
    source(scope, "Source", move |capability, info| {
        let activator = scope.activator_for(info.address);
        let mut cap = Some(capability);
        let mut buffer: VecDeque<S::Event> = VecDeque::with_capacity(SOURCE_BATCH);
        let mut batch: Vec<S::Event> = Vec::with_capacity(SOURCE_BATCH);
        let mut more = true;
        let mut produced = 0u64;
        let mut max_ts = 0u64;
        let mut watermark = 0u64;
        move |output| {
            let Some(held) = cap.as_mut() else { return };
            if !shared.workers[local].go.load(Ordering::Acquire) {
                // The other workers are still building (or generating their replay buffers).
                activator.activate_after(Duration::from_millis(1));
                return;
            }
            let start = *shared.clock_start.get_or_init(Instant::now);
            let cell = &shared.workers[local];
            let elapsed = start.elapsed();
            let stopped = shared.stop.is_raised()
                || shared.abort.load(Ordering::Relaxed)
                || limit.is_some_and(|d| elapsed >= d);
            if buffer.is_empty() && more && !stopped {
                batch.clear();
                more = input.fill(&mut batch, SOURCE_BATCH);
                buffer.extend(batch.drain(..));
            }
            // Paced runs release an event once its scheduled time (its event time on the
            // wall clock) has come.
            let due = shared.rate.map_or(u64::MAX, |_| {
                base_time_ms.saturating_add(elapsed.as_millis() as u64)
            });
            let mut wait_ms = None;
            if !stopped {
                // Emit runs of equal timestamps, each under a capability for its time.
                while let Some(first) = buffer.front() {
                    let ts = first.timestamp();
                    if ts > due {
                        wait_ms = Some(ts - due);
                        break;
                    }
                    let time_cap = held.delayed(&ts);
                    let mut session = output.session(&time_cap);
                    while let Some(e) = buffer.pop_front_if(|e| e.timestamp() == ts) {
                        session.give(e);
                        produced += 1;
                    }
                    max_ts = max_ts.max(ts);
                }
            }
            let ended = stopped || (!more && buffer.is_empty());
            if stopped {
                shared.stopped_early.store(true, Ordering::Relaxed);
            }
            if ended {
                watermark = WATERMARK_END;
                cap = None;
            } else {
                let wm = max_ts.saturating_sub(out_of_orderness_ms);
                if wm > watermark {
                    watermark = wm;
                    held.downgrade(&wm);
                }
                match wait_ms {
                    Some(ms) => activator.activate_after(Duration::from_millis(ms.min(50))),
                    None => activator.activate(),
                }
            }
            if shared.latency_observable {
                let mut log = shared.clocks[local]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if log.back().is_none_or(|&(wm, _)| wm < watermark) {
                    log.push_back((watermark, Instant::now()));
                }
            }
            cell.max_ts.store(max_ts, Ordering::Relaxed);
            cell.watermark.store(watermark, Ordering::Relaxed);
            cell.events_in.store(produced, Ordering::Relaxed);
        }
    })
}

/// A source's input: generated on the fly or replayed from memory.
enum Input<S: Split> {
    Generate(S),
    Replay(Replay<S::Event>),
}

impl<S> Input<S>
where
    S: Split,
    S::Event: Timestamped + Clone,
{
    fn fill(&mut self, out: &mut Vec<S::Event>, max: usize) -> bool {
        match self {
            Input::Generate(s) => s.fill(out, max),
            Input::Replay(r) => r.fill(out, max),
        }
    }
}

/// The sink of one worker: folds result updates into the digest, counts them, observes latency
/// and keeps the JSON rows for `--output`. `view` gives an update's row and multiplicity.
pub(crate) fn digest_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
) {
    let shared = Arc::clone(&ctx.shared);
    let local = shared.local(stream.scope().index());
    let observe = shared.latency_observable;
    let slot = std::rc::Rc::clone(slot);
    let mut histogram = new_histogram();
    let mut last_merge = Instant::now();
    let mut out = 0u64;
    let mut encoder = RowEncoder::new();
    stream.sink(Pipeline, "DigestSink", move |(input, frontier)| {
        let mut result = slot.borrow_mut();
        let WorkerResult { digest, rows, .. } = &mut *result;
        input.for_each(|cap, data| {
            let time = cap.least().copied().unwrap_or(u64::MAX);
            let mut n = 0u64;
            for update in data.iter() {
                let (row, diff) = view(update);
                digest.add(encoder.hash_row(row), diff);
                if shared.keep_rows {
                    rows.push((row.to_json(), diff));
                }
                n += diff.unsigned_abs();
            }
            out += n;
            if observe
                && n > 0
                && let Some(closed) = shared.closed_at(time)
            {
                let ns = closed.elapsed().as_nanos() as u64;
                // Out-of-range values are clamped by the histogram's bounds check below.
                let _ = histogram.record_n(ns.clamp(1, LATENCY_MAX_NS), n);
            }
        });
        let cell = &shared.workers[local];
        cell.records_out.store(out, Ordering::Relaxed);
        let f = frontier.frontier().first().copied().unwrap_or(u64::MAX);
        cell.sink_frontier.store(f, Ordering::Relaxed);
        if observe && (last_merge.elapsed() >= PUBLISH_EVERY || f == u64::MAX) {
            last_merge = Instant::now();
            let mut merged = shared
                .latency
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let _ = merged.add(&histogram);
            histogram.reset();
        }
    });
}

const LATENCY_MAX_NS: u64 = 600_000_000_000;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_NS, 3).expect("static bounds are valid")
}

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`), if the system says.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Everything a run needs besides the dataflow itself.
pub(crate) struct Launch {
    /// The engine's name in the report (`timely` or `differential`).
    pub(crate) engine: crate::job::EngineKind,
    /// Whether results are tied to a window's closing time (latency is observed).
    pub(crate) windowed: bool,
    /// Cluster mode, if any.
    pub(crate) cluster: Option<TimelyCluster>,
}

/// Starts `build` on timely workers as `spec` asks and returns the running job.
///
/// `build` constructs the query's dataflow on one worker (source, operators, sink) and returns
/// the slot its sink fills.
pub(crate) fn launch<F>(spec: &RunSpec, launch: Launch, build: F) -> Result<Job>
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot + Send + Sync + 'static,
{
    if spec.workers == 0 {
        return Err(RunError::Config(
            "--workers must be at least 1 (timely runs one worker thread per worker)".into(),
        ));
    }
    if let Some(rate) = spec.rate
        && rate != spec.event_rate
    {
        return Err(RunError::Config(format!(
            "--rate {rate} must equal --event-rate ({}) so that windows close in real time",
            spec.event_rate
        )));
    }
    let (config, first_worker) = match &launch.cluster {
        None => (timely::Config::process(spec.workers), 0),
        Some(c) => (c.config(spec.workers), c.process * spec.workers),
    };
    let local_workers = spec.workers;
    let shared = Arc::new(Shared {
        workers: (0..local_workers).map(|_| WorkerCell::default()).collect(),
        clocks: (0..local_workers)
            .map(|_| Mutex::new(VecDeque::new()))
            .collect(),
        clock_start: OnceLock::new(),
        latency: Mutex::new(new_histogram()),
        latency_observable: launch.cluster.is_none() && launch.windowed,
        abort: AtomicBool::new(false),
        failure: Mutex::new(None),
        stopped_early: AtomicBool::new(false),
        stop: StopSignal::new(),
        length: spec.length,
        rate: spec.rate,
        replay: spec.source == SourceMode::Replay,
        keep_rows: spec.output.is_some(),
        first_worker,
    });
    let collector = Collector::new();
    let stop = shared.stop.clone();
    let spec = spec.clone();
    let (c, s) = (collector.clone(), Arc::clone(&shared));
    let handle = std::thread::Builder::new()
        .name(format!("weir-{}-driver", launch.engine))
        .spawn(move || drive(&spec, &launch, config, &s, &c, build))
        .map_err(|e| RunError::Failed(format!("cannot start the driver thread: {e}")))?;
    Ok(Job::new(collector, stop, handle))
}

fn drive<F>(
    spec: &RunSpec,
    launch: &Launch,
    config: timely::Config,
    shared: &Arc<Shared>,
    collector: &Collector,
    build: F,
) -> Result<RunReport>
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot + Send + Sync + 'static,
{
    let launched = Instant::now();
    let ctx = Ctx {
        shared: Arc::clone(shared),
    };
    let cluster = launch.cluster.is_some();
    let guards = timely::execute(config, move |worker| {
        let ctx = ctx.clone();
        let shared = Arc::clone(&ctx.shared);
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| run_worker(worker, &ctx, &build)));
        match run {
            Ok(mut result) => {
                if cluster {
                    result = gather(worker, result);
                }
                (result, Instant::now())
            }
            Err(panic) => {
                shared.fail(format!(
                    "timely worker {} panicked: {}",
                    worker.index(),
                    panic_message(&*panic)
                ));
                (WorkerResult::default(), Instant::now())
            }
        }
    })
    .map_err(|e| RunError::Failed(format!("timely could not start its workers: {e}")))?;
    loop {
        let done = guards
            .guards()
            .iter()
            .all(std::thread::JoinHandle::is_finished);
        collector.publish(snapshot(spec, shared, false));
        if done {
            break;
        }
        std::thread::sleep(PUBLISH_EVERY);
    }
    let results: Vec<(WorkerResult, Instant)> = guards
        .join()
        .into_iter()
        .map(|r| r.map_err(|e| RunError::Failed(format!("a timely worker panicked: {e}"))))
        .collect::<Result<_>>()?;
    if let Some(message) = shared
        .failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(RunError::Failed(message));
    }
    let ended = results
        .iter()
        .map(|(_, at)| *at)
        .max()
        .unwrap_or_else(Instant::now);
    let start = *shared.clock_start.get_or_init(|| ended);
    let wall_s = ended
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(1e-9);
    let mut digest = SignedDigest::default();
    let mut events = 0;
    let mut rows = Vec::new();
    for (result, _) in results {
        digest.merge(result.digest);
        events += result.events;
        rows.extend(result.rows);
    }
    // A bounded input that ran to its end is `--events` events, whichever kinds the sources
    // generated (bid-only queries skip persons and auctions without generating them).
    if let RunLength::Events(n) = spec.length
        && !shared.stopped_early.load(Ordering::Relaxed)
        && (launch.cluster.is_none() || events > 0)
    {
        events = n;
    }
    if digest.rows < 0 {
        return Err(RunError::Failed(format!(
            "the {} job retracted more result rows than it produced ({} net); this is a bug in the adapter",
            launch.engine, digest.rows
        )));
    }
    if let Some(path) = &spec.output {
        write_rows(path, rows)?;
    }
    let last = snapshot(spec, shared, true);
    collector.publish(last.clone());
    let per_worker = last
        .workers
        .iter()
        .map(|w| WorkerReport {
            busy_s: w.busy_ns as f64 / 1e9,
            idle_s: w.idle_ns as f64 / 1e9,
            backpressured_s: 0.0,
            records: w.events_in,
        })
        .collect();
    let mut versions = Versions::weir();
    versions.timely = Some(TIMELY_VERSION.to_string());
    if launch.engine == crate::job::EngineKind::Differential {
        versions.differential = Some(DIFFERENTIAL_VERSION.to_string());
    }
    Ok(RunReport {
        schema_version: crate::report::SCHEMA_VERSION,
        engine: launch.engine.to_string(),
        workload: spec.workload.to_string(),
        query: spec.query.clone(),
        workers: spec.workers * launch.cluster.as_ref().map_or(1, |c| c.processes),
        pinning: false,
        source: spec.source.to_string(),
        events,
        rate: spec.rate,
        event_rate: spec.event_rate,
        startup_s: start.saturating_duration_since(launched).as_secs_f64(),
        wall_s,
        throughput_eps: events as f64 / wall_s,
        latency_ns: last
            .latency_ns
            .as_ref()
            .and_then(LatencySummary::from_histogram),
        digest: DigestSummary {
            rows: digest.rows as u64,
            hash: format!("{:032x}", digest.sum),
        },
        late: 0,
        dropped: last.dropped(),
        per_worker,
        machine: Machine::detect(),
        versions,
        command: spec.command.clone(),
    })
}

/// Builds the dataflow on one worker and steps it to completion.
fn run_worker<F>(worker: &mut Worker, ctx: &Ctx, build: &F) -> WorkerResult
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot,
{
    let shared = &ctx.shared;
    let local = shared.local(worker.index());
    let slot = build(worker, ctx);
    // Every worker has built its dataflow (and generated its replay buffer) before any source
    // starts the clock.
    let mut barrier = timely::synchronization::Barrier::new(worker);
    barrier.wait();
    drop(barrier);
    shared.workers[local].go.store(true, Ordering::Release);
    let cpu_at_start = thread_cpu_ns();
    let loop_start = Instant::now();
    let mut last_publish = Instant::now();
    let cell = &shared.workers[local];
    let publish = |cell: &WorkerCell| {
        let wall = loop_start.elapsed().as_nanos() as u64;
        if let (Some(now), Some(start)) = (thread_cpu_ns(), cpu_at_start) {
            let busy = now.saturating_sub(start).min(wall);
            cell.busy_ns.store(busy, Ordering::Relaxed);
            cell.idle_ns.store(wall - busy, Ordering::Relaxed);
        }
    };
    while worker.step_or_park(Some(PARK_AT_MOST)) {
        if shared.abort.load(Ordering::Relaxed) {
            break;
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
            publish(cell);
            if local == 0 && shared.latency_observable {
                shared.prune_clocks();
            }
        }
    }
    publish(cell);
    let mut result = std::mem::take(&mut *slot.borrow_mut());
    result.events = cell.events_in.load(Ordering::Relaxed);
    result
}

/// Cluster mode: sums every worker's digest and event count at worker 0 with a one-record
/// dataflow over timely's own network, so process 0 reports the whole job.
fn gather(worker: &mut Worker, mine: WorkerResult) -> WorkerResult {
    use timely::dataflow::channels::pact::Exchange;
    let partial = (
        mine.digest.rows,
        (mine.digest.sum >> 64) as u64,
        mine.digest.sum as u64,
        mine.events,
    );
    let total = std::rc::Rc::new(std::cell::RefCell::new((SignedDigest::default(), 0u64)));
    let sink = std::rc::Rc::clone(&total);
    worker.dataflow::<u64, _, _>(move |scope| {
        source(scope, "GatherSource", move |capability, _info| {
            let mut cap = Some(capability);
            move |output| {
                if let Some(c) = cap.take() {
                    output.session(&c).give(partial);
                }
            }
        })
        .container::<Vec<(i64, u64, u64, u64)>>()
        .sink(
            Exchange::new(|_: &(i64, u64, u64, u64)| 0),
            "Gather",
            move |(input, _)| {
                input.for_each(|_, data| {
                    let mut t = sink.borrow_mut();
                    for &(rows, hi, lo, events) in data.iter() {
                        t.0.merge(SignedDigest {
                            rows,
                            sum: (u128::from(hi) << 64) | u128::from(lo),
                        });
                        t.1 += events;
                    }
                });
            },
        );
    });
    while worker.step_or_park(Some(PARK_AT_MOST)) {}
    if worker.index() == 0 {
        let (digest, events) = *total.borrow();
        WorkerResult {
            digest,
            rows: mine.rows,
            events,
        }
    } else {
        WorkerResult {
            digest: SignedDigest::default(),
            rows: mine.rows,
            events: 0,
        }
    }
}

fn write_rows(path: &std::path::Path, mut rows: Vec<(String, i64)>) -> Result<()> {
    let io = |source| RunError::Io {
        context: format!("writing --output {}", path.display()),
        source,
    };
    if rows.iter().any(|(_, d)| *d != 1) {
        // An updating result: fold the changelog to its final rows.
        rows.sort_unstable();
        let mut folded: Vec<(String, i64)> = Vec::new();
        for (row, diff) in rows {
            match folded.last_mut() {
                Some((last, d)) if *last == row => *d += diff,
                _ => folded.push((row, diff)),
            }
        }
        rows = folded;
    }
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    for (row, diff) in rows {
        for _ in 0..diff.max(0) {
            out.write_all(row.as_bytes()).map_err(io)?;
            out.write_all(b"\n").map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn snapshot(spec: &RunSpec, shared: &Shared, finished: bool) -> MetricsSnapshot {
    let workers: Vec<WorkerMetrics> = shared
        .workers
        .iter()
        .map(|w| WorkerMetrics {
            events_in: w.events_in.load(Ordering::Relaxed),
            records_out: w.records_out.load(Ordering::Relaxed),
            busy_ns: w.busy_ns.load(Ordering::Relaxed),
            idle_ns: w.idle_ns.load(Ordering::Relaxed),
            dropped: w.dropped.load(Ordering::Relaxed),
            ..WorkerMetrics::default()
        })
        .collect();
    let frontier = shared
        .workers
        .iter()
        .map(|w| w.sink_frontier.load(Ordering::Relaxed))
        .min()
        .unwrap_or(0);
    let max_ts = shared
        .workers
        .iter()
        .map(|w| w.max_ts.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    MetricsSnapshot {
        elapsed_ns: shared.elapsed_ns(),
        workers,
        exchange_fill: None,
        latency_ns: shared.latency_observable.then(|| {
            shared
                .latency
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }),
        watermark_ms: (frontier > 0).then(|| i64::try_from(frontier).unwrap_or(i64::MAX)),
        source_time_ms: (max_ts > 0).then_some(max_ts as i64),
        events_total: match spec.length {
            RunLength::Events(n) => Some(n),
            RunLength::Duration(_) => None,
        },
        finished,
    }
}
