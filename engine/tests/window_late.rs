//! Late data: input more out of order than the sources' watermark allows, windows with allowed
//! lateness, late records to the counted side output.
//!
//! * At 1 worker, a stepping source (one record per poll, then an idle poll so the worker
//!   flushes the watermark downstream) makes the frontier each record meets exactly the
//!   source's watermark after the previous record, so the results and the late count are
//!   compared exactly with a sequential simulation.
//! * At 2, 3 and 8 workers (and with ordinary batching sources) which records are late depends
//!   on thread timing (the frontier is the minimum over workers, and exchanges coalesce
//!   watermarks), but the accounting is exact: every record is either counted in its tumbling
//!   window or sent on the late side output, every window fires once, the `late` metric
//!   equals the side output's length, and only records the simulation calls late may be late.
//!
//! The late side output is a stream: these tests route it through an exchange before sinking
//! it, and check that it ends with the input (the job's final frontier is the end of input).

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[path = "support/step.rs"]
mod step;
use step::StepSource;

use proptest::prelude::*;
use weir_engine::window::{Count, Window, WindowSpec};
use weir_engine::{Collector, Config, IterSource, MetricsSnapshot, execute};

/// (key, event time).
type Rec = (u64, i64);

/// The sources' out-of-orderness bound (smaller than the input's disorder).
const OOO: i64 = 20;

type Results = BTreeMap<(u64, Window), u64>;

/// How the input enters the job.
#[derive(Clone, Copy)]
enum Feed {
    /// [`StepSource`]: a deterministic frontier per record at 1 worker.
    Step,
    /// [`IterSource`] with batches of this many records.
    Batches(usize),
}

/// Runs a windowed count with a late side output; returns (results, late records, metrics).
fn run(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    feed: Feed,
    spec: WindowSpec,
) -> (Results, Vec<Rec>, MetricsSnapshot) {
    let batch = match feed {
        Feed::Step => 1,
        Feed::Batches(n) => n,
    };
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(2)
        .with_collector(collector.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    let late = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let mine: Vec<Rec> = input
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(_, r)| *r)
            .collect();
        let sink = Arc::clone(&out);
        let late = Arc::clone(&late);
        let stream = match feed {
            Feed::Step => worker.source(StepSource::new(mine, |r: &Rec| r.1, OOO)),
            Feed::Batches(_) => worker.source(IterSource::new(mine, |r: &Rec| r.1, OOO)),
        };
        let (results, late_records) = stream
            .window_with_late(spec, |r| r.0, |r| r.1, Count)
            .expect("valid spec");
        results.sink(move |batch| sink.lock().unwrap().append(batch));
        // The side output is a stream like any other: route it (all late records to worker 0)
        // before sinking it.
        late_records
            .exchange(|_| 0)
            .sink(move |batch| late.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let mut results = Results::new();
    for (key, window, count) in std::mem::take(&mut *out.lock().unwrap()) {
        assert!(
            results.insert((key, window), count).is_none(),
            "{window:?} of key {key} fired twice"
        );
    }
    let late = std::mem::take(&mut *late.lock().unwrap());
    let snapshot = collector.latest();
    assert_eq!(
        snapshot.watermark_ms,
        Some(i64::MAX),
        "every sink, the late stream's too, reached the end of input"
    );
    (results, late, snapshot)
}

/// Records drifting forward with jitter up to 150 ms: often behind the watermark.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..4_u64, 0..15_i64, 0..150_i64), 0..250).prop_map(|steps| {
        let mut base = 1_000_i64;
        steps
            .into_iter()
            .map(|(key, step, jitter)| {
                base += step;
                (key, base + jitter)
            })
            .collect()
    })
}

/// The frontier each record meets at 1 worker with batches of one: the source's watermark
/// after the previous record (`i64::MIN` before any).
fn frontiers(input: &[Rec]) -> Vec<i64> {
    let mut max_seen = i64::MIN;
    input
        .iter()
        .map(|r| {
            let frontier = if max_seen == i64::MIN {
                i64::MIN
            } else {
                max_seen - OOO
            };
            max_seen = max_seen.max(r.1);
            frontier
        })
        .collect()
}

/// Sliding windows, simulated: a window counts the records that met a frontier below
/// `end + lateness`; a record is late when every window holding it had fired.
fn reference_sliding(input: &[Rec], size: i64, slide: i64, lateness: i64) -> (Results, u64) {
    let mut results = Results::new();
    let mut late = 0;
    for (&(key, ts), frontier) in input.iter().zip(frontiers(input)) {
        let last_start = ts.div_euclid(slide) * slide;
        if frontier >= last_start + size + lateness {
            late += 1;
            continue;
        }
        let mut start = last_start;
        while start + size > ts {
            if frontier < start + size + lateness {
                *results
                    .entry((
                        key,
                        Window {
                            start,
                            end: start + size,
                        },
                    ))
                    .or_default() += 1;
            }
            start -= slide;
        }
    }
    (results, late)
}

/// Sessions, simulated: a record is late when `ts + lateness < frontier`; the sessions are
/// those of the accepted records.
fn reference_sessions(input: &[Rec], gap: i64, lateness: i64) -> (Results, u64) {
    let mut late = 0;
    let mut per_key: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for (&(key, ts), frontier) in input.iter().zip(frontiers(input)) {
        if frontier != i64::MIN && ts + lateness < frontier {
            late += 1;
        } else {
            per_key.entry(key).or_default().push(ts);
        }
    }
    let mut results = Results::new();
    for (key, mut times) in per_key {
        times.sort_unstable();
        let (mut start, mut last, mut count) = (times[0], times[0], 0);
        for t in times {
            if t > last + gap {
                results.insert(
                    (
                        key,
                        Window {
                            start,
                            end: last + gap,
                        },
                    ),
                    count,
                );
                (start, count) = (t, 0);
            }
            last = t;
            count += 1;
        }
        results.insert(
            (
                key,
                Window {
                    start,
                    end: last + gap,
                },
            ),
            count,
        );
    }
    (results, late)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn sliding_with_lateness_exact_at_one_worker(input in records(), pin in any::<bool>(), size in 1_i64..100, slide_div in 1_i64..4, lateness in 0_i64..80) {
        let slide = (size / slide_div).max(1);
        let spec = WindowSpec::sliding(size, slide).allowed_lateness(lateness);
        let (results, late, snap) = run(&input, 1, pin, Feed::Step, spec);
        let (expected, expected_late) = reference_sliding(&input, size, slide, lateness);
        prop_assert_eq!(results, expected);
        prop_assert_eq!(late.len() as u64, expected_late);
        prop_assert_eq!(snap.late(), expected_late);
    }

    #[test]
    fn sessions_with_lateness_exact_at_one_worker(input in records(), pin in any::<bool>(), gap in 1_i64..60, lateness in 0_i64..80) {
        let spec = WindowSpec::session(gap).allowed_lateness(lateness);
        let (results, late, snap) = run(&input, 1, pin, Feed::Step, spec);
        let (expected, expected_late) = reference_sessions(&input, gap, lateness);
        prop_assert_eq!(results, expected);
        prop_assert_eq!(late.len() as u64, expected_late);
        prop_assert_eq!(snap.late(), expected_late);
    }

    #[test]
    fn tumbling_late_accounting_is_exact_at_any_worker_count(
        input in records(),
        w in prop::sample::select(vec![1_usize, 2, 3, 8]),
        pin in any::<bool>(),
        batch in 1_usize..20,
        size in 1_i64..100,
        lateness in 0_i64..80,
    ) {
        let (results, late, snap) = run(&input, w, pin, Feed::Batches(batch), WindowSpec::tumbling(size).allowed_lateness(lateness));
        prop_assert_eq!(snap.late(), late.len() as u64);
        // The frontier a record meets is at most its own source's watermark before it, and
        // lateness only grows with the frontier: the engine may call late only records that
        // the simulation with those watermarks calls late.
        let window_of = |ts: i64| {
            let start = ts.div_euclid(size) * size;
            Window { start, end: start + size }
        };
        let mut may_be_late = Vec::new();
        for me in 0..w {
            let mine: Vec<Rec> = input.iter().enumerate().filter(|(i, _)| i % w == me).map(|(_, r)| *r).collect();
            for (&r, frontier) in mine.iter().zip(frontiers(&mine)) {
                if frontier >= window_of(r.1).end + lateness {
                    may_be_late.push(r);
                }
            }
        }
        may_be_late.sort_unstable();
        let mut late_sorted = late.clone();
        late_sorted.sort_unstable();
        let mut unexplained = late_sorted.clone();
        unexplained.retain(|r| may_be_late.binary_search(r).is_err());
        prop_assert!(unexplained.is_empty(), "late but never behind a watermark: {:?}", unexplained);
        // Counted plus late, per window, is everything.
        let mut total = results.clone();
        for (key, ts) in late {
            *total.entry((key, window_of(ts))).or_default() += 1;
        }
        let mut expected = Results::new();
        for &(key, ts) in &input {
            *expected.entry((key, window_of(ts))).or_default() += 1;
        }
        prop_assert_eq!(total, expected);
    }
}

/// Late records can be counted and routed inside the dataflow: a count per key parity of the
/// late stream, keyed through an exchange, whose sink sees every late record exactly once.
#[test]
fn the_late_stream_can_be_aggregated_inside_the_dataflow() {
    // The first record sets the frontier to 80 (out-of-orderness 20); every later record lies
    // in [0, 10), which has fired by then.
    let input = vec![(0, 100), (0, 1), (10, 2), (1, 3), (2, 4), (11, 5), (12, 6)];
    let per_parity = Arc::new(Mutex::new(BTreeMap::<u64, u64>::new()));
    let sink = Arc::clone(&per_parity);
    let collector = Collector::new();
    let config = Config::new(1)
        .with_pinning(false)
        .with_collector(collector.clone());
    execute(config, move |worker| {
        let sink = Arc::clone(&sink);
        let (results, late) = worker
            .source(StepSource::new(input.clone(), |r: &Rec| r.1, OOO))
            .window_with_late(WindowSpec::tumbling(10), |r| r.0, |r| r.1, Count)
            .expect("valid spec");
        results.for_each(|_| {});
        late.key_by(|r| r.0 % 2)
            .map(|r| (r.0 % 2, 1_u64))
            .for_each(move |(parity, n)| *sink.lock().unwrap().entry(parity).or_default() += n);
    })
    .expect("job runs");
    // Late keys 0, 10, 1, 2, 11, 12: four even, two odd.
    assert_eq!(
        *per_parity.lock().unwrap(),
        BTreeMap::from([(0, 4), (1, 2)])
    );
    let snapshot = collector.latest();
    assert_eq!(snapshot.late(), 6);
    assert_eq!(snapshot.watermark_ms, Some(i64::MAX));
}

/// A hand-computed case: size 10, lateness 5, out-of-orderness 20.
#[test]
fn hand_computed_lateness() {
    // 40 sets the frontier to 20: [0, 10) is done (10 + 5 <= 20), so 5 is late; [10, 20)
    // stays open until 25, so 14 and 19 count. 60 sets the frontier to 40: [10, 20) fires;
    // [30, 40) stays open until 45, so 33 and 36 count.
    let input = [(1, 40), (1, 5), (1, 14), (1, 19), (1, 60), (1, 33), (1, 36)];
    let (results, late, snap) = run(
        &input,
        1,
        false,
        Feed::Step,
        WindowSpec::tumbling(10).allowed_lateness(5),
    );
    assert_eq!(late, vec![(1, 5)]);
    assert_eq!(snap.late(), 1);
    let expected: Results = [
        ((1, Window { start: 10, end: 20 }), 2),
        ((1, Window { start: 30, end: 40 }), 2),
        ((1, Window { start: 40, end: 50 }), 1),
        ((1, Window { start: 60, end: 70 }), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(results, expected);
}
