//! `Stream::interval_aggregate` as a real dataflow, against a nested loop on random inputs at
//! 1, 2 and 3 workers, pinning on and off, with repeated and with unique left keys.
//!
//! Both inputs are out of order within the sources' bound, so nothing is late and every
//! interval must be emitted exactly once with exactly the right records inside it. Late data:
//! at 1 worker one source of both sides, stepped one record per poll, makes the frontier each
//! record meets deterministic, so late counts and results equal a simulation exactly.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[path = "support/step.rs"]
mod step;
use step::StepSource;

use proptest::prelude::*;
use weir_engine::window::{Count, IntervalAggregateSpec, Max, on};
use weir_engine::{Collector, Config, IterSource, MetricsSnapshot, Stream, execute};

/// A left record: (key, start, end, id). Its event time is `start`.
type Left = (u64, i64, i64, usize);
/// A right record: (key, event time, value).
type Right = (u64, i64, i64);

/// The sources' out-of-orderness bound.
const OOO: i64 = 30;

/// What an interval gets: `(count, max value)` of the right records inside, or `None`.
type CountMax = Option<(u64, Option<i64>)>;

/// Results by interval id.
type Results = BTreeMap<usize, CountMax>;

fn collect(out: Vec<(Left, CountMax)>) -> Results {
    let mut results = Results::new();
    for (left, result) in out {
        assert!(
            results.insert(left.3, result).is_none(),
            "interval {} emitted twice",
            left.3
        );
    }
    results
}

/// The nested loop over the given (accepted) records.
fn reference(lefts: &[Left], rights: &[Right]) -> Results {
    lefts
        .iter()
        .map(|&(key, start, end, id)| {
            let values: Vec<i64> = rights
                .iter()
                .filter(|r| r.0 == key && start <= r.1 && r.1 <= end)
                .map(|r| r.2)
                .collect();
            let result =
                (!values.is_empty()).then(|| (values.len() as u64, values.iter().max().copied()));
            (id, result)
        })
        .collect()
}

/// The pipeline under test: `(count, max)` per interval.
fn interval_count_max(
    left: Stream<Left>,
    right: Stream<Right>,
    spec: IntervalAggregateSpec,
) -> Stream<(Left, CountMax)> {
    left.interval_aggregate(
        right,
        spec,
        |l| (l.0, l.1, l.2),
        |r| (r.0, r.1),
        (Count, on(|r: &Right| r.2, Max::new())),
    )
    .expect("valid spec")
}

/// Runs the pipeline over two inputs (record i of each goes to worker i % peers).
fn run(
    left: &[Left],
    right: &[Right],
    workers: usize,
    pinning: bool,
    batch: usize,
    spec: IntervalAggregateSpec,
) -> (Results, MetricsSnapshot) {
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(2)
        .with_collector(collector.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let l: Vec<Left> = left
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(_, r)| *r)
            .collect();
        let r: Vec<Right> = right
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(_, r)| *r)
            .collect();
        let l = worker.source(IterSource::new(l, |l: &Left| l.1, OOO));
        let r = worker.source(IterSource::new(r, |r: &Right| r.1, OOO));
        let sink = Arc::clone(&out);
        interval_count_max(l, r, spec).sink(move |batch| sink.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let out = std::mem::take(&mut *out.lock().unwrap());
    (collect(out), collector.latest())
}

/// Intervals in start order with jitter in `[0, OOO]`, lengths from empty (`end < start`) to
/// 60 ms. With `unique`, key = position (each key opens one interval).
fn lefts(keys: u64, unique: bool) -> impl Strategy<Value = Vec<Left>> {
    prop::collection::vec((0..keys, 0..20_i64, 0..=OOO, -2_i64..60), 0..80).prop_map(move |steps| {
        let mut base = 500_i64;
        steps
            .into_iter()
            .enumerate()
            .map(|(id, (key, step, jitter, len))| {
                base += step;
                let key = if unique { id as u64 } else { key };
                (key, base + jitter, base + jitter + len, id)
            })
            .collect()
    })
}

/// Right records in time order with jitter in `[0, OOO]`.
fn rights(keys: u64) -> impl Strategy<Value = Vec<Right>> {
    prop::collection::vec((0..keys, 0..12_i64, 0..=OOO, -50..50_i64), 0..200).prop_map(|steps| {
        let mut base = 480_i64;
        steps
            .into_iter()
            .map(|(key, step, jitter, value)| {
                base += step;
                (key, base + jitter, value)
            })
            .collect()
    })
}

fn workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3])
}

/// One input carrying both sides, for the stepped late-data test.
#[derive(Clone, Copy, Debug)]
enum Side {
    L(Left),
    R(Right),
}

impl Side {
    fn time(&self) -> i64 {
        match self {
            Side::L(l) => l.1,
            Side::R(r) => r.1,
        }
    }
}

/// Both sides drifting forward with jitter up to 100 ms: often behind the watermark.
fn mixed() -> impl Strategy<Value = Vec<Side>> {
    prop::collection::vec(
        (
            any::<bool>(),
            0..4_u64,
            0..10_i64,
            0..100_i64,
            -5_i64..60,
            -9..9_i64,
        ),
        0..150,
    )
    .prop_map(|steps| {
        let mut base = 1_000_i64;
        steps
            .into_iter()
            .enumerate()
            .map(|(id, (is_left, key, step, jitter, len, value))| {
                base += step;
                let t = base + jitter;
                if is_left {
                    Side::L((key, t, t + len, id))
                } else {
                    Side::R((key, t, value))
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn repeated_keys_match_nested_loop(
        left in lefts(5, false), right in rights(5), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32,
    ) {
        let (got, snap) = run(&left, &right, w, pin, batch, IntervalAggregateSpec::new());
        prop_assert_eq!(got, reference(&left, &right));
        prop_assert_eq!(snap.late(), 0);
    }

    #[test]
    fn unique_keys_match_nested_loop(
        left in lefts(1, true), right in rights(80), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32,
    ) {
        let spec = IntervalAggregateSpec::new().unique_left_keys();
        let (got, snap) = run(&left, &right, w, pin, batch, spec);
        prop_assert_eq!(got, reference(&left, &right));
        prop_assert_eq!(snap.late(), 0);
    }

    /// At 1 worker, stepped: a left record is late when its start is behind
    /// `frontier - lateness`, a right record when its time is; the results are the nested
    /// loop over the others.
    #[test]
    fn late_records_counted_exactly_at_one_worker(
        input in mixed(), lateness in 0_i64..50, unique in any::<bool>(),
    ) {
        let mut spec = IntervalAggregateSpec::new().allowed_lateness(lateness);
        let input: Vec<Side> = if unique {
            spec = spec.unique_left_keys();
            // Unique keys: each left record gets its own key, right records hit a few of them.
            input.into_iter().map(|s| match s {
                Side::L(l) => Side::L((l.3 as u64 % 40, l.1, l.2, l.3)),
                Side::R(r) => Side::R((r.0 * 10 + (r.1 as u64 % 4), r.1, r.2)),
            }).scan(std::collections::BTreeSet::new(), |seen, s| Some(match s {
                Side::L(l) if !seen.insert(l.0) => None,
                other => Some(other),
            })).flatten().collect()
        } else {
            input
        };
        let collector = Collector::new();
        let config = Config::new(1)
            .with_pinning(false)
            .with_batch_size(1)
            .with_collector(collector.clone());
        let out = Arc::new(Mutex::new(Vec::new()));
        let records = input.clone();
        execute(config, |worker| {
            let (l, r) = worker
                .source(StepSource::new(records.clone(), Side::time, OOO))
                .split();
            let l = l.flat_map(|s| match s { Side::L(l) => Some(l), Side::R(_) => None });
            let r = r.flat_map(|s| match s { Side::R(r) => Some(r), Side::L(_) => None });
            let sink = Arc::clone(&out);
            interval_count_max(l, r, spec).sink(move |batch| sink.lock().unwrap().append(batch));
        })
        .expect("job runs");
        let got = collect(std::mem::take(&mut *out.lock().unwrap()));
        let (mut lefts, mut rights, mut late) = (Vec::new(), Vec::new(), 0);
        let mut max_seen = i64::MIN;
        for s in &input {
            let bound = if max_seen == i64::MIN { i64::MIN } else { max_seen - OOO - lateness };
            max_seen = max_seen.max(s.time());
            match *s {
                Side::L(l) if l.1 < bound => late += 1,
                Side::R(r) if r.1 < bound => late += 1,
                Side::L(l) => lefts.push(l),
                Side::R(r) => rights.push(r),
            }
        }
        prop_assert_eq!(got, reference(&lefts, &rights));
        prop_assert_eq!(collector.latest().late(), late);
    }
}

#[test]
fn negative_lateness_is_an_error_naming_the_setting() {
    let result = execute(Config::new(1).with_pinning(false), |worker| {
        let l = worker.source(IterSource::new(Vec::<Left>::new(), |l: &Left| l.1, 0));
        let r = worker.source(IterSource::new(Vec::<Right>::new(), |r: &Right| r.1, 0));
        l.interval_aggregate(
            r,
            IntervalAggregateSpec::new().allowed_lateness(-5),
            |l| (l.0, l.1, l.2),
            |r| (r.0, r.1),
            Count,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    })
    .expect("job runs");
    assert!(result[0].contains("lateness"), "{}", result[0]);
}
