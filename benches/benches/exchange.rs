//! Exchange throughput: 16-byte records through `key_by` at batch sizes 1 .. 4096, on 1 and 2
//! workers. Each iteration runs a whole job (thread start and join included, ~0.1 ms, small
//! next to the millions of records moved). Goal (not asserted): >= 100 M records/s per core at
//! batch >= 1024.
//!
//! `cargo bench -p weir-benches --bench exchange -- --quick` (`WEIR_BENCH_PINNING=0` to run the
//! workers unpinned)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use weir_benches::Counter;
use weir_engine::{Config, execute};

/// Pinning is on unless `WEIR_BENCH_PINNING=0` (on a shared machine, pinned workers cannot
/// move away from a core another process is using).
fn pinning() -> bool {
    std::env::var("WEIR_BENCH_PINNING").map_or(true, |v| v != "0")
}

/// Runs one job: every worker emits `per_worker` records, keyed by the first field, counted at
/// the sink. Returns the records counted.
fn run(workers: usize, batch: usize, per_worker: u64, metrics: bool) -> u64 {
    let config = Config::new(workers)
        .with_batch_size(batch)
        .with_metrics(metrics)
        .with_pinning(pinning());
    let seen = Arc::new(AtomicU64::new(0));
    execute(config, |worker| {
        let start = worker.index() as u64 * per_worker;
        let seen = Arc::clone(&seen);
        worker
            .source(Counter::new(start, start + per_worker))
            .key_by(|r| r.0)
            .sink(move |b| {
                seen.fetch_add(b.len() as u64, Ordering::Relaxed);
            });
    })
    .expect("bench job runs");
    seen.load(Ordering::Relaxed)
}

fn exchange(c: &mut Criterion) {
    let mut group = c.benchmark_group("exchange_key_by");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for workers in [1_usize, 2] {
        for batch in [1_usize, 16, 64, 256, 1024, 4096] {
            let per_worker: u64 = if batch >= 64 { 1 << 22 } else { 1 << 18 };
            group.throughput(Throughput::Elements(per_worker * workers as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{workers}w"), batch),
                &batch,
                |b, &batch| {
                    b.iter(|| {
                        let n = run(workers, batch, per_worker, true);
                        assert_eq!(n, per_worker * workers as u64);
                    });
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, exchange);
criterion_main!(benches);
