//! Watermark-to-result latency at 1 and 2 workers: a paced source (one record per key every
//! 100 us, event time = the scheduled emission time in ms, watermark = that time) feeds
//! `key_by` and a 1 ms tumbling count; the latency of a result is its arrival at the sink minus
//! the *scheduled* emission time of the watermark that closed its window (the source stamps
//! its watermarks with the schedule, so a worker that wakes late shows in the figures).
//!
//! Criterion reports the mean latency per window result (`iter_custom` returns the summed
//! latencies); p50 / p99 / p99.9 / max from the hdrhistogram are printed to stderr at the end.
//! Goal (not asserted): p99 <= 1 ms.
//!
//! `cargo bench -p weir-benches --bench latency -- --quick`

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weir_engine::{
    Collector, Config, MetricsSnapshot, NO_PROGRESS, Operator, Output, Source, SourcePoll,
    Timestamp, Watermark, execute,
};

const KEYS: u64 = 8;
const TICK_NS: u64 = 100_000;

/// Emits one record per key every `TICK_NS` of job time, for `windows` milliseconds.
struct Paced {
    next_ns: u64,
    end_ns: u64,
    watermark: Timestamp,
    /// Scheduled emission time of the last tick (the watermark's stamp).
    scheduled_ns: u64,
}

impl Source for Paced {
    type Item = (u64, i64);
    fn poll(&mut self, out: &mut Vec<(u64, i64)>, _max: usize, now_ns: u64) -> SourcePoll {
        if self.next_ns >= self.end_ns {
            return SourcePoll::Done;
        }
        if now_ns < self.next_ns {
            return SourcePoll::Pending {
                watermark: self.watermark,
                wake_at: Some(self.next_ns),
            };
        }
        let time = (self.next_ns / 1_000_000) as i64;
        out.extend((0..KEYS).map(|k| (k, time)));
        self.scheduled_ns = self.next_ns;
        self.next_ns += TICK_NS;
        self.watermark = time;
        SourcePoll::Ready { watermark: time }
    }

    fn watermark_stamp_ns(&self, _now_ns: u64) -> u64 {
        self.scheduled_ns
    }
}

#[derive(Default)]
struct Tumbling1ms(HashMap<(u64, i64), u64>);

impl Operator for Tumbling1ms {
    type In = (u64, i64);
    type Out = (u64, i64, u64);
    fn on_batch(&mut self, input: &mut Vec<(u64, i64)>, _out: &mut Output<'_, Self::Out>) {
        for (k, t) in input.drain(..) {
            *self.0.entry((k, t)).or_default() += 1;
        }
    }
    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.0.retain(|&(k, start), n| {
            let closed = start < wm.time;
            if closed {
                out.push((k, start, *n));
            }
            !closed
        });
        wm.time
    }
}

/// Runs a job of `windows` ms; returns (summed latency ns, results) and merges its histogram
/// into `all`.
fn run(workers: usize, windows: u64, all: &Mutex<MetricsSnapshot>) -> (u64, u64) {
    let collector = Collector::new();
    let config = Config::new(workers).with_collector(collector.clone());
    execute(config, |worker| {
        // Start 2 ms in so every worker has built its dataflow.
        let start = 2_000_000;
        worker
            .source(Paced {
                next_ns: start,
                end_ns: start + windows * 1_000_000,
                watermark: NO_PROGRESS,
                scheduled_ns: 0,
            })
            .key_by(|r| r.0)
            .unary("tumbling_1ms", Tumbling1ms::default())
            .sink(Vec::clear);
    })
    .expect("bench job runs");
    let snapshot = collector.latest();
    let histogram = snapshot.latency_ns.expect("metrics are on");
    let sum = (histogram.mean() * histogram.len() as f64) as u64;
    let n = histogram.len();
    let mut all = all.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(total) = all.latency_ns.as_mut() {
        // Both histograms auto-resize, so adding cannot fail.
        let _ = total.add(&histogram);
    } else {
        all.latency_ns = Some(histogram);
    }
    (sum, n)
}

fn latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("watermark_to_result");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for workers in [1_usize, 2] {
        let all = Arc::new(Mutex::new(MetricsSnapshot::default()));
        group.bench_function(format!("{workers}w"), |b| {
            b.iter_custom(|iters| {
                // One result per key per window: run enough windows for `iters` results.
                let windows = iters.div_ceil(KEYS).max(5);
                let (sum, n) = run(workers, windows, &all);
                Duration::from_nanos(sum / n.max(1) * iters)
            });
        });
        if let Some(h) = &all
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .latency_ns
        {
            eprintln!(
                "watermark_to_result/{workers}w: p50 {} us, p99 {} us, p99.9 {} us, max {} us ({} results)",
                h.value_at_quantile(0.5) / 1000,
                h.value_at_quantile(0.99) / 1000,
                h.value_at_quantile(0.999) / 1000,
                h.max() / 1000,
                h.len()
            );
        }
    }
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
