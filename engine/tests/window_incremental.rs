//! The incremental window operators as real dataflows, against sequential references on random
//! inputs at 1, 2, 3 and 8 workers, pinning on and off: `window_leaders` (per window the keys
//! with the highest monotone aggregate, kept up to date as records arrive) and
//! `window_semi_join` (a window join's rows emitted as soon as they exist).
//!
//! Inputs are out of order within the sources' bound (`OOO` ms), so nothing is late and the
//! results must equal the batch reference exactly, every window once. Late data at 1 worker
//! with one record per poll (a deterministic frontier per record) is compared with a
//! simulation; at several workers the accounting must be exact.

use std::collections::{BTreeMap, BTreeSet};

#[path = "support/dataflow.rs"]
mod dataflow;
#[path = "support/step.rs"]
mod step;
use dataflow::{OOO, Rec, run};

use proptest::prelude::*;
use weir_engine::Stream;
use weir_engine::window::{Count, Max, Window, WindowSpec, on};

/// Records in event-time order with jitter in `[0, OOO]`: never behind a source's watermark.
/// Keys are often repeated across panes (the leaders' shared path).
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..8_u64, 0..12_i64, 0..=OOO, 0..40_i64), 0..400).prop_map(|steps| {
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
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

/// Tumbling or sliding windows.
fn shapes() -> impl Strategy<Value = (i64, i64)> {
    prop_oneof![
        (1_i64..120).prop_map(|size| (size, size)),
        (2_i64..120, 2_i64..6).prop_map(|(size, div)| (size, (size / div).max(1))),
    ]
}

/// The windows `[k * slide, k * slide + size)` holding `ts`.
fn windows_of(ts: i64, size: i64, slide: i64) -> Vec<Window> {
    let mut out = Vec::new();
    let mut start = ts.div_euclid(slide) * slide;
    while start + size > ts {
        out.push(Window {
            start,
            end: start + size,
        });
        start -= slide;
    }
    out
}

/// Per window, the largest `value(records of a key)` over keys and the keys at it.
fn reference_leaders(
    input: &[Rec],
    size: i64,
    slide: i64,
    value: impl Fn(&[Rec]) -> i64,
) -> BTreeMap<Window, (i64, Vec<u64>)> {
    let mut per_window: BTreeMap<Window, BTreeMap<u64, Vec<Rec>>> = BTreeMap::new();
    for &r in input {
        for w in windows_of(r.1, size, slide) {
            per_window
                .entry(w)
                .or_default()
                .entry(r.0)
                .or_default()
                .push(r);
        }
    }
    per_window
        .into_iter()
        .map(|(w, keys)| {
            let values: Vec<(u64, i64)> = keys.iter().map(|(&k, rs)| (k, value(rs))).collect();
            let best = values
                .iter()
                .map(|v| v.1)
                .max()
                .expect("a window with records");
            let at: Vec<u64> = values.iter().filter(|v| v.1 == best).map(|v| v.0).collect();
            (w, (best, at))
        })
        .collect()
}

/// The window join's rows: per window, every distinct left value of a key with a right record
/// of the key in the window (left: even values, right: odd).
fn reference_semi_join(input: &[Rec], size: i64, slide: i64) -> Vec<(u64, Window, i64)> {
    let mut left: BTreeMap<(Window, u64), Vec<i64>> = BTreeMap::new();
    let mut right: BTreeSet<(Window, u64)> = BTreeSet::new();
    for &r in input {
        for w in windows_of(r.1, size, slide) {
            if r.2 % 2 == 0 {
                let values = left.entry((w, r.0)).or_default();
                if !values.contains(&(r.2 / 10)) {
                    values.push(r.2 / 10);
                }
            } else {
                right.insert((w, r.0));
            }
        }
    }
    let mut rows: Vec<(u64, Window, i64)> = left
        .into_iter()
        .filter(|(wk, _)| right.contains(wk))
        .flat_map(|((w, k), values)| values.into_iter().map(move |v| (k, w, v)))
        .collect();
    rows.sort_unstable();
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Counts per key: the keys with the most records per window, ties kept.
    #[test]
    fn leaders_of_counts_match_reference(input in records(), w in workers(), pin in any::<bool>(),
                                         batch in 1_usize..40, (size, slide) in shapes()) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            s.window_leaders(WindowSpec::sliding(size, slide), |r| r.0, |r| r.1, Count)
                .expect("valid spec")
        });
        let mut got = BTreeMap::new();
        for (window, best, keys) in out {
            prop_assert!(got.insert(window, (best as i64, keys)).is_none(), "{:?} fired twice", window);
        }
        prop_assert_eq!(got, reference_leaders(&input, size, slide, |rs| rs.len() as i64));
        prop_assert_eq!(snap.late(), 0);
    }

    /// A maximum (of a coarsened value, so that ties and non-rising records are common).
    #[test]
    fn leaders_of_maxima_match_reference(input in records(), w in workers(), pin in any::<bool>(),
                                         batch in 1_usize..40, (size, slide) in shapes()) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            s.window_leaders(
                    WindowSpec::sliding(size, slide),
                    |r| r.0,
                    |r| r.1,
                    on(|r: &Rec| r.2 / 8, Max::new()),
                )
                .expect("valid spec")
        });
        let mut got = BTreeMap::new();
        for (window, best, keys) in out {
            prop_assert!(got.insert(window, (best.expect("a window with records"), keys)).is_none());
        }
        let expected = reference_leaders(&input, size, slide, |rs| {
            rs.iter().map(|r| r.2 / 8).max().expect("records")
        });
        prop_assert_eq!(got, expected);
        prop_assert_eq!(snap.late(), 0);
    }

    /// The semi-join's rows equal the window join's, whenever each was emitted.
    #[test]
    fn semi_join_matches_reference(input in records(), w in workers(), pin in any::<bool>(),
                                   batch in 1_usize..40, (size, slide) in shapes()) {
        let (out, snap) = run(&input, w, pin, batch, false, |s| {
            semi_join(s, WindowSpec::sliding(size, slide))
        });
        let mut got = out;
        got.sort_unstable();
        prop_assert_eq!(got, reference_semi_join(&input, size, slide));
        prop_assert_eq!(snap.late(), 0);
    }

    /// Late data at 1 worker, one record per poll: each record meets the frontier the records
    /// before it left, so the late records and the results equal a simulation exactly.
    #[test]
    fn late_records_exact_at_one_worker(input in late_records(), size in 1_i64..80,
                                        lateness in 0_i64..40) {
        let spec = WindowSpec::tumbling(size).allowed_lateness(lateness);
        let (out, snap) = run(&input, 1, false, 1, true, |s| {
            s.window_leaders(spec, |r| r.0, |r| r.1, Count).expect("valid spec")
        });
        let got: BTreeMap<Window, (i64, Vec<u64>)> =
            out.into_iter().map(|(w, best, keys)| (w, (best as i64, keys))).collect();
        let (accepted, late) = simulate_late(&input, size, lateness);
        prop_assert_eq!(got, reference_leaders(&accepted, size, size, |rs| rs.len() as i64));
        prop_assert_eq!(snap.late(), late);

        let (out, snap) = run(&input, 1, false, 1, true, |s| semi_join(s, spec));
        let mut got = out;
        got.sort_unstable();
        prop_assert_eq!(got, reference_semi_join(&accepted, size, size));
        prop_assert_eq!(snap.late(), late);
    }

    /// Several workers: which records are late depends on thread timing, but every row is one
    /// the whole input makes, once, and at most every record is late.
    #[test]
    fn late_records_at_several_workers(input in late_records(), w in 2_usize..9,
                                       batch in 1_usize..20, size in 1_i64..80) {
        let spec = WindowSpec::tumbling(size);
        let (out, snap) = run(&input, w, false, batch, false, |s| semi_join(s, spec));
        let mut got = out;
        got.sort_unstable();
        let all = reference_semi_join(&input, size, size);
        let mut unique = got.clone();
        unique.dedup();
        prop_assert_eq!(unique.len(), got.len(), "a row was emitted twice");
        prop_assert!(got.iter().all(|row| all.binary_search(row).is_ok()), "a row the input does not make");
        prop_assert!(snap.late() <= input.len() as u64);
    }
}

/// The semi-join of a stream's even-valued records (left, value `v / 10`) with its odd-valued
/// ones (right), by key.
fn semi_join(s: Stream<Rec>, spec: WindowSpec) -> Stream<(u64, Window, i64)> {
    let (left, right) = s.split();
    left.filter(|r| r.2 % 2 == 0)
        .window_semi_join(
            right.filter(|r| r.2 % 2 != 0),
            spec,
            |l| (l.0, l.1, l.2 / 10),
            |r| (r.0, r.1),
        )
        .expect("valid spec")
}

/// Records drifting forward with jitter up to 120 ms, often behind the watermark; values even
/// and odd so that both sources of `run` get records.
fn late_records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..4_u64, 0..12_i64, 0..120_i64, 0..40_i64), 0..200).prop_map(|steps| {
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

/// Which records one worker reading `input` one record per poll accepts into tumbling windows
/// of `size`: a record meets the frontier the records before it left (the newest time so far
/// minus `OOO`) and is late when its window has fired (`end + lateness <= frontier`).
fn simulate_late(input: &[Rec], size: i64, lateness: i64) -> (Vec<Rec>, u64) {
    let mut accepted = Vec::new();
    let mut late = 0;
    let mut max_seen = i64::MIN;
    for &r in input {
        let frontier = if max_seen == i64::MIN {
            i64::MIN
        } else {
            max_seen - OOO
        };
        max_seen = max_seen.max(r.1);
        let end = r.1.div_euclid(size) * size + size;
        if frontier >= end + lateness {
            late += 1;
        } else {
            accepted.push(r);
        }
    }
    (accepted, late)
}
