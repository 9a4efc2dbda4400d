//! The keyed operators of `weir_engine::updating` (top-N, keep-last, unbounded keyed
//! aggregation, last-n average in event-time order) as real dataflows, against sequential
//! references on random inputs at 1, 2, 3 and 8 workers, pinning on and off, with small
//! batches and rings so that batches and watermarks interleave.
//!
//! A changelog is folded in the order the sinks received it; a retraction of a row the table
//! does not hold fails the test (a key's changes come from one worker, in order), and so does
//! a final table that differs from the reference's. The job's table metrics must count the
//! final table's rows and every change. Values are drawn from a small range so that ties in
//! the order keys are common.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "support/dataflow.rs"]
mod dataflow;
#[path = "support/step.rs"]
mod step;
use dataflow::{OOO, Rec, run, run_changes};

use proptest::prelude::*;
use weir_engine::updating::{
    Change, FilteredCounts, FilteredDistinct, Ranked, Table, TableAggregate,
};
use weir_engine::{Config, MetricsSnapshot, Source, SourcePoll, Timestamp, execute};

/// Records in event-time order with jitter in `[0, OOO]`: never behind a source's watermark.
fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..7_u64, 0..30_i64, 0..=OOO, 0..6_i64), 0..300).prop_map(|steps| {
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

/// Mini-batch intervals: one per input batch, a few input batches (so that the timer ends
/// mini-batches while the input flows), and longer than a test's run (one at the start, one at
/// the end of input).
fn mini_batches() -> impl Strategy<Value = Duration> {
    prop::sample::select(vec![
        Duration::ZERO,
        Duration::from_micros(20),
        Duration::from_hours(1),
    ])
}

/// Folds `changes` in order into a sorted multiset; panics on a retraction without its row.
fn fold<T: std::hash::Hash + Eq + Ord + Clone + std::fmt::Debug>(
    changes: Vec<Change<T>>,
) -> Vec<T> {
    let mut table = Table::new();
    for c in changes {
        table.apply(c).expect("no retraction without its row");
    }
    let mut rows: Vec<T> = table.into_rows().collect();
    rows.sort();
    rows
}

/// The table metrics agree with the changelog and the final table.
fn check_metrics<T>(snap: &MetricsSnapshot, changes: &[Change<T>], rows: usize) {
    let table = snap
        .table
        .as_ref()
        .expect("a table sink publishes table metrics");
    assert_eq!(table.changes(), changes.len() as u64);
    assert_eq!(table.rows(), rows as i64);
    assert_eq!(snap.late(), 0);
}

/// Per key, the first `n` records by (value desc, time, key), ranked.
fn reference_top_n(input: &[Rec], n: usize) -> Vec<(Rec, u32)> {
    let mut by_key: BTreeMap<u64, Vec<Rec>> = BTreeMap::new();
    for &r in input {
        by_key.entry(r.0).or_default().push(r);
    }
    let mut rows = Vec::new();
    for mut recs in by_key.into_values() {
        recs.sort_by_key(|r| (Reverse(r.2), r.1, r.0));
        for (i, r) in recs.into_iter().take(n).enumerate() {
            rows.push((r, i as u32 + 1));
        }
    }
    rows.sort_unstable();
    rows
}

/// The keep-last test's order: (time, value), then the record's own key when `total`.
fn keep_last_order(r: &Rec, total: bool) -> (i64, i64, u64) {
    (r.1, r.2, if total { r.0 } else { 0 })
}

/// Per key (mod 3), the record with the greatest [`keep_last_order`]; the first one on ties.
fn reference_keep_last(input: &[Rec], total: bool) -> Vec<Rec> {
    let mut last: BTreeMap<u64, Rec> = BTreeMap::new();
    for &r in input {
        let e = last.entry(r.0 % 3).or_insert(r);
        if keep_last_order(&r, total) > keep_last_order(e, total) {
            *e = r;
        }
    }
    let mut rows: Vec<Rec> = last.into_values().collect();
    rows.sort_unstable();
    rows
}

/// Keep-last over many keys: its index grows through many sizes while rows keep arriving for
/// keys it already holds (the proptests use three keys). 60,000 records over 20,000 keys at 2
/// workers, against the reference.
#[test]
fn keep_last_over_many_keys_matches_the_maximum() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let input: Vec<Rec> = (0..60_000_i64)
        .map(|i| (next() % 20_000, 1_000 + i, (next() % 50) as i64))
        .collect();
    let order = |r: &Rec| (r.1, r.2, r.0);
    let (changes, snap) = run_changes(&input, 2, false, 64, Duration::from_micros(20), move |s| {
        s.keep_last(|r: &Rec| r.0, order)
    });
    let mut last: BTreeMap<u64, Rec> = BTreeMap::new();
    for &r in &input {
        let e = last.entry(r.0).or_insert(r);
        if order(&r) > order(e) {
            *e = r;
        }
    }
    let want: Vec<Rec> = last.into_values().collect();
    assert!(want.len() > 19_000, "most keys occur: {}", want.len());
    check_metrics(&snap, &changes, want.len());
    assert_eq!(fold(changes), want);
}

/// The aggregate of the tests: rows, even-value rows, distinct times, distinct times among the
/// rows of positive value (a few dozen times per key, so the distinct sets grow).
struct Stats;

impl TableAggregate<Rec> for Stats {
    type Acc = (FilteredCounts<2>, FilteredDistinct<i64, 2>);
    type Out = [u64; 4];
    fn init(&self, _first: &Rec) -> Self::Acc {
        Default::default()
    }
    fn accumulate(&self, acc: &mut Self::Acc, r: &Rec) {
        acc.0.add(1 | u32::from(r.2 % 2 == 0) << 1);
        acc.1.add(r.1, 1 | u32::from(r.2 > 0) << 1);
    }
    fn result(&self, acc: &Self::Acc) -> [u64; 4] {
        [acc.0.get(0), acc.0.get(1), acc.1.get(0), acc.1.get(1)]
    }
    fn prefetch(&self, acc: &Self::Acc, r: &Rec) {
        acc.1.prefetch(&r.1);
    }
}

fn reference_stats(input: &[Rec]) -> Vec<(u64, [u64; 4])> {
    let mut groups: BTreeMap<u64, (u64, u64, BTreeSet<i64>, BTreeSet<i64>)> = BTreeMap::new();
    for &r in input {
        let g = groups.entry(r.0).or_default();
        g.0 += 1;
        g.1 += u64::from(r.2 % 2 == 0);
        g.2.insert(r.1);
        if r.2 > 0 {
            g.3.insert(r.1);
        }
    }
    groups
        .into_iter()
        .map(|(k, g)| (k, [g.0, g.1, g.2.len() as u64, g.3.len() as u64]))
        .collect()
}

/// Per key in (time, value) order, each record with the truncated average of the key's
/// last `n` values.
fn reference_last_n(input: &[Rec], n: usize) -> Vec<(Rec, i64)> {
    let mut by_key: BTreeMap<u64, Vec<Rec>> = BTreeMap::new();
    for &r in input {
        by_key.entry(r.0).or_default().push(r);
    }
    let mut rows = Vec::new();
    for mut recs in by_key.into_values() {
        recs.sort_by_key(|r| (r.1, r.2));
        for k in 0..recs.len() {
            let last = &recs[(k + 1).saturating_sub(n)..=k];
            let sum: i64 = last.iter().map(|r| r.2).sum();
            rows.push((recs[k], sum / last.len() as i64));
        }
    }
    rows.sort_unstable();
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn top_n_matches_sorting(
        input in records(), n in 1_usize..4, w in workers(), pin in any::<bool>(),
        batch in 1_usize..32,
        mini in mini_batches(),
    ) {
        let (changes, snap) = run_changes(&input, w, pin, batch, mini, move |s| {
            s.top_n(n, |r: &Rec| r.0, |r| (Reverse(r.2), r.1, r.0)).unwrap()
        });
        let got = fold(changes.iter().map(|c| c.map(|Ranked { rank, row }| (row, rank))).collect());
        let want = reference_top_n(&input, n);
        check_metrics(&snap, &changes, want.len());
        prop_assert_eq!(got, want);
    }

    #[test]
    fn keep_last_matches_the_maximum(
        input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..32,
        mini in mini_batches(),
    ) {
        // Ties keep the first arrival, which only one worker makes the input order: with
        // more, records of two workers meet in any order, so the order is made total.
        let total = w > 1;
        let (changes, snap) = run_changes(&input, w, pin, batch, mini, move |s| {
            s.keep_last(|r: &Rec| r.0 % 3, move |r| keep_last_order(r, total))
        });
        let want = reference_keep_last(&input, total);
        check_metrics(&snap, &changes, want.len());
        prop_assert_eq!(fold(changes), want);
    }

    #[test]
    fn table_aggregate_matches_group_by(
        input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..32,
        mini in mini_batches(),
    ) {
        let (changes, snap) = run_changes(&input, w, pin, batch, mini, |s| {
            s.table_aggregate(|r: &Rec| r.0, Stats)
        });
        let want = reference_stats(&input);
        check_metrics(&snap, &changes, want.len());
        prop_assert_eq!(fold(changes), want);
    }

    #[test]
    fn last_n_average_matches_event_time_order(
        input in records(), n in 1_usize..5, w in workers(), pin in any::<bool>(),
        batch in 1_usize..32, step in any::<bool>(),
    ) {
        let (mut got, snap) = run(&input, w, pin, batch, step, move |s| {
            s.last_n_average(n, |r: &Rec| r.0, |r| (r.1, r.2), |r| r.2).unwrap()
        });
        got.sort_unstable();
        prop_assert_eq!(snap.late(), 0);
        prop_assert_eq!(got, reference_last_n(&input, n));
    }
}

#[test]
fn zero_n_is_an_error() {
    let err = weir_engine::execute(weir_engine::Config::new(1).with_pinning(false), |worker| {
        let s = worker.source(weir_engine::IterSource::new(Vec::<Rec>::new(), |r| r.1, 0));
        let (a, b) = s.split();
        let e = a.top_n(0, |r: &Rec| r.0, |r| r.1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "top_n needs n >= 1 (got 0): it would never hold a row"
        );
        assert!(
            b.last_n_average(0, |r: &Rec| r.0, |r| (r.1, ()), |r| r.2)
                .is_err()
        );
    });
    assert!(err.is_ok());
}

/// A table folded from a changelog refuses a retraction without its row, and keeps
/// multiplicities.
#[test]
fn table_refuses_negative_rows() {
    let mut t = Table::new();
    t.apply(Change::insert(1)).unwrap();
    t.apply(Change::insert(1)).unwrap();
    t.apply(Change::retract(1)).unwrap();
    assert_eq!(t.len(), 1);
    assert!(t.apply(Change::retract(2)).is_err());
    t.apply(Change::retract(1)).unwrap();
    assert!(t.is_empty());
    assert!(t.apply(Change::retract(1)).is_err());
}

/// Mini-batching: a key changed by several rows of one batch emits one update, not one per
/// row (the rows of one worker's source poll reach the operator as one batch), even when every
/// batch is its own mini-batch.
#[test]
fn a_key_changed_by_several_rows_of_one_batch_emits_one_update() {
    let input: Vec<Rec> = (0..5).map(|i| (0, 1_000 + i, i)).collect();
    let (changes, _) = run_changes(&input, 1, false, 32, Duration::ZERO, |s| {
        s.keep_last(|r: &Rec| r.0, |r| (r.1, r.2))
    });
    assert_eq!(changes, vec![Change::insert((0, 1_004, 4))]);
    let (changes, _) = run_changes(&input, 1, false, 32, Duration::ZERO, |s| {
        s.table_aggregate(|r: &Rec| r.0, Stats)
    });
    assert_eq!(changes, vec![Change::insert((0, [5, 3, 5, 4]))]);
    // Each row better than the last: every one enters at rank 1 and shifts the others.
    let (changes, _) = run_changes(&input, 1, false, 32, Duration::ZERO, |s| {
        s.top_n(2, |r: &Rec| r.0, |r| Reverse(r.2)).unwrap()
    });
    let ranked = |rank, i: i64| Ranked {
        rank,
        row: (0, 1_000 + i, i),
    };
    assert_eq!(
        changes,
        vec![Change::insert(ranked(1, 4)), Change::insert(ranked(2, 3))]
    );
}

/// Mini-batches span input batches: with one row per input batch, a key changed by every row
/// emits an update per row when every batch is its own mini-batch, and at most two within one
/// long mini-batch (the first batch's, emitted at once because no mini-batch was pending, and
/// the rest's at the end of input), with the same final table.
#[test]
fn a_key_changed_by_many_batches_of_one_mini_batch_emits_one_update() {
    let input: Vec<Rec> = (0..5).map(|i| (0, 1_000 + i, i)).collect();
    let long = Duration::from_hours(1);
    let per_batch = |mini| {
        run_changes(&input, 1, false, 1, mini, |s| {
            s.keep_last(|r: &Rec| r.0, |r| (r.1, r.2))
        })
        .0
    };
    assert_eq!(
        per_batch(Duration::ZERO).len(),
        9,
        "1 insertion, then 4 updates"
    );
    let changes = per_batch(long);
    assert!(changes.len() <= 3, "{changes:?}");
    assert_eq!(fold(changes), [(0, 1_004, 4)]);

    let aggregate = |mini| {
        run_changes(&input, 1, false, 1, mini, |s| {
            s.table_aggregate(|r: &Rec| r.0, Stats)
        })
        .0
    };
    assert_eq!(aggregate(Duration::ZERO).len(), 9);
    let changes = aggregate(long);
    assert!(changes.len() <= 3, "{changes:?}");
    assert_eq!(fold(changes), reference_stats(&input));

    // Every row enters at rank 1: per batch, each shifts the rows below it.
    let top = |mini| {
        run_changes(&input, 1, false, 1, mini, |s| {
            s.top_n(2, |r: &Rec| r.0, |r| Reverse(r.2)).unwrap()
        })
        .0
    };
    assert_eq!(top(Duration::ZERO).len(), 1 + 3 + 4 + 4 + 4);
    let changes = top(long);
    assert!(changes.len() <= 4, "{changes:?}");
    let ranked: Vec<_> = fold(changes.iter().map(|c| c.map(|r| (r.rank, r.row))).collect());
    assert_eq!(ranked, [(1, (0, 1_004, 4)), (2, (0, 1_003, 3))]);
}

/// Emits record `i` once the job clock reaches `i * gap_ns`, with a watermark at its time.
struct Paced {
    records: Vec<Rec>,
    gap_ns: u64,
    next: usize,
}

impl Source for Paced {
    type Item = Rec;
    fn poll(&mut self, out: &mut Vec<Rec>, _max: usize, now_ns: u64) -> SourcePoll {
        let Some(&record) = self.records.get(self.next) else {
            return SourcePoll::Done;
        };
        let watermark = self
            .next
            .checked_sub(1)
            .map_or(Timestamp::MIN, |i| self.records[i].1);
        let due = self.next as u64 * self.gap_ns;
        if now_ns < due {
            return SourcePoll::Pending {
                watermark,
                wake_at: Some(due),
            };
        }
        self.next += 1;
        out.push(record);
        SourcePoll::Ready {
            watermark: record.1,
        }
    }
}

/// A mini-batch ends on the job clock while the input pauses: rows 20 ms apart against a 1 ms
/// mini-batch are emitted as they come (the operator's timer wakes the idle worker), not held
/// until the end of input as a mini-batch longer than the run holds them.
#[test]
fn a_mini_batch_ends_while_the_input_pauses() {
    let input: Vec<Rec> = (0..5).map(|i| (0, 1_000 + i, i)).collect();
    let changes = |mini| {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&out);
        let config = Config::new(1).with_pinning(false).with_mini_batch(mini);
        execute(config, |worker| {
            let sink = Arc::clone(&sink);
            let source = Paced {
                records: input.clone(),
                gap_ns: 20_000_000,
                next: 0,
            };
            worker
                .source(source)
                .table_aggregate(|r: &Rec| r.0, Stats)
                .table_sink(move |batch| sink.lock().unwrap().append(batch));
        })
        .unwrap();
        std::mem::take(&mut *out.lock().unwrap())
    };
    let held = changes(Duration::from_hours(1));
    assert!(held.len() <= 3, "{held:?}");
    let timed = changes(Duration::from_millis(1));
    // 9 when every row is emitted before the next comes; more than the 3 of one long
    // mini-batch unless the worker stalled past every gap.
    assert!(timed.len() > 3, "{timed:?}");
    assert_eq!(fold(timed), reference_stats(&input));
}
