//! Window state update cost, per record, on the state machines alone (no runtime).
//!
//! Input: `RECORDS` records at 10,000 events/s of event time (so 10 s windows hold 100,000
//! records and fire during the run), keys spread over `KEYS` keys, the frontier advanced every
//! 1,024 records to the newest timestamp minus 4 s (Nexmark's out-of-orderness), then to the
//! end of input. Criterion reports time per record (throughput in elements). Goal (not an
//! assertion): <= 10 ns per record for the tumbling count.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use weir_engine::window::{Count, SessionWindows, SlidingWindows};

const RECORDS: usize = 1 << 20;
const KEYS: u64 = 1_000;
const BASE_MS: i64 = 1_436_918_400_000;
const OUT_OF_ORDERNESS_MS: i64 = 4_000;

/// `(key, timestamp)` pairs: timestamps at 10,000 events/s, keys scattered by a multiplicative
/// hash of the index.
fn input() -> Vec<(u64, i64)> {
    (0..RECORDS as u64)
        .map(|i| {
            let key = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
            (key % KEYS, BASE_MS + (i / 10) as i64)
        })
        .collect()
}

/// A window state under test.
trait State {
    fn insert(&mut self, key: u64, ts: i64);
    /// Advances the frontier; returns the sum of the results fired.
    fn advance(&mut self, frontier: i64) -> u64;
}

impl State for SlidingWindows<u64, (), Count> {
    #[inline]
    fn insert(&mut self, key: u64, ts: i64) {
        SlidingWindows::insert(self, key, ts, &());
    }
    fn advance(&mut self, frontier: i64) -> u64 {
        let mut n = 0;
        SlidingWindows::advance(self, frontier, |_, _, c| n += c);
        n
    }
}

impl State for SessionWindows<u64, (), Count> {
    #[inline]
    fn insert(&mut self, key: u64, ts: i64) {
        SessionWindows::insert(self, key, ts, &());
    }
    fn advance(&mut self, frontier: i64) -> u64 {
        let mut n = 0;
        SessionWindows::advance(self, frontier, |_, _, c| n += c);
        n
    }
}

/// Feeds `input` in batches of 1,024, advancing the frontier after each, then to the end of
/// input; returns the sum of all results (which must equal the record count).
fn drive(input: &[(u64, i64)], state: &mut impl State) -> u64 {
    let mut results = 0;
    for batch in input.chunks(1024) {
        for &(key, ts) in batch {
            state.insert(key, ts);
        }
        let newest = batch.last().map_or(i64::MIN, |r| r.1);
        results += state.advance(newest - OUT_OF_ORDERNESS_MS);
    }
    results + state.advance(i64::MAX)
}

fn windows(c: &mut Criterion) {
    let input = input();
    let mut group = c.benchmark_group("window_update");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(20);
    group.bench_function("tumbling_10s_count", |b| {
        b.iter(|| {
            let mut w = SlidingWindows::tumbling(10_000, 0, Count).expect("valid spec");
            black_box(drive(black_box(&input), &mut w))
        });
    });
    group.bench_function("sliding_10s_2s_count", |b| {
        b.iter(|| {
            let mut w = SlidingWindows::new(10_000, 2_000, 0, Count).expect("valid spec");
            black_box(drive(black_box(&input), &mut w))
        });
    });
    group.bench_function("session_10s_gap_count", |b| {
        b.iter(|| {
            let mut s = SessionWindows::new(10_000, 0, Count).expect("valid gap");
            black_box(drive(black_box(&input), &mut s))
        });
    });
    group.finish();
}

criterion_group!(benches, windows);
criterion_main!(benches);
