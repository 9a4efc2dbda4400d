//! The harness shared by the timely and differential adapters: starting workers from a
//! [`RunSpec`] (pinned as asked, `pinning.rs`), the digest sink, metrics publishing and the
//! final [`Outcome`]. The source operator is in `source.rs`, failure handling and cluster
//! mode's control dataflow in `control.rs`, per-operator metrics from timely's log in
//! `oplog.rs` (on unless [`crate::job::TIMELY_OPERATORS_ENV`] says `off`).
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
//! [`Latency::WindowResults`]: each source logs `(watermark, instant)` whenever its watermark
//! advances. A windowed result at time `t` (its window's end) is complete when the last split's
//! watermark reached `t`; its latency is the sink's wall clock minus that instant. A result
//! that some split's watermark reached only by ending (the end-of-input flush) goes into a
//! histogram of its own, the report's `end_of_input_latency_ns`, as on every engine.
//! [`Latency::SampledRecords`]: the sources stamp the events with `id % 1024 == 0` with their
//! ingestion time (`sampling.rs`), results carry the stamp, and the sink records `now - stamp`.
//! Both need the job's clock and every source in this process, so latency is observed in
//! single-process runs only (the adapter says which rule a query follows).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use timely::dataflow::Stream;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::Operator;
use timely::worker::Worker;
use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};

use super::control::{Control, describe_panic, gather, panic_after_events};
use super::oplog::{self, OperatorLog};
use super::pinning::{pin_worker, pinning_plan};
pub(crate) use super::shared::{Ctx, DIFFERENTIAL_VERSION, QueryFiles, ResultSlot, TIMELY_VERSION};
use super::shared::{PARK_AT_MOST, Shared, WorkerCell, WorkerResult};
use crate::catalog::{EngineKind, Latency};
use crate::cluster::TimelyCluster;
use crate::digest::{Digest, ResultRow, RowEncoder};
use crate::job::{
    EngineCpu, EngineVersions, Job, Outcome, Result, RunError, RunLength, RunSpec, SourceMode,
    StopSignal,
};
use crate::report::{LatencySummary, WorkerReport};

/// How often workers copy their counters out and the driver publishes a snapshot.
const PUBLISH_EVERY: Duration = weir_engine::metrics::DEFAULT_SNAPSHOT_INTERVAL;

/// The sink of one worker: folds result updates into the digest, counts them, observes window
/// latency (when the run's rule is [`Latency::WindowResults`]) and keeps the JSON rows for
/// `--output`. `view` gives an update's row and multiplicity.
pub(crate) fn digest_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
) {
    any_sink(stream, ctx, slot, view, None, None);
}

/// [`digest_sink`] for differential's `(row, time, diff)` updates. Each update's own time says
/// which watermark completed it: a batch's capability may be earlier than the times its updates
/// carry (a batch holding several windows' results), and the capability would attribute them
/// all to the earliest window.
#[cfg(feature = "differential")]
pub(crate) fn update_sink<R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<(R, u64, isize)>>,
    ctx: &Ctx,
    slot: &ResultSlot,
) {
    any_sink(
        stream,
        ctx,
        slot,
        |u| (&u.0, u.2 as i64),
        None,
        Some(|u| u.1),
    );
}

/// [`digest_sink`] for results that carry the ingestion stamp of a sampled input record
/// (`stamp`, 0 when not sampled): per-record latency, [`Latency::SampledRecords`].
pub(crate) fn sampled_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
    stamp: fn(&U) -> u64,
) {
    any_sink(stream, ctx, slot, view, Some(stamp), None);
}

/// The common sink: `stamp` gives a sampled record's ingestion stamp, `time_of` an update's
/// own time where it carries one (otherwise its batch's time is the records' time, as in
/// timely).
fn any_sink<U: 'static, R: ResultRow + 'static>(
    stream: Stream<'_, u64, Vec<U>>,
    ctx: &Ctx,
    slot: &ResultSlot,
    view: fn(&U) -> (&R, i64),
    stamp: Option<fn(&U) -> u64>,
    time_of: Option<fn(&U) -> u64>,
) {
    let shared = Arc::clone(&ctx.shared);
    let local = shared.local(stream.scope().index());
    let observe = shared.latency_observable;
    let windows = observe && shared.latency_rule == Latency::WindowResults;
    let stamp = stamp.filter(|_| observe && shared.latency_rule == Latency::SampledRecords);
    let time_of = time_of.filter(|_| windows);
    let slot = std::rc::Rc::clone(slot);
    let mut histogram = new_histogram();
    let mut end_histogram = new_histogram();
    let mut last_merge = Instant::now();
    let mut out = 0u64;
    let mut encoder = RowEncoder::new();
    let mut times: Vec<(u64, u64)> = Vec::new();
    stream.sink(Pipeline, "DigestSink", move |(input, frontier)| {
        let mut result = slot.borrow_mut();
        let WorkerResult { digest, rows, .. } = &mut *result;
        input.for_each(|cap, data| {
            // Result counts per time, for window latency: the batch's time, unless updates
            // carry their own.
            times.clear();
            let mut n_batch = 0u64;
            let mut now_ns = None;
            for update in data.iter() {
                let (row, diff) = view(update);
                digest.add_hash(encoder.hash_row(row), diff);
                if shared.keep_rows {
                    rows.push((row.to_json(), diff));
                }
                let n = diff.unsigned_abs();
                n_batch += n;
                if let Some(time_of) = time_of {
                    let t = time_of(update);
                    match times.last_mut() {
                        Some((at, count)) if *at == t => *count += n,
                        _ => times.push((t, n)),
                    }
                }
                if let Some(stamp) = stamp
                    && let ingested @ 1.. = stamp(update)
                {
                    let now = *now_ns.get_or_insert_with(|| shared.elapsed_ns());
                    let ns = now.saturating_sub(ingested - 1);
                    let _ = histogram.record(ns.clamp(1, LATENCY_MAX_NS));
                }
            }
            out += n_batch;
            if !windows {
                return;
            }
            if time_of.is_none() {
                times.push((cap.least().copied().unwrap_or(u64::MAX), n_batch));
            } else if times.len() > 1 {
                times.sort_unstable_by_key(|&(t, _)| t);
                times.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        kept.1 += later.1;
                    }
                    same
                });
            }
            for &(t, n) in &times {
                if n > 0
                    && let Some(closed) = shared.closed_at(t)
                {
                    let ns = closed.at.elapsed().as_nanos() as u64;
                    let into = if closed.by_end {
                        &mut end_histogram
                    } else {
                        &mut histogram
                    };
                    // Out-of-range values are clamped by the histogram's bounds check below.
                    let _ = into.record_n(ns.clamp(1, LATENCY_MAX_NS), n);
                }
            }
        });
        let cell = &shared.workers[local];
        cell.records_out.store(out, Ordering::Relaxed);
        let f = frontier.frontier().first().copied().unwrap_or(u64::MAX);
        cell.sink_frontier.store(f, Ordering::Relaxed);
        if observe && (last_merge.elapsed() >= PUBLISH_EVERY || f == u64::MAX) {
            last_merge = Instant::now();
            merge_into(&shared.latency, &mut histogram);
            merge_into(&shared.end_latency, &mut end_histogram);
        }
    });
}

/// Moves a sink's `local` samples into the process's `merged` histogram.
fn merge_into(merged: &Mutex<Histogram<u64>>, local: &mut Histogram<u64>) {
    let _ = merged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .add(&*local);
    local.reset();
}

/// A copy of the process's merged histogram `merged`.
fn copy_of(merged: &Mutex<Histogram<u64>>) -> Histogram<u64> {
    merged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
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
    pub(crate) engine: EngineKind,
    /// How the query's latency is observed on this engine.
    pub(crate) latency: Latency,
}

/// The timely configuration of `cluster`'s process with `workers` worker threads.
fn cluster_config(cluster: &TimelyCluster, workers: usize) -> timely::Config {
    timely::Config {
        communication: timely::CommunicationConfig::Cluster {
            threads: workers,
            process: cluster.process,
            addresses: cluster.addresses.clone(),
            report: false,
            zerocopy: false,
        },
        worker: timely::WorkerConfig::default(),
    }
}

/// Starts `build` on timely workers as `spec` asks and returns the running job.
///
/// `build` constructs the query's dataflow on one worker (source, operators, sink) and returns
/// the slot its sink fills.
pub(crate) fn launch<F>(spec: &RunSpec, launch: Launch, build: F) -> Result<Job>
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot + Send + Sync + 'static,
{
    let (config, first_worker) = match &spec.cluster {
        None => (timely::Config::process(spec.workers), 0),
        Some(c) => (cluster_config(c, spec.workers), c.process * spec.workers),
    };
    // Read even when the spec turns operators off, so a bad value is an error either way.
    let operators_env = oplog::enabled()?;
    let shared = Arc::new(new_shared(spec, &launch, first_worker, operators_env)?);
    let collector = Collector::new();
    let stop = shared.stop.clone();
    let owned = spec.clone();
    let (c, s) = (collector.clone(), Arc::clone(&shared));
    let handle = std::thread::Builder::new()
        .name(format!("weir-{}-driver", launch.engine))
        .spawn(move || drive(&owned, &launch, config, &s, &c, build))
        .map_err(|e| RunError::Failed(format!("cannot start the driver thread: {e}")))?;
    Ok(Job::new(spec, collector, stop, handle))
}

/// The state `spec`'s run shares between its driver and its workers (`first_worker`: this
/// process's first worker; `operators_env`: whether the environment lets workers observe
/// their operators).
fn new_shared(
    spec: &RunSpec,
    launch: &Launch,
    first_worker: usize,
    operators_env: bool,
) -> Result<Shared> {
    let local_workers = spec.workers;
    Ok(Shared {
        workers: (0..local_workers).map(|_| WorkerCell::default()).collect(),
        clocks: (0..local_workers)
            .map(|_| Mutex::new(VecDeque::new()))
            .collect(),
        clock_start: OnceLock::new(),
        latency: Mutex::new(new_histogram()),
        end_latency: Mutex::new(new_histogram()),
        latency_observable: spec.cluster.is_none()
            && !matches!(launch.latency, Latency::NotObserved(_)),
        latency_rule: launch.latency,
        abort: AtomicBool::new(false),
        failed_here: AtomicBool::new(false),
        failure: Mutex::new(None),
        process: spec.cluster.as_ref().map(|c| c.process),
        pin_to: pinning_plan(spec.pinning, local_workers, first_worker),
        pinned: AtomicUsize::new(0),
        panic_after_events: panic_after_events(spec.cluster.as_ref())?,
        stopped_early: AtomicBool::new(false),
        stop: StopSignal::new(),
        length: spec.length,
        rate: spec.rate,
        // An `--input` file is split into memory by the adapter already.
        replay: spec.source == SourceMode::Replay && spec.input.is_none(),
        keep_rows: spec.output.is_some(),
        first_worker,
        operator_metrics: spec.operator_metrics && operators_env,
    })
}

fn drive<F>(
    spec: &RunSpec,
    launch: &Launch,
    config: timely::Config,
    shared: &Arc<Shared>,
    collector: &Collector,
    build: F,
) -> Result<Outcome>
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot + Send + Sync + 'static,
{
    let launched = Instant::now();
    let ctx = Ctx {
        shared: Arc::clone(shared),
        files: QueryFiles::default(),
    };
    let cluster = spec.cluster.is_some();
    let guards = timely::execute(config, move |worker| {
        let ctx = ctx.clone();
        let shared = Arc::clone(&ctx.shared);
        pin_worker(&shared, shared.local(worker.index()));
        // Before any dataflow: timely hands operators and channels their logger when built.
        let oplog = shared
            .operator_metrics
            .then(|| OperatorLog::install(worker));
        // Cluster mode: the control dataflow comes first, on every worker.
        let control = cluster.then(|| Control::build(worker, &shared));
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let result = run_worker(worker, &ctx, &build, control.as_ref(), oplog.as_ref());
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
    let mut digest = Digest::new();
    let mut events = 0;
    let mut rows = Vec::new();
    for (result, _) in results {
        digest.merge(&result.digest);
        events += result.events;
        rows.extend(result.rows);
    }
    // In cluster mode only process 0 knows the whole job's events (the others report 0).
    let ran_to_end =
        !shared.stopped_early.load(Ordering::Relaxed) && (spec.cluster.is_none() || events > 0);
    let events = spec.events_processed(ran_to_end, events);
    if digest.rows() < 0 {
        return Err(RunError::Failed(format!(
            "the {} job retracted more result rows than it produced ({} net); this is a bug in the adapter",
            launch.engine,
            digest.rows()
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
            held_s: 0.0,
            records: w.events_in,
        })
        .collect();
    Ok(Outcome {
        events,
        startup_s: start.saturating_duration_since(launched).as_secs_f64(),
        wall_s,
        latency: last
            .latency_ns
            .as_ref()
            .and_then(LatencySummary::from_histogram),
        end_of_input_latency: last
            .end_of_input_latency_ns
            .as_ref()
            .and_then(LatencySummary::from_histogram),
        digest: digest.summary(),
        late: 0,
        dropped: last.dropped(),
        per_worker,
        total_workers: Some(spec.workers * spec.cluster.as_ref().map_or(1, |c| c.processes)),
        pinned: spec.pinning && shared.pinned.load(Ordering::Relaxed) == spec.workers,
        cpu: EngineCpu::InProcess,
        versions: EngineVersions {
            timely: Some(TIMELY_VERSION.to_string()),
            differential: (launch.engine == EngineKind::Differential)
                .then(|| DIFFERENTIAL_VERSION.to_string()),
            ..EngineVersions::default()
        },
    })
}

/// Builds the dataflow on one worker and steps it to completion.
fn run_worker<F>(
    worker: &mut Worker,
    ctx: &Ctx,
    build: &F,
    control: Option<&Control>,
    oplog: Option<&OperatorLog>,
) -> WorkerResult
where
    F: Fn(&mut Worker, &Ctx) -> ResultSlot,
{
    let shared = &ctx.shared;
    let local = shared.local(worker.index());
    if let Some(log) = oplog {
        log.watch_next_dataflow(worker);
    }
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
    let publish = |worker: &Worker, cell: &WorkerCell| {
        let wall = loop_start.elapsed().as_nanos() as u64;
        if let (Some(now), Some(start)) = (thread_cpu_ns(), cpu_at_start) {
            let busy = now.saturating_sub(start).min(wall);
            cell.busy_ns.store(busy, Ordering::Relaxed);
            cell.idle_ns.store(wall - busy, Ordering::Relaxed);
        }
        if let Some(log) = oplog {
            log.publish(worker, &cell.operators);
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
            publish(worker, cell);
            if local == 0
                && shared.latency_observable
                && shared.latency_rule == Latency::WindowResults
            {
                shared.prune_clocks();
            }
        }
    }
    publish(worker, cell);
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
            operators: w
                .operators
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
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
        latency_ns: shared.latency_observable.then(|| copy_of(&shared.latency)),
        end_of_input_latency_ns: shared
            .latency_observable
            .then(|| copy_of(&shared.end_latency))
            .filter(|h| !h.is_empty()),
        watermark_ms: (frontier > 0).then(|| i64::try_from(frontier).unwrap_or(i64::MAX)),
        source_time_ms: (max_ts > 0).then_some(max_ts as i64),
        events_total: match spec.length {
            RunLength::Events(n) => Some(n),
            RunLength::Duration(_) => None,
        },
        finished,
        table: None,
    }
}

#[cfg(all(test, feature = "differential"))]
mod tests {
    use timely::dataflow::operators::ToStream;

    use super::*;
    use crate::catalog::{Query, Workload};
    use crate::nexmark::Q5Row;
    use crate::split::WATERMARK_END;

    fn row(auction: u64) -> Q5Row {
        Q5Row { auction, num: 1 }
    }

    /// One batch (capability 0) holds a result at time 10, completed by a regular watermark,
    /// and one at time 20, completed only by the end of input: each is attributed by its own
    /// time. By the batch's time both would count as the stream's.
    #[test]
    fn a_batch_of_updates_is_attributed_per_update_time() {
        let spec = RunSpec::new(
            Query::parse(Workload::Nexmark, "q5").expect("a catalog query"),
            EngineKind::Differential,
        );
        let launch = Launch {
            engine: EngineKind::Differential,
            latency: Latency::WindowResults,
        };
        let shared = Arc::new(new_shared(&spec, &launch, 0, false).expect("a local run"));
        let now = Instant::now();
        shared.clocks[0]
            .lock()
            .expect("not poisoned")
            .extend([(10, now), (WATERMARK_END, now)]);
        let ctx = Ctx {
            shared: Arc::clone(&shared),
            files: QueryFiles::default(),
        };
        timely::execute_directly(move |worker| {
            let slot = ResultSlot::default();
            worker.dataflow::<u64, _, _>(|scope| {
                let updates = vec![(row(1), 10_u64, 1_isize), (row(2), 20, 1), (row(3), 20, 1)];
                update_sink(updates.to_stream(scope), &ctx, &slot);
            });
        });
        let stream = copy_of(&shared.latency).len();
        let end = copy_of(&shared.end_latency).len();
        assert_eq!(
            (stream, end),
            (1, 2),
            "results of the stream, of the end of input"
        );
    }
}
