//! Processing-time tumbling windows (q12's shape). Results depend on timing by nature, so, as
//! docs/WORKLOADS.md (section 9, q12) prescribes, the checks are invariants: per key the window counts add
//! up to the key's records, every bound is a multiple of the size, and no (key, window) fires
//! twice. Runs at 1, 2, 3 and 8 workers with a paced source, so windows fire on the timer while
//! input still flows, and at end of input.

#![allow(clippy::unwrap_used)] // test helpers: a poisoned lock means a test already failed

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use weir_engine::window::{Count, Window};
use weir_engine::{Config, Source, SourcePoll, Timestamp, execute};

/// Emits one key per poll, at most one poll per `every_ns` of the job clock.
struct Paced {
    keys: Vec<u64>,
    next: usize,
    every_ns: u64,
    due_ns: u64,
    /// Set once the input is exhausted.
    ended: Arc<AtomicBool>,
}

impl Source for Paced {
    type Item = u64;
    fn poll(&mut self, out: &mut Vec<u64>, _max: usize, now_ns: u64) -> SourcePoll {
        let Some(&key) = self.keys.get(self.next) else {
            self.ended.store(true, Ordering::SeqCst);
            return SourcePoll::Done;
        };
        if now_ns < self.due_ns {
            return SourcePoll::Pending {
                watermark: Timestamp::MIN,
                wake_at: Some(self.due_ns),
            };
        }
        self.next += 1;
        self.due_ns = now_ns + self.every_ns;
        out.push(key);
        SourcePoll::Ready {
            watermark: Timestamp::MIN,
        }
    }
}

#[test]
fn counts_add_up_and_bounds_align() {
    const SIZE_MS: i64 = 7;
    let keys: Vec<u64> = (0..120_u64).map(|i| i * 13 % 5).collect();
    for workers in [1, 2, 3, 8] {
        for pinning in [false, true] {
            let out = Arc::new(Mutex::new(Vec::new()));
            let ended = Arc::new(AtomicBool::new(false));
            let fired_while_running = Arc::new(AtomicU64::new(0));
            execute(Config::new(workers).with_pinning(pinning), |worker| {
                let (me, peers) = (worker.index(), worker.peers());
                let mine: Vec<u64> = keys
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % peers == me)
                    .map(|(_, k)| *k)
                    .collect();
                let clock = worker.clock();
                let sink = Arc::clone(&out);
                let (ended, early) = (Arc::clone(&ended), Arc::clone(&fired_while_running));
                worker
                    .source(Paced {
                        keys: mine,
                        next: 0,
                        every_ns: 1_000_000,
                        due_ns: 0,
                        ended: Arc::clone(&ended),
                    })
                    .processing_time_window(clock, SIZE_MS, |k| *k, Count)
                    .expect("valid size")
                    .sink(move |batch| {
                        if !ended.load(Ordering::SeqCst) {
                            early.fetch_add(batch.len() as u64, Ordering::SeqCst);
                        }
                        sink.lock().unwrap().append(batch);
                    });
            })
            .expect("job runs");
            let results: Vec<(u64, Window, u64)> = std::mem::take(&mut *out.lock().unwrap());
            let mut seen = BTreeSet::new();
            let mut per_key: BTreeMap<u64, u64> = BTreeMap::new();
            for &(key, window, count) in &results {
                assert!(
                    seen.insert((key, window)),
                    "{window:?} of key {key} fired twice"
                );
                assert_eq!(window.start.rem_euclid(SIZE_MS), 0, "{window:?}");
                assert_eq!(window.end - window.start, SIZE_MS);
                assert!(count > 0);
                *per_key.entry(key).or_default() += count;
            }
            let mut expected: BTreeMap<u64, u64> = BTreeMap::new();
            for &k in &keys {
                *expected.entry(k).or_default() += 1;
            }
            assert_eq!(per_key, expected, "at {workers} workers, pinning {pinning}");
            // Each worker's records span at least (120 / 8 - 1) x 1 ms > 7 ms of wall time.
            let windows: BTreeSet<Window> = results.iter().map(|r| r.1).collect();
            assert!(windows.len() >= 2, "records spread over several windows");
            if workers == 1 {
                // One thread runs source, timer and sink: windows that closed while the
                // 120 ms input was still flowing fired on the timer, not at end of input.
                assert!(
                    fired_while_running.load(Ordering::SeqCst) > 0,
                    "the timer fires windows"
                );
            }
        }
    }
}
