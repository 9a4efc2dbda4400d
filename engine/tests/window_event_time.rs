//! Event-time windows as real dataflows, against sequential references on random inputs, at
//! 1, 2, 3 and 8 workers (8 is more than the cores here), pinning on and off.
//!
//! Inputs are out of order within the sources' bound (`OOO` ms), so nothing is late and the
//! results must equal the batch reference exactly; every window must fire exactly once.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use weir_engine::window::{
    Avg, Collect, Count, DistinctCount, Max, Min, Sum, TopK, Window, WindowSpec, on,
};
use weir_engine::{Collector, Config, IterSource, MetricsSnapshot, Stream, execute};

/// (key, event time, value).
type Rec = (u64, i64, i64);

/// The sources' out-of-orderness bound.
const OOO: i64 = 50;

/// Runs `pipeline` on every worker over its share of `input` (record i goes to worker
/// i % peers) and returns what reaches the sinks, with the final metrics.
fn run<O, F>(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    pipeline: F,
) -> (Vec<O>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>) -> Stream<O> + Sync,
{
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(2)
        .with_collector(collector.clone());
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let mine: Vec<Rec> = input
            .iter()
            .enumerate()
            .filter(|(i, _)| i % peers == me)
            .map(|(_, r)| *r)
            .collect();
        let sink = Arc::clone(&out);
        pipeline(worker.source(IterSource::new(mine, |r: &Rec| r.1, OOO)))
            .sink(move |batch| sink.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let out = std::mem::take(&mut *out.lock().unwrap());
    (out, collector.latest())
}

/// Records in event-time order with jitter in `[0, OOO]`: never behind a source's watermark.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..6_u64, 0..40_i64, 0..OOO + 1, -50..50_i64), 0..300).prop_map(
        |steps| {
            let mut base = 1_000_i64;
            steps
                .into_iter()
                .map(|(key, step, jitter, value)| {
                    base += step;
                    (key, base + jitter, value)
                })
                .collect()
        },
    )
}

fn workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

/// Collects `(key, window) -> result`, failing if a window fires twice.
fn by_window<R>(out: Vec<(u64, Window, R)>) -> BTreeMap<(u64, Window), R> {
    let mut map = BTreeMap::new();
    for (key, window, result) in out {
        assert!(
            map.insert((key, window), result).is_none(),
            "window {window:?} of key {key} fired twice"
        );
    }
    map
}

/// The values of every (key, window) of `size`/`slide` windows.
fn reference_windows(input: &[Rec], size: i64, slide: i64) -> BTreeMap<(u64, Window), Vec<i64>> {
    let mut map: BTreeMap<(u64, Window), Vec<i64>> = BTreeMap::new();
    for &(key, ts, value) in input {
        let mut start = ts.div_euclid(slide) * slide;
        while start + size > ts {
            map.entry((
                key,
                Window {
                    start,
                    end: start + size,
                },
            ))
            .or_default()
            .push(value);
            start -= slide;
        }
    }
    map
}

/// Sessions per key: sorted timestamps cut where the gap to the previous exceeds `gap`.
fn reference_sessions(input: &[Rec], gap: i64) -> BTreeMap<(u64, Window), Vec<i64>> {
    let mut per_key: BTreeMap<u64, Vec<(i64, i64)>> = BTreeMap::new();
    for &(key, ts, value) in input {
        per_key.entry(key).or_default().push((ts, value));
    }
    let mut map = BTreeMap::new();
    for (key, mut records) in per_key {
        records.sort_unstable();
        let mut current: Vec<i64> = Vec::new();
        let (mut start, mut last) = (records[0].0, records[0].0);
        for (ts, value) in records {
            if ts > last + gap {
                map.insert(
                    (
                        key,
                        Window {
                            start,
                            end: last + gap,
                        },
                    ),
                    std::mem::take(&mut current),
                );
                start = ts;
            }
            last = ts;
            current.push(value);
        }
        map.insert(
            (
                key,
                Window {
                    start,
                    end: last + gap,
                },
            ),
            current,
        );
    }
    map
}

fn top3(values: &[i64]) -> Vec<i64> {
    let mut v = values.to_vec();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v.truncate(3);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn tumbling_count_sum_min(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..40, size in 1_i64..200) {
        let (out, snap) = run(&input, w, pin, batch, |s| {
            s.window(WindowSpec::tumbling(size), |r| r.0, |r| r.1, (Count, on(|r: &Rec| r.2, Sum), on(|r: &Rec| r.2, Min::new())))
                .expect("valid spec")
        });
        let got = by_window(out);
        let expected: BTreeMap<_, _> = reference_windows(&input, size, size)
            .into_iter()
            .map(|(k, v)| (k, (v.len() as u64, v.iter().map(|&x| i128::from(x)).sum::<i128>(), v.iter().min().copied())))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    #[test]
    fn sliding_avg_distinct_top3(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..40, size in 1_i64..200, slide_div in 1_i64..6) {
        let slide = (size / slide_div).max(1);
        let (out, snap) = run(&input, w, pin, batch, |s| {
            s.window(WindowSpec::sliding(size, slide), |r| r.0, |r| r.1,
                     (on(|r: &Rec| r.2, Avg), on(|r: &Rec| r.2, DistinctCount::new()), on(|r: &Rec| r.2, TopK::new(3))))
                .expect("valid spec")
        });
        let got = by_window(out);
        let expected: BTreeMap<_, _> = reference_windows(&input, size, slide)
            .into_iter()
            .map(|(k, v)| {
                let avg = v.iter().map(|&x| i128::from(x)).sum::<i128>() / v.len() as i128;
                let mut distinct = v.clone();
                distinct.sort_unstable();
                distinct.dedup();
                (k, (Some(avg as i64), distinct.len() as u64, top3(&v)))
            })
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    #[test]
    fn session_count_max(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..40, gap in 1_i64..120) {
        let (out, snap) = run(&input, w, pin, batch, |s| {
            s.window(WindowSpec::session(gap), |r| r.0, |r| r.1, (Count, on(|r: &Rec| r.2, Max::new())))
                .expect("valid spec")
        });
        let got = by_window(out);
        let expected: BTreeMap<_, _> = reference_sessions(&input, gap)
            .into_iter()
            .map(|(k, v)| (k, (v.len() as u64, v.iter().max().copied())))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }
}

/// Two windows in a row, q5's shape: counts per key and sliding window, then per window (keyed
/// by its end, so windows spread over workers) the keys with the highest count, ties kept. The
/// second stage's input is the first's output, whose event time is `window.end - 1`; nothing
/// may be late in between.
#[test]
fn windows_chain_without_late_results() {
    let input: Vec<Rec> = (0..2_000_i64)
        .map(|i| ((i * 7 % 13) as u64, 1_000 + i * 3 + i % 17, 0))
        .collect();
    for workers in [1, 3, 8] {
        let (out, snap) = run(&input, workers, false, 64, |s| {
            s.window(WindowSpec::sliding(100, 20), |r| r.0, |r| r.1, Count)
                .expect("valid spec")
                .window(
                    WindowSpec::tumbling(20),
                    |(_, w, _)| w.end,
                    |(_, w, _)| w.end - 1,
                    on(|r: &(u64, Window, u64)| (r.2, r.0), Collect::new()),
                )
                .expect("valid spec")
                .flat_map(|(end, _, counts)| {
                    let max = counts.last().map_or(0, |c| c.0);
                    counts
                        .into_iter()
                        .filter(move |c| c.0 == max)
                        .map(move |(count, key)| (end, key, count))
                })
        });
        assert_eq!(snap.late(), 0, "window results are never late downstream");
        let mut got = out;
        got.sort_unstable();
        let mut counts: BTreeMap<i64, BTreeMap<u64, u64>> = BTreeMap::new();
        for ((key, window), values) in reference_windows(&input, 100, 20) {
            *counts
                .entry(window.end)
                .or_default()
                .entry(key)
                .or_default() += values.len() as u64;
        }
        let mut expected = Vec::new();
        for (end, per_key) in counts {
            let max = per_key.values().copied().max().unwrap_or(0);
            for (key, count) in per_key {
                if count == max {
                    expected.push((end, key, count));
                }
            }
        }
        expected.sort_unstable();
        assert!(
            expected.len() > counts_len(&expected),
            "ties occur in the test"
        );
        assert_eq!(got, expected, "at {workers} workers");
    }
}

/// Number of distinct window ends among the expected rows.
fn counts_len(rows: &[(i64, u64, u64)]) -> usize {
    let mut ends: Vec<i64> = rows.iter().map(|r| r.0).collect();
    ends.dedup();
    ends.len()
}

#[test]
fn invalid_specs_are_errors_naming_the_setting() {
    let result = execute(Config::new(1).with_pinning(false), |worker| {
        let s = worker.source(IterSource::new(Vec::<Rec>::new(), |r: &Rec| r.1, 0));
        let err = s
            .window(WindowSpec::sliding(10, 20), |r| r.0, |r| r.1, Count)
            .err()
            .map(|e| e.to_string());
        err.unwrap_or_default()
    })
    .expect("job runs");
    assert!(result[0].contains("slide"), "{}", result[0]);
}
