//! Metrics overhead: the same `key_by` job (16-byte records, batch 1024) with metrics on
//! (time accounting, latency, snapshots every 100 ms into a collector) and off. Goal (not
//! asserted): under 3 % apart. After criterion's figures, an interleaved A/B (10 rounds,
//! alternating order) prints the median on/off throughput ratio to stderr.
//!
//! `cargo bench -p weir-benches --bench metrics -- --quick`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir_benches::Counter;
use weir_engine::{Collector, Config, execute};

fn run(workers: usize, per_worker: u64, metrics: bool) -> u64 {
    let config = Config::new(workers)
        .with_metrics(metrics)
        .with_collector(Collector::new());
    let seen = Arc::new(AtomicU64::new(0));
    execute(config, |worker| {
        let start = worker.index() as u64 * per_worker;
        let seen = Arc::clone(&seen);
        worker
            .source(Counter::new(start, start + per_worker).with_watermarks())
            .map(|(k, v)| (k, v + 1))
            .key_by(|r| r.0)
            .sink(move |b| {
                seen.fetch_add(b.len() as u64, Ordering::Relaxed);
            });
    })
    .expect("bench job runs");
    seen.load(Ordering::Relaxed)
}

fn metrics(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let per_worker: u64 = 1 << 22;
    for workers in [1_usize, 2] {
        group.throughput(Throughput::Elements(per_worker * workers as u64));
        for (label, on) in [("on", true), ("off", false)] {
            group.bench_function(BenchmarkId::new(format!("{workers}w"), label), |b| {
                b.iter(|| assert_eq!(run(workers, per_worker, on), per_worker * workers as u64));
            });
        }
    }
    group.finish();
    // Criterion runs "on" before "off", so drift of a shared machine lands on one side. An
    // interleaved A/B (alternating order each round) gives the ratio that counts.
    for workers in [1_usize, 2] {
        let mut ratios = Vec::new();
        for round in 0..10 {
            let time = |on: bool| {
                let started = std::time::Instant::now();
                assert_eq!(run(workers, per_worker, on), per_worker * workers as u64);
                started.elapsed().as_secs_f64()
            };
            let (on, off) = if round % 2 == 0 {
                let off = time(false);
                (time(true), off)
            } else {
                let on = time(true);
                (on, time(false))
            };
            // Throughput on / throughput off.
            ratios.push(off / on);
        }
        ratios.sort_by(f64::total_cmp);
        eprintln!(
            "metrics/{workers}w interleaved A/B: throughput on/off median {:.3} (min {:.3}, max {:.3}, 10 rounds)",
            f64::midpoint(ratios[4], ratios[5]),
            ratios[0],
            ratios[9]
        );
    }
}

criterion_group!(benches, metrics);
criterion_main!(benches);
