//! The global window (`WindowSpec::global`), two-phase windows over all records
//! (`Stream::window_all`) and keyed two-phase windows (`Stream::window_two_phase`) as real
//! dataflows, against sequential references on random inputs at 1, 2 and 3 workers (keyed: 1,
//! 2, 3 and 8), pinning on and off.
//!
//! Inputs are out of order within the sources' bound (`OOO` ms), so nothing is late and the
//! results must equal the batch reference exactly; every window must fire exactly once. Late
//! data: at 1 worker a stepping source makes the frontier each record meets deterministic, so
//! the late count and the results are compared exactly with a simulation; at 2 and 3 workers
//! the accounting must be exact (every record counted in its window or as late).

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::BTreeMap;

#[path = "support/dataflow.rs"]
mod dataflow;
#[path = "support/step.rs"]
mod step;
use dataflow::{OOO, Rec, run};

use proptest::prelude::*;
use weir_engine::window::{ArgMaxAll, Avg, Count, Sum, Window, WindowSpec, on};
use weir_engine::{Config, IterSource, execute};

/// Records in event-time order with jitter in `[0, OOO]`: never behind a source's watermark.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..6_u64, 0..30_i64, 0..=OOO, -40..40_i64), 0..300).prop_map(|steps| {
        let mut base = 1_000_i64;
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

/// Worker counts for the keyed two-phase windows: more workers than keys as well.
fn keyed_workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

/// Tumbling, sliding or global windows.
fn specs() -> impl Strategy<Value = (WindowSpec, Option<(i64, i64)>)> {
    prop_oneof![
        (1_i64..150).prop_map(|size| (WindowSpec::tumbling(size), Some((size, size)))),
        (1_i64..150, 1_i64..5).prop_map(|(size, div)| {
            let slide = (size / div).max(1);
            (WindowSpec::sliding(size, slide), Some((size, slide)))
        }),
        Just((WindowSpec::global(), None)),
    ]
}

/// The records of every window (`None`: the global window) by window.
fn reference_windows(input: &[Rec], shape: Option<(i64, i64)>) -> BTreeMap<Window, Vec<Rec>> {
    let mut map: BTreeMap<Window, Vec<Rec>> = BTreeMap::new();
    for &r in input {
        let Some((size, slide)) = shape else {
            map.entry(Window::GLOBAL).or_default().push(r);
            continue;
        };
        let mut start = r.1.div_euclid(slide) * slide;
        while start + size > r.1 {
            map.entry(Window {
                start,
                end: start + size,
            })
            .or_default()
            .push(r);
            start -= slide;
        }
    }
    map
}

/// The largest value (coarsened, so that ties are common) and every key with it, sorted.
fn leaders(records: &[Rec]) -> Option<(i64, Vec<u64>)> {
    let max = records.iter().map(|r| r.2 / 10).max()?;
    let mut keys: Vec<u64> = records
        .iter()
        .filter(|r| r.2 / 10 == max)
        .map(|r| r.0)
        .collect();
    keys.sort_unstable();
    Some((max, keys))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// `WindowSpec::global()` with `Stream::window`: one result per key, at end of input.
    #[test]
    fn global_window_per_key(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..40) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            s.window(WindowSpec::global(), |r| r.0, |r| r.1, (Count, on(|r: &Rec| r.2, Sum), on(|r: &Rec| r.2, Avg)))
                .expect("valid spec")
        });
        let mut got = BTreeMap::new();
        for (key, window, result) in out {
            prop_assert_eq!(window, Window::GLOBAL);
            prop_assert!(got.insert(key, result).is_none(), "key {} fired twice", key);
        }
        let mut per_key: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
        for r in &input {
            per_key.entry(r.0).or_default().push(r.2);
        }
        let expected: BTreeMap<_, _> = per_key
            .into_iter()
            .map(|(k, v)| {
                let sum = v.iter().map(|&x| i128::from(x)).sum::<i128>();
                (k, (v.len() as u64, sum, Some((sum / v.len() as i128) as i64)))
            })
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    /// `window_all` with a count and the keys at the largest value, ties kept.
    #[test]
    fn window_all_matches_reference(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..40, (spec, shape) in specs()) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            s.window_all(spec, |r| r.1, (Count, on(|r: &Rec| (r.0, r.2 / 10), ArgMaxAll::new())))
                .expect("valid spec")
        });
        let mut got = BTreeMap::new();
        for (window, result) in out {
            prop_assert!(got.insert(window, result).is_none(), "window {:?} fired twice", window);
        }
        let expected: BTreeMap<_, _> = reference_windows(&input, shape)
            .into_iter()
            .map(|(window, records)| (window, (records.len() as u64, leaders(&records))))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    /// Input more out of order than the watermark allows, at 1 worker with one record per
    /// poll: the late records and the counts equal a simulation exactly.
    #[test]
    fn window_all_late_records_exact_at_one_worker(input in late_records(), size in 1_i64..100, lateness in 0_i64..60) {
        let spec = WindowSpec::tumbling(size).allowed_lateness(lateness);
        let (out, snap) = run(&input, 1, false, 1, true, |s| {
            s.window_all(spec, |r| r.1, Count).expect("valid spec")
        });
        let got: BTreeMap<Window, u64> = out.into_iter().collect();
        let mut expected = BTreeMap::new();
        let mut late = 0;
        let mut max_seen = i64::MIN;
        for r in &input {
            let frontier = if max_seen == i64::MIN { i64::MIN } else { max_seen - OOO };
            max_seen = max_seen.max(r.1);
            let start = r.1.div_euclid(size) * size;
            if frontier >= start + size + lateness {
                late += 1;
            } else {
                *expected.entry(Window { start, end: start + size }).or_default() += 1;
            }
        }
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), late);
    }

    /// The same input at 2 and 3 workers with batches: which records are late depends on
    /// thread timing, but every record is either counted in its window or counted as late.
    #[test]
    fn window_all_late_accounting_is_exact(input in late_records(), w in 2_usize..4, batch in 1_usize..20, size in 1_i64..100) {
        let (out, snap) = run(&input, w, false, batch, false, |s| {
            s.window_all(WindowSpec::tumbling(size), |r| r.1, Count).expect("valid spec")
        });
        let mut fired = BTreeMap::new();
        for (window, count) in out {
            prop_assert_eq!(window.end - window.start, size);
            prop_assert_eq!(window.start.rem_euclid(size), 0);
            prop_assert!(fired.insert(window, count).is_none(), "window {:?} fired twice", window);
        }
        let counted: u64 = fired.values().sum();
        prop_assert_eq!(counted + snap.late(), input.len() as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// `window_two_phase` per key with a count, an exact sum and the keys at the largest
    /// value (merged across workers): equal to the per-key reference, each window once.
    #[test]
    fn window_two_phase_matches_reference(input in records(), w in keyed_workers(), pin in any::<bool>(), batch in 1_usize..40, (spec, shape) in specs()) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            s.window_two_phase(spec, |r| r.0 % 4, |r| r.1, (Count, on(|r: &Rec| r.2, Sum), on(|r: &Rec| (r.0, r.2 / 10), ArgMaxAll::new())))
                .expect("valid spec")
        });
        let mut got = BTreeMap::new();
        for (key, window, result) in out {
            prop_assert!(got.insert((window, key), result).is_none(), "key {} fired twice in {:?}", key, window);
        }
        let mut expected = BTreeMap::new();
        for (window, records) in reference_windows(&input, shape) {
            let mut per_key: BTreeMap<u64, Vec<Rec>> = BTreeMap::new();
            for r in records {
                per_key.entry(r.0 % 4).or_default().push(r);
            }
            for (key, records) in per_key {
                let sum = records.iter().map(|r| i128::from(r.2)).sum::<i128>();
                expected.insert((window, key), (records.len() as u64, sum, leaders(&records)));
            }
        }
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    /// Input more out of order than the watermark allows, at 1 worker with one record per
    /// poll: the same results and late count as `Stream::window` (one worker's frontier
    /// decides in both).
    #[test]
    fn window_two_phase_late_records_as_window_at_one_worker(input in late_records(), size in 1_i64..100, lateness in 0_i64..60) {
        let spec = WindowSpec::tumbling(size).allowed_lateness(lateness);
        let (mut two, two_snap) = run(&input, 1, false, 1, true, |s| {
            s.window_two_phase(spec, |r| r.0, |r| r.1, Count).expect("valid spec")
        });
        let (mut one, one_snap) = run(&input, 1, false, 1, true, |s| {
            s.window(spec, |r| r.0, |r| r.1, Count).expect("valid spec")
        });
        two.sort_unstable();
        one.sort_unstable();
        prop_assert_eq!(two, one);
        prop_assert_eq!(two_snap.late(), one_snap.late());
    }

    /// At 2, 3 and 8 workers with batches: which records are late depends on thread timing,
    /// but every record is either counted in its key's window or counted as late, and no key
    /// fires twice in a window.
    #[test]
    fn window_two_phase_late_accounting_is_exact(input in late_records(), w in prop::sample::select(vec![2_usize, 3, 8]), batch in 1_usize..20, size in 1_i64..100) {
        let (out, snap) = run(&input, w, false, batch, false, |s| {
            s.window_two_phase(WindowSpec::tumbling(size), |r| r.0, |r| r.1, Count).expect("valid spec")
        });
        let mut fired = BTreeMap::new();
        for (key, window, count) in out {
            prop_assert_eq!(window.end - window.start, size);
            prop_assert!(fired.insert((window, key), count).is_none(), "key {} fired twice in {:?}", key, window);
        }
        let counted: u64 = fired.values().sum();
        prop_assert_eq!(counted + snap.late(), input.len() as u64);
    }
}

/// Records drifting forward with jitter up to 150 ms, often behind the watermark.
fn late_records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..4_u64, 0..15_i64, 0..150_i64), 0..200).prop_map(|steps| {
        let mut base = 1_000_i64;
        steps
            .into_iter()
            .map(|(key, step, jitter)| {
                base += step;
                (key, base + jitter, 0)
            })
            .collect()
    })
}

/// Nexmark q5's shape: counts per key and sliding window, then `window_all` over tumbling
/// windows of one slide (each ends where one sliding window ends) with the keys at the
/// highest count, ties kept. Nothing may be late between the two stages.
#[test]
fn sliding_counts_then_leaders_per_window() {
    let input: Vec<Rec> = (0..3_000_i64)
        .map(|i| ((i * 7 % 13) as u64, 1_000 + i * 3 + i % 17, 0))
        .collect();
    let mut counts: BTreeMap<i64, BTreeMap<u64, u64>> = BTreeMap::new();
    for (window, records) in reference_windows(&input, Some((100, 20))) {
        for r in records {
            *counts
                .entry(window.end)
                .or_default()
                .entry(r.0)
                .or_default() += 1;
        }
    }
    let mut expected = Vec::new();
    for (end, per_key) in counts {
        let max = per_key.values().copied().max().unwrap_or(0);
        let keys: Vec<u64> = per_key
            .into_iter()
            .filter(|&(_, c)| c == max)
            .map(|(k, _)| k)
            .collect();
        expected.push((end, max, keys));
    }
    assert!(
        expected.iter().any(|e| e.2.len() > 1),
        "ties occur in the test"
    );
    for workers in [1, 2, 3] {
        let (out, snap) = run(&input, workers, false, 64, false, |s| {
            s.window(WindowSpec::sliding(100, 20), |r| r.0, |r| r.1, Count)
                .expect("valid spec")
                .window_all(
                    WindowSpec::tumbling(20),
                    |(_, w, _)| w.end - 1,
                    on(|r: &(u64, Window, u64)| (r.0, r.2), ArgMaxAll::new()),
                )
                .expect("valid spec")
        });
        assert_eq!(snap.late(), 0, "window results are never late downstream");
        let mut got: Vec<(i64, u64, Vec<u64>)> = out
            .into_iter()
            .map(|(w, leaders)| {
                let (count, keys) = leaders.expect("a window with counts has a leader");
                (w.end, count, keys)
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got, expected, "at {workers} workers");
    }
}

#[test]
fn unsupported_windows_are_errors_naming_the_operator() {
    let result = execute(Config::new(1).with_pinning(false), |worker| {
        let source = worker.source(IterSource::new(Vec::<Rec>::new(), |r: &Rec| r.1, 0));
        let (first, rest) = source.split();
        let all = first
            .window_all(WindowSpec::session(10), |r| r.1, Count)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let (rest, keyed) = rest.split();
        let two_phase = keyed
            .window_two_phase(WindowSpec::session(10), |r| r.0, |r| r.1, Count)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let (left, right) = rest.split();
        let join = left
            .window_join(
                right,
                WindowSpec::global(),
                |r| (r.0, r.1),
                |r| (r.0, r.1),
                Count,
                Count,
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        (all, two_phase, join)
    })
    .expect("job runs");
    let (all, two_phase, join) = &result[0];
    assert!(
        two_phase.contains("window_two_phase") && two_phase.contains("session"),
        "{two_phase}"
    );
    assert!(
        all.contains("window_all") && all.contains("session"),
        "{all}"
    );
    assert!(
        join.contains("window_join") && join.contains("global"),
        "{join}"
    );
}
