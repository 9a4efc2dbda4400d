//! Every operator against a sequential reference on random inputs, at 1, 2, 3 and 8 workers
//! (8 is more than the cores of a small machine), with pinning on and off. Every run also checks
//! the record accounting from the final metrics snapshot.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use weir_engine::{
    BinaryOperator, Collector, Config, IterSource, MetricsSnapshot, Operator, Output, Route,
    Timestamp, Watermark, execute, worker_for_key,
};

type Rec = (u64, i64);

/// Checks the per-operator accounting invariants and returns (events in, records at sinks,
/// filtered, late, dropped).
fn check_accounting(snapshot: &MetricsSnapshot, peers: usize) -> (u64, u64, u64, u64, u64) {
    assert!(snapshot.finished, "final snapshot is marked finished");
    assert_eq!(snapshot.workers.len(), peers);
    let mut by_name: HashMap<&str, (u64, u64)> = HashMap::new();
    for w in &snapshot.workers {
        for op in &w.operators {
            let records_in = op.records_in.expect("weir counts every operator's records");
            let records_out = op
                .records_out
                .expect("weir counts every operator's records");
            let e = by_name.entry(op.name.as_str()).or_default();
            e.0 += records_in;
            e.1 += records_out;
            match op.name.as_str() {
                "source" | "map" | "inspect" | "union" | "sink" => {
                    assert_eq!(records_in, records_out, "{} is 1:1", op.name);
                }
                "filter" => assert!(records_in >= records_out),
                _ => {}
            }
        }
    }
    for (name, (records_in, records_out)) in &by_name {
        match *name {
            "key_by" | "exchange" => assert_eq!(records_in, records_out, "{name} moves records"),
            "broadcast" => assert_eq!(*records_in * peers as u64, *records_out),
            _ => {}
        }
    }
    let filtered = by_name.get("filter").map_or(0, |(i, o)| i - o);
    let sink_in = by_name.get("sink").map_or(0, |(i, _)| *i);
    assert_eq!(sink_in, snapshot.records_out());
    (
        snapshot.events_in(),
        snapshot.records_out(),
        filtered,
        snapshot.late(),
        snapshot.dropped(),
    )
}

fn share(input: &[Rec], index: usize, peers: usize) -> Vec<Rec> {
    input
        .iter()
        .enumerate()
        .filter(|(i, _)| i % peers == index)
        .map(|(_, r)| *r)
        .collect()
}

fn config(workers: usize, pinning: bool, batch: usize, ring: usize) -> (Config, Collector) {
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(pinning)
        .with_batch_size(batch)
        .with_ring_capacity(ring)
        .with_collector(collector.clone());
    (config, collector)
}

/// Runs `build` on every worker with its share of `input` as a source; collects what reaches
/// the sink as (worker, record), sorted.
fn run<T, F>(
    input: &[Rec],
    workers: usize,
    pinning: bool,
    batch: usize,
    ring: usize,
    pipeline: F,
) -> (Vec<(usize, T)>, MetricsSnapshot)
where
    T: Send + Ord + 'static,
    F: Fn(weir_engine::Stream<Rec>) -> weir_engine::Stream<T> + Sync,
{
    let (config, collector) = config(workers, pinning, batch, ring);
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let me = worker.index();
        let source = IterSource::new(share(input, me, worker.peers()), |r: &Rec| r.1, 1000);
        let sink = Arc::clone(&out);
        pipeline(worker.source(source)).sink(move |batch| {
            sink.lock()
                .unwrap()
                .extend(batch.drain(..).map(|r| (me, r)));
        });
    })
    .expect("job runs");
    let mut out = std::mem::take(&mut *out.lock().unwrap());
    out.sort();
    (out, collector.latest())
}

/// What `Tumbling` emits for `records`: a count per key and 100 ms window, sorted.
fn tumbling_reference(records: impl IntoIterator<Item = Rec>) -> Vec<(u64, i64, u64)> {
    let mut counts: HashMap<(u64, i64), u64> = HashMap::new();
    for (k, t) in records {
        *counts.entry((k, t - t.rem_euclid(100))).or_default() += 1;
    }
    let mut rows: Vec<(u64, i64, u64)> = counts.into_iter().map(|((k, s), n)| (k, s, n)).collect();
    rows.sort_unstable();
    rows
}

/// A run's output rows without their workers, sorted.
fn sorted_rows<T: Ord>(out: Vec<(usize, T)>) -> Vec<T> {
    let mut rows: Vec<T> = out.into_iter().map(|(_, r)| r).collect();
    rows.sort_unstable();
    rows
}

fn records() -> impl Strategy<Value = Vec<Rec>> {
    prop::collection::vec((0..20_u64, 0..1000_i64), 0..400)
}

fn workers() -> impl Strategy<Value = usize> {
    prop::sample::select(vec![1_usize, 2, 3, 8])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn fused_stateless_chain(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let seen = Arc::new(Mutex::new(0_u64));
        let (out, snap) = run(&input, w, pin, batch, 4, |s| {
            let seen = Arc::clone(&seen);
            s.map(|(k, t)| (k * 3, t))
                .filter(|(k, _)| k % 2 == 0)
                .flat_map(|(k, t)| std::iter::repeat_n((k, t), (k % 3) as usize + 1))
                .inspect(move |_| *seen.lock().unwrap() += 1)
        });
        let mut reference: Vec<Rec> = input
            .iter()
            .map(|&(k, t)| (k * 3, t))
            .filter(|(k, _)| k % 2 == 0)
            .flat_map(|(k, t)| std::iter::repeat_n((k, t), (k % 3) as usize + 1))
            .collect();
        reference.sort_unstable();
        let mut got: Vec<Rec> = out.into_iter().map(|(_, r)| r).collect();
        got.sort_unstable();
        prop_assert_eq!(&got, &reference);
        prop_assert_eq!(*seen.lock().unwrap(), reference.len() as u64);
        let (events, _, filtered, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, input.len() as u64);
        prop_assert_eq!(late + dropped, 0);
        prop_assert_eq!(filtered, input.iter().filter(|(k, _)| (k * 3) % 2 != 0).count() as u64);
    }

    #[test]
    fn key_by_routes_every_key_to_its_owner(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64, ring in 1_usize..4) {
        let (out, snap) = run(&input, w, pin, batch, ring, |s| s.key_by(|r| r.0));
        for (worker, (k, _)) in &out {
            prop_assert_eq!(*worker, worker_for_key(*k, w));
        }
        let mut got: Vec<Rec> = out.into_iter().map(|(_, r)| r).collect();
        got.sort_unstable();
        let mut reference = input.clone();
        reference.sort_unstable();
        prop_assert_eq!(got, reference);
        let (events, sunk, filtered, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, sunk + filtered + late + dropped);
    }

    #[test]
    fn exchange_routes_modulo_peers(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, |s| s.exchange(|r| r.0 as usize).map(|(k, t)| (k, t + 1)));
        for (worker, (k, _)) in &out {
            prop_assert_eq!(*worker, *k as usize % w);
        }
        let mut got: Vec<Rec> = out.into_iter().map(|(_, r)| r).collect();
        got.sort_unstable();
        let mut reference: Vec<Rec> = input.iter().map(|&(k, t)| (k, t + 1)).collect();
        reference.sort_unstable();
        prop_assert_eq!(got, reference);
        let (events, sunk, filtered, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, sunk + filtered + late + dropped);
    }

    #[test]
    fn broadcast_reaches_every_worker(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, weir_engine::Stream::broadcast);
        let mut reference: Vec<(usize, Rec)> = (0..w).flat_map(|i| input.iter().map(move |r| (i, *r))).collect();
        reference.sort_unstable();
        prop_assert_eq!(out, reference);
        let (events, sunk, ..) = check_accounting(&snap, w);
        prop_assert_eq!(events * w as u64, sunk);
    }

    #[test]
    fn union_and_split(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, |s| {
            let (a, b) = s.split();
            a.map(|(k, t)| (k + 100, t)).union(b.key_by(|r| r.0))
        });
        let mut reference: Vec<Rec> = input.iter().flat_map(|&(k, t)| [(k, t), (k + 100, t)]).collect();
        reference.sort_unstable();
        let mut got: Vec<Rec> = out.into_iter().map(|(_, r)| r).collect();
        got.sort_unstable();
        prop_assert_eq!(got, reference);
        let (events, sunk, ..) = check_accounting(&snap, w);
        prop_assert_eq!(events * 2, sunk);
    }

    /// A side output carries only what its function returns, the main stream every record, and
    /// both carry the watermark: windows after their union fire for every window, once.
    #[test]
    fn side_output_then_union(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, |s| {
            let (main, side) = s.side_output(|&(k, t)| (k % 3 == 0).then_some((k + 100, t)));
            main.union(side).key_by(|r| r.0).unary("tumbling", Tumbling::default())
        });
        let copies = input.iter().filter(|r| r.0 % 3 == 0).map(|&(k, t)| (k + 100, t));
        prop_assert_eq!(sorted_rows(out), tumbling_reference(input.iter().copied().chain(copies)));
        let (events, _, _, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, input.len() as u64);
        prop_assert_eq!(late + dropped, 0);
        prop_assert_eq!(snap.watermark_ms, Some(i64::MAX));
    }

    /// A partition sends each record to the side its function picks, or to neither, and both
    /// sides carry the watermark: windows after their union (the left side re-keyed) fire for
    /// every window, once, over exactly the routed records.
    #[test]
    fn partition_then_union(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, |s| {
            let (left, right) = s.partition(|(k, t)| match k % 3 {
                0 => None,
                1 => Some(Route::Left((k + 100, t))),
                _ => Some(Route::Right((k, t))),
            });
            left.union(right).key_by(|r| r.0).unary("tumbling", Tumbling::default())
        });
        let routed = input.iter().filter(|r| r.0 % 3 != 0).map(|&(k, t)| if k % 3 == 1 { (k + 100, t) } else { (k, t) });
        prop_assert_eq!(sorted_rows(out), tumbling_reference(routed));
        let (events, _, _, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, input.len() as u64);
        prop_assert_eq!(late + dropped, 0);
        prop_assert_eq!(snap.watermark_ms, Some(i64::MAX));
    }

    #[test]
    fn keyed_running_count(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64, ring in 1_usize..4) {
        let (out, snap) = run(&input, w, pin, batch, ring, |s| s.key_by(|r| r.0).unary("count", RunningCount::default()));
        let mut totals: HashMap<u64, u64> = HashMap::new();
        for (k, _) in &input {
            *totals.entry(*k).or_default() += 1;
        }
        let mut reference: Vec<(u64, u64)> = totals.iter().flat_map(|(&k, &n)| (1..=n).map(move |c| (k, c))).collect();
        reference.sort_unstable();
        let mut got: Vec<(u64, u64)> = out.into_iter().map(|(_, r)| r).collect();
        got.sort_unstable();
        prop_assert_eq!(got, reference);
        let (events, sunk, ..) = check_accounting(&snap, w);
        prop_assert_eq!(events, sunk);
    }

    #[test]
    fn tumbling_count_fires_every_window_once(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let (out, snap) = run(&input, w, pin, batch, 2, |s| s.key_by(|r| r.0).unary("tumbling", Tumbling::default()));
        prop_assert_eq!(sorted_rows(out), tumbling_reference(input.iter().copied()));
        let (events, _, _, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, input.len() as u64);
        prop_assert_eq!(late + dropped, 0);
        prop_assert_eq!(snap.watermark_ms, Some(i64::MAX));
    }

    /// Watermarks never overtake the records they cover, through two exchanges in a row (remote
    /// rings and the local path, backpressure at ring capacities 1 to 3): each worker's input is
    /// sorted with no out-of-orderness allowance, so any record that arrives below the frontier
    /// already seen was overtaken by a watermark. Windows fire on watermarks during the run (not
    /// only at the end) and must still count every record exactly once.
    #[test]
    fn watermarks_never_overtake_records(input in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64, ring in 1_usize..4) {
        let (config, collector) = config(w, pin, batch, ring);
        let out = Arc::new(Mutex::new(Vec::new()));
        execute(config, |worker| {
            let mut share = share(&input, worker.index(), worker.peers());
            share.sort_unstable_by_key(|r| r.1);
            let sink = Arc::clone(&out);
            worker
                .source(IterSource::new(share, |r: &Rec| r.1, 0))
                .key_by(|r| r.0)
                .unary("strict", Strict::default())
                .exchange(|r| r.1 as usize)
                .unary("strict", Strict::default())
                .key_by(|r| r.0)
                .unary("tumbling", Tumbling::default())
                .sink(move |b| sink.lock().unwrap().append(b));
        })
        .expect("job runs");
        let snap = collector.latest();
        let (events, _, _, late, dropped) = check_accounting(&snap, w);
        prop_assert_eq!(events, input.len() as u64);
        prop_assert_eq!(late, 0, "a record arrived below a watermark that preceded it");
        prop_assert_eq!(dropped, 0);
        let mut reference: HashMap<(u64, i64), u64> = HashMap::new();
        for &(k, t) in &input {
            *reference.entry((k, t - t.rem_euclid(100))).or_default() += 1;
        }
        let mut reference: Vec<(u64, i64, u64)> = reference.into_iter().map(|((k, s), n)| (k, s, n)).collect();
        reference.sort_unstable();
        let mut got = std::mem::take(&mut *out.lock().unwrap());
        got.sort_unstable();
        prop_assert_eq!(got, reference);
        prop_assert_eq!(snap.watermark_ms, Some(i64::MAX));
    }

    #[test]
    fn join_of_two_exchanged_streams(left in records(), right in records(), w in workers(), pin in any::<bool>(), batch in 1_usize..64) {
        let got = run_join(&left, &right, w, pin, batch, 2);
        let mut reference = Vec::new();
        for &(k, a) in &left {
            for &(k2, b) in &right {
                if k == k2 {
                    reference.push((k, a, b));
                }
            }
        }
        reference.sort_unstable();
        prop_assert_eq!(got, reference);
    }
}

/// Runs the symmetric hash join of `left` and `right` on `w` workers; returns the sorted result.
fn run_join(
    left: &[Rec],
    right: &[Rec],
    w: usize,
    pin: bool,
    batch: usize,
    ring: usize,
) -> Vec<(u64, i64, i64)> {
    let (config, collector) = config(w, pin, batch, ring);
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let (me, peers) = (worker.index(), worker.peers());
        let l = worker.source(IterSource::new(share(left, me, peers), |r: &Rec| r.1, 1000));
        let r = worker.source(IterSource::new(
            share(right, me, peers),
            |r: &Rec| r.1,
            1000,
        ));
        let sink = Arc::clone(&out);
        l.key_by(|r| r.0)
            .binary(r.key_by(|r| r.0), "join", HashJoin::default())
            .sink(move |batch| sink.lock().unwrap().append(batch));
    })
    .expect("job runs");
    let snap = collector.latest();
    let (events, ..) = check_accounting(&snap, w);
    assert_eq!(events, (left.len() + right.len()) as u64);
    let mut out = std::mem::take(&mut *out.lock().unwrap());
    out.sort_unstable();
    out
}

/// A keyed running count: emits (key, count so far) per record.
#[derive(Default)]
struct RunningCount(HashMap<u64, u64>);

impl Operator for RunningCount {
    type In = Rec;
    type Out = (u64, u64);
    fn on_batch(&mut self, input: &mut Vec<Rec>, out: &mut Output<'_, (u64, u64)>) {
        for (k, _) in input.drain(..) {
            let n = self.0.entry(k).or_default();
            *n += 1;
            out.push((k, *n));
        }
    }
    fn on_watermark(&mut self, wm: Watermark, _: &mut Output<'_, (u64, u64)>) -> Timestamp {
        wm.time
    }
}

/// Passes records on unchanged and counts as late every record below the last watermark
/// received (strictly: any record a watermark overtook).
#[derive(Default)]
struct Strict {
    frontier: Option<Timestamp>,
}

impl Operator for Strict {
    type In = Rec;
    type Out = Rec;
    fn on_batch(&mut self, input: &mut Vec<Rec>, out: &mut Output<'_, Rec>) {
        for r in input.drain(..) {
            if self.frontier.is_some_and(|f| r.1 < f) {
                out.count_late(1);
            }
            out.push(r);
        }
    }
    fn on_watermark(&mut self, wm: Watermark, _: &mut Output<'_, Rec>) -> Timestamp {
        self.frontier = Some(wm.time);
        wm.time
    }
}

/// A 100 ms tumbling count per key, fired by the watermark; late records are counted.
#[derive(Default)]
struct Tumbling {
    open: HashMap<(u64, i64), u64>,
    frontier: Timestamp,
}

impl Operator for Tumbling {
    type In = Rec;
    type Out = (u64, i64, u64);
    fn on_batch(&mut self, input: &mut Vec<Rec>, out: &mut Output<'_, Self::Out>) {
        for (k, t) in input.drain(..) {
            let start = t - t.rem_euclid(100);
            if start + 100 <= self.frontier && self.frontier != 0 {
                out.count_late(1);
            } else {
                *self.open.entry((k, start)).or_default() += 1;
            }
        }
    }
    fn on_watermark(&mut self, wm: Watermark, out: &mut Output<'_, Self::Out>) -> Timestamp {
        self.frontier = wm.time;
        self.open.retain(|&(k, start), n| {
            let closed = start.saturating_add(100) <= wm.time;
            if closed {
                out.push((k, start, *n));
            }
            !closed
        });
        wm.time
    }
}

/// A symmetric hash join on the key: emits (key, left time, right time) per matching pair.
#[derive(Default)]
struct HashJoin {
    left: HashMap<u64, Vec<i64>>,
    right: HashMap<u64, Vec<i64>>,
}

impl BinaryOperator for HashJoin {
    type Left = Rec;
    type Right = Rec;
    type Out = (u64, i64, i64);
    fn on_left(&mut self, input: &mut Vec<Rec>, out: &mut Output<'_, Self::Out>) {
        for (k, a) in input.drain(..) {
            for &b in self.right.get(&k).into_iter().flatten() {
                out.push((k, a, b));
            }
            self.left.entry(k).or_default().push(a);
        }
    }
    fn on_right(&mut self, input: &mut Vec<Rec>, out: &mut Output<'_, Self::Out>) {
        for (k, b) in input.drain(..) {
            for &a in self.left.get(&k).into_iter().flatten() {
                out.push((k, a, b));
            }
            self.right.entry(k).or_default().push(b);
        }
    }
    fn on_watermark(&mut self, wm: Watermark, _: &mut Output<'_, Self::Out>) -> Timestamp {
        wm.time
    }
}

#[test]
fn dropped_stream_records_are_counted_not_lost() {
    let (config, collector) = config(2, false, 8, 2);
    execute(config, |worker| {
        let me = worker.index() as u64;
        let _unused = worker
            .source(IterSource::new(
                (0..50_u64).map(move |n| n * 2 + me),
                |_: &u64| 0,
                0,
            ))
            .map(|n| n + 1);
    })
    .expect("job runs");
    let snap = collector.latest();
    assert_eq!(snap.events_in(), 100);
    assert_eq!(snap.dropped(), 100);
}

#[test]
fn late_records_are_counted() {
    // One worker, records far behind the watermark: counted late, never silently lost.
    let input: Vec<Rec> = vec![(1, 1000), (1, 5), (2, 1001), (2, 7)];
    let (config, collector) = config(1, false, 1, 1);
    let out = Arc::new(Mutex::new(Vec::new()));
    execute(config, |worker| {
        let sink = Arc::clone(&out);
        worker
            .source(IterSource::new(input.clone(), |r: &Rec| r.1, 0))
            .unary("tumbling", Tumbling::default())
            .sink(move |b| sink.lock().unwrap().append(b));
    })
    .expect("job runs");
    let snap = collector.latest();
    assert_eq!(snap.late(), 2);
    let counted: u64 = out
        .lock()
        .unwrap()
        .iter()
        .map(|r: &(u64, i64, u64)| r.2)
        .sum();
    assert_eq!(counted + snap.late(), input.len() as u64);
}
