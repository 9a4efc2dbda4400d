//! The deadlock matrix: ring capacity 1, 2 and 64 batches x uniform keys and one hot key x
//! 1, 2, 3 and 8 workers x dataflows with 1, 2 and 3 exchanges in a row and a join of two
//! exchanged streams. Every case must complete with the right results.
//!
//! Batches are tiny (4 records) so that rings fill up and backpressure is exercised. A
//! watchdog aborts the process, naming the case, if one ever hangs (a deadlock), so CI fails
//! loudly instead of stalling.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

#[path = "support/watchdog.rs"]
mod watchdog;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use watchdog::Watchdog;
use weir_engine::{
    BinaryOperator, Collector, Config, IterSource, Output, Stream, Timestamp, Watermark, execute,
};

type Rec = (u64, i64);

#[derive(Clone, Copy, Debug)]
enum Keys {
    Uniform,
    Hot,
}

#[derive(Clone, Copy, Debug)]
enum Flow {
    Exchanges(usize),
    Join,
}

fn key(keys: Keys, r: &Rec, stage: u64) -> u64 {
    match keys {
        Keys::Uniform => r.0.wrapping_mul(31).wrapping_add(stage),
        Keys::Hot => 7,
    }
}

fn input(keys: Keys, n: usize, salt: u64) -> Vec<Rec> {
    (0..n as u64)
        .map(|i| {
            let k = match keys {
                Keys::Uniform => (i * 2_654_435_761 + salt) % 1000,
                Keys::Hot => 7,
            };
            (k, (i % 500) as i64)
        })
        .collect()
}

fn share(input: &[Rec], index: usize, peers: usize) -> Vec<Rec> {
    input
        .iter()
        .enumerate()
        .filter(|(i, _)| i % peers == index)
        .map(|(_, r)| *r)
        .collect()
}

struct Join {
    left: HashMap<u64, Vec<i64>>,
    right: HashMap<u64, Vec<i64>>,
}

impl BinaryOperator for Join {
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

fn run_case(capacity: usize, keys: Keys, workers: usize, flow: Flow) {
    let collector = Collector::new();
    let config = Config::new(workers)
        .with_pinning(false)
        .with_batch_size(4)
        .with_ring_capacity(capacity)
        .with_collector(collector.clone());
    match flow {
        Flow::Exchanges(stages) => {
            let data = input(keys, 1200, 0);
            let out = Arc::new(Mutex::new(Vec::new()));
            execute(config, |worker| {
                let (me, peers) = (worker.index(), worker.peers());
                let mut s: Stream<Rec> =
                    worker.source(IterSource::new(share(&data, me, peers), |r: &Rec| r.1, 500));
                for stage in 0..stages as u64 {
                    s = s
                        .key_by(move |r| key(keys, r, stage))
                        .map(|(k, t)| (k, t + 1));
                }
                let sink = Arc::clone(&out);
                s.sink(move |b| sink.lock().unwrap().append(b));
            })
            .expect("job runs");
            let mut got = std::mem::take(&mut *out.lock().unwrap());
            got.sort_unstable();
            let mut want: Vec<Rec> = data.iter().map(|&(k, t)| (k, t + stages as i64)).collect();
            want.sort_unstable();
            assert_eq!(got, want);
        }
        Flow::Join => {
            let n = match keys {
                Keys::Uniform => 1200,
                Keys::Hot => 60,
            };
            let left = input(keys, n, 0);
            let right = input(keys, n, 0);
            let out = Arc::new(Mutex::new(Vec::new()));
            execute(config, |worker| {
                let (me, peers) = (worker.index(), worker.peers());
                let l = worker.source(IterSource::new(share(&left, me, peers), |r: &Rec| r.1, 500));
                let r = worker.source(IterSource::new(
                    share(&right, me, peers),
                    |r: &Rec| r.1,
                    500,
                ));
                let sink = Arc::clone(&out);
                l.key_by(|r| r.0)
                    .binary(
                        r.key_by(|r| r.0),
                        "join",
                        Join {
                            left: HashMap::new(),
                            right: HashMap::new(),
                        },
                    )
                    .sink(move |b| sink.lock().unwrap().append(b));
            })
            .expect("job runs");
            let got = out.lock().unwrap().len();
            let mut counts: HashMap<u64, usize> = HashMap::new();
            for (k, _) in &right {
                *counts.entry(*k).or_default() += 1;
            }
            let want: usize = left
                .iter()
                .map(|(k, _)| counts.get(k).copied().unwrap_or(0))
                .sum();
            assert_eq!(got, want);
        }
    }
    let snap = collector.latest();
    assert_eq!(snap.dropped(), 0);
    assert_eq!(snap.late(), 0);
}

#[test]
fn deadlock_matrix() {
    let watchdog = Watchdog::start("deadlock matrix");
    for capacity in [1, 2, 64] {
        for keys in [Keys::Uniform, Keys::Hot] {
            for workers in [1, 2, 3, 8] {
                for flow in [
                    Flow::Exchanges(1),
                    Flow::Exchanges(2),
                    Flow::Exchanges(3),
                    Flow::Join,
                ] {
                    watchdog.case(format!(
                        "capacity {capacity}, {keys:?}, {workers} workers, {flow:?}"
                    ));
                    run_case(capacity, keys, workers, flow);
                }
            }
        }
    }
    watchdog.finish();
}
