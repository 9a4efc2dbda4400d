//! Generator throughput on one core, `generate` mode: events/s per kind and mixed (the
//! Nexmark split as engines' sources call it), and YSB.
//!
//! The `generator_cpu` group measures the same loops in on-CPU time of the benchmark thread
//! (`CLOCK_THREAD_CPUTIME_ID`) instead of wall time: on a shared, oversubscribed machine the
//! wall time mostly measures waiting for a core.
//!
//! `cargo bench -p weir-benches --bench generator`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_workloads::nexmark::{
    BidSplit, NexmarkConfig, NexmarkSplit, generate_auction, generate_bid, generate_person, pools,
};
use weir_workloads::split::{Split, WorkerSplit};
use weir_workloads::ysb::{YsbConfig, YsbSplit};

const BATCH: usize = 4096;

fn nexmark(c: &mut Criterion) {
    let config = NexmarkConfig::with_events(u64::MAX);
    let _ = pools();
    let mut g = c.benchmark_group("nexmark_generator");
    g.throughput(Throughput::Elements(BATCH as u64));

    g.bench_function("mixed_split_fill", |b| {
        let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter(|| {
            out.clear();
            split.fill(&mut out, BATCH);
            black_box(&out);
        });
    });
    g.bench_function("bid_split_fill", |b| {
        let mut split = BidSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter(|| {
            out.clear();
            split.fill(&mut out, BATCH);
            black_box(&out);
        });
    });
    g.bench_function("person", |b| {
        let mut id = 0_u64;
        b.iter(|| {
            for _ in 0..BATCH {
                black_box(generate_person(&config, id));
                id += 50;
            }
        });
    });
    g.bench_function("auction", |b| {
        let mut id = 1_u64;
        b.iter(|| {
            for _ in 0..BATCH {
                black_box(generate_auction(&config, id));
                id += if id % 50 == 3 { 48 } else { 1 };
            }
        });
    });
    g.bench_function("bid", |b| {
        let mut id = 4_u64;
        b.iter(|| {
            for _ in 0..BATCH {
                black_box(generate_bid(&config, id));
                id += if id % 50 == 49 { 5 } else { 1 };
            }
        });
    });
    g.finish();
}

fn ysb(c: &mut Criterion) {
    let config = YsbConfig::with_events(u64::MAX);
    let mut g = c.benchmark_group("ysb_generator");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("records_split_fill", |b| {
        let mut split = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter(|| {
            out.clear();
            split.fill(&mut out, BATCH);
            black_box(&out);
        });
    });
    g.bench_function("json_split_fill", |b| {
        let mut split = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = String::with_capacity(BATCH * 256);
        b.iter(|| {
            out.clear();
            split.fill_json(&mut out, BATCH);
            black_box(&out);
        });
    });
    g.finish();
}

/// Nanoseconds this thread has run on a CPU, if the platform tells.
fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_THREAD_CPUTIME_ID is a clock id every POSIX platform accepts (-1 is handled).
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    (rc == 0).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// Runs `batch` `iters` times and returns the on-CPU time (wall time where unavailable).
fn on_cpu(iters: u64, mut batch: impl FnMut()) -> Duration {
    let wall = Instant::now();
    let start = thread_cpu_ns();
    for _ in 0..iters {
        batch();
    }
    match (start, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b - a),
        _ => wall.elapsed(),
    }
}

fn on_cpu_time(c: &mut Criterion) {
    let config = NexmarkConfig::with_events(u64::MAX);
    let _ = pools();
    let mut g = c.benchmark_group("generator_cpu");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("nexmark_mixed_split_fill", |b| {
        let mut split = NexmarkSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter_custom(|iters| {
            on_cpu(iters, || {
                out.clear();
                split.fill(&mut out, BATCH);
                black_box(&out);
            })
        });
    });
    g.bench_function("nexmark_bid_split_fill", |b| {
        let mut split = BidSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter_custom(|iters| {
            on_cpu(iters, || {
                out.clear();
                split.fill(&mut out, BATCH);
                black_box(&out);
            })
        });
    });
    g.bench_function("nexmark_auction", |b| {
        let mut id = 1_u64;
        b.iter_custom(|iters| {
            on_cpu(iters, || {
                for _ in 0..BATCH {
                    black_box(generate_auction(&config, id));
                    id += if id % 50 == 3 { 48 } else { 1 };
                }
            })
        });
    });
    g.bench_function("ysb_records_split_fill", |b| {
        let config = YsbConfig::with_events(u64::MAX);
        let mut split = YsbSplit::new(&config, WorkerSplit::SINGLE).expect("valid");
        let mut out = Vec::with_capacity(BATCH);
        b.iter_custom(|iters| {
            on_cpu(iters, || {
                out.clear();
                split.fill(&mut out, BATCH);
                black_box(&out);
            })
        });
    });
    g.finish();
}

criterion_group!(benches, nexmark, ysb, on_cpu_time);
criterion_main!(benches);
