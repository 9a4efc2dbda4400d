//! The metrics snapshot a job publishes: per-worker counters and operators in build order,
//! exchange fill, latency samples for watermark-fired results (those fired by the end of input
//! apart), the sink frontier, the finished flag, periodic publishing while running, and the
//! `metrics: false` switch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use weir_engine::{
    BinaryOperator, Collector, Config, IterSource, Operator, Output, Route, Source, SourcePoll,
    Stream, Timestamp, Watermark, WorkerMetrics, execute,
};

/// Counts records per (key, 10 ms window), emitted when the watermark passes the window end.
#[derive(Default)]
struct Tumbling(HashMap<(u64, i64), u64>);

impl Operator for Tumbling {
    type In = (u64, i64);
    type Out = (u64, i64, u64);
    fn on_batch(&mut self, input: &mut Vec<(u64, i64)>, _: &mut Output<'_, Self::Out>) {
        for (k, t) in input.drain(..) {
            *self.0.entry((k, t - t.rem_euclid(10))).or_default() += 1;
        }
    }
    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.0.retain(|&(k, s), n| {
            let closed = s.saturating_add(10) <= wm.time;
            if closed {
                out.push((k, s, *n));
            }
            !closed
        });
        wm.time
    }
}

fn run(metrics: bool, workers: usize) -> weir_engine::MetricsSnapshot {
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(false)
        .with_batch_size(16)
        .with_metrics(metrics)
        .with_collector(collector.clone());
    execute(config, |worker| {
        let (me, peers) = (worker.index() as i64, worker.peers() as i64);
        let events = (0..1000_i64)
            .filter(move |t| t % peers == me)
            .map(|t| ((t % 5) as u64, t));
        worker
            .source(IterSource::new(events, |e: &(u64, i64)| e.1, 0))
            .key_by(|e| e.0)
            .unary("tumbling", Tumbling::default())
            .sink(Vec::clear);
    })
    .expect("job runs");
    collector.latest()
}

#[test]
fn final_snapshot_describes_the_job() {
    let snap = run(true, 2);
    assert!(snap.finished);
    assert_eq!(snap.workers.len(), 2);
    assert_eq!(snap.events_in(), 1000);
    // 5 keys x 100 windows of 10 ms.
    assert_eq!(snap.records_out(), 500);
    assert_eq!(snap.watermark_ms, Some(i64::MAX));
    assert_eq!(
        snap.source_time_ms,
        Some(999),
        "the newest event time over both workers' sources"
    );
    for w in &snap.workers {
        let names: Vec<&str> = w.operators.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["source", "key_by", "tumbling", "sink"]);
        assert!(w.busy_ns + w.idle_ns + w.backpressured_ns > 0);
        assert!(w.batches_sent > 0, "two workers exchange batches");
        assert_eq!(w.bytes_sent % 16, 0, "bytes are whole 16-byte records");
    }
    let fill = snap.exchange_fill.clone().expect("weir observes its rings");
    assert_eq!(fill.len(), 2);
    assert!(
        fill.iter()
            .all(|row| row.len() == 2 && row.iter().all(|f| (0.0..=1.0).contains(f)))
    );
    // Events 0..1000 ms: the last window, [990, 1000), ends past every watermark a source
    // emits (999 at most), so the end of input fires its 5 results; the other 495 fire while
    // the stream runs.
    let latency = snap.latency_ns.expect("metrics are on");
    assert_eq!(
        latency.len(),
        495,
        "every result fired by a watermark before the end is a latency sample"
    );
    let end = snap
        .end_of_input_latency_ns
        .expect("the end of input fired results");
    assert_eq!(end.len(), 5, "the end of input's results are sampled apart");
}

#[test]
fn metrics_off_keeps_counters_but_not_time_or_latency() {
    let snap = run(false, 2);
    assert!(snap.finished);
    assert_eq!(snap.events_in(), 1000);
    assert_eq!(snap.records_out(), 500);
    assert!(snap.latency_ns.is_none());
    assert!(snap.end_of_input_latency_ns.is_none());
    assert!(
        snap.workers
            .iter()
            .all(|w| w.busy_ns == 0 && w.idle_ns == 0)
    );
    assert!(
        snap.workers
            .iter()
            .flat_map(|w| &w.operators)
            .all(|o| o.busy_ns == 0),
        "no operator is timed with metrics off"
    );
}

/// Ends once the collector shows this worker's events: proves snapshots are published while
/// the job runs, not only at the end.
struct UntilPublished {
    collector: Collector,
    worker: usize,
    emitted: bool,
    polls: u32,
}

impl Source for UntilPublished {
    type Item = u64;
    fn poll(&mut self, out: &mut Vec<u64>, _max: usize, now: u64) -> SourcePoll {
        if !self.emitted {
            self.emitted = true;
            out.push(1);
            return SourcePoll::Ready { watermark: 0 };
        }
        let seen = self.collector.latest();
        if seen
            .workers
            .get(self.worker)
            .is_some_and(|w| w.events_in == 1)
            && !seen.finished
        {
            return SourcePoll::Done;
        }
        self.polls += 1;
        assert!(
            self.polls < 20_000,
            "no snapshot was published while the job ran"
        );
        SourcePoll::Pending {
            watermark: 0,
            wake_at: Some(now + 1_000_000),
        }
    }
}

#[test]
fn snapshots_are_published_while_running() {
    let collector = Collector::new();
    let config = Config::new(2)
        .with_pinning(false)
        .with_snapshot_interval(Duration::from_millis(5))
        .with_collector(collector.clone());
    execute(config, |worker| {
        let source = UntilPublished {
            collector: collector.clone(),
            worker: worker.index(),
            emitted: false,
            polls: 0,
        };
        worker.source(source).key_by(|n| *n).sink(Vec::clear);
    })
    .expect("job runs");
    assert_eq!(collector.latest().events_in(), 2);
}

/// Waits until 5 ms of job time have passed, then emits one record per key and the watermark
/// that closes their window, stamped as if it had been scheduled at 1 ns.
struct LateStamp {
    emitted: bool,
}

impl Source for LateStamp {
    type Item = (u64, i64);
    fn poll(&mut self, out: &mut Vec<(u64, i64)>, _max: usize, now: u64) -> SourcePoll {
        if self.emitted {
            return SourcePoll::Done;
        }
        if now < 5_000_000 {
            return SourcePoll::Pending {
                watermark: 0,
                wake_at: Some(5_000_000),
            };
        }
        self.emitted = true;
        out.extend((0..5).map(|k| (k, 1)));
        SourcePoll::Ready { watermark: 20 }
    }
    fn watermark_stamp_ns(&self, _now_ns: u64) -> u64 {
        1
    }
}

#[test]
fn latency_is_measured_from_the_watermark_stamp() {
    let collector = Collector::new();
    let config = Config::new(2)
        .with_pinning(false)
        .with_collector(collector.clone());
    execute(config, |worker| {
        worker
            .source(LateStamp { emitted: false })
            .key_by(|e| e.0)
            .unary("tumbling", Tumbling::default())
            .sink(Vec::clear);
    })
    .expect("job runs");
    let latency = collector.latest().latency_ns.expect("metrics are on");
    // 5 keys (each counted over both workers' records), closed by the watermark stamped at
    // 1 ns but emitted after 5 ms: every sample is at least 5 ms (a lower bound only; nothing
    // here depends on speed).
    assert_eq!(latency.len(), 5);
    assert!(latency.min() >= 4_999_000, "min {} ns", latency.min());
}

/// The exchange fill is the fullest a ring was since the previous snapshot, not its state at
/// the instant of the snapshot: a consumer drains a ring in one go and then wakes the producer,
/// so an instant reading taken by that producer sees an empty ring however hard it was pushed.
/// Here only the final snapshot is published (the interval is an hour), after every ring has
/// drained: the ring that was full all run long must still read full.
#[test]
#[allow(
    clippy::float_cmp,
    reason = "a full ring reads exactly 1.0, an unused one exactly 0.0"
)]
fn exchange_fill_reports_the_fullest_since_the_last_snapshot() {
    let to_worker_1 = (0..u64::MAX)
        .find(|k| weir_engine::worker_for_key(*k, 2) == 1)
        .expect("some key belongs to worker 1");
    let collector = Collector::new();
    let config = Config::new(2)
        .with_pinning(false)
        .with_batch_size(1)
        .with_ring_capacity(1)
        .with_snapshot_interval(Duration::from_hours(1))
        .with_collector(collector.clone());
    execute(config, move |worker| {
        let mine = if worker.index() == 0 { 2000 } else { 0 };
        worker
            .source(IterSource::new(0..mine, |t: &i64| *t, 0))
            .key_by(move |_| to_worker_1)
            .sink(Vec::clear);
    })
    .expect("job runs");
    let snap = collector.latest();
    let fill = snap.exchange_fill.clone().expect("weir observes its rings");
    assert_eq!(
        fill[0][1], 1.0,
        "worker 0 filled its one-batch ring to worker 1: {fill:?}"
    );
    assert_eq!(
        fill[1][0], 0.0,
        "nothing went from worker 1 to worker 0: {fill:?}"
    );
    assert_eq!(snap.records_out(), 2000);
}

/// Sleeps 1 ms per batch (a known lower bound on its own time) and counts its batches.
struct Slow(Arc<AtomicU64>);

impl Operator for Slow {
    type In = (u64, i64);
    type Out = (u64, i64);
    fn on_batch(&mut self, input: &mut Vec<(u64, i64)>, out: &mut Output<'_, Self::Out>) {
        std::thread::sleep(Duration::from_millis(1));
        self.0.fetch_add(1, Ordering::Relaxed);
        input.drain(..).for_each(|r| out.push(r));
    }
    fn on_watermark(&mut self, wm: Watermark, _: &mut Output<'_, Self::Out>) -> Timestamp {
        wm.time
    }
}

/// A worker's operators as `(name, inputs)`.
fn graph(w: &WorkerMetrics) -> Vec<(&str, &[usize])> {
    w.operators
        .iter()
        .map(|o| (o.name.as_str(), o.inputs.as_slice()))
        .collect()
}

#[test]
fn operators_report_their_inputs_and_their_own_time() {
    let collector = Collector::new();
    let config = Config::new(2)
        .with_pinning(false)
        .with_batch_size(16)
        .with_collector(collector.clone());
    let calls: Arc<[Arc<AtomicU64>; 2]> = Arc::default();
    let calls_in = Arc::clone(&calls);
    execute(config, move |worker| {
        let slow = Slow(Arc::clone(&calls_in[worker.index()]));
        let (me, peers) = (worker.index() as i64, worker.peers() as i64);
        let events = (0..640_i64)
            .filter(move |t| t % peers == me)
            .map(|t| ((t % 5) as u64, t));
        let source = worker.source(IterSource::new(events, |e: &(u64, i64)| e.1, 0));
        let (a, b) = source.split();
        a.map(|e| e)
            .union(b.filter(|_| false))
            .key_by(|e| e.0)
            .unary("slow", slow)
            .sink(Vec::clear);
    })
    .expect("job runs");
    let snap = collector.latest();
    for (w, calls) in snap.workers.iter().zip(calls.iter()) {
        assert_eq!(
            graph(w),
            [
                ("source", &[][..]),
                ("map", &[0][..]),
                ("filter", &[0][..]),
                ("union", &[1, 2][..]),
                ("key_by", &[3][..]),
                ("slow", &[4][..]),
                ("sink", &[5][..]),
            ]
        );
        let op = |name: &str| {
            w.operators
                .iter()
                .find(|o| o.name == name)
                .expect("operator is listed")
        };
        let slow = op("slow");
        let batches = calls.load(Ordering::Relaxed);
        // Each batch sleeps at least 1 ms; the operators upstream of it call it directly but
        // are charged only their own time, so none of them carries the sleep.
        assert!(
            slow.busy_ns >= batches * 1_000_000,
            "slow ran {batches} batches but was charged {} ns",
            slow.busy_ns
        );
        for upstream in ["source", "map", "union", "key_by"] {
            assert!(
                op(upstream).busy_ns < slow.busy_ns,
                "{upstream} was charged its consumer's time: {w:?}"
            );
        }
        let charged: u64 = w.operators.iter().map(|o| o.busy_ns).sum();
        assert!(
            charged <= w.busy_ns + w.idle_ns + w.backpressured_ns,
            "operators were charged more time than the worker had: {w:?}"
        );
        assert!(op("key_by").fill.is_some(), "an exchange reports its fill");
        assert!(op("slow").fill.is_none(), "only exchanges have a fill");
    }
}

/// Runs `two_way` (one operator feeding two streams, named `name`) on the records 0..100 of one
/// worker and a union of its two streams into a sink; checks that the union lists the
/// operator once as its input, and returns the operator's records in and out.
fn one_operator_with_two_streams(
    name: &str,
    two_way: impl Fn(Stream<i64>) -> (Stream<i64>, Stream<i64>) + Send + Sync + 'static,
) -> (Option<u64>, Option<u64>) {
    let collector = Collector::new();
    let config = Config::new(1)
        .with_pinning(false)
        .with_collector(collector.clone());
    execute(config, move |worker| {
        let source = worker.source(IterSource::new(0..100_i64, |t: &i64| *t, 0));
        let (a, b) = two_way(source);
        a.union(b).sink(Vec::clear);
    })
    .expect("job runs");
    let snap = collector.latest();
    let w = &snap.workers[0];
    assert_eq!(
        graph(w),
        [
            ("source", &[][..]),
            (name, &[0][..]),
            ("union", &[1][..]),
            ("sink", &[2][..]),
        ]
    );
    (w.operators[1].records_in, w.operators[1].records_out)
}

/// A side output counts the records it passed on plus those it sent aside.
#[test]
fn a_side_output_is_one_operator_with_two_streams() {
    let counts = one_operator_with_two_streams("side_output", |source| {
        source.side_output(|t| (t % 10 == 0).then_some(*t))
    });
    assert_eq!(counts, (Some(100), Some(110)));
}

/// A partition counts every record in and those it routed out (not the dropped ones).
#[test]
fn a_partition_is_one_operator_with_two_streams() {
    let counts = one_operator_with_two_streams("partition", |source| {
        source.partition(|t| match t {
            t if t % 10 == 0 => Some(Route::Left(t)),
            t if t % 2 == 1 => Some(Route::Right(t)),
            _ => None,
        })
    });
    assert_eq!(counts, (Some(100), Some(60)));
}

/// Counts the right input's records per 10 ms window; the left input only holds the frontier.
#[derive(Default)]
struct RightCounts(HashMap<i64, u64>);

impl BinaryOperator for RightCounts {
    type Left = i64;
    type Right = i64;
    type Out = (i64, u64);
    fn on_left(&mut self, input: &mut Vec<i64>, _: &mut Output<'_, Self::Out>) {
        input.clear();
    }
    fn on_right(&mut self, input: &mut Vec<i64>, _: &mut Output<'_, Self::Out>) {
        for t in input.drain(..) {
            *self.0.entry(t - t.rem_euclid(10)).or_default() += 1;
        }
    }
    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.0.retain(|&s, n| {
            let closed = s + 10 <= wm.time;
            if closed {
                out.push((s, *n));
            }
            !closed
        });
        wm.time
    }
}

/// One input of a binary operator ending early is not the end of input: what its end lets the
/// operator fire while the other input still runs is the stream's latency; only what the end
/// of both fires is the end of input's.
#[test]
fn one_input_ending_early_fires_no_end_of_input_results() {
    let collector = Collector::new();
    let config = Config::new(1)
        .with_pinning(false)
        .with_batch_size(16)
        .with_collector(collector.clone());
    execute(config, |worker| {
        let short = worker.source(IterSource::new(0..100_i64, |t: &i64| *t, 0));
        let long = worker.source(IterSource::new(0..1000_i64, |t: &i64| *t, 0));
        short
            .binary(long, "right_counts", RightCounts::default())
            .sink(Vec::clear);
    })
    .expect("job runs");
    let snap = collector.latest();
    assert_eq!(snap.records_out(), 100, "100 windows of 10 ms");
    let stream = snap.latency_ns.expect("metrics are on").len();
    let end = snap
        .end_of_input_latency_ns
        .expect("the last window closes at the end of input")
        .len();
    assert_eq!(
        (stream, end),
        (99, 1),
        "only the last window, [990, 1000), waits for the end of input"
    );
}
