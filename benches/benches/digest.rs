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

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use weir_workloads::digest::{Digest, ResultRow};
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

    for (group, clock) in [("digest", Clock::Wall), ("digest_cpu", Clock::ThreadCpu)] {
        let mut g = c.benchmark_group(group);
        rows_bench(&mut g, "q0_row", &q0_rows, clock);
        rows_bench(&mut g, "q5_row", &q5_rows, clock);
        rows_bench(&mut g, "q22_row", &q22_rows, clock);
        rows_bench(&mut g, "ysb_row", &ysb_rows, clock);
        g.finish();
    }
}

/// What a benchmark's time is.
#[derive(Clone, Copy)]
enum Clock {
    /// Wall time (criterion's default).
    Wall,
    /// The benchmark thread's on-CPU time ([`on_cpu`]).
    ThreadCpu,
}

/// Adds to `g` the benchmark `name`: digesting every row of `rows`, in rows per second.
fn rows_bench<R: ResultRow>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rows: &[R],
    clock: Clock,
) {
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function(name, |b| match clock {
        Clock::Wall => b.iter(|| black_box(digest_all(rows))),
        Clock::ThreadCpu => b.iter_custom(|iters| on_cpu(iters, || black_box(digest_all(rows)))),
    });
}

fn digest_all<R: ResultRow>(rows: &[R]) -> u128 {
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
