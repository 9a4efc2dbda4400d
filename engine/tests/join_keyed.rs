//! Window joins and interval joins as real dataflows (two sources per worker), against
//! sequential references on random inputs, at 1, 2, 3 and 8 workers, pinning on and off.
//! Inputs are out of order within the sources' bound, so nothing is late.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use weir_engine::window::{Count, Distinct, IntervalSpec, Max, Window, WindowSpec, on};
use weir_engine::{Collector, Config, IterSource, MetricsSnapshot, Stream, execute};

/// (key, event time, id).
type Rec = (u64, i64, i64);

const OOO: i64 = 30;

/// Runs `pipeline` over two inputs (record i of each goes to worker i % peers).
fn run<O, F>(
    left: &[Rec],
    right: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    pipeline: F,
) -> (Vec<O>, MetricsSnapshot)
where
    O: Send + 'static,
    F: Fn(Stream<Rec>, Stream<Rec>) -> Stream<O> + Sync,
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
        let share = |input: &[Rec]| -> Vec<Rec> {
            input
                .iter()
                .enumerate()
                .filter(|(i, _)| i % peers == me)
                .map(|(_, r)| *r)
                .collect()
        };
        let l = worker.source(IterSource::new(share(left), |r: &Rec| r.1, OOO));
        let r = worker.source(IterSource::new(share(right), |r: &Rec| r.1, OOO));
        let sink = Arc::clone(&out);
        pipeline(l, r).sink(move |batch| sink.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let out = std::mem::take(&mut *out.lock().unwrap());
    (out, collector.latest())
}

/// Records in time order with jitter in `[0, OOO]`, ids unique within the side.
fn records(keys: u64) -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..keys, 0..20_i64, 0..=OOO), 0..150).prop_map(|steps| {
        let mut base = 500_i64;
        steps
            .into_iter()
            .enumerate()
            .map(|(id, (key, step, jitter))| {
                base += step;
                (key, base + jitter, id as i64)
            })
            .collect()
    })
}

fn workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// q8's shape: distinct left ids per key and window, joined with the right count.
    #[test]
    fn window_join_matches_reference(
        left in records(5), right in records(5), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32, size in 5_i64..150,
    ) {
        let (out, snap) = run(&left, &right, w, pin, batch, |l, r| {
            l.window_join(
                r,
                WindowSpec::tumbling(size),
                |x| (x.0, x.1),
                |x| (x.0, x.1),
                on(|x: &Rec| x.2 % 4, Distinct::new()),
                Count,
            )
            .expect("valid spec")
        });
        let mut got: Vec<(u64, Window, Vec<i64>, u64)> = out;
        got.sort_unstable();
        let window = |ts: i64| {
            let start = ts.div_euclid(size) * size;
            Window { start, end: start + size }
        };
        let mut lefts: BTreeMap<(u64, Window), Vec<i64>> = BTreeMap::new();
        for &(k, t, id) in &left {
            lefts.entry((k, window(t))).or_default().push(id % 4);
        }
        let mut rights: BTreeMap<(u64, Window), u64> = BTreeMap::new();
        for &(k, t, _) in &right {
            *rights.entry((k, window(t))).or_default() += 1;
        }
        let expected: Vec<_> = lefts
            .into_iter()
            .filter_map(|((k, win), mut ids)| {
                ids.sort_unstable();
                ids.dedup();
                rights.get(&(k, win)).map(|&n| (k, win, ids, n))
            })
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    /// Inclusive bounds on both ends, negative and positive offsets.
    #[test]
    fn interval_join_matches_nested_loop(
        left in records(4), right in records(4), w in workers(), pin in any::<bool>(),
        batch in 1_usize..32, lower in -60_i64..20, width in 0_i64..60,
    ) {
        let spec = IntervalSpec { lower, upper: lower + width, lateness: 0 };
        let (out, snap) = run(&left, &right, w, pin, batch, |l, r| {
            l.interval_join(r, spec, |x| (x.0, x.1), |x| (x.0, x.1), |_, a, b| (a.2, b.2))
                .expect("valid bounds")
        });
        let mut got = out;
        got.sort_unstable();
        let mut expected = Vec::new();
        for &(kl, tl, il) in &left {
            for &(kr, tr, ir) in &right {
                if kl == kr && tl + lower <= tr && tr <= tl + lower + width {
                    expected.push((il, ir));
                }
            }
        }
        expected.sort_unstable();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }
}

/// q7's shape: the maximum "price" per 100 ms tumbling window, stamped with the window end,
/// joined with every record of `[end - 100, end]` (inclusive) at that price.
#[test]
fn window_max_then_end_inclusive_interval_join() {
    // (price, time, id): prices repeat so that ties occur; every third window's maximum also
    // gets a bid exactly at the window end, which BETWEEN's inclusive upper bound must catch.
    let mut bids: Vec<Rec> = (0..1_500_i64)
        .map(|i| ((i * 37 % 101) as u64, 1_000 + i * 2 + i % 7, 0))
        .collect();
    let window_max = |bids: &[Rec]| {
        let mut max_per_end: BTreeMap<i64, u64> = BTreeMap::new();
        for b in bids {
            let max = max_per_end
                .entry(b.1.div_euclid(100) * 100 + 100)
                .or_default();
            *max = (*max).max(b.0);
        }
        max_per_end
    };
    let at_end: Vec<Rec> = window_max(&bids)
        .into_iter()
        .step_by(3)
        .map(|(end, price)| (price, end, 0))
        .collect();
    bids.extend(at_end);
    bids.sort_by_key(|b| b.1);
    for (id, b) in bids.iter_mut().enumerate() {
        b.2 = id as i64;
    }
    for workers in [1, 2, 8] {
        let (out, snap) = run(&bids, &bids, workers, false, 16, |maxes, bids| {
            let maxes = maxes
                .window(
                    WindowSpec::tumbling(100),
                    |_| (),
                    |b| b.1,
                    on(|b: &Rec| b.0, Max::new()),
                )
                .expect("valid spec")
                .map(|((), window, max)| (max.expect("non-empty window"), window.end));
            maxes
                .interval_join(
                    bids,
                    IntervalSpec {
                        lower: -100,
                        upper: 0,
                        lateness: 0,
                    },
                    |m| (m.0, m.1),
                    |b| (b.0, b.1),
                    |_, m, b| (m.1, b.2),
                )
                .expect("valid bounds")
        });
        assert_eq!(snap.late(), 0);
        let mut got = out;
        got.sort_unstable();
        let max_per_window = window_max(&bids);
        let mut expected = Vec::new();
        for (&end, &price) in &max_per_window {
            for b in &bids {
                if b.0 == price && end - 100 <= b.1 && b.1 <= end {
                    expected.push((end, b.2));
                }
            }
        }
        expected.sort_unstable();
        assert!(
            expected.iter().any(|&(end, id)| bids[id as usize].1 == end),
            "a bid at a window end is in the test"
        );
        assert_eq!(got, expected, "at {workers} workers");
    }
}
