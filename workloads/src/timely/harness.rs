//! The harness shared by the timely and differential adapters: starting workers from a
//! [`RunSpec`] (pinned as asked, `pinning.rs`), the digest sink, metrics publishing and the
//! final [`RunReport`]. The source operator is in `source.rs`, failure handling and cluster
//! mode's control dataflow in `control.rs`.
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
//! frontier has passed, so `late` is structurally zero and reported as such. Queries without
//! event-time semantics use an out-of-orderness of 0 (the adapter decides).
//!
//! # Latency
//!
//! [`LatencyRule::Windows`]: each source logs `(watermark, instant)` whenever its watermark
//! advances. A windowed result at time `t` (its window's end) is complete when the last split's
//! watermark reached `t`; its latency is the sink's wall clock minus that instant.
//! [`LatencyRule::Sampled`]: the sources stamp the events with `id % 1024 == 0` with their
//! ingestion time (`sampling.rs`), results carry the stamp, and the sink records `now - stamp`.
//! Both need the job's clock and every source in this process, so latency is observed in
//! single-process runs only (the adapter says which rule a query follows).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::worker::Worker;
use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};

use super::cluster::TimelyCluster;
use super::control::{Control, describe_panic, gather, panic_after_events};
use super::pinning::{pin_worker, pinning_plan};
use crate::digest::{ResultRow, RowEncoder};
use crate::job::{Job, Result, RunError, RunLength, RunSpec, SourceMode, StopSignal};
use crate::report::{DigestSummary, LatencySummary, Machine, RunReport, Versions, WorkerReport};

/// Events a source emits per activation before it yields to the other operators.
pub(crate) const SOURCE_BATCH: usize = 4096;
/// How often workers copy their counters out and the driver publishes a snapshot.
const PUBLISH_EVERY: Duration = weir_engine::metrics::DEFAULT_SNAPSHOT_INTERVAL;
/// Longest a worker parks before it looks at the stop signal and publishes again.
pub(crate) const PARK_AT_MOST: Duration = Duration::from_millis(20);

/// Version strings of the pinned peer engines (the root `Cargo.toml` pins them exactly).
pub(crate) const TIMELY_VERSION: &str = "0.32.0";
/// See [`TIMELY_VERSION`].
pub(crate) const DIFFERENTIAL_VERSION: &str = "0.26.0";

/// One worker's counters, written by that worker and read by the driver.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerCell {
    /// Set once every worker has built its dataflow: the source may start.
    pub(crate) go: AtomicBool,
    pub(crate) events_in: AtomicU64,
    pub(crate) records_out: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    pub(crate) idle_ns: AtomicU64,
    pub(crate) dropped: AtomicU64,
    /// The source's watermark (event-time ms; `u64::MAX` after the end of input).
    pub(crate) watermark: AtomicU64,
    /// The newest event timestamp the source produced.
    pub(crate) max_ts: AtomicU64,
    /// The frontier at this worker's sink (`u64::MAX` once empty).
    pub(crate) sink_frontier: AtomicU64,
}

/// State shared by the driver and the workers of this process.
pub(crate) struct Shared {
    /// Per local worker.
    pub(crate) workers: Vec<WorkerCell>,
    /// Per local worker: `(watermark, instant)` each time its source's watermark advanced.
    pub(crate) clocks: Vec<Mutex<VecDeque<(u64, Instant)>>>,
    /// When the first source started producing (the job's clock).
    pub(crate) clock_start: OnceLock<Instant>,
    /// Result latencies merged from the sinks, ns.
    pub(crate) latency: Mutex<Histogram<u64>>,
    /// Whether latency is observable in this run.
    pub(crate) latency_observable: bool,
    /// How latency is observed.
    pub(crate) latency_rule: LatencyRule,
    /// Set when a worker failed: every worker leaves its loop.
    pub(crate) abort: AtomicBool,
    /// Set when the failure happened in this process (cluster mode tells the others).
    pub(crate) failed_here: AtomicBool,
    pub(crate) failure: Mutex<Option<String>>,
    /// This process's index in cluster mode.
    pub(crate) process: Option<usize>,
    /// Per local worker: the core it is pinned to, if pinning was asked for and is possible.
    pub(crate) pin_to: Vec<Option<core_affinity::CoreId>>,
    /// Local workers that were pinned.
    pub(crate) pinned: AtomicUsize,
    /// Failure injection (hidden, for tests): local worker 0's source panics after producing
    /// this many events.
    pub(crate) panic_after_events: Option<u64>,
    /// Set when a source ended before its split did (stop, duration limit, failure).
    pub(crate) stopped_early: AtomicBool,
    /// Raised by the user (or the duration limit): sources end their input.
    pub(crate) stop: StopSignal,
    /// The run's length.
    pub(crate) length: RunLength,
    /// Paced emission rate, events/s of wall time.
    pub(crate) rate: Option<u64>,
    /// Whether sources replay pre-generated events.
    pub(crate) replay: bool,
    /// Whether result rows are kept for `--output`.
    pub(crate) keep_rows: bool,
    /// Global index of this process's first worker.
    pub(crate) first_worker: usize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn local(&self, worker_index: usize) -> usize {
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

    /// Records a failure of this process (the first one wins) and aborts every local worker.
    pub(crate) fn fail(&self, message: String) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        if failure.is_none() {
            *failure = Some(message);
            self.failed_here.store(true, Ordering::Release);
        }
        self.abort.store(true, Ordering::Release);
    }

    /// Records the failure another process of the cluster reported (unless one is recorded).
    pub(crate) fn fail_remote(&self, message: &str) {
        let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.get_or_insert_with(|| {
            format!("another process of the timely cluster failed, so this one stopped: {message}")
        });
        self.abort.store(true, Ordering::Release);
    }

    /// Whether a failure was recorded (here or reported by another process).
    pub(crate) fn aborted(&self) -> bool {
        self.abort.load(Ordering::Acquire)
    }

    /// Whether the recorded failure happened in this process.
    pub(crate) fn failed_here(&self) -> bool {
        self.failed_here.load(Ordering::Acquire)
    }

    /// The recorded failure, if any.
    pub(crate) fn failure_message(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// This process's index in cluster mode.
    pub(crate) fn process(&self) -> Option<usize> {
        self.process
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
    pub(crate) digest: SignedDigest,
    /// `(json, diff)` of every result update, when `--output` was asked for.
    pub(crate) rows: Vec<(String, i64)>,
    pub(crate) events: u64,
}

/// Per-worker context given to a query's dataflow builder.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
}

/// A worker-local slot the sink fills and the worker loop reads at the end.
pub(crate) type ResultSlot = std::rc::Rc<std::cell::RefCell<WorkerResult>>;

/// The sink of one worker: folds result updates into the digest, counts them, observes window
/// latency (when the run's rule is [`LatencyRule::Windows`]) and keeps the JSON rows for
/// `--output`. `view` gives an update's row and multiplicity.
pub(crate) fn digest_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
) {
    any_sink(stream, ctx, slot, view, None);
}

/// [`digest_sink`] for results that carry the ingestion stamp of a sampled input record
/// (`stamp`, 0 when not sampled): per-record latency, [`LatencyRule::Sampled`].
pub(crate) fn sampled_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
    stamp: fn(&U) -> u64,
) {
    any_sink(stream, ctx, slot, view, Some(stamp));
}

fn any_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
    stamp: Option<fn(&U) -> u64>,
) {
    let shared = Arc::clone(&ctx.shared);
    let local = shared.local(stream.scope().index());
    let observe = shared.latency_observable;
    let windows = observe && shared.latency_rule == LatencyRule::Windows;
    let stamp = stamp.filter(|_| observe && shared.latency_rule == LatencyRule::Sampled);
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
            let mut now_ns = None;
            for update in data.iter() {
                let (row, diff) = view(update);
                digest.add(encoder.hash_row(row), diff);
                if shared.keep_rows {
                    rows.push((row.to_json(), diff));
                }
                n += diff.unsigned_abs();
                if let Some(stamp) = stamp
                    && let ingested @ 1.. = stamp(update)
                {
                    let now = *now_ns.get_or_insert_with(|| shared.elapsed_ns());
                    let ns = now.saturating_sub(ingested - 1);
                    let _ = histogram.record(ns.clamp(1, LATENCY_MAX_NS));
                }
            }
            out += n;
            if windows
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

/// How a query's latency is observed (BENCHMARKING.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LatencyRule {
    /// Not observable: no result is tied to a window's closing or to an input record.
    None,
    /// Every result closes the window ending at its time: sink time minus the instant every
    /// source's watermark had reached that time.
    Windows,
    /// Results of sampled input records carry their ingestion time: sink time minus it.
    Sampled,
}

/// Everything a run needs besides the dataflow itself.
pub(crate) struct Launch {
    /// The engine's name in the report (`timely` or `differential`).
    pub(crate) engine: crate::job::EngineKind,
    /// How the query's latency is observed.
    pub(crate) latency: LatencyRule,
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
        latency_observable: launch.cluster.is_none() && launch.latency != LatencyRule::None,
        latency_rule: launch.latency,
        abort: AtomicBool::new(false),
        failed_here: AtomicBool::new(false),
        failure: Mutex::new(None),
        process: launch.cluster.as_ref().map(|c| c.process),
        pin_to: pinning_plan(spec.pinning, local_workers, first_worker),
        pinned: AtomicUsize::new(0),
        panic_after_events: panic_after_events(&launch)?,
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
        pin_worker(&shared, shared.local(worker.index()));
        // Cluster mode: the control dataflow comes first, on every worker.
        let control = cluster.then(|| Control::build(worker, &shared));
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let result = run_worker(worker, &ctx, &build, control.as_ref());
            match &control {
                Some(control) if !shared.aborted() => gather(worker, &shared, control, result),
                _ => result,
            }
        }));
        let result = run.unwrap_or_else(|panic| {
            shared.fail(describe_panic(shared.process, worker.index(), &*panic));
            WorkerResult::default()
        });
        let ended = Instant::now();
        if let Some(control) = control {
            control.finish(worker, &shared);
        }
        (result, ended)
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
    let joined = guards.join();
    // A recorded failure explains any worker thread that died after it (timely panics when a
    // worker drops channels that a lost connection poisoned).
    if let Some(message) = shared.failure_message() {
        return Err(RunError::Failed(message));
    }
    let results: Vec<(WorkerResult, Instant)> = joined
        .into_iter()
        .map(|r| r.map_err(|e| RunError::Failed(format!("a timely worker panicked: {e}"))))
        .collect::<Result<_>>()?;
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
        pinning: spec.pinning && shared.pinned.load(Ordering::Relaxed) == spec.workers,
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
fn run_worker<F>(
    worker: &mut Worker,
    ctx: &Ctx,
    build: &F,
    control: Option<&Control>,
) -> WorkerResult
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot,
{
    let shared = &ctx.shared;
    let local = shared.local(worker.index());
    let slot = build(worker, ctx);
    // Every worker has built its dataflow (and generated its replay buffer) before any source
    // starts the clock.
    let mut barrier = timely::synchronization::Barrier::new(worker);
    barrier.advance();
    while !barrier.reached() {
        if shared.aborted() {
            return WorkerResult::default();
        }
        worker.step_or_park(Some(PARK_AT_MOST));
    }
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
    // In cluster mode the control dataflow stays installed until the very end.
    let running = |worker: &mut Worker| match control {
        None => worker.step_or_park(Some(PARK_AT_MOST)),
        Some(control) => {
            worker.step_or_park(Some(PARK_AT_MOST));
            control.job_running(worker)
        }
    };
    while running(worker) {
        if shared.aborted() {
            break;
        }
        if last_publish.elapsed() >= PUBLISH_EVERY {
            last_publish = Instant::now();
            publish(cell);
            if local == 0
                && shared.latency_observable
                && shared.latency_rule == LatencyRule::Windows
            {
                shared.prune_clocks();
            }
        }
    }
    publish(cell);
    let mut result = std::mem::take(&mut *slot.borrow_mut());
    result.events = cell.events_in.load(Ordering::Relaxed);
    result
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
