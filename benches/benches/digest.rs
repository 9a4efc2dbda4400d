//! Digest cost per row: canonical encoding plus XXH3-128 plus the 128-bit sum, for a narrow
//! row (q5: two integers), a wide one (q0: four integers and a ~70-byte string), one of short
//! strings (q22: three integers and four strings of 3-13 bytes) and YSB's.
//!
//! The `digest_cpu` group measures the same loops in on-CPU time of the benchmark thread
//! (`CLOCK_THREAD_CPUTIME_ID`), which an oversubscribed machine distorts less than wall time.
//!
//! `cargo bench -p weir-benches --bench digest`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_workloads::digest::Digest;
use weir_workloads::nexmark::reference::{q0, q22};
use weir_workloads::nexmark::{NexmarkConfig, NexmarkSplit, Q5Row};
use weir_workloads::split::{Split, WorkerSplit};
use weir_workloads::ysb::{YsbConfig, YsbSplit, reference};

fn digest(c: &mut Criterion) {
    let mut split =
        NexmarkSplit::new(&NexmarkConfig::with_events(50_000), WorkerSplit::SINGLE).expect("valid");
    let mut events = Vec::new();
    while split.fill(&mut events, 4096) {}
    let q0_rows = q0(&events);
    let q22_rows = q22(&events);
    let q5_rows: Vec<Q5Row> = (0..q0_rows.len() as u64)
        .map(|i| Q5Row {
            auction: 1000 + i,
            num: i % 97,
        })
        .collect();
    let mut ysb = YsbSplit::new(
        &YsbConfig {
            events: 3_000_000,
            event_rate: 1000,
            ..YsbConfig::default()
        },
        WorkerSplit::SINGLE,
    )
    .expect("valid");
    let mut ysb_events = Vec::new();
    while ysb.fill(&mut ysb_events, 4096) {}
    let ysb_rows = reference(&ysb_events);

    let mut g = c.benchmark_group("digest");
    g.throughput(Throughput::Elements(q0_rows.len() as u64));
    g.bench_function("q0_row", |b| {
        b.iter(|| {
            let mut d = Digest::new();
            for r in &q0_rows {
                d.add(r);
            }
            black_box(d.sum())
        });
    });
    g.throughput(Throughput::Elements(q5_rows.len() as u64));
    g.bench_function("q5_row", |b| {
        b.iter(|| {
            let mut d = Digest::new();
            for r in &q5_rows {
                d.add(r);
            }
            black_box(d.sum())
        });
    });
    g.throughput(Throughput::Elements(q22_rows.len() as u64));
    g.bench_function("q22_row", |b| {
        b.iter(|| {
            let mut d = Digest::new();
            for r in &q22_rows {
                d.add(r);
            }
            black_box(d.sum())
        });
    });
    g.throughput(Throughput::Elements(ysb_rows.len() as u64));
    g.bench_function("ysb_row", |b| {
        b.iter(|| {
            let mut d = Digest::new();
            for r in &ysb_rows {
                d.add(r);
            }
            black_box(d.sum())
        });
    });
    g.finish();

    let mut g = c.benchmark_group("digest_cpu");
    g.throughput(Throughput::Elements(q0_rows.len() as u64));
    g.bench_function("q0_row", |b| {
        b.iter_custom(|iters| on_cpu(iters, || black_box(digest_all(&q0_rows))));
    });
    g.throughput(Throughput::Elements(q5_rows.len() as u64));
    g.bench_function("q5_row", |b| {
        b.iter_custom(|iters| on_cpu(iters, || black_box(digest_all(&q5_rows))));
    });
    g.throughput(Throughput::Elements(q22_rows.len() as u64));
    g.bench_function("q22_row", |b| {
        b.iter_custom(|iters| on_cpu(iters, || black_box(digest_all(&q22_rows))));
    });
    g.throughput(Throughput::Elements(ysb_rows.len() as u64));
    g.bench_function("ysb_row", |b| {
        b.iter_custom(|iters| on_cpu(iters, || black_box(digest_all(&ysb_rows))));
    });
    g.finish();
}

fn digest_all<R: weir_workloads::digest::ResultRow>(rows: &[R]) -> u128 {
    let mut d = Digest::new();
    for r in rows {
        d.add(r);
    }
    d.sum()
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
fn on_cpu<T>(iters: u64, mut batch: impl FnMut() -> T) -> Duration {
    let wall = Instant::now();
    let start = thread_cpu_ns();
    for _ in 0..iters {
        black_box(batch());
    }
    match (start, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b - a),
        _ => wall.elapsed(),
    }
}

criterion_group!(benches, digest);
criterion_main!(benches);
